import { Page, PageQuery, Participant, ParticipantCreate, ParticipantUpdate } from '../../../common/schemas.js';
import { params, responses, scopeOf, type Api, type RouteDeps } from './common.js';

export function participantRoutes(app: Api, { domain: { participants }, commit }: RouteDeps): void {
  const t = { tags: ['participants'] };
  app.get('/participants', { config: { scope: 'participants' }, schema: { ...t, params: params(), querystring: PageQuery, response: responses(200, Page(Participant)) } },
    async (req) => participants.list(scopeOf(req), req.query));
  app.post('/participants', { config: { scope: 'participants' }, schema: { ...t, params: params(), body: ParticipantCreate, response: responses(201, Participant) } },
    async (req, reply) => reply.code(201).send(await commit(() => participants.create(scopeOf(req), req.body))));
  app.get('/participants/:participantId', { config: { scope: 'participants' }, schema: { ...t, params: params('participantId'), response: responses(200, Participant) } },
    async (req) => participants.get(scopeOf(req), req.params.participantId));
  app.patch('/participants/:participantId', { config: { scope: 'participants' }, schema: { ...t, params: params('participantId'), body: ParticipantUpdate, response: responses(200, Participant) } },
    async (req) => commit(() => participants.update(scopeOf(req), req.params.participantId, req.body)));
}

import { Type } from '@sinclair/typebox';
import {
  Page, Participant, ParticipantCreate, ParticipantListQuery, ParticipantSession, ParticipantSessionsQuery, ParticipantUpdate,
} from '../../../common/schemas.js';
import { params, responses, scopeOf, type Api, type RouteDeps } from './common.js';

export function participantRoutes(app: Api, { domain: { participants, sessions, messages, annotations }, commit }: RouteDeps): void {
  const t = { tags: ['participants'] };
  app.get('/participants', { config: { scope: 'participants' }, schema: { ...t, params: params(), querystring: ParticipantListQuery, response: responses(200, Page(Participant)) } },
    async (req) => participants.list(scopeOf(req), req.query));
  app.post('/participants', { config: { scope: 'participants' }, schema: { ...t, params: params(), body: ParticipantCreate, response: responses(201, Participant) } },
    async (req, reply) => reply.code(201).send(await commit(() => participants.create(scopeOf(req), req.body))));
  app.get('/participants/:participantId', { config: { scope: 'participants' }, schema: { ...t, params: params('participantId'), response: responses(200, Participant) } },
    async (req) => participants.get(scopeOf(req), req.params.participantId));
  app.patch('/participants/:participantId', { config: { scope: 'participants' }, schema: { ...t, params: params('participantId'), body: ParticipantUpdate, response: responses(200, Participant) } },
    async (req) => commit(() => participants.update(scopeOf(req), req.params.participantId, req.body)));
  app.get('/participants/:participantId/sessions', {
    config: { scope: 'participants' },
    schema: {
      ...t, params: params('participantId'), querystring: ParticipantSessionsQuery, response: responses(200, Type.Object({ items: Type.Array(ParticipantSession) })),
      description: 'The participant\'s history: the sessions they joined (most recently joined first), each with their newest messages there.',
    },
  }, async (req) => {
    const scope = scopeOf(req);
    const perSession = req.query.messages ?? 5;
    const joined = participants.sessionsOf(scope, req.params.participantId, req.query.limit ?? 50);
    const items = joined.map((j) => {
      const recent = perSession > 0 ? messages.recent(scope, j.sessionId, { participantId: req.params.participantId, limit: perSession }).reverse() : [];
      const notes = annotations.ofMessages(scope, recent.map((m) => m.id));
      return {
        session: sessions.get(scope, j.sessionId),
        joinedAt: j.joinedAt,
        leftAt: j.leftAt,
        messageCount: j.messageCount,
        recentMessages: recent.map((m) => ({ ...m, annotations: notes.get(m.id) ?? [] })),
      };
    });
    return { items };
  });
}

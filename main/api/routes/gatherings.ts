import { Type } from '@sinclair/typebox';
import { Gathering, GatheringCreate, GatheringMember, GatheringMemberAdd, GatheringMemberUpdate, GatheringUpdate, Page, PageQuery } from '../../../common/schemas.js';
import { noContent, params, responses, scopeOf, type Api, type RouteDeps } from './common.js';

export function gatheringRoutes(app: Api, { domain: { gatherings }, commit }: RouteDeps): void {
  const t = { tags: ['gatherings'] };
  const c = { scope: 'gatherings' as const };
  app.get('/gatherings', { config: c, schema: { ...t, params: params(), querystring: PageQuery, response: responses(200, Page(Gathering)) } },
    async (req) => gatherings.list(scopeOf(req), req.query));
  app.post('/gatherings', { config: c, schema: { ...t, params: params(), body: GatheringCreate, response: responses(201, Gathering) } },
    async (req, reply) => reply.code(201).send(await commit(() => gatherings.create(scopeOf(req), req.body))));
  app.get('/gatherings/:gatheringId', { config: c, schema: { ...t, params: params('gatheringId'), response: responses(200, Gathering) } },
    async (req) => gatherings.get(scopeOf(req), req.params.gatheringId));
  app.patch('/gatherings/:gatheringId', { config: c, schema: { ...t, params: params('gatheringId'), body: GatheringUpdate, response: responses(200, Gathering) } },
    async (req) => commit(() => gatherings.update(scopeOf(req), req.params.gatheringId, req.body)));
  app.delete('/gatherings/:gatheringId', { config: c, schema: { ...t, params: params('gatheringId'), response: noContent } },
    async (req, reply) => {
      await commit(() => gatherings.remove(scopeOf(req), req.params.gatheringId));
      return reply.code(204).send(null);
    });
  app.get('/gatherings/:gatheringId/members', { config: c, schema: { ...t, params: params('gatheringId'), response: responses(200, Type.Object({ items: Type.Array(GatheringMember) })) } },
    async (req) => ({ items: gatherings.listMembers(scopeOf(req), req.params.gatheringId) }));
  app.post('/gatherings/:gatheringId/members', { config: c, schema: { ...t, params: params('gatheringId'), body: GatheringMemberAdd, response: responses(201, GatheringMember) } },
    async (req, reply) => reply.code(201).send(await commit(() => gatherings.addMember(scopeOf(req), req.params.gatheringId, req.body))));
  app.patch('/gatherings/:gatheringId/members/:memberId', { config: c, schema: { ...t, params: params('gatheringId', 'memberId'), body: GatheringMemberUpdate, response: responses(200, GatheringMember) } },
    async (req) => commit(() => gatherings.updateMember(scopeOf(req), req.params.gatheringId, req.params.memberId, req.body)));
  app.delete('/gatherings/:gatheringId/members/:memberId', { config: c, schema: { ...t, params: params('gatheringId', 'memberId'), response: responses(200, GatheringMember) } },
    async (req) => commit(() => gatherings.removeMember(scopeOf(req), req.params.gatheringId, req.params.memberId)));
}

import { Page, Sanction, SanctionCreate, SanctionListQuery, SanctionRevoke } from '../../../common/schemas.js';
import { actorOf, params, responses, scopeOf, type Api, type RouteDeps } from './common.js';

export function sanctionRoutes(app: Api, { domain: { sanctions }, commit }: RouteDeps): void {
  const t = { tags: ['sanctions'] };
  app.get('/sanctions', { config: { scope: 'sanctions' }, schema: { ...t, params: params(), querystring: SanctionListQuery, response: responses(200, Page(Sanction)) } },
    async (req) => sanctions.list(scopeOf(req), req.query));
  app.post('/sanctions', { config: { scope: 'sanctions' }, schema: { ...t, params: params(), body: SanctionCreate, response: responses(201, Sanction) } },
    async (req, reply) => reply.code(201).send(await commit(() => sanctions.create(scopeOf(req), { ...req.body, createdByUserId: req.body.createdByUserId ?? actorOf(req) }))));
  app.get('/sanctions/:sanctionId', { config: { scope: 'sanctions' }, schema: { ...t, params: params('sanctionId'), response: responses(200, Sanction) } },
    async (req) => sanctions.get(scopeOf(req), req.params.sanctionId));
  app.post('/sanctions/:sanctionId/revoke', {
    config: { scope: 'sanctions' },
    // The body is optional: `POST …/revoke` with none is the common case.
    preValidation: async (req) => {
      req.body ??= {};
    },
    schema: { ...t, params: params('sanctionId'), body: SanctionRevoke, response: responses(200, Sanction) } },
    async (req) => commit(() => sanctions.revoke(scopeOf(req), req.params.sanctionId, req.body?.revokedByUserId ?? actorOf(req), req.body?.reason)));
}

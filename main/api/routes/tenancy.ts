import { Type } from '@sinclair/typebox';
import { ApiKey, ApiKeyCreate, ApiKeyCreated, Id, Project, ProjectCreate } from '../../../common/schemas.js';
import { ProblemError } from '../../core/errors.js';
import { principal } from '../auth.js';
import { responses, type Api, type RouteDeps } from './common.js';

/** `/api/projects` and `/api/keys`. */
export function tenancyRoutes(app: Api, { domain: { tenancy }, commit }: RouteDeps): void {
  app.get('/projects', { config: { scope: 'projects' }, schema: { tags: ['projects'], response: responses(200, Type.Object({ items: Type.Array(Project) })) } },
    async (req) => ({ items: tenancy.listProjects(principal(req)) }));
  app.post('/projects', { config: { scope: 'projects' }, schema: { tags: ['projects'], body: ProjectCreate, response: responses(201, Project) } },
    async (req, reply) => {
      const p = principal(req);
      if (p.projectId) throw new ProblemError('forbidden', 'a project-bound key cannot create projects');
      return reply.code(201).send(await commit(() => tenancy.createProject(p.tenantId, req.body)));
    });
  app.get('/projects/:projectId', { config: { scope: 'projects' }, schema: { tags: ['projects'], params: Type.Object({ projectId: Id }), response: responses(200, Project) } },
    async (req) => tenancy.getProject(principal(req).tenantId, req.params.projectId));

  app.get('/keys', { config: { scope: 'keys' }, schema: { tags: ['keys'], response: responses(200, Type.Object({ items: Type.Array(ApiKey) })) } },
    async (req) => ({ items: tenancy.listKeys(principal(req)) }));
  app.post('/keys', { config: { scope: 'keys', idempotency: false }, schema: { tags: ['keys'], body: ApiKeyCreate, response: responses(201, ApiKeyCreated) } },
    async (req, reply) => reply.code(201).send(await commit(() => tenancy.issueKey(principal(req), req.body))));
  app.delete('/keys/:keyId', { config: { scope: 'keys' }, schema: { tags: ['keys'], params: Type.Object({ keyId: Id }), response: responses(200, ApiKey) } },
    async (req) => commit(() => tenancy.revokeKey(principal(req), req.params.keyId)));
}

import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Scope } from '../../common/schemas.js';
import { ProblemError } from '../core/errors.js';
import { hookList } from './hooks.js';
import { hasScope, KEY_PREFIX, type Principal, type TenancyModule } from '../domain/tenancy.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Scope the route needs; `public` routes need no key. */
    scope?: Scope | 'public';
  }
  interface FastifyRequest {
    principal: Principal | null;
  }
}

/** `X-API-Key: ctx_…` or `Authorization: ApiKey ctx_…`. */
export function presentedKey(request: FastifyRequest): string | null {
  const header = request.headers['x-api-key'];
  if (typeof header === 'string' && header) return header;
  const auth = request.headers.authorization;
  if (auth) {
    const [scheme, value] = auth.split(' ', 2);
    if (scheme?.toLowerCase() === 'apikey' && value) return value.trim();
  }
  return null;
}

/** The authenticated principal (routes with a scope always have one). */
export function principal(request: FastifyRequest): Principal {
  if (!request.principal) throw new ProblemError('unauthorized');
  return request.principal;
}

/**
 * Authentication (401), project visibility (404, never revealing another tenant's project)
 * and scope (403), in that order, before validation and the handler.
 */
export function installAuth(app: FastifyInstance, tenancy: TenancyModule, ephemeral: ReadonlyMap<string, Principal>): void {
  app.decorateRequest('principal', null);
  // Each guarded route gets its own onRequest hook with its scope closed over: nothing is
  // looked up per request that is known when the route is registered.
  app.addHook('onRoute', (route) => {
    const scope = route.config?.scope;
    if (scope === undefined || scope === 'public') return;
    const hook = (request: FastifyRequest, _reply: unknown, done: (err?: Error) => void) => {
      try {
        authorize(request, scope);
        done();
      } catch (err) {
        done(err as Error);
      }
    };
    route.onRequest = [hook, ...hookList(route.onRequest)];
  });

  function authorize(request: FastifyRequest, scope: Scope): void {
    const key = presentedKey(request);
    if (!key) throw new ProblemError('unauthorized', 'send an API key as X-API-Key or Authorization: ApiKey …');
    const p = key.startsWith(KEY_PREFIX) ? (ephemeral.get(key) ?? tenancy.authenticate(key)) : null;
    if (!p) throw new ProblemError('unauthorized', 'unknown or revoked API key');
    request.principal = p;
    const projectId = (request.params as { projectId?: string } | undefined)?.projectId;
    if (projectId !== undefined) {
      if (p.projectId !== null && p.projectId !== projectId) throw new ProblemError('not_found', 'project not found', 'params/projectId');
      tenancy.requireProject(p.tenantId, projectId);
    }
    if (!hasScope(p, scope)) throw new ProblemError('forbidden', `this key lacks the "${scope}" scope`);
  }
}

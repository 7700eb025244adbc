import { Type, type TSchema } from '@sinclair/typebox';
import { Id } from '../../../common/schemas.js';
import type { FastifyInstance, FastifyBaseLogger, RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { ProjectScope } from '../../domain/context.js';
import type { Domain } from '../../domain/index.js';
import { principal } from '../auth.js';
import type { FastifyRequest } from 'fastify';

export type Api = FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, FastifyBaseLogger, TypeBoxTypeProvider>;

export interface RouteDeps {
  domain: Domain;
  /** Runs a domain write in the next group commit; resolves once it is durable. */
  commit: <T>(fn: () => T) => Promise<T>;
}


/** One schema object per distinct param list, so Ajv compiles each once (it caches by object). */
const paramsCache = new Map<string, unknown>();
/** Path params of project-scoped routes: `projectId` plus the given ids. */
export function params<K extends string = never>(...names: K[]) {
  const key = names.join(',');
  const hit = paramsCache.get(key);
  if (hit) return hit as ReturnType<typeof makeParams<K>>;
  const made = makeParams(names);
  paramsCache.set(key, made);
  return made;
}
function makeParams<K extends string>(names: K[]) {
  const props = Object.fromEntries([['projectId', Id], ...names.map((n) => [n, Id])]) as Record<'projectId' | K, typeof Id>;
  return Type.Object(props);
}

export const ProblemSchema = Type.Ref('Problem');
export const problemResponses = {
  400: ProblemSchema, 401: ProblemSchema, 403: ProblemSchema, 404: ProblemSchema, 409: ProblemSchema, 413: ProblemSchema, 422: ProblemSchema,
};

/** Response map: the success schema plus the problems every route may answer. */
export function responses<N extends 200 | 201, S extends TSchema>(status: N, schema: S) {
  return { [status]: schema, ...problemResponses } as { [K in N]: S } & typeof problemResponses;
}
export const noContent = { 204: Type.Null(), ...problemResponses };

export function scopeOf(request: FastifyRequest & { params: { projectId: string } }): ProjectScope {
  return { tenantId: principal(request).tenantId, projectId: request.params.projectId };
}

/** Who a change is attributed to when the body does not say: the key. */
export const actorOf = (request: FastifyRequest) => `key:${principal(request).keyId}`;

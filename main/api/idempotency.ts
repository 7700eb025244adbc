import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction, onSendHookHandler, preHandlerAsyncHookHandler } from 'fastify';
import type { Db } from '../store/db.js';
import { ProblemError } from '../core/errors.js';
import { hookList } from './hooks.js';
import { nowIso } from '../store/ids.js';

declare module 'fastify' {
  interface FastifyRequest {
    idempotency: { key: string; hash: string } | null;
  }
  interface FastifyContextConfig {
    /** false: the response holds a secret that must never be stored, so the header is refused. */
    idempotency?: boolean;
  }
}

interface StoredResponse {
  request_hash: string;
  status_code: number;
  response: string;
}

const HEADER = 'idempotency-key';
/** status_code of a record written with the change itself, before its response exists. */
const COMMITTED_WITHOUT_RESPONSE = 0;
/** The success status a replayed commit answers with: the route's own (create 201, action 202, else 200). */
const SUCCESS_ORDER = ['201', '202', '200'];

interface IdempotentRequest {
  tenantId: string;
  keyId: string;
  key: string;
  hash: string;
  method: string;
  path: string;
}

/**
 * `Idempotency-Key` on POST: the first response (2xx or 4xx) is stored per API key and
 * replayed for a repeat of the same request; a different request under the same key is 422.
 * Entries expire after 24 h (see `purge`).
 *
 * A write's record is inserted in the same transaction as the write (`inCommit`), holding the
 * domain result, and completed with the response when it is sent. So a crash between the
 * commit and the response cannot turn a client's retry into a second write: the retry gets
 * the committed result, serialized as the route would have.
 */
export function installIdempotency(app: FastifyInstance, db: Db) {
  const find = db.prepare<[string, string], StoredResponse>(
    'SELECT request_hash, status_code, response FROM idempotency_keys WHERE api_key_id = ? AND key = ?',
  );
  const store = db.prepare(
    `INSERT OR IGNORE INTO idempotency_keys (tenant_id, api_key_id, key, method, path, request_hash, status_code, response, created_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const complete = db.prepare(
    `INSERT INTO idempotency_keys (tenant_id, api_key_id, key, method, path, request_hash, status_code, response, created_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (api_key_id, key) DO UPDATE SET status_code = excluded.status_code, response = excluded.response`,
  );
  const purge = db.prepare('DELETE FROM idempotency_keys WHERE created_at < ?');
  const inFlight = new Set<string>();
  const current = new AsyncLocalStorage<IdempotentRequest>();

  app.decorateRequest('idempotency', null);

  const preHandler: preHandlerAsyncHookHandler = async (request, reply) => {
    const key = request.headers[HEADER];
    if (key === undefined || !request.principal) return;
    if (request.routeOptions.config?.idempotency === false) {
      throw new ProblemError('validation', 'Idempotency-Key is not accepted here: the response carries a secret that is never stored', 'header/idempotency-key');
    }
    if (typeof key !== 'string' || key.length === 0 || key.length > 255) {
      throw new ProblemError('validation', 'Idempotency-Key must be 1–255 characters', 'header/idempotency-key');
    }
    const hash = createHash('sha256').update(`${request.url}\n${JSON.stringify(request.body ?? null)}`).digest('hex');
    const stored = find.get(request.principal.keyId, key);
    if (stored) {
      if (stored.request_hash !== hash) throw new ProblemError('idempotency_mismatch', undefined, 'header/idempotency-key');
      if (stored.status_code === COMMITTED_WITHOUT_RESPONSE) {
        const codes = Object.keys((request.routeOptions.schema?.response ?? {}) as object);
        const status = Number(SUCCESS_ORDER.find((c) => codes.includes(c)) ?? 200);
        return reply.code(status).header('idempotent-replayed', 'true').send(JSON.parse(stored.response));
      }
      return reply.code(stored.status_code).header('idempotent-replayed', 'true').type(
        stored.status_code >= 400 ? 'application/problem+json' : 'application/json; charset=utf-8',
      ).send(stored.response);
    }
    const slot = `${request.principal.keyId}\n${key}`;
    if (inFlight.has(slot)) throw new ProblemError('idempotency_in_progress', undefined, 'header/idempotency-key');
    inFlight.add(slot);
    request.idempotency = { key, hash };
  };

  const onSend: onSendHookHandler = (request, reply, payload, done) => {
    const idem = request.idempotency;
    // 5xx are not stored: the client should be able to retry them.
    if (idem && request.principal && reply.statusCode < 500 && typeof payload === 'string') {
      complete.run(request.principal.tenantId, request.principal.keyId, idem.key, request.method, request.url.split('?')[0], idem.hash, reply.statusCode, payload, nowIso());
    }
    done(null, payload);
  };

  const onResponse = (request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction) => {
    if (request.idempotency && request.principal) inFlight.delete(`${request.principal.keyId}\n${request.idempotency.key}`);
    done();
  };

  // Only authenticated POST routes take the header: GETs and the rest skip these hooks entirely.
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    const scope = route.config?.scope;
    if (!methods.includes('POST') || scope === undefined || scope === 'public') return;
    route.preHandler = [...hookList(route.preHandler), preHandler];
    // The handler runs with its idempotency record in context, for `inCommit`.
    const handler = route.handler;
    route.handler = function (this: FastifyInstance, request: FastifyRequest, reply: FastifyReply) {
      const idem = request.idempotency;
      const p = request.principal;
      if (!idem || !p) return handler.call(this, request, reply);
      const ctx = { tenantId: p.tenantId, keyId: p.keyId, key: idem.key, hash: idem.hash, method: request.method, path: request.url.split('?')[0]! };
      return current.run(ctx, () => handler.call(this, request, reply));
    };
    route.onSend = [...hookList(route.onSend), onSend];
    route.onResponse = [...hookList(route.onResponse), onResponse];
  });

  return {
    purge: (olderThanMs = 24 * 3600_000) => purge.run(new Date(Date.now() - olderThanMs).toISOString()).changes,
    /**
     * Wraps a route's write so that, for a request with an Idempotency-Key, the record commits
     * with the write. Call where the request's context is current (inside the handler).
     */
    inCommit<T>(fn: () => T): () => T {
      const ctx = current.getStore();
      if (!ctx) return fn;
      return () => {
        const result = fn();
        store.run(ctx.tenantId, ctx.keyId, ctx.key, ctx.method, ctx.path, ctx.hash, COMMITTED_WITHOUT_RESPONSE, JSON.stringify(result ?? null), nowIso());
        return result;
      };
    },
  };
}

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

/**
 * `Idempotency-Key` on POST: the first response (2xx or 4xx) is stored per API key and
 * replayed for a repeat of the same request; a different request under the same key is 422.
 * Entries expire after 24 h (see `purge`).
 */
export function installIdempotency(app: FastifyInstance, db: Db) {
  const find = db.prepare<[string, string], StoredResponse>(
    'SELECT request_hash, status_code, response FROM idempotency_keys WHERE api_key_id = ? AND key = ?',
  );
  const store = db.prepare(
    `INSERT OR IGNORE INTO idempotency_keys (tenant_id, api_key_id, key, method, path, request_hash, status_code, response, created_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const purge = db.prepare('DELETE FROM idempotency_keys WHERE created_at < ?');
  const inFlight = new Set<string>();

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
      store.run(request.principal.tenantId, request.principal.keyId, idem.key, request.method, request.url.split('?')[0], idem.hash, reply.statusCode, payload, nowIso());
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
    route.onSend = [...hookList(route.onSend), onSend];
    route.onResponse = [...hookList(route.onResponse), onResponse];
  });

  return { purge: (olderThanMs = 24 * 3600_000) => purge.run(new Date(Date.now() - olderThanMs).toISOString()).changes };
}

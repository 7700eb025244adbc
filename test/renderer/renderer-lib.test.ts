/** Unit tests for the renderer's framework-free modules (run in Node; no DOM needed). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DomainEvent } from '../../common/events.js';
import type { IpcRequest, IpcResponse } from '../../common/ipc.js';
import { ApiError } from '../../common/problem.js';
import type { Session } from '../../common/schemas.js';
import { ConnectionMonitor } from '../../renderer/src/lib/connection.js';
import type { CortexBridge } from '../../renderer/src/lib/cortex-bridge.js';
import { createIpcClient, createIpcEcho } from '../../renderer/src/lib/ipc-client.js';
import type { EchoEvent } from '../../common/ipc.js';
import { applySessionEvent, type SessionPage } from '../../renderer/src/features/sessions/sessionsCache.js';

function bridgeAnswering(res: IpcResponse, seen: IpcRequest[] = []): CortexBridge {
  return {
    request: async (req) => {
      seen.push(req);
      return res;
    },
    requestBinary: async () => ({ status: 404, contentType: 'application/problem+json', bytes: null, body: null }),
    subscribe: () => () => undefined,
    echoTopic: () => () => undefined,
  };
}

test('ipc client: 2xx resolves with the body, no body key when none given', async () => {
  const seen: IpcRequest[] = [];
  const client = createIpcClient(bridgeAnswering({ status: 200, body: { ok: 1 } }, seen));
  assert.deepEqual(await client.request('GET', '/api/x'), { ok: 1 });
  assert.deepEqual(seen, [{ method: 'GET', path: '/api/x' }]);
});

test('ipc client: non-2xx rejects with ApiError carrying the problem', async () => {
  const problem = { type: 'urn:cortex:problem:not_found', title: 'Not Found', status: 404, code: 'not_found' };
  const client = createIpcClient(bridgeAnswering({ status: 404, body: problem }));
  await assert.rejects(client.request('GET', '/api/x'), (err: unknown) => {
    assert.ok(err instanceof ApiError);
    assert.equal(err.status, 404);
    assert.deepEqual(err.problem, problem);
    return true;
  });
  const bare = createIpcClient(bridgeAnswering({ status: 502, body: null }));
  await assert.rejects(bare.request('POST', '/api/x', {}), (err: unknown) => err instanceof ApiError && err.status === 502);
});

test('ipc client: requestBinary resolves with exactly the body bytes, rejects with the problem', async () => {
  const pool = new Uint8Array([9, 9, 1, 2, 3, 9]);
  const seen: unknown[] = [];
  const client = createIpcClient({
    ...bridgeAnswering({ status: 200, body: null }),
    requestBinary: async (req) => (seen.push(req), { status: 200, contentType: 'audio/wav', bytes: pool.subarray(2, 5), body: null }),
  });
  const res = await client.requestBinary('/api/x/audio');
  assert.deepEqual(seen, [{ path: '/api/x/audio' }]);
  assert.equal(res.contentType, 'audio/wav');
  assert.deepEqual([...new Uint8Array(res.bytes)], [1, 2, 3]);

  const problem = { type: 'urn:cortex:problem:not_found', title: 'Not Found', status: 404, code: 'not_found', detail: 'no audio was kept for this message' };
  const missing = createIpcClient({
    ...bridgeAnswering({ status: 200, body: null }),
    requestBinary: async () => ({ status: 404, contentType: 'application/problem+json', bytes: null, body: problem }),
  });
  await assert.rejects(missing.requestBinary('/api/x/audio'), (err: unknown) => err instanceof ApiError && err.status === 404 && err.problem.detail === problem.detail);
});

test('ipc client: subscribe passes events through and supports async unsubscribe handles', async () => {
  let unsubscribed = 0;
  let deliver: ((e: DomainEvent) => void) | undefined;
  const client = createIpcClient({
    request: async () => ({ status: 204, body: null }),
    requestBinary: async () => ({ status: 404, contentType: 'application/problem+json', bytes: null, body: null }),
    subscribe: async (_filter, onEvent) => {
      deliver = onEvent;
      return () => unsubscribed++;
    },
    echoTopic: () => () => undefined,
  });
  const got: number[] = [];
  const stop = client.subscribe({}, (e) => got.push(e.seq));
  await Promise.resolve();
  deliver?.({ seq: 7 } as DomainEvent);
  assert.deepEqual(got, [7]);
  stop();
  assert.equal(unsubscribed, 1);

  // Cancelled before the handle arrived: unsubscribes as soon as it does.
  const early = client.subscribe({}, () => undefined);
  early();
  await new Promise((r) => setTimeout(r, 0));
  assert.equal(unsubscribed, 2);
});

const session = (id: string, createdAt: string, extra: Partial<Session> = {}): Session => ({
  id,
  tenantId: 't',
  projectId: 'default',
  externalRoomId: null,
  gateway: null,
  title: id,
  status: 'active',
  idleTimeout: null,
  createdByUserId: null,
  createdAt,
  startedAt: createdAt,
  endedAt: null,
  summary: null,
  adapter: null,
  adapterConfig: null,
  ...extra,
});

const event = (type: DomainEvent['type'], data: Record<string, unknown>): DomainEvent => ({
  id: 'e',
  seq: 1,
  type,
  source: 'api',
  tenantId: 't',
  projectId: 'default',
  resourceId: `session:${String(data.id)}`,
  timestamp: '2026-01-01T00:00:00.000Z',
  payload: { action: 'created', data },
});

test('sessions cache: created/updated upsert newest first, deleted removes, unusable → null', () => {
  const a = session('a', '2026-01-01T00:00:00.000Z');
  const b = session('b', '2026-01-02T00:00:00.000Z');
  let page: SessionPage = { items: [a], nextCursor: null };
  page = applySessionEvent(page, event('session.created', b)) ?? assert.fail('created');
  page = applySessionEvent(page, event('session.created', b)) ?? assert.fail('duplicate');
  assert.deepEqual(page.items.map((s) => s.id), ['b', 'a']);
  page = applySessionEvent(page, event('session.ended', { ...a, status: 'ended' })) ?? assert.fail('ended');
  assert.equal(page.items.find((s) => s.id === 'a')?.status, 'ended');
  page = applySessionEvent(page, event('session.deleted', { id: 'b' })) ?? assert.fail('deleted');
  assert.deepEqual(page.items.map((s) => s.id), ['a']);
  assert.equal(applySessionEvent(page, event('session.updated', { id: 'a' })), null);
});

test('connection monitor: tracks open streams, failures and intentional aborts', async () => {
  const monitor = new ConnectionMonitor();
  let fail = false;
  const fake: typeof fetch = async (_input, init) => {
    if (fail) throw new TypeError('network down');
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        init?.signal?.addEventListener('abort', () => controller.error(new DOMException('aborted', 'AbortError')));
      },
    });
    return new Response(body, { status: 200 });
  };
  const wrapped = monitor.wrapFetch(fake);
  assert.equal(monitor.getSnapshot().state, 'connecting');

  const ctrl = new AbortController();
  const res = await wrapped('/api/events/stream', { signal: ctrl.signal });
  assert.deepEqual(monitor.getSnapshot(), { state: 'live', openStreams: 1 });

  assert.ok(res.body);
  const reader = res.body.getReader();
  const pending = reader.read().catch(() => undefined);
  ctrl.abort();
  await pending;
  assert.deepEqual(monitor.getSnapshot(), { state: 'connecting', openStreams: 0 });

  fail = true;
  await assert.rejects(wrapped('/api/events/stream', {}));
  assert.equal(monitor.getSnapshot().state, 'reconnecting');
  fail = false;
  await wrapped('/api/events/stream', {});
  assert.deepEqual(monitor.getSnapshot(), { state: 'live', openStreams: 1 });
});

test('http client: requestBinary sends the key, returns the bytes and content type, rejects with the problem', async () => {
  const { createHttpClient } = await import('../../common/http-client.js');
  const seen: { url: string; headers: Record<string, string> }[] = [];
  const fakeFetch = (async (input: string | URL | Request, init?: RequestInit) => {
    seen.push({ url: String(input), headers: init?.headers as Record<string, string> });
    if (String(input).endsWith('/missing')) {
      return new Response(JSON.stringify({ type: 'urn:cortex:problem:not_found', title: 'Not Found', status: 404, code: 'not_found' }), { status: 404, headers: { 'content-type': 'application/problem+json' } });
    }
    return new Response(new Uint8Array([82, 73, 70, 70]), { status: 200, headers: { 'content-type': 'audio/wav' } });
  }) as typeof fetch;
  const client = createHttpClient({ baseUrl: 'http://cortex.test', apiKey: 'ctx_k', fetch: fakeFetch });
  const res = await client.requestBinary('/api/x/audio');
  assert.equal(res.contentType, 'audio/wav');
  assert.deepEqual([...new Uint8Array(res.bytes)], [82, 73, 70, 70]);
  assert.equal(seen[0]?.url, 'http://cortex.test/api/x/audio');
  assert.equal(seen[0]?.headers['x-api-key'], 'ctx_k');
  await assert.rejects(client.requestBinary('/api/missing'), (err: unknown) => err instanceof ApiError && err.status === 404 && err.problem.code === 'not_found');
});

test('ipc echo: passes the topic and events through; a throwing bridge reports failed', () => {
  const seen: string[] = [];
  let stopped = 0;
  const echo = createIpcEcho({
    ...bridgeAnswering({ status: 204, body: null }),
    echoTopic: (topic, onEvent) => {
      seen.push(topic);
      onEvent({ event: 'ready', data: { topic, messageType: 'String', maxRate: 20 } });
      return () => stopped++;
    },
  });
  const got: EchoEvent[] = [];
  const stop = echo('a/b', (e) => got.push(e));
  assert.deepEqual(seen, ['a/b']);
  assert.deepEqual(got, [{ event: 'ready', data: { topic: 'a/b', messageType: 'String', maxRate: 20 } }]);
  stop();
  assert.equal(stopped, 1);

  const failing = createIpcEcho({
    ...bridgeAnswering({ status: 204, body: null }),
    echoTopic: () => {
      throw new Error('no bridge');
    },
  });
  const events: EchoEvent[] = [];
  failing('x', (e) => events.push(e))();
  assert.equal(events.length, 1);
  assert.equal(events[0]?.event, 'failed');
  assert.match(JSON.stringify(events[0]?.data), /no bridge/);
});

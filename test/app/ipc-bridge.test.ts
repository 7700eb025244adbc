/**
 * The IPC bridge against the real core: `startCortex()` + Fastify `inject()`, exactly the
 * wiring main/app/main.ts uses (minus Electron).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { DomainEvent } from '../../common/events.js';
import type { Problem } from '../../common/problem.js';
import { EvidenceStore } from '../../main/bot/evidence.js';
import { encodeWav } from '../../main/bot/rooms/wav.js';
import { startCortex, type Cortex } from '../../main/core/cortex.js';
import type { IpcEchoFrame } from '../../common/ipc.js';
import { Node } from '../../main/bus/node.js';
import { IntType, StringType } from '../../main/bus/types.js';
import { createIpcBridge, type IpcBridge } from '../../main/core/ipc-bridge.js';

let dataDir: string;
let cortex: Cortex;
let bridge: IpcBridge;
const bridgeErrors: string[] = [];
// Short paths: ipc:// socket paths are limited to ~103 bytes.
const busDir = mkdtempSync('/tmp/cxi-');
let node: Node;

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'cortex-ipc-'));
  // The data plane on a private discovery endpoint, as in test/bus/echo-api.test.ts.
  cortex = await startCortex({ dataDir, port: 0, logLevel: 'silent', busEndpoint: `ipc://${busDir}/d.sock`, busRuntimeDir: join(busDir, 't') });
  bridge = createIpcBridge({
    inject: (req) => cortex.app.inject(req),
    subscribeEvents: (listener) => cortex.events.subscribe(listener),
    consoleKey: cortex.consoleKey,
    tenantId: cortex.tenantId,
    bus: cortex.bus,
    onError: (err, context) => bridgeErrors.push(`${context}: ${(err as Error).message}`),
  });
  node = new Node({ name: 'test-ipc-echo-pub', discoveryEndpoint: `ipc://${busDir}/d.sock`, runtimeDir: join(busDir, 'p') });
});

after(async () => {
  bridge?.closeAll();
  await node?.close();
  await cortex?.close();
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(busDir, { recursive: true, force: true });
});

const sessionsPath = () => `/api/projects/${cortex.projectId}/sessions`;

/** Resolves once `predicate` holds, polling the event loop (events arrive synchronously after commit). */
async function until(predicate: () => boolean, what: string, ms = 2000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('ipc bridge: requests', () => {
  test('rejects requests outside the allowlist with a 400 problem, never a throw', async () => {
    const bad: unknown[] = [
      null,
      'GET /api/health',
      [],
      { method: 'TRACE', path: '/api/health' },
      { method: 'OPTIONS', path: '/api/health' },
      { method: 42, path: '/api/health' },
      { method: 'GET' },
      { method: 'GET', path: '/health' },
      { method: 'GET', path: 'http://evil.example/api/health' },
      { method: 'GET', path: '//evil.example/api/health' },
      { method: 'GET', path: '/api' },
      { method: 'GET', path: '/api/../openapi.json' },
      { method: 'GET', path: '/api/%2e%2e/x' },
      { method: 'GET', path: '/api/health\r\nx-api-key: other' },
      { method: 'GET', path: '/api/health#frag' },
      { method: 'GET', path: '/api/events/stream' },
      { method: 'GET', path: `/api/projects/default/events/stream?types=session.*` },
      { method: 'GET', path: '/api/topics/cortex%2Fevents/echo' },
      { method: 'GET', path: '/api/health', body: { a: 1 } },
      { method: 'POST', path: '/api/sessions', body: { n: 10n } },
      { method: 'POST', path: '/api/sessions', body: () => 1 },
    ];
    for (const req of bad) {
      const res = await bridge.handleRequest(req);
      assert.equal(res.status, 400, `expected 400 for ${String(JSON.stringify(req, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v)))}`);
      const problem = res.body as Problem;
      assert.equal(problem.code, 'validation');
      assert.ok(problem.errors && problem.errors.length > 0);
    }
  });

  test('GET /api/health round trip', async () => {
    const res = await bridge.handleRequest({ method: 'GET', path: '/api/health' });
    assert.equal(res.status, 200);
    const body = res.body as { status: string; version: string };
    assert.equal(body.status, 'ok');
    assert.equal(typeof body.version, 'string');
  });

  test('authenticated as the console (admin) via the injected key', async () => {
    const res = await bridge.handleRequest({ method: 'GET', path: sessionsPath() });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.ok(Array.isArray((res.body as { items: unknown[] }).items));

    const noKey = await cortex.app.inject({ method: 'GET', url: sessionsPath() });
    assert.equal(noKey.statusCode, 401, 'the same route without the console key is refused');
  });

  test('POST creates a session (201) and API problems pass through unchanged', async () => {
    const res = await bridge.handleRequest({ method: 'POST', path: sessionsPath(), body: { title: 'over ipc' } });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const session = res.body as { id: string; title: string; projectId: string };
    assert.equal(session.title, 'over ipc');
    assert.equal(session.projectId, cortex.projectId);

    const invalid = await bridge.handleRequest({ method: 'POST', path: sessionsPath(), body: { title: 7 } });
    assert.equal(invalid.status, 400);
    assert.equal((invalid.body as Problem).code, 'validation');

    const missing = await bridge.handleRequest({ method: 'GET', path: `${sessionsPath()}/nope` });
    assert.equal(missing.status, 404);
  });
});

describe('ipc bridge: binary requests', () => {
  test('an evidence clip arrives as exactly its WAV bytes; problems pass through', async () => {
    const session = (await bridge.handleRequest({ method: 'POST', path: sessionsPath(), body: { title: 'with audio' } })).body as { id: string };
    const withAudio = (await bridge.handleRequest({ method: 'POST', path: `${sessionsPath()}/${session.id}/messages`, body: { content: 'hello', hasDebugAudio: true } })).body as { id: string };
    const without = (await bridge.handleRequest({ method: 'POST', path: `${sessionsPath()}/${session.id}/messages`, body: { content: 'typed' } })).body as { id: string };
    const samples = Float32Array.from({ length: 1600 }, (_, i) => Math.sin(i / 10) * 0.5);
    await (await new EvidenceStore(dataDir, 1).stage(samples, 16000)).commit(withAudio.id);

    const res = await bridge.handleBinaryRequest({ path: `${sessionsPath()}/${session.id}/messages/${withAudio.id}/audio` });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.contentType, 'audio/wav');
    assert.ok(res.bytes instanceof Uint8Array);
    assert.deepEqual(Buffer.from(res.bytes), encodeWav(samples, 16000));

    const missing = await bridge.handleBinaryRequest({ path: `${sessionsPath()}/${session.id}/messages/${without.id}/audio` });
    assert.equal(missing.status, 404);
    assert.equal(missing.bytes, null);
    assert.equal((missing.body as Problem).code, 'not_found');
  });

  test('the same allowlist as request: only {path}, a GET under /api/, no streams', async () => {
    const bad: unknown[] = [
      null,
      '/api/health',
      { path: 7 },
      { path: '/health' },
      { path: '/api/../x' },
      { path: '/api/events/stream' },
      { path: '/api/health', method: 'DELETE' },
      { path: '/api/health', headers: { 'x-api-key': 'other' } },
    ];
    for (const req of bad) {
      const res = await bridge.handleBinaryRequest(req);
      assert.equal(res.status, 400, `expected 400 for ${JSON.stringify(req)}`);
      assert.equal(res.bytes, null);
      assert.equal((res.body as Problem).code, 'validation');
    }
    const ok = await bridge.handleBinaryRequest({ path: '/api/health' });
    assert.equal(ok.status, 200);
    assert.match(ok.contentType, /^application\/json/);
    assert.equal(JSON.parse(Buffer.from(ok.bytes ?? []).toString('utf8')).status, 'ok');
  });
});

describe('ipc bridge: subscriptions', () => {
  test('delivers matching event types only; unsubscribe stops delivery', async () => {
    const sessions: DomainEvent[] = [];
    const messages: DomainEvent[] = [];
    const created = bridge.subscribe({ types: ['session.created'] }, (e) => sessions.push(e));
    const other = bridge.subscribe({ types: ['message.*', 'sanction.created'] }, (e) => messages.push(e));

    const res = await bridge.handleRequest({ method: 'POST', path: sessionsPath(), body: { title: 'watched' } });
    assert.equal(res.status, 201);
    const id = (res.body as { id: string }).id;
    await until(() => sessions.length === 1, 'session.created');
    const [event] = sessions;
    assert.equal(event?.type, 'session.created');
    assert.equal(event?.tenantId, cortex.tenantId);
    assert.equal(event?.projectId, cortex.projectId);
    assert.equal(event?.resourceId, `session:${id}`);
    assert.equal(messages.length, 0, 'non-matching types are not delivered');

    assert.equal(bridge.unsubscribe(created), true);
    assert.equal(bridge.unsubscribe(created), false, 'idempotent');
    await bridge.handleRequest({ method: 'POST', path: sessionsPath(), body: { title: 'unwatched' } });
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(sessions.length, 1, 'no delivery after unsubscribe');
    bridge.unsubscribe(other);
    assert.equal(bridge.size, 0);
  });

  test('project filter: another project is not delivered', async () => {
    const seen: DomainEvent[] = [];
    const sub = bridge.subscribe({ projectId: 'some-other-project', types: ['session.*'] }, (e) => seen.push(e));
    await bridge.handleRequest({ method: 'POST', path: sessionsPath(), body: { title: 'elsewhere' } });
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(seen.length, 0);
    bridge.unsubscribe(sub);
  });

  test('since: replays logged events in seq order, then goes live without duplicates', async () => {
    const before = (await bridge.handleRequest({ method: 'GET', path: '/api/health' })).body as { lastSeq: number };
    const a = await bridge.handleRequest({ method: 'POST', path: sessionsPath(), body: { title: 'replay a' } });
    const b = await bridge.handleRequest({ method: 'POST', path: sessionsPath(), body: { title: 'replay b' } });
    const seen: DomainEvent[] = [];
    const sub = bridge.subscribe({ types: ['session.created'], since: before.lastSeq }, (e) => seen.push(e));
    const c = await bridge.handleRequest({ method: 'POST', path: sessionsPath(), body: { title: 'live c' } });
    await until(() => seen.length >= 3, 'replayed + live events');
    await new Promise((r) => setTimeout(r, 50));
    const ids = [a, b, c].map((r) => `session:${(r.body as { id: string }).id}`);
    assert.deepEqual(seen.map((e) => e.resourceId), ids);
    const seqs = seen.map((e) => e.seq);
    assert.deepEqual(seqs, [...seqs].sort((x, y) => x - y));
    assert.ok(seqs.every((s) => s > before.lastSeq));
    bridge.unsubscribe(sub);
  });

  test('invalid filters throw', () => {
    assert.throws(() => bridge.subscribe({ types: ['bogus.type'] }, () => undefined), /filter\/types/);
    assert.throws(() => bridge.subscribe({ since: -1 }, () => undefined), /filter\/since/);
    assert.throws(() => bridge.subscribe({ projectId: 5 }, () => undefined), /filter\/projectId/);
    assert.throws(() => bridge.subscribe([], () => undefined), /filter/);
    assert.equal(bridge.size, 0);
  });

  test('no bridge errors were reported', () => {
    assert.deepEqual(bridgeErrors, []);
  });
});

describe('ipc bridge: topic echo (real bus host)', () => {
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  test('published messages arrive decoded through the echo, with the ready answer the SSE stream sends', async () => {
    const pub = await node.publisher('ipc/text', StringType, { queueSize: 10 });
    const base = cortex.bus!.echoes;
    const frames: { id: number; frame: IpcEchoFrame }[] = [];
    const start = await bridge.echo({ topic: 'ipc/text' }, (id, frame) => frames.push({ id, frame }));
    try {
      assert.ok(start.id !== null, JSON.stringify(start));
      assert.deepEqual(start.ready, { topic: 'ipc/text', messageType: 'String', maxRate: 20 });
      assert.equal(bridge.echoes, 1);
      assert.equal(cortex.bus!.echoes, base + 1);
      await sleep(150); // PUB/SUB: let the subscription reach the publisher
      pub.publish({ data: 'hello over IPC' });
      await until(() => frames.length > 0, 'the echoed message');
      const { id, frame } = frames[0]!;
      assert.equal(id, start.id);
      assert.equal(frame.event, 'message');
      assert.equal(frame.event === 'message' && (frame.data.value as { data: string }).data, 'hello over IPC');
      assert.equal(frame.data.dropped, 0);
      // Plain data only: it crosses IPC by structured clone.
      assert.deepEqual(structuredClone(frame), frame);
    } finally {
      if (start.id !== null) assert.equal(bridge.stopEcho(start.id), true);
      await pub.close();
    }
    assert.equal(bridge.echoes, 0);
    await until(() => cortex.bus!.echoes === base, 'the host echo to close');
    assert.equal(bridge.stopEcho(start.id ?? 0), false, 'stopEcho is idempotent');
  });

  test('the same 20/s cap with drop counts as the HTTP stream', async () => {
    const pub = await node.publisher('ipc/fast', IntType, { queueSize: 1000 });
    const frames: IpcEchoFrame[] = [];
    const start = await bridge.echo({ topic: 'ipc/fast' }, (_id, frame) => frames.push(frame));
    try {
      assert.ok(start.id !== null);
      await sleep(150);
      for (let i = 0; i < 100; i++) pub.publish({ data: i });
      await sleep(1200);
      pub.publish({ data: 100 });
      await until(() => frames.length >= 21, 'the message after the burst');
      await sleep(200);
      assert.equal(frames.length, 21);
      assert.equal(frames.reduce((n, f) => n + f.data.dropped, 0) + frames.length, 101, 'every message is sent or counted as dropped');
      assert.equal(frames[20]!.data.dropped, 80);
    } finally {
      if (start.id !== null) bridge.stopEcho(start.id);
      await pub.close();
    }
  });

  test('closeAll frees the host echoes; a throwing send closes its echo', async () => {
    const pub = await node.publisher('ipc/close', StringType, { queueSize: 10 });
    const base = cortex.bus!.echoes;
    const errors = bridgeErrors.length;
    try {
      const a = await bridge.echo({ topic: 'ipc/close' }, () => undefined);
      const b = await bridge.echo({ topic: 'ipc/close' }, () => {
        throw new Error('window gone');
      });
      assert.ok(a.id !== null && b.id !== null);
      assert.equal(cortex.bus!.echoes, base + 2);
      await sleep(150);
      pub.publish({ data: 'x' });
      await until(() => bridge.echoes === 1, 'the echo whose send threw to close');
      assert.match(bridgeErrors.splice(errors).join('\n'), /echo \d+ send failed; closed/);
      bridge.closeAll();
      assert.equal(bridge.echoes, 0);
      await until(() => cortex.bus!.echoes === base, 'the host echoes to close');
    } finally {
      await pub.close();
    }
  });

  test('an unknown topic or a malformed request answers a problem, never a throw', async () => {
    const missing = await bridge.echo({ topic: 'no/such/topic' }, () => undefined);
    assert.equal(missing.id, null);
    assert.ok(missing.id === null);
    assert.equal(missing.problem.status, 404);
    assert.equal(missing.problem.code, 'not_found');
    assert.match(missing.problem.detail ?? '', /No topic "no\/such\/topic" is registered/);
    for (const bad of [null, 'ipc/text', { topic: '' }, { topic: 5 }, { topic: 'a', extra: 1 }, { topic: 'x'.repeat(1001) }]) {
      const r = await bridge.echo(bad, () => undefined);
      assert.ok(r.id === null, JSON.stringify(bad));
      assert.equal(r.problem.status, 400);
      assert.equal(r.problem.code, 'validation');
    }
    assert.equal(bridge.echoes, 0);
  });

  test('without a bus host the echo answers 409, as the HTTP route does', async () => {
    const off = createIpcBridge({ inject: (req) => cortex.app.inject(req), subscribeEvents: () => () => undefined, consoleKey: cortex.consoleKey });
    const r = await off.echo({ topic: 'ipc/text' }, () => undefined);
    assert.ok(r.id === null);
    assert.equal(r.problem.status, 409);
    assert.match(r.problem.detail ?? '', /data plane is off/);
  });
});

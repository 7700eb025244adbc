import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCortex, type Cortex } from '../../main/core/cortex.js';
import { openSse, seqs } from '../support/sse-client.js';

let cortex: Cortex;
let url: string;
let key: string;
const scope = { tenantId: 'local', projectId: 'default' };
// Long enough that a reading client on a loaded 2-core machine never looks stalled.
const LAG_MS = 3000;

before(async () => {
  cortex = await startCortex({
    dataDir: mkdtempSync(join(tmpdir(), 'cx-sse-')), port: 0, logLevel: 'silent',
    sseHeartbeatMs: 100, sseMaxBufferedBytes: 256 * 1024, sseMaxLagMs: LAG_MS,
  });
  url = await cortex.listen();
  key = cortex.consoleKey;
});
after(() => cortex.close());

const post = (path: string, body: unknown) =>
  fetch(url + path, { method: 'POST', headers: { 'x-api-key': key, 'content-type': 'application/json' }, body: JSON.stringify(body) });

test('each SSE event carries its seq as id and the full envelope as data', async () => {
  const conn = await openSse(`${url}/api/projects/default/events/stream`, { 'x-api-key': key });
  assert.equal(conn.response.statusCode, 200);
  assert.match(String(conn.response.headers['content-type']), /^text\/event-stream/);
  const res = await post('/api/projects/default/sessions', { title: 'streamed' });
  const session = (await res.json()) as { id: string };
  await conn.waitFor((m) => m.length >= 2);
  const first = JSON.parse(conn.messages[0]!.data);
  assert.equal(first.type, 'session.created');
  assert.equal(String(first.seq), conn.messages[0]!.id);
  assert.equal(first.resourceId, `session:${session.id}`);
  assert.equal(first.payload.data.title, 'streamed');
  conn.close();
});

test('Last-Event-ID replays what was missed and continues live: no gap, no duplicate', async () => {
  const s = cortex.domain.sessions.create(scope, { title: 'replay' });
  const path = `/api/projects/default/sessions/${s.id}/messages`;
  const first = await openSse(`${url}/api/events/stream?types=message.*`, { 'x-api-key': key });
  for (let i = 0; i < 20; i++) await post(path, { content: `m${i}` });
  await first.waitFor((m) => m.length >= 20);
  // Disconnect after the 10th message, as a dropped connection would.
  const lastSeen = seqs(first.messages)[9]!;
  first.close();

  // While the client is away, and while it reconnects, a writer keeps going.
  let writing = true;
  let written = 20;
  const writer = (async () => {
    while (writing) {
      await post(path, { content: `m${written++}` });
    }
  })();
  await new Promise((r) => setTimeout(r, 100));
  const second = await openSse(`${url}/api/events/stream?types=message.*`, { 'x-api-key': key, 'last-event-id': String(lastSeen) });
  await new Promise((r) => setTimeout(r, 300));
  writing = false;
  await writer;
  const expected = cortex.events.read({ tenantId: 'local', afterSeq: lastSeen, limit: 10_000 }).filter((e) => e.type.startsWith('message.')).map((e) => e.seq);
  await second.waitFor((m) => m.length >= expected.length);
  await new Promise((r) => setTimeout(r, 100));
  assert.ok(expected.length > 20, `the writer produced events during the reconnect (${expected.length})`);
  assert.deepEqual(seqs(second.messages), expected, 'exactly the events after Last-Event-ID, in order');
  second.close();
});

test('?since= resumes like Last-Event-ID, and ?types filters', async () => {
  const startSeq = cortex.events.lastSeq();
  const s = cortex.domain.sessions.create(scope, { title: 'since' });
  cortex.domain.sanctions.create(scope, { type: 'warn', externalUserId: 'since-user' });
  const conn = await openSse(`${url}/api/events/stream?since=${startSeq}&types=sanction.created,session.created`, { 'x-api-key': key });
  await conn.waitFor((m) => m.length >= 2);
  await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(conn.messages.map((m) => JSON.parse(m.data).type), ['session.created', 'sanction.created']);
  assert.equal(JSON.parse(conn.messages[0]!.data).payload.data.id, s.id);
  conn.close();
});

test('heartbeat comments keep idle streams alive', async () => {
  const conn = await openSse(`${url}/api/events/stream`, { 'x-api-key': key });
  await new Promise((r) => setTimeout(r, 350));
  assert.ok(conn.comments >= 2, `heartbeats received: ${conn.comments}`);
  conn.close();
});

test('a client that stops reading falls behind and is closed; others get every event; a reconnect loses nothing', async () => {
  const s = cortex.domain.sessions.create(scope, { title: 'slow' });
  const from = cortex.events.lastSeq();
  const slow = await openSse(`${url}/api/events/stream`, { 'x-api-key': key }, { read: false });
  const fast = await openSse(`${url}/api/events/stream`, { 'x-api-key': key });
  const big = 'x'.repeat(60_000); // 18 MB in all: more than loopback socket buffers absorb
  for (let i = 0; i < 300; i++) cortex.domain.messages.create(scope, s.id, { content: big });
  // Past sseMaxLagMs the server closes it. A paused client cannot see the FIN until it reads,
  // so read now: a stream the server had kept open would catch up and stay open.
  await new Promise((r) => setTimeout(r, LAG_MS + 500));
  slow.resume();
  await Promise.race([slow.ended, new Promise((_, rej) => setTimeout(() => rej(new Error('slow client was not closed')), 5000))]);
  const produced = cortex.events.read({ tenantId: 'local', afterSeq: from, limit: 10_000 }).map((e) => e.seq);
  // 18 MB through a loaded 2-core machine: generous time, the check is that all of it arrives.
  await fast.waitFor((m) => m.length >= produced.length, 30_000);
  assert.deepEqual(seqs(fast.messages), produced, 'the fast client is unaffected');
  assert.ok(slow.messages.length < produced.length, `the slow client got only a prefix (${slow.messages.length}/${produced.length})`);
  assert.deepEqual(seqs(slow.messages), produced.slice(0, slow.messages.length), 'what it got has no gap');
  const resumed = await openSse(`${url}/api/events/stream`, { 'x-api-key': key, 'last-event-id': String(from) });
  await resumed.waitFor((m) => m.length >= produced.length, 30_000);
  assert.deepEqual(seqs(resumed.messages), produced, 'the cut-off client replays everything');
  fast.close();
  resumed.close();
});

test('streams reject bad resume points and unknown type patterns with problem+json', async () => {
  for (const [path, headers, field] of [
    ['/api/events/stream', { 'last-event-id': 'abc' }, 'header/last-event-id'],
    ['/api/events/stream?types=nope.*', {}, 'query/types'],
    ['/api/events/stream?since=-1', {}, 'query/since'],
  ] as const) {
    const res = await fetch(url + path, { headers: { 'x-api-key': key, ...headers } });
    assert.equal(res.status, 400, path);
    assert.match(res.headers.get('content-type') ?? '', /application\/problem\+json/);
    assert.equal(((await res.json()) as { errors: { field: string }[] }).errors[0]!.field, field);
  }
});

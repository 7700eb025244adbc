/**
 * `Idempotency-Key` on POST: a repeat replays the first response (2xx or 4xx) without doing
 * the work again; a different request under the same key is 422; keys are per API key.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { assertProblem, eventsSince, lastSeq, P, startServer, type Server } from './helpers.js';

let s: Server;
let sessionId: string;
before(async () => {
  s = await startServer();
  sessionId = (await s.api('POST', `${P}/sessions`, { body: { title: 'idem' } })).json.id;
});
after(() => s.close());

const idem = (key: string) => ({ 'idempotency-key': key });

describe('Idempotency-Key', () => {
  test('a repeated message POST replays status and body; only one message and one event exist', async () => {
    const seq = await lastSeq(s.api);
    const body = { content: 'once only', externalUserId: 'idem-user' };
    const first = await s.api('POST', `${P}/sessions/${sessionId}/messages`, { body, headers: idem('msg-1') });
    assert.equal(first.status, 201);
    assert.equal(first.headers.get('idempotent-replayed'), null);
    const second = await s.api('POST', `${P}/sessions/${sessionId}/messages`, { body, headers: idem('msg-1') });
    assert.equal(second.status, 201);
    assert.equal(second.headers.get('idempotent-replayed'), 'true');
    assert.deepEqual(second.json, first.json);
    assert.equal(second.text, first.text, 'byte-identical body');
    assert.match(second.headers.get('content-type') ?? '', /^application\/json/);
    const third = await s.api('POST', `${P}/sessions/${sessionId}/messages`, { body, headers: idem('msg-1') });
    assert.equal(third.json.id, first.json.id);

    const list = (await s.api('GET', `${P}/sessions/${sessionId}/messages?limit=500`)).json.items;
    assert.equal(list.filter((m: { content: string }) => m.content === 'once only').length, 1);
    const events = await eventsSince(s.api, seq);
    assert.deepEqual(events.map((e) => e.type), ['participant.created', 'participant.joined', 'message.created'], 'the replays wrote nothing');
    assert.equal(events[2]!.resourceId, `message:${first.json.id}`);
  });

  test('the record commits with the write: a crash before the response is stored still replays the committed result', async () => {
    const body = { content: 'crash window', externalUserId: 'idem-user' };
    const path = `${P}/sessions/${sessionId}/messages`;
    const first = await s.api('POST', path, { body, headers: idem('msg-crash') });
    assert.equal(first.status, 201);
    // Put the row back the way the commit left it, before onSend completed it (what a kill at that instant leaves).
    const db = s.cortex.db;
    const row = db.prepare('SELECT status_code, response FROM idempotency_keys WHERE key = ?').get('msg-crash') as { status_code: number; response: string };
    assert.equal(row.status_code, 201);
    db.prepare('UPDATE idempotency_keys SET status_code = 0, response = ? WHERE key = ?').run(JSON.stringify(first.json), 'msg-crash');
    const retry = await s.api('POST', path, { body, headers: idem('msg-crash') });
    assert.equal(retry.status, 201);
    assert.equal(retry.headers.get('idempotent-replayed'), 'true');
    assert.deepEqual(retry.json, first.json);
    const list = (await s.api('GET', `${path}?limit=500`)).json.items;
    assert.equal(list.filter((m: { content: string }) => m.content === 'crash window').length, 1);
  });

  test('a repeated session POST creates one session', async () => {
    const seq = await lastSeq(s.api);
    const rs = [];
    for (let i = 0; i < 3; i++) rs.push(await s.api('POST', `${P}/sessions`, { body: { title: 'idem-session' }, headers: idem('sess-1') }));
    assert.deepEqual(rs.map((r) => r.status), [201, 201, 201]);
    assert.equal(new Set(rs.map((r) => r.json.id)).size, 1);
    assert.deepEqual(rs.map((r) => r.headers.get('idempotent-replayed')), [null, 'true', 'true']);
    const sessions = (await s.api('GET', `${P}/sessions?limit=500`)).json.items;
    assert.equal(sessions.filter((x: { title: string }) => x.title === 'idem-session').length, 1);
    const events = await eventsSince(s.api, seq);
    assert.deepEqual(events.map((e) => e.type), ['session.created', 'session.started']);
  });

  test('concurrent repeats: one is created, the others replay it or are told it is in progress', async () => {
    const rs = await Promise.all(Array.from({ length: 8 }, () =>
      s.api('POST', `${P}/sessions/${sessionId}/messages`, { body: { content: 'race' }, headers: idem('race-1') })));
    for (const r of rs) assert.ok(r.status === 201 || r.status === 409, `${r.status} ${r.text}`);
    const created = rs.filter((r) => r.status === 201);
    assert.ok(created.length >= 1);
    assert.equal(new Set(created.map((r) => r.json.id)).size, 1);
    for (const r of rs.filter((x) => x.status === 409)) assert.equal(r.json.code, 'idempotency_in_progress');
    const list = (await s.api('GET', `${P}/sessions/${sessionId}/messages?limit=500`)).json.items;
    assert.equal(list.filter((m: { content: string }) => m.content === 'race').length, 1);
  });

  test('the same key with a different body (or path) → 422, and nothing is created', async () => {
    const seq = await lastSeq(s.api);
    const first = await s.api('POST', `${P}/sessions/${sessionId}/messages`, { body: { content: 'a' }, headers: idem('mismatch') });
    assert.equal(first.status, 201);
    const other = await s.api('POST', `${P}/sessions/${sessionId}/messages`, { body: { content: 'b' }, headers: idem('mismatch') });
    assertProblem(other, 422, 'header/idempotency-key');
    assert.equal(other.json.code, 'idempotency_mismatch');
    const otherPath = await s.api('POST', `${P}/sessions`, { body: { content: 'a' }, headers: idem('mismatch') });
    assert.ok(otherPath.status === 422 || otherPath.status === 400, `${otherPath.status}`);
    const sameBodyOtherPath = await s.api('POST', `${P}/gatherings`, { body: { name: 'x' }, headers: idem('mismatch') });
    assertProblem(sameBodyOtherPath, 422, 'header/idempotency-key');
    assert.equal((await eventsSince(s.api, seq)).filter((e) => e.type === 'message.created').length, 1);
    assert.equal((await eventsSince(s.api, seq)).filter((e) => e.type === 'gathering.created').length, 0);
  });

  test('a 4xx first response is replayed too, even once the request would now succeed', async () => {
    const sid = (await s.api('POST', `${P}/sessions`, { body: {} })).json.id;
    assert.equal((await s.api('POST', `${P}/sessions/${sid}/stop`)).status, 200);
    const first = await s.api('POST', `${P}/sessions/${sid}/messages`, { body: { content: 'late' }, headers: idem('ended-1') });
    assertProblem(first, 409);
    assert.equal((await s.api('POST', `${P}/sessions/${sid}/start`)).status, 200);
    const replay = await s.api('POST', `${P}/sessions/${sid}/messages`, { body: { content: 'late' }, headers: idem('ended-1') });
    assertProblem(replay, 409);
    assert.equal(replay.headers.get('idempotent-replayed'), 'true');
    assert.deepEqual(replay.json, first.json);
    assert.equal((await s.api('GET', `${P}/sessions/${sid}/messages`)).json.items.length, 0);
    // A 404 is replayed as well.
    const missing = `${P}/sessions/01900000-0000-7000-8000-000000000000/messages`;
    const m1 = await s.api('POST', missing, { body: { content: 'x' }, headers: idem('missing-1') });
    const m2 = await s.api('POST', missing, { body: { content: 'x' }, headers: idem('missing-1') });
    assertProblem(m1, 404);
    assertProblem(m2, 404);
    assert.equal(m2.headers.get('idempotent-replayed'), 'true');
    // Without the key, the now-valid request goes through.
    assert.equal((await s.api('POST', `${P}/sessions/${sid}/messages`, { body: { content: 'late' } })).status, 201);
  });

  test('keys are per API key: another key with the same Idempotency-Key creates a new resource', async () => {
    const k2 = s.cortex.domain.tenancy.createKey('local', { name: 'second', scopes: ['messages'], projectId: null }).key;
    const body = { content: 'per key' };
    const a = await s.api('POST', `${P}/sessions/${sessionId}/messages`, { body, headers: idem('shared') });
    const b = await s.api('POST', `${P}/sessions/${sessionId}/messages`, { key: k2, body, headers: idem('shared') });
    assert.equal(a.status, 201);
    assert.equal(b.status, 201);
    assert.notEqual(a.json.id, b.json.id);
    assert.equal(b.headers.get('idempotent-replayed'), null);
    const b2 = await s.api('POST', `${P}/sessions/${sessionId}/messages`, { key: k2, body, headers: idem('shared') });
    assert.equal(b2.json.id, b.json.id);
    assert.equal(b2.headers.get('idempotent-replayed'), 'true');
    const list = (await s.api('GET', `${P}/sessions/${sessionId}/messages?limit=500`)).json.items;
    assert.equal(list.filter((m: { content: string }) => m.content === 'per key').length, 2);
  });

  test('the header is ignored on non-POST methods and POSTs without it are never deduplicated', async () => {
    const p1 = await s.api('PATCH', `${P}/sessions/${sessionId}`, { body: { title: 't1' }, headers: idem('patch-1') });
    const p2 = await s.api('PATCH', `${P}/sessions/${sessionId}`, { body: { title: 't2' }, headers: idem('patch-1') });
    assert.equal(p1.json.title, 't1');
    assert.equal(p2.json.title, 't2');
    assert.equal(p2.headers.get('idempotent-replayed'), null);
    const n1 = await s.api('POST', `${P}/sessions`, { body: { title: 'nokey' } });
    const n2 = await s.api('POST', `${P}/sessions`, { body: { title: 'nokey' } });
    assert.notEqual(n1.json.id, n2.json.id);
  });
});

/**
 * Participant search (`q`), a participant's history across sessions, and a revoke reason —
 * what the console's Participants and Sanctions views read and write.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { assertProblem, P, startServer, type J, type Server } from './helpers.js';

let s: Server;
before(async () => {
  s = await startServer();
});
after(() => s.close());

async function ok(method: string, path: string, body?: unknown, status = 200): Promise<J> {
  const r = await s.api(method, path, { body });
  assert.equal(r.status, status, `${method} ${path}: ${r.text}`);
  return r.json;
}

test('GET /participants?q= matches a case-insensitive substring of externalUserId or displayName', async () => {
  const a = await ok('POST', `${P}/participants`, { externalUserId: 'steam:Alpha_100', displayName: 'Wolf Rider' }, 201);
  const b = await ok('POST', `${P}/participants`, { externalUserId: 'steam:beta-200', displayName: 'Quiet 100%' }, 201);
  await ok('POST', `${P}/participants`, { externalUserId: 'xbox:gamma' }, 201);

  const ids = async (q: string) => (await ok('GET', `${P}/participants?q=${encodeURIComponent(q)}`)).items.map((p: J) => p.id);
  assert.deepEqual(await ids('ALPHA'), [a.id]);
  assert.deepEqual(await ids('wolf r'), [a.id]);
  assert.deepEqual((await ids('steam:')).sort(), [a.id, b.id].sort());
  // LIKE wildcards are literal: `%` only matches a `%`, `_` only an `_`.
  assert.deepEqual(await ids('100%'), [b.id]);
  assert.deepEqual(await ids('a_1'), [a.id]);
  assert.deepEqual(await ids('nobody'), []);
  // Without q: all of them; paging still works with q.
  assert.equal((await ok('GET', `${P}/participants`)).items.length, 3);
  const page = await ok('GET', `${P}/participants?q=steam&limit=1`);
  assert.equal(page.items.length, 1);
  const next = await ok('GET', `${P}/participants?q=steam&limit=1&cursor=${page.nextCursor}`);
  assert.equal(next.items.length, 1);
  assert.notEqual(next.items[0].id, page.items[0].id);
  assertProblem(await s.api('GET', `${P}/participants?q=`), 400, 'query/q');
});

test('GET /participants/{id}/sessions: sessions joined, newest first, with recent messages and annotations', async () => {
  const p = await ok('POST', `${P}/participants`, { externalUserId: 'history-user', displayName: 'Historian' }, 201);
  const s1 = await ok('POST', `${P}/sessions`, { title: 'First' }, 201);
  const s2 = await ok('POST', `${P}/sessions`, { title: 'Second' }, 201);
  const m1 = await ok('POST', `${P}/sessions/${s1.id}/messages`, { content: 'one', participantId: p.id }, 201);
  await ok('POST', `${P}/sessions/${s1.id}/messages`, { content: 'two', participantId: p.id }, 201);
  await ok('POST', `${P}/sessions/${s1.id}/messages`, { content: 'someone else', externalUserId: 'other' }, 201);
  await ok('POST', `${P}/sessions/${s2.id}/messages`, { content: 'three', participantId: p.id }, 201);
  await ok('POST', `${P}/sessions/${s1.id}/messages/${m1.id}/annotations`, { type: 'toxicity', score: 0.8, severity: 'medium' }, 201);

  const h = await ok('GET', `${P}/participants/${p.id}/sessions`);
  assert.deepEqual(h.items.map((i: J) => i.session.id), [s2.id, s1.id]);
  const [second, first] = h.items;
  assert.equal(second.messageCount, 1);
  assert.equal(first.messageCount, 2);
  assert.equal(first.session.title, 'First');
  assert.equal(first.leftAt, null);
  assert.ok(first.joinedAt);
  assert.deepEqual(first.recentMessages.map((m: J) => m.content), ['two', 'one']);
  assert.equal(first.recentMessages[1].annotations[0].type, 'toxicity');

  const limited = await ok('GET', `${P}/participants/${p.id}/sessions?limit=1&messages=1`);
  assert.equal(limited.items.length, 1);
  assert.deepEqual(limited.items[0].recentMessages.map((m: J) => m.content), ['three']);
  const none = await ok('GET', `${P}/participants/${p.id}/sessions?messages=0`);
  assert.deepEqual(none.items[0].recentMessages, []);

  assertProblem(await s.api('GET', `${P}/participants/0192aaaa-0000-7000-8000-000000000000/sessions`), 404, 'params/participantId');
});

test('POST /sanctions/{id}/revoke keeps a reason in metadata.revokeReason; without one metadata is untouched', async () => {
  const a = await ok('POST', `${P}/sanctions`, { type: 'mute', externalUserId: 'revoke-me', durationSeconds: 600, metadata: { src: 'test' } }, 201);
  const revoked = await ok('POST', `${P}/sanctions/${a.id}/revoke`, { reason: 'appeal accepted' });
  assert.equal(revoked.status, 'revoked');
  assert.deepEqual(revoked.metadata, { src: 'test', revokeReason: 'appeal accepted' });
  assert.deepEqual((await ok('GET', `${P}/sanctions/${a.id}`)).metadata, { src: 'test', revokeReason: 'appeal accepted' });

  const b = await ok('POST', `${P}/sanctions`, { type: 'warn', externalUserId: 'revoke-me' }, 201);
  const plain = await ok('POST', `${P}/sanctions/${b.id}/revoke`);
  assert.equal(plain.status, 'revoked');
  assert.equal(plain.metadata, null);
});

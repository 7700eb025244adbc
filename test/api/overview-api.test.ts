/**
 * The API behind the console's overview and settings: the project-wide annotation list
 * (`GET …/annotations?since=&minScore=`) and the read-only server settings (`GET /api/settings`).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { assertProblem, P, startServer, type J, type Server } from './helpers.js';

let s: Server;
before(async () => {
  s = await startServer({ evidenceRetentionDays: 3 });
});
after(() => s.close());

async function ok(method: string, path: string, body?: unknown): Promise<J> {
  const r = await s.api(method, path, { body });
  assert.ok(r.status >= 200 && r.status < 300, `${method} ${path}: ${r.status} ${r.text}`);
  return r.json;
}

test('annotations: project-wide, newest first, filtered by time, score, type and target; paged; scoped', async () => {
  const before = new Date().toISOString();
  const a = await ok('POST', `${P}/sessions`, { title: 'A' });
  const b = await ok('POST', `${P}/sessions`, { title: 'B' });
  const m1 = await ok('POST', `${P}/sessions/${a.id}/messages`, { content: 'one', externalUserId: 'u1' });
  const m2 = await ok('POST', `${P}/sessions/${b.id}/messages`, { content: 'two', externalUserId: 'u2' });
  const low = await ok('POST', `${P}/sessions/${a.id}/messages/${m1.id}/annotations`, { type: 'toxicity', score: 0.2 });
  const high = await ok('POST', `${P}/sessions/${b.id}/messages/${m2.id}/annotations`, { type: 'toxicity', score: 0.9, severity: 'high' });
  const kw = await ok('POST', `${P}/sessions/${a.id}/messages/${m1.id}/annotations`, { type: 'keyword', score: 1 });
  const sess = await ok('POST', `${P}/sessions/${a.id}/annotations`, { type: 'summary' });

  const all = await ok('GET', `${P}/annotations?since=${encodeURIComponent(before)}`);
  assert.deepEqual(all.items.map((x: J) => x.id), [sess.id, kw.id, high.id, low.id]);
  assert.equal(all.nextCursor, null);
  assert.equal(all.items[1].sessionId, a.id);
  assert.equal(all.items[1].participantId, m1.participantId);

  const flagged = await ok('GET', `${P}/annotations?since=${encodeURIComponent(before)}&minScore=0.5&targetType=message`);
  assert.deepEqual(flagged.items.map((x: J) => x.id), [kw.id, high.id]);
  const tox = await ok('GET', `${P}/annotations?type=toxicity`);
  assert.deepEqual(tox.items.map((x: J) => x.id), [high.id, low.id]);

  // Nothing from the future; pages follow the cursor.
  assert.deepEqual((await ok('GET', `${P}/annotations?since=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`)).items, []);
  const p1 = await ok('GET', `${P}/annotations?limit=3`);
  assert.equal(p1.items.length, 3);
  const p2 = await ok('GET', `${P}/annotations?limit=3&cursor=${p1.nextCursor}`);
  assert.deepEqual([...p1.items, ...p2.items].map((x: J) => x.id), [sess.id, kw.id, high.id, low.id]);

  // Another project sees none of them; bad queries are 400s naming the field.
  await ok('POST', '/api/projects', { id: 'other', name: 'Other' });
  assert.deepEqual((await ok('GET', '/api/projects/other/annotations')).items, []);
  assertProblem(await s.api('GET', `${P}/annotations?since=yesterday`), 400, 'query/since');
  assertProblem(await s.api('GET', `${P}/annotations?minScore=2`), 400, 'query/minScore');
  assertProblem(await s.api('GET', `${P}/annotations?cursor=nope`), 400, 'query/cursor');

  // Scope `messages`.
  const key = await ok('POST', '/api/keys', { name: 'sessions only', scopes: ['sessions'] });
  assertProblem(await s.api('GET', `${P}/annotations`, { key: key.key }), 403);
});

test('settings: the server configuration, read-only, for admin keys', async () => {
  const settings = await ok('GET', '/api/settings');
  const port = Number(new URL(s.url).port);
  assert.equal(settings.dataDir, s.dataDir);
  assert.equal(settings.port, port);
  assert.equal(settings.baseUrl, `http://127.0.0.1:${port}`);
  assert.equal(settings.evidenceRetentionDays, 3);
  assert.equal(settings.host, '127.0.0.1');
  assert.equal(settings.allowRemote, false);
  assert.equal(settings.transcriptionEngine, 'whisper');
  assert.equal(typeof settings.version, 'string');
  assert.ok(Array.isArray(settings.webhookRetryScheduleMs));

  const key = await ok('POST', '/api/keys', { name: 'models only', scopes: ['models'] });
  assertProblem(await s.api('GET', '/api/settings', { key: key.key }), 403);
  assertProblem(await s.api('GET', '/api/settings', { key: null }), 401);
  assert.equal((await s.api('PATCH', '/api/settings', { body: { port: 1 } })).status, 404);

  const openapi = await ok('GET', '/api/openapi.json');
  assert.ok(openapi.paths['/api/settings']);
  assert.ok(openapi.paths['/api/projects/{projectId}/annotations']);
});

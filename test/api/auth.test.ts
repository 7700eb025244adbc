/**
 * Authentication and the scope matrix against a real listening server: 401 / 403 / 404
 * ordering, both key header forms, revocation, project-bound keys, key issuing limits, and
 * that no plaintext key ever reaches the database file.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Scope } from '../../common/schemas.js';
import { assertProblem, P, startServer, type Server } from './helpers.js';

let s: Server;
let sessionId: string;

before(async () => {
  s = await startServer();
  const r = await s.api('POST', `${P}/sessions`, { body: { title: 'auth' } });
  assert.equal(r.status, 201);
  sessionId = r.json.id;
});
after(() => s.close());

const mkKey = (scopes: Scope[], projectId: string | null = null) =>
  s.cortex.domain.tenancy.createKey('local', { name: `k-${scopes.join('+')}`, scopes, projectId }).key;

/** One read per scope-guarded route family. */
const FAMILIES: { scope: Scope; path: () => string }[] = [
  { scope: 'sessions', path: () => `${P}/sessions` },
  { scope: 'participants', path: () => `${P}/participants` },
  { scope: 'messages', path: () => `${P}/sessions/${sessionId}/messages` },
  { scope: 'sanctions', path: () => `${P}/sanctions` },
  { scope: 'gatherings', path: () => `${P}/gatherings` },
  { scope: 'events', path: () => '/api/events' },
  { scope: 'keys', path: () => '/api/keys' },
  { scope: 'projects', path: () => '/api/projects' },
  { scope: 'topics', path: () => '/api/topics' },
];
const ALL: Scope[] = FAMILIES.map((f) => f.scope);

describe('authentication', () => {
  test('missing key → 401 problem+json', async () => {
    for (const path of [`${P}/sessions`, '/api/keys', '/api/events', `${P}/sessions/${sessionId}`]) {
      assertProblem(await s.api('GET', path, { key: null }), 401, undefined, path);
    }
    // Even with a body that would fail validation: auth comes first.
    assertProblem(await s.api('POST', `${P}/sessions`, { key: null, body: { bogus: true } }), 401);
  });

  test('unknown, malformed and empty keys → 401', async () => {
    for (const key of ['ctx_' + 'A'.repeat(43), 'not-a-key', 'ctx_', 'x'.repeat(5000)]) {
      const r = await s.api('GET', `${P}/sessions`, { key });
      assertProblem(r, 401, undefined, key.slice(0, 20));
      assert.equal(r.json.code, 'unauthorized');
    }
    assertProblem(await s.api('GET', `${P}/sessions`, { key: null, headers: { authorization: 'Bearer ' + s.key } }), 401, undefined, 'Bearer scheme');
    assertProblem(await s.api('GET', `${P}/sessions`, { key: null, headers: { authorization: 'ApiKey' } }), 401, undefined, 'scheme only');
  });

  test('both header forms work: X-API-Key and Authorization: ApiKey', async () => {
    const key = mkKey(['sessions']);
    assert.equal((await s.api('GET', `${P}/sessions`, { key })).status, 200);
    assert.equal((await s.api('GET', `${P}/sessions`, { key: null, headers: { authorization: `ApiKey ${key}` } })).status, 200);
    assert.equal((await s.api('GET', `${P}/sessions`, { key: null, headers: { authorization: `apikey ${key}` } })).status, 200, 'scheme is case-insensitive');
    // The in-memory console key works in both forms too.
    assert.equal((await s.api('GET', `${P}/sessions`, { key: null, headers: { authorization: `ApiKey ${s.key}` } })).status, 200);
  });

  test('a revoked key (DELETE /api/keys/{id}) → 401 afterwards; revoking twice → 409', async () => {
    const created = await s.api('POST', '/api/keys', { body: { name: 'to-revoke', scopes: ['sessions'] } });
    assert.equal(created.status, 201);
    const { id, key } = created.json;
    assert.match(key, /^ctx_/);
    assert.equal((await s.api('GET', `${P}/sessions`, { key })).status, 200, 'works before revocation (and is now cached)');
    const del = await s.api('DELETE', `/api/keys/${id}`);
    assert.equal(del.status, 200);
    assert.ok(del.json.revokedAt, 'revokedAt is set');
    assert.equal(del.json.key, undefined, 'the plaintext is never shown again');
    assertProblem(await s.api('GET', `${P}/sessions`, { key }), 401);
    assertProblem(await s.api('GET', `${P}/sessions`, { key: null, headers: { authorization: `ApiKey ${key}` } }), 401);
    assertProblem(await s.api('DELETE', `/api/keys/${id}`), 409);
    const listed = (await s.api('GET', '/api/keys')).json.items.find((k: { id: string }) => k.id === id);
    assert.ok(listed?.revokedAt);
  });

  test('/api/health and /api/openapi.json need no key', async () => {
    const h = await s.api('GET', '/api/health', { key: null });
    assert.equal(h.status, 200);
    assert.equal(h.json.status, 'ok');
    const o = await s.api('GET', '/api/openapi.json', { key: null });
    assert.equal(o.status, 200);
    assert.equal(o.json.openapi, '3.1.0');
    assert.ok(Object.keys(o.json.paths).length > 20);
    // A bad key on a public route is ignored, not rejected.
    assert.equal((await s.api('GET', '/api/health', { key: 'ctx_bogus' })).status, 200);
  });
});

describe('scopes', () => {
  test('for every route family: a key lacking the scope → 403, a key with only it → 2xx', async () => {
    for (const f of FAMILIES) {
      const without = mkKey(ALL.filter((x) => x !== f.scope));
      const r = await s.api('GET', f.path(), { key: without });
      assertProblem(r, 403, undefined, `${f.scope} without`);
      assert.equal(r.json.code, 'forbidden');
      assert.match(r.json.detail, new RegExp(f.scope));
      const only = mkKey([f.scope]);
      const ok = await s.api('GET', f.path(), { key: only });
      assert.equal(ok.status, 200, `${f.scope} with: ${ok.text}`);
    }
  });

  test('writes are guarded too, and scope is checked before body validation', async () => {
    const noSessions = mkKey(['messages', 'participants']);
    assertProblem(await s.api('POST', `${P}/sessions`, { key: noSessions, body: { bogus: 1 } }), 403);
    assertProblem(await s.api('DELETE', `${P}/sessions/${sessionId}`, { key: noSessions }), 403);
    const noMessages = mkKey(['sessions']);
    assertProblem(await s.api('POST', `${P}/sessions/${sessionId}/messages`, { key: noMessages, body: { content: 'x' } }), 403);
    assertProblem(await s.api('POST', `${P}/sessions/${sessionId}/annotations`, { key: noMessages, body: { type: 'x' } }), 403);
    const noSanctions = mkKey(['participants']);
    assertProblem(await s.api('POST', `${P}/sanctions`, { key: noSanctions, body: { type: 'warn', externalUserId: 'u' } }), 403);
    const noGatherings = mkKey(['sessions']);
    assertProblem(await s.api('POST', `${P}/gatherings`, { key: noGatherings, body: { name: 'g' } }), 403);
    const noEvents = mkKey(['sessions']);
    assertProblem(await s.api('GET', '/api/events/stream', { key: noEvents }), 403);
    assertProblem(await s.api('GET', `${P}/events/stream`, { key: noEvents }), 403);
    const noProjects = mkKey(['keys']);
    assertProblem(await s.api('POST', '/api/projects', { key: noProjects, body: { name: 'x' } }), 403);
    // … and with the scope the same writes succeed.
    assert.equal((await s.api('POST', `${P}/sessions/${sessionId}/messages`, { key: mkKey(['messages']), body: { content: 'x' } })).status, 201);
    assert.equal((await s.api('POST', `${P}/gatherings`, { key: mkKey(['gatherings']), body: { name: 'g' } })).status, 201);
  });

  test('admin implies every scope', async () => {
    const admin = mkKey(['admin']);
    for (const f of FAMILIES) {
      const r = await s.api('GET', f.path(), { key: admin });
      assert.equal(r.status, 200, `${f.scope}: ${r.text}`);
    }
    assert.equal((await s.api('POST', `${P}/sanctions`, { key: admin, body: { type: 'warn', externalUserId: 'adm' } })).status, 201);
  });

  test('a key bound to project `default` gets 404 on another project of its tenant', async () => {
    s.cortex.domain.tenancy.createProject('local', { id: 'second', name: 'Second' });
    const bound = mkKey(['admin'], 'default');
    assert.equal((await s.api('GET', `${P}/sessions`, { key: bound })).status, 200);
    for (const path of ['/api/projects/second', '/api/projects/second/sessions', '/api/projects/second/gatherings', '/api/projects/second/events/stream']) {
      const r = await s.api('GET', path, { key: bound });
      assertProblem(r, 404, 'params/projectId', path);
    }
    // The 404 is the same as for a project that does not exist at all.
    assertProblem(await s.api('GET', '/api/projects/nope/sessions', { key: bound }), 404, 'params/projectId');
    const projects = (await s.api('GET', '/api/projects', { key: bound })).json.items.map((p: { id: string }) => p.id);
    assert.deepEqual(projects, ['default']);
    // A tenant-wide key sees both.
    assert.equal((await s.api('GET', '/api/projects/second/sessions', { key: mkKey(['sessions']) })).status, 200);
    // A project-bound key cannot create projects, nor issue keys for another project.
    assertProblem(await s.api('POST', '/api/projects', { key: bound, body: { name: 'x' } }), 403);
    assertProblem(await s.api('POST', '/api/keys', { key: bound, body: { name: 'x', scopes: ['sessions'], projectId: 'second' } }), 403, 'body/projectId');
    const issued = await s.api('POST', '/api/keys', { key: bound, body: { name: 'x', scopes: ['sessions'] } });
    assert.equal(issued.status, 201);
    assert.equal(issued.json.projectId, 'default', 'inherits the issuer\'s project');
  });

  test('a key cannot issue a key with scopes it lacks (403, field body/scopes)', async () => {
    const limited = mkKey(['keys', 'sessions']);
    for (const scopes of [['messages'], ['sessions', 'events'], ['admin']]) {
      const r = await s.api('POST', '/api/keys', { key: limited, body: { name: 'esc', scopes } });
      assertProblem(r, 403, 'body/scopes', scopes.join());
    }
    const ok = await s.api('POST', '/api/keys', { key: limited, body: { name: 'ok', scopes: ['sessions', 'keys'] } });
    assert.equal(ok.status, 201);
    assert.deepEqual(ok.json.scopes, ['sessions', 'keys']);
    // The new key really has exactly those scopes.
    assert.equal((await s.api('GET', `${P}/sessions`, { key: ok.json.key })).status, 200);
    assertProblem(await s.api('GET', `${P}/sanctions`, { key: ok.json.key }), 403);
  });
});

describe('key storage', () => {
  test('API keys are stored only as sha256 hashes, never in plaintext', async () => {
    const viaRest = await s.api('POST', '/api/keys', { body: { name: 'stored', scopes: ['sessions'] } });
    assert.equal(viaRest.status, 201);
    const plain: string[] = [viaRest.json.key, mkKey(['events'])];
    const dbPath = join(s.dataDir, 'cortex.db');
    // The server holds the database exclusively, so read it through the server's own connection.
    const db = s.cortex.db;
    {
      const rows = db.prepare('SELECT * FROM api_keys').all() as Record<string, unknown>[];
      assert.ok(rows.length >= 2);
      const dump = JSON.stringify(rows);
      for (const key of plain) {
        assert.ok(!dump.includes(key), 'plaintext key found in api_keys');
        const hash = createHash('sha256').update(key).digest('hex');
        const row = rows.find((r) => r.hash === hash);
        assert.ok(row, 'the sha256 hash is stored');
        assert.equal(row.prefix, key.slice(0, 10));
      }
    }
    // Nor anywhere else in the database files (main file and WAL).
    for (const file of [dbPath, `${dbPath}-wal`]) {
      if (!existsSync(file)) continue;
      const bytes = readFileSync(file);
      for (const key of plain) assert.equal(bytes.indexOf(key), -1, `plaintext key found in ${file}`);
    }
  });

  test('issuing a key refuses an Idempotency-Key: its response holds a secret that is never stored', async () => {
    const keysBefore = (await s.api('GET', '/api/keys')).json.items.length;
    const r = await s.api('POST', '/api/keys', { body: { name: 'idem', scopes: ['sessions'] }, headers: { 'idempotency-key': 'key-issue-1' } });
    assertProblem(r, 400, 'header/idempotency-key');
    assert.equal((await s.api('GET', '/api/keys')).json.items.length, keysBefore, 'no key was issued');
    assert.equal(s.cortex.db.prepare("SELECT count(*) FROM idempotency_keys WHERE key = 'key-issue-1'").pluck().get(), 0);
  });
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { DatabaseInUseError, FutureSchemaError, openDatabase, schemaVersion } from '../../main/store/db.js';
import { MIGRATIONS } from '../../main/store/migrations/index.js';

const tmp = () => join(mkdtempSync(join(tmpdir(), 'cx-store-')), 'cortex.db');
const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

test('a fresh database is migrated to the latest version with WAL and foreign keys on', () => {
  const db = openDatabase(tmp());
  assert.equal(schemaVersion(db), MIGRATIONS.length);
  assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
  assert.equal(db.pragma('foreign_keys', { simple: true }), 1);
  assert.equal(db.pragma('busy_timeout', { simple: true }), 5000);
  const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all() as string[];
  for (const t of ['tenants', 'projects', 'api_keys', 'participants', 'sessions', 'session_participants', 'messages', 'annotations', 'sanctions', 'gatherings', 'gathering_members', 'events']) {
    assert.ok(tables.includes(t), `table ${t}`);
    const cols = db.prepare(`SELECT name FROM pragma_table_xinfo(?)`).pluck().all(t) as string[];
    assert.ok(cols.includes('tenant_id'), `${t} carries tenant_id`);
  }
  db.close();
});

test('an old database is migrated forward in place, keeping its rows', () => {
  const path = tmp();
  openDatabase(path).close(); // the current version
  const v1 = new Database(path);
  v1.prepare("INSERT INTO tenants (id, name, created_at) VALUES ('t', 'T', '2026-01-01T00:00:00.000Z')").run();
  v1.close();
  const next = [...MIGRATIONS, { name: '9999-test', sql: 'ALTER TABLE tenants ADD COLUMN plan TEXT NOT NULL DEFAULT \'free\';' }];
  const db = openDatabase(path, next);
  assert.equal(schemaVersion(db), MIGRATIONS.length + 1);
  assert.deepEqual(db.prepare('SELECT id, plan FROM tenants').all(), [{ id: 't', plan: 'free' }]);
  db.close();
});

test('a failing migration rolls back entirely and leaves the version unchanged', () => {
  const path = tmp();
  openDatabase(path).close();
  const broken = [...MIGRATIONS, { name: '9999-broken', sql: 'CREATE TABLE half_done (x INTEGER); INSERT INTO no_such_table VALUES (1);' }];
  assert.throws(() => openDatabase(path, broken), /no such table/);
  const db = new Database(path);
  assert.equal(db.pragma('user_version', { simple: true }), MIGRATIONS.length);
  assert.equal(db.prepare("SELECT count(*) FROM sqlite_master WHERE name = 'half_done'").pluck().get(), 0);
  db.close();
});

test('a database written by a newer version is refused and not modified', () => {
  const path = tmp();
  const future = new Database(path);
  future.pragma('user_version = 99');
  future.exec('CREATE TABLE from_the_future (x)');
  future.close();
  const before = sha(path);
  assert.throws(() => openDatabase(path), (err: unknown) => {
    assert.ok(err instanceof FutureSchemaError);
    assert.match(err.message, /newer Cortex Console \(schema version 99/);
    assert.match(err.message, /not modified/);
    return true;
  });
  assert.equal(sha(path), before);
  assert.equal(existsSync(path + '-wal'), false, 'no WAL file was created');
});

test('hot queries use their indexes', () => {
  const db = openDatabase(tmp());
  const plan = (sql: string) => (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...Array<null>((sql.match(/\?/g) ?? []).length).fill(null)) as { detail: string }[]).map((r) => r.detail).join(' | ');
  assert.match(plan('SELECT * FROM events WHERE tenant_id = ? AND seq > ? ORDER BY seq LIMIT 10'), /USING (COVERING )?INDEX events_tenant/);
  assert.match(plan('SELECT * FROM events WHERE project_id = ? AND tenant_id = ? AND seq > ? ORDER BY seq LIMIT 10'), /USING INDEX events_project/);
  assert.match(plan('SELECT * FROM messages WHERE session_id = ? AND tenant_id = ? AND id > ? ORDER BY id LIMIT 10'), /USING INDEX messages_session/);
  assert.match(plan('SELECT * FROM sessions WHERE project_id = ? AND tenant_id = ? AND id < ? ORDER BY id DESC LIMIT 10'), /USING INDEX sessions_project/);
  assert.match(plan('SELECT * FROM participants WHERE external_user_id = ? AND project_id = ? AND tenant_id = ?'), /USING INDEX sqlite_autoindex_participants|USING INDEX participants/);
  assert.match(plan('SELECT * FROM api_keys WHERE hash = ?'), /USING INDEX sqlite_autoindex_api_keys/);
  const plans = plan('SELECT * FROM sanctions WHERE expiry_emitted = 0 AND revoked_at IS NULL AND end_at IS NOT NULL AND end_at <= ? LIMIT 500');
  assert.match(plans, /sanctions_pending_expiry/);
  // The outbox claim: due rows of one subscription in (run_at, id) order, straight from the partial index, no sort.
  const claim = plan(`SELECT id FROM webhook_deliveries WHERE webhook_id = ? AND status = 'pending' AND run_at <= ? AND (locked_at IS NULL OR locked_at < ?) ORDER BY run_at, id LIMIT 8`);
  assert.match(claim, /USING INDEX webhook_deliveries_due/);
  assert.doesNotMatch(claim, /TEMP B-TREE/);
  db.close();
});

test('one process owns a database: a second opener is refused with a clear error', () => {
  const path = tmp();
  const owner = openDatabase(path);
  assert.throws(() => openDatabase(path), (err: unknown) => err instanceof DatabaseInUseError && /in use by another Cortex Console process/.test(err.message));
  owner.close();
  openDatabase(path).close(); // free again once the owner closes
});

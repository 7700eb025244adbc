import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { SecretStore } from '../../main/core/secrets.js';
import { openDatabase } from '../../main/store/db.js';

const dir = mkdtempSync('/tmp/cx-secrets-');
after(() => rmSync(dir, { recursive: true, force: true }));

test('secrets are encrypted at rest, bound to their name, and the key file is private', () => {
  const db = openDatabase(join(dir, 'cortex.db'));
  const store = new SecretStore(db, dir);
  store.set('odin-access-key:t:p', 'AQ-super-secret-key');
  assert.equal(store.get('odin-access-key:t:p'), 'AQ-super-secret-key');
  assert.ok(store.has('odin-access-key:t:p'));
  assert.equal(store.get('missing'), null);
  const raw = db.prepare('SELECT value FROM secrets').get() as { value: Buffer };
  assert.ok(!raw.value.toString('latin1').includes('super-secret'), 'no plaintext in the database');
  db.pragma('wal_checkpoint(TRUNCATE)');
  assert.ok(!readFileSync(join(dir, 'cortex.db')).toString('latin1').includes('super-secret'));
  assert.equal(statSync(join(dir, 'secret.key')).mode & 0o777, 0o600);
  // A value copied under another name does not decrypt (the name is authenticated).
  db.prepare('INSERT INTO secrets (name, value, updated_at) VALUES (?, ?, ?)').run('other', raw.value, 'x');
  assert.throws(() => store.get('other'));
  // Reopened with the same key file: still readable. Removing: gone.
  const again = new SecretStore(db, dir);
  assert.equal(again.get('odin-access-key:t:p'), 'AQ-super-secret-key');
  again.set('odin-access-key:t:p', null);
  assert.equal(again.has('odin-access-key:t:p'), false);
  db.close();
});

/**
 * Secrets at rest (e.g. ODIN access keys): AES-256-GCM, each value with its own IV, in the
 * `secrets` table; the key is `<dataDir>/secret.key` (32 random bytes, mode 0600, created
 * once). A copy of the database alone reveals nothing. Values are never logged or returned
 * by the API, only whether one is set.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Db } from '../store/db.js';
import { nowIso } from '../store/ids.js';

function loadKey(dataDir: string): Buffer {
  const path = join(dataDir, 'secret.key');
  if (!existsSync(path)) writeFileSync(path, randomBytes(32), { mode: 0o600, flag: 'wx' });
  chmodSync(path, 0o600);
  const key = readFileSync(path);
  if (key.length !== 32) throw new Error(`${path} is not a 32-byte key; restore it from a backup (without it, stored secrets cannot be read)`);
  return key;
}

export class SecretStore {
  private readonly key: Buffer;
  private readonly getStmt;
  private readonly putStmt;
  private readonly delStmt;

  constructor(db: Db, dataDir: string) {
    this.key = loadKey(dataDir);
    this.getStmt = db.prepare<[string], { value: Buffer }>('SELECT value FROM secrets WHERE name = ?');
    this.putStmt = db.prepare('INSERT INTO secrets (name, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at');
    this.delStmt = db.prepare('DELETE FROM secrets WHERE name = ?');
  }

  set(name: string, value: string | null): void {
    if (value === null) {
      this.delStmt.run(name);
      return;
    }
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    // The name is authenticated too: a value copied under another name does not decrypt.
    cipher.setAAD(Buffer.from(name, 'utf8'));
    const data = Buffer.concat([cipher.update(value, 'utf8'), cipher.final()]);
    this.putStmt.run(name, Buffer.concat([iv, cipher.getAuthTag(), data]), nowIso());
  }

  get(name: string): string | null {
    const row = this.getStmt.get(name);
    if (!row) return null;
    const b = row.value;
    const decipher = createDecipheriv('aes-256-gcm', this.key, b.subarray(0, 12));
    decipher.setAAD(Buffer.from(name, 'utf8'));
    decipher.setAuthTag(b.subarray(12, 28));
    return Buffer.concat([decipher.update(b.subarray(28)), decipher.final()]).toString('utf8');
  }

  has(name: string): boolean {
    return this.getStmt.get(name) !== undefined;
  }
}

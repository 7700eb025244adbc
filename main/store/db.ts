import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { MIGRATIONS } from './migrations/index.js';

export type Db = Database.Database;

export class FutureSchemaError extends Error {
  constructor(readonly found: number, readonly supported: number, path: string) {
    super(
      `${path} was written by a newer Cortex Console (schema version ${found}; this version understands up to ${supported}). ` +
        'Upgrade the app, or point --data-dir elsewhere. The database was not modified.',
    );
    this.name = 'FutureSchemaError';
  }
}

export class DatabaseInUseError extends Error {
  constructor(path: string) {
    super(`${path} is in use by another Cortex Console process (one process owns a data dir; stop it or use another --data-dir)`);
    this.name = 'DatabaseInUseError';
  }
}

/**
 * Opens (creating if needed) the database and migrates it to the latest schema. A database
 * from a newer version is refused before anything is written to it.
 */
export function openDatabase(path: string, migrations = MIGRATIONS): Db {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  try {
    // One process owns the database (the app hosts everything that touches it), so it holds
    // the lock for its lifetime: no per-transaction lock syscalls and no shared-memory index,
    // which halves the cost of every statement, and a second process is refused up front.
    db.pragma('locking_mode = EXCLUSIVE');
    db.pragma('busy_timeout = 200');
    // Check the version before any pragma that could write (journal_mode=WAL does).
    let version: number;
    try {
      version = db.pragma('user_version', { simple: true }) as number;
    } catch (err) {
      if ((err as { code?: string }).code === 'SQLITE_BUSY') throw new DatabaseInUseError(path);
      throw err;
    }
    if (version > migrations.length) throw new FutureSchemaError(version, migrations.length, path);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL'); // WAL + NORMAL: durable across app crashes; an OS crash may lose the last commits
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    migrate(db, version, migrations);
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}

function migrate(db: Db, from: number, migrations: readonly { name: string; sql: string }[]): void {
  for (let v = from; v < migrations.length; v++) {
    const m = migrations[v]!;
    db.transaction(() => {
      db.exec(m.sql);
      db.pragma(`user_version = ${v + 1}`);
    }).immediate();
  }
}

export function schemaVersion(db: Db): number {
  return db.pragma('user_version', { simple: true }) as number;
}

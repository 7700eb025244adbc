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

/**
 * Opens (creating if needed) the database and migrates it to the latest schema. A database
 * from a newer version is refused before anything is written to it.
 */
export function openDatabase(path: string, migrations = MIGRATIONS): Db {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  try {
    // Check the version before any pragma that could write (journal_mode=WAL does).
    const version = db.pragma('user_version', { simple: true }) as number;
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

import type { Statement } from 'better-sqlite3';
import { invalid } from '../core/errors.js';
import type { Db } from '../store/db.js';
import type { EventLog } from '../events/log.js';

/** What every domain module is built from. */
export interface DomainDeps {
  db: Db;
  events: EventLog;
}

/** Who is acting, and where: every query is bounded by tenant (and project). */
export interface ProjectScope {
  tenantId: string;
  projectId: string;
}

/** Prepared statements by SQL text, for queries whose filters vary. */
export function statementCache(db: Db): (sql: string) => Statement {
  const cache = new Map<string, Statement>();
  return (sql) => {
    let s = cache.get(sql);
    if (!s) {
      s = db.prepare(sql);
      cache.set(sql, s);
    }
    return s;
  };
}

export const toJson = (v: unknown): string | null => (v === undefined || v === null ? null : JSON.stringify(v));
export const fromJson = <T = Record<string, unknown>>(s: string | null): T | null => (s === null ? null : (JSON.parse(s) as T));

/** Old values of the fields `patch` changes, for an update event's `changes`. */
export function changedFields<T extends object>(before: T, after: T): Record<string, unknown> | null {
  const changes: Record<string, unknown> = {};
  for (const k of Object.keys(after) as (keyof T)[]) {
    if (JSON.stringify(before[k]) !== JSON.stringify(after[k])) changes[k as string] = before[k];
  }
  return Object.keys(changes).length ? changes : null;
}

/** A client's date-time in canonical UTC form, so stored times compare correctly as text. */
export function canonicalTime(field: string, value: string): string {
  const t = Date.parse(value);
  if (Number.isNaN(t)) throw invalid(field, 'not a date-time');
  return new Date(t).toISOString();
}

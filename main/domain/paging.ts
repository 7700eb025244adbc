import { ProblemError } from '../core/errors.js';
import { UUID_RE } from '../store/ids.js';

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface PageRequest {
  limit?: number;
  cursor?: string;
}

/** Cursors are opaque to clients: base64url of the last id of the previous page. */
export function encodeCursor(id: string): string {
  return Buffer.from(id, 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string | undefined): string | null {
  if (cursor === undefined || cursor === '') return null;
  const id = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!UUID_RE.test(id)) throw new ProblemError('invalid_cursor', 'cursor is not one this API issued', 'query/cursor');
  return id;
}

/** Rows were fetched with `limit + 1`: the extra row only says whether there is a next page. */
export function toPage<R, T extends { id: string }>(rows: R[], limit: number, map: (r: R) => T): Page<T> {
  const items = rows.slice(0, limit).map(map);
  const last = items[items.length - 1];
  return { items, nextCursor: rows.length > limit && last ? encodeCursor(last.id) : null };
}

export const pageLimit = (p: PageRequest): number => p.limit ?? 50;

/**
 * One page of `select WHERE conditions ORDER BY id`, after the cursor. Conditions are
 * `[sqlFragment, ...values]` (one value per `?`), e.g.
 * `['project_id = ?', scope.projectId]`. Newest first (`desc`) or oldest first (`asc`).
 */
export function queryPage<R, T extends { id: string }>(
  sql: (text: string) => { all(...params: unknown[]): unknown[] },
  select: string,
  conditions: [string, ...unknown[]][],
  q: PageRequest,
  order: 'asc' | 'desc',
  map: (row: R) => T,
  idColumn = 'id',
): Page<T> {
  const limit = pageLimit(q);
  const after = decodeCursor(q.cursor);
  const all: [string, ...unknown[]][] = after ? [...conditions, [`${idColumn} ${order === 'desc' ? '<' : '>'} ?`, after]] : conditions;
  const where = all.map(([c]) => c).join(' AND ');
  const args = all.flatMap(([, ...values]) => values);
  const rows = sql(`${select} WHERE ${where} ORDER BY ${idColumn} ${order.toUpperCase()} LIMIT ?`).all(...args, limit + 1) as R[];
  return toPage(rows, limit, map);
}

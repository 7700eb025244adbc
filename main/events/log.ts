import type { Db } from '../store/db.js';
import type { DomainEvent, EventAction, EventType } from '../../common/events.js';
import { uuidv7, nowIso } from '../store/ids.js';

export interface NewEvent {
  type: EventType;
  tenantId: string;
  projectId: string | null;
  resourceId: string;
  action: EventAction;
  data: object;
  changes?: Record<string, unknown>;
  /** Defaults to the source of the surrounding `write()`. */
  source?: string;
}

export type EventListener = (event: DomainEvent) => void;

export interface ReadOptions {
  tenantId: string;
  projectId?: string;
  afterSeq: number;
  limit: number;
}

interface EventRow {
  seq: number;
  id: string;
  type: EventType;
  source: string;
  tenant_id: string;
  project_id: string | null;
  resource_id: string;
  timestamp: string;
  payload: string;
}

interface Job {
  fn: () => unknown;
  source: string | undefined;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/** Aborts an optimistic group so it can be replayed with savepoints. */
class JobFailed extends Error {}

/** Writes per group commit: bounds how long one commit holds the event loop. */
const MAX_GROUP = 256;

const jsonCache = new WeakMap<DomainEvent, string>();

/** The envelope as JSON, serialized once and shared by every stream that sends it. */
export function eventJson(event: DomainEvent): string {
  let json = jsonCache.get(event);
  if (json === undefined) {
    json = JSON.stringify(event);
    jsonCache.set(event, json);
  }
  return json;
}

/**
 * The durable domain-event log. `write()` runs a change and the events describing it in one
 * SQLite transaction; only after that commits are the events dispatched to listeners. A
 * rolled-back change dispatches nothing; a committed one is always in the log, where
 * durable consumers read it from their own cursor.
 */
export class EventLog {
  private readonly listeners = new Set<EventListener>();
  private pending: DomainEvent[] = [];
  private depth = 0;
  private source = 'api';
  private readonly insert;
  private readonly selectTenant;
  private readonly selectProject;
  private readonly selectLast;
  private readonly selectSeq;
  private readonly getCursor;
  private readonly redactContentStmt;
  private readonly countByType;
  private readonly putCursor;
  private readonly tx;
  private queue: Job[] = [];
  private drainScheduled = false;
  private optimistic = false;

  constructor(private readonly db: Db) {
    // Hand-rolled transactions: db.transaction() builds a new wrapper per call, which costs
    // more than the BEGIN/COMMIT it wraps on the hot path.
    const run = (sql: string) => {
      const stmt = db.prepare(sql);
      return () => stmt.run();
    };
    this.tx = {
      begin: run('BEGIN IMMEDIATE'),
      commit: run('COMMIT'),
      rollback: run('ROLLBACK'),
      savepoint: run('SAVEPOINT w'),
      release: run('RELEASE w'),
      rollbackTo: run('ROLLBACK TO w'),
    };
    this.insert = db.prepare(
      'INSERT INTO events (id, type, source, tenant_id, project_id, resource_id, timestamp, payload) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    );
    this.selectTenant = db.prepare<[string, number, number], EventRow>(
      'SELECT * FROM events WHERE tenant_id = ? AND seq > ? ORDER BY seq LIMIT ?',
    );
    this.selectProject = db.prepare<[string, string, number, number], EventRow>(
      'SELECT * FROM events WHERE project_id = ? AND tenant_id = ? AND seq > ? ORDER BY seq LIMIT ?',
    );
    this.selectSeq = db.prepare<[number], EventRow>('SELECT * FROM events WHERE seq = ?');
    this.selectLast = db.prepare<[], { seq: number | null }>('SELECT max(seq) AS seq FROM events');
    this.getCursor = db.prepare<[string], { seq: number }>('SELECT seq FROM consumer_cursors WHERE name = ?');
    this.redactContentStmt = db.prepare(
      `UPDATE events SET payload = CASE WHEN json_type(payload, '$.changes.content') IS NULL
         THEN json_set(payload, '$.data.content', ?)
         ELSE json_set(payload, '$.data.content', ?, '$.changes.content', ?) END
       WHERE seq = ?`,
    );
    this.countByType = db.prepare<[string, number], { type: string; n: number }>(
      'SELECT type, count(*) AS n FROM events WHERE project_id = ? AND seq > ? GROUP BY type',
    );
    this.putCursor = db.prepare(
      'INSERT INTO consumer_cursors (name, seq, updated_at) VALUES (?, ?, ?) ON CONFLICT(name) DO UPDATE SET seq = excluded.seq, updated_at = excluded.updated_at',
    );
  }

  /** Runs `fn` in a transaction (a savepoint when nested) and dispatches its events after the outermost commit. */
  write<T>(fn: () => T, source?: string): T {
    const outer = this.depth === 0;
    // A job's own write in an optimistic group needs no savepoint: if it fails, the whole
    // group is rolled back and replayed with savepoints (see drain).
    const savepoint = !outer && !(this.optimistic && this.depth === 1);
    const mark = this.pending.length;
    const prevSource = this.source;
    if (source) this.source = source;
    if (outer) this.tx.begin();
    else if (savepoint) this.tx.savepoint();
    this.depth++;
    let result: T;
    try {
      result = fn();
    } catch (err) {
      this.depth--;
      this.source = prevSource;
      this.pending.length = mark;
      if (outer) {
        if (this.db.inTransaction) this.tx.rollback();
      } else if (savepoint) {
        this.tx.rollbackTo();
        this.tx.release();
      }
      throw err;
    }
    this.depth--;
    this.source = prevSource;
    if (!outer) {
      if (savepoint) this.tx.release();
      return result;
    }
    try {
      this.tx.commit();
    } catch (err) {
      this.pending.length = 0;
      if (this.db.inTransaction) this.tx.rollback();
      throw err;
    }
    this.flush();
    return result;
  }

  /**
   * Group commit: queues `fn` and runs it, together with every other write queued in the
   * same event-loop turn, in one transaction. Resolves after the commit. Concurrent API
   * requests share one commit instead of paying for one each. A job that throws leaves
   * nothing behind and does not affect the others (see drain).
   */
  commit<T>(fn: () => T, source?: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ fn, source, resolve: resolve as (v: unknown) => void, reject });
      if (!this.drainScheduled) {
        this.drainScheduled = true;
        setImmediate(() => this.drain());
      }
    });
  }

  private drain(): void {
    this.drainScheduled = false;
    const jobs = this.queue.splice(0, MAX_GROUP);
    if (this.queue.length) {
      this.drainScheduled = true;
      setImmediate(() => this.drain());
    }
    // Optimistic first: the jobs run back to back without savepoints. The first failure rolls
    // the whole group back, and the group is replayed with a savepoint per job, so a failing
    // job still leaves nothing behind and the others commit. Failures after a job has
    // written are rare (most are rejected before any write), so the replay is too.
    let outcomes: Outcome[] | null = null;
    try {
      outcomes = this.runGroup(jobs, true);
    } catch (error) {
      if (!(error instanceof JobFailed)) return this.failAll(jobs, error);
    }
    if (!outcomes) {
      try {
        outcomes = this.runGroup(jobs, false);
      } catch (error) {
        return this.failAll(jobs, error);
      }
    }
    jobs.forEach((job, i) => {
      const o = outcomes[i]!;
      if (o.ok) job.resolve(o.value);
      else job.reject(o.error);
    });
  }

  /** Runs the jobs in one transaction; optimistic = no savepoints, and the first failure aborts the group. */
  private runGroup(jobs: Job[], optimistic: boolean): Outcome[] {
    const outcomes: Outcome[] = [];
    this.optimistic = optimistic;
    try {
      this.write(() => {
        for (const job of jobs) {
          const mark = this.pending.length;
          const prevSource = this.source;
          if (job.source) this.source = job.source;
          try {
            // On replay each job gets its own savepoint, whatever it does inside.
            outcomes.push({ ok: true, value: optimistic ? job.fn() : this.write(job.fn) });
          } catch (error) {
            if (optimistic) throw new JobFailed();
            this.pending.length = mark;
            outcomes.push({ ok: false, error });
          } finally {
            this.source = prevSource;
          }
        }
      });
    } finally {
      this.optimistic = false;
    }
    return outcomes;
  }

  /** The commit itself failed (disk full, I/O error): nothing was stored. */
  private failAll(jobs: Job[], error: unknown): void {
    for (const job of jobs) job.reject(error);
  }

  /** Appends an event row; only valid inside `write()`. */
  append(e: NewEvent): DomainEvent {
    if (this.depth === 0) throw new Error('EventLog.append outside write(): events must commit with their change');
    const id = uuidv7();
    const timestamp = nowIso();
    const payload = e.changes
      ? { action: e.action, data: e.data as Record<string, unknown>, changes: e.changes }
      : { action: e.action, data: e.data as Record<string, unknown> };
    const source = e.source ?? this.source;
    const info = this.insert.run(id, e.type, source, e.tenantId, e.projectId, e.resourceId, timestamp, JSON.stringify(payload));
    const event: DomainEvent = {
      id,
      seq: Number(info.lastInsertRowid),
      type: e.type,
      source,
      tenantId: e.tenantId,
      projectId: e.projectId,
      resourceId: e.resourceId,
      timestamp,
      payload,
    };
    this.pending.push(event);
    return event;
  }

  private flush(): void {
    const events = this.pending;
    this.pending = [];
    for (const event of events) {
      for (const listener of this.listeners) {
        try {
          listener(event);
        } catch {
          // A failing listener must not stop delivery to the others; it logs its own errors.
        }
      }
    }
  }

  /** Live, in-process: every committed event of every tenant, in seq order. */
  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  read(o: ReadOptions): DomainEvent[] {
    const rows = o.projectId
      ? this.selectProject.all(o.projectId, o.tenantId, o.afterSeq, o.limit)
      : this.selectTenant.all(o.tenantId, o.afterSeq, o.limit);
    return rows.map(toEvent);
  }

  /**
   * The envelope JSON of one event (exactly what {@link eventJson} gives), built around the
   * stored payload text instead of parsing and serializing it again.
   */
  jsonBySeq(seq: number): string | null {
    const r = this.selectSeq.get(seq);
    if (!r) return null;
    const q = JSON.stringify;
    return `{"id":${q(r.id)},"seq":${r.seq},"type":${q(r.type)},"source":${q(r.source)},"tenantId":${q(r.tenant_id)},"projectId":${q(r.project_id)},"resourceId":${q(r.resource_id)},"timestamp":${q(r.timestamp)},"payload":${r.payload}}`;
  }

  /**
   * Overwrites a stored message event's text (`data.content`, and `changes.content` where
   * present), for redaction: the log must not keep what a redaction removed. Call inside the
   * redaction's `write()`.
   */
  redactContent(seq: number, content: string): void {
    this.redactContentStmt.run(content, content, content, seq);
  }

  /** Events of a project after `afterSeq` whose type passes `match` (a consumer's backlog). */
  countAfter(projectId: string, afterSeq: number, match: (type: string) => boolean): number {
    const rows = this.countByType.all(projectId, afterSeq);
    return rows.reduce((sum, r) => sum + (match(r.type) ? r.n : 0), 0);
  }

  lastSeq(): number {
    return this.selectLast.get()?.seq ?? 0;
  }

  /** A durable consumer's position: it resumes after this seq after a restart. */
  cursor(name: string): number {
    return this.getCursor.get(name)?.seq ?? 0;
  }

  /** Call inside the same `write()` as the consumer's effects, so both commit or neither. */
  setCursor(name: string, seq: number): void {
    this.putCursor.run(name, seq, nowIso());
  }
}

function toEvent(r: EventRow): DomainEvent {
  return {
    id: r.id,
    seq: r.seq,
    type: r.type,
    source: r.source,
    tenantId: r.tenant_id,
    projectId: r.project_id,
    resourceId: r.resource_id,
    timestamp: r.timestamp,
    payload: JSON.parse(r.payload) as DomainEvent['payload'],
  };
}

import type { WebhookAttempt, WebhookDelivery } from '../../common/schemas.js';
import { statementCache, type DomainDeps, type ProjectScope } from '../domain/context.js';
import { queryPage, type Page, type PageRequest } from '../domain/paging.js';
import { notFound } from '../core/errors.js';
import { nowIso, uuidv7 } from '../store/ids.js';
import type { WebhookRow } from './webhooks.js';

export interface DeliveryRow {
  id: string;
  tenant_id: string;
  project_id: string;
  webhook_id: string;
  event_id: string;
  event_seq: number | null;
  event_type: string;
  body: string | null;
  status: WebhookDelivery['status'];
  attempts: number;
  run_at: number;
  locked_at: number | null;
  locked_by: string | null;
  last_error: string | null;
  last_status: number | null;
  created_at: string;
  updated_at: string;
  delivered_at: string | null;
}

interface AttemptRow {
  id: string;
  delivery_id: string;
  attempt: number;
  started_at: string;
  duration_ms: number;
  status_code: number | null;
  error: string | null;
  response_body: string | null;
}

/** A claimed delivery with the exact body to send (the same bytes on every attempt). */
export interface Claimed {
  row: DeliveryRow;
  body: string;
}

/** What one attempt came to; `next` decides the row's new state. */
export interface AttemptOutcome {
  delivery: DeliveryRow;
  startedAt: number;
  durationMs: number;
  statusCode: number | null;
  error: string | null;
  responseBody: string | null;
  next: { status: 'delivered' } | { status: 'pending'; runAt: number } | { status: 'failed' | 'exhausted' };
}

/** The fields fan-out inserts per (event, subscription). */
export interface NewDelivery {
  tenantId: string;
  projectId: string;
  webhookId: string;
  eventId: string;
  eventSeq: number;
  eventType: string;
}

const toDelivery = (r: DeliveryRow): WebhookDelivery => ({
  id: r.id,
  webhookId: r.webhook_id,
  eventId: r.event_id,
  eventType: r.event_type,
  status: r.status,
  attempts: r.attempts,
  nextAttemptAt: r.status === 'pending' ? new Date(r.run_at).toISOString() : null,
  lastStatusCode: r.last_status,
  lastError: r.last_error,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  deliveredAt: r.delivered_at,
});

const toAttempt = (r: AttemptRow): WebhookAttempt => ({
  id: r.id,
  attempt: r.attempt,
  startedAt: r.started_at,
  durationMs: r.duration_ms,
  statusCode: r.status_code,
  error: r.error,
  responseBody: r.response_body,
});

/**
 * The delivery outbox. Owns `webhook_deliveries` and `webhook_attempts`; emits
 * webhook.delivery.exhausted. Rows are claimed with a lease (locked_at/locked_by) so a row
 * in flight when the process dies is sent again after restart, under the same webhook-id.
 */
export function createDeliveries({ db, events }: DomainDeps) {
  const sql = statementCache(db);
  const insert = db.prepare(
    `INSERT OR IGNORE INTO webhook_deliveries (id, tenant_id, project_id, webhook_id, event_id, event_seq, event_type, body, status, attempts, run_at, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?, ?)`,
  );
  const claim = db.prepare<[number, string, string, number, number, number], DeliveryRow>(
    `UPDATE webhook_deliveries SET locked_at = ?, locked_by = ?
     WHERE id IN (SELECT id FROM webhook_deliveries
                  WHERE webhook_id = ? AND status = 'pending' AND run_at <= ? AND (locked_at IS NULL OR locked_at < ?)
                  ORDER BY run_at, id LIMIT ?)
     RETURNING *`,
  );
  const nextDue = db.prepare<[string, number], { run_at: number | null }>(
    `SELECT min(run_at) AS run_at FROM webhook_deliveries WHERE webhook_id = ? AND status = 'pending' AND (locked_at IS NULL OR locked_at < ?)`,
  );
  const unlockOne = db.prepare(`UPDATE webhook_deliveries SET locked_at = NULL, locked_by = NULL WHERE id = ? AND status = 'pending'`);
  const byId = db.prepare<[string, string, string, string], DeliveryRow>(
    'SELECT * FROM webhook_deliveries WHERE id = ? AND webhook_id = ? AND project_id = ? AND tenant_id = ?',
  );
  const attemptsOf = db.prepare<[string], AttemptRow>('SELECT * FROM webhook_attempts WHERE delivery_id = ? ORDER BY attempt, id');
  const insertAttempt = db.prepare(
    // The subscription (and with it the row) may have been deleted while the request was in flight.
    `INSERT INTO webhook_attempts (id, delivery_id, attempt, started_at, duration_ms, status_code, error, response_body)
     SELECT ?, ?, ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM webhook_deliveries WHERE id = ?)`,
  );
  const finish = db.prepare(
    `UPDATE webhook_deliveries SET status = ?, attempts = attempts + 1, run_at = ?, locked_at = NULL, locked_by = NULL,
       last_error = ?, last_status = ?, updated_at = ?, delivered_at = ? WHERE id = ?`,
  );

  return {
    /** Inserts one pending row per (event, subscription); a second insert of the same pair is ignored. Call inside a write. */
    enqueue(rows: readonly NewDelivery[], now = Date.now()): number {
      const iso = new Date(now).toISOString();
      let n = 0;
      for (const r of rows) n += insert.run(uuidv7(), r.tenantId, r.projectId, r.webhookId, r.eventId, r.eventSeq, r.eventType, null, now, iso, iso).changes;
      return n;
    },

    /** A `webhook.test` ping: carries its own body, and goes to the subscription whatever its event filter. */
    enqueueTest(webhook: WebhookRow): WebhookDelivery {
      return events.write(() => {
        const now = Date.now();
        const iso = new Date(now).toISOString();
        const id = uuidv7();
        const eventId = uuidv7();
        const body = JSON.stringify({
          id: eventId, type: 'webhook.test', source: 'api', tenantId: webhook.tenant_id, projectId: webhook.project_id,
          resourceId: `webhook:${webhook.id}`, timestamp: iso,
          payload: { action: 'occurred', data: { webhookId: webhook.id, message: 'Test delivery from Cortex Console' } },
        });
        insert.run(id, webhook.tenant_id, webhook.project_id, webhook.id, eventId, null, 'webhook.test', body, now, iso, iso);
        return toDelivery(sql('SELECT * FROM webhook_deliveries WHERE id = ?').get(id) as DeliveryRow);
      });
    },

    /** Leases up to `limit` due rows of one subscription. A lease older than `leaseMs` is taken over. */
    claim(webhookId: string, owner: string, limit: number, leaseMs: number, now = Date.now()): Claimed[] {
      const rows = claim.all(now, owner, webhookId, now, now - leaseMs, limit);
      const out: Claimed[] = [];
      for (const row of rows) {
        const body = row.body ?? (row.event_seq !== null ? events.jsonBySeq(row.event_seq) : null);
        // The event was pruned from the log: nothing can be sent; record that instead of looping.
        out.push({ row, body: body ?? '' });
      }
      return out;
    },

    /** When the next row of this subscription becomes due (ms), or null when none is waiting. */
    nextDue(webhookId: string, leaseMs: number, now = Date.now()): number | null {
      return nextDue.get(webhookId, now - leaseMs)?.run_at ?? null;
    },

    /** Runs claims and records in one transaction (one commit per worker turn). */
    batch<T>(fn: () => T): T {
      return events.write(fn, 'outbox');
    },

    /** Records attempts and moves rows on, in one transaction; exhausted rows emit an event. */
    record(outcomes: readonly AttemptOutcome[]): void {
      if (outcomes.length === 0) return;
      events.write(() => {
        const iso = nowIso();
        for (const o of outcomes) {
          const d = o.delivery;
          insertAttempt.run(uuidv7(), d.id, d.attempts + 1, new Date(o.startedAt).toISOString(), Math.round(o.durationMs), o.statusCode, o.error, o.responseBody, d.id);
          const runAt = o.next.status === 'pending' ? o.next.runAt : d.run_at;
          const changed = finish.run(o.next.status, runAt, o.error, o.statusCode, iso, o.next.status === 'delivered' ? iso : null, d.id).changes;
          if (changed && o.next.status === 'exhausted') {
            events.append({
              type: 'webhook.delivery.exhausted', tenantId: d.tenant_id, projectId: d.project_id, resourceId: `webhook:${d.webhook_id}`, action: 'occurred',
              data: { deliveryId: d.id, webhookId: d.webhook_id, eventId: d.event_id, eventType: d.event_type, attempts: d.attempts + 1, lastError: o.error, lastStatusCode: o.statusCode },
            });
          }
        }
      }, 'outbox');
    },

    /** Gives leased rows back (claimed, not sent). */
    unlock(ids: readonly string[]): void {
      for (const id of ids) unlockOne.run(id);
    },

    /** After a restart every lease is stale: this process is the only one with the database open. */
    releaseLeases(): number {
      return sql(`UPDATE webhook_deliveries SET locked_at = NULL, locked_by = NULL WHERE status = 'pending' AND locked_at IS NOT NULL`).run().changes;
    },

    list(scope: ProjectScope, webhookId: string, q: PageRequest & { status?: WebhookDelivery['status'] }): Page<WebhookDelivery> {
      const where: [string, unknown?][] = [['webhook_id = ?', webhookId], ['project_id = ?', scope.projectId], ['tenant_id = ?', scope.tenantId]];
      if (q.status) where.push(['status = ?', q.status]);
      return queryPage(sql, 'SELECT * FROM webhook_deliveries', where, q, 'desc', toDelivery);
    },

    get(scope: ProjectScope, webhookId: string, id: string): WebhookDelivery & { attemptLog: WebhookAttempt[] } {
      const row = byId.get(id, webhookId, scope.projectId, scope.tenantId);
      if (!row) throw notFound('delivery', 'params/deliveryId');
      return { ...toDelivery(row), attemptLog: attemptsOf.all(id).map(toAttempt) };
    },

    /** Sends a delivery again now, on a fresh retry schedule, under the same webhook-id. */
    redeliver(scope: ProjectScope, webhookId: string, id: string): WebhookDelivery {
      return events.write(() => {
        const row = byId.get(id, webhookId, scope.projectId, scope.tenantId);
        if (!row) throw notFound('delivery', 'params/deliveryId');
        const now = Date.now();
        sql(`UPDATE webhook_deliveries SET status = 'pending', attempts = 0, run_at = ?, locked_at = NULL, locked_by = NULL, updated_at = ? WHERE id = ?`)
          .run(now, new Date(now).toISOString(), id);
        return toDelivery(byId.get(id, webhookId, scope.projectId, scope.tenantId)!);
      });
    },

    /** Requeues every row of a subscription in `status` with a fresh schedule; returns how many. Inside the caller's write(). */
    redeliverAll(scope: ProjectScope, webhookId: string, status: 'failed' | 'exhausted'): number {
      const now = Date.now();
      return sql(
        `UPDATE webhook_deliveries SET status = 'pending', attempts = 0, run_at = ?, locked_at = NULL, locked_by = NULL, updated_at = ?
         WHERE webhook_id = ? AND status = ? AND project_id = ? AND tenant_id = ?`,
      ).run(now, new Date(now).toISOString(), webhookId, status, scope.projectId, scope.tenantId).changes;
    },

    /** Rows per status for one subscription (health views). */
    counts(webhookId: string): Record<WebhookDelivery['status'], number> {
      const out = { pending: 0, delivered: 0, failed: 0, exhausted: 0 };
      for (const r of sql('SELECT status, count(*) AS n FROM webhook_deliveries WHERE webhook_id = ? GROUP BY status').all(webhookId) as { status: keyof typeof out; n: number }[]) out[r.status] = r.n;
      return out;
    },
  };
}

export type DeliveriesModule = ReturnType<typeof createDeliveries>;

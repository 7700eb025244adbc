import type { Db } from '../store/db.js';
import type { EventLog } from '../events/log.js';
import type { DeliveriesModule, NewDelivery } from './deliveries.js';
import type { WebhooksModule } from './webhooks.js';

/** The fan-out's position in the event log (consumer_cursors). */
export const FANOUT_CURSOR = 'outbox.fanout';
/** Events read per step, and rows written per step: both bound how long one step holds the main thread. */
const BATCH = 1000;
const MAX_ROWS = 2000;
const SELF_EVENTS: ReadonlySet<string> = new Set(['webhook.delivery.exhausted', 'webhook.redelivery.progress']);

interface EventHead {
  seq: number;
  id: string;
  type: string;
  tenant_id: string;
  project_id: string | null;
  resource_id: string;
}

/**
 * Turns committed events into outbox rows, one per matching enabled subscription. It reads
 * the log from a persisted cursor and moves the cursor in the same transaction as the rows
 * it inserts, so a crash at any point either keeps both or neither; and (webhook, event) is
 * unique, so no second row can appear for the same pair.
 */
export class Fanout {
  private readonly select;
  private scheduled = false;
  private closed = false;

  constructor(
    db: Db,
    private readonly events: EventLog,
    private readonly webhooks: WebhooksModule,
    private readonly deliveries: DeliveriesModule,
    private readonly onEnqueued: (webhookIds: ReadonlySet<string>) => void,
    private readonly onError: (err: unknown) => void,
  ) {
    this.select = db.prepare<[number, number], EventHead>(
      'SELECT seq, id, type, tenant_id, project_id, resource_id FROM events WHERE seq > ? ORDER BY seq LIMIT ?',
    );
  }

  /** New events were committed (or at startup): catch up soon. */
  schedule(): void {
    if (this.scheduled || this.closed) return;
    this.scheduled = true;
    setImmediate(() => this.run());
  }

  close(): void {
    this.closed = true;
  }

  /** One batch; returns how many events it consumed, whether more are waiting, and who got rows. Exposed for tests and the benchmark. */
  step(): { events: number; rows: number; more: boolean; webhookIds: Set<string> } {
    return this.events.write(() => {
      const heads = this.select.all(this.events.cursor(FANOUT_CURSOR), BATCH);
      const webhookIds = new Set<string>();
      if (heads.length === 0) return { events: 0, rows: 0, more: false, webhookIds };
      const rows: NewDelivery[] = [];
      let consumed = 0;
      for (const e of heads) {
        if (rows.length >= MAX_ROWS) break;
        consumed++;
        if (e.project_id === null) continue;
        for (const hook of this.webhooks.ofProject(e.tenant_id, e.project_id)) {
          if (e.seq <= hook.row.from_seq || !hook.matches(e.type)) continue;
          // A subscription is not told about its own delivery bookkeeping: a dead endpoint would feed itself forever.
          if (SELF_EVENTS.has(e.type) && e.resource_id === `webhook:${hook.row.id}`) continue;
          rows.push({ tenantId: e.tenant_id, projectId: e.project_id, webhookId: hook.row.id, eventId: e.id, eventSeq: e.seq, eventType: e.type });
          webhookIds.add(hook.row.id);
        }
      }
      const inserted = this.deliveries.enqueue(rows);
      this.events.setCursor(FANOUT_CURSOR, heads[consumed - 1]!.seq);
      return { events: consumed, rows: inserted, more: consumed < heads.length || heads.length === BATCH, webhookIds };
    }, 'outbox');
  }

  private run(): void {
    this.scheduled = false;
    if (this.closed) return;
    try {
      const { rows, more, webhookIds } = this.step();
      if (rows > 0) this.onEnqueued(webhookIds);
      if (more) this.schedule(); // yield to the event loop between batches
    } catch (err) {
      // The cursor did not move: the same events are fanned out on the next try.
      this.onError(err);
      setTimeout(() => this.schedule(), 1_000).unref();
    }
  }
}

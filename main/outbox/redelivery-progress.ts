/**
 * Progress of bulk redeliveries, as `webhook.redelivery.progress` events: about once a second
 * while a subscription still has pending deliveries, and a last one (`done: true`) when none is
 * left. The numbers are the subscription's row counts (new deliveries queued meanwhile count too),
 * so `remaining` never exceeds what was requeued.
 */
import type { EventLog } from '../events/log.js';
import type { DeliveriesModule } from './deliveries.js';

interface Tracked {
  tenantId: string;
  projectId: string;
  total: number;
  lastRemaining: number;
}

export class RedeliveryProgress {
  private readonly tracked = new Map<string, Tracked>();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly events: EventLog,
    private readonly deliveries: DeliveriesModule,
    private readonly intervalMs = 1_000,
  ) {}

  /** Inside the write that requeued the rows: the first report says how many were queued. */
  track(tenantId: string, projectId: string, webhookId: string, count: number): void {
    const t = this.tracked.get(webhookId);
    const total = (t?.lastRemaining ?? 0) + count;
    this.tracked.set(webhookId, { tenantId, projectId, total, lastRemaining: total });
    this.emit(webhookId, this.tracked.get(webhookId)!, total, false);
    this.timer ??= setInterval(() => this.tick(), this.intervalMs).unref();
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.tracked.clear();
  }

  private tick(): void {
    try {
      this.events.write(() => {
        for (const [webhookId, t] of this.tracked) {
          const remaining = Math.min(t.total, this.deliveries.counts(webhookId).pending);
          if (remaining === t.lastRemaining && remaining > 0) continue;
          t.lastRemaining = remaining;
          this.emit(webhookId, t, remaining, remaining === 0);
          if (remaining === 0) this.tracked.delete(webhookId);
        }
      }, 'outbox');
    } catch {
      // the next tick tries again (a deleted subscription simply reports 0 pending)
    }
    if (this.tracked.size === 0) this.close();
  }

  private emit(webhookId: string, t: Tracked, remaining: number, done: boolean): void {
    this.events.append({
      type: 'webhook.redelivery.progress', tenantId: t.tenantId, projectId: t.projectId, resourceId: `webhook:${webhookId}`, action: 'occurred',
      data: { webhookId, total: t.total, remaining, done },
    });
  }
}

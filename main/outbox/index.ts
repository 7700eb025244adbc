import type { Logger } from 'pino';
import type { CortexConfig } from '../core/config.js';
import { conflict } from '../core/errors.js';
import type { DomainDeps } from '../domain/context.js';
import { createDeliveries } from './deliveries.js';
import { Fanout } from './fanout.js';
import { RedeliveryProgress } from './redelivery-progress.js';
import { DeliveryWorker } from './worker.js';
import { createWebhooks } from './webhooks.js';

type OutboxConfig = Pick<
  CortexConfig,
  'webhookRetryScheduleMs' | 'webhookTimeoutMs' | 'webhookConcurrency' | 'webhookBreakerThreshold' | 'webhookBreakerCooldownMs' | 'webhookBlockPrivateTargets'
>;

/**
 * Webhook subscriptions, the outbox fan-out and the delivery worker, wired to the event log.
 * `start()` begins delivering (after a crash: whatever was pending or in flight).
 */
export function createOutbox(deps: DomainDeps, config: OutboxConfig, logger: Pick<Logger, 'warn' | 'error' | 'info'>, userAgent: string) {
  const webhooks = createWebhooks(deps, { blockPrivateTargets: config.webhookBlockPrivateTargets });
  const deliveries = createDeliveries(deps);
  const worker = new DeliveryWorker(webhooks, deliveries, {
    scheduleMs: config.webhookRetryScheduleMs,
    timeoutMs: config.webhookTimeoutMs,
    concurrency: config.webhookConcurrency,
    breakerThreshold: config.webhookBreakerThreshold,
    breakerCooldownMs: config.webhookBreakerCooldownMs,
    blockPrivateTargets: config.webhookBlockPrivateTargets,
    userAgent,
    logger,
  });
  const fanout = new Fanout(deps.db, deps.events, webhooks, deliveries, (ids) => worker.notify(ids), (err) => logger.error({ err }, 'webhooks: fan-out failed; retrying'));
  const progress = new RedeliveryProgress(deps.events, deliveries);
  let unsubscribe: (() => void) | null = null;
  return {
    webhooks,
    deliveries,
    fanout,
    worker,
    start(): void {
      unsubscribe = deps.events.subscribe(() => fanout.schedule());
      worker.start();
      fanout.schedule();
    },
    /** A test ping, sent like any delivery. */
    sendTest(scope: { tenantId: string; projectId: string }, webhookId: string) {
      const row = webhooks.rowOf(scope, webhookId);
      if (!row.enabled) throw conflict('the webhook is disabled; enable it to send a test', 'params/webhookId');
      const d = deliveries.enqueueTest(row);
      worker.notify([webhookId]);
      return d;
    },
    redeliver(scope: { tenantId: string; projectId: string }, webhookId: string, deliveryId: string) {
      const d = deliveries.redeliver(scope, webhookId, deliveryId);
      worker.notify([webhookId]);
      return d;
    },
    /**
     * Requeues all of a subscription's failed or exhausted deliveries. Progress is reported as
     * `webhook.redelivery.progress` events (about once a second, and once when none is pending),
     * so a console can show it without polling.
     */
    redeliverAll(scope: { tenantId: string; projectId: string }, webhookId: string, status: 'failed' | 'exhausted'): { count: number } {
      return deps.events.write(() => {
        const row = webhooks.rowOf(scope, webhookId);
        const count = deliveries.redeliverAll(scope, webhookId, status);
        if (count > 0) {
          progress.track(row.tenant_id, row.project_id, webhookId, count);
          worker.notify([webhookId]);
        }
        return { count };
      });
    },
    async close(): Promise<void> {
      progress.close();
      unsubscribe?.();
      fanout.close();
      await worker.close();
    },
  };
}

export type Outbox = ReturnType<typeof createOutbox>;

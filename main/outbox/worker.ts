import { setMaxListeners } from 'node:events';
import http from 'node:http';
import https from 'node:https';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { AttemptOutcome, Claimed, DeliveriesModule } from './deliveries.js';
import { post, type PostResult } from './http.js';
import { parseRetryAfter, retryDelayMs } from './schedule.js';
import { signHeaders } from './signing.js';
import { publicOnlyLookup } from './targets.js';
import type { ActiveWebhook, WebhookRow, WebhooksModule } from './webhooks.js';

export interface WorkerOptions {
  scheduleMs: readonly number[];
  timeoutMs: number;
  /** Requests in flight per subscription. */
  concurrency: number;
  breakerThreshold: number;
  breakerCooldownMs: number;
  blockPrivateTargets: boolean;
  userAgent: string;
  logger: Pick<Logger, 'warn' | 'error' | 'info'>;
}

/** Per-subscription state: its own sockets, concurrency and circuit breaker. */
interface Lane {
  agent: http.Agent;
  agentFor: string;
  inFlight: number;
  failures: number;
  /** Breaker open (or Retry-After pause) until this time; then one trial request. */
  pausedUntil: number;
  /** When this lane may next have a due row (Infinity: none known until notified). Saves a claim per idle lane per turn. */
  dueAt: number;
  /** Claimed (leased) rows waiting for a free slot. */
  queue: Claimed[];
}

/** Rows claimed per lane, as a multiple of its concurrency. */
const PREFETCH = 4;
/** The longest the worker sleeps without looking (a safety net; wake-ups are event-driven). */
const MAX_SLEEP_MS = 5_000;

/**
 * Delivers outbox rows. Each subscription is a lane with its own keep-alive agent, a limit on
 * requests in flight and a circuit breaker, so a slow or dead endpoint only ever occupies its
 * own lane. All network I/O is asynchronous; SQL on the main thread is limited to indexed
 * claims of a few rows and one batched write per turn for the results.
 */
export class DeliveryWorker {
  readonly owner = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  private readonly lanes = new Map<string, Lane>();
  private readonly leaseMs: number;
  private readonly abort = new AbortController();
  private outcomes: AttemptOutcome[] = [];
  private tickScheduled = false;
  private timer: NodeJS.Timeout | null = null;
  private timerAt = Infinity;
  private closed = false;
  private inFlightTotal = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly webhooks: WebhooksModule,
    private readonly deliveries: DeliveriesModule,
    private readonly opts: WorkerOptions,
  ) {
    // A lease outlives the longest possible attempt, so only a dead worker's rows are taken over.
    this.leaseMs = opts.timeoutMs + 60_000;
    // Every request in flight listens on this one signal; that many listeners are expected.
    setMaxListeners(Infinity, this.abort.signal);
  }

  start(): void {
    const released = this.deliveries.releaseLeases();
    if (released) this.opts.logger.info({ released }, 'webhooks: retrying deliveries that were in flight when the process stopped');
    this.wake();
  }

  /** New rows for these subscriptions (fan-out, redeliver, test ping). */
  notify(webhookIds: Iterable<string>): void {
    for (const id of webhookIds) {
      const lane = this.lanes.get(id);
      if (lane) lane.dueAt = 0;
    }
    this.wake();
  }

  /** Something may be due (a finished request, a timer): look soon. */
  wake(): void {
    if (this.tickScheduled || this.closed) return;
    this.tickScheduled = true;
    setImmediate(() => {
      this.tickScheduled = false;
      this.tick();
    });
  }

  /** Deliveries currently in flight (all subscriptions). */
  get inFlight(): number {
    return this.inFlightTotal;
  }

  /** Stops claiming, aborts requests in flight (their rows stay leased and are retried after restart), records what finished. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.abort.abort();
    if (this.inFlightTotal > 0) await new Promise<void>((r) => this.idleWaiters.push(r));
    try {
      this.deliveries.record(this.outcomes.splice(0));
    } catch (err) {
      this.opts.logger.error({ err }, 'webhooks: recording the last results failed; those deliveries are retried after restart');
    }
    for (const lane of this.lanes.values()) lane.agent.destroy();
  }

  private tick(): void {
    if (this.closed) return;
    const now = Date.now();
    let next = now + MAX_SLEEP_MS;
    const active = this.webhooks.active();
    const unlock: string[] = [];
    for (const [id, lane] of this.lanes) {
      if (!active.has(id) && lane.inFlight === 0) {
        unlock.push(...lane.queue.map((c) => c.row.id));
        lane.agent.destroy();
        this.lanes.delete(id);
      }
    }
    // Results of the last turn, this turn's claims and released leases share one transaction;
    // requests start after it commits.
    const outcomes = this.outcomes;
    this.outcomes = [];
    const toSend: [ActiveWebhook, Lane, Claimed][] = [];
    try {
      this.deliveries.batch(() => {
        this.deliveries.record(outcomes);
        for (const hook of active.values()) {
          const lane = this.laneFor(hook.row);
          if (lane.pausedUntil > now) {
            // Rows waiting in memory go back to the table while the lane is paused, so their lease cannot run out here.
            unlock.push(...lane.queue.splice(0).map((c) => c.row.id));
            lane.dueAt = 0;
            next = Math.min(next, lane.pausedUntil);
            continue;
          }
          const cap = lane.pausedUntil > 0 ? 1 : this.opts.concurrency; // half-open: one trial request
          // Claim ahead (a few times the lane's concurrency): one claim feeds many requests.
          if (lane.queue.length < cap && lane.dueAt <= now) {
            const want = (cap === 1 ? 1 : cap * PREFETCH) - lane.queue.length;
            const claimed = this.deliveries.claim(hook.row.id, this.owner, want, this.leaseMs, now);
            lane.queue.push(...claimed);
            if (claimed.length < want) lane.dueAt = this.deliveries.nextDue(hook.row.id, this.leaseMs, now) ?? Infinity;
          }
          if (lane.dueAt > now && lane.dueAt !== Infinity) next = Math.min(next, Math.max(lane.dueAt, now + 1));
          for (let free = cap - lane.inFlight; free > 0 && lane.queue.length > 0; free--) toSend.push([hook, lane, lane.queue.shift()!]);
        }
        this.deliveries.unlock(unlock);
      });
    } catch (err) {
      // Unrecorded results keep their lease: those rows are retried when it runs out (at-least-once holds).
      this.opts.logger.error({ err, results: outcomes.length }, 'webhooks: recording results or claiming deliveries failed; retrying shortly');
      next = Math.min(next, now + 1_000);
      toSend.length = 0;
      for (const lane of this.lanes.values()) lane.queue.length = 0;
    }
    for (const [hook, lane, c] of toSend) this.send(hook, lane, c);
    this.sleepUntil(next);
  }

  private sleepUntil(at: number): void {
    if (this.timer && at >= this.timerAt) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.timerAt = Infinity;
      this.tick();
    }, Math.max(0, at - Date.now()));
    this.timer.unref();
  }

  private laneFor(row: WebhookRow): Lane {
    let lane = this.lanes.get(row.id);
    const scheme = row.url.startsWith('https:') ? 'https' : 'http';
    if (lane && lane.agentFor !== scheme) {
      lane.agent.destroy();
      lane.agent = this.newAgent(scheme);
      lane.agentFor = scheme;
    }
    if (!lane) {
      lane = { agent: this.newAgent(scheme), agentFor: scheme, inFlight: 0, failures: 0, pausedUntil: 0, dueAt: 0, queue: [] };
      this.lanes.set(row.id, lane);
    }
    return lane;
  }

  private newAgent(scheme: 'http' | 'https'): http.Agent {
    const o = { keepAlive: true, maxSockets: this.opts.concurrency, maxFreeSockets: this.opts.concurrency };
    return scheme === 'https' ? new https.Agent(o) : new http.Agent(o);
  }

  private send(hook: ActiveWebhook, lane: Lane, c: Claimed): void {
    lane.inFlight++;
    this.inFlightTotal++;
    const startedAt = Date.now();
    const row = hook.row;
    const attempt = c.body === ''
      ? Promise.resolve<PostResult>({ statusCode: null, error: 'the event is no longer in the log', body: null, retryAfter: undefined, durationMs: 0 })
      : post({
          url: new URL(row.url),
          headers: { ...this.authHeaders(row), 'user-agent': this.opts.userAgent, ...signHeaders(c.row.event_id, c.body, this.webhooks.signingSecrets(row), startedAt) },
          body: c.body,
          timeoutMs: this.opts.timeoutMs,
          agent: lane.agent,
          signal: this.abort.signal,
          ...(this.opts.blockPrivateTargets ? { lookup: publicOnlyLookup } : {}),
        });
    void attempt.then((r) => {
      lane.inFlight--;
      this.inFlightTotal--;
      // Aborted by close(): the row keeps its lease and is retried after restart.
      if (!this.closed || r.error === null) this.settle(row, lane, c, startedAt, r);
      if (this.inFlightTotal === 0) for (const w of this.idleWaiters.splice(0)) w();
      this.wake();
    });
  }

  private authHeaders(row: WebhookRow): Record<string, string> {
    switch (row.auth_type) {
      case 'api_key':
        return row.api_key ? { [row.api_key_header]: row.api_key } : {};
      case 'basic_auth':
        return { authorization: 'Basic ' + Buffer.from(`${row.basic_auth_username ?? ''}:${row.basic_auth_password ?? ''}`).toString('base64') };
      case 'custom_headers':
        return row.custom_headers ? (JSON.parse(row.custom_headers) as Record<string, string>) : {};
      default:
        return {};
    }
  }

  private settle(row: WebhookRow, lane: Lane, c: Claimed, startedAt: number, r: PostResult): void {
    const d = c.row;
    const now = Date.now();
    const ok = r.error === null && r.statusCode !== null && r.statusCode >= 200 && r.statusCode < 300;
    let next: AttemptOutcome['next'];
    if (ok) {
      next = { status: 'delivered' };
      lane.failures = 0;
      lane.pausedUntil = 0;
    } else if (r.statusCode === 410) {
      next = { status: 'failed' };
      this.webhooks.disable(row.id, `the receiver answered 410 Gone at ${new Date(now).toISOString()}`);
      this.opts.logger.warn({ webhookId: row.id, url: row.url }, 'webhooks: receiver answered 410 Gone; subscription disabled');
    } else {
      lane.failures++;
      const retryAfter = r.statusCode === 429 || r.statusCode === 503 ? parseRetryAfter(r.retryAfter, now) : null;
      const delay = retryDelayMs(this.opts.scheduleMs, d.attempts + 1);
      next = delay === null ? { status: 'exhausted' } : { status: 'pending', runAt: now + Math.max(delay, retryAfter ?? 0) };
      // The whole lane waits out a Retry-After; a run of failures opens the breaker.
      if (retryAfter !== null) lane.pausedUntil = Math.max(lane.pausedUntil, now + retryAfter);
      if (lane.failures >= this.opts.breakerThreshold) {
        if (lane.pausedUntil <= now) this.opts.logger.warn({ webhookId: row.id, url: row.url, failures: lane.failures }, 'webhooks: circuit breaker open');
        lane.pausedUntil = Math.max(lane.pausedUntil, now + this.opts.breakerCooldownMs);
      }
    }
    if (next.status === 'pending') lane.dueAt = Math.min(lane.dueAt, next.runAt);
    this.outcomes.push({
      delivery: d, startedAt, durationMs: r.durationMs, statusCode: r.statusCode, error: r.error ?? (ok ? null : `HTTP ${r.statusCode}`), responseBody: r.body, next,
    });
  }
}

/**
 * Runs one installed plugin: a worker thread fed, in log order, with the project's events the
 * plugin consumes. Results of a batch (annotations, redactions, summaries) commit in one
 * transaction with the installation's cursor, so after a crash the plugin resumes where the
 * last commit left it; annotations are unique per (plugin, event, ordinal), so a replay cannot
 * write one twice. A plugin that throws, hangs past the per-event timeout, runs out of memory or
 * crashes is stopped, recorded and restarted with backoff; an event that fails three times is
 * skipped (and recorded), so one poison event cannot stall the plugin forever.
 */
import type { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { DomainEvent } from '../../common/events.js';
import { SEVERITIES, type Annotation } from '../../common/schemas.js';
import type { PluginStatus } from '../../common/plugin-schemas.js';
import type { Domain } from '../domain/index.js';
import type { ProjectScope } from '../domain/context.js';
import { eventJson, type EventLog } from '../events/log.js';
import type { AnnotationDraft, PluginOutput, PluginResult } from './api.js';
import { startPluginWorker } from './thread.js';
import { cursorName, type InstallationRow, type InstallationsModule } from './installations.js';
import type { EventResult, FromWorker, PluginSource, RpcRequest, RunWorkerData, ToWorker } from './protocol.js';

export interface RunnerDeps {
  events: EventLog;
  domain: Domain;
  installations: InstallationsModule;
  logger: Logger;
  timeoutMs: number;
  memoryMb: number;
}

/** Events per batch sent to the worker, and read from the log per query. */
const BATCH = 64;
const READ = 512;
/** Live events held in memory at most; beyond that the runner reads from the log instead. */
const MAX_QUEUE = 5_000;
const MAX_ATTEMPTS = 3;
const MAX_BACKOFF_MS = 60_000;
const MAX_CONTENT_BYTES = 16_384;
const CURSOR_FLUSH_MS = 1_000;

type State = PluginStatus['state'];

class BadOutput extends Error {}

export class PluginRunner {
  private worker: Worker | null = null;
  private generation = 0;
  private state: State = 'stopped';
  private ready = false;
  private readonly progress = new Int32Array(new SharedArrayBuffer(4));
  /** Last seq whose results are committed (= the persisted cursor). */
  private committed: number;
  /** Last seq fetched into `queue` or `inflight`. */
  private readPos: number;
  /** True when every committed event up to `readPos` has been seen: new ones then arrive live. */
  private caughtUp = false;
  private queue: DomainEvent[] = [];
  private inflight: DomainEvent[] = [];
  private progressSeen = 0;
  private progressAt = 0;
  private watchdog: NodeJS.Timeout | null = null;
  private restartTimer: NodeJS.Timeout | null = null;
  private scheduled = false;
  private failures = 0;
  /** The committed position moved past events that wrote nothing; persisted within CURSOR_FLUSH_MS. */
  private cursorDirty = false;
  private cursorTimer: NodeJS.Timeout | null = null;
  private readonly attempts = new Map<number, number>();
  private readonly matches: (type: string) => boolean;
  private readonly scope: ProjectScope;
  private readonly log: Logger;
  private processed = 0;
  private annotationsWritten = 0;
  private restarts = 0;
  /** [time, events] per committed batch, for eventsPerSecond. */
  private readonly rate: [number, number][] = [];

  constructor(
    private row: InstallationRow,
    private readonly source: PluginSource,
    consumes: readonly string[],
    private readonly deps: RunnerDeps,
  ) {
    const types = new Set(consumes);
    this.matches = (t) => types.has(t);
    this.scope = { tenantId: row.tenant_id, projectId: row.project_id };
    this.committed = deps.events.cursor(cursorName(row.id));
    this.readPos = this.committed;
    this.log = deps.logger.child({ plugin: row.plugin_id, installation: row.id });
  }

  get installationId(): string {
    return this.row.id;
  }

  get projectId(): string {
    return this.row.project_id;
  }

  start(): void {
    if (this.worker || this.restartTimer) return;
    const generation = ++this.generation;
    this.state = 'starting';
    this.ready = false;
    const data: RunWorkerData = {
      mode: 'run', source: this.source, settings: JSON.parse(this.row.settings) as Record<string, unknown>,
      projectId: this.row.project_id, progress: this.progress.buffer as SharedArrayBuffer,
    };
    const worker = startPluginWorker(data, { maxOldGenerationSizeMb: this.deps.memoryMb, maxYoungGenerationSizeMb: 16, stackSizeMb: 4 });
    this.worker = worker;
    const current = () => generation === this.generation;
    worker.on('message', (m: FromWorker) => current() && this.onMessage(m));
    worker.on('error', (err: Error & { code?: string }) => {
      if (!current()) return;
      const oom = err.code === 'ERR_WORKER_OUT_OF_MEMORY';
      this.fail(oom ? 'out_of_memory' : 'crashed', oom ? `out of memory (limit ${this.deps.memoryMb} MB)` : err.stack ?? err.message);
    });
    worker.on('exit', (code) => current() && this.fail('crashed', `worker exited with code ${code}`));
  }

  /** Settings changed: restart the worker with them. */
  reload(row: InstallationRow): void {
    this.row = row;
    this.stopWorker();
    this.resetToCommitted();
    this.start();
  }

  /** `keepCursor` false: the installation is gone, its cursor with it. */
  stop(keepCursor = true): void {
    if (keepCursor) this.flushCursor();
    else if (this.cursorTimer) clearTimeout(this.cursorTimer);
    this.cursorTimer = null;
    this.stopWorker();
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = null;
    this.state = 'stopped';
  }

  /** A committed event of this runner's project (in log order). */
  offer(event: DomainEvent): void {
    if (!this.caughtUp || event.seq <= this.readPos) return;
    this.readPos = event.seq;
    if (!this.matches(event.type)) return;
    if (this.queue.length >= MAX_QUEUE) {
      // Too far behind to hold in memory: read from the log when the queue drains.
      this.caughtUp = false;
      this.readPos = this.queue[this.queue.length - 1]!.seq;
      return;
    }
    this.queue.push(event);
    this.schedule();
  }

  /** Running, and nothing left to hand to the worker or to commit. Cheap (no queries). */
  isIdle(): boolean {
    return this.state === 'idle' && this.caughtUp && this.queue.length === 0 && this.inflight.length === 0;
  }

  status(): PluginStatus {
    const now = Date.now();
    while (this.rate.length && this.rate[0]![0] < now - 10_000) this.rate.shift();
    return {
      pluginId: this.row.plugin_id,
      enabled: this.row.enabled === 1,
      state: this.state,
      cursor: this.committed,
      backlog: this.backlog(),
      processed: this.processed,
      annotations: this.annotationsWritten,
      errors: this.deps.installations.errorCount(this.row.id),
      restarts: this.restarts,
      eventsPerSecond: this.rate.reduce((n, [, k]) => n + k, 0) / 10,
      recentErrors: this.deps.installations.recentErrors(this.row.id),
    };
  }

  private backlog(): number {
    const unread = this.caughtUp ? 0 : this.deps.events.countAfter(this.row.project_id, this.readPos, (t) => this.matches(t));
    return this.inflight.length + this.queue.length + unread;
  }

  private schedule(): void {
    if (this.scheduled || !this.ready || this.inflight.length > 0) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.pump();
    });
  }

  private pump(): void {
    if (!this.ready || !this.worker || this.inflight.length > 0) return;
    if (this.queue.length === 0 && !this.caughtUp) this.readLog();
    if (this.queue.length === 0) {
      this.state = 'idle';
      return;
    }
    this.inflight = this.queue.splice(0, BATCH);
    this.state = 'busy';
    this.progressSeen = 0;
    this.progressAt = Date.now();
    Atomics.store(this.progress, 0, 0);
    this.post({ t: 'batch', json: `[${this.inflight.map(eventJson).join(',')}]` });
    this.watchdog ??= setInterval(() => this.checkProgress(), Math.max(5, Math.min(250, this.deps.timeoutMs / 4)));
  }

  private readLog(): void {
    const last = this.deps.events.lastSeq();
    const rows = this.deps.events.read({ tenantId: this.row.tenant_id, projectId: this.row.project_id, afterSeq: this.readPos, limit: READ });
    for (const e of rows) if (this.matches(e.type)) this.queue.push(e);
    if (rows.length < READ) {
      this.readPos = Math.max(last, rows.at(-1)?.seq ?? 0);
      this.caughtUp = true;
    } else {
      this.readPos = rows.at(-1)!.seq;
    }
  }

  private checkProgress(): void {
    if (this.inflight.length === 0) return;
    const done = Atomics.load(this.progress, 0);
    const now = Date.now();
    if (done !== this.progressSeen) {
      this.progressSeen = done;
      this.progressAt = now;
    } else if (now - this.progressAt > this.deps.timeoutMs) {
      this.fail('timeout', `handling one event took longer than ${this.deps.timeoutMs} ms`);
    }
  }

  private onMessage(m: FromWorker): void {
    switch (m.t) {
      case 'ready':
        this.ready = true;
        this.state = 'idle';
        this.schedule();
        break;
      case 'load-failed':
        this.fail('load_failed', m.error);
        break;
      case 'results':
        this.onResults(m.results);
        break;
      case 'rpc':
        this.answer(m);
        break;
      case 'log':
        this.log[m.level](m.data ?? {}, m.msg);
        break;
      case 'inspected':
        break;
    }
  }

  private answer(m: { id: number } & RpcRequest): void {
    try {
      const value = m.method === 'session'
        ? this.deps.domain.sessions.get(this.scope, m.sessionId)
        : this.deps.domain.messages.recent(this.scope, m.sessionId, {
          upToId: m.beforeMessageId,
          participantId: m.query.participantId,
          sinceSeconds: m.query.sinceSeconds,
          limit: Math.min(500, Math.max(1, Math.trunc(m.query.limit ?? 50))),
        });
      this.post({ t: 'rpc', id: m.id, ok: true, value });
    } catch (err) {
      this.post({ t: 'rpc', id: m.id, ok: false, error: (err as Error).message });
    }
  }

  private onResults(results: EventResult[]): void {
    const batch = this.inflight;
    const good: { event: DomainEvent; result: PluginResult }[] = [];
    let failure: { kind: string; message: string; seq: number } | null = null;
    for (const [i, r] of results.entries()) {
      if (!r.ok) {
        failure = { kind: 'threw', message: r.error, seq: r.seq };
        break;
      }
      try {
        good.push({ event: batch[i]!, result: normalize(r.output) });
      } catch (err) {
        failure = { kind: 'bad_output', message: (err as Error).message, seq: r.seq };
        break;
      }
    }
    this.clearWatchdog();
    const generation = this.generation;
    const finish = (f: typeof failure) => {
      if (generation !== this.generation) return; // the worker was replaced meanwhile
      if (f) return this.fail(f.kind, f.message, f.seq);
      this.inflight = [];
      this.failures = 0;
      this.schedule();
    };
    if (good.length === 0) return finish(failure);
    const last = good.at(-1)!.event.seq;
    const done = (annotations: number) => {
      this.committed = Math.max(this.committed, last);
      this.processed += good.length;
      this.annotationsWritten += annotations;
      this.rate.push([Date.now(), good.length]);
      for (const g of good) this.attempts.delete(g.event.seq);
    };
    if (!good.some((g) => hasEffects(g.result))) {
      // Nothing to write: move the cursor lazily (a crash replays these events, which write nothing).
      done(0);
      this.cursorDirty = true;
      this.cursorTimer ??= setTimeout(() => this.flushCursor(), CURSOR_FLUSH_MS).unref();
      return finish(failure);
    }
    // In the API's group commit: one transaction for many batches and requests.
    this.deps.events
      .commit(() => {
        let n = 0;
        for (const g of good) n += this.apply(g.event, g.result);
        this.deps.events.setCursor(cursorName(this.row.id), last);
        return n;
      }, `plugin:${this.row.plugin_id}`)
      .then(
        (n) => {
          done(n);
          if (this.committed === last) this.cursorDirty = false;
          finish(failure);
        },
        (err: Error) => {
          this.log.error({ err }, 'applying plugin results failed');
          finish({ kind: 'apply_failed', message: err.message, seq: good[0]!.event.seq });
        },
      );
  }

  /** Persists a cursor that moved without writes (see onResults). */
  private flushCursor(): void {
    if (this.cursorTimer) clearTimeout(this.cursorTimer);
    this.cursorTimer = null;
    if (!this.cursorDirty) return;
    this.cursorDirty = false;
    try {
      this.deps.events.write(() => this.deps.events.setCursor(cursorName(this.row.id), this.committed), `plugin:${this.row.plugin_id}`);
    } catch (err) {
      this.log.error({ err }, 'saving the plugin cursor failed');
    }
  }

  /** Writes one event's output; returns the number of annotations written. Inside write(). */
  private apply(event: DomainEvent, result: PluginResult): number {
    const isMessage = event.type.startsWith('message.');
    const data = event.payload.data as { id: string; sessionId?: string; participantId?: string | null };
    const sessionId = isMessage ? data.sessionId! : data.id;
    const messageId = isMessage ? data.id : null;
    const { messages, annotations, sessions } = this.deps.domain;
    // The target may have been deleted since the event: then there is nothing to annotate.
    const exists = messageId ? messages.exists(this.scope, sessionId, messageId) : sessions.exists(this.scope, sessionId);
    if (!exists) return 0;
    let written = 0;
    for (const [ordinal, draft] of (result.annotations ?? []).entries()) {
      const target = draft.target ?? (messageId ? 'message' : 'session');
      const a = annotations.createFromPlugin({
        scope: this.scope,
        sessionId,
        messageId: target === 'message' ? messageId : null,
        participantId: target === 'message' ? (data.participantId ?? null) : null,
        pluginId: this.row.plugin_id,
        originSeq: event.seq,
        ordinal,
        type: draft.type,
        score: draft.score ?? null,
        severity: (draft.severity ?? null) as Annotation['severity'],
        content: draft.content ?? null,
      });
      if (a) written++;
    }
    if (result.redactedContent !== undefined && messageId) messages.redact(this.scope, sessionId, messageId, result.redactedContent, event.seq);
    // Not from session.updated: writing the summary emits session.updated again, which would loop.
    if (result.summary !== undefined && !messageId && event.type !== 'session.updated') sessions.update(this.scope, sessionId, { summary: result.summary });
    return written;
  }

  /** Stops the worker, records why, and restarts it after a backoff (or skips a poison event). */
  private fail(kind: string, message: string, seq?: number): void {
    if (!this.worker) return;
    const failingSeq = seq ?? this.inflight[Atomics.load(this.progress, 0)]?.seq ?? null;
    this.stopWorker();
    this.restarts++;
    this.failures++;
    let skipped = false;
    try {
      this.deps.events.write(() => {
        this.deps.installations.recordError(this.row, kind, message, failingSeq);
        if (failingSeq !== null) {
          const n = (this.attempts.get(failingSeq) ?? 0) + 1;
          this.attempts.set(failingSeq, n);
          if (n >= MAX_ATTEMPTS) {
            this.deps.installations.recordError(this.row, 'skipped', `event ${failingSeq} skipped after ${n} failed attempts`, failingSeq);
            this.deps.events.setCursor(cursorName(this.row.id), failingSeq);
            skipped = true;
          }
        }
      }, `plugin:${this.row.plugin_id}`);
    } catch (err) {
      this.log.error({ err }, 'recording a plugin failure failed');
    }
    if (skipped && failingSeq !== null) {
      this.attempts.delete(failingSeq);
      this.committed = Math.max(this.committed, failingSeq);
    }
    this.log.warn({ kind, seq: failingSeq, restarts: this.restarts }, `plugin failed: ${message.split('\n')[0]}`);
    this.resetToCommitted();
    this.state = 'backoff';
    const delay = Math.min(MAX_BACKOFF_MS, 250 * 2 ** Math.min(this.failures - 1, 10));
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      this.start();
    }, delay);
    this.restartTimer.unref();
  }

  private resetToCommitted(): void {
    this.inflight = [];
    this.queue = [];
    this.readPos = this.committed;
    this.caughtUp = false;
  }

  private stopWorker(): void {
    this.generation++;
    this.clearWatchdog();
    this.ready = false;
    const w = this.worker;
    this.worker = null;
    if (w) void w.terminate();
  }

  private clearWatchdog(): void {
    if (this.watchdog) clearInterval(this.watchdog);
    this.watchdog = null;
  }

  private post(m: ToWorker): void {
    this.worker?.postMessage(m);
  }
}

const hasEffects = (r: PluginResult): boolean =>
  (r.annotations?.length ?? 0) > 0 || r.redactedContent !== undefined || r.summary !== undefined;

/** A handler's return value as a PluginResult, checked: a malformed output fails the event. */
function normalize(output: PluginOutput): PluginResult {
  if (output === undefined || output === null) return {};
  const result: PluginResult = Array.isArray(output) ? { annotations: output } : output;
  if (typeof result !== 'object') throw new BadOutput('handle() must return annotations, a result object or nothing');
  for (const [i, d] of (result.annotations ?? []).entries()) checkDraft(d, i);
  if (result.redactedContent !== undefined && (typeof result.redactedContent !== 'string' || result.redactedContent.length === 0)) {
    throw new BadOutput('redactedContent must be a non-empty string');
  }
  if (result.summary !== undefined && (typeof result.summary !== 'string' || result.summary.length > 100_000)) throw new BadOutput('summary must be a string (≤ 100,000 characters)');
  return result;
}

function checkDraft(d: AnnotationDraft, i: number): void {
  const at = `annotations[${i}]`;
  if (!d || typeof d !== 'object') throw new BadOutput(`${at} is not an object`);
  if (typeof d.type !== 'string' || d.type.length === 0 || d.type.length > 64) throw new BadOutput(`${at}.type must be a string of 1–64 characters`);
  if (d.target !== undefined && d.target !== 'message' && d.target !== 'session') throw new BadOutput(`${at}.target must be "message" or "session"`);
  if (d.score !== undefined && d.score !== null && !(typeof d.score === 'number' && d.score >= 0 && d.score <= 1)) throw new BadOutput(`${at}.score must be a number from 0 to 1`);
  if (d.severity !== undefined && d.severity !== null && !SEVERITIES.includes(d.severity)) throw new BadOutput(`${at}.severity must be low, medium or high`);
  if (d.content !== undefined && d.content !== null) {
    if (typeof d.content !== 'object' || Array.isArray(d.content)) throw new BadOutput(`${at}.content must be an object`);
    if (JSON.stringify(d.content).length > MAX_CONTENT_BYTES) throw new BadOutput(`${at}.content is larger than ${MAX_CONTENT_BYTES} bytes`);
  }
}

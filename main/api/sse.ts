import type { ServerResponse } from 'node:http';
import type { DomainEvent } from '../../common/events.js';
import { eventJson, type EventLog } from '../events/log.js';

export interface StreamFilter {
  tenantId: string;
  projectId: string | null;
  match: (type: string) => boolean;
}

const REPLAY_BATCH = 500;

/**
 * One SSE connection. It replays the log after `since` from SQLite, then goes live.
 * Committed events are dispatched synchronously right after their commit, so the last
 * replay read and the switch to live happen in one tick: no gap, and the seq guard drops
 * anything already sent, so no duplicate either.
 *
 * A client that cannot keep up (more than `maxBuffered` bytes unsent) stops receiving live
 * events and catches up from the log once its socket drains, so it costs bounded memory
 * and never slows the writer or other clients. One that makes no progress (its socket does
 * not drain) for `maxLagMs` is closed; it reconnects with Last-Event-ID and loses nothing. A
 * client that is reading, only slowly (a loaded machine), keeps catching up.
 */
class SseStream {
  private live = false;
  private closed = false;
  private lagTimer: NodeJS.Timeout | null = null;

  constructor(
    readonly res: ServerResponse,
    readonly filter: StreamFilter,
    private lastSeq: number,
    private readonly log: EventLog,
    private readonly limits: { maxBufferedBytes: number; maxLagMs: number },
    private readonly onClose: (s: SseStream) => void,
  ) {
    res.on('close', () => this.close());
  }

  wants(e: DomainEvent): boolean {
    return e.tenantId === this.filter.tenantId && (this.filter.projectId === null || e.projectId === this.filter.projectId) && this.filter.match(e.type);
  }

  /** Sends everything after `lastSeq` from the log, then goes live. */
  async replay(): Promise<void> {
    for (;;) {
      if (this.closed) return;
      const batch = this.log.read({ tenantId: this.filter.tenantId, projectId: this.filter.projectId ?? undefined, afterSeq: this.lastSeq, limit: REPLAY_BATCH });
      let chunk = '';
      for (const e of batch) if (this.filter.match(e.type)) chunk += frame(e);
      const last = batch[batch.length - 1];
      if (last) this.lastSeq = last.seq;
      const flushed = chunk === '' || this.res.write(chunk);
      if (batch.length < REPLAY_BATCH && flushed) {
        // Caught up: go live in this same tick (see the class comment).
        this.goLive();
        return;
      }
      if (!flushed) {
        if (!(await this.drained())) return;
        if (!this.live) this.armLagTimer(); // it read something: give it another maxLagMs
      }
    }
  }

  push(e: DomainEvent): void {
    if (!this.live || e.seq <= this.lastSeq) return;
    this.lastSeq = e.seq;
    this.res.write(frame(e));
    if (this.res.writableLength > this.limits.maxBufferedBytes) this.fallBehind();
  }

  private goLive(): void {
    this.live = true;
    if (this.lagTimer) clearTimeout(this.lagTimer);
    this.lagTimer = null;
  }

  private fallBehind(): void {
    this.live = false;
    this.armLagTimer();
    void this.drained().then((ok) => {
      if (ok) void this.replay();
    });
  }

  private armLagTimer(): void {
    if (this.lagTimer) clearTimeout(this.lagTimer);
    this.lagTimer = setTimeout(() => this.close(), this.limits.maxLagMs);
  }

  /** True once the socket has drained, false if it closed first. */
  private drained(): Promise<boolean> {
    return new Promise((resolve) => {
      const done = (ok: boolean) => {
        this.res.off('drain', onDrain);
        this.res.off('close', onClose);
        resolve(ok && !this.closed);
      };
      const onDrain = () => done(true);
      const onClose = () => done(false);
      this.res.once('drain', onDrain);
      this.res.once('close', onClose);
    });
  }

  comment(text: string): void {
    if (this.live && !this.closed) this.res.write(`: ${text}\n\n`);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.lagTimer) clearTimeout(this.lagTimer);
    this.onClose(this);
    if (!this.res.writableEnded) this.res.end();
    if (!this.live) this.res.destroy();
  }
}

function frame(e: DomainEvent): string {
  return `id: ${e.seq}\ndata: ${eventJson(e)}\n\n`;
}

/** All open SSE streams, fed from the event log's in-process dispatch. */
export class SseHub {
  private readonly streams = new Set<SseStream>();
  private readonly unsubscribe: () => void;
  private readonly heartbeat: NodeJS.Timeout;

  constructor(private readonly log: EventLog, private readonly opts: { heartbeatMs: number; maxBufferedBytes: number; maxLagMs: number }) {
    this.unsubscribe = log.subscribe((e) => {
      for (const s of this.streams) if (s.wants(e)) s.push(e);
    });
    this.heartbeat = setInterval(() => {
      for (const s of this.streams) s.comment('heartbeat');
    }, opts.heartbeatMs);
    this.heartbeat.unref();
  }

  get size(): number {
    return this.streams.size;
  }

  async open(res: ServerResponse, filter: StreamFilter, since: number | null): Promise<void> {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.socket?.setNoDelay(true);
    const start = since ?? this.log.lastSeq();
    // `ready` names the position the stream starts from, so a client that drops before its
    // first event can still resume from there without a gap.
    res.write(`retry: 1000\nid: ${start}\nevent: ready\ndata: {"seq":${start}}\n\n`);
    const stream = new SseStream(res, filter, start, this.log, this.opts, (s) => this.streams.delete(s));
    this.streams.add(stream);
    await stream.replay();
  }

  closeAll(): void {
    clearInterval(this.heartbeat);
    this.unsubscribe();
    for (const s of [...this.streams]) s.close();
  }
}

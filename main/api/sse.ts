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
 * One SSE connection. It first replays the log after `since` from SQLite, then goes live.
 * Because committed events are dispatched synchronously right after their commit, the last
 * replay read and the switch to live happen in one tick: no gap, and the seq guard drops
 * anything already sent, so no duplicate either.
 */
class SseStream {
  private live = false;
  private closed = false;

  constructor(
    readonly res: ServerResponse,
    readonly filter: StreamFilter,
    private lastSeq: number,
    private readonly maxBuffered: number,
    private readonly onClose: (s: SseStream) => void,
  ) {
    res.on('close', () => this.close());
  }

  wants(e: DomainEvent): boolean {
    return e.tenantId === this.filter.tenantId && (this.filter.projectId === null || e.projectId === this.filter.projectId) && this.filter.match(e.type);
  }

  async replay(log: EventLog): Promise<void> {
    for (;;) {
      if (this.closed) return;
      const batch = log.read({ tenantId: this.filter.tenantId, projectId: this.filter.projectId ?? undefined, afterSeq: this.lastSeq, limit: REPLAY_BATCH });
      let chunk = '';
      for (const e of batch) if (this.filter.match(e.type)) chunk += frame(e);
      const last = batch[batch.length - 1];
      if (last) this.lastSeq = last.seq;
      if (batch.length < REPLAY_BATCH) {
        // Caught up: go live in this same tick (see the class comment).
        this.live = true;
        if (chunk) this.res.write(chunk);
        return;
      }
      if (chunk && !this.res.write(chunk)) await new Promise<void>((resolve) => {
        this.res.once('drain', resolve);
        this.res.once('close', resolve);
      });
    }
  }

  push(e: DomainEvent): void {
    if (!this.live || e.seq <= this.lastSeq) return;
    this.lastSeq = e.seq;
    this.res.write(frame(e));
    // A client that cannot keep up is cut off rather than buffered without bound; it
    // reconnects with Last-Event-ID and replays what it missed from the log.
    if (this.res.writableLength > this.maxBuffered) {
      this.res.destroy();
      this.close();
    }
  }

  comment(text: string): void {
    if (!this.closed) this.res.write(`: ${text}\n\n`);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.onClose(this);
    if (!this.res.writableEnded) this.res.end();
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

  constructor(private readonly log: EventLog, private readonly opts: { heartbeatMs: number; maxBufferedBytes: number }) {
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
    res.write('retry: 1000\n\n');
    const start = since ?? this.log.lastSeq();
    const stream = new SseStream(res, filter, start, this.opts.maxBufferedBytes, (s) => this.streams.delete(s));
    this.streams.add(stream);
    await stream.replay(this.log);
  }

  closeAll(): void {
    clearInterval(this.heartbeat);
    this.unsubscribe();
    for (const s of [...this.streams]) s.close();
  }
}

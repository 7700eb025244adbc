/**
 * What needs a moderator's attention, for the desktop shell (tray counts, notifications):
 * active sessions and open review items of the console's tenant, recounted when an event that
 * can change them commits, and high-severity flags as they are written.
 */
import type { Annotation } from '../../common/schemas.js';
import type { EventLog } from '../events/log.js';

export interface AttentionCounts {
  activeSessions: number;
  openReview: number;
}

export interface AttentionOptions {
  events: EventLog;
  tenantId: string;
  /** The current counts (asked of the modules that own sessions and review items). */
  count(): AttentionCounts;
  onCounts(counts: AttentionCounts): void;
  onHighSeverityFlag(annotation: Annotation): void;
}

const RECOUNT = /^(session\.|review\.)/;

/** Starts watching; returns a stop function. Counts are reported once at start and after each change. */
export function watchAttention(o: AttentionOptions): () => void {
  let last = '';
  let pending = false;
  let stopped = false;
  const recount = () => {
    pending = false;
    if (stopped) return;
    const counts = o.count();
    const key = `${counts.activeSessions}/${counts.openReview}`;
    if (key === last) return;
    last = key;
    o.onCounts(counts);
  };
  recount();
  const unsubscribe = o.events.subscribe((e) => {
    if (e.tenantId !== o.tenantId) return;
    if (e.type === 'message.annotation.created') {
      const a = e.payload.data as unknown as Annotation;
      if (a.severity === 'high') o.onHighSeverityFlag(a);
      return;
    }
    // One recount per burst of events, not one per event.
    if (RECOUNT.test(e.type) && !pending) {
      pending = true;
      setTimeout(recount, 200).unref();
    }
  });
  return () => {
    stopped = true;
    unsubscribe();
  };
}

/**
 * Notifications for high-severity flags without a storm: the first flag is shown at once,
 * the ones after it within `intervalMs` are summed up in one notification when the interval ends.
 */
export class FlagDigest {
  private held: Annotation[] = [];
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly show: (first: Annotation, more: number) => void,
    private readonly intervalMs = 10_000,
  ) {}

  add(a: Annotation): void {
    if (this.timer) {
      this.held.push(a);
      return;
    }
    this.show(a, 0);
    this.arm();
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.held = [];
  }

  private arm(): void {
    this.timer = setTimeout(() => {
      this.timer = null;
      const held = this.held;
      this.held = [];
      if (held.length > 0) {
        this.show(held[0]!, held.length - 1);
        this.arm();
      }
    }, this.intervalMs);
    this.timer.unref();
  }
}

import type { Message } from '../../common/schemas.js';
import type { RecentMessagesQuery } from './api.js';

/** What the worker asks the main thread for when it starts watching a session. */
export const SEED_LIMIT = 500;
/** Messages posted this much before their timestamp may still fall in a window (as the main thread's query allows). */
const POSTED_LATE_SLACK_MS = 60_000;

interface Window {
  /** Oldest first. */
  messages: Message[];
  /** The newest timestamp among this session's messages that are not in memory (-Infinity: none). */
  lostMs: number;
  /** The same per speaker, for messages trimmed from memory. */
  lostBySpeaker: Map<string | null, number>;
}

/**
 * A plugin worker's own view of each session's recent messages, built from the message.created
 * events it consumes (in log order), so `ctx.recentMessages` rarely has to wait for the main
 * thread (whose event loop is busy accepting messages exactly when plugins are busiest). A
 * session is seeded once from the main thread; after that every message of it passes through
 * the worker. `answer` returns undefined whenever memory cannot be sure it holds every message
 * the query matches; the caller then asks the main thread.
 */
export class SessionWindows {
  private readonly sessions = new Map<string, Window>();
  private total = 0;

  constructor(
    private readonly perSession = 20_000,
    private readonly overall = 50_000,
  ) {}

  has(sessionId: string): boolean {
    return this.sessions.has(sessionId);
  }

  /** A consumed message.created, in log order. */
  observe(m: Message): void {
    const w = this.sessions.get(m.sessionId);
    if (!w) return;
    const last = w.messages.at(-1);
    if (last && last.id >= m.id) return; // already seen (the seed included it)
    w.messages.push(m);
    this.total++;
    if (w.messages.length > this.perSession) this.trim(w, w.messages.length - this.perSession);
    while (this.total > this.overall && this.sessions.size > 1) this.forget(this.sessions.keys().next().value!);
  }

  /** The newest messages of a session up to some point (at most `limit`), from the main thread. */
  seed(sessionId: string, messages: Message[], limit: number): void {
    this.forget(sessionId);
    const lostMs = messages.length < limit ? -Infinity : Date.parse(messages[0]!.timestamp);
    this.sessions.set(sessionId, { messages: [...messages], lostMs, lostBySpeaker: new Map() });
    this.total += messages.length;
  }

  answer(sessionId: string, upToId: string | null, q: RecentMessagesQuery): Message[] | undefined {
    const w = this.sessions.get(sessionId);
    if (!w) return undefined;
    this.sessions.delete(sessionId); // most recently used last: the first to go is the least used
    this.sessions.set(sessionId, w);
    const msgs = w.messages;
    let end = msgs.length - 1;
    if (upToId !== null) {
      if (end < 0 || msgs[end]!.id < upToId) return undefined; // memory has not seen that message
      while (end >= 0 && msgs[end]!.id > upToId) end--;
    }
    const anchorMs = upToId !== null && end >= 0 ? Date.parse(msgs[end]!.timestamp) : Date.now();
    const bound = q.sinceSeconds !== undefined ? anchorMs - q.sinceSeconds * 1000 : -Infinity;
    const limit = Math.min(500, Math.max(1, Math.trunc(q.limit ?? 50)));
    const found: Message[] = [];
    for (let i = end; i >= 0 && found.length < limit; i--) {
      const m = msgs[i]!;
      if (q.participantId !== undefined && m.participantId !== q.participantId) continue;
      if (Date.parse(m.timestamp) < bound) continue;
      found.push(m);
    }
    const lost = Math.max(w.lostMs, q.participantId !== undefined ? (w.lostBySpeaker.get(q.participantId) ?? -Infinity) : maxOf(w.lostBySpeaker));
    const complete = found.length === limit || lost === -Infinity || lost + POSTED_LATE_SLACK_MS < bound;
    return complete ? found.reverse() : undefined;
  }

  private trim(w: Window, n: number): void {
    for (const m of w.messages.splice(0, n)) {
      const t = Date.parse(m.timestamp);
      if (t > (w.lostBySpeaker.get(m.participantId) ?? -Infinity)) w.lostBySpeaker.set(m.participantId, t);
    }
    this.total -= n;
  }

  private forget(sessionId: string): void {
    const w = this.sessions.get(sessionId);
    if (!w) return;
    this.total -= w.messages.length;
    this.sessions.delete(sessionId);
  }
}

const maxOf = (m: Map<unknown, number>): number => {
  let max = -Infinity;
  for (const v of m.values()) if (v > max) max = v;
  return max;
};

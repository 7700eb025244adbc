import type { Message } from '../../common/schemas.js';
import { windowFloorId } from '../domain/messages.js';
import type { RecentMessagesQuery } from './api.js';

/** What the worker asks the main thread for when it starts watching a session. */
export const SEED_LIMIT = 500;

interface Window {
  /** Oldest first (log order), and the same per speaker. */
  messages: Message[];
  bySpeaker: Map<string | null, Message[]>;
  /** Every message of the session not in memory has an id ≤ this ('' = none missing). */
  lostUpTo: string;
  /** The same per speaker, for messages trimmed from memory. */
  lostUpToBySpeaker: Map<string | null, string>;
}

/**
 * A plugin worker's own view of each session's recent messages, built from the message.created
 * events it consumes (in log order), so `ctx.recentMessages` rarely has to wait for the main
 * thread (whose event loop is busy accepting messages exactly when plugins are busiest). A
 * session is seeded once from the main thread; after that every message of it passes through
 * the worker. `answer` gives exactly what the main thread's query would (messages.recent), or
 * undefined whenever memory cannot be sure it holds every message the query matches; the
 * caller then asks the main thread.
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
    add(w, m);
    this.total++;
    if (w.messages.length > this.perSession) this.trim(w, w.messages.length - this.perSession);
    while (this.total > this.overall && this.sessions.size > 1) this.forget(this.sessions.keys().next().value!);
  }

  /** The newest messages of a session up to some point (at most `limit`), from the main thread. */
  seed(sessionId: string, messages: Message[], limit: number): void {
    this.forget(sessionId);
    const w: Window = { messages: [], bySpeaker: new Map(), lostUpTo: messages.length < limit ? '' : messages[0]!.id, lostUpToBySpeaker: new Map() };
    for (const m of messages) add(w, m);
    this.sessions.set(sessionId, w);
    this.total += messages.length;
  }

  answer(sessionId: string, upToId: string | null, q: RecentMessagesQuery): Message[] | undefined {
    const w = this.sessions.get(sessionId);
    if (!w) return undefined;
    this.sessions.delete(sessionId); // most recently used last: the first to go is the least used
    this.sessions.set(sessionId, w);
    let anchorMs = Date.now();
    if (upToId !== null) {
      const i = lastAtOrBefore(w.messages, upToId);
      if (i < 0 || w.messages[i]!.id !== upToId) return undefined; // memory has not seen that message
      anchorMs = Date.parse(w.messages[i]!.timestamp);
    }
    const list = q.participantId !== undefined ? (w.bySpeaker.get(q.participantId) ?? []) : w.messages;
    const since = q.sinceSeconds !== undefined ? anchorMs - q.sinceSeconds * 1000 : undefined;
    const floor = since !== undefined ? windowFloorId(since) : '';
    const limit = Math.min(500, Math.max(1, Math.trunc(q.limit ?? 50)));
    const found: Message[] = [];
    for (let i = upToId === null ? list.length - 1 : lastAtOrBefore(list, upToId); i >= 0 && found.length < limit; i--) {
      const m = list[i]!;
      if (m.id < floor) break;
      if (since === undefined || Date.parse(m.timestamp) >= since) found.push(m);
    }
    const lost = q.participantId !== undefined ? maxId(w.lostUpTo, w.lostUpToBySpeaker.get(q.participantId) ?? '') : maxId(w.lostUpTo, ...w.lostUpToBySpeaker.values());
    const complete = found.length === limit || lost === '' || lost < floor;
    return complete ? found.reverse() : undefined;
  }

  private trim(w: Window, n: number): void {
    for (const m of w.messages.splice(0, n)) {
      w.bySpeaker.get(m.participantId)!.shift();
      w.lostUpToBySpeaker.set(m.participantId, m.id);
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

function add(w: Window, m: Message): void {
  w.messages.push(m);
  const own = w.bySpeaker.get(m.participantId);
  if (own) own.push(m);
  else w.bySpeaker.set(m.participantId, [m]);
}

/** Index of the last message with id ≤ `id` (-1 if none); `list` is in id order. */
function lastAtOrBefore(list: readonly Message[], id: string): number {
  let lo = 0;
  let hi = list.length - 1;
  let at = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (list[mid]!.id <= id) {
      at = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return at;
}

const maxId = (...ids: string[]): string => ids.reduce((a, b) => (b > a ? b : a), '');

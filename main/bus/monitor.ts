import { Subscriber } from 'zeromq';

export interface TopicActivity {
  /** Messages per second over the last window; null until measured. */
  rate: number | null;
  /** ISO time of the last message seen; null if none yet. */
  lastMessageAt: string | null;
}

const WINDOW_MS = 5_000;
const IDLE_STOP_MS = 60_000;

interface Watch {
  socket: Subscriber;
  address: string;
  times: number[];
  last: number | null;
  since: number;
}

/**
 * Measures topic message rates by listening to the topics' PUB sockets, but only while
 * someone looks (a topics view polling `activity()`): watching costs a copy of every
 * message, so it stops a minute after the last look.
 */
export class TopicMonitor {
  private readonly watches = new Map<string, Watch>();
  private lastLook = 0;
  private readonly idleTimer: NodeJS.Timeout;

  constructor() {
    this.idleTimer = setInterval(() => {
      if (Date.now() - this.lastLook > IDLE_STOP_MS) this.stopAll();
    }, 10_000);
    this.idleTimer.unref();
  }

  /** Activity of the given topics; starts watching the ones not watched yet. */
  activity(topics: { name: string; address: string }[]): Map<string, TopicActivity> {
    const now = Date.now();
    this.lastLook = now;
    const out = new Map<string, TopicActivity>();
    const live = new Set(topics.map((t) => t.name));
    for (const [name, w] of this.watches) if (!live.has(name)) this.stop(name, w);
    for (const t of topics) {
      let w = this.watches.get(t.name);
      if (w && w.address !== t.address) {
        this.stop(t.name, w);
        w = undefined;
      }
      if (!w) {
        w = this.watch(t.name, t.address);
        out.set(t.name, { rate: null, lastMessageAt: null });
        continue;
      }
      while (w.times.length && w.times[0]! < now - WINDOW_MS) w.times.shift();
      const span = Math.min(WINDOW_MS, now - w.since);
      out.set(t.name, {
        rate: span >= 1000 ? Math.round((w.times.length / span) * 10_000) / 10 : null,
        lastMessageAt: w.last === null ? null : new Date(w.last).toISOString(),
      });
    }
    return out;
  }

  private watch(name: string, address: string): Watch {
    const socket = new Subscriber({ receiveHighWaterMark: 1000 });
    socket.connect(address);
    socket.subscribe(name);
    const w: Watch = { socket, address, times: [], last: null, since: Date.now() };
    this.watches.set(name, w);
    void (async () => {
      try {
        for await (const frames of socket) {
          if (frames[0]?.toString() !== name) continue;
          const t = Date.now();
          w.last = t;
          w.times.push(t);
          if (w.times.length > 100_000) w.times.splice(0, w.times.length - 100_000);
        }
      } catch {
        // closed
      }
    })();
    return w;
  }

  private stop(name: string, w: Watch): void {
    this.watches.delete(name);
    w.socket.close();
  }

  private stopAll(): void {
    for (const [name, w] of this.watches) this.stop(name, w);
  }

  close(): void {
    clearInterval(this.idleTimer);
    this.stopAll();
  }
}

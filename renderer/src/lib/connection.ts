/**
 * Observes the event-stream requests of the HTTP transport (by wrapping its `fetch`) so the
 * UI can show whether live updates are flowing. Framework-free; read it with
 * `useSyncExternalStore`.
 */
export type ConnectionState = 'connecting' | 'live' | 'reconnecting';

export interface ConnectionSnapshot {
  state: ConnectionState;
  /** Event streams currently open. */
  openStreams: number;
}

interface StreamEntry {
  open: number;
  failing: boolean;
}

export class ConnectionMonitor {
  private readonly streams = new Map<string, StreamEntry>();
  private readonly listeners = new Set<() => void>();
  private snapshot: ConnectionSnapshot = { state: 'connecting', openStreams: 0 };

  readonly subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  readonly getSnapshot = (): ConnectionSnapshot => this.snapshot;

  /** Wraps `fetch` so responses of `…/events/stream` requests are tracked. */
  wrapFetch(inner: typeof fetch): typeof fetch {
    return async (input, init) => {
      const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
      if (!url.includes('/events/stream')) return inner(input, init);
      const aborted = (): boolean => init?.signal?.aborted ?? false;
      let res: Response;
      try {
        res = await inner(input, init);
      } catch (err) {
        if (!aborted()) this.update(url, 0, true);
        throw err;
      }
      if (!res.ok || !res.body) {
        this.update(url, 0, true);
        return res;
      }
      this.update(url, +1, false);
      const body = track(res.body, () => this.update(url, -1, !aborted()));
      return new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers });
    };
  }

  /** Drops entries of streams nobody is retrying any more (called after an unsubscribe). */
  forgetIdle(): void {
    for (const [url, entry] of this.streams) if (entry.open === 0) this.streams.delete(url);
    this.emit();
  }

  private update(url: string, delta: number, failing: boolean): void {
    const entry = this.streams.get(url) ?? { open: 0, failing: false };
    entry.open = Math.max(0, entry.open + delta);
    entry.failing = delta > 0 ? false : failing || entry.failing;
    this.streams.set(url, entry);
    this.emit();
  }

  private emit(): void {
    let open = 0;
    let failing = false;
    for (const entry of this.streams.values()) {
      open += entry.open;
      failing ||= entry.failing;
    }
    const state: ConnectionState = failing ? 'reconnecting' : open > 0 ? 'live' : 'connecting';
    if (state === this.snapshot.state && open === this.snapshot.openStreams) return;
    this.snapshot = { state, openStreams: open };
    for (const listener of this.listeners) listener();
  }
}

/** Passes a body through unchanged, calling `onEnd` once when it finishes, fails or is cancelled. */
function track(body: ReadableStream<Uint8Array>, onEnd: () => void): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  let ended = false;
  const end = (): void => {
    if (ended) return;
    ended = true;
    onEnd();
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { value, done } = await reader.read();
        if (done) {
          end();
          controller.close();
        } else {
          controller.enqueue(value);
        }
      } catch (err) {
        end();
        controller.error(err);
      }
    },
    cancel(reason) {
      end();
      return reader.cancel(reason);
    },
  });
}

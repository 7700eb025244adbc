/**
 * Client of the discovery daemon (see protocol.ts for the wire form).
 *
 * - One REQ socket; requests are serialized (one in flight, the others queue in order).
 * - Every call has a deadline of `timeoutMs` counted from when it was called (time spent
 *   queued behind another request counts). On a timeout the call rejects with a
 *   DiscoveryTimeoutError and the REQ socket, which is then stuck mid-exchange, is closed
 *   (linger 0, so the stale request is dropped) and recreated: the next call works.
 * - `ping()` resolves false instead of rejecting when nothing answers.
 * - `heartbeat(node, topics)` resolves with the names the daemon does NOT hold for that
 *   node (e.g. after a daemon restart): re-register those. `keepAlive()` below does the
 *   whole loop. Against an original daemon (answers ERROR to HEARTBEAT) the client falls
 *   back to no-heartbeat mode: heartbeat() resolves [] without sending, and retries the
 *   daemon every `HEARTBEAT_RETRY_MS` in case it was replaced by a newer one.
 */
import { Context, Request } from 'zeromq';
import { Command, decodeReply, encodeRequest, Status, type DiscoveryReply, type DiscoveryRequest, type TopicInfo } from './protocol.js';

export type { TopicInfo } from './protocol.js';

export class DiscoveryTimeoutError extends Error {
  override name = 'DiscoveryTimeoutError';
}

export class DiscoveryError extends Error {
  override name = 'DiscoveryError';
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

const HEARTBEAT_RETRY_MS = 30_000;
/** Replies are small, but LIST of many topics can be large; still bound what we accept. */
const MAX_REPLY_BYTES = 64 * 1024 * 1024;

interface Pending {
  req: DiscoveryRequest;
  deadline: number;
  resolve: (r: DiscoveryReply) => void;
  reject: (e: Error) => void;
}

export class DiscoveryClient {
  readonly endpoint: string;
  readonly timeoutMs: number;
  private readonly context: Context | undefined;
  private socket: Request | null = null;
  private readonly queue: Pending[] = [];
  private busy = false;
  private closed = false;
  private heartbeatUnsupportedUntil = 0;

  constructor(opts: { endpoint: string; timeoutMs?: number; context?: Context }) {
    this.endpoint = opts.endpoint;
    this.timeoutMs = opts.timeoutMs ?? 1000;
    this.context = opts.context;
  }

  /** False while the daemon is known not to understand HEARTBEAT (an original daemon). */
  get heartbeatSupported(): boolean {
    return Date.now() >= this.heartbeatUnsupportedUntil;
  }

  /**
   * Registers a topic. 'exists': a live publisher already owns the name.
   * `lease: true` tells a new daemon that this client will heartbeat the topic (it is
   * then lease-checked from the start instead of endpoint-probed); old daemons ignore it.
   */
  async register(info: TopicInfo, opts?: { lease?: boolean }): Promise<'ok' | 'exists'> {
    const r = await this.request({ command: Command.REGISTER_TOPIC, topicName: info.name, topicInfo: info, lease: opts?.lease === true });
    if (r.status === Status.OK) return 'ok';
    if (r.status === Status.ALREADY_EXISTS) return 'exists';
    throw this.failure('REGISTER_TOPIC', r);
  }

  /** True if the topic was registered (and now is not). */
  async unregister(name: string): Promise<boolean> {
    const r = await this.request({ command: Command.UNREGISTER_TOPIC, topicName: name });
    if (r.status === Status.OK) return true;
    if (r.status === Status.NOT_FOUND) return false;
    throw this.failure('UNREGISTER_TOPIC', r);
  }

  async lookup(name: string): Promise<TopicInfo | null> {
    const r = await this.request({ command: Command.LOOKUP_TOPIC, topicName: name });
    if (r.status === Status.OK && r.topicInfo) return r.topicInfo;
    if (r.status === Status.NOT_FOUND) return null;
    throw this.failure('LOOKUP_TOPIC', r);
  }

  async list(): Promise<TopicInfo[]> {
    const r = await this.request({ command: Command.LIST_TOPICS });
    if (r.status === Status.OK) return r.topics ?? [];
    throw this.failure('LIST_TOPICS', r);
  }

  /** True if a daemon answered PING within the timeout; never rejects (except after close()). */
  async ping(): Promise<boolean> {
    try {
      const r = await this.request({ command: Command.PING });
      return r.status === Status.OK;
    } catch (err) {
      if (this.closed) throw err;
      return false;
    }
  }

  /**
   * Renews the lease of `topics` (names) published by `publisherNode`. Resolves with the
   * names the daemon does not hold for that node: re-register them (see keepAlive()).
   * Rejects on timeout like every call. Against an original daemon: resolves [] and stops
   * sending heartbeats for a while (no-heartbeat mode).
   */
  async heartbeat(publisherNode: string, topics: string[]): Promise<string[]> {
    if (!this.heartbeatSupported) return [];
    const r = await this.request({ command: Command.HEARTBEAT, topicName: publisherNode, topics });
    if (r.status === Status.OK) return [];
    if (r.status === Status.NOT_FOUND) return r.missing ?? [...topics];
    // An original daemon does not know the command: fall back to no-heartbeat mode.
    this.heartbeatUnsupportedUntil = Date.now() + HEARTBEAT_RETRY_MS;
    return [];
  }

  /** Closes the socket; queued and in-flight calls reject. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const p of this.queue.splice(0)) p.reject(new Error('DiscoveryClient closed'));
    this.dropSocket();
  }

  private failure(what: string, r: DiscoveryReply): DiscoveryError {
    return new DiscoveryError(`discovery ${what} failed (status ${r.status}): ${r.message}`, r.status);
  }

  private request(req: DiscoveryRequest): Promise<DiscoveryReply> {
    if (this.closed) return Promise.reject(new Error('DiscoveryClient closed'));
    return new Promise<DiscoveryReply>((resolve, reject) => {
      this.queue.push({ req, deadline: Date.now() + this.timeoutMs, resolve, reject });
      void this.pump();
    });
  }

  private async pump(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      for (let p = this.queue.shift(); p; p = this.queue.shift()) {
        try {
          p.resolve(await this.exchange(p));
        } catch (err) {
          p.reject(err as Error);
        }
      }
    } finally {
      this.busy = false;
    }
  }

  private ensureSocket(): Request {
    if (this.socket) return this.socket;
    const s = new Request({ linger: 0, maxMessageSize: MAX_REPLY_BYTES, ...(this.context ? { context: this.context } : {}) });
    s.connect(this.endpoint);
    this.socket = s;
    return s;
  }

  private dropSocket(): void {
    const s = this.socket;
    this.socket = null;
    if (s && !s.closed) s.close();
  }

  private async exchange(p: Pending): Promise<DiscoveryReply> {
    const timeout = () =>
      new DiscoveryTimeoutError(`discovery daemon at ${this.endpoint} did not answer within ${this.timeoutMs} ms (command ${p.req.command})`);
    let remaining = p.deadline - Date.now();
    if (remaining <= 0) throw timeout();
    const s = this.ensureSocket();
    try {
      s.sendTimeout = remaining;
      await s.send(encodeRequest(p.req));
      remaining = p.deadline - Date.now();
      if (remaining <= 0) throw timeout();
      s.receiveTimeout = remaining;
      const frames = await s.receive();
      const [frame] = frames;
      if (frames.length !== 1 || !frame) throw new Error(`discovery reply has ${frames.length} frames, expected 1`);
      return decodeReply(frame);
    } catch (err) {
      // The REQ socket is stuck between send and receive (or broken): start over.
      this.dropSocket();
      if (this.closed) throw new Error('DiscoveryClient closed');
      if (err instanceof DiscoveryTimeoutError) throw err;
      if ((err as { code?: string }).code === 'EAGAIN') throw timeout();
      throw err;
    }
  }
}

/** The heartbeat loop of a publishing node: renews leases and re-registers what the daemon lost. */
export interface KeepAlive {
  stop(): void;
  /** Runs one heartbeat (and re-registrations) now; resolves when done. */
  beat(): Promise<void>;
}

/**
 * Heartbeats `topics()` for `publisherNode` every `intervalMs` (default 1000 ms, i.e. a
 * third of the daemon's default 3 s lease) and re-registers (with `lease: true`) every
 * topic the daemon reports missing, e.g. after it restarted. Errors (timeouts while the
 * daemon is down, ALREADY_EXISTS on re-registration) go to `onError` and the loop goes on.
 */
export function keepAlive(
  client: DiscoveryClient,
  opts: {
    publisherNode: string;
    topics: () => TopicInfo[];
    intervalMs?: number;
    onError?: (err: Error) => void;
    onReregistered?: (name: string) => void;
  },
): KeepAlive {
  const intervalMs = opts.intervalMs ?? 1000;
  let stopped = false;
  let running: Promise<void> | null = null;
  const once = async () => {
    const all = opts.topics();
    const missing = await client.heartbeat(
      opts.publisherNode,
      all.map((t) => t.name),
    );
    for (const name of missing) {
      const info = all.find((t) => t.name === name);
      if (!info || stopped) continue;
      const r = await client.register(info, { lease: true });
      if (r === 'exists') opts.onError?.(new Error(`topic ${name} is registered by another live publisher`));
      else opts.onReregistered?.(name);
    }
  };
  const beat = () => {
    running ??= once()
      .catch((err: unknown) => {
        if (!stopped) opts.onError?.(err as Error);
      })
      .finally(() => {
        running = null;
      });
    return running;
  };
  const timer = setInterval(() => void beat(), intervalMs);
  timer.unref();
  return {
    stop() {
      stopped = true;
      clearInterval(timer);
    },
    beat,
  };
}

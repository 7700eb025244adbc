/**
 * Typed pub/sub nodes over ZeroMQ (see wire.ts for the frames, discovery/ for the daemon).
 *
 *   const node = new Node({ name: 'sensor' });
 *   const pub = await node.publisher('sensor/a', ArrayType, { queueSize: 100 });
 *   pub.publish({ data: new Float32Array(1024), name: 'a', frameId: 1 });
 *   const sub = node.subscriber('sensor/a', ArrayType, async (msg, header) => { ... });
 *   await sub.ready;                      // connected (after the discovery lookup)
 *   const t = node.timer(30, () => ...);  // drift-free 30 Hz
 *   await node.close();
 *
 * Design:
 * - One zmq Context per node. Each published topic binds its own PUB socket on
 *   `ipc://<runtimeDir>/<file>.sock` (see {@link topicSocketPath}) and is registered with
 *   the discovery daemon with a lease renewed every second (keepAlive(); topics the daemon
 *   lost, e.g. after a restart, are re-registered).
 * - publish() never blocks: it encodes at once (assigning the sequence number), sends if the
 *   socket is idle, else queues. zeromq.js allows one pending send per socket, so at most
 *   `queueSize` encoded messages wait; beyond that the OLDEST queued message is dropped
 *   (freshest data wins, as for sensor/audio streams) and counted in `stats.dropped`.
 *   Because sequence numbers are assigned at publish time, drops also show up as gaps at the
 *   subscribers. (Messages libzmq drops at a slow subscriber's send high-water mark are not
 *   visible to the publisher; they show up as gaps on that subscriber.)
 * - Arrays are sent zero-copy: do not mutate an array after passing it to publish().
 * - A subscriber filters on exact topic equality (ZMQ subscriptions are prefixes), decodes
 *   with wire.ts, counts drops by reason, sequence gaps, fingerprint mismatches, and awaits
 *   the callback for each message in order (while it runs, messages queue in libzmq up to
 *   `receiveHighWaterMark`, then libzmq drops: seen as gaps).
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, unlinkSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { Context, Publisher as ZmqPublisher, Subscriber as ZmqSubscriber } from 'zeromq';
import { DiscoveryClient, keepAlive, type KeepAlive, type TopicInfo } from './discovery/client.js';
import { fingerprintHex } from './fingerprint.js';
import type { MessageType } from './types.js';
import { decodeFrames, DEFAULT_MAX_MESSAGE_BYTES, encodeFrames, nowNs, type DecodeFailureReason, type MessageHeader } from './wire.js';

export const DEFAULT_DISCOVERY_ENDPOINT = 'ipc:///tmp/cortex/discovery.sock';
export const DEFAULT_RUNTIME_DIR = '/tmp/cortex/topics';
/** Max bytes of an ipc socket path: sun_path is 104 bytes on macOS, 108 on Linux (incl. NUL). */
export const MAX_IPC_PATH_BYTES = 103;

/** pino-compatible (string messages only). */
export interface BusLogger {
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

export const consoleLogger: BusLogger = {
  info: (m) => console.info(`[bus] ${m}`),
  warn: (m) => console.warn(`[bus] ${m}`),
  error: (m) => console.error(`[bus] ${m}`),
};

const U64_MASK = (1n << 64n) - 1n;

/**
 * Socket file for a topic: `<runtimeDir>/<topic>.sock` when the topic is already made of
 * `[A-Za-z0-9._-]`; otherwise the sanitized name (other chars → `_`) plus `-<8 hex of
 * sha256(topic)>` so that `a/b` and `a_b` do not collide. If the full path would exceed
 * {@link MAX_IPC_PATH_BYTES}, it becomes `<prefix>-<16 hex of sha256(topic)>.sock` with the
 * prefix cut to fit.
 */
export function topicSocketPath(runtimeDir: string, topic: string): string {
  const hash = createHash('sha256').update(topic, 'utf8').digest('hex');
  const sanitized = topic.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '_');
  const base = sanitized === topic ? sanitized : `${sanitized}-${hash.slice(0, 8)}`;
  const full = join(runtimeDir, `${base}.sock`);
  if (Buffer.byteLength(full) <= MAX_IPC_PATH_BYTES) return full;
  const fixed = Buffer.byteLength(join(runtimeDir, `-${hash.slice(0, 16)}.sock`));
  const room = MAX_IPC_PATH_BYTES - fixed;
  if (room < 0) throw new Error(`runtime dir ${runtimeDir} is too long for ipc socket paths (max ${MAX_IPC_PATH_BYTES} bytes)`);
  return join(runtimeDir, `${sanitized.slice(0, room)}-${hash.slice(0, 16)}.sock`);
}

/** True if something accepts connections on the unix socket at `path`. */
function socketAlive(path: string, timeoutMs = 300): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection({ path });
    const done = (v: boolean) => {
      clearTimeout(t);
      s.destroy();
      resolve(v);
    };
    const t = setTimeout(() => done(false), timeoutMs);
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

/** Logs the first occurrence of a key, then at most once per interval with a count. */
class ThrottledLog {
  private readonly last = new Map<string, { at: number; suppressed: number }>();
  constructor(
    private readonly log: (m: string) => void,
    private readonly intervalMs = 5000,
  ) {}
  emit(key: string, msg: string): void {
    const now = Date.now();
    const e = this.last.get(key);
    if (e && now - e.at < this.intervalMs) {
      e.suppressed++;
      return;
    }
    const extra = e && e.suppressed > 0 ? ` (${e.suppressed} more since the last report)` : '';
    this.last.set(key, { at: now, suppressed: 0 });
    this.log(msg + extra);
  }
}

// -------------------------------------------------------------------------------------------
// Publisher

export interface PublisherOptions {
  /** Max encoded messages waiting while the socket is busy (default 100). Beyond: drop oldest. */
  queueSize?: number;
  /** ZMQ_SNDHWM per subscriber (default 1000). */
  sendHighWaterMark?: number;
}

export interface PublisherStats {
  /** publish() calls accepted (encoded, sequence assigned). */
  published: number;
  /** Messages handed to libzmq. */
  sent: number;
  /** Messages dropped from the full queue (oldest first). */
  dropped: number;
  /** Send errors (socket failures). */
  errors: number;
}

export class Publisher<T> {
  readonly stats: PublisherStats = { published: 0, sent: 0, dropped: 0, errors: 0 };
  readonly address: string;
  private seq = 0n;
  private readonly topicFrame: Buffer;
  private readonly queue: Buffer[][] = [];
  private qHead = 0;
  private sending = false;
  private closed = false;
  private readonly dropLog: ThrottledLog;

  /** @internal use {@link Node.publisher} */
  constructor(
    readonly topic: string,
    readonly type: MessageType<T>,
    readonly path: string,
    private readonly socket: ZmqPublisher,
    private readonly queueSize: number,
    private readonly logger: BusLogger,
    private readonly onClose: (p: Publisher<T>) => Promise<void>,
  ) {
    this.address = `ipc://${path}`;
    this.topicFrame = Buffer.from(topic, 'utf8');
    this.dropLog = new ThrottledLog((m) => logger.warn(m));
  }

  /** Next sequence number publish() will use. */
  get sequence(): bigint {
    return this.seq;
  }

  /** Messages waiting for the socket. */
  get queued(): number {
    return this.queue.length - this.qHead;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * Encode and send (or queue) one message; never blocks. Throws BusEncodeError if `value`
   * does not match the type, and Error after close(). Returns false if the queue was full
   * and the oldest queued message was dropped to make room.
   */
  publish(value: T): boolean {
    if (this.closed) throw new Error(`publisher ${this.topic} is closed`);
    const frames = encodeFrames(this.topicFrame, this.type, value, this.seq, nowNs());
    this.seq = (this.seq + 1n) & U64_MASK;
    this.stats.published++;
    if (!this.sending) {
      this.send(frames);
      return true;
    }
    let ok = true;
    if (this.queued >= this.queueSize) {
      ok = false;
      if (this.queued > 0) this.qHead++;
      else {
        // queueSize 0: nothing may wait; the new message is the one dropped.
        this.stats.dropped++;
        this.dropLog.emit('drop', `publisher ${this.topic}: send queue full, dropping (total dropped ${this.stats.dropped})`);
        return false;
      }
      this.stats.dropped++;
      this.dropLog.emit('drop', `publisher ${this.topic}: send queue full (${this.queueSize}), dropped oldest (total dropped ${this.stats.dropped})`);
    }
    this.queue.push(frames);
    return ok;
  }

  /** Test hook: the next publish() uses this sequence number (to create gaps on purpose). */
  skipTo(sequence: bigint): void {
    this.seq = sequence & U64_MASK;
  }

  private send(frames: Buffer[]): void {
    this.sending = true;
    this.socket.send(frames).then(
      () => {
        this.stats.sent++;
        this.next();
      },
      (err: unknown) => {
        if (!this.closed) {
          this.stats.errors++;
          this.dropLog.emit('err', `publisher ${this.topic}: send failed: ${(err as Error).message}`);
        }
        this.next();
      },
    );
  }

  private next(): void {
    if (this.closed || this.qHead >= this.queue.length) {
      this.queue.length = 0;
      this.qHead = 0;
      this.sending = false;
      return;
    }
    const frames = this.queue[this.qHead]!;
    this.queue[this.qHead++] = [];
    if (this.qHead > 1024 && this.qHead * 2 > this.queue.length) {
      this.queue.splice(0, this.qHead);
      this.qHead = 0;
    }
    this.send(frames);
  }

  /** Unregisters the topic, closes the socket and removes its ipc file. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.onClose(this);
  }

  /** @internal */
  closeSocket(): void {
    this.stats.dropped += this.queued; // still queued at close: never sent
    this.queue.length = 0;
    this.qHead = 0;
    this.socket.close();
    try {
      unlinkSync(this.path);
    } catch {
      // already gone (or replaced); nothing to do
    }
  }
}

// -------------------------------------------------------------------------------------------
// Subscriber

export type SubscriberErrorKind = DecodeFailureReason | 'callback' | 'discovery';

export interface SubscriberError {
  kind: SubscriberErrorKind;
  topic: string;
  detail: string;
  /** For 'fingerprint_mismatch': the fingerprint received (or registered). */
  fingerprint?: bigint;
  error?: unknown;
}

export interface SubscriberOptions {
  /** Drop messages whose frames total more than this (default 256 MiB). */
  maxMessageBytes?: number;
  /** ZMQ_RCVHWM (default 1000 messages). */
  receiveHighWaterMark?: number;
  /** Connect to this address directly instead of looking the topic up in discovery. */
  address?: string;
  /** Called for every dropped message, fingerprint mismatch, callback error, discovery error. */
  onError?: (e: SubscriberError) => void;
  /** Discovery lookup retry interval while the topic is not found (default 200 ms). */
  lookupIntervalMs?: number;
  /** Re-lookup interval once connected, to follow a publisher that moved (default 2000 ms; 0 = off). */
  relookupIntervalMs?: number;
}

export interface SubscriberStats {
  /** Messages decoded and delivered to the callback. */
  received: number;
  /** Messages dropped: malformed, oversized, wrong type (fingerprint). See `dropsByReason`. */
  dropped: number;
  dropsByReason: Partial<Record<DecodeFailureReason, number>>;
  /** Sequence gaps seen (events), and the number of messages missing in them. */
  gaps: number;
  missed: number;
  /** Sequence went backwards (publisher restarted). */
  resets: number;
  fingerprintMismatches: number;
  callbackErrors: number;
  /** Arrays copied because their frame was misaligned for the element type. */
  alignmentCopies: number;
}

export type MessageCallback<T> = (msg: T, header: MessageHeader) => void | Promise<void>;

export class Subscriber<T> {
  readonly stats: SubscriberStats = {
    received: 0,
    dropped: 0,
    dropsByReason: {},
    gaps: 0,
    missed: 0,
    resets: 0,
    fingerprintMismatches: 0,
    callbackErrors: 0,
    alignmentCopies: 0,
  };
  /** Resolves once the SUB socket is connected (after discovery found the topic); rejects if closed before. */
  readonly ready: Promise<void>;
  private resolveReady!: () => void;
  private rejectReady!: (e: Error) => void;
  private socket: ZmqSubscriber;
  private currentAddress: string | null = null;
  private lastSeq: bigint | null = null;
  private closed = false;
  private readonly topicFrame: Buffer;
  private readonly log: ThrottledLog;
  private relookup: NodeJS.Timeout | null = null;
  private readonly reportedFingerprints = new Set<bigint>();
  private readonly maxBytes: number;
  private loop: Promise<void> = Promise.resolve();

  /** @internal use {@link Node.subscriber} */
  constructor(
    readonly topic: string,
    readonly type: MessageType<T>,
    private readonly callback: MessageCallback<T>,
    private readonly opts: SubscriberOptions,
    private readonly context: Context,
    private readonly discovery: DiscoveryClient,
    private readonly logger: BusLogger,
    private readonly onClose: (s: Subscriber<T>) => void,
  ) {
    this.topicFrame = Buffer.from(topic, 'utf8');
    this.maxBytes = opts.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    this.log = new ThrottledLog((m) => logger.warn(m));
    this.socket = this.newSocket();
    this.ready = new Promise<void>((res, rej) => {
      this.resolveReady = res;
      this.rejectReady = rej;
    });
    this.ready.catch(() => {}); // not awaited by everyone
    this.loop = this.run();
  }

  /** The publisher address currently connected to (null until found). */
  get address(): string | null {
    return this.currentAddress;
  }

  private newSocket(): ZmqSubscriber {
    return new ZmqSubscriber({ context: this.context, receiveHighWaterMark: this.opts.receiveHighWaterMark ?? 1000, linger: 0 });
  }

  private report(e: SubscriberError): void {
    try {
      this.opts.onError?.(e);
    } catch (err) {
      this.logger.error(`subscriber ${this.topic}: onError threw: ${(err as Error).message}`);
    }
  }

  private async find(): Promise<TopicInfo | null> {
    let failures = 0;
    while (!this.closed) {
      try {
        const info = await this.discovery.lookup(this.topic);
        if (info) return info;
        failures = 0;
      } catch (err) {
        if (this.closed) return null;
        if (failures++ === 0) {
          const detail = `discovery lookup failed: ${(err as Error).message} (retrying)`;
          this.logger.warn(`subscriber ${this.topic}: ${detail}`);
          this.report({ kind: 'discovery', topic: this.topic, detail, error: err });
        }
      }
      await sleep(this.opts.lookupIntervalMs ?? 200);
    }
    return null;
  }

  private checkRegisteredType(info: TopicInfo): void {
    if (info.fingerprint !== this.type.fingerprint) {
      const detail = `topic ${this.topic} is registered as ${info.messageType} (${fingerprintHex(info.fingerprint)}), subscriber expects ${this.type.name} (${fingerprintHex(this.type.fingerprint)})`;
      this.logger.warn(`subscriber ${this.topic}: ${detail}`);
      this.report({ kind: 'fingerprint_mismatch', topic: this.topic, detail, fingerprint: info.fingerprint });
    }
  }

  private connect(address: string): void {
    if (this.currentAddress !== null) this.socket.disconnect(this.currentAddress);
    this.socket.connect(address);
    this.currentAddress = address;
    this.lastSeq = null;
  }

  private async run(): Promise<void> {
    let address = this.opts.address;
    if (address === undefined) {
      const info = await this.find();
      if (info === null) return this.rejectReady(new Error(`subscriber ${this.topic} closed before the topic was found`));
      this.checkRegisteredType(info);
      address = info.address;
    }
    if (this.closed) return this.rejectReady(new Error(`subscriber ${this.topic} closed`));
    this.socket.subscribe(this.topicFrame);
    this.connect(address);
    this.resolveReady();
    if (this.opts.address === undefined && (this.opts.relookupIntervalMs ?? 2000) > 0) this.startRelookup();

    while (!this.closed) {
      let frames: Buffer[];
      try {
        frames = await this.socket.receive();
      } catch (err) {
        if (this.closed) break;
        this.logger.error(`subscriber ${this.topic}: receive failed: ${(err as Error).message}`);
        await sleep(100);
        continue;
      }
      const f0 = frames[0];
      if (f0 === undefined || !f0.equals(this.topicFrame)) continue; // prefix match of another topic
      const pending = this.handle(frames);
      if (pending !== undefined) await pending; // only an async callback costs a promise round-trip
    }
  }

  private drop(reason: DecodeFailureReason, detail: string): void {
    this.stats.dropped++;
    this.stats.dropsByReason[reason] = (this.stats.dropsByReason[reason] ?? 0) + 1;
    this.log.emit(reason, `subscriber ${this.topic}: dropped message (${reason}): ${detail} [dropped ${this.stats.dropped}]`);
  }

  private decodeOpts: { maxMessageBytes: number; knownTopic: string } | null = null;

  /** Returns a promise only when the callback returned one. */
  private handle(frames: Buffer[]): Promise<void> | undefined {
    this.decodeOpts ??= { maxMessageBytes: this.maxBytes, knownTopic: this.topic };
    const r = decodeFrames(frames, this.type, this.decodeOpts);
    if (!r.ok) {
      if (r.reason === 'fingerprint_mismatch') {
        this.stats.fingerprintMismatches++;
        const fp = r.header!.fingerprint;
        this.drop(r.reason, r.detail);
        if (!this.reportedFingerprints.has(fp)) {
          this.reportedFingerprints.add(fp);
          this.report({ kind: r.reason, topic: this.topic, detail: r.detail, fingerprint: fp });
        }
        return;
      }
      this.drop(r.reason, r.detail);
      this.report({ kind: r.reason, topic: this.topic, detail: r.detail });
      return;
    }
    const seq = r.header.sequence;
    if (this.lastSeq !== null) {
      const expected = (this.lastSeq + 1n) & U64_MASK;
      if (seq !== expected) {
        if (seq > expected) {
          this.stats.gaps++;
          this.stats.missed += Number(seq - expected);
        } else {
          this.stats.resets++;
        }
      }
    }
    this.lastSeq = seq;
    this.stats.alignmentCopies += r.copies;
    this.stats.received++;
    let ret: void | Promise<void>;
    try {
      ret = this.callback(r.value, r.header);
    } catch (err) {
      this.callbackFailed(err);
      return undefined;
    }
    if (ret !== undefined && typeof (ret as Promise<void> | null)?.then === 'function') {
      return (ret as Promise<void>).then(undefined, (err: unknown) => this.callbackFailed(err));
    }
    return undefined;
  }

  private callbackFailed(err: unknown): void {
    this.stats.callbackErrors++;
    const detail = `callback threw: ${(err as Error)?.stack ?? String(err)}`;
    this.log.emit('callback', `subscriber ${this.topic}: ${detail}`);
    this.report({ kind: 'callback', topic: this.topic, detail, error: err });
  }

  private startRelookup(): void {
    let busy = false;
    this.relookup = setInterval(() => {
      if (busy || this.closed) return;
      busy = true;
      this.discovery
        .lookup(this.topic)
        .then((info) => {
          if (this.closed || info === null || info.address === this.currentAddress) return;
          this.logger.info(`subscriber ${this.topic}: publisher moved to ${info.address}; reconnecting`);
          this.checkRegisteredType(info);
          this.connect(info.address);
        })
        .catch(() => {
          // daemon down or restarting: keep the current connection
        })
        .finally(() => {
          busy = false;
        });
    }, this.opts.relookupIntervalMs ?? 2000);
    this.relookup.unref();
  }

  /** Stops receiving and closes the socket. Resolves after the in-flight callback (if any) returns. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.relookup) clearInterval(this.relookup);
    this.socket.close();
    this.onClose(this);
    await this.loop.catch(() => {});
  }
}

// -------------------------------------------------------------------------------------------
// Timer

export interface TimerTick {
  /** Tick index k: this tick's deadline is start + k / hz. */
  index: number;
  /** performance.now() of the deadline and of the actual call. */
  scheduledAt: number;
  firedAt: number;
}

export interface TimerStats {
  /** Callbacks run. */
  ticks: number;
  /** Times a tick ended past the following deadline (the callback or the event loop overran). */
  overruns: number;
  /** Ticks skipped because of overruns (not run late in a burst). */
  skipped: number;
  /** Callback errors (logged). */
  errors: number;
}

/**
 * Drift-free periodic timer: tick k is due at start + k/hz (no accumulated setTimeout error).
 * When a tick finishes after the next deadline, the missed ticks are skipped and counted
 * (`stats.overruns`, `stats.skipped`) and the schedule resumes at the next future deadline,
 * instead of firing the missed ticks back to back. Async callbacks are awaited: ticks never overlap.
 */
export class Timer {
  readonly stats: TimerStats = { ticks: 0, overruns: 0, skipped: 0, errors: 0 };
  readonly periodMs: number;
  private readonly start: number;
  private k = 1;
  private handle: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(
    readonly hz: number,
    private readonly cb: (tick: TimerTick) => void | Promise<void>,
    private readonly logger: BusLogger,
    private readonly onStop: (t: Timer) => void = () => {},
  ) {
    if (!(hz > 0) || !Number.isFinite(hz)) throw new RangeError(`timer rate must be a positive number of Hz, got ${hz}`);
    this.periodMs = 1000 / hz;
    this.start = performance.now();
    this.schedule();
  }

  private schedule(): void {
    if (this.stopped) return;
    const due = this.start + this.k * this.periodMs;
    this.handle = setTimeout(() => void this.fire(due), Math.max(0, due - performance.now()));
  }

  private async fire(scheduledAt: number): Promise<void> {
    if (this.stopped) return;
    try {
      await this.cb({ index: this.k, scheduledAt, firedAt: performance.now() });
    } catch (err) {
      this.stats.errors++;
      this.logger.error(`timer ${this.hz} Hz: callback threw: ${(err as Error)?.stack ?? String(err)}`);
    }
    this.stats.ticks++;
    const now = performance.now();
    const nextDue = this.start + (this.k + 1) * this.periodMs;
    if (now > nextDue) {
      const passed = Math.floor((now - this.start) / this.periodMs); // deadlines already in the past
      this.stats.overruns++;
      this.stats.skipped += passed - this.k;
      this.k = passed + 1;
    } else {
      this.k++;
    }
    this.schedule();
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.handle) clearTimeout(this.handle);
    this.onStop(this);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

// -------------------------------------------------------------------------------------------
// Node

export interface NodeOptions {
  /** Publisher node name reported to discovery (default `node-<pid>-<random>`). */
  name?: string;
  discoveryEndpoint?: string;
  /** Where per-topic ipc sockets live (created; default /tmp/cortex/topics). */
  runtimeDir?: string;
  logger?: BusLogger;
  /** Per discovery request (default 1000 ms). */
  discoveryTimeoutMs?: number;
  /** Lease renewal interval (default 1000 ms; the daemon's lease is 3 s). */
  heartbeatMs?: number;
}

export class Node {
  readonly name: string;
  readonly context = new Context();
  readonly discovery: DiscoveryClient;
  readonly runtimeDir: string;
  readonly logger: BusLogger;
  private readonly publishers = new Map<string, Publisher<unknown>>();
  private readonly registered = new Set<string>();
  private readonly subscribers = new Set<Subscriber<unknown>>();
  private readonly timers = new Set<Timer>();
  private keepAlive: KeepAlive | null = null;
  private closed = false;
  private readonly heartbeatMs: number;

  constructor(opts: NodeOptions = {}) {
    this.name = opts.name ?? `node-${process.pid}-${randomBytes(3).toString('hex')}`;
    this.runtimeDir = opts.runtimeDir ?? DEFAULT_RUNTIME_DIR;
    this.logger = opts.logger ?? consoleLogger;
    this.heartbeatMs = opts.heartbeatMs ?? 1000;
    this.discovery = new DiscoveryClient({
      endpoint: opts.discoveryEndpoint ?? DEFAULT_DISCOVERY_ENDPOINT,
      timeoutMs: opts.discoveryTimeoutMs ?? 1000,
      context: this.context,
    });
  }

  private assertOpen(): void {
    if (this.closed) throw new Error(`node ${this.name} is closed`);
  }

  private topicInfo(p: Publisher<unknown>): TopicInfo {
    return { name: p.topic, address: p.address, messageType: p.type.name, fingerprint: p.type.fingerprint, publisherNode: this.name };
  }

  /**
   * Bind a PUB socket for `topic` and register it with discovery. Rejects if this node already
   * publishes the topic, or if a live process already listens on the topic's socket file.
   * Discovery problems do not reject: they are logged and registration is retried by the
   * lease loop (e.g. a dead previous owner's entry expires, or the daemon comes up later).
   */
  async publisher<T>(topic: string, type: MessageType<T>, opts: PublisherOptions = {}): Promise<Publisher<T>> {
    this.assertOpen();
    if (topic.length === 0 || topic.includes('\0')) throw new TypeError(`invalid topic name ${JSON.stringify(topic)}`);
    if (this.publishers.has(topic)) throw new Error(`node ${this.name} already publishes ${topic}`);
    const queueSize = opts.queueSize ?? 100;
    if (!Number.isInteger(queueSize) || queueSize < 0) throw new RangeError(`queueSize must be a non-negative integer`);
    mkdirSync(this.runtimeDir, { recursive: true });
    const path = topicSocketPath(this.runtimeDir, topic);
    if (existsSync(path) && (await socketAlive(path))) {
      throw new Error(`topic ${topic}: a live process already listens on ${path}`);
    }
    const socket = new ZmqPublisher({ context: this.context, sendHighWaterMark: opts.sendHighWaterMark ?? 1000, linger: 0 });
    try {
      await socket.bind(`ipc://${path}`);
    } catch (err) {
      socket.close();
      throw err;
    }
    const pub = new Publisher<T>(topic, type, path, socket, queueSize, this.logger, (p) => this.closePublisher(p as Publisher<unknown>));
    const p = pub as Publisher<unknown>;
    this.publishers.set(topic, p);
    try {
      const r = await this.discovery.register(this.topicInfo(p), { lease: true });
      if (r === 'ok') this.registered.add(topic);
      else this.logger.warn(`topic ${topic} is already registered by another publisher (a dead one's lease expires within seconds); retrying`);
    } catch (err) {
      this.logger.warn(`topic ${topic}: discovery registration failed: ${(err as Error).message}; retrying`);
    }
    this.keepAlive ??= keepAlive(this.discovery, {
      publisherNode: this.name,
      topics: () => [...this.publishers.values()].map((x) => this.topicInfo(x)),
      intervalMs: this.heartbeatMs,
      onError: (err) => this.logger.warn(`node ${this.name}: discovery lease: ${err.message}`),
      onReregistered: (name) => {
        this.registered.add(name);
        this.logger.info(`node ${this.name}: re-registered ${name} with discovery`);
      },
    });
    return pub;
  }

  private async closePublisher(p: Publisher<unknown>): Promise<void> {
    if (this.publishers.get(p.topic) !== p) return;
    this.publishers.delete(p.topic);
    if (this.publishers.size === 0) {
      this.keepAlive?.stop();
      this.keepAlive = null;
    }
    p.closeSocket();
    this.registered.delete(p.topic);
    try {
      // Only remove the entry if it is still ours (another publisher may have taken the name).
      const info = await this.discovery.lookup(p.topic);
      if (info && info.publisherNode === this.name && info.address === p.address) await this.discovery.unregister(p.topic);
    } catch (err) {
      this.logger.warn(`topic ${p.topic}: discovery unregister failed: ${(err as Error).message}`);
    }
  }

  /**
   * Subscribe to `topic`: looks it up in discovery (retrying until found or closed) unless
   * `opts.address` is given, connects, and calls `cb` for each message, one at a time.
   * Returns at once; `await sub.ready` to know it is connected.
   */
  subscriber<T>(topic: string, type: MessageType<T>, cb: MessageCallback<T>, opts: SubscriberOptions = {}): Subscriber<T> {
    this.assertOpen();
    const sub = new Subscriber<T>(topic, type, cb, opts, this.context, this.discovery, this.logger, (s) =>
      this.subscribers.delete(s as Subscriber<unknown>),
    );
    this.subscribers.add(sub as Subscriber<unknown>);
    return sub;
  }

  /** Drift-free periodic callback at `hz` (see {@link Timer}). */
  timer(hz: number, cb: (tick: TimerTick) => void | Promise<void>): Timer {
    this.assertOpen();
    const t = new Timer(hz, cb, this.logger, (x) => this.timers.delete(x));
    this.timers.add(t);
    return t;
  }

  /** Polls discovery until `topic` is registered; rejects after `timeoutMs`. */
  async waitForTopic(topic: string, timeoutMs = 5000, pollMs = 100): Promise<TopicInfo> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      this.assertOpen();
      try {
        const info = await this.discovery.lookup(topic);
        if (info) return info;
      } catch {
        // daemon not answering yet: keep polling until the deadline
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out after ${timeoutMs} ms waiting for topic ${topic}`);
      await sleep(Math.min(pollMs, left));
    }
  }

  /** Topics this node publishes. */
  get publishedTopics(): string[] {
    return [...this.publishers.keys()];
  }

  /** Stops timers, closes subscribers and publishers (unregistering them, removing their ipc files). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const t of [...this.timers]) t.stop();
    this.keepAlive?.stop();
    this.keepAlive = null;
    await Promise.all([...this.subscribers].map((s) => s.close()));
    await Promise.all([...this.publishers.values()].map((p) => p.close()));
    this.discovery.close();
  }
}

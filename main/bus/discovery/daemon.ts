/**
 * The discovery daemon: a REP socket holding the topic table (protocol in protocol.ts).
 *
 * Liveness — a crashed publisher's topic disappears within about 3 s (the original kept
 * it forever). Each topic is checked one of two ways:
 *
 *  - lease: a topic registered with `lease: true`, or listed in a HEARTBEAT from its
 *    publisher node, holds a lease renewed by every heartbeat; it is dropped `leaseMs`
 *    after the last one (a timer fires at the earliest expiry, not on a coarse sweep).
 *  - probe: a topic of a client that never heartbeats (the original protocol) is probed
 *    every `probeIntervalMs`: a connect to its endpoint (the Unix socket path of an
 *    ipc:// address, host:port of a tcp:// one). A refused connect (ECONNREFUSED) or a
 *    vanished ipc socket file (ENOENT) twice in a row means the owner died: dropped.
 *    A probe that times out or fails otherwise proves nothing and keeps the topic.
 *    Addresses that cannot be probed (wildcard tcp hosts, other transports) are kept
 *    until unregistered, as the original did. Note that ipc probes assume the publisher
 *    runs on the daemon's host (true for the default ipc:// daemon endpoint).
 *
 * Re-registering a name: replaces the entry when its owner is dead (lease expired, or a
 * probe now fails), or when it is the same publisher node at the same address (a restart
 * or a retry); otherwise ALREADY_EXISTS.
 *
 * Startup: for an ipc:// endpoint the directory is created; an existing socket file is
 * probed — a daemon answering PING there means refusal with a clear error, anything else
 * (refused connect, or a listener that does not answer) is taken over as stale.
 * Bad input (non-msgpack, wrong shapes, multi-frame requests, unknown commands) gets an
 * ERROR reply; the daemon keeps serving.
 */
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { connect as netConnect, type Socket as NetSocket } from 'node:net';
import { dirname } from 'node:path';
import { Reply } from 'zeromq';
import { DiscoveryClient } from './client.js';
import {
  Command,
  decodeRequest,
  encodeReply,
  errorReply,
  ProtocolError,
  Status,
  type DiscoveryReply,
  type DiscoveryRequest,
  type TopicInfo,
} from './protocol.js';

export type { TopicInfo } from './protocol.js';

type LogFields = Record<string, unknown>;
/** A pino-compatible logger (error/debug optional), or a plain function. */
export type DiscoveryLogger =
  | {
      info(obj: object, msg?: string): void;
      warn(obj: object, msg?: string): void;
      error?(obj: object, msg?: string): void;
      debug?(obj: object, msg?: string): void;
    }
  | ((level: 'debug' | 'info' | 'warn' | 'error', msg: string, fields?: LogFields) => void);

export interface TopicEntry extends TopicInfo {
  /** ms since epoch: registration. */
  registeredAt: number;
  /** ms since epoch: last heartbeat (lease) or last successful probe / registration (probe). */
  lastSeen: number;
  liveness: 'lease' | 'probe';
}

export interface DiscoveryDaemonOptions {
  endpoint?: string;
  leaseMs?: number;
  probeIntervalMs?: number;
  logger?: DiscoveryLogger;
}

export interface DiscoveryDaemon {
  /** The bound endpoint (for tcp://host:0, the actual port). */
  endpoint: string;
  close(): Promise<void>;
  topics(): TopicEntry[];
}

export const DEFAULT_DISCOVERY_ENDPOINT = 'ipc:///tmp/cortex/discovery.sock';
const MAX_REQUEST_BYTES = 1024 * 1024;
const PROBE_TIMEOUT_MS = 300;
const STARTUP_PING_MS = 500;
/** Consecutive "dead" probe results before a probed topic is dropped. */
const PROBE_STRIKES = 2;

type ProbeResult = 'alive' | 'dead' | 'unknown';
type ProbeTarget = { path: string } | { host: string; port: number } | null;

/** Where to connect to check an address's owner, or null if it cannot be probed. */
export function probeTarget(address: string): ProbeTarget {
  if (address.startsWith('ipc://')) {
    const p = address.slice('ipc://'.length);
    if (p === '' || p === '*') return null;
    // Linux abstract namespace: zmq spells it ipc://@name.
    return { path: p.startsWith('@') ? `\0${p.slice(1)}` : p };
  }
  const m = /^tcp:\/\/(?:[^;]*;)?(\[[^\]]+\]|[^:]+):(\d+)$/.exec(address);
  if (m?.[1] && m[2]) {
    let host = m[1];
    if (host.startsWith('[')) host = host.slice(1, -1);
    const port = Number(m[2]);
    if (host === '*' || host === '0.0.0.0' || host === '::' || !(port > 0 && port < 65536)) return null;
    return { host, port };
  }
  return null;
}

/** One connect attempt: refused / missing socket file = dead; connected = alive; else unknown. */
export function probeEndpoint(target: NonNullable<ProbeTarget>, timeoutMs = PROBE_TIMEOUT_MS): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const sock: NetSocket = 'path' in target ? netConnect({ path: target.path }) : netConnect({ host: target.host, port: target.port });
    let done = false;
    const finish = (r: ProbeResult) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      resolve(r);
    };
    const timer = setTimeout(() => finish('unknown'), timeoutMs);
    sock.once('connect', () => finish('alive'));
    sock.once('error', (err: NodeJS.ErrnoException) => finish(err.code === 'ECONNREFUSED' || err.code === 'ENOENT' ? 'dead' : 'unknown'));
  });
}

function makeLog(logger: DiscoveryLogger | undefined) {
  return (level: 'debug' | 'info' | 'warn' | 'error', msg: string, fields: LogFields = {}) => {
    if (!logger) return;
    if (typeof logger === 'function') return logger(level, msg, fields);
    const fn = level === 'error' ? (logger.error ?? logger.warn) : level === 'debug' ? logger.debug : logger[level];
    fn?.call(logger, fields, msg);
  };
}

function ipcPath(endpoint: string): string | null {
  if (!endpoint.startsWith('ipc://')) return null;
  const p = endpoint.slice('ipc://'.length);
  return p.startsWith('@') || p === '' ? null : p;
}

interface Entry extends TopicEntry {
  leaseExpiresAt: number;
  strikes: number;
  probing: boolean;
}

export async function startDiscoveryDaemon(opts: DiscoveryDaemonOptions = {}): Promise<DiscoveryDaemon> {
  const endpoint = opts.endpoint ?? DEFAULT_DISCOVERY_ENDPOINT;
  // Heartbeats come every second: a 2.5 s lease tolerates one missed beat and still drops a
  // crashed publisher within 3 s of its death.
  const leaseMs = opts.leaseMs ?? 2500;
  const probeIntervalMs = opts.probeIntervalMs ?? 500;
  const log = makeLog(opts.logger);

  const path = ipcPath(endpoint);
  if (path) {
    mkdirSync(dirname(path), { recursive: true });
    if (existsSync(path)) {
      const state = await probeEndpoint({ path });
      if (state !== 'dead') {
        const c = new DiscoveryClient({ endpoint, timeoutMs: STARTUP_PING_MS });
        const alive = await c.ping();
        c.close();
        if (alive) throw new Error(`a discovery daemon is already running at ${endpoint} (it answered PING); not starting a second one`);
        log('warn', 'discovery socket is held by a process that does not answer PING; taking it over', { endpoint });
      } else {
        log('info', 'removing stale discovery socket', { endpoint, path });
      }
      rmSync(path, { force: true });
    }
  }

  const sock = new Reply({ linger: 0, maxMessageSize: MAX_REQUEST_BYTES });
  try {
    await sock.bind(endpoint);
  } catch (err) {
    sock.close();
    const code = (err as { code?: string }).code;
    const why = code === 'EADDRINUSE' ? 'the address is in use (another daemon?)' : (err as Error).message;
    throw new Error(`discovery daemon cannot bind ${endpoint}: ${why}`, { cause: err });
  }
  const bound = sock.lastEndpoint ?? endpoint;
  log('info', 'discovery daemon listening', { endpoint: bound, leaseMs, probeIntervalMs });

  const table = new Map<string, Entry>();
  let closed = false;

  // ---- liveness -------------------------------------------------------------------
  let leaseTimer: NodeJS.Timeout | null = null;
  const drop = (e: Entry, why: string) => {
    if (table.get(e.name) !== e) return;
    table.delete(e.name);
    log('info', 'topic dropped', { topic: e.name, publisherNode: e.publisherNode, address: e.address, why });
  };
  const expireLeases = () => {
    const now = Date.now();
    for (const e of table.values()) if (e.liveness === 'lease' && e.leaseExpiresAt <= now) drop(e, `lease expired (no heartbeat for ${leaseMs} ms)`);
    scheduleLeases();
  };
  /** One timer at the earliest lease expiry, so an expired lease goes at once. */
  const scheduleLeases = () => {
    if (leaseTimer) clearTimeout(leaseTimer);
    leaseTimer = null;
    if (closed) return;
    let next = Infinity;
    for (const e of table.values()) if (e.liveness === 'lease' && e.leaseExpiresAt < next) next = e.leaseExpiresAt;
    if (next === Infinity) return;
    leaseTimer = setTimeout(expireLeases, Math.max(0, next - Date.now()) + 1);
    leaseTimer.unref();
  };
  const probe = async (e: Entry) => {
    const target = probeTarget(e.address);
    if (!target || e.probing) return;
    e.probing = true;
    try {
      const r = await probeEndpoint(target);
      if (table.get(e.name) !== e || e.liveness !== 'probe') return;
      if (r === 'alive') {
        e.strikes = 0;
        e.lastSeen = Date.now();
      } else if (r === 'dead' && ++e.strikes >= PROBE_STRIKES) {
        drop(e, `publisher endpoint ${e.address} refuses connections`);
      }
    } finally {
      e.probing = false;
    }
  };
  const probeTimer = setInterval(() => {
    for (const e of table.values()) if (e.liveness === 'probe') void probe(e);
  }, probeIntervalMs);
  probeTimer.unref();

  /** Whether the current owner of an entry is dead (for replacement on re-register). */
  const ownerDead = async (e: Entry): Promise<boolean> => {
    if (e.liveness === 'lease') return e.leaseExpiresAt <= Date.now();
    const target = probeTarget(e.address);
    if (!target) return false;
    return (await probeEndpoint(target)) === 'dead';
  };

  // ---- commands -------------------------------------------------------------------
  const handle = async (req: DiscoveryRequest): Promise<DiscoveryReply> => {
    switch (req.command) {
      case Command.PING:
        return { status: Status.OK, message: 'pong' };
      case Command.REGISTER_TOPIC: {
        const info = req.topicInfo as TopicInfo;
        const prev = table.get(info.name);
        let message = 'registered';
        if (prev) {
          const same = prev.publisherNode === info.publisherNode && prev.address === info.address;
          if (!same && !(await ownerDead(prev))) {
            return { status: Status.ALREADY_EXISTS, message: `topic ${info.name} is already registered by ${prev.publisherNode || 'another publisher'} at ${prev.address}` };
          }
          message = same ? 're-registered' : 'replaced the registration of a dead publisher';
        }
        const now = Date.now();
        const entry: Entry = {
          name: info.name,
          address: info.address,
          messageType: info.messageType,
          fingerprint: info.fingerprint,
          publisherNode: info.publisherNode,
          registeredAt: now,
          lastSeen: now,
          liveness: req.lease ? 'lease' : 'probe',
          leaseExpiresAt: now + leaseMs,
          strikes: 0,
          probing: false,
        };
        // A re-registration by a heartbeating owner keeps its lease mode.
        if (prev && prev.liveness === 'lease' && prev.publisherNode === info.publisherNode) entry.liveness = 'lease';
        table.set(info.name, entry);
        scheduleLeases();
        log('info', 'topic registered', { topic: info.name, publisherNode: info.publisherNode, address: info.address, messageType: info.messageType, liveness: entry.liveness, replaced: prev !== undefined });
        return { status: Status.OK, message };
      }
      case Command.UNREGISTER_TOPIC: {
        const name = req.topicName as string;
        if (!table.delete(name)) return { status: Status.NOT_FOUND, message: `topic ${name} is not registered` };
        scheduleLeases();
        log('info', 'topic unregistered', { topic: name });
        return { status: Status.OK, message: 'unregistered' };
      }
      case Command.LOOKUP_TOPIC: {
        const name = req.topicName as string;
        const e = table.get(name);
        if (!e) return { status: Status.NOT_FOUND, message: `topic ${name} is not registered` };
        return { status: Status.OK, message: 'found', topicInfo: e };
      }
      case Command.LIST_TOPICS:
        return { status: Status.OK, message: `${table.size} topic(s)`, topics: [...table.values()] };
      case Command.HEARTBEAT: {
        const node = req.topicName as string;
        const now = Date.now();
        const missing: string[] = [];
        for (const name of req.topics ?? []) {
          const e = table.get(name);
          if (!e || e.publisherNode !== node) {
            missing.push(name);
            continue;
          }
          if (e.liveness !== 'lease') log('debug', 'topic switched to lease mode', { topic: name, publisherNode: node });
          e.liveness = 'lease';
          e.leaseExpiresAt = now + leaseMs;
          e.lastSeen = now;
          e.strikes = 0;
        }
        scheduleLeases();
        if (missing.length) return { status: Status.NOT_FOUND, message: `${missing.length} topic(s) not registered for node ${node}`, missing };
        return { status: Status.OK, message: 'lease renewed' };
      }
      default:
        return { status: Status.ERROR, message: `unknown command ${req.command}` };
    }
  };

  const respond = async (frames: Buffer[]): Promise<Uint8Array> => {
    const [frame] = frames;
    if (frames.length !== 1 || !frame) {
      log('warn', 'discovery request rejected', { reason: 'multi-frame', frames: frames.length });
      return errorReply(`expected exactly one frame per request, got ${frames.length}`);
    }
    let req: DiscoveryRequest;
    try {
      req = decodeRequest(frame);
    } catch (err) {
      const message = err instanceof ProtocolError ? err.message : `bad request: ${(err as Error).message}`;
      log('warn', 'discovery request rejected', { reason: message, bytes: frame.length });
      return errorReply(message);
    }
    try {
      return encodeReply(await handle(req));
    } catch (err) {
      log('error', 'discovery request failed', { err, command: req.command });
      return errorReply(`internal error: ${(err as Error).message}`);
    }
  };

  const loop = (async () => {
    while (!closed) {
      let frames: Buffer[];
      try {
        frames = await sock.receive();
      } catch (err) {
        if (closed || sock.closed) break;
        // e.g. a request larger than maxMessageSize is dropped by libzmq, not surfaced here.
        log('warn', 'discovery receive failed', { err });
        await new Promise((r) => setTimeout(r, 10));
        continue;
      }
      const reply = await respond(frames);
      try {
        await sock.send(reply);
      } catch (err) {
        if (closed || sock.closed) break;
        log('warn', 'discovery send failed', { err });
      }
    }
  })();

  return {
    endpoint: bound,
    topics() {
      return [...table.values()].map((e) => ({
        name: e.name,
        address: e.address,
        messageType: e.messageType,
        fingerprint: e.fingerprint,
        publisherNode: e.publisherNode,
        registeredAt: e.registeredAt,
        lastSeen: e.lastSeen,
        liveness: e.liveness,
      }));
    },
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(probeTimer);
      if (leaseTimer) clearTimeout(leaseTimer);
      sock.close();
      await loop;
      if (path) rmSync(path, { force: true });
      log('info', 'discovery daemon stopped', { endpoint: bound });
    },
  };
}

/**
 * Standalone runner (for `cortex discovery`): starts the daemon, stops it on SIGINT or
 * SIGTERM, and resolves once it stopped.
 */
export async function runDiscoveryDaemon(opts: DiscoveryDaemonOptions = {}): Promise<void> {
  const daemon = await startDiscoveryDaemon(opts);
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      void daemon.close().then(resolve);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

/**
 * ZeroMQ data-plane benchmark (issue 3 part 6): our typed Publisher → Subscriber (main/bus)
 * against raw zeromq.js PUB/SUB sending the same frames without our encoding/decoding, two
 * processes over ipc://, side by side in the same run.
 *
 *   npm run bench:bus            (= node --import tsx bench/bus.ts)
 *
 * Layout: this process is the orchestrator and runs the discovery daemon (fresh ipc endpoint
 * under a new /tmp dir); two child processes (this file with `--child send|recv`) are the
 * publisher and the subscriber side. Rounds alternate raw, ours, raw, ours, … so a noisy
 * neighbour hits both alike. The throughput checks use the median of the per-pair ratios
 * (ours / the raw round next to it), which is robust to drift; the ratio of the medians is
 * reported too.
 *
 * 1. 1 KB throughput. Ours: BytesType {data: 1024 B} (and StringType, 1024 ASCII chars, for
 *    reference) published with Publisher.publish() and received by Subscriber (decoded,
 *    callback counting). Raw: the same 3 frames [topic, 24 B header, 1028 B metadata]
 *    pre-built once (raw sender writes the sequence into the header; the receiver only
 *    counts, and reads the sequence to detect gaps); raw 1-frame 1024 B for reference.
 * 2. 4 MiB Float32Array throughput. Ours: ArrayType {data: Float32Array(1 Mi), name, frameId};
 *    raw: the same 4 frames pre-built (the 4 MiB frame is the same zero-copy buffer).
 * 3. One-way latency, 64 B payload (BytesType / raw 3 frames of the same sizes / raw 1 frame
 *    of 64 B), paced at BENCH_LAT_RATE Hz.
 *
 * Flow control (throughput): PUB/SUB has none, and a PUB socket silently drops at its
 * high-water mark. So that no side ever drops, the receiver reports its received count
 * back to the sender every millisecond over a separate PUSH→PULL ipc socket, and the sender
 * keeps at most WINDOW messages in flight (WINDOW ≤ SNDHWM and ≤ RCVHWM). The number
 * measured is the pipeline's sustained rate: min(sender, receiver), both running at once on
 * their own core. Counting: after the first message arrives, the receiver waits WARMUP s,
 * then counts messages over WINDOW s of steady state. Gaps (sequence numbers) and publisher
 * drops are reported; both should be 0.
 *
 * Latency clock: the sender writes process.hrtime.bigint() into the payload (little-endian
 * u64 at the start of the 64 B bytes for ours and raw 3-frame; at offset 16 of the raw
 * 1-frame) and the receiver subtracts it from its own process.hrtime.bigint(). On Linux
 * both are CLOCK_MONOTONIC (libuv uv_hrtime), one clock for all processes on the machine,
 * so the difference is a valid one-way latency. (The header's timestampNs is NOT used: it is
 * wall-clock, anchored per process from Date.now() at module load — ±1 ms between processes.)
 *
 * Writes bench/results/bus-<timestamp>.json and bench/results/bus-latest.json and prints a
 * summary with checks. Children are stopped with SIGTERM, then SIGKILL after 3 s.
 *
 * Environment (all optional):
 *   BENCH_PAIRS=5          raw/ours pairs per throughput scenario
 *   BENCH_WARMUP=1         seconds of warm-up before each counting window
 *   BENCH_WINDOW=3         seconds counted per throughput round
 *   BENCH_LAT_MSGS=2000    latency messages per round
 *   BENCH_LAT_RATE=1000    latency send rate (Hz)
 *   BENCH_LAT_PAIRS=2      raw/ours pairs for latency
 *   BENCH_ONLY=1k,4m,lat   run a subset
 *   BENCH_MODES=raw3,ours  sides to measure (default all: raw1, raw3, ours, oursString, oursAlt)
 *   BENCH_ALT_BUS=dir      also measure a patched copy of main/bus (dir/node.ts) as 'oursAlt'
 *   BENCH_RAW_OWN_CONTEXT=1  raw sockets on their own zmq Context (like a Node's) instead of the global one
 *   BENCH_CHILD_NODE_ARGS  extra node flags for the children (e.g. "--cpu-prof --cpu-prof-dir=/tmp/p")
 *   BENCH_RESULTS_DIR=dir  write results there instead of bench/results
 */
import { checksTable, cpuMs, envNum, git, round, table, writeResults } from './common.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Context as ZmqContext, Publisher as ZmqPub, Pull as ZmqPull, Push as ZmqPush, Subscriber as ZmqSub } from 'zeromq';
import { startDiscoveryDaemon } from '../main/bus/discovery/daemon.js';
import { Node, type Publisher, type Subscriber } from '../main/bus/node.js';
import { ArrayType, BytesType, StringType, type MessageType } from '../main/bus/types.js';
import { encodeFrames } from '../main/bus/wire.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..');
const SELF = fileURLToPath(import.meta.url);


const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const immediate = () => new Promise<void>((r) => setImmediate(r));

// ---------------------------------------------------------------------------------------
// scenarios (shared by both sides)

type Kind = '1k' | '4m' | 'lat';
type Mode = 'raw1' | 'raw3' | 'ours' | 'oursString' | 'oursAlt';
const isOurs = (m: Mode) => m === 'ours' || m === 'oursString' || m === 'oursAlt';

const KIB = 1024;
const ARRAY_ELEMS = 1024 * 1024; // Float32 → 4 MiB
const LAT_BYTES = 64;

interface Scenario {
  /** Ours: type and a value factory (latency: ts written into the payload). */
  type: MessageType<unknown>;
  /** Messages in flight allowed by the credit window, and the HWMs. */
  window: number;
  hwm: number;
  /** Bytes counted per message for GB/s (payload only). */
  payloadBytes: number;
}

function scenario(kind: Kind, mode: Mode): Scenario {
  if (kind === '4m') return { type: ArrayType as MessageType<unknown>, window: 16, hwm: 64, payloadBytes: ARRAY_ELEMS * 4 };
  if (kind === 'lat') return { type: BytesType as MessageType<unknown>, window: 1000, hwm: 10000, payloadBytes: LAT_BYTES };
  return { type: (mode === 'oursString' ? StringType : BytesType) as MessageType<unknown>, window: 10000, hwm: 20000, payloadBytes: KIB };
}

const payload1k = Buffer.alloc(KIB, 0x61);
const string1k = 'a'.repeat(KIB);
const array4m = new Float32Array(ARRAY_ELEMS).map((_, i) => i);

function oursValue(kind: Kind, mode: Mode, i: number, probe = false): unknown {
  if (kind === '4m') return { data: array4m, name: 'bench', frameId: i };
  if (kind === 'lat') {
    const b = Buffer.alloc(LAT_BYTES);
    b.writeBigUInt64LE(probe ? 0n : process.hrtime.bigint(), 0); // 0: probe, not a sample
    return { data: b };
  }
  return mode === 'oursString' ? { data: string1k } : { data: payload1k };
}

/** Raw frames, built once with our encoder (same sizes and bytes as ours). */
function rawFrames(kind: Kind, mode: Mode, topic: string): Buffer[] {
  if (mode === 'raw1') {
    const size = kind === 'lat' ? LAT_BYTES : kind === '4m' ? ARRAY_ELEMS * 4 : KIB;
    const f = Buffer.alloc(size, 0x61);
    f.write(topic, 0, 'utf8');
    return [f];
  }
  const value = kind === '4m' ? { data: array4m, name: 'bench', frameId: 0 } : kind === 'lat' ? { data: Buffer.alloc(LAT_BYTES) } : { data: payload1k };
  const frames = encodeFrames(topic, scenario(kind, 'ours').type, value, 0n, 0n);
  return frames.map((f) => (f.byteLength <= 128 ? Buffer.from(f) : f)); // own copies of the small frames (mutated per message)
}

// ---------------------------------------------------------------------------------------
// child side

interface SetupArgs {
  kind: Kind;
  mode: Mode;
  topic: string;
  dataEndpoint: string; // raw: bound by the sender
  feedbackEndpoint: string; // bound by the sender (PULL)
  discoveryEndpoint: string;
  runtimeDir: string;
  latMessages: number;
  latRate: number;
}

type Reply = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string };

const quietLogger = { info: () => {}, warn: (m: string) => console.warn(`[bus ${process.argv[3]}] ${m}`), error: (m: string) => console.error(`[bus ${process.argv[3]}] ${m}`) };

/**
 * BENCH_ALT_BUS=<dir>: a patched copy of main/bus (dir/node.ts; put it where `zeromq` resolves,
 * e.g. with a node_modules symlink next to it) measured as mode 'oursAlt' in the same run, to
 * A/B a proposed change without touching main/.
 */
/** BENCH_RAW_OWN_CONTEXT=1: raw data sockets get their own zmq Context (as each Node has), to compare like with like. */
const RAW_OWN_CONTEXT = process.env.BENCH_RAW_OWN_CONTEXT === '1';
let rawContext: ZmqContext | undefined;
const rawCtx = (): { context?: ZmqContext } => (RAW_OWN_CONTEXT ? { context: (rawContext ??= new ZmqContext()) } : {});
const ALT_BUS = process.env.BENCH_ALT_BUS ? resolve(process.env.BENCH_ALT_BUS) : null;
let childNode: Node | null = null;
let altNode: Node | null = null;
async function getNode(a: SetupArgs): Promise<Node> {
  const opts = { name: `bench-${process.argv[3]}-${process.pid}`, discoveryEndpoint: a.discoveryEndpoint, runtimeDir: a.runtimeDir, logger: quietLogger };
  if (a.mode === 'oursAlt') {
    if (!ALT_BUS) throw new Error('oursAlt needs BENCH_ALT_BUS');
    const mod = (await import(pathToFileURL(join(ALT_BUS, 'node.ts')).href)) as { Node: typeof Node };
    altNode ??= new mod.Node({ ...opts, name: `${opts.name}-alt` });
    return altNode;
  }
  childNode ??= new Node(opts);
  return childNode;
}

const send = (m: object) => process.send!(m);

// --- sender

interface SenderRound {
  args: SetupArgs;
  pull: ZmqPull;
  raw?: ZmqPub;
  pub?: Publisher<unknown>;
  acked: number;
  ackWaiters: (() => void)[];
  stop: boolean;
  sent: number;
  loop?: Promise<void>;
}
let sr: SenderRound | null = null;

async function senderSetup(a: SetupArgs): Promise<unknown> {
  const sc = scenario(a.kind, a.mode);
  const pull = new ZmqPull({ linger: 0 });
  await pull.bind(a.feedbackEndpoint);
  const r: SenderRound = { args: a, pull, acked: 0, ackWaiters: [], stop: false, sent: 0 };
  if (isOurs(a.mode)) {
    r.pub = await (await getNode(a)).publisher(a.topic, sc.type, { queueSize: Math.max(1000, sc.window), sendHighWaterMark: sc.hwm });
  } else {
    r.raw = new ZmqPub({ linger: 0, sendHighWaterMark: sc.hwm, ...rawCtx() });
    await r.raw.bind(a.dataEndpoint);
  }
  void (async () => {
    try {
      for (;;) {
        const [m] = await pull.receive();
        r.acked = Math.max(r.acked, m!.readUInt32LE(0));
        const w = r.ackWaiters;
        r.ackWaiters = [];
        for (const f of w) f();
      }
    } catch {
      // closed
    }
  })();
  sr = r;
  return { address: r.pub?.address ?? a.dataEndpoint };
}

function waitAck(r: SenderRound): Promise<void> {
  return new Promise<void>((res) => {
    r.ackWaiters.push(res);
    setTimeout(res, 5); // never hang (stop flag is checked by the caller)
  });
}

async function senderGo(): Promise<unknown> {
  const r = sr!;
  const a = r.args;
  const sc = scenario(a.kind, a.mode);
  const frames = r.raw ? rawFrames(a.kind, a.mode, a.topic) : [];
  const hdr = frames.length >= 3 ? frames[1]! : null;
  let seq = 0;
  const sendOne = async (i: number, probe = false): Promise<void> => {
    if (r.pub) {
      r.pub.publish(oursValue(a.kind, a.mode, i, probe));
      return;
    }
    if (hdr) hdr.writeUInt32BE(seq >>> 0, 20); // 24 B: copied by zeromq.js at send()
    seq++;
    if (a.kind === 'lat') {
      const ts = probe ? 0n : process.hrtime.bigint();
      if (a.mode === 'raw1') frames[0]!.writeBigUInt64LE(ts, 16); // 64 B: copied at send()
      else frames[2]!.writeBigUInt64LE(ts, 3); // [fixarray(1), bin8 0xc4, len] then payload
    }
    await r.raw!.send(frames);
  };
  // Probe until the subscriber has received something (slow joiner), then run.
  let i = 0;
  while (r.acked === 0 && !r.stop) {
    await sendOne(i++, true);
    r.sent++;
    await sleep(5);
  }
  const start = process.hrtime.bigint();
  if (a.kind === 'lat') {
    const periodNs = BigInt(Math.round(1e9 / a.latRate));
    for (let k = 1; k <= a.latMessages && !r.stop; k++) {
      const due = start + BigInt(k) * periodNs;
      const waitMs = Number(due - process.hrtime.bigint()) / 1e6;
      if (waitMs > 0) await sleep(waitMs);
      await sendOne(i++);
      r.sent++;
    }
    return { sent: r.sent };
  }
  while (!r.stop) {
    if (r.sent - r.acked >= sc.window) {
      await waitAck(r);
      continue;
    }
    if (r.pub && r.pub.queued >= 256) {
      await immediate();
      continue;
    }
    await sendOne(i++);
    r.sent++;
  }
  return { sent: r.sent };
}

async function senderStop(): Promise<unknown> {
  const r = sr!;
  r.stop = true;
  await r.loop;
  // let the publisher queue drain
  for (let k = 0; k < 200 && r.pub && r.pub.queued > 0; k++) await sleep(5);
  return { sent: r.sent, acked: r.acked, publisherStats: r.pub ? { ...r.pub.stats } : null };
}

async function senderClose(): Promise<unknown> {
  const r = sr!;
  r.pull.close();
  if (r.pub) await r.pub.close();
  r.raw?.close();
  sr = null;
  return null;
}

// --- receiver

interface RecvRound {
  args: SetupArgs;
  push: ZmqPush;
  fbTimer: NodeJS.Timeout;
  raw?: ZmqSub;
  sub?: Subscriber<unknown>;
  count: number;
  firstAt: bigint | null;
  firstSeq: number | null;
  lastSeq: number | null;
  rawGaps: number;
  rawMissed: number;
  latNs: number[];
  windowTimer?: NodeJS.Timeout;
  windowResult?: Promise<unknown>;
  closed: boolean;
  lastMsgAt: bigint;
}
let rr: RecvRound | null = null;

function recvOnMessage(r: RecvRound, seq: number | null, ts: bigint | null): void {
  const now = process.hrtime.bigint();
  r.count++;
  r.lastMsgAt = now;
  if (r.firstAt === null) r.firstAt = now;
  if (seq !== null) {
    if (r.firstSeq === null) r.firstSeq = seq;
    else if (seq !== r.lastSeq! + 1) {
      r.rawGaps++;
      r.rawMissed += seq - r.lastSeq! - 1;
    }
    r.lastSeq = seq;
  }
  if (ts !== null && ts !== 0n) r.latNs.push(Number(now - ts));
}

async function recvSetup(a: SetupArgs, address: string): Promise<unknown> {
  const sc = scenario(a.kind, a.mode);
  const push = new ZmqPush({ linger: 0, sendHighWaterMark: 10 });
  push.connect(a.feedbackEndpoint);
  const r: RecvRound = {
    args: a, push, fbTimer: setInterval(() => {}, 1e6), count: 0, firstAt: null, firstSeq: null, lastSeq: null,
    rawGaps: 0, rawMissed: 0, latNs: [], closed: false, lastMsgAt: 0n,
  };
  clearInterval(r.fbTimer);
  let fbBusy = false;
  let fbLast = -1;
  r.fbTimer = setInterval(() => {
    if (fbBusy || r.count === fbLast) return;
    fbBusy = true;
    fbLast = r.count;
    const b = Buffer.allocUnsafe(4);
    b.writeUInt32LE(r.count >>> 0, 0);
    push.send(b).then(() => (fbBusy = false), () => (fbBusy = false));
  }, 1);
  if (isOurs(a.mode)) {
    const isLat = a.kind === 'lat';
    r.sub = (await getNode(a)).subscriber(
      a.topic,
      sc.type,
      (msg, header) => {
        const ts = isLat ? Buffer.from((msg as { data: Uint8Array }).data.buffer, (msg as { data: Uint8Array }).data.byteOffset, 8).readBigUInt64LE(0) : null;
        recvOnMessage(r, Number(header.sequence), ts);
      },
      { receiveHighWaterMark: sc.hwm, relookupIntervalMs: 0 },
    );
    await r.sub.ready;
  } else {
    const sock = new ZmqSub({ linger: 0, receiveHighWaterMark: sc.hwm, ...rawCtx() });
    sock.subscribe(a.topic);
    sock.connect(address);
    r.raw = sock;
    const three = a.mode === 'raw3';
    const lat = a.kind === 'lat';
    void (async () => {
      try {
        for (;;) {
          const frames = await sock.receive();
          const seq = three ? frames[1]!.readUInt32BE(20) : null;
          const ts = lat ? (three ? frames[2]!.readBigUInt64LE(3) : frames[0]!.readBigUInt64LE(16)) : null;
          recvOnMessage(r, seq, ts);
        }
      } catch {
        // closed
      }
    })();
  }
  rr = r;
  return null;
}

/** Waits for the first message, WARMUP s, then counts over WINDOW s. */
async function recvMeasure(warmupS: number, windowS: number): Promise<unknown> {
  const r = rr!;
  const t0 = Date.now();
  while (r.firstAt === null) {
    if (Date.now() - t0 > 10000) throw new Error('no message received within 10 s');
    await sleep(2);
  }
  await sleep(warmupS * 1000);
  const c0 = r.count;
  const h0 = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  const gaps0 = r.sub ? r.sub.stats.missed : r.rawMissed;
  send({ ev: 'window-start' });
  await sleep(windowS * 1000);
  const c1 = r.count;
  const h1 = process.hrtime.bigint();
  const cpu = process.cpuUsage(cpu0);
  send({ ev: 'window-end' });
  const secs = Number(h1 - h0) / 1e9;
  return { messages: c1 - c0, seconds: secs, missedInWindow: (r.sub ? r.sub.stats.missed : r.rawMissed) - gaps0, recvCpuUsPerMsg: (cpu.user + cpu.system) / Math.max(1, c1 - c0) };
}

async function recvLatency(n: number, timeoutMs: number): Promise<unknown> {
  const r = rr!;
  const t0 = Date.now();
  while (r.latNs.length < n && Date.now() - t0 < timeoutMs) await sleep(10);
  return { samplesNs: r.latNs.slice() };
}

async function recvClose(): Promise<unknown> {
  const r = rr!;
  // drain: until 200 ms without a message (max 3 s)
  const t0 = Date.now();
  while (Date.now() - t0 < 3000 && Number(process.hrtime.bigint() - r.lastMsgAt) < 200e6) await sleep(20);
  clearInterval(r.fbTimer);
  r.closed = true;
  const out = {
    received: r.count,
    firstSeq: r.sub ? null : r.firstSeq,
    lastSeq: r.sub ? null : r.lastSeq,
    gaps: r.sub ? r.sub.stats.gaps : r.rawGaps,
    missed: r.sub ? r.sub.stats.missed : r.rawMissed,
    subscriberStats: r.sub ? { ...r.sub.stats, dropsByReason: { ...r.sub.stats.dropsByReason } } : null,
  };
  if (r.sub) await r.sub.close();
  r.raw?.close();
  r.push.close();
  rr = null;
  return out;
}

async function childMain(role: string): Promise<void> {
  process.on('SIGTERM', () => process.exit(0));
  process.on('disconnect', () => process.exit(0));
  process.on('message', (m: { id: number; cmd: string; args?: SetupArgs; address?: string; warmup?: number; window?: number; n?: number; timeoutMs?: number }) => {
    const run = async (): Promise<unknown> => {
      switch (m.cmd) {
        case 'setup':
          return role === 'send' ? senderSetup(m.args!) : recvSetup(m.args!, m.address!);
        case 'go': {
          const r = sr!;
          r.loop = senderGo().then(() => {});
          r.loop.catch((e: unknown) => console.error('sender loop failed', e));
          return null;
        }
        case 'stop':
          return senderStop();
        case 'measure':
          return recvMeasure(m.warmup!, m.window!);
        case 'latency':
          return recvLatency(m.n!, m.timeoutMs!);
        case 'close':
          return role === 'send' ? senderClose() : recvClose();
        case 'exit':
          await childNode?.close();
          await altNode?.close();
          setTimeout(() => process.exit(0), 50);
          return null;
        default:
          throw new Error(`unknown command ${m.cmd}`);
      }
    };
    run().then(
      (result) => send({ id: m.id, ok: true, result } satisfies Reply),
      (err: unknown) => send({ id: m.id, ok: false, error: err instanceof Error ? (err.stack ?? err.message) : String(err) } satisfies Reply),
    );
  });
  send({ ev: 'hello', role });
}

// ---------------------------------------------------------------------------------------
// orchestrator

const CFG = {
  pairs: envNum('BENCH_PAIRS', 5, 1),
  warmup: envNum('BENCH_WARMUP', 1, 0),
  window: envNum('BENCH_WINDOW', 3, 0.5),
  latMessages: envNum('BENCH_LAT_MSGS', 2000, 10),
  latRate: envNum('BENCH_LAT_RATE', 1000, 1),
  latPairs: envNum('BENCH_LAT_PAIRS', 2, 1),
  only: new Set((process.env.BENCH_ONLY ?? '1k,4m,lat').split(',').map((s) => s.trim()).filter(Boolean)),
};
/** BENCH_MODES=raw3,ours,oursAlt: restrict the sides measured (raw3 and ours are always kept). */
const MODES = process.env.BENCH_MODES ? new Set(['raw3', 'ours', ...process.env.BENCH_MODES.split(',').map((s) => s.trim())]) : null;
const modes = (ms: Mode[]): Mode[] => (MODES ? ms.filter((m) => MODES.has(m)) : ms);
const TARGETS = { ratio1k: 0.8, ratio4m: 0.9, latP50Ratio: 1.25, latP99Ms: 1 } as const;

interface Child {
  role: string;
  proc: ChildProcess;
  pending: Map<number, { res: (v: unknown) => void; rej: (e: Error) => void }>;
  events: ((ev: string) => void)[];
}
const children: Child[] = [];
let nextId = 1;

function log(m: string): void {
  process.stderr.write(`[bench:bus] ${m}\n`);
}

async function spawnChild(role: string): Promise<Child> {
  const proc = spawn(process.execPath, [...(process.env.BENCH_CHILD_NODE_ARGS ?? '').split(' ').filter(Boolean), '--import', 'tsx', SELF, '--child', role], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], cwd: ROOT });
  const c: Child = { role, proc, pending: new Map(), events: [] };
  children.push(c);
  await new Promise<void>((res, rej) => {
    proc.on('message', (m: { ev?: string; id?: number; ok?: boolean; result?: unknown; error?: string }) => {
      if (m.ev === 'hello') return res();
      if (m.ev) {
        for (const f of c.events) f(m.ev);
        return;
      }
      const p = c.pending.get(m.id!);
      if (!p) return;
      c.pending.delete(m.id!);
      if (m.ok) p.res(m.result);
      else p.rej(new Error(`${role}: ${m.error}`));
    });
    proc.once('exit', (code, sig) => {
      const e = new Error(`child ${role} exited (${code ?? sig})`);
      rej(e);
      for (const p of c.pending.values()) p.rej(e);
      c.pending.clear();
    });
  });
  return c;
}

function call<R = unknown>(c: Child, cmd: string, extra: object = {}, timeoutMs = 60000): Promise<R> {
  const id = nextId++;
  return new Promise<R>((res, rej) => {
    const t = setTimeout(() => {
      c.pending.delete(id);
      rej(new Error(`${c.role} ${cmd}: timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    c.pending.set(id, { res: (v) => (clearTimeout(t), res(v as R)), rej: (e) => (clearTimeout(t), rej(e)) });
    c.proc.send({ id, cmd, ...extra });
  });
}


async function stopAll(): Promise<void> {
  await Promise.all(
    children.map(
      (c) =>
        new Promise<void>((res) => {
          if (c.proc.exitCode !== null || c.proc.signalCode !== null) return res();
          const t = setTimeout(() => c.proc.kill('SIGKILL'), 3000);
          c.proc.once('exit', () => (clearTimeout(t), res()));
          c.proc.kill('SIGTERM');
        }),
    ),
  );
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n === 0 ? NaN : n % 2 ? s[(n - 1) / 2]! : (s[n / 2 - 1]! + s[n / 2]!) / 2;
};
const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;

interface Ctx {
  tmp: string;
  discoveryEndpoint: string;
  runtimeDir: string;
  sender: Child;
  receiver: Child;
  roundNo: number;
}

interface ThroughputRound {
  kind: Kind;
  mode: Mode;
  pair: number;
  msgPerSec: number;
  gbPerSec: number;
  messages: number;
  seconds: number;
  missedInWindow: number;
  senderCpuPct: number;
  receiverCpuPct: number;
  recvCpuUsPerMsg: number;
  sent: number;
  received: number;
  gaps: number;
  missed: number;
  publisherDropped: number | null;
  subscriberDropped: number | null;
}

function setupArgs(ctx: Ctx, kind: Kind, mode: Mode): SetupArgs {
  const n = ++ctx.roundNo;
  return {
    kind, mode, topic: `bench/${kind}/${n}`, dataEndpoint: `ipc://${ctx.tmp}/r${n}.sock`, feedbackEndpoint: `ipc://${ctx.tmp}/f${n}.sock`,
    discoveryEndpoint: ctx.discoveryEndpoint, runtimeDir: ctx.runtimeDir, latMessages: CFG.latMessages, latRate: CFG.latRate,
  };
}

async function throughputRound(ctx: Ctx, kind: Kind, mode: Mode, pair: number): Promise<ThroughputRound> {
  const a = setupArgs(ctx, kind, mode);
  const { address } = await call<{ address: string }>(ctx.sender, 'setup', { args: a });
  await call(ctx.receiver, 'setup', { args: a, address });
  const cpu: Record<string, number[]> = {};
  const onEv = (ev: string) => {
    cpu[ev] = [cpuMs(ctx.sender.proc.pid!), cpuMs(ctx.receiver.proc.pid!), performance.now()];
  };
  ctx.receiver.events.push(onEv);
  await call(ctx.sender, 'go');
  const m = await call<{ messages: number; seconds: number; missedInWindow: number; recvCpuUsPerMsg: number }>(ctx.receiver, 'measure', { warmup: CFG.warmup, window: CFG.window });
  ctx.receiver.events.length = 0;
  const st = await call<{ sent: number; publisherStats: { dropped: number } | null }>(ctx.sender, 'stop');
  const rc = await call<{ received: number; gaps: number; missed: number; subscriberStats: { dropped: number } | null }>(ctx.receiver, 'close');
  await call(ctx.sender, 'close');
  const s0 = cpu['window-start'];
  const s1 = cpu['window-end'];
  const wallMs = s0 && s1 ? s1[2]! - s0[2]! : NaN;
  const sc = scenario(kind, mode);
  const msgPerSec = m.messages / m.seconds;
  const r: ThroughputRound = {
    kind, mode, pair, msgPerSec: Math.round(msgPerSec), gbPerSec: round((msgPerSec * sc.payloadBytes) / 1e9, 3), messages: m.messages, seconds: round(m.seconds, 3),
    missedInWindow: m.missedInWindow,
    senderCpuPct: s0 && s1 ? round(((s1[0]! - s0[0]!) / wallMs) * 100) : NaN,
    receiverCpuPct: s0 && s1 ? round(((s1[1]! - s0[1]!) / wallMs) * 100) : NaN,
    recvCpuUsPerMsg: round(m.recvCpuUsPerMsg, 2),
    sent: st.sent, received: rc.received, gaps: rc.gaps, missed: rc.missed,
    publisherDropped: st.publisherStats?.dropped ?? null, subscriberDropped: rc.subscriberStats?.dropped ?? null,
  };
  log(`${kind} ${mode.padEnd(10)} #${pair}: ${r.msgPerSec} msg/s, ${r.gbPerSec} GB/s, cpu send ${r.senderCpuPct}% recv ${r.receiverCpuPct}%, missed ${r.missed}, sent ${r.sent} received ${r.received}`);
  return r;
}

interface LatencyRound {
  mode: Mode;
  pair: number;
  n: number;
  sent: number;
  p50Us: number;
  p90Us: number;
  p99Us: number;
  maxUs: number;
  meanUs: number;
}

async function latencyRound(ctx: Ctx, mode: Mode, pair: number): Promise<{ round: LatencyRound; samplesNs: number[] }> {
  const a = setupArgs(ctx, 'lat', mode);
  const { address } = await call<{ address: string }>(ctx.sender, 'setup', { args: a });
  await call(ctx.receiver, 'setup', { args: a, address });
  await call(ctx.sender, 'go');
  const timeoutMs = (CFG.latMessages / CFG.latRate) * 1000 * 2 + 5000;
  const { samplesNs } = await call<{ samplesNs: number[] }>(ctx.receiver, 'latency', { n: CFG.latMessages, timeoutMs }, timeoutMs + 10000);
  const st = await call<{ sent: number }>(ctx.sender, 'stop');
  await call(ctx.receiver, 'close');
  await call(ctx.sender, 'close');
  const s = [...samplesNs].sort((x, y) => x - y);
  const us = (ns: number) => round(ns / 1000, 1);
  const round_: LatencyRound = {
    mode, pair, n: s.length, sent: st.sent,
    p50Us: us(pct(s, 50)), p90Us: us(pct(s, 90)), p99Us: us(pct(s, 99)), maxUs: us(s[s.length - 1]!), meanUs: us(s.reduce((x, y) => x + y, 0) / s.length),
  };
  log(`lat ${mode.padEnd(10)} #${pair}: n ${round_.n} p50 ${round_.p50Us} µs p99 ${round_.p99Us} µs max ${round_.maxUs} µs`);
  return { round: round_, samplesNs };
}

function summarizeThroughput(rounds: ThroughputRound[], kind: Kind) {
  const by = (mode: Mode) => rounds.filter((r) => r.kind === kind && r.mode === mode);
  const stat = (mode: Mode) => {
    const rs = by(mode);
    if (rs.length === 0) return null;
    return {
      medianMsgPerSec: Math.round(median(rs.map((r) => r.msgPerSec))),
      medianGbPerSec: round(median(rs.map((r) => r.gbPerSec)), 3),
      runsMsgPerSec: rs.map((r) => r.msgPerSec),
      medianSenderCpuPct: median(rs.map((r) => r.senderCpuPct)),
      medianReceiverCpuPct: median(rs.map((r) => r.receiverCpuPct)),
      medianRecvCpuUsPerMsg: round(median(rs.map((r) => r.recvCpuUsPerMsg)), 2),
      missedTotal: rs.reduce((x, r) => x + r.missed, 0),
      publisherDroppedTotal: rs.reduce((x, r) => x + (r.publisherDropped ?? 0), 0),
      subscriberDroppedTotal: rs.reduce((x, r) => x + (r.subscriberDropped ?? 0), 0),
    };
  };
  const raw3 = stat('raw3');
  const ours = stat('ours');
  const perPair = by('ours').map((o) => {
    const r = by('raw3').find((x) => x.pair === o.pair);
    return r ? round(o.msgPerSec / r.msgPerSec, 3) : NaN;
  });
  return {
    raw1: stat('raw1'), raw3, ours, oursString: stat('oursString'), oursAlt: stat('oursAlt'),
    ratioAlt: raw3 && stat('oursAlt') ? round(stat('oursAlt')!.medianMsgPerSec / raw3.medianMsgPerSec, 3) : NaN,
    ratioOfMedians: raw3 && ours ? round(ours.medianMsgPerSec / raw3.medianMsgPerSec, 3) : NaN,
    /** Median of the per-pair ratios: the checked value. */
    ratio: round(median(perPair), 3),
    ratioPerPair: perPair,
    ratioString: raw3 && stat('oursString') ? round(stat('oursString')!.medianMsgPerSec / raw3.medianMsgPerSec, 3) : NaN,
  };
}

function summarizeLatency(rounds: LatencyRound[], pooled: Record<string, number[]>) {
  const stat = (mode: Mode) => {
    const s = [...(pooled[mode] ?? [])].sort((x, y) => x - y);
    if (s.length === 0) return null;
    const us = (ns: number) => round(ns / 1000, 1);
    return { n: s.length, p50Us: us(pct(s, 50)), p90Us: us(pct(s, 90)), p99Us: us(pct(s, 99)), maxUs: us(s[s.length - 1]!), meanUs: us(s.reduce((x, y) => x + y, 0) / s.length) };
  };
  const raw3 = stat('raw3');
  const ours = stat('ours');
  return {
    raw1: stat('raw1'), raw3, ours, oursAlt: stat('oursAlt'),
    ratioP50: raw3 && ours ? round(ours.p50Us / raw3.p50Us, 3) : NaN,
    ratioP99: raw3 && ours ? round(ours.p99Us / raw3.p99Us, 3) : NaN,
    rounds,
  };
}



async function parentMain(): Promise<void> {
  const startedAt = new Date();
  const tmp = mkdtempSync('/tmp/cbus-');
  const ctx: Ctx = {
    tmp, discoveryEndpoint: `ipc://${tmp}/d.sock`, runtimeDir: join(tmp, 't'), roundNo: 0,
    sender: null as unknown as Child, receiver: null as unknown as Child,
  };
  const results: Record<string, unknown> = {
    meta: {
      startedAt: startedAt.toISOString(), node: process.version, platform: `${os.platform()} ${os.release()}`, cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model,
      zeromq: (JSON.parse(readFileSync(join(ROOT, 'node_modules/zeromq/package.json'), 'utf8')) as { version: string }).version,
      loadAvgStart: os.loadavg().map((x) => round(x, 2)), gitCommit: git(['rev-parse', '--short', 'HEAD']), gitDirty: git(['status', '--porcelain', '--', 'main', 'common']) !== '',
      config: { ...CFG, only: [...CFG.only], altBus: ALT_BUS, modes: MODES ? [...MODES] : null, rawOwnContext: RAW_OWN_CONTEXT },
      method: {
        processes: 'orchestrator (this process, runs the discovery daemon) + sender child + receiver child, all `node --import tsx bench/bus.ts`; every socket ipc:// under a fresh /tmp/cbus-* dir',
        throughput: 'credit window: receiver reports its count every 1 ms over PUSH→PULL; sender keeps ≤ window messages in flight (window ≤ SNDHWM, RCVHWM) so neither libzmq nor our queue drops; count over a fixed window after warm-up',
        sentVsReceived: '`sent` includes the probe messages sent every 5 ms until the receiver reported its first message (slow joiner); those sent before the subscription reached the publisher are not received. Loss after the first message is `missed` (sequence gaps).',
        raw: 'zeromq.js Publisher/Subscriber with frames pre-built once by our encoder (same sizes/bytes); sender writes a u32 sequence into the 24 B header (copied by zeromq.js), receiver counts',
        latencyClock: 'sender writes process.hrtime.bigint() into the payload; receiver subtracts from its own process.hrtime.bigint() (CLOCK_MONOTONIC, shared across processes on Linux)',
      },
      note: 'shared, noisy 2-core machine: compare ratios within a run, not absolute numbers across runs',
    },
  };
  const daemon = await startDiscoveryDaemon({ endpoint: ctx.discoveryEndpoint, logger: () => {} });
  try {
    [ctx.sender, ctx.receiver] = await Promise.all([spawnChild('send'), spawnChild('recv')]);
    const tp: ThroughputRound[] = [];
    if (CFG.only.has('1k')) {
      log('1 KB throughput');
      await throughputRound(ctx, '1k', 'raw3', 0); // warm-up (discarded)
      await throughputRound(ctx, '1k', 'ours', 0);
      for (let p = 1; p <= CFG.pairs; p++) {
        const fwd = modes(['raw1', 'raw3', 'ours', 'oursString', ...(ALT_BUS ? (['oursAlt'] as Mode[]) : [])]);
        const order = p % 2 ? fwd : [...fwd].reverse();
        for (const mode of order) tp.push(await throughputRound(ctx, '1k', mode, p));
      }
      results.throughput1k = { ...summarizeThroughput(tp, '1k'), payloadBytes: KIB, frames: 'topic, 24 B header, 1028 B metadata (msgpack [bin 1024])', window: scenario('1k', 'ours').window, hwm: scenario('1k', 'ours').hwm };
    }
    if (CFG.only.has('4m')) {
      log('4 MiB Float32Array throughput');
      await throughputRound(ctx, '4m', 'ours', 0); // warm-up (discarded)
      for (let p = 1; p <= CFG.pairs; p++) {
        const fwd = modes(['raw3', 'ours', ...(ALT_BUS ? (['oursAlt'] as Mode[]) : [])]);
        const order = p % 2 ? fwd : [...fwd].reverse();
        for (const mode of order) tp.push(await throughputRound(ctx, '4m', mode, p));
      }
      results.throughput4m = { ...summarizeThroughput(tp, '4m'), payloadBytes: ARRAY_ELEMS * 4, frames: 'topic, 24 B header, metadata (OOB descriptor), 4 MiB buffer', window: scenario('4m', 'ours').window, hwm: scenario('4m', 'ours').hwm };
    }
    results.throughputRounds = tp;
    if (CFG.only.has('lat')) {
      log(`latency: ${CFG.latMessages} × 64 B at ${CFG.latRate} Hz per round`);
      const lat: LatencyRound[] = [];
      const pooled: Record<string, number[]> = {};
      await latencyRound(ctx, 'ours', 0); // warm-up (discarded)
      for (let p = 1; p <= CFG.latPairs; p++) {
        const fwd = modes(['raw1', 'raw3', 'ours', ...(ALT_BUS ? (['oursAlt'] as Mode[]) : [])]);
        const order = p % 2 ? fwd : [...fwd].reverse();
        for (const mode of order) {
          const { round: r, samplesNs } = await latencyRound(ctx, mode, p);
          lat.push(r);
          (pooled[mode] ??= []).push(...samplesNs);
        }
      }
      results.latency = { ...summarizeLatency(lat, pooled), messagesPerRound: CFG.latMessages, rateHz: CFG.latRate, payloadBytes: LAT_BYTES };
    }
    await Promise.all([call(ctx.sender, 'exit', {}, 5000).catch(() => {}), call(ctx.receiver, 'exit', {}, 5000).catch(() => {})]);
  } finally {
    await stopAll();
    await daemon.close().catch(() => {});
    rmSync(tmp, { recursive: true, force: true });
  }
  const meta = results.meta as Record<string, unknown>;
  meta.loadAvgEnd = os.loadavg().map((x) => round(x, 2));
  meta.elapsedSeconds = round((Date.now() - startedAt.getTime()) / 1000, 1);

  // checks + table
  type TP = ReturnType<typeof summarizeThroughput>;
  type LT = ReturnType<typeof summarizeLatency>;
  const t1 = results.throughput1k as TP | undefined;
  const t4 = results.throughput4m as TP | undefined;
  const lt = results.latency as LT | undefined;
  const checks: { name: string; raw: string; ours: string; ratio: string; target: string; pass: boolean }[] = [];
  if (t1?.raw3 && t1.ours) {
    checks.push({ name: '1 KB msg/s (median pair ratio)', raw: String(t1.raw3.medianMsgPerSec), ours: String(t1.ours.medianMsgPerSec), ratio: t1.ratio.toFixed(3), target: `≥ ${TARGETS.ratio1k} × raw`, pass: t1.ratio >= TARGETS.ratio1k });
    const lost = t1.ours.missedTotal + t1.ours.publisherDroppedTotal + t1.ours.subscriberDroppedTotal + t1.raw3.missedTotal;
    checks.push({ name: '1 KB drops + gaps (ours+raw)', raw: String(t1.raw3.missedTotal), ours: String(t1.ours.missedTotal + t1.ours.publisherDroppedTotal + t1.ours.subscriberDroppedTotal), ratio: '', target: '0', pass: lost === 0 });
  }
  if (t4?.raw3 && t4.ours) {
    checks.push({ name: '4 MiB Float32 GB/s (median pair ratio)', raw: t4.raw3.medianGbPerSec.toFixed(3), ours: t4.ours.medianGbPerSec.toFixed(3), ratio: t4.ratio.toFixed(3), target: `≥ ${TARGETS.ratio4m} × raw`, pass: t4.ratio >= TARGETS.ratio4m });
    const lost = t4.ours.missedTotal + t4.ours.publisherDroppedTotal + t4.ours.subscriberDroppedTotal + t4.raw3.missedTotal;
    checks.push({ name: '4 MiB drops + gaps (ours+raw)', raw: String(t4.raw3.missedTotal), ours: String(t4.ours.missedTotal + t4.ours.publisherDroppedTotal + t4.ours.subscriberDroppedTotal), ratio: '', target: '0', pass: lost === 0 });
  }
  if (lt?.raw3 && lt.ours) {
    checks.push({ name: '64 B latency p50 µs', raw: String(lt.raw3.p50Us), ours: String(lt.ours.p50Us), ratio: lt.ratioP50.toFixed(3), target: `≤ ${TARGETS.latP50Ratio} × raw`, pass: lt.ratioP50 <= TARGETS.latP50Ratio });
    checks.push({ name: '64 B latency p99 µs', raw: String(lt.raw3.p99Us), ours: String(lt.ours.p99Us), ratio: lt.ratioP99.toFixed(3), target: `≤ ${TARGETS.latP99Ms * 1000} µs`, pass: lt.ours.p99Us <= TARGETS.latP99Ms * 1000 });
    const expected = CFG.latMessages * CFG.latPairs;
    checks.push({ name: '64 B latency samples', raw: String(lt.raw3.n), ours: String(lt.ours.n), ratio: '', target: `${expected} each`, pass: lt.ours.n === expected && lt.raw3.n === expected });
  }
  results.checks = checks;

  const out: string[] = ['', '=== Cortex Console bus benchmark (2 processes, ipc://) ==='];
  out.push(`node ${process.version}, zeromq ${String(meta.zeromq)}, ${os.cpus().length} CPUs, load avg start ${(meta.loadAvgStart as number[]).join(' ')} / end ${(meta.loadAvgEnd as number[]).join(' ')}, commit ${String(meta.gitCommit)}${meta.gitDirty ? ' (main/common dirty)' : ''}`);
  for (const [label, t] of [['1 KB', t1], ['4 MiB Float32', t4]] as const) {
    if (!t) continue;
    out.push('', `${label} throughput (warm-up ${CFG.warmup} s, counted ${CFG.window} s per round, ${CFG.pairs} rounds each, medians)`);
    const rows = [['side', 'msg/s', 'GB/s', 'runs msg/s', 'send CPU %', 'recv CPU %', 'recv CPU µs/msg', 'missed', 'pub drops']];
    for (const [name, s] of [['raw 1-frame (ref)', t.raw1], ['raw 3/4-frame', t.raw3], ['ours', t.ours], ['ours StringType (ref)', t.oursString], [`ours ALT (${ALT_BUS ?? ''})`, t.oursAlt]] as const) {
      if (!s) continue;
      rows.push([name, String(s.medianMsgPerSec), s.medianGbPerSec.toFixed(3), s.runsMsgPerSec.join(' '), String(s.medianSenderCpuPct), String(s.medianReceiverCpuPct), String(s.medianRecvCpuUsPerMsg), String(s.missedTotal), String(s.publisherDroppedTotal)]);
    }
    out.push(table(rows));
    out.push(`ours/raw per pair: ${t.ratioPerPair.join(', ')} → median ${t.ratio} (ratio of medians ${t.ratioOfMedians})${Number.isFinite(t.ratioString) ? `; StringType/raw ${t.ratioString}` : ''}${Number.isFinite(t.ratioAlt) ? `; ALT/raw ${t.ratioAlt}` : ''}`);
  }
  if (lt) {
    out.push('', `64 B one-way latency (${CFG.latMessages} msgs at ${CFG.latRate} Hz × ${CFG.latPairs} rounds, pooled; hrtime in payload)`);
    const rows = [['side', 'n', 'p50 µs', 'p90 µs', 'p99 µs', 'max µs', 'mean µs']];
    for (const [name, s] of [['raw 1-frame (ref)', lt.raw1], ['raw 3-frame', lt.raw3], ['ours', lt.ours], ['ours ALT', lt.oursAlt]] as const) {
      if (s) rows.push([name, String(s.n), String(s.p50Us), String(s.p90Us), String(s.p99Us), String(s.maxUs), String(s.meanUs)]);
    }
    out.push(table(rows));
  }
  out.push('', 'Checks');
  out.push(checksTable(checks));

  writeResults('bus', startedAt, results, out);
}

if (process.argv[2] === '--child') {
  await childMain(process.argv[3] ?? '?');
} else {
  parentMain().then(
    () => process.exit(0),
    async (err: unknown) => {
      process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      await stopAll();
      process.exit(1);
    },
  );
}

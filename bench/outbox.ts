/**
 * Webhook outbox benchmark: our fan-out and delivery worker (main/outbox) against plain
 * better-sqlite3 and plain node:http doing the same work, side by side in the same run.
 *
 *   npm run bench:outbox         (= node --import tsx bench/outbox.ts)
 *
 * Layout: this process runs Cortex in-process (startCortex, or the outbox wired by hand for
 * the fan-out) and the raw baselines; one child process (bench/outbox-receiver.mjs, plain
 * node:http) is the webhook receiver, with a "fast" server (200, empty body, as soon as the
 * request is read) and a "slow" one (200 after BENCH_SLOW_MS). The receiver timestamps every
 * arrival with process.hrtime.bigint() and reports counts / (webhook-id, ns) pairs over IPC in
 * batches. Rounds alternate raw, ours, raw, ours, … (order reversed on even rounds) so a
 * noisy neighbour hits both alike; checks use medians (throughput: median of per-round
 * ratios, as in bench/bus.ts).
 *
 * 1. Fan-out rows/s. Ours: a fresh data dir (openDatabase + EventLog + domain + bootstrap +
 *    createOutbox, never started: nothing is sent), BENCH_FANOUT_SUBS enabled subscriptions
 *    matching "*" created first (so their from_seq is lower), then BENCH_FANOUT_EVENTS
 *    message.created events appended in 1000-event writes, WAL checkpointed, then
 *    `outbox.fanout.step()` timed in a loop until it consumes nothing. Raw: a fresh database
 *    file with the same pragmas as openDatabase (locking_mode EXCLUSIVE, WAL,
 *    synchronous NORMAL, foreign_keys ON), webhook_deliveries created from the migration's
 *    own DDL (indexes, UNIQUE, FK to a stub webhooks(id) table), and the same INSERT
 *    statement text run for the same rows (event-major order, uuidv7 ids generated before the
 *    clock starts) in transactions of 1000 rows; raw one-row-per-transaction (on the first
 *    BENCH_FANOUT_SINGLE_ROWS rows) as a reference.
 * 2. Deliveries/s to the loopback receiver. Ours: startCortex, one subscription to the fast
 *    server (created through the real API route with app.inject), BENCH_DELIVER_EVENTS events
 *    appended synchronously (the outbox cannot run in between), then the clock starts and we
 *    wait until the receiver has counted them all (end = the receiver's hrtime of the N-th
 *    arrival). Includes the fan-out of those events. Raw: a node:http keep-alive agent in this
 *    process posting N bodies of the same size and header shape with the same concurrency
 *    (webhookConcurrency) to the same server.
 * 3. Commit → delivered latency. Ours: startCortex, one subscription to the fast server;
 *    `cortex.events.commit(() => domain.messages.create(…))` paced at BENCH_LAT_RATE Hz;
 *    an events.subscribe listener records hrtime when each message.created is dispatched
 *    (right after COMMIT, before the commit promise resolves), keyed by event id; the receiver
 *    records hrtime on arrival keyed by the webhook-id header (= event id). Raw reference: the
 *    same pacing, a keep-alive node:http POST per tick, hrtime at send. The first
 *    BENCH_LAT_WARMUP seconds of each round are not counted.
 * 4. Isolation: as 3, with two more subscriptions to the same events created first: one to
 *    the slow server (answers after BENCH_SLOW_MS), one to a closed 127.0.0.1 port (connection
 *    refused; with the default breaker it opens after 5 failures). At the end Cortex is closed
 *    without waiting for the slow requests (close() aborts them).
 *
 * Latency clock: CLOCK_MONOTONIC (libuv uv_hrtime) is one clock for all processes on Linux,
 * so receiver ns − sender ns is a valid one-way latency.
 *
 * Writes bench/results/outbox-<timestamp>.json and bench/results/outbox-latest.json and prints
 * a summary with checks (a missed target prints FAIL; only a real error exits non-zero).
 *
 * Environment (all optional):
 *   BENCH_ROUNDS=3              raw/ours rounds per throughput scenario (plus one discarded warm-up)
 *   BENCH_FANOUT_EVENTS=20000   events pre-filled for the fan-out scenario
 *   BENCH_FANOUT_SUBS=4         subscriptions matching "*" (rows = events × subs)
 *   BENCH_FANOUT_SINGLE_ROWS=20000  rows for the raw one-row-per-transaction reference (it is slow)
 *   BENCH_DELIVER_EVENTS=10000  events delivered per deliveries/s round
 *   BENCH_CONCURRENCY=8         webhookConcurrency (ours) = sockets in flight (raw)
 *   BENCH_LAT_RATE=200          commits per second in the latency rounds
 *   BENCH_LAT_SECONDS=8         counted seconds per latency round
 *   BENCH_LAT_WARMUP=1          seconds per latency round sent before counting starts
 *   BENCH_LAT_ROUNDS=2          rounds of (raw, ours healthy, ours with slow+dead neighbours)
 *   BENCH_SLOW_MS=10000         the slow receiver's answer delay
 *   BENCH_ONLY=fanout,deliver,latency   run a subset
 *   BENCH_RESULTS_DIR=dir       write results there instead of bench/results
 */
import { checksTable, cpuMs, envNum, git, round, table, writeResults } from './common.js';
import Database from 'better-sqlite3';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { bootstrap } from '../main/core/bootstrap.js';
import { DEFAULTS } from '../main/core/config.js';
import { startCortex, type Cortex } from '../main/core/cortex.js';
import { createDomain } from '../main/domain/index.js';
import { EventLog } from '../main/events/log.js';
import { createOutbox } from '../main/outbox/index.js';
import { openDatabase } from '../main/store/db.js';
import { uuidv7 } from '../main/store/ids.js';
import webhooksDdl from '../main/store/migrations/0002-webhooks.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..');


const CFG = {
  rounds: envNum('BENCH_ROUNDS', 3, 1),
  fanoutEvents: envNum('BENCH_FANOUT_EVENTS', 20_000, 100),
  fanoutSubs: envNum('BENCH_FANOUT_SUBS', 4, 1),
  fanoutSingleRows: envNum('BENCH_FANOUT_SINGLE_ROWS', 20_000, 100),
  deliverEvents: envNum('BENCH_DELIVER_EVENTS', 10_000, 100),
  concurrency: envNum('BENCH_CONCURRENCY', DEFAULTS.webhookConcurrency, 1),
  latRate: envNum('BENCH_LAT_RATE', 200, 1),
  latSeconds: envNum('BENCH_LAT_SECONDS', 8, 1),
  latWarmup: envNum('BENCH_LAT_WARMUP', 1, 0),
  latRounds: envNum('BENCH_LAT_ROUNDS', 2, 1),
  slowMs: envNum('BENCH_SLOW_MS', 10_000, 0),
  only: new Set((process.env.BENCH_ONLY ?? 'fanout,deliver,latency').split(',').map((s) => s.trim()).filter(Boolean)),
};
const TARGETS = { fanoutRowsPerSec: 20_000, fanoutRatio: 0.3, deliveriesPerSec: 3_000, latP99Ms: 50, isolatedP99Ms: 100 } as const;
/** Events per write when pre-filling the log (and rows per transaction for raw batched). */
const BATCH = 1000;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const hr = (): number => Number(process.hrtime.bigint());
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n === 0 ? NaN : n % 2 ? s[(n - 1) / 2]! : (s[n / 2 - 1]! + s[n / 2]!) / 2;
};
const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;

function log(m: string): void {
  process.stderr.write(`[bench:outbox] ${m}\n`);
}



/** CPU % of this process and of the receiver over a stretch of wall time. */
function cpuMeter(receiverPid: number) {
  const c0 = process.cpuUsage();
  const r0 = cpuMs(receiverPid);
  const t0 = performance.now();
  return () => {
    const wall = performance.now() - t0;
    const c = process.cpuUsage(c0);
    return { parentCpuPct: round(((c.user + c.system) / 1000 / wall) * 100), receiverCpuPct: round(((cpuMs(receiverPid) - r0) / wall) * 100) };
  };
}

const silentLogger = { info: () => {}, warn: () => {}, error: (o: unknown, m?: string) => log(`outbox error: ${m ?? ''} ${JSON.stringify(o)}`) };

// ---------------------------------------------------------------------------------------
// the receiver child

interface ReceiverMsg {
  ev?: string;
  id?: number;
  ok?: boolean;
  result?: unknown;
  error?: string;
  round?: number;
  ids?: string[];
  ns?: number[];
  count?: number;
  firstNs?: number;
  atNs?: number;
  fastPort?: number;
  slowPort?: number;
}

interface Receiver {
  proc: ChildProcess;
  fastPort: number;
  slowPort: number;
  pending: Map<number, { res: (v: unknown) => void; rej: (e: Error) => void }>;
  /** Per-round listeners for `arrivals` / `target` reports. */
  onReport: ((m: ReceiverMsg) => void) | null;
  exited: boolean;
}
let receiver: Receiver | null = null;
let nextCallId = 1;
let nextRound = 1;

async function spawnReceiver(): Promise<Receiver> {
  const proc = spawn(process.execPath, [join(HERE, 'outbox-receiver.mjs')], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    cwd: ROOT,
    env: { ...process.env, BENCH_SLOW_MS: String(CFG.slowMs) },
  });
  const r: Receiver = { proc, fastPort: 0, slowPort: 0, pending: new Map(), onReport: null, exited: false };
  receiver = r;
  await new Promise<void>((res, rej) => {
    proc.on('message', (m: ReceiverMsg) => {
      if (m.ev === 'hello') {
        r.fastPort = m.fastPort!;
        r.slowPort = m.slowPort!;
        return res();
      }
      if (m.ev) {
        r.onReport?.(m);
        return;
      }
      const p = r.pending.get(m.id!);
      if (!p) return;
      r.pending.delete(m.id!);
      if (m.ok) p.res(m.result);
      else p.rej(new Error(`receiver: ${m.error}`));
    });
    proc.once('exit', (code, sig) => {
      r.exited = true;
      const e = new Error(`receiver exited (${code ?? sig})`);
      rej(e);
      for (const p of r.pending.values()) p.rej(e);
      r.pending.clear();
    });
  });
  return r;
}

function call<R = unknown>(r: Receiver, cmd: string, extra: object = {}, timeoutMs = 30_000): Promise<R> {
  const id = nextCallId++;
  return new Promise<R>((res, rej) => {
    const t = setTimeout(() => {
      r.pending.delete(id);
      rej(new Error(`receiver ${cmd}: timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    r.pending.set(id, { res: (v) => (clearTimeout(t), res(v as R)), rej: (e) => (clearTimeout(t), rej(e)) });
    r.proc.send({ id, cmd, ...extra });
  });
}

async function stopReceiver(): Promise<void> {
  const r = receiver;
  if (!r || r.exited) return;
  await call(r, 'exit', {}, 3000).catch(() => {});
  await new Promise<void>((res) => {
    if (r.exited) return res();
    const t = setTimeout(() => r.proc.kill('SIGKILL'), 3000);
    r.proc.once('exit', () => (clearTimeout(t), res()));
    r.proc.kill('SIGTERM');
  });
}

process.on('exit', () => {
  if (receiver && !receiver.exited) receiver.proc.kill('SIGKILL');
});
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    log(`${sig}: stopping the receiver…`);
    void stopReceiver().finally(() => process.exit(130));
  });
}

/** Starts a round on the receiver; `target` resolves with the hrtime of the target-th arrival at the fast server. */
async function receiverRound(r: Receiver, mode: 'count' | 'ids', target?: number) {
  const id = nextRound++;
  const arrivals = new Map<string, number>();
  let duplicates = 0;
  let reached: ((v: { ns: number; firstNs: number }) => void) | null = null;
  const targetP = new Promise<{ ns: number; firstNs: number }>((res) => (reached = res));
  r.onReport = (m) => {
    if (m.round !== id) return;
    if (m.ev === 'target') reached!({ ns: m.atNs!, firstNs: m.firstNs! });
    else if (m.ev === 'arrivals') {
      const ids = m.ids!;
      const ns = m.ns!;
      for (let i = 0; i < ids.length; i++) {
        if (arrivals.has(ids[i]!)) duplicates++;
        else arrivals.set(ids[i]!, ns[i]!);
      }
    }
  };
  await call(r, 'reset', { round: id, mode, ...(target !== undefined ? { target } : {}) });
  return {
    id,
    arrivals,
    get duplicates() {
      return duplicates;
    },
    waitTarget(timeoutMs: number): Promise<{ ns: number; firstNs: number }> {
      return Promise.race([targetP, sleep(timeoutMs).then(() => Promise.reject(new Error(`receiver did not count ${target} requests within ${timeoutMs} ms`)))]);
    },
    stats: () => call<{ fastCount: number; slowCount: number; slowPending: number }>(r, 'stats'),
  };
}

/** A 127.0.0.1 port nothing listens on (bound, then closed): connections are refused. */
async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((res) => s.listen(0, '127.0.0.1', () => res()));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((res) => s.close(() => res()));
  return port;
}

// ---------------------------------------------------------------------------------------
// shared event shape

const SCOPE = { tenantId: 'local', projectId: 'default' };

function messageData(sessionId: string) {
  return { id: uuidv7(), sessionId, participantId: null, type: 'user', senderName: 'bench', content: 'hello world', timestamp: new Date().toISOString(), language: null, hasDebugAudio: false };
}

/** Appends `n` message.created events in writes of BATCH events (synchronous). */
function prefill(events: EventLog, n: number): void {
  const sessionId = uuidv7();
  for (let done = 0; done < n; ) {
    const k = Math.min(BATCH, n - done);
    events.write(() => {
      for (let i = 0; i < k; i++) {
        const data = messageData(sessionId);
        events.append({ type: 'message.created', tenantId: SCOPE.tenantId, projectId: SCOPE.projectId, resourceId: `message:${data.id}`, action: 'created', data });
      }
    }, 'bench');
    done += k;
  }
}

/** A webhook body of the same shape and size as a delivered message.created event (for the raw client). */
function sampleBody(): string {
  const data = messageData(uuidv7());
  return JSON.stringify({
    id: uuidv7(), seq: 123456, type: 'message.created', source: 'bench', tenantId: SCOPE.tenantId, projectId: SCOPE.projectId,
    resourceId: `message:${data.id}`, timestamp: new Date().toISOString(), payload: { action: 'created', data },
  });
}

/** Headers of the same shape as a signed delivery (static signature: the raw client does no HMAC). */
function rawHeaders(id: string, body: Buffer): Record<string, string> {
  return {
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(Date.now() / 1000)),
    'webhook-signature': 'v1,' + Buffer.alloc(32, 7).toString('base64'),
    'user-agent': 'CortexConsole/bench',
    'content-type': 'application/json',
    'content-length': String(body.byteLength),
  };
}

function rawPost(agent: http.Agent, port: number, id: string, body: Buffer): Promise<void> {
  return new Promise<void>((res, rej) => {
    const req = http.request({ host: '127.0.0.1', port, path: '/hook', method: 'POST', agent, headers: rawHeaders(id, body) }, (resp) => {
      resp.on('end', () => (resp.statusCode === 200 ? res() : rej(new Error(`raw POST: HTTP ${resp.statusCode}`))));
      resp.on('error', rej);
      resp.resume();
    });
    req.on('error', rej);
    req.end(body);
  });
}

// ---------------------------------------------------------------------------------------
// 1. fan-out rows/s

interface FanoutRound {
  side: 'ours' | 'rawBatched' | 'rawSingle';
  round: number;
  events: number;
  rows: number;
  ms: number;
  rowsPerSec: number;
  /** Ours: transactions (steps) and the longest one (main thread held). */
  steps?: number;
  maxStepMs?: number;
}

/** The webhook_deliveries CREATE TABLE and CREATE INDEX statements, from the migration itself. */
function deliveriesDdl(): string {
  const stmts = webhooksDdl
    .replace(/--[^\n]*/g, '')
    .split(';')
    .map((s) => s.trim())
    .filter((s) => /^CREATE TABLE webhook_deliveries\b/.test(s) || /^CREATE (UNIQUE )?INDEX \w+ ON webhook_deliveries\b/.test(s));
  if (stmts.length < 3) throw new Error(`could not find the webhook_deliveries DDL in migration 0002 (found ${stmts.length} statements)`);
  return stmts.join(';\n') + ';';
}

/** The statement main/outbox/deliveries.ts runs per row (copied; the raw side runs exactly this). */
const INSERT_SQL = `INSERT OR IGNORE INTO webhook_deliveries (id, tenant_id, project_id, webhook_id, event_id, event_seq, event_type, body, status, attempts, run_at, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?, ?)`;

function fanoutOurs(tmp: string, roundNo: number, nEvents: number, nSubs: number, deadPort: number): FanoutRound {
  const dir = mkdtempSync(join(tmp, 'fanout-ours-'));
  const db = openDatabase(join(dir, 'cortex.db'));
  try {
    const events = new EventLog(db);
    const domain = createDomain({ db, events });
    bootstrap(domain, dir);
    const outbox = createOutbox({ db, events }, DEFAULTS, silentLogger, 'CortexConsole/bench');
    for (let i = 0; i < nSubs; i++) outbox.webhooks.create(SCOPE, { url: `http://127.0.0.1:${deadPort}/hook-${i}`, events: ['*'] });
    prefill(events, nEvents);
    db.pragma('wal_checkpoint(TRUNCATE)');
    let rows = 0;
    let consumed = 0;
    let steps = 0;
    let maxStepMs = 0;
    const t0 = performance.now();
    for (;;) {
      const s0 = performance.now();
      const r = outbox.fanout.step();
      maxStepMs = Math.max(maxStepMs, performance.now() - s0);
      if (r.events === 0) break;
      rows += r.rows;
      consumed += r.events;
      steps++;
    }
    const ms = performance.now() - t0;
    const stored = (db.prepare('SELECT count(*) AS n FROM webhook_deliveries').get() as { n: number }).n;
    if (stored !== rows) throw new Error(`fan-out reported ${rows} rows but ${stored} are stored`);
    if (rows < nEvents * nSubs) throw new Error(`fan-out wrote ${rows} rows, expected ≥ ${nEvents * nSubs}`);
    void outbox.close();
    return { side: 'ours', round: roundNo, events: consumed, rows, ms: round(ms, 1), rowsPerSec: Math.round((rows / ms) * 1000), steps, maxStepMs: round(maxStepMs, 1) };
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function fanoutRaw(tmp: string, roundNo: number, nEvents: number, nSubs: number, perTx: number): FanoutRound {
  const dir = mkdtempSync(join(tmp, 'fanout-raw-'));
  const db = new Database(join(dir, 'raw.db'));
  try {
    // The pragmas openDatabase sets.
    db.pragma('locking_mode = EXCLUSIVE');
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    db.exec('CREATE TABLE webhooks (id TEXT PRIMARY KEY)');
    db.exec(deliveriesDdl());
    const hooks = Array.from({ length: nSubs }, () => uuidv7());
    const addHook = db.prepare('INSERT INTO webhooks (id) VALUES (?)');
    for (const h of hooks) addHook.run(h);
    // Values generated before the clock starts: the raw side measures SQLite alone.
    const total = nEvents * nSubs;
    const eventIds = Array.from({ length: nEvents }, () => uuidv7());
    const rowIds = Array.from({ length: total }, () => uuidv7());
    const insert = db.prepare(INSERT_SQL);
    const begin = db.prepare('BEGIN IMMEDIATE');
    const commit = db.prepare('COMMIT');
    const seq0 = 100;
    const t0 = performance.now();
    for (let k = 0; k < total; ) {
      const end = Math.min(total, k + perTx);
      const now = Date.now();
      const iso = new Date(now).toISOString();
      begin.run();
      for (; k < end; k++) {
        const e = Math.floor(k / nSubs);
        insert.run(rowIds[k], SCOPE.tenantId, SCOPE.projectId, hooks[k % nSubs], eventIds[e], seq0 + e, 'message.created', null, now, iso, iso);
      }
      commit.run();
    }
    const ms = performance.now() - t0;
    return { side: perTx === 1 ? 'rawSingle' : 'rawBatched', round: roundNo, events: nEvents, rows: total, ms: round(ms, 1), rowsPerSec: Math.round((total / ms) * 1000) };
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function benchFanout(tmp: string) {
  const deadPort = await closedPort();
  const n = CFG.fanoutEvents;
  const subs = CFG.fanoutSubs;
  const run = (side: FanoutRound['side'], r: number, events: number): FanoutRound => {
    const res = side === 'ours'
      ? fanoutOurs(tmp, r, events, subs, deadPort)
      : side === 'rawSingle'
        ? fanoutRaw(tmp, r, Math.min(events, Math.ceil(CFG.fanoutSingleRows / subs)), subs, 1)
        : fanoutRaw(tmp, r, events, subs, BATCH);
    log(`fanout ${side.padEnd(10)} #${r}: ${res.rows} rows in ${res.ms} ms → ${res.rowsPerSec} rows/s${res.steps !== undefined ? ` (${res.steps} steps, longest ${res.maxStepMs} ms)` : ''}`);
    return res;
  };
  log(`fan-out: ${n} events × ${subs} subscriptions`);
  // warm-up (discarded): JIT, page cache
  const warm = Math.max(100, Math.round(n / 5));
  run('rawBatched', 0, warm);
  run('ours', 0, warm);
  const rounds: FanoutRound[] = [];
  for (let p = 1; p <= CFG.rounds; p++) {
    const fwd: FanoutRound['side'][] = ['rawBatched', 'rawSingle', 'ours'];
    for (const side of p % 2 ? fwd : [...fwd].reverse()) {
      rounds.push(run(side, p, n));
      await sleep(0);
    }
  }
  const stat = (side: FanoutRound['side']) => {
    const rs = rounds.filter((r) => r.side === side);
    return { rows: rs[0]?.rows ?? 0, medianRowsPerSec: Math.round(median(rs.map((r) => r.rowsPerSec))), runsRowsPerSec: rs.map((r) => r.rowsPerSec), medianMs: round(median(rs.map((r) => r.ms)), 1) };
  };
  const ours = stat('ours');
  const rawBatched = stat('rawBatched');
  const rawSingle = stat('rawSingle');
  const perRound = rounds.filter((r) => r.side === 'ours').map((o) => round(o.rowsPerSec / rounds.find((r) => r.side === 'rawBatched' && r.round === o.round)!.rowsPerSec, 3));
  return {
    events: n, subscriptions: subs, rowsPerRound: rounds.find((r) => r.side === 'ours')?.rows,
    ours: { ...ours, medianMaxStepMs: round(median(rounds.filter((r) => r.side === 'ours').map((r) => r.maxStepMs!)), 1) },
    rawBatched, rawSingle,
    ratio: round(median(perRound), 3), ratioPerRound: perRound, ratioOfMedians: round(ours.medianRowsPerSec / rawBatched.medianRowsPerSec, 3),
    ratioToSingle: round(ours.medianRowsPerSec / rawSingle.medianRowsPerSec, 3),
    rawDdl: deliveriesDdl(), rawInsert: INSERT_SQL.replace(/\s+/g, ' '), rawRowsPerTransaction: BATCH,
    rounds,
  };
}

// ---------------------------------------------------------------------------------------
// 2. deliveries/s

interface DeliverRound {
  side: 'ours' | 'raw';
  round: number;
  n: number;
  ms: number;
  perSec: number;
  firstArrivalMs: number;
  parentCpuPct: number;
  receiverCpuPct: number;
  /** Ours: rows delivered when the round closed (should be n) and duplicates seen. */
  delivered?: number;
}

function bootCortex(tmp: string, name: string): Promise<Cortex> {
  const dataDir = mkdtempSync(join(tmp, `${name}-`));
  return startCortex({ dataDir, port: 0, logLevel: 'silent', busEndpoint: null, webhookConcurrency: CFG.concurrency });
}

async function closeCortex(c: Cortex): Promise<void> {
  await c.close();
  rmSync(c.config.dataDir, { recursive: true, force: true });
}

/** Creates a subscription through the real API route (no socket: app.inject). */
async function subscribe(c: Cortex, url: string): Promise<string> {
  const res = await c.app.inject({
    method: 'POST', url: `/api/projects/${c.projectId}/webhooks`, headers: { 'x-api-key': c.consoleKey }, payload: { url, events: ['*'] },
  });
  if (res.statusCode !== 201) throw new Error(`POST webhooks: HTTP ${res.statusCode} ${res.body}`);
  return (JSON.parse(res.body) as { id: string }).id;
}

async function deliverOurs(tmp: string, rcv: Receiver, roundNo: number, n: number): Promise<DeliverRound> {
  const c = await bootCortex(tmp, 'deliver');
  try {
    const hookId = await subscribe(c, `http://127.0.0.1:${rcv.fastPort}/hook`);
    const rr = await receiverRound(rcv, 'count', n);
    await sleep(50); // let the subscription's own fan-out settle
    const cpu = cpuMeter(rcv.proc.pid!);
    prefill(c.events, n); // synchronous: the outbox runs only once we yield below
    const t0 = hr();
    const { ns, firstNs } = await rr.waitTarget(Math.max(60_000, n * 2));
    const ms = (ns - t0) / 1e6;
    const usage = cpu();
    // let the worker record the last outcomes, then count
    let counts = c.outbox.deliveries.counts(hookId);
    for (let k = 0; k < 100 && (counts.pending > 0 || c.outbox.worker.inFlight > 0); k++) {
      await sleep(20);
      counts = c.outbox.deliveries.counts(hookId);
    }
    const st = await rr.stats();
    if (st.fastCount !== n) log(`deliver ours #${roundNo}: receiver counted ${st.fastCount}, expected ${n}`);
    return { side: 'ours', round: roundNo, n, ms: round(ms, 1), perSec: Math.round((n / ms) * 1000), firstArrivalMs: round((firstNs - t0) / 1e6, 1), ...usage, delivered: counts.delivered };
  } finally {
    await closeCortex(c);
  }
}

async function deliverRaw(rcv: Receiver, roundNo: number, n: number): Promise<DeliverRound> {
  const rr = await receiverRound(rcv, 'count', n);
  const body = Buffer.from(sampleBody(), 'utf8');
  const agent = new http.Agent({ keepAlive: true, maxSockets: CFG.concurrency, maxFreeSockets: CFG.concurrency });
  try {
    const cpu = cpuMeter(rcv.proc.pid!);
    const t0 = hr();
    let next = 0;
    const lane = async () => {
      while (next < n) {
        next++;
        await rawPost(agent, rcv.fastPort, uuidv7(), body);
      }
    };
    await Promise.all(Array.from({ length: CFG.concurrency }, lane));
    const { ns, firstNs } = await rr.waitTarget(10_000);
    const usage = cpu();
    const ms = (ns - t0) / 1e6;
    return { side: 'raw', round: roundNo, n, ms: round(ms, 1), perSec: Math.round((n / ms) * 1000), firstArrivalMs: round((firstNs - t0) / 1e6, 1), ...usage };
  } finally {
    agent.destroy();
  }
}

async function benchDeliver(tmp: string, rcv: Receiver) {
  const n = CFG.deliverEvents;
  const run = async (side: DeliverRound['side'], r: number, count: number) => {
    const res = side === 'ours' ? await deliverOurs(tmp, rcv, r, count) : await deliverRaw(rcv, r, count);
    log(`deliver ${side.padEnd(4)} #${r}: ${res.n} in ${res.ms} ms → ${res.perSec}/s (first after ${res.firstArrivalMs} ms; cpu parent ${res.parentCpuPct}% receiver ${res.receiverCpuPct}%)${res.delivered !== undefined ? `, ${res.delivered} rows delivered` : ''}`);
    return res;
  };
  log(`deliveries: ${n} events, 1 subscription, concurrency ${CFG.concurrency}`);
  const warm = Math.max(100, Math.round(n / 5));
  await run('raw', 0, warm);
  await run('ours', 0, warm);
  const rounds: DeliverRound[] = [];
  for (let p = 1; p <= CFG.rounds; p++) {
    const fwd: DeliverRound['side'][] = ['raw', 'ours'];
    for (const side of p % 2 ? fwd : [...fwd].reverse()) rounds.push(await run(side, p, n));
  }
  const stat = (side: DeliverRound['side']) => {
    const rs = rounds.filter((r) => r.side === side);
    return {
      medianPerSec: Math.round(median(rs.map((r) => r.perSec))), runsPerSec: rs.map((r) => r.perSec),
      medianFirstArrivalMs: round(median(rs.map((r) => r.firstArrivalMs)), 1),
      medianParentCpuPct: median(rs.map((r) => r.parentCpuPct)), medianReceiverCpuPct: median(rs.map((r) => r.receiverCpuPct)),
    };
  };
  const ours = stat('ours');
  const raw = stat('raw');
  const perRound = rounds.filter((r) => r.side === 'ours').map((o) => round(o.perSec / rounds.find((r) => r.side === 'raw' && r.round === o.round)!.perSec, 3));
  const undelivered = rounds.filter((r) => r.side === 'ours').reduce((s, r) => s + (r.n - (r.delivered ?? 0)), 0);
  return {
    events: n, concurrency: CFG.concurrency, bodyBytes: Buffer.byteLength(sampleBody()), ours, raw,
    ratio: round(median(perRound), 3), ratioPerRound: perRound, ratioOfMedians: round(ours.medianPerSec / raw.medianPerSec, 3),
    oursRowsNotDeliveredAtClose: undelivered, rounds,
  };
}

// ---------------------------------------------------------------------------------------
// 3 + 4. commit → delivered latency

type LatSide = 'raw' | 'ours' | 'oursIsolated';

interface LatencyRound {
  side: LatSide;
  round: number;
  expected: number;
  n: number;
  missing: number;
  duplicates: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Isolation: what the neighbours got. */
  slowArrivals?: number;
  deadCounts?: Record<string, number>;
  slowCounts?: Record<string, number>;
}

function latStats(samplesNs: number[]) {
  const s = [...samplesNs].sort((a, b) => a - b);
  const ms = (ns: number) => round(ns / 1e6, 2);
  if (s.length === 0) return { n: 0, p50Ms: NaN, p90Ms: NaN, p99Ms: NaN, maxMs: NaN, meanMs: NaN };
  return { n: s.length, p50Ms: ms(pct(s, 50)), p90Ms: ms(pct(s, 90)), p99Ms: ms(pct(s, 99)), maxMs: ms(s[s.length - 1]!), meanMs: ms(s.reduce((x, y) => x + y, 0) / s.length) };
}

/** Calls `tick(k)` for k = 1..total at `rate` Hz (catching up if late). */
async function paced(total: number, rate: number, tick: (k: number) => void): Promise<void> {
  const periodNs = 1e9 / rate;
  const start = hr();
  for (let k = 1; k <= total; k++) {
    const waitMs = (start + k * periodNs - hr()) / 1e6;
    if (waitMs > 0) await sleep(waitMs);
    tick(k);
  }
}

/** Waits until every id has arrived (or timeout). */
async function waitArrivals(arrivals: Map<string, number>, ids: Iterable<string>, timeoutMs: number): Promise<void> {
  const want = [...ids];
  const t0 = Date.now();
  while (Date.now() - t0 < timeoutMs) {
    if (want.every((id) => arrivals.has(id))) return;
    await sleep(25);
  }
}

async function latencyOurs(tmp: string, rcv: Receiver, roundNo: number, isolated: boolean, deadPort: number): Promise<{ round: LatencyRound; samplesNs: number[] }> {
  const c = await bootCortex(tmp, isolated ? 'isolated' : 'latency');
  const warmup = Math.round(CFG.latRate * CFG.latWarmup);
  const total = warmup + Math.round(CFG.latRate * CFG.latSeconds);
  let unsubscribe: (() => void) | null = null;
  try {
    const session = c.domain.sessions.create(SCOPE, { title: 'bench' });
    // Neighbours first: the healthy subscription (created last) is then not sent their webhook.created events.
    const slowId = isolated ? await subscribe(c, `http://127.0.0.1:${rcv.slowPort}/slow`) : null;
    const deadId = isolated ? await subscribe(c, `http://127.0.0.1:${deadPort}/dead`) : null;
    const hookId = await subscribe(c, `http://127.0.0.1:${rcv.fastPort}/hook`);
    await sleep(50);
    const rr = await receiverRound(rcv, 'ids');
    const committedNs = new Map<string, number>();
    const counted: string[] = [];
    let seen = 0;
    unsubscribe = c.events.subscribe((e) => {
      if (e.type !== 'message.created') return;
      committedNs.set(e.id, hr());
      if (seen++ >= warmup) counted.push(e.id);
    });
    const commits: Promise<unknown>[] = [];
    let failed = 0;
    await paced(total, CFG.latRate, () => {
      commits.push(c.events.commit(() => c.domain.messages.create(SCOPE, session.id, { content: 'hello world', externalUserId: 'u1' })).catch(() => void failed++));
    });
    await Promise.all(commits);
    if (failed) throw new Error(`${failed} commits failed`);
    await waitArrivals(rr.arrivals, counted, 10_000);
    const samplesNs: number[] = [];
    let missing = 0;
    for (const id of counted) {
      const a = rr.arrivals.get(id);
      if (a === undefined) missing++;
      else samplesNs.push(a - committedNs.get(id)!);
    }
    const st = await rr.stats();
    const s = latStats(samplesNs);
    const r: LatencyRound = {
      side: isolated ? 'oursIsolated' : 'ours', round: roundNo, expected: counted.length, n: s.n, missing, duplicates: rr.duplicates,
      p50Ms: s.p50Ms, p90Ms: s.p90Ms, p99Ms: s.p99Ms, maxMs: s.maxMs,
    };
    if (isolated) {
      r.slowArrivals = st.slowCount;
      r.slowCounts = c.outbox.deliveries.counts(slowId!);
      r.deadCounts = c.outbox.deliveries.counts(deadId!);
    }
    void hookId;
    return { round: r, samplesNs };
  } finally {
    unsubscribe?.();
    await closeCortex(c); // aborts the slow requests still in flight
  }
}

async function latencyRaw(rcv: Receiver, roundNo: number): Promise<{ round: LatencyRound; samplesNs: number[] }> {
  const warmup = Math.round(CFG.latRate * CFG.latWarmup);
  const total = warmup + Math.round(CFG.latRate * CFG.latSeconds);
  const rr = await receiverRound(rcv, 'ids');
  const body = Buffer.from(sampleBody(), 'utf8');
  const agent = new http.Agent({ keepAlive: true, maxSockets: CFG.concurrency, maxFreeSockets: CFG.concurrency });
  try {
    const sentNs = new Map<string, number>();
    const counted: string[] = [];
    const posts: Promise<void>[] = [];
    await paced(total, CFG.latRate, (k) => {
      const id = uuidv7();
      sentNs.set(id, hr());
      if (k > warmup) counted.push(id);
      posts.push(rawPost(agent, rcv.fastPort, id, body));
    });
    await Promise.all(posts);
    await waitArrivals(rr.arrivals, counted, 10_000);
    const samplesNs: number[] = [];
    let missing = 0;
    for (const id of counted) {
      const a = rr.arrivals.get(id);
      if (a === undefined) missing++;
      else samplesNs.push(a - sentNs.get(id)!);
    }
    const s = latStats(samplesNs);
    return {
      round: { side: 'raw', round: roundNo, expected: counted.length, n: s.n, missing, duplicates: rr.duplicates, p50Ms: s.p50Ms, p90Ms: s.p90Ms, p99Ms: s.p99Ms, maxMs: s.maxMs },
      samplesNs,
    };
  } finally {
    agent.destroy();
  }
}

async function benchLatency(tmp: string, rcv: Receiver) {
  const deadPort = await closedPort();
  log(`latency: ${CFG.latRate}/s for ${CFG.latWarmup} s warm-up + ${CFG.latSeconds} s counted, ${CFG.latRounds} rounds of raw / ours / ours+slow+dead`);
  const rounds: LatencyRound[] = [];
  const pooled: Record<LatSide, number[]> = { raw: [], ours: [], oursIsolated: [] };
  for (let p = 1; p <= CFG.latRounds; p++) {
    const fwd: LatSide[] = ['raw', 'ours', 'oursIsolated'];
    for (const side of p % 2 ? fwd : [...fwd].reverse()) {
      const { round: r, samplesNs } = side === 'raw' ? await latencyRaw(rcv, p) : await latencyOurs(tmp, rcv, p, side === 'oursIsolated', deadPort);
      rounds.push(r);
      pooled[side].push(...samplesNs);
      const extra = r.side === 'oursIsolated' ? `; slow: ${r.slowArrivals} arrived, rows ${JSON.stringify(r.slowCounts)}; dead: rows ${JSON.stringify(r.deadCounts)}` : '';
      log(`latency ${side.padEnd(12)} #${p}: n ${r.n}/${r.expected} (missing ${r.missing}, dup ${r.duplicates}) p50 ${r.p50Ms} ms p90 ${r.p90Ms} ms p99 ${r.p99Ms} ms max ${r.maxMs} ms${extra}`);
    }
  }
  const sum = (side: LatSide, k: 'missing' | 'duplicates' | 'expected') => rounds.filter((r) => r.side === side).reduce((s, r) => s + r[k], 0);
  const stat = (side: LatSide) => ({ ...latStats(pooled[side]), expected: sum(side, 'expected'), missing: sum(side, 'missing'), duplicates: sum(side, 'duplicates') });
  return { rateHz: CFG.latRate, seconds: CFG.latSeconds, warmupSeconds: CFG.latWarmup, slowMs: CFG.slowMs, deadPort, raw: stat('raw'), ours: stat('ours'), oursIsolated: stat('oursIsolated'), rounds };
}

// ---------------------------------------------------------------------------------------


async function main(): Promise<void> {
  const startedAt = new Date();
  const tmp = mkdtempSync(join(os.tmpdir(), 'cortex-outbox-bench-'));
  const results: Record<string, unknown> = {
    meta: {
      startedAt: startedAt.toISOString(), node: process.version, platform: `${os.platform()} ${os.release()}`, cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model,
      loadAvgStart: os.loadavg().map((x) => round(x, 2)), gitCommit: git(['rev-parse', '--short', 'HEAD']), gitDirty: git(['status', '--porcelain', '--', 'main', 'common']) !== '',
      config: { ...CFG, only: [...CFG.only] }, targets: TARGETS,
      method: {
        processes: 'this process runs Cortex in-process and the raw baselines; one child (bench/outbox-receiver.mjs, node:http) is the receiver: a fast server (200, empty body, once the request is read) and a slow one (200 after BENCH_SLOW_MS); it timestamps arrivals with hrtime and reports over IPC in 20 ms batches',
        order: 'rounds alternate raw/ours (order reversed on even rounds), one discarded warm-up round per side for the throughput scenarios; medians; throughput ratio = median of per-round ratios',
        fanout: 'ours: fresh data dir, outbox never started, subscriptions ("*") created before the events, events appended 1000 per write, WAL checkpointed, then fanout.step() timed until it consumes nothing (rows/s = rows inserted / time). raw: fresh db file, pragmas of openDatabase (locking_mode EXCLUSIVE, WAL, synchronous NORMAL, foreign_keys ON), webhook_deliveries DDL from migration 0002 (+ stub webhooks(id) for the FK), the same INSERT text, same rows in the same event-major order, values (uuidv7) generated before timing; 1000 rows per transaction, and 1 per transaction (first BENCH_FANOUT_SINGLE_ROWS rows) as a reference',
        deliver: 'ours: startCortex, 1 subscription (POST /api/projects/default/webhooks via app.inject), N events appended synchronously, clock starts, ends at the receiver\'s hrtime of the N-th arrival (includes fan-out). raw: node:http keep-alive agent, maxSockets = concurrency, same body size and header shape (static signature), N POSTs with `concurrency` loops',
        latency: 'ours: events.commit(() => domain.messages.create(...)) paced; events.subscribe listener stamps hrtime per message.created (dispatched right after COMMIT); receiver stamps hrtime on arrival keyed by webhook-id (= event id). raw: same pacing, hrtime at http.request. First BENCH_LAT_WARMUP s not counted; pooled over rounds',
        isolation: 'as latency, plus two subscriptions created before the healthy one: slow receiver (answers after BENCH_SLOW_MS) and a closed 127.0.0.1 port (ECONNREFUSED; default retry schedule and breaker); Cortex is closed at the end without waiting for the slow requests',
        latencyClock: 'process.hrtime.bigint() on both sides: CLOCK_MONOTONIC, shared across processes on Linux',
      },
      note: 'shared, noisy 2-core machine: Cortex (or the raw client) and the receiver compete for the same cores; compare ratios within a run, not absolute numbers across runs',
    },
  };
  try {
    if (CFG.only.has('fanout')) results.fanout = await benchFanout(tmp);
    if (CFG.only.has('deliver') || CFG.only.has('latency')) {
      const rcv = await spawnReceiver();
      log(`receiver pid ${rcv.proc.pid}: fast :${rcv.fastPort}, slow :${rcv.slowPort}`);
      if (CFG.only.has('deliver')) results.deliver = await benchDeliver(tmp, rcv);
      if (CFG.only.has('latency')) results.latency = await benchLatency(tmp, rcv);
    }
  } finally {
    await stopReceiver();
    rmSync(tmp, { recursive: true, force: true });
  }
  const meta = results.meta as Record<string, unknown>;
  meta.loadAvgEnd = os.loadavg().map((x) => round(x, 2));
  meta.finishedAt = new Date().toISOString();
  meta.elapsedSeconds = round((Date.now() - startedAt.getTime()) / 1000, 1);

  type FO = Awaited<ReturnType<typeof benchFanout>>;
  type DL = Awaited<ReturnType<typeof benchDeliver>>;
  type LT = Awaited<ReturnType<typeof benchLatency>>;
  const fo = results.fanout as FO | undefined;
  const dl = results.deliver as DL | undefined;
  const lt = results.latency as LT | undefined;
  const checks: { name: string; raw: string; ours: string; ratio: string; target: string; pass: boolean }[] = [];
  if (fo) {
    checks.push({ name: 'fan-out rows/s', raw: String(fo.rawBatched.medianRowsPerSec), ours: String(fo.ours.medianRowsPerSec), ratio: fo.ratio.toFixed(3), target: `≥ ${TARGETS.fanoutRowsPerSec}/s`, pass: fo.ours.medianRowsPerSec >= TARGETS.fanoutRowsPerSec });
    checks.push({ name: 'fan-out vs raw batched (median round ratio)', raw: String(fo.rawBatched.medianRowsPerSec), ours: String(fo.ours.medianRowsPerSec), ratio: fo.ratio.toFixed(3), target: `≥ ${TARGETS.fanoutRatio} × raw`, pass: fo.ratio >= TARGETS.fanoutRatio });
  }
  if (dl) {
    checks.push({ name: 'deliveries/s (1 subscription)', raw: String(dl.raw.medianPerSec), ours: String(dl.ours.medianPerSec), ratio: dl.ratio.toFixed(3), target: `≥ ${TARGETS.deliveriesPerSec}/s`, pass: dl.ours.medianPerSec >= TARGETS.deliveriesPerSec });
    checks.push({ name: 'deliveries: rows left undelivered', raw: '', ours: String(dl.oursRowsNotDeliveredAtClose), ratio: '', target: '0', pass: dl.oursRowsNotDeliveredAtClose === 0 });
  }
  if (lt) {
    const r = (a: number, b: number) => (Number.isFinite(a / b) ? (a / b).toFixed(2) : '');
    checks.push({ name: 'commit → delivered p99 ms (healthy)', raw: String(lt.raw.p99Ms), ours: String(lt.ours.p99Ms), ratio: r(lt.ours.p99Ms, lt.raw.p99Ms), target: `≤ ${TARGETS.latP99Ms} ms`, pass: lt.ours.p99Ms <= TARGETS.latP99Ms });
    checks.push({ name: 'p99 ms with slow + dead neighbours', raw: String(lt.raw.p99Ms), ours: String(lt.oursIsolated.p99Ms), ratio: r(lt.oursIsolated.p99Ms, lt.raw.p99Ms), target: `≤ ${TARGETS.isolatedP99Ms} ms`, pass: lt.oursIsolated.p99Ms <= TARGETS.isolatedP99Ms });
    checks.push({
      name: 'latency samples missing (healthy/isolated)', raw: String(lt.raw.missing), ours: `${lt.ours.missing}/${lt.oursIsolated.missing}`, ratio: '', target: '0',
      pass: lt.ours.missing === 0 && lt.oursIsolated.missing === 0 && lt.ours.n > 0 && lt.oursIsolated.n > 0,
    });
  }
  results.checks = checks;

  const out: string[] = ['', '=== Cortex Console outbox benchmark (in-process Cortex, receiver child on 127.0.0.1) ==='];
  out.push(`node ${process.version}, ${os.cpus().length} CPUs, load avg start ${(meta.loadAvgStart as number[]).join(' ')} / end ${(meta.loadAvgEnd as number[]).join(' ')}, commit ${String(meta.gitCommit)}${meta.gitDirty ? ' (main/common dirty)' : ''}, ${String(meta.elapsedSeconds)} s`);
  if (fo) {
    out.push('', `Fan-out: ${fo.events} events × ${fo.subscriptions} subscriptions (${fo.rowsPerRound} rows per round), ${CFG.rounds} rounds, medians`);
    out.push(table([
      ['side', 'rows', 'rows/s', 'ms', 'runs rows/s', 'longest tx ms'],
      ['raw, 1000 rows/tx', String(fo.rawBatched.rows), String(fo.rawBatched.medianRowsPerSec), String(fo.rawBatched.medianMs), fo.rawBatched.runsRowsPerSec.join(' '), ''],
      ['raw, 1 row/tx (ref)', String(fo.rawSingle.rows), String(fo.rawSingle.medianRowsPerSec), String(fo.rawSingle.medianMs), fo.rawSingle.runsRowsPerSec.join(' '), ''],
      ['ours fanout.step()', String(fo.ours.rows), String(fo.ours.medianRowsPerSec), String(fo.ours.medianMs), fo.ours.runsRowsPerSec.join(' '), String(fo.ours.medianMaxStepMs)],
    ]));
    out.push(`ours/raw batched per round: ${fo.ratioPerRound.join(', ')} → median ${fo.ratio} (ratio of medians ${fo.ratioOfMedians}; ours/raw 1-row-tx ${fo.ratioToSingle})`);
  }
  if (dl) {
    out.push('', `Deliveries: ${dl.events} events, 1 subscription, concurrency ${dl.concurrency}, body ${dl.bodyBytes} B, ${CFG.rounds} rounds, medians`);
    out.push(table([
      ['side', 'deliveries/s', 'runs/s', 'first arrival ms', 'parent CPU %', 'receiver CPU %'],
      ...([['raw node:http', dl.raw], ['ours', dl.ours]] as const).map(([name, s]) => [name, String(s.medianPerSec), s.runsPerSec.join(' '), String(s.medianFirstArrivalMs), String(s.medianParentCpuPct), String(s.medianReceiverCpuPct)]),
    ]));
    out.push(`ours/raw per round: ${dl.ratioPerRound.join(', ')} → median ${dl.ratio} (ratio of medians ${dl.ratioOfMedians})`);
  }
  if (lt) {
    out.push('', `Commit → delivered latency: ${lt.rateHz}/s, ${lt.seconds} s counted per round × ${CFG.latRounds} rounds, pooled`);
    out.push(table([
      ['side', 'n', 'missing', 'dup', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'mean ms'],
      ...([['raw POST → arrival (ref)', lt.raw], ['ours, healthy only', lt.ours], ['ours, + slow + dead subs', lt.oursIsolated]] as const).map(([name, s]) => [
        name, String(s.n), String(s.missing), String(s.duplicates), String(s.p50Ms), String(s.p90Ms), String(s.p99Ms), String(s.maxMs), String(s.meanMs),
      ]),
    ]));
  }
  out.push('', 'Checks');
  out.push(checksTable(checks));

  writeResults('outbox', startedAt, results, out);
}

main().then(
  () => process.exit(0),
  async (err: unknown) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    await stopReceiver();
    process.exit(1);
  },
);

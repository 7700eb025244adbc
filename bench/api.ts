/**
 * API benchmark: the real headless server (`node dist/main/cli.js serve`, a separate child
 * process) against bare baselines, each measured side by side in the same run.
 *
 *   npm run bench:api            (= npm run build --silent && node --import tsx bench/api.ts)
 *
 * 1. POST throughput — autocannon (in this process) against
 *    `POST /api/projects/default/sessions/{id}/messages` (auth + validation + durable write +
 *    event) vs a bare Fastify `POST /hello` (bench/bare-fastify.mjs), alternating
 *    bare, cortex, bare, cortex to expose drift on a shared machine.
 * 2. SSE fan-out latency — N subscribers on `GET /api/events/stream`; this process POSTs
 *    paced messages and timestamps send → receipt per subscriber with its own monotonic
 *    clock, vs a bare node:http SSE server (bench/bare-sse.mjs) driven by the same loop.
 * 3. Headless cold start — spawn → first 200 from `GET /api/health`, on fresh and on
 *    existing data directories; idle RSS.
 *
 * Writes bench/results/api-<timestamp>.json and bench/results/api-latest.json and prints a
 * summary. All traffic goes to 127.0.0.1; every child is stopped (SIGTERM, SIGKILL after 3 s).
 *
 * Environment (all optional):
 *   BENCH_SECONDS=10          duration of each measured throughput run
 *   BENCH_CONNECTIONS=50      autocannon connections
 *   BENCH_SSE_SUBSCRIBERS=50  SSE subscribers
 *   BENCH_SSE_RATE=1000       published events per second
 *   BENCH_SSE_SECONDS=5       publishing duration per SSE round
 *   BENCH_SSE_CONCURRENCY=10  max in-flight publish POSTs (keep-alive sockets)
 *   BENCH_SSE_ROUNDS=2        rounds per target (bare, cortex, bare, cortex, …)
 *   BENCH_COLD_RUNS=5         cold starts per kind (fresh dir / existing dir)
 *   BENCH_ONLY=throughput,sse,cold   run a subset
 *   BENCH_CLI=path            server entry (default: a snapshot of dist/main/cli.js, see below)
 *   BENCH_NO_SNAPSHOT=1       run dist/main/cli.js in place instead of the snapshot
 *   BENCH_RESULTS_DIR=dir     write results there instead of bench/results (e.g. for A/B runs of a patched build)
 *
 * Why a snapshot: dist/ is rebuilt (emptied) by anyone running `npm run build`; copying
 * dist/main/cli.js (+ dist/renderer) into this run's temporary directory at start keeps a
 * concurrent build from pulling the server out from under a several-minute run. The copy is
 * byte-identical (its sha256 is recorded); a node_modules symlink and a `"type": "module"`
 * package.json next to it make it resolve packages exactly as dist/main/cli.js does.
 */
import autocannon from 'autocannon';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

// ---------------------------------------------------------------------------------------
// configuration

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..');
const RESULTS_DIR = process.env.BENCH_RESULTS_DIR ? resolve(process.env.BENCH_RESULTS_DIR) : join(HERE, 'results');

function envInt(name: string, def: number, min = 1): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return def;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min) throw new Error(`${name} must be a number ≥ ${min}, got "${raw}"`);
  return n;
}

const CFG = {
  seconds: envInt('BENCH_SECONDS', 10),
  connections: envInt('BENCH_CONNECTIONS', 50),
  sseSubscribers: envInt('BENCH_SSE_SUBSCRIBERS', 50),
  sseRate: envInt('BENCH_SSE_RATE', 1000),
  sseSeconds: envInt('BENCH_SSE_SECONDS', 5),
  sseConcurrency: envInt('BENCH_SSE_CONCURRENCY', 10),
  sseRounds: envInt('BENCH_SSE_ROUNDS', 2),
  coldRuns: envInt('BENCH_COLD_RUNS', 5),
  only: new Set((process.env.BENCH_ONLY ?? 'cold,throughput,sse').split(',').map((s) => s.trim()).filter(Boolean)),
};
const WARMUP_SECONDS = Math.max(1, Math.min(3, Math.round(CFG.seconds / 4)));
const MESSAGE_BODY = JSON.stringify({ content: 'hello world', externalUserId: 'u1' });
const TARGETS = { throughputRatio: 0.3, sseP99Ratio: 2, coldStartMs: 1000 } as const;

// ---------------------------------------------------------------------------------------
// small utilities

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const round = (n: number, d = 2) => (Number.isFinite(n) ? Math.round(n * 10 ** d) / 10 ** d : n);
const log = (s: string) => process.stdout.write(`[bench] ${s}\n`);

function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}
function median(xs: number[]): number {
  return percentile(Float64Array.from(xs).sort(), 50);
}
function mean(xs: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i]!;
  return xs.length ? s / xs.length : NaN;
}

interface Dist { n: number; mean: number; p50: number; p90: number; p99: number; p999: number; max: number }
function dist(values: ArrayLike<number>): Dist {
  const s = Float64Array.from(values as ArrayLike<number>).sort();
  return {
    n: s.length, mean: round(mean(s), 3), p50: round(percentile(s, 50), 3), p90: round(percentile(s, 90), 3),
    p99: round(percentile(s, 99), 3), p999: round(percentile(s, 99.9), 3), max: round(s.length ? s[s.length - 1]! : NaN, 3),
  };
}

/** Resident set size of a process, kB (VmRSS from /proc/<pid>/status), or null if unavailable. */
function rssKb(pid: number | undefined): number | null {
  if (!pid) return null;
  try {
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}
/** CPU time (user + system) a process has used so far, ms, from /proc/<pid>/stat; null if unavailable. */
const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();
function cpuMs(pid: number | undefined): number | null {
  if (!pid) return null;
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
    return ((Number(rest[11]) + Number(rest[12])) * 1000) / CLK_TCK;
  } catch {
    return null;
  }
}

const mb = (kb: number | null) => (kb === null ? null : round(kb / 1024, 1));

function git(args: string[]): string | null {
  try {
    return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}

/** Only loopback, ever. */
function assertLoopback(url: string): void {
  const u = new URL(url);
  if (u.hostname !== '127.0.0.1') throw new Error(`refusing non-loopback target ${url}`);
}

// ---------------------------------------------------------------------------------------
// child processes

interface Child {
  name: string;
  proc: ChildProcess;
  pid: number;
  spawnedAt: number;
  lines: { text: string; at: number }[];
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  exited: boolean;
}

const children = new Set<Child>();

function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('CORTEX_')) delete env[k];
  delete env.NODE_OPTIONS;
  return env;
}

function launch(name: string, args: string[]): Child {
  const spawnedAt = performance.now();
  const proc = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: cleanEnv() });
  if (proc.pid === undefined) throw new Error(`${name}: spawn failed`);
  const child: Child = {
    name, proc, pid: proc.pid, spawnedAt, lines: [], exited: false,
    exit: new Promise((resolve) => proc.once('exit', (code, signal) => {
      child.exited = true;
      children.delete(child);
      resolve({ code, signal });
    })),
  };
  const onData = (stream: NodeJS.ReadableStream) => {
    let buf = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      const at = performance.now();
      buf += chunk;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        child.lines.push({ text: buf.slice(0, nl), at });
        buf = buf.slice(nl + 1);
      }
      child.proc.emit('bench-line');
    });
  };
  onData(proc.stdout!);
  onData(proc.stderr!);
  children.add(child);
  return child;
}

/** Resolves with the first output line matching `re` (and when it arrived). */
function waitForLine(child: Child, re: RegExp, timeoutMs = 30_000): Promise<{ match: RegExpExecArray; at: number }> {
  return new Promise((resolve, reject) => {
    const check = (): boolean => {
      for (const l of child.lines) {
        const m = re.exec(l.text);
        if (m) {
          cleanup();
          resolve({ match: m, at: l.at });
          return true;
        }
      }
      return false;
    };
    const onExit = () => {
      if (!check()) {
        cleanup();
        reject(new Error(`${child.name} exited before printing ${re}:\n${child.lines.map((l) => l.text).join('\n')}`));
      }
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`${child.name}: no line matching ${re} within ${timeoutMs} ms:\n${child.lines.map((l) => l.text).join('\n')}`));
    }, timeoutMs);
    const cleanup = () => {
      clearTimeout(timer);
      child.proc.off('bench-line', check);
      child.proc.off('exit', onExit);
    };
    if (check()) return;
    child.proc.on('bench-line', check);
    child.proc.on('exit', onExit);
  });
}

/** SIGTERM, then SIGKILL after 3 s. Returns how it ended. */
async function stop(child: Child): Promise<string> {
  if (child.exited) return 'already exited';
  child.proc.kill('SIGTERM');
  const res = await Promise.race([child.exit, sleep(3000).then(() => null)]);
  if (res) return res.code !== null ? `exit ${res.code}` : `signal ${res.signal}`;
  child.proc.kill('SIGKILL');
  await child.exit;
  return 'SIGKILL after 3 s';
}

async function stopAll(): Promise<void> {
  await Promise.all([...children].map((c) => stop(c)));
}

process.on('exit', () => {
  for (const c of children) if (!c.exited) c.proc.kill('SIGKILL');
});
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    log(`${sig}: stopping children…`);
    void stopAll().finally(() => process.exit(130));
  });
}

// ---------------------------------------------------------------------------------------
// servers

let CLI = join(ROOT, 'dist/main/cli.js');
let cliInfo: Record<string, unknown> = {};

/** See the file comment: run a private, byte-identical copy of dist/main/cli.js. */
function prepareCli(tmp: string): void {
  if (process.env.BENCH_CLI) {
    CLI = process.env.BENCH_CLI;
    cliInfo = { path: CLI, snapshot: false };
  } else {
    const src = join(ROOT, 'dist/main/cli.js');
    if (!existsSync(src)) throw new Error(`${src} does not exist: run \`npm run build\` (npm run bench:api does)`);
    if (process.env.BENCH_NO_SNAPSHOT) {
      cliInfo = { path: relative(ROOT, src), snapshot: false };
    } else {
      const cache = join(tmp, 'server');
      mkdirSync(join(cache, 'main'), { recursive: true });
      symlinkSync(join(ROOT, 'node_modules'), join(cache, 'node_modules'), 'dir');
      writeFileSync(join(cache, 'package.json'), '{ "private": true, "type": "module" }\n');
      cpSync(src, join(cache, 'main', 'cli.js'));
      if (existsSync(src + '.map')) cpSync(src + '.map', join(cache, 'main', 'cli.js.map'));
      // serve.ts looks for the renderer at <cli dir>/../renderer
      const renderer = join(ROOT, 'dist/renderer');
      if (existsSync(join(renderer, 'index.html'))) cpSync(renderer, join(cache, 'renderer'), { recursive: true });
      CLI = join(cache, 'main', 'cli.js');
      cliInfo = { path: CLI, snapshotOf: 'dist/main/cli.js', snapshot: true, renderer: existsSync(join(cache, 'renderer')) };
    }
  }
  cliInfo.sha256 = createHash('sha256').update(readFileSync(CLI)).digest('hex');
}

interface Running { child: Child; url: string; key: string | null; listeningAt: number; readyReportedMs: number | null }

async function startCortex(dataDir: string): Promise<Running> {
  const child = launch('cortex', [CLI, 'serve', '--port', '0', '--data-dir', dataDir, '--log-level', 'warn']);
  const listening = await waitForLine(child, /Cortex Console API listening on (\S+)/);
  const ready = await waitForLine(child, /ready in (\d+) ms/);
  const url = listening.match[1]!;
  assertLoopback(url);
  const text = child.lines.map((l) => l.text);
  let key = text.map((t) => /#key=(\S+)/.exec(t)?.[1]).find(Boolean) ?? null;
  if (!key) {
    // Renderer not built → no console link; fall back to the stored admin key.
    const file = join(dataDir, 'admin-key');
    key = existsSync(file) ? readFileSync(file, 'utf8').trim() : null;
  }
  return { child, url, key, listeningAt: listening.at, readyReportedMs: Number(ready.match[1]) };
}

async function startBare(script: 'bare-fastify.mjs' | 'bare-sse.mjs'): Promise<Running> {
  const child = launch(script.replace('.mjs', ''), [join(HERE, script), '--port', '0']);
  const listening = await waitForLine(child, /listening on (\S+)/);
  const url = listening.match[1]!;
  assertLoopback(url);
  return { child, url, key: null, listeningAt: listening.at, readyReportedMs: null };
}

// ---------------------------------------------------------------------------------------
// plain HTTP helper (one-off requests)

function request(url: string, o: { method?: string; headers?: Record<string, string>; body?: string; agent?: http.Agent | false } = {}): Promise<{ status: number; text: string }> {
  assertLoopback(url);
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { ...o.headers };
    if (o.body !== undefined) headers['content-length'] = Buffer.byteLength(o.body);
    const req = http.request(url, { method: o.method ?? 'GET', headers, agent: o.agent ?? false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(o.body);
  });
}

const jsonHeaders = (key: string | null): Record<string, string> => ({
  'content-type': 'application/json',
  ...(key ? { 'x-api-key': key } : {}),
});

async function createSession(s: Running): Promise<string> {
  const res = await request(`${s.url}/api/projects/default/sessions`, { method: 'POST', headers: jsonHeaders(s.key), body: JSON.stringify({ title: 'bench' }) });
  if (res.status !== 201) throw new Error(`create session: HTTP ${res.status} ${res.text}`);
  return (JSON.parse(res.text) as { id: string }).id;
}

async function lastSeq(s: Running): Promise<number> {
  const res = await request(`${s.url}/api/health`);
  return (JSON.parse(res.text) as { lastSeq: number }).lastSeq;
}

// ---------------------------------------------------------------------------------------
// 3. cold start

interface ColdRun { kind: 'fresh' | 'existing'; spawnToHealthMs: number; spawnToListeningMs: number; readyReportedMs: number | null; healthPolls: number; idleRssMb: number | null; stoppedBy: string }

async function coldStartOnce(kind: 'fresh' | 'existing', dataDir: string, script: 'cortex' | 'bare-fastify'): Promise<ColdRun> {
  const s = script === 'cortex' ? await startCortex(dataDir) : await startBare('bare-fastify.mjs');
  const healthPath = script === 'cortex' ? '/api/health' : '/health';
  let polls = 0;
  let healthAt = 0;
  for (;;) {
    polls++;
    try {
      const res = await request(s.url + healthPath);
      if (res.status === 200) {
        healthAt = performance.now();
        break;
      }
    } catch {
      /* not yet */
    }
    if (polls > 1000) throw new Error(`${script}: /health never answered 200`);
    await sleep(10);
  }
  await sleep(1000); // let start-up garbage settle before reading "idle" RSS
  const idle = rssKb(s.child.pid);
  const stoppedBy = await stop(s.child);
  return {
    kind, spawnToHealthMs: round(healthAt - s.child.spawnedAt, 1), spawnToListeningMs: round(s.listeningAt - s.child.spawnedAt, 1),
    readyReportedMs: s.readyReportedMs, healthPolls: polls, idleRssMb: mb(idle), stoppedBy,
  };
}

function summarizeCold(runs: ColdRun[]) {
  const t = runs.map((r) => r.spawnToHealthMs);
  const rss = runs.map((r) => r.idleRssMb).filter((x): x is number => x !== null);
  return {
    runs,
    medianMs: round(median(t), 1), maxMs: round(Math.max(...t), 1), minMs: round(Math.min(...t), 1),
    medianReadyReportedMs: round(median(runs.map((r) => r.readyReportedMs ?? NaN).filter(Number.isFinite)), 1),
    medianIdleRssMb: rss.length ? round(median(rss), 1) : null,
  };
}

async function benchColdStart(tmp: string) {
  log(`cold start: ${CFG.coldRuns}× fresh data dir, ${CFG.coldRuns}× existing, ${CFG.coldRuns}× bare Fastify (reference)`);
  const dirs = Array.from({ length: CFG.coldRuns }, (_, i) => join(tmp, `cold-${i}`));
  const fresh: ColdRun[] = [];
  const existing: ColdRun[] = [];
  const bare: ColdRun[] = [];
  for (const d of dirs) fresh.push(await coldStartOnce('fresh', d, 'cortex'));
  for (const d of dirs) existing.push(await coldStartOnce('existing', d, 'cortex'));
  for (let i = 0; i < CFG.coldRuns; i++) bare.push(await coldStartOnce('fresh', '', 'bare-fastify'));
  const nodeStart: number[] = [];
  for (let i = 0; i < CFG.coldRuns; i++) {
    const t = performance.now();
    execFileSync(process.execPath, ['-e', ''], { env: cleanEnv() });
    nodeStart.push(performance.now() - t);
  }
  return {
    method: 'wall time from spawn() to the first 200 of GET /api/health (polled every 10 ms after the `listening` line); idle RSS read 1 s later',
    fresh: summarizeCold(fresh),
    existing: summarizeCold(existing),
    bareFastifyReference: summarizeCold(bare),
    bareNodeStartupMs: { median: round(median(nodeStart), 1), max: round(Math.max(...nodeStart), 1) },
  };
}

// ---------------------------------------------------------------------------------------
// 1. throughput

interface CannonRun {
  label: string; target: 'bare' | 'cortex'; url: string; seconds: number;
  reqPerSecMean: number; reqPerSecStddev: number; latencyMeanMs: number; latencyP50Ms: number; latencyP99Ms: number; latencyMaxMs: number;
  requests2xx: number; non2xx: number; errors: number; timeouts: number; statusCodes: Record<string, number>;
  /** Server CPU (user + sys) per completed request, µs: far less sensitive to a noisy neighbour than req/s. */
  serverCpuUsPerReq: number | null;
}

async function cannon(label: string, target: 'bare' | 'cortex', url: string, key: string | null, seconds: number, pid: number): Promise<CannonRun> {
  assertLoopback(url);
  const cpu0 = cpuMs(pid);
  const r = await autocannon({
    url, connections: CFG.connections, duration: seconds, method: 'POST',
    headers: jsonHeaders(key), body: MESSAGE_BODY, title: label,
  });
  const cpu1 = cpuMs(pid);
  const codes = (r as unknown as { statusCodeStats?: Record<string, { count: number }> }).statusCodeStats ?? {};
  return {
    label, target, url: new URL(url).pathname, seconds: r.duration,
    reqPerSecMean: round(r.requests.average, 1), reqPerSecStddev: round(r.requests.stddev, 1),
    latencyMeanMs: round(r.latency.average, 2), latencyP50Ms: r.latency.p50, latencyP99Ms: r.latency.p99, latencyMaxMs: r.latency.max,
    requests2xx: r['2xx'], non2xx: r.non2xx, errors: r.errors, timeouts: r.timeouts,
    statusCodes: Object.fromEntries(Object.entries(codes).map(([k, v]) => [k, v.count])),
    serverCpuUsPerReq: cpu0 !== null && cpu1 !== null && r.requests.total > 0 ? round(((cpu1 - cpu0) * 1000) / r.requests.total, 0) : null,
  };
}

async function benchThroughput(tmp: string) {
  const bare = await startBare('bare-fastify.mjs');
  const cortex = await startCortex(join(tmp, 'throughput'));
  if (!cortex.key) throw new Error('no admin key for the cortex server');
  const sessionId = await createSession(cortex);
  const cortexUrl = `${cortex.url}/api/projects/default/sessions/${sessionId}/messages`;
  const bareUrl = `${bare.url}/hello`;

  // Sanity: one request each, checked by hand.
  const probe = await request(cortexUrl, { method: 'POST', headers: jsonHeaders(cortex.key), body: MESSAGE_BODY });
  if (probe.status !== 201 || (JSON.parse(probe.text) as { content?: string }).content !== 'hello world') throw new Error(`cortex probe: HTTP ${probe.status} ${probe.text}`);
  const bareProbe = await request(bareUrl, { method: 'POST', headers: jsonHeaders(null), body: MESSAGE_BODY });
  if (bareProbe.status !== 200 || bareProbe.text !== '{"ok":true}') throw new Error(`bare probe: HTTP ${bareProbe.status} ${bareProbe.text}`);

  await sleep(500);
  const rssIdle = rssKb(cortex.child.pid);
  const bareRssIdle = rssKb(bare.child.pid);

  log(`throughput: warm-up ${WARMUP_SECONDS} s each, then bare, cortex, bare, cortex × ${CFG.seconds} s, ${CFG.connections} connections`);
  const warmup = [
    await cannon('warm-up bare', 'bare', bareUrl, null, WARMUP_SECONDS, bare.child.pid),
    await cannon('warm-up cortex', 'cortex', cortexUrl, cortex.key, WARMUP_SECONDS, cortex.child.pid),
  ];
  const seqBefore = await lastSeq(cortex);
  const runs: CannonRun[] = [];
  for (const [i, label] of ['bare #1', 'cortex #1', 'bare #2', 'cortex #2'].entries()) {
    const isBare = i % 2 === 0;
    const r = isBare ? await cannon(label, 'bare', bareUrl, null, CFG.seconds, bare.child.pid) : await cannon(label, 'cortex', cortexUrl, cortex.key, CFG.seconds, cortex.child.pid);
    log(`  ${label.padEnd(10)} ${String(r.reqPerSecMean).padStart(8)} req/s  p50 ${r.latencyP50Ms} ms  p99 ${r.latencyP99Ms} ms  non2xx ${r.non2xx}  errors ${r.errors}  server CPU ${r.serverCpuUsPerReq} µs/req`);
    runs.push(r);
  }
  const seqAfter = await lastSeq(cortex);
  const rssAfter = rssKb(cortex.child.pid);
  await sleep(2000);
  const rssAfterSettled = rssKb(cortex.child.pid);
  const cortexPeak = (() => {
    try {
      const m = /VmHWM:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${cortex.child.pid}/status`, 'utf8'));
      return m ? Number(m[1]) : null;
    } catch {
      return null;
    }
  })();
  const cortex2xx = runs.filter((r) => r.target === 'cortex').reduce((a, r) => a + r.requests2xx, 0);

  const stopped = { cortex: await stop(cortex.child), bare: await stop(bare.child) };

  const durableCheck = (events: number, ok: number, allowance: number) =>
    events >= ok && events - ok <= allowance
      ? `ok: ${events} committed events for ${ok} 2xx (+${events - ok} in flight at stop, ≤ ${allowance})`
      : `MISMATCH: ${events} events vs ${ok} 2xx (allowance ${allowance})`;
  const bareRuns = runs.filter((r) => r.target === 'bare');
  const cortexRuns = runs.filter((r) => r.target === 'cortex');
  const bareMean = mean(bareRuns.map((r) => r.reqPerSecMean));
  const cortexMean = mean(cortexRuns.map((r) => r.reqPerSecMean));
  return {
    method: 'autocannon in the bench process, POST with body ' + MESSAGE_BODY + ', x-api-key = the console admin key; servers are separate child processes',
    connections: CFG.connections,
    secondsPerRun: CFG.seconds,
    warmup,
    runs,
    bare: { reqPerSecRuns: bareRuns.map((r) => r.reqPerSecMean), reqPerSecMean: round(bareMean, 1), serverCpuUsPerReq: round(mean(bareRuns.map((r) => r.serverCpuUsPerReq ?? NaN)), 0), driftSecondVsFirst: round(bareRuns[1]!.reqPerSecMean / bareRuns[0]!.reqPerSecMean, 3) },
    cortex: {
      reqPerSecRuns: cortexRuns.map((r) => r.reqPerSecMean), reqPerSecMean: round(cortexMean, 1), serverCpuUsPerReq: round(mean(cortexRuns.map((r) => r.serverCpuUsPerReq ?? NaN)), 0),
      eventsWritten: seqAfter - seqBefore, requests2xx: cortex2xx,
      // autocannon stops at the deadline without waiting for in-flight responses: those
      // requests were committed but not counted, hence up to `connections` extra per run.
      inFlightAtStopAllowance: CFG.connections * cortexRuns.length,
      durableCheck: durableCheck(seqAfter - seqBefore, cortex2xx, CFG.connections * cortexRuns.length),
    },
    ratio: round(cortexMean / bareMean, 3),
    /** bare ÷ cortex server CPU per request: the same comparison, much less sensitive to noisy neighbours. */
    cpuRatio: round(mean(bareRuns.map((r) => r.serverCpuUsPerReq ?? NaN)) / mean(cortexRuns.map((r) => r.serverCpuUsPerReq ?? NaN)), 3),
    ratioPerPair: cortexRuns.map((c, i) => round(c.reqPerSecMean / bareRuns[i]!.reqPerSecMean, 3)),
    non2xxTotal: runs.reduce((a, r) => a + r.non2xx, 0) + warmup.reduce((a, r) => a + r.non2xx, 0),
    errorsTotal: runs.reduce((a, r) => a + r.errors, 0),
    rss: {
      cortexIdleAfterStartMb: mb(rssIdle), cortexAfterThroughputMb: mb(rssAfter), cortexAfterThroughputPlus2sMb: mb(rssAfterSettled),
      cortexPeakMb: mb(cortexPeak), bareIdleAfterStartMb: mb(bareRssIdle),
    },
    stopped,
  };
}

// ---------------------------------------------------------------------------------------
// 2. SSE fan-out

interface SseTarget {
  name: 'bare' | 'cortex';
  streamUrl: string;
  publishUrl: string;
  key: string | null;
  pid: number;
}

interface Subscriber {
  req: http.ClientRequest;
  got: Uint8Array;
  count: number;
  warm: number;
  dup: number;
  other: number;
  frames: number;
  frameBytes: number;
  closed: boolean;
  error: string | null;
}

/** One round's shared state: send times by message number and every receipt latency. */
interface Round {
  n: number;
  sendT: Float64Array;
  lat: Float64Array;
  latN: number;
  sampleEvent: string | null;
}

/** Minimal SSE parsing: frames end with a blank line; only `id:` and `data:` matter here. */
function subscribe(t: SseTarget, round: () => Round): Promise<Subscriber> {
  return new Promise((resolve, reject) => {
    const sub: Subscriber = { req: null as unknown as http.ClientRequest, got: new Uint8Array(round().n), count: 0, warm: 0, dup: 0, other: 0, frames: 0, frameBytes: 0, closed: false, error: null };
    const headers: Record<string, string> = { accept: 'text/event-stream', ...(t.key ? { 'x-api-key': t.key } : {}) };
    const req = http.get(t.streamUrl, { headers, agent: false }, (res) => {
      if (res.statusCode !== 200) {
        reject(new Error(`${t.name} stream: HTTP ${res.statusCode}`));
        res.resume();
        return;
      }
      res.setEncoding('utf8');
      let buf = '';
      let opened = false;
      res.on('data', (chunk: string) => {
        const now = performance.now();
        buf += chunk;
        let end: number;
        while ((end = buf.indexOf('\n\n')) >= 0) {
          const frame = buf.slice(0, end);
          buf = buf.slice(end + 2);
          if (!opened && frame.startsWith('retry:')) {
            opened = true;
            resolve(sub);
            continue;
          }
          let data: string | null = null;
          for (const line of frame.split('\n')) {
            if (line.startsWith('data:')) data = (data === null ? '' : data + '\n') + line.slice(line.charCodeAt(5) === 32 ? 6 : 5);
            // `id:` lines carry the seq; ordering is checked through the counter in content.
          }
          if (data === null) continue; // comment / heartbeat
          sub.frames++;
          sub.frameBytes += frame.length + 2;
          const r = round();
          const at = data.indexOf('"content":"');
          if (at < 0) {
            sub.other++;
            continue;
          }
          const start = at + 11;
          const kind = data.charCodeAt(start);
          const num = Number(data.slice(start + 1, data.indexOf('"', start)));
          if (kind === 119 /* w */) sub.warm++;
          else if (kind === 109 /* m */ && num >= 0 && num < r.n) {
            if (r.sampleEvent === null) r.sampleEvent = data;
            if (sub.got[num]) sub.dup++;
            else {
              sub.got[num] = 1;
              sub.count++;
              r.lat[r.latN++] = now - r.sendT[num]!;
            }
          } else sub.other++;
        }
      });
      res.on('close', () => {
        sub.closed = true;
        if (!opened) reject(new Error(`${t.name} stream closed before opening`));
      });
      res.on('error', (err) => (sub.error = err.message));
    });
    req.on('error', (err) => {
      sub.error = err.message;
      sub.closed = true;
      reject(err);
    });
    sub.req = req;
  });
}

interface PublishStats { sent: number; statuses: Record<string, number>; rttMs: Dist; achievedRatePerSec: number; publishSeconds: number }

/** Paced publisher: message i is due at start + i/rate; at most `concurrency` in flight on keep-alive sockets. */
function publish(t: SseTarget, agent: http.Agent, prefix: 'w' | 'm', n: number, rate: number, sendT: Float64Array | null): Promise<PublishStats> {
  return new Promise((resolve, reject) => {
    const statuses: Record<string, number> = {};
    const rtt = new Float64Array(n);
    let next = 0;
    let inflight = 0;
    let done = 0;
    let lastSend = 0;
    let armed = false;
    const start = performance.now();
    const send = (i: number) => {
      inflight++;
      const body = JSON.stringify({ content: prefix + i, externalUserId: 'u1' });
      const req = http.request(t.publishUrl, {
        method: 'POST', agent,
        headers: { ...jsonHeaders(t.key), 'content-length': String(Buffer.byteLength(body)) },
      }, (res) => {
        res.resume();
        res.on('end', () => {
          rtt[i] = performance.now() - t0;
          statuses[res.statusCode ?? 0] = (statuses[res.statusCode ?? 0] ?? 0) + 1;
          inflight--;
          done++;
          if (done === n) {
            resolve({ sent: n, statuses, rttMs: dist(rtt), achievedRatePerSec: round(n / ((lastSend - start) / 1000 || 1), 1), publishSeconds: round((lastSend - start) / 1000, 2) });
          } else pump();
        });
      });
      req.on('error', reject);
      const t0 = performance.now();
      if (sendT) sendT[i] = t0;
      lastSend = t0;
      req.end(body);
    };
    const pump = () => {
      const due = Math.min(n, Math.floor(((performance.now() - start) * rate) / 1000) + 1);
      while (next < due && inflight < CFG.sseConcurrency) send(next++);
      if (next < n && !armed) {
        armed = true;
        setTimeout(() => {
          armed = false;
          pump();
        }, 1);
      }
    };
    pump();
  });
}

async function waitUntil(pred: () => boolean, timeoutMs: number): Promise<number> {
  const t = performance.now();
  while (!pred() && performance.now() - t < timeoutMs) await sleep(20);
  return performance.now() - t;
}

async function sseRound(t: SseTarget, roundNo: number) {
  const n = Math.round(CFG.sseRate * CFG.sseSeconds);
  const S = CFG.sseSubscribers;
  const r: Round = { n, sendT: new Float64Array(n), lat: new Float64Array(n * S), latN: 0, sampleEvent: null };
  const subs = await Promise.all(Array.from({ length: S }, () => subscribe(t, () => r)));
  const agent = new http.Agent({ keepAlive: true, maxSockets: CFG.sseConcurrency });
  try {
    // Warm-up: open the keep-alive sockets, JIT both sides (and create participant u1 on cortex).
    const warmN = 200;
    await publish(t, agent, 'w', warmN, 400, null);
    await waitUntil(() => subs.every((s) => s.warm >= warmN), 10_000);
    const rssBefore = rssKb(t.pid);
    const cpu0 = cpuMs(t.pid);
    const pub = await publish(t, agent, 'm', n, CFG.sseRate, r.sendT);
    const drainMs = await waitUntil(() => subs.every((s) => s.count >= n || s.closed), 10_000);
    const rssAfter = rssKb(t.pid);
    const cpu1 = cpuMs(t.pid);
    const received = subs.reduce((a, s) => a + s.count, 0);
    const frames = subs.reduce((a, s) => a + s.frames, 0);
    const result = {
      target: t.name, round: roundNo, subscribers: S, events: n,
      latencyMs: dist(r.lat.subarray(0, r.latN)),
      expectedReceipts: n * S, received, lost: n * S - received,
      lostPerSubscriberMax: Math.max(...subs.map((s) => n - s.count)),
      duplicates: subs.reduce((a, s) => a + s.dup, 0),
      otherEvents: subs.reduce((a, s) => a + s.other, 0),
      subscribersClosedEarly: subs.filter((s) => s.closed).length,
      subscriberErrors: subs.map((s) => s.error).filter(Boolean),
      avgFrameBytes: round(subs.reduce((a, s) => a + s.frameBytes, 0) / (frames || 1), 1),
      publish: pub,
      drainAfterLastPublishMs: round(drainMs, 0),
      serverCpuUsPerEvent: cpu0 !== null && cpu1 !== null ? round(((cpu1 - cpu0) * 1000) / n, 0) : null,
      serverRssMb: { before: mb(rssBefore), after: mb(rssAfter) },
      latencies: r.lat.slice(0, r.latN),
      sampleEvent: r.sampleEvent,
    };
    return result;
  } finally {
    for (const s of subs) s.req.destroy();
    agent.destroy();
    await sleep(300);
  }
}

async function benchSse(tmp: string) {
  const bare = await startBare('bare-sse.mjs');
  const cortex = await startCortex(join(tmp, 'sse'));
  if (!cortex.key) throw new Error('no admin key for the cortex server');
  const sessionId = await createSession(cortex);
  const targets: Record<'bare' | 'cortex', SseTarget> = {
    bare: { name: 'bare', streamUrl: `${bare.url}/api/events/stream`, publishUrl: `${bare.url}/publish`, key: null, pid: bare.child.pid },
    cortex: { name: 'cortex', streamUrl: `${cortex.url}/api/events/stream`, publishUrl: `${cortex.url}/api/projects/default/sessions/${sessionId}/messages`, key: cortex.key, pid: cortex.child.pid },
  };
  log(`SSE fan-out: ${CFG.sseSubscribers} subscribers, ${CFG.sseRate} events/s for ${CFG.sseSeconds} s, ≤${CFG.sseConcurrency} in-flight POSTs; ${CFG.sseRounds} round(s) each, alternating`);
  const rounds: Awaited<ReturnType<typeof sseRound>>[] = [];
  for (let i = 1; i <= CFG.sseRounds; i++) {
    for (const name of ['bare', 'cortex'] as const) {
      const res = await sseRound(targets[name], i);
      log(`  ${name.padEnd(6)} #${i}  p50 ${res.latencyMs.p50} ms  p99 ${res.latencyMs.p99} ms  max ${res.latencyMs.max} ms  lost ${res.lost}  publish ${res.publish.achievedRatePerSec}/s  POST p99 ${res.publish.rttMs.p99} ms`);
      rounds.push(res);
    }
  }
  const stopped = { cortex: await stop(cortex.child), bare: await stop(bare.child) };
  const pooled = (name: string) => {
    const rs = rounds.filter((r) => r.target === name);
    const all = new Float64Array(rs.reduce((a, r) => a + r.latencies.length, 0));
    let o = 0;
    for (const r of rs) {
      all.set(r.latencies, o);
      o += r.latencies.length;
    }
    return {
      latencyMs: dist(all), lost: rs.reduce((a, r) => a + r.lost, 0), duplicates: rs.reduce((a, r) => a + r.duplicates, 0),
      postRttP99Ms: rs.map((r) => r.publish.rttMs.p99), achievedRatePerSec: rs.map((r) => r.publish.achievedRatePerSec),
      avgFrameBytes: rs[0]?.avgFrameBytes ?? null,
      serverCpuUsPerEvent: rs.map((r) => r.serverCpuUsPerEvent),
    };
  };
  const b = pooled('bare');
  const c = pooled('cortex');
  return {
    method: 'send→receive per subscriber: t0 = performance.now() just before each publish POST is sent; receipt time when the chunk containing the frame arrives; same publisher loop and clock for both targets (cortex latency includes its POST handling: auth, validation, commit)',
    subscribers: CFG.sseSubscribers, ratePerSec: CFG.sseRate, seconds: CFG.sseSeconds, concurrency: CFG.sseConcurrency,
    bare: b, cortex: c,
    ratioP99: round(c.latencyMs.p99 / b.latencyMs.p99, 2),
    ratioP50: round(c.latencyMs.p50 / b.latencyMs.p50, 2),
    rounds: rounds.map(({ latencies: _l, ...rest }) => rest),
    stopped,
  };
}

// ---------------------------------------------------------------------------------------
// report

type Results = {
  meta: Record<string, unknown>;
  coldStart?: Awaited<ReturnType<typeof benchColdStart>>;
  throughput?: Awaited<ReturnType<typeof benchThroughput>>;
  sse?: Awaited<ReturnType<typeof benchSse>>;
  checks: { name: string; value: string; target: string; pass: boolean }[];
};

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r, ri) => {
    const line = r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
    return ri === 0 ? line + '\n' + widths.map((w) => '-'.repeat(w)).join('  ') : line;
  }).join('\n');
}

function printSummary(res: Results): void {
  const out: string[] = ['', '=== Cortex Console API benchmark ==='];
  out.push(`node ${process.version}, ${os.cpus().length} CPUs, load avg at start ${(res.meta.loadAvgStart as number[]).join(' ')} / end ${(res.meta.loadAvgEnd as number[]).join(' ')}, commit ${res.meta.gitCommit}${res.meta.gitDirty ? ' (dirty)' : ''}`);
  const tp = res.throughput;
  if (tp) {
    out.push('', `1. POST throughput (${tp.connections} connections, ${tp.secondsPerRun} s per run)`);
    const rows = [['run', 'req/s', 'p50 ms', 'p99 ms', 'non-2xx', 'errors', 'server CPU µs/req']];
    for (const r of tp.runs) rows.push([r.label, String(r.reqPerSecMean), String(r.latencyP50Ms), String(r.latencyP99Ms), String(r.non2xx), String(r.errors), String(r.serverCpuUsPerReq)]);
    out.push(table(rows));
    out.push(`bare mean ${tp.bare.reqPerSecMean} req/s (drift run2/run1 ${tp.bare.driftSecondVsFirst}); cortex mean ${tp.cortex.reqPerSecMean} req/s`);
    out.push(`server CPU per request: bare ${tp.bare.serverCpuUsPerReq} µs, cortex ${tp.cortex.serverCpuUsPerReq} µs (CPU ratio bare/cortex ${tp.cpuRatio}, for reference)`);
    out.push(`ratio cortex/bare = ${tp.ratio} (per pair ${tp.ratioPerPair.join(', ')}); target ≥ ${TARGETS.throughputRatio}`);
    out.push(`durability: ${tp.cortex.durableCheck}`);
    out.push(`cortex RSS: idle after start ${tp.rss.cortexIdleAfterStartMb} MB, after throughput ${tp.rss.cortexAfterThroughputMb} MB (+2 s: ${tp.rss.cortexAfterThroughputPlus2sMb} MB, peak ${tp.rss.cortexPeakMb} MB); bare idle ${tp.rss.bareIdleAfterStartMb} MB`);
  }
  const sse = res.sse;
  if (sse) {
    out.push('', `2. SSE fan-out (${sse.subscribers} subscribers, ${sse.ratePerSec} ev/s × ${sse.seconds} s, send→receive)`);
    const rows = [['target / round', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'lost', 'dup', 'pub/s', 'POST p99 ms', 'server CPU µs/event']];
    for (const r of sse.rounds) rows.push([`${r.target} #${r.round}`, String(r.latencyMs.p50), String(r.latencyMs.p90), String(r.latencyMs.p99), String(r.latencyMs.max), String(r.lost), String(r.duplicates), String(r.publish.achievedRatePerSec), String(r.publish.rttMs.p99), String(r.serverCpuUsPerEvent)]);
    for (const name of ['bare', 'cortex'] as const) {
      const p = sse[name];
      rows.push([`${name} (pooled)`, String(p.latencyMs.p50), String(p.latencyMs.p90), String(p.latencyMs.p99), String(p.latencyMs.max), String(p.lost), String(p.duplicates), '', '', '']);
    }
    out.push(table(rows));
    out.push(`ratio p99 cortex/bare = ${sse.ratioP99} (p50 ${sse.ratioP50}); target ≤ ${TARGETS.sseP99Ratio}; frame bytes bare ${sse.bare.avgFrameBytes} / cortex ${sse.cortex.avgFrameBytes}`);
  }
  const cs = res.coldStart;
  if (cs) {
    out.push('', '3. Cold start (spawn → first 200 from /health)');
    const rows = [['kind', 'median ms', 'max ms', 'min ms', '"ready in" median', 'idle RSS MB']];
    for (const [label, s] of [['cortex, fresh dir', cs.fresh], ['cortex, existing dir', cs.existing], ['bare Fastify (ref)', cs.bareFastifyReference]] as const) {
      rows.push([label, String(s.medianMs), String(s.maxMs), String(s.minMs), Number.isFinite(s.medianReadyReportedMs) ? String(s.medianReadyReportedMs) : '-', String(s.medianIdleRssMb)]);
    }
    out.push(table(rows));
    out.push(`bare \`node -e ""\`: median ${cs.bareNodeStartupMs.median} ms, max ${cs.bareNodeStartupMs.max} ms`);
  }
  out.push('', 'Checks');
  out.push(table([['check', 'value', 'target', 'result'], ...res.checks.map((c) => [c.name, c.value, c.target, c.pass ? 'PASS' : 'FAIL'])]));
  process.stdout.write(out.join('\n') + '\n');
}

function checks(res: Results): Results['checks'] {
  const c: Results['checks'] = [];
  if (res.throughput) {
    const t = res.throughput;
    c.push({ name: 'throughput ratio cortex/bare', value: String(t.ratio), target: `≥ ${TARGETS.throughputRatio}`, pass: t.ratio >= TARGETS.throughputRatio });
    c.push({ name: 'throughput non-2xx + errors', value: String(t.non2xxTotal + t.errorsTotal), target: '0', pass: t.non2xxTotal + t.errorsTotal === 0 });
    const extra = t.cortex.eventsWritten - t.cortex.requests2xx;
    c.push({ name: 'committed events − 2xx', value: String(extra), target: `0…${t.cortex.inFlightAtStopAllowance}`, pass: extra >= 0 && extra <= t.cortex.inFlightAtStopAllowance });
  }
  if (res.sse) {
    const s = res.sse;
    c.push({ name: 'SSE p99 ratio cortex/bare', value: String(s.ratioP99), target: `≤ ${TARGETS.sseP99Ratio}`, pass: s.ratioP99 <= TARGETS.sseP99Ratio });
    c.push({ name: 'SSE events lost (cortex)', value: String(s.cortex.lost), target: '0', pass: s.cortex.lost === 0 });
    c.push({ name: 'SSE events lost (bare)', value: String(s.bare.lost), target: '0', pass: s.bare.lost === 0 });
    const non2xx = s.rounds.reduce((a, r) => a + Object.entries(r.publish.statuses).filter(([k]) => !k.startsWith('2')).reduce((x, [, v]) => x + v, 0), 0);
    c.push({ name: 'SSE publish non-2xx', value: String(non2xx), target: '0', pass: non2xx === 0 });
  }
  if (res.coldStart) {
    const cs = res.coldStart;
    c.push({ name: 'cold start median, fresh dir', value: `${cs.fresh.medianMs} ms`, target: `≤ ${TARGETS.coldStartMs} ms`, pass: cs.fresh.medianMs <= TARGETS.coldStartMs });
    c.push({ name: 'cold start median, existing dir', value: `${cs.existing.medianMs} ms`, target: `≤ ${TARGETS.coldStartMs} ms`, pass: cs.existing.medianMs <= TARGETS.coldStartMs });
  }
  return c;
}

// ---------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const startedAt = new Date();
  const tmp = mkdtempSync(join(os.tmpdir(), 'cortex-bench-'));
  prepareCli(tmp);
  const dirty = git(['status', '--porcelain', '--', 'main', 'common']);
  const res: Results = {
    meta: {
      startedAt: startedAt.toISOString(), node: process.version, platform: `${os.platform()} ${os.release()}`, cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model, totalMemMb: Math.round(os.totalmem() / 2 ** 20), loadAvgStart: os.loadavg().map((x) => round(x, 2)),
      gitCommit: git(['rev-parse', '--short', 'HEAD']), gitDirty: Boolean(dirty), server: cliInfo, config: { ...CFG, only: [...CFG.only] },
      note: 'shared, noisy 2-core machine: load generator, subscribers and servers compete for the same cores; compare ratios within a run, not absolute numbers across runs',
    },
    checks: [],
  };
  log(`server: ${String(cliInfo.path)} (sha256 ${String(cliInfo.sha256).slice(0, 12)}…), data in ${tmp}`);
  try {
    if (CFG.only.has('cold')) res.coldStart = await benchColdStart(tmp);
    if (CFG.only.has('throughput')) res.throughput = await benchThroughput(tmp);
    if (CFG.only.has('sse')) res.sse = await benchSse(tmp);
  } finally {
    await stopAll();
    rmSync(tmp, { recursive: true, force: true });
  }
  res.meta.loadAvgEnd = os.loadavg().map((x) => round(x, 2));
  res.meta.finishedAt = new Date().toISOString();
  res.meta.elapsedSeconds = round((Date.now() - startedAt.getTime()) / 1000, 1);
  res.checks = checks(res);

  mkdirSync(RESULTS_DIR, { recursive: true });
  const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
  const file = join(RESULTS_DIR, `api-${stamp}.json`);
  const json = JSON.stringify(res, null, 2) + '\n';
  writeFileSync(file, json);
  writeFileSync(join(RESULTS_DIR, 'api-latest.json'), json);
  printSummary(res);
  process.stdout.write(`\nresults: ${relative(ROOT, file)}\n         ${relative(ROOT, join(RESULTS_DIR, 'api-latest.json'))}\n`);
}

main().then(
  () => process.exit(0),
  async (err: unknown) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    await stopAll();
    process.exit(1);
  },
);

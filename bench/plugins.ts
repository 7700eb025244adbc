/**
 * Plugin benchmark: messages annotated per second by all built-in plugins end to end, side by
 * side with the rate at which the spine alone accepts the same messages in the same run; and
 * message.created → message.annotation.created latency at a paced 200 messages/s.
 *
 *   npm run bench:plugins        (= node --import tsx bench/plugins.ts)
 *
 * Every round boots a fresh Cortex in this process (startCortex, fresh data dir, no data plane)
 * and drives it over HTTP from a child process (bench/plugins-load.mjs: keep-alive node:http,
 * a fixed chat mix — a third toxic or obfuscated, some PII and watched phrases — spread over
 * BENCH_SESSIONS sessions and BENCH_SPEAKERS speakers; at 2,000 messages/s a few speakers
 * posting everything would be a flood, and then every message is annotated by the flood plugin
 * too: BENCH_SPEAKERS=50 BENCH_SESSIONS=1 measures that worst case).
 *
 * 1. Throughput. Spine: no plugins; rate = messages / the load generator's elapsed time (every
 *    POST answered 201). Plugins: toxicity, keywords, pii, flood and summary installed (workers
 *    ready before the clock starts); rate = messages / (time from the first POST until the
 *    last of the message plugins has committed its results for the last message: every runner
 *    idle with an empty backlog). Rounds alternate spine / plugins (order flipped on even
 *    rounds); medians are reported.
 * 2. Latency. All built-ins installed; BENCH_LAT_RATE messages/s for BENCH_LAT_SECONDS. An
 *    EventLog listener (called right after each COMMIT) records when each message.created and
 *    each message.annotation.created committed; latency = annotation commit − message commit,
 *    for every annotation and for the first annotation of each message. The first second is
 *    warm-up and not counted.
 *
 * Environment: BENCH_MESSAGES=10000, BENCH_CONCURRENCY=32, BENCH_ROUNDS=3, BENCH_LAT_RATE=200,
 * BENCH_LAT_SECONDS=10, BENCH_SESSIONS=20, BENCH_SPEAKERS=2000.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCortex, type Cortex } from '../main/core/cortex.js';
import { checksTable, cpuMs, envNum, git, round, table, writeResults, ROOT, type Check } from './common.js';

const MESSAGES = envNum('BENCH_MESSAGES', 10_000, 1);
const CONCURRENCY = envNum('BENCH_CONCURRENCY', 32, 1);
const ROUNDS = envNum('BENCH_ROUNDS', 3, 1);
const LAT_RATE = envNum('BENCH_LAT_RATE', 200, 1);
const LAT_SECONDS = envNum('BENCH_LAT_SECONDS', 10, 2);
const SESSIONS = envNum('BENCH_SESSIONS', 20, 1);
const SPEAKERS = envNum('BENCH_SPEAKERS', 2000, 1);
const P = '/api/projects/default';

const BUILTINS = [
  { pluginId: 'toxicity' },
  { pluginId: 'keywords', settings: { phrases: ['free vbucks'], patterns: [{ pattern: 'discord\\.gg/\\w+' }] } },
  { pluginId: 'pii' },
  { pluginId: 'flood' },
  { pluginId: 'summary' },
];
const MESSAGE_PLUGINS = ['toxicity', 'keywords', 'pii', 'flood'];

interface Booted {
  cortex: Cortex;
  url: string;
  /** Comma-separated message collections of the sessions. */
  messagesPaths: string;
  close(): Promise<void>;
}

async function call(b: { url: string; cortex: Cortex }, method: string, path: string, body?: unknown): Promise<{ id?: string }> {
  const res = await fetch(b.url + path, {
    method,
    headers: { 'x-api-key': b.cortex.consoleKey, ...(body !== undefined && { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as { id?: string };
}

const scopeOf = (c: Cortex) => ({ tenantId: c.tenantId, projectId: c.projectId });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function allIdle(c: Cortex, ids: readonly string[]): Promise<void> {
  while (!ids.every((id) => c.plugins.isIdle(scopeOf(c), id))) await sleep(5);
}

async function boot(withPlugins: boolean): Promise<Booted> {
  const dataDir = await mkdtemp(join(tmpdir(), 'cx-bench-plugins-'));
  const cortex = await startCortex({ dataDir, port: 0, logLevel: 'silent', busEndpoint: null, sweepIntervalMs: 60_000 });
  const url = await cortex.listen();
  const b = { cortex, url };
  if (withPlugins) {
    for (const body of BUILTINS) await call(b, 'POST', `${P}/plugins`, body);
    await allIdle(cortex, BUILTINS.map((x) => x.pluginId));
  }
  const paths: string[] = [];
  for (let i = 0; i < SESSIONS; i++) paths.push(`${P}/sessions/${(await call(b, 'POST', `${P}/sessions`, { title: `bench ${i}` })).id}/messages`);
  return {
    cortex, url, messagesPaths: paths.join(','),
    async close() {
      await cortex.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

function load(b: Booted, count: number, concurrency: number, rate: number): Promise<{ elapsedMs: number; statuses: Record<string, number> }> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [join(ROOT, 'bench', 'plugins-load.mjs'), b.url, b.cortex.consoleKey, b.messagesPaths, String(count), String(concurrency), String(rate), String(SPEAKERS)],
      { maxBuffer: 1 << 20 }, (err, stdout) => (err ? reject(err) : resolve(JSON.parse(stdout) as { elapsedMs: number; statuses: Record<string, number> })));
  });
}

interface ThroughputRound {
  mode: 'spine' | 'plugins';
  messagesPerSec: number;
  acceptedPerSec: number;
  statuses: Record<string, number>;
  cpuMs: number;
  annotations?: number;
}

async function throughputRound(mode: 'spine' | 'plugins'): Promise<ThroughputRound> {
  const b = await boot(mode === 'plugins');
  const cpu0 = cpuMs(process.pid);
  const r = await load(b, MESSAGES, CONCURRENCY, 0);
  const acceptedAt = performance.now();
  const startedAt = acceptedAt - r.elapsedMs;
  let doneAt = acceptedAt;
  let annotations: number | undefined;
  if (mode === 'plugins') {
    await allIdle(b.cortex, MESSAGE_PLUGINS);
    doneAt = performance.now();
    annotations = MESSAGE_PLUGINS.reduce((n, id) => n + b.cortex.plugins.status(scopeOf(b.cortex), id).annotations, 0);
  }
  const cpu = cpuMs(process.pid) - cpu0;
  await b.close();
  if (r.statuses['201'] !== MESSAGES) throw new Error(`not every POST was accepted: ${JSON.stringify(r.statuses)}`);
  return { mode, messagesPerSec: MESSAGES / ((doneAt - startedAt) / 1000), acceptedPerSec: MESSAGES / (r.elapsedMs / 1000), statuses: r.statuses, cpuMs: cpu, annotations };
}

const pct = (xs: number[], p: number): number => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};
const median = (xs: number[]) => pct(xs, 50);

async function latencyRound() {
  const b = await boot(true);
  const committed = new Map<string, number>();
  const all: number[] = [];
  const first = new Map<string, number>();
  const byPlugin: Record<string, number[]> = {};
  let warmUntil = Infinity;
  const off = b.cortex.events.subscribe((e) => {
    const now = performance.now();
    if (e.type === 'message.created') committed.set((e.payload.data as { id: string }).id, now);
    else if (e.type === 'message.annotation.created') {
      const a = e.payload.data as { messageId: string; pluginId: string };
      const t = committed.get(a.messageId);
      if (t === undefined || t < warmUntil) return;
      const ms = now - t;
      all.push(ms);
      (byPlugin[a.pluginId] ??= []).push(ms);
      if (!first.has(a.messageId)) first.set(a.messageId, ms);
    }
  });
  warmUntil = performance.now() + 1000;
  const r = await load(b, LAT_RATE * LAT_SECONDS, 16, LAT_RATE);
  await allIdle(b.cortex, MESSAGE_PLUGINS);
  off();
  await b.close();
  const firsts = [...first.values()];
  return {
    rate: LAT_RATE,
    seconds: LAT_SECONDS,
    achievedRate: (LAT_RATE * LAT_SECONDS) / (r.elapsedMs / 1000),
    annotations: all.length,
    allMs: { p50: pct(all, 50), p95: pct(all, 95), p99: pct(all, 99), max: pct(all, 100) },
    firstMs: { p50: pct(firsts, 50), p95: pct(firsts, 95), p99: pct(firsts, 99) },
    byPlugin: Object.fromEntries(Object.entries(byPlugin).map(([id, xs]) => [id, { n: xs.length, p50: pct(xs, 50), p99: pct(xs, 99) }])),
  };
}

async function main(): Promise<void> {
  const startedAt = new Date();
  process.stdout.write(`bench:plugins — ${MESSAGES} messages × ${ROUNDS} rounds, ${SESSIONS} sessions, ${SPEAKERS} speakers, concurrency ${CONCURRENCY}; latency at ${LAT_RATE}/s for ${LAT_SECONDS} s\n`);
  await throughputRound('plugins'); // warm-up (JIT, page cache), not counted
  const rounds: ThroughputRound[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const order: ('spine' | 'plugins')[] = i % 2 === 0 ? ['spine', 'plugins'] : ['plugins', 'spine'];
    for (const mode of order) {
      const r = await throughputRound(mode);
      rounds.push(r);
      process.stdout.write(`  round ${i + 1} ${mode.padEnd(7)} ${round(r.messagesPerSec)} msg/s\n`);
    }
  }
  const latency = await latencyRound();
  const spine = median(rounds.filter((r) => r.mode === 'spine').map((r) => r.messagesPerSec));
  const plugins = median(rounds.filter((r) => r.mode === 'plugins').map((r) => r.messagesPerSec));
  const checks: Check[] = [
    { name: 'annotated by all built-ins, msg/s', raw: `${round(spine)} (spine alone)`, ours: String(round(plugins)), ratio: String(round(plugins / spine, 2)), target: '≥ 2000 msg/s', pass: plugins >= 2000 },
    { name: `created → annotation p99 @ ${LAT_RATE}/s`, raw: '-', ours: `${round(latency.allMs.p99, 1)} ms`, ratio: '-', target: '≤ 50 ms', pass: latency.allMs.p99 <= 50 },
  ];
  const results = {
    name: 'plugins', startedAt: startedAt.toISOString(), commit: git(['rev-parse', '--short', 'HEAD']), dirty: git(['status', '--porcelain']) !== '',
    config: { MESSAGES, CONCURRENCY, ROUNDS, LAT_RATE, LAT_SECONDS, SESSIONS, SPEAKERS, plugins: BUILTINS },
    throughput: { spineMedian: spine, pluginsMedian: plugins, rounds },
    latency,
    checks,
  };
  const out = [
    '',
    table([
      ['throughput (median)', 'msg/s'],
      ['spine alone accepts', String(round(spine))],
      ['annotated by all built-ins', String(round(plugins))],
    ]),
    '',
    table([
      ['latency created → annotation', 'p50 ms', 'p95 ms', 'p99 ms'],
      ['every annotation', String(round(latency.allMs.p50, 1)), String(round(latency.allMs.p95, 1)), String(round(latency.allMs.p99, 1))],
      ['first per message', String(round(latency.firstMs.p50, 1)), String(round(latency.firstMs.p95, 1)), String(round(latency.firstMs.p99, 1))],
      ...Object.entries(latency.byPlugin).map(([id, v]) => [id, String(round(v.p50, 1)), '', String(round(v.p99, 1))]),
    ]),
    '',
    checksTable(checks),
  ];
  writeResults('plugins', startedAt, results, out);
}

await main();

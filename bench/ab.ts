/**
 * A/B helper for server changes: runs two builds of the headless server side by side (each a
 * child process on 127.0.0.1, fresh data dir) and alternates short autocannon runs against
 * the message POST — A, B, A, B, … — so a noisy neighbour hits both alike. Reports req/s and
 * server CPU µs per request (from /proc/<pid>/stat) per run and the medians.
 *
 *   node --import tsx bench/ab.ts <A cli.js> <B cli.js> [pairs=4] [seconds=5]
 *
 * Typical use: build a patched copy of the server outside dist/ (esbuild main/cli/index.ts of a
 * patched checkout to some dir/main/cli.js) and compare it with dist/main/cli.js.
 */
import autocannon from 'autocannon';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';

const [A, B, pairsArg, secondsArg] = process.argv.slice(2);
if (!A || !B) {
  process.stderr.write('usage: node --import tsx bench/ab.ts <A cli.js> <B cli.js> [pairs=4] [seconds=5]\n');
  process.exit(2);
}
const PAIRS = Number(pairsArg ?? 4);
const SECONDS = Number(secondsArg ?? 5);
const BODY = JSON.stringify({ content: 'hello world', externalUserId: 'u1' });

interface Server { name: string; proc: ChildProcess; url: string; key: string; target: string; dir: string }
const servers: Server[] = [];

function cpuMs(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const r = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return (Number(r[11]) + Number(r[12])) * 10; // CLK_TCK = 100
}

async function start(name: string, cli: string): Promise<Server> {
  const dir = mkdtempSync(join(os.tmpdir(), 'cortex-ab-'));
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('CORTEX_')) delete env[k];
  const proc = spawn(process.execPath, [cli, 'serve', '--port', '0', '--data-dir', dir, '--log-level', 'warn'], { stdio: ['ignore', 'pipe', 'inherit'], env });
  let out = '';
  await new Promise<void>((resolve, reject) => {
    proc.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      if (/ready in/.test(out)) resolve();
    });
    proc.once('exit', () => reject(new Error(`${name} exited:\n${out}`)));
  });
  const url = /listening on (\S+)/.exec(out)![1]!;
  if (new URL(url).hostname !== '127.0.0.1') throw new Error(`non-loopback ${url}`);
  const key = /#key=(\S+)/.exec(out)?.[1] ?? readFileSync(join(dir, 'admin-key'), 'utf8').trim();
  const res = await fetch(`${url}/api/projects/default/sessions`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': key }, body: '{"title":"ab"}' });
  const { id } = (await res.json()) as { id: string };
  const s = { name, proc, url, key, target: `${url}/api/projects/default/sessions/${id}/messages`, dir };
  servers.push(s);
  return s;
}

async function run(s: Server, seconds: number) {
  const c0 = cpuMs(s.proc.pid!);
  const r = await autocannon({ url: s.target, method: 'POST', connections: 50, duration: seconds, headers: { 'content-type': 'application/json', 'x-api-key': s.key }, body: BODY });
  const cpu = ((cpuMs(s.proc.pid!) - c0) * 1000) / r.requests.total;
  if (r.non2xx || r.errors) throw new Error(`${s.name}: ${r.non2xx} non-2xx, ${r.errors} errors`);
  return { reqPerSec: Math.round(r.requests.average), cpuUsPerReq: Math.round(cpu), p99Ms: r.latency.p99 };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;

async function stopAll() {
  await Promise.all(servers.map((s) => new Promise<void>((resolve) => {
    if (s.proc.exitCode !== null || s.proc.signalCode !== null) return resolve();
    const t = setTimeout(() => s.proc.kill('SIGKILL'), 3000);
    s.proc.once('exit', () => (clearTimeout(t), resolve()));
    s.proc.kill('SIGTERM');
  })));
  for (const s of servers) rmSync(s.dir, { recursive: true, force: true });
}

try {
  const a = await start('A', A);
  const b = await start('B', B);
  await run(a, 2);
  await run(b, 2);
  const res: Record<'A' | 'B', Awaited<ReturnType<typeof run>>[]> = { A: [], B: [] };
  for (let i = 0; i < PAIRS; i++) {
    for (const s of i % 2 === 0 ? [a, b] : [b, a]) {
      const r = await run(s, SECONDS);
      res[s.name as 'A' | 'B'].push(r);
      process.stdout.write(`${s.name} #${i + 1}: ${r.reqPerSec} req/s, ${r.cpuUsPerReq} µs CPU/req, p99 ${r.p99Ms} ms\n`);
    }
  }
  const m = (k: 'A' | 'B') => ({ reqPerSec: median(res[k].map((r) => r.reqPerSec)), cpuUsPerReq: median(res[k].map((r) => r.cpuUsPerReq)), p99Ms: median(res[k].map((r) => r.p99Ms)) });
  const ma = m('A');
  const mb = m('B');
  process.stdout.write(`\nmedian A: ${ma.reqPerSec} req/s, ${ma.cpuUsPerReq} µs CPU/req, p99 ${ma.p99Ms} ms  (${A})\n`);
  process.stdout.write(`median B: ${mb.reqPerSec} req/s, ${mb.cpuUsPerReq} µs CPU/req, p99 ${mb.p99Ms} ms  (${B})\n`);
  process.stdout.write(`B/A: req/s ×${(mb.reqPerSec / ma.reqPerSec).toFixed(2)}, CPU/req ×${(mb.cpuUsPerReq / ma.cpuUsPerReq).toFixed(2)}\n`);
  process.stdout.write(JSON.stringify({ A, B, pairs: PAIRS, seconds: SECONDS, runs: res, median: { A: ma, B: mb } }) + '\n');
} finally {
  await stopAll();
}

/** What every benchmark shares: environment knobs, rounding, git facts, CPU time, tables and the results files. */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const RESULTS_DIR = process.env.BENCH_RESULTS_DIR ? resolve(process.env.BENCH_RESULTS_DIR) : join(ROOT, 'bench', 'results');

export function envNum(name: string, def: number, min = 0): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return def;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min) throw new Error(`${name} must be a number ≥ ${min}, got "${raw}"`);
  return n;
}

export const round = (x: number, d = 0): number => {
  const f = 10 ** d;
  return Math.round(x * f) / f;
};

export function git(args: string[]): string {
  try {
    return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' }).trim();
  } catch {
    return '?';
  }
}

/** User + system CPU time of a process so far (Linux /proc), NaN when unknown. */
export function cpuMs(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const r = f.slice(f.lastIndexOf(')') + 2).split(' ');
    return (Number(r[11]) + Number(r[12])) * 10; // CLK_TCK = 100
  } catch {
    return NaN;
  }
}

/** Plain-text table: first column left-aligned, the rest right-aligned, a rule under the header. */
export function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows
    .map((r, ri) => {
      const line = r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
      return ri === 0 ? line + '\n' + widths.map((w) => '-'.repeat(w)).join('  ') : line;
    })
    .join('\n');
}

export interface Check {
  name: string;
  raw: string;
  ours: string;
  ratio: string;
  target: string;
  pass: boolean;
}

export function checksTable(checks: readonly Check[]): string {
  return table([['check', 'raw', 'ours', 'ratio', 'target', 'result'], ...checks.map((c) => [c.name, c.raw, c.ours, c.ratio, c.target, c.pass ? 'PASS' : 'FAIL'])]);
}

/** Writes `<name>-<timestamp>.json` and `<name>-latest.json`, then prints the summary and where the files are. */
export function writeResults(name: string, startedAt: Date, results: unknown, summary: string[]): void {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
  const file = join(RESULTS_DIR, `${name}-${stamp}.json`);
  const latest = join(RESULTS_DIR, `${name}-latest.json`);
  const json = JSON.stringify(results, null, 2) + '\n';
  writeFileSync(file, json);
  writeFileSync(latest, json);
  process.stdout.write(summary.join('\n') + '\n');
  process.stdout.write(`\nresults: ${relative(ROOT, file)}\n         ${relative(ROOT, latest)}\n`);
}

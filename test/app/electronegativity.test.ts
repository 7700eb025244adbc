/**
 * Electronegativity (Doyensec's Electron security scanner) over the Electron main process,
 * the preload and the console's HTML. Every finding must be one of the reviewed exceptions
 * below (each is justified in the README's "Electron security" section); anything new fails.
 * The check that downloads Electron's release list is excluded (offline).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SCANNER = join(ROOT, 'node_modules', '@doyensec', 'electronegativity', 'dist', 'index.js');

/** `check file`: reviewed, see README "Electron security". */
const REVIEWED = new Set([
  'CSP_GLOBAL_CHECK app/window.ts', // the policy is a constant (common/csp.ts) the scanner cannot read; the same policy is scanned in index.html
  "CSP_GLOBAL_CHECK renderer/index.html", // "script-src 'self' can be problematic if you host JSONP … or user uploads": the origin serves only our bundle and JSON
  'PRELOAD_JS_CHECK app/window.ts', // "review the use of preload scripts": reviewed; it exposes request + subscribe only (test/app/preload.test.ts)
  'OPEN_EXTERNAL_JS_CHECK app/menu.ts', // "review openExternal": only our own loopback API URL (checked by pattern), never one from content
]);

test('electronegativity finds nothing beyond the reviewed exceptions', { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cx-eneg-'));
  try {
    cpSync(join(ROOT, 'main', 'app'), join(dir, 'app'), { recursive: true });
    cpSync(join(ROOT, 'preload'), join(dir, 'preload'), { recursive: true });
    mkdirSync(join(dir, 'renderer'));
    cpSync(join(ROOT, 'renderer', 'index.html'), join(dir, 'renderer', 'index.html'));
    const electron = (JSON.parse(readFileSync(join(ROOT, 'node_modules', 'electron', 'package.json'), 'utf8')) as { version: string }).version;
    const out = join(dir, 'findings.sarif');
    await new Promise<void>((resolve, reject) =>
      execFile(process.execPath, [SCANNER, '-i', dir, '-r', '-v', 'false', '-e', electron, '-x', 'AvailableSecurityFixesGlobalCheck', '-o', out], { timeout: 110_000 }, (err, stdout, stderr) =>
        err ? reject(new Error(`${err.message}\n${stdout}\n${stderr}`)) : resolve()),
    );
    interface Sarif { runs: { results: { ruleId: string; message?: { text?: string }; locations: { physicalLocation: { artifactLocation: { uri: string }; region?: { startLine?: number } } }[] }[] }[] }
    const results = (JSON.parse(readFileSync(out, 'utf8')) as Sarif).runs.flatMap((r) => r.results);
    const found = results.map((r) => ({ key: `${r.ruleId} ${r.locations[0]!.physicalLocation.artifactLocation.uri}`, line: r.locations[0]!.physicalLocation.region?.startLine, text: r.message?.text }));
    assert.ok(found.length > 0, 'the scanner ran and reported (the reviewed preload finding at least)');
    const unexpected = found.filter((f) => !REVIEWED.has(f.key));
    assert.deepEqual(unexpected, [], 'new electronegativity findings');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

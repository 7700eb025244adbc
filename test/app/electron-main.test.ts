/**
 * Smoke test of the Electron main process without the Electron binary: builds
 * main/app/main.ts with the real build script (CJS, import.meta shim and all), then runs
 * it under Node with a fake `electron` module that drives IPC, hardening and quit.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
// Inside the repo so the bundle's external packages resolve from node_modules.
const outDir = join(root, 'node_modules', '.cache', 'cortex-test', `main-${process.pid}`);
const fixture = join(root, 'test', 'app', 'fixtures', 'fake-electron.ts');
let userData: string;

before(() => {
  execFileSync(process.execPath, [join(root, 'scripts', 'build-main.mjs'), '--only', 'app', '--outdir', outDir], { cwd: root, stdio: 'pipe' });
  userData = mkdtempSync(join(tmpdir(), 'cortex-electron-'));
});

after(() => {
  rmSync(outDir, { recursive: true, force: true });
  rmSync(userData, { recursive: true, force: true });
});

function runMain(env: Record<string, string>): { status: number | null; report: Record<string, unknown>; output: string } {
  const res = spawnSync(process.execPath, ['--import', 'tsx', '--import', fixture, join(outDir, 'main', 'app.cjs')], {
    cwd: root,
    encoding: 'utf8',
    timeout: 30_000,
    env: { ...process.env, FAKE_APP_PATH: root, FAKE_USER_DATA: userData, CORTEX_PORT: '0', CORTEX_LOG_LEVEL: 'silent', ...env },
  });
  const output = `${res.stdout}\n${res.stderr}`;
  const line = res.stdout.split('\n').find((l) => l.startsWith('SMOKE_REPORT '));
  return { status: res.status, report: line ? (JSON.parse(line.slice('SMOKE_REPORT '.length)) as Record<string, unknown>) : {}, output };
}

describe('electron main (fake electron)', () => {
  test('starts the core, serves IPC to the trusted window only, and shuts down gracefully', () => {
    const { status, report, output } = runMain({});
    assert.equal(report.scenarioError, undefined, output);
    assert.equal(status, 0, output);
    assert.equal(report.exitCode, 0);
    assert.ok((report.steps as string[]).includes('enableSandbox'));
    assert.equal(report.loaded, true, 'loads dist/renderer/index.html');
    assert.equal(report.shown, true);
    assert.deepEqual(report.webPreferences, {
      preload: join(root, 'dist', 'preload', 'preload.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      spellcheck: false,
      disableBlinkFeatures: 'Auxclick',
    });
    assert.deepEqual(report.windowOpen, { action: 'deny' });
    assert.equal(report.navigateExternalPrevented, true);
    assert.equal(report.navigateSamePageHashPrevented, false);
    assert.equal(report.permissionGranted, false);
    assert.equal(report.permissionCheck, false);
    assert.match(String(report.csp), /default-src 'self'; script-src 'self'.*object-src 'none'; base-uri 'none'/);
    assert.equal(report.healthStatus, 200);
    assert.equal(report.untrustedRejected, true);
    assert.equal(report.otherSenderRejected, true);
    assert.equal(report.createStatus, 201);
    assert.equal(report.eventChannel, 'cortex:event');
    assert.equal(report.eventMatches, true);
    assert.equal(report.eventsAfterReload, 0, 'a reload releases the old page subscriptions');
    assert.equal(report.secondInstanceFocused, true);
    assert.match(String(report.trayTooltip), /^Cortex Console — 2 active sessions, 0 open review items$/);
    assert.ok((report.menuLabels as string[]).includes('Go') && (report.menuLabels as string[]).includes('help'), String(report.menuLabels));
    assert.deepEqual(report.notification, { title: 'High-severity toxicity 95%', body: 'Open the review queue to act on it' });
    assert.deepEqual(report.savedState, { window: { x: 40, y: 30, width: 1300, height: 850, maximized: false }, notifications: true });
    assert.deepEqual((report.steps as string[]).filter((s) => s.startsWith('quit:')), ['quit:prevented']);
    assert.equal(report.restClosedAfterExit, true, 'cortex.close() ran before exit');
  });

  test('a second instance quits without starting the core', () => {
    const { status, report, output } = runMain({ FAKE_LOCK: '0' });
    assert.equal(status, 0, output);
    assert.deepEqual(report.steps, ['quit:proceeds'], 'quits right away, nothing set up');
    assert.doesNotMatch(output, /listening/);
  });
});

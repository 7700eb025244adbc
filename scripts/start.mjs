#!/usr/bin/env node
/**
 * `npm start` (after the build): runs the desktop app when the Electron binary is
 * installed, otherwise — or with CORTEX_HEADLESS=1, or on Linux without a display — the
 * headless server (`cortex serve`), which prints the web-console URL itself.
 * Extra arguments are passed through: `npm start -- --port 7421`.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);

/** Path of the Electron executable, or null if it was never downloaded. */
function electronBinary() {
  try {
    // The `electron` package exports the binary path, and throws when it is not installed.
    const path = createRequire(import.meta.url)('electron');
    return typeof path === 'string' && existsSync(path) ? path : null;
  } catch {
    return null;
  }
}

function headlessReason() {
  if (process.env.CORTEX_HEADLESS === '1' || process.env.CORTEX_HEADLESS === 'true') return 'CORTEX_HEADLESS is set';
  const electron = electronBinary();
  if (!electron) return 'Electron binary not installed';
  if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) return 'no display available';
  return { electron };
}

/** Runs a child with inherited stdio, forwards termination signals, mirrors its exit. */
function run(command, argv, env = process.env) {
  const child = spawn(command, argv, { cwd: root, stdio: 'inherit', env });
  const forward = (signal) => {
    // Ctrl-C in a terminal already reaches the child (same foreground process group);
    // forwarding it again would look like a second Ctrl-C (force quit) to the child.
    if (signal === 'SIGINT' && process.stdin.isTTY) return;
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  };
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const signal of signals) process.on(signal, forward);

  child.on('error', (err) => {
    console.error(`start: could not run ${command}: ${err.message}`);
    process.exit(1);
  });
  child.on('exit', (code, signal) => {
    for (const s of signals) process.off(s, forward);
    if (signal) process.kill(process.pid, signal); // die the same way (exit status 128+n)
    else process.exit(code ?? 1);
  });
}

const choice = headlessReason();
if (typeof choice === 'object') {
  // ELECTRON_RUN_AS_NODE (set by some editors' terminals) would turn Electron into plain Node.
  const { ELECTRON_RUN_AS_NODE: _ignored, ...env } = process.env;
  run(choice.electron, ['.', ...args], env);
} else {
  const cli = join(root, 'dist', 'main', 'cli.js');
  if (!existsSync(cli)) {
    console.error(`start: ${cli} not found — run \`npm run build\` first.`);
    process.exit(1);
  }
  console.log(`${choice} — starting the headless server with the web console instead.`);
  run(process.execPath, [cli, 'serve', ...args]);
}

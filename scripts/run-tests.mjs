#!/usr/bin/env node
// Runs every test/**/*.test.ts with Node's test runner (TypeScript via tsx).
// Process tests run the shipped CLI bundle (and its plugin worker), so they are rebuilt first (esbuild, about a second);
// the browser test needs the built renderer, which is built when missing; the whisper.cpp
// engine is built here too (about a minute the first time, then skipped), so its compile does
// not compete with running tests. Exit 2 = its source package is not installed: the engine
// test then says so and skips.
import { readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

function find(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? find(join(dir, e.name)) : e.name.endsWith('.test.ts') ? [join(dir, e.name)] : [],
  );
}

const only = process.argv.slice(2);
const files = only.length ? only : find('test').sort();
const cli = spawnSync(process.execPath, ['scripts/build-main.mjs', '--only', 'cli,plugin-worker'], { stdio: 'inherit' });
if (cli.status !== 0) process.exit(cli.status ?? 1);
const engine = spawnSync(process.execPath, ['native/build-whisper.mjs'], { stdio: 'inherit' });
if (engine.status !== 0 && engine.status !== 2) process.exit(engine.status ?? 1);
if (!existsSync('dist/renderer/index.html')) {
  const build = spawnSync('npx', ['vite', 'build', '--logLevel', 'warn'], { stdio: 'inherit' });
  if (build.status !== 0) process.exit(build.status ?? 1);
}
const res = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-reporter=spec', ...files], {
  stdio: 'inherit',
  // Test files run in parallel: none may share the default discovery endpoint. Bus tests start
  // their own daemons on private endpoints.
  env: { ...process.env, NODE_NO_WARNINGS: '1', CORTEX_BUS_ENDPOINT: 'off' },
});
process.exit(res.status ?? 1);

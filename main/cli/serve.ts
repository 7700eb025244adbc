import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { startCortex } from '../core/cortex.js';
import type { CortexConfig } from '../core/config.js';
import { parseFlags } from './args.js';

const FLAGS = { port: 'string', host: 'string', 'data-dir': 'string', 'allow-remote': 'boolean', 'log-level': 'string', 'no-console': 'boolean' } as const;

/** The built renderer, wherever this file runs from (dist/main/cli.js or main/cli/serve.ts via tsx). */
function findRenderer(): string | null {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const candidate of [join(here, '../renderer'), join(here, '../../dist/renderer')]) {
    if (existsSync(join(candidate, 'index.html'))) return resolve(candidate);
  }
  return null;
}

export async function serve(argv: string[]): Promise<void> {
  const flags = parseFlags(argv, FLAGS);
  const overrides: Partial<CortexConfig> = {};
  if (typeof flags.port === 'string') {
    const port = Number(flags.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be 0–65535, got "${flags.port}"`);
    overrides.port = port;
  }
  if (typeof flags.host === 'string') overrides.host = flags.host;
  if (typeof flags['data-dir'] === 'string') overrides.dataDir = resolve(flags['data-dir']);
  if (flags['allow-remote'] === true) overrides.allowRemote = true;
  if (typeof flags['log-level'] === 'string') overrides.logLevel = flags['log-level'] as CortexConfig['logLevel'];
  overrides.staticDir = flags['no-console'] === true ? null : findRenderer();

  const cortex = await startCortex(overrides);
  const url = await cortex.listen();
  const out = (line: string) => process.stdout.write(line + '\n');
  if (cortex.bootstrap.createdAdminKey) {
    out(`Admin API key (shown once; saved to ${cortex.bootstrap.adminKeyFile}):`);
    out(`  ${cortex.bootstrap.createdAdminKey}`);
  }
  out(`Cortex Console API listening on ${url}  (data: ${cortex.config.dataDir})`);
  if (cortex.config.staticDir) out(`Web console: ${url}/#key=${cortex.consoleKey}`);
  else if (flags['no-console'] !== true) out('Web console not built (run `npm run build`); serving the API only.');
  out(`ready in ${Math.round(performance.now())} ms`);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      out(`${signal} again: exiting now`);
      process.exit(1);
    }
    stopping = true;
    out(`${signal}: shutting down (finishing in-flight requests)…`);
    cortex.close().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`shutdown failed: ${String(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

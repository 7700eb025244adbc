import { serve } from './serve.js';
import { VERSION } from '../core/version.js';

const USAGE = `cortex ${VERSION}

Usage:
  cortex serve [--port 7420] [--host 127.0.0.1] [--data-dir DIR] [--allow-remote] [--log-level info] [--no-console]
  cortex --version

Environment: CORTEX_DATA_DIR, CORTEX_HOST, CORTEX_PORT, CORTEX_ALLOW_REMOTE, CORTEX_LOG_LEVEL.
`;

const commands: Record<string, (argv: string[]) => Promise<void>> = { serve };

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (command === '--version' || command === '-v') return void process.stdout.write(VERSION + '\n');
  if (!command || command === 'help' || command === '--help' || command === '-h') return void process.stdout.write(USAGE);
  const run = commands[command];
  if (!run) throw new Error(`unknown command "${command}"\n\n${USAGE}`);
  await run(rest);
}

main(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`cortex: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});

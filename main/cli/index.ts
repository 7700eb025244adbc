import { serve } from './serve.js';
import { discovery, topic } from './topic.js';
import { VERSION } from '../core/version.js';

const USAGE = `cortex ${VERSION}

Usage:
  cortex serve [--port 7420] [--host 127.0.0.1] [--data-dir DIR] [--allow-remote] [--log-level info] [--no-console]
  cortex discovery [--endpoint ipc:///tmp/cortex/discovery.sock]
  cortex topic list | info T | echo T | hz T | pub T '<json>' [--type Name] [--endpoint E]
  cortex --version

Environment: CORTEX_DATA_DIR, CORTEX_HOST, CORTEX_PORT, CORTEX_ALLOW_REMOTE, CORTEX_LOG_LEVEL,
CORTEX_BUS_ENDPOINT (off = no data plane), CORTEX_BUS_RUNTIME_DIR.
`;

const commands: Record<string, (argv: string[]) => Promise<void>> = { serve, discovery, topic };

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

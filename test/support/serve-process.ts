import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

// The shipped bundle, not the sources: scripts/run-tests.mjs builds it before the tests run.
const CLI = fileURLToPath(new URL('../../dist/main/cli.js', import.meta.url));

export interface ServeProcess {
  child: ChildProcess;
  url: string;
  consoleKey: string;
  output: () => string;
  exited: Promise<number | null>;
}

/** Runs `cortex serve` (the built dist/main/cli.js) as a real child process and waits until it listens. */
export function startServe(args: string[], env: NodeJS.ProcessEnv = {}): Promise<ServeProcess> {
  const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--log-level', 'warn', ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start:\n${out}`)), 20_000);
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      const url = /listening on (http:\/\/\S+)/.exec(out)?.[1];
      const key = /#key=(ctx_\S+)/.exec(out)?.[1];
      if (url && (key || /Web console not built|--no-console/.test(out) || args.includes('--no-console')) && /ready in/.test(out)) {
        clearTimeout(timer);
        resolve({ child, url, consoleKey: key ?? '', output: () => out, exited });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited with ${code}:\n${out}`));
    });
  });
}

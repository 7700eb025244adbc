import { sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker, type ResourceLimits } from 'node:worker_threads';
import type { InspectWorkerData, RunWorkerData } from './protocol.js';

/**
 * Starts a plugin worker thread (main/plugins/worker.ts). Built, it is dist/main/plugin-worker.js
 * next to cli.js / app.cjs. From the TypeScript sources (tests, benchmarks under tsx) the
 * worker's entry module does not get tsx's loader, so it is imported through tsx's API.
 * The environment is empty: no secret reaches a plugin through it.
 */
export function startPluginWorker(workerData: RunWorkerData | InspectWorkerData, resourceLimits: ResourceLimits): Worker {
  const options = { workerData, env: {}, resourceLimits };
  if (!import.meta.url.endsWith('.ts')) return new Worker(unpacked(fileURLToPath(new URL('./plugin-worker.js', import.meta.url))), options);
  const entry = new URL('./worker.ts', import.meta.url).href;
  const code = `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((m) => m.tsImport(${JSON.stringify(entry)}, ${JSON.stringify(import.meta.url)}))`;
  return new Worker(code, { ...options, eval: true });
}

/** In a packaged app the worker file is unpacked next to the asar (electron-builder.yml asarUnpack): a worker cannot start from inside it. */
export function unpacked(path: string): string {
  const asar = `${sep}app.asar${sep}`;
  return path.includes(asar) ? path.replace(asar, `${sep}app.asar.unpacked${sep}`) : path;
}

/**
 * A plugin worker thread. It loads one plugin (built-in or a module file), then handles batches
 * of events in order and reports results. It has no database handle and no secrets: the
 * session and recent messages are asked of the main thread, read-only. In `inspect` mode it
 * only loads module files and reports their manifests (so catalog scanning never runs
 * third-party code on the main thread).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';
import type { DomainEvent } from '../../common/events.js';
import type { Message, Session } from '../../common/schemas.js';
import type { Plugin, PluginContext, RecentMessagesQuery } from './api.js';
import { builtinPlugin } from './builtin/index.js';
import { SEED_LIMIT, SessionWindows } from './session-window.js';
import type { EventResult, FromWorker, InspectWorkerData, InspectedPlugin, PluginSource, RpcRequest, RunWorkerData, ToWorker } from './protocol.js';

const port = parentPort!;
const post = (m: FromWorker) => port.postMessage(m);
const describe = (err: unknown): string => (err instanceof Error ? (err.stack ?? err.message) : String(err)).slice(0, 4000);

async function load(source: PluginSource): Promise<Plugin> {
  if (source.kind === 'builtin') {
    const p = builtinPlugin(source.id);
    if (!p) throw new Error(`no built-in plugin "${source.id}"`);
    return p as Plugin;
  }
  const mod = (await import(pathToFileURL(source.path).href)) as Record<string, unknown>;
  const candidate = (mod.default && typeof mod.default === 'object' ? mod.default : mod) as Partial<Plugin>;
  if (!candidate.manifest || typeof candidate.manifest !== 'object') throw new Error('the module exports no `manifest`');
  if (typeof candidate.handle !== 'function') throw new Error('the module exports no `handle(event, ctx)` function');
  return candidate as Plugin;
}

async function inspect(data: InspectWorkerData): Promise<void> {
  const items: InspectedPlugin[] = [];
  for (const path of data.paths) {
    try {
      const p = await load({ kind: 'file', path });
      items.push({ path, ok: true, manifest: JSON.parse(JSON.stringify(p.manifest)) as Plugin['manifest'] });
    } catch (err) {
      items.push({ path, ok: false, error: err instanceof Error ? err.message : String(err) });
    }
  }
  post({ t: 'inspected', items });
}

async function run(data: RunWorkerData): Promise<void> {
  let plugin: Plugin;
  try {
    plugin = await load(data.source);
  } catch (err) {
    post({ t: 'load-failed', error: describe(err) });
    return;
  }
  const progress = new Int32Array(data.progress);
  let nextRpc = 1;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  const call = <T>(request: RpcRequest): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const id = nextRpc++;
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      post({ t: 'rpc', id, ...request });
    });
  const log = (level: 'debug' | 'info' | 'warn' | 'error') => (msg: string, extra?: Record<string, unknown>) =>
    post({ t: 'log', level, msg: String(msg), ...(extra && { data: extra }) });
  const logger = { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };

  // Only a plugin that sees every message.created can keep its own view of sessions.
  const windows = plugin.manifest.events.includes('message.created') ? new SessionWindows() : null;
  const recentMessages = async (sessionId: string, upToId: string | null, query: RecentMessagesQuery): Promise<Message[]> => {
    const ask = (q: RecentMessagesQuery) => call<Message[]>({ method: 'recentMessages', sessionId, beforeMessageId: upToId, query: q });
    if (!windows) return ask(query);
    if (!windows.has(sessionId)) windows.seed(sessionId, await ask({ limit: SEED_LIMIT }), SEED_LIMIT);
    return windows.answer(sessionId, upToId, query) ?? ask(query);
  };

  const contextFor = (event: DomainEvent): PluginContext => {
    const d = event.payload.data as { id?: string; sessionId?: string };
    const isMessage = event.type.startsWith('message.');
    const sessionId = (isMessage ? d.sessionId : d.id) ?? '';
    if (windows && event.type === 'message.created') windows.observe(event.payload.data as unknown as Message);
    return {
      settings: data.settings,
      projectId: data.projectId,
      session: () => call<Session>({ method: 'session', sessionId }),
      recentMessages: (query: RecentMessagesQuery = {}) => recentMessages(sessionId, isMessage ? (d.id ?? null) : null, query),
      log: logger,
    };
  };

  port.on('message', (msg: ToWorker) => {
    if (msg.t === 'rpc') {
      const p = pending.get(msg.id);
      pending.delete(msg.id);
      if (msg.ok) p?.resolve(msg.value);
      else p?.reject(new Error(msg.error));
      return;
    }
    void (async () => {
      const results: EventResult[] = [];
      Atomics.store(progress, 0, 0);
      for (const [i, event] of (JSON.parse(msg.json) as DomainEvent[]).entries()) {
        try {
          // Cloned here so an output that is not plain data fails as this event's error, not the whole batch's.
          const output = structuredClone((await plugin.handle(event, contextFor(event))) ?? null);
          results.push({ seq: event.seq, ok: true, output });
        } catch (err) {
          // Stop at the first failure: the runner commits what came before it, in order.
          results.push({ seq: event.seq, ok: false, error: describe(err) });
          break;
        }
        Atomics.store(progress, 0, i + 1);
      }
      post({ t: 'results', results });
    })();
  });
  post({ t: 'ready', manifest: JSON.parse(JSON.stringify(plugin.manifest)) as Plugin['manifest'] });
}

const data = workerData as RunWorkerData | InspectWorkerData;
if (data.mode === 'inspect') void inspect(data);
else void run(data);

import type { CortexClient } from '../../../common/client.js';
import { createHttpClient } from '../../../common/http-client.js';
import { ConnectionMonitor } from './connection.js';
import { createIpcClient, createIpcEcho, type EchoTopic } from './ipc-client.js';
import type { CortexBridge } from './cortex-bridge.js';

/**
 * Transport selection. In the Electron window the preload exposes `window.cortex` and every
 * call goes over IPC (no key needed: main process is trusted). In a browser the console is
 * served by the Cortex server itself, so it talks HTTP + SSE to its own origin with an API key
 * taken from the URL fragment (`#key=ctx_…`, never sent to the server) or localStorage.
 */
export type Transport = 'ipc' | 'http';

export interface ClientHandle {
  client: CortexClient;
  transport: Transport;
  /** Stream health for the HTTP transport; null over IPC. */
  monitor: ConnectionMonitor | null;
  /** A topic's live echo over IPC; null over HTTP (there it is `GET /api/topics/{topic}/echo`). */
  echoTopic: EchoTopic | null;
}

const KEY_STORAGE = 'cortex.apiKey';

function storage(): Storage | null {
  try {
    return window.localStorage;
  } catch {
    return null; // storage disabled (privacy settings, sandboxed frame)
  }
}

export function storedKey(): string | null {
  return storage()?.getItem(KEY_STORAGE) || null;
}

export function saveKey(key: string): void {
  storage()?.setItem(KEY_STORAGE, key);
}

export function forgetKey(): void {
  storage()?.removeItem(KEY_STORAGE);
}

/**
 * Moves a key passed as `#key=…` into localStorage and strips it from the address bar and
 * history so it does not linger in the URL. Returns the key, if any.
 */
export function takeKeyFromFragment(): string | null {
  const params = new URLSearchParams(window.location.hash.slice(1));
  const key = params.get('key')?.trim();
  if (!key) return null;
  saveKey(key);
  params.delete('key');
  const rest = params.toString();
  const { pathname, search } = window.location;
  window.history.replaceState(window.history.state, '', pathname + search + (rest ? `#${rest}` : ''));
  return key;
}

export function createHttpHandle(apiKey: string, onUnauthorized: () => void): ClientHandle {
  const monitor = new ConnectionMonitor();
  const baseFetch: typeof fetch = async (input, init) => {
    const res = await fetch(input, init);
    if (res.status === 401) onUnauthorized();
    return res;
  };
  const http = createHttpClient({ baseUrl: '', apiKey, fetch: monitor.wrapFetch(baseFetch) });
  const client: CortexClient = {
    request: http.request,
    requestBinary: http.requestBinary,
    subscribe(filter, onEvent) {
      const unsubscribe = http.subscribe(filter, onEvent);
      return () => {
        unsubscribe();
        monitor.forgetIdle();
      };
    },
  };
  return { client, transport: 'http', monitor, echoTopic: null };
}

export function createIpcHandle(bridge: CortexBridge): ClientHandle {
  return { client: createIpcClient(bridge), transport: 'ipc', monitor: null, echoTopic: createIpcEcho(bridge) };
}

/** The key the browser console starts with: `#key=…` in the URL first, then localStorage. */
export function startupKey(): string | null {
  return takeKeyFromFragment() ?? storedKey();
}

import type { BinaryResponse, CortexClient, EventFilter, HttpMethod, Unsubscribe } from '../../../common/client.js';
import type { DomainEvent } from '../../../common/events.js';
import type { EchoEvent } from '../../../common/ipc.js';
import { ApiError, type Problem } from '../../../common/problem.js';
import type { CortexBridge } from './cortex-bridge.js';

function isProblem(value: unknown): value is Problem {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.status === 'number' && typeof v.title === 'string' && typeof v.code === 'string';
}

function toProblem(status: number, body: unknown): Problem {
  if (isProblem(body)) return body;
  return { type: 'about:blank', title: `Request failed with status ${status}`, status, code: 'http_error' };
}

/** `CortexClient` over the Electron preload bridge (`window.cortex`). */
export function createIpcClient(bridge: CortexBridge): CortexClient {
  async function request<T>(method: HttpMethod, path: string, body?: unknown): Promise<T> {
    const res = await bridge.request(body === undefined ? { method, path } : { method, path, body });
    if (res.status < 200 || res.status >= 300) throw new ApiError(toProblem(res.status, res.body));
    return res.body as T;
  }

  async function requestBinary(path: string): Promise<BinaryResponse> {
    const res = await bridge.requestBinary({ path });
    if (res.status < 200 || res.status >= 300 || !res.bytes) throw new ApiError(toProblem(res.status, res.body));
    // Copy into an ArrayBuffer of exactly the body (the view may sit in a larger buffer).
    const bytes = new ArrayBuffer(res.bytes.byteLength);
    new Uint8Array(bytes).set(res.bytes);
    return { contentType: res.contentType, bytes };
  }

  function subscribe(filter: EventFilter, onEvent: (event: DomainEvent) => void): Unsubscribe {
    const result = bridge.subscribe(filter, onEvent);
    if (typeof result === 'function') return result;
    // Tolerate an async bridge: unsubscribe as soon as the handle arrives if already cancelled.
    let cancelled = false;
    let unsubscribe: (() => void) | undefined;
    result.then(
      (fn) => (cancelled ? fn() : (unsubscribe = fn)),
      () => undefined,
    );
    return () => {
      cancelled = true;
      unsubscribe?.();
    };
  }

  return { request, requestBinary, subscribe };
}

/** A topic's live echo: `ready` or `failed` first, then `message`/`invalid` frames. */
export type EchoTopic = (topic: string, onEvent: (event: EchoEvent) => void) => Unsubscribe;

/** The topic echo over the preload bridge; a bridge that throws reports `failed` instead. */
export function createIpcEcho(bridge: CortexBridge): EchoTopic {
  return (topic, onEvent) => {
    try {
      return bridge.echoTopic(topic, onEvent);
    } catch (err) {
      const detail = err instanceof Error ? err.message : String(err);
      onEvent({ event: 'failed', data: { type: 'about:blank', title: 'The echo could not be started', status: 500, code: 'ipc_error', detail } });
      return () => undefined;
    }
  };
}

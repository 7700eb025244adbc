import { ApiError, type Problem } from './problem.js';
import type { BinaryResponse, CortexClient, EventFilter, HttpMethod, Unsubscribe } from './client.js';
import type { DomainEvent } from './events.js';
import { SseParser } from './sse.js';

export interface HttpClientOptions {
  /** e.g. `http://127.0.0.1:7420`; empty = same origin. */
  baseUrl: string;
  apiKey: string;
  /** Delay before reconnecting a dropped stream. */
  reconnectDelayMs?: number;
  fetch?: typeof fetch;
}

/** `CortexClient` over plain `fetch` + SSE (read with fetch so the key travels in a header). */
export function createHttpClient(options: HttpClientOptions): CortexClient {
  const doFetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  const headers = { 'x-api-key': options.apiKey };

  async function request<T>(method: HttpMethod, path: string, body?: unknown): Promise<T> {
    const res = await doFetch(options.baseUrl + path, {
      method,
      headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    const parsed: unknown = text ? JSON.parse(text) : null;
    if (!res.ok) {
      throw new ApiError(
        (parsed as Problem | null) ?? { type: 'about:blank', title: res.statusText, status: res.status, code: 'http_error' },
      );
    }
    return parsed as T;
  }

  async function requestBinary(path: string): Promise<BinaryResponse> {
    const res = await doFetch(options.baseUrl + path, { method: 'GET', headers: { ...headers, accept: '*/*' } });
    if (!res.ok) {
      const text = await res.text();
      let problem: Problem | null = null;
      try {
        problem = text ? (JSON.parse(text) as Problem) : null;
      } catch {
        // not a problem document: fall back to the status line
      }
      throw new ApiError(problem ?? { type: 'about:blank', title: res.statusText, status: res.status, code: 'http_error' });
    }
    return { contentType: res.headers.get('content-type') ?? 'application/octet-stream', bytes: await res.arrayBuffer() };
  }

  function subscribe(filter: EventFilter, onEvent: (event: DomainEvent) => void): Unsubscribe {
    let lastSeq = filter.since;
    let stopped = false;
    let controller: AbortController | undefined;
    const path = filter.projectId ? `/api/projects/${encodeURIComponent(filter.projectId)}/events/stream` : '/api/events/stream';

    async function run(): Promise<void> {
      while (!stopped) {
        controller = new AbortController();
        try {
          const query = filter.types?.length ? `?types=${encodeURIComponent(filter.types.join(','))}` : '';
          const res = await doFetch(options.baseUrl + path + query, {
            headers: lastSeq === undefined ? headers : { ...headers, 'last-event-id': String(lastSeq) },
            signal: controller.signal,
          });
          if (!res.ok || !res.body) throw new Error(`stream answered ${res.status}`);
          const parser = new SseParser((msg) => {
            if (msg.id === undefined) return;
            if (msg.event === 'ready') {
              // The stream's starting point: resume from here if it drops before any event.
              lastSeq ??= Number(msg.id);
              return;
            }
            if (msg.event !== 'message') return;
            const event = JSON.parse(msg.data) as DomainEvent;
            if (lastSeq !== undefined && event.seq <= lastSeq) return;
            lastSeq = event.seq;
            onEvent(event);
          });
          const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
          for (;;) {
            const { value, done } = await reader.read();
            if (done) break;
            parser.push(value);
          }
        } catch {
          // dropped or refused: fall through to the reconnect delay
        }
        if (!stopped) await new Promise((r) => setTimeout(r, options.reconnectDelayMs ?? 1000));
      }
    }
    void run();
    return () => {
      stopped = true;
      controller?.abort();
    };
  }

  return { request, requestBinary, subscribe };
}

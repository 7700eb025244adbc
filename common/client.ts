import type { DomainEvent } from './events.js';

export type HttpMethod = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';

export interface EventFilter {
  /** Restrict to one project; omitted = tenant-wide. */
  projectId?: string;
  /** `['message.*', 'sanction.created']`; omitted = all types. */
  types?: string[];
  /** Replay from the log after this seq before going live. */
  since?: number;
}

export type Unsubscribe = () => void;

/** A non-JSON response body (e.g. an evidence clip, `audio/wav`). */
export interface BinaryResponse {
  contentType: string;
  bytes: ArrayBuffer;
}

/**
 * The one interface the renderer (and scripts) use to talk to Cortex. Implemented over
 * HTTP+SSE (`createHttpClient`) and over Electron IPC (`renderer/src/lib/ipc-client.ts`).
 */
export interface CortexClient {
  /** Resolves with the parsed JSON body; rejects with `ApiError` on a problem response. */
  request<T = unknown>(method: HttpMethod, path: string, body?: unknown): Promise<T>;
  /** `GET path` for a binary body (audio, files); rejects with `ApiError` on a problem response. */
  requestBinary(path: string): Promise<BinaryResponse>;
  /** Live events matching the filter; reconnects resume from the last seq seen. */
  subscribe(filter: EventFilter, onEvent: (event: DomainEvent) => void): Unsubscribe;
}

import type { Problem } from './problem.js';

/** Every IPC channel between preload and main, in one place. */
export const IPC = {
  /** renderer → main (invoke): `{method, path, body}` → `IpcResponse` */
  request: 'cortex:request',
  /** renderer → main (invoke): `{path}` (a GET) → `IpcBinaryResponse` */
  requestBinary: 'cortex:request-binary',
  /** renderer → main (invoke): `EventFilter` → subscription id */
  subscribe: 'cortex:subscribe',
  /** renderer → main (send): subscription id */
  unsubscribe: 'cortex:unsubscribe',
  /** main → renderer (send): `{subscriptionId, event}` */
  event: 'cortex:event',
} as const;

export interface IpcRequest {
  method: string;
  path: string;
  body?: unknown;
}

export interface IpcResponse {
  status: number;
  /** Parsed JSON, or null for an empty body. */
  body: unknown;
}

export interface IpcBinaryRequest {
  /** Always a GET. */
  path: string;
}

export interface IpcBinaryResponse {
  status: number;
  contentType: string;
  /** The body on a 2xx answer; null otherwise. */
  bytes: Uint8Array | null;
  /** The parsed problem (or null) on a non-2xx answer; null otherwise. */
  body: unknown;
}

/** Channels of a topic's live echo (the IPC twin of `GET /api/topics/{topic}/echo`). */
export const IPC_ECHO = {
  /** renderer → main (invoke): `IpcEchoRequest` → `IpcEchoStart` */
  start: 'cortex:echo-start',
  /** renderer → main (send): echo id */
  stop: 'cortex:echo-stop',
  /** main → renderer (send): `IpcEchoMessage` */
  frame: 'cortex:echo-frame',
} as const;

export interface IpcEchoRequest {
  /** The topic name (not URL-encoded). */
  topic: string;
}

/** What the SSE stream sends as `event: ready`. */
export interface IpcEchoReady {
  topic: string;
  messageType: string;
  /** Frames per second sent at most; `dropped` counts the rest. */
  maxRate: number;
}

/** The answer to `IPC_ECHO.start`: the echo's id, or why there is none (a problem as the HTTP route answers). */
export type IpcEchoStart = { id: number; ready: IpcEchoReady } | { id: null; problem: Problem };

/** One echoed message (`event: message`) or one that could not be decoded (`event: invalid`), as the SSE stream sends them. */
export type IpcEchoFrame =
  | { event: 'message'; data: { seq: string; timestamp: string; value: unknown; raw?: boolean; buffers?: number; dropped: number } }
  | { event: 'invalid'; data: { reason: string; detail: string; dropped: number } };

/** The message sent on `IPC_ECHO.frame`. */
export interface IpcEchoMessage {
  echoId: number;
  frame: IpcEchoFrame;
}

/** What the renderer's echo callback receives: `ready` first (or `failed` with the problem), then frames. */
export type EchoEvent = { event: 'ready'; data: IpcEchoReady } | { event: 'failed'; data: Problem } | IpcEchoFrame;

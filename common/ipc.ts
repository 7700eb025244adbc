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

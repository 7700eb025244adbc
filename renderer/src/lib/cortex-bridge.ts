import type { EventFilter } from '../../../common/client.js';
import type { DomainEvent } from '../../../common/events.js';
import type { EchoEvent, IpcBinaryRequest, IpcBinaryResponse, IpcRequest, IpcResponse } from '../../../common/ipc.js';

/**
 * What the Electron preload exposes as `window.cortex` (contextBridge). Absent in a plain
 * browser, where the console talks HTTP + SSE to its own origin instead.
 */
export interface CortexBridge {
  request(req: IpcRequest): Promise<IpcResponse>;
  /** A GET answered with bytes (e.g. `audio/wav`), not JSON. */
  requestBinary(req: IpcBinaryRequest): Promise<IpcBinaryResponse>;
  /** Returns the unsubscribe function (the preload returns it synchronously). */
  subscribe(filter: EventFilter, onEvent: (event: DomainEvent) => void): Promise<() => void> | (() => void);
  /**
   * A data-plane topic's live echo (the IPC twin of `GET /api/topics/{topic}/echo`): `onEvent`
   * gets `ready` or `failed` first, then `message`/`invalid` frames. Returns the stop function.
   */
  echoTopic(topic: string, onEvent: (event: EchoEvent) => void): () => void;
}

declare global {
  interface Window {
    cortex?: CortexBridge;
  }
}

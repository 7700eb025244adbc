/**
 * Sandboxed preload: exposes `window.cortex` (see `renderer/src/lib/cortex-bridge.ts`) and
 * nothing else. `ipcRenderer` itself never crosses the context bridge; every argument is
 * copied into plain data before it is sent. Bundled to CommonJS (`dist/preload/preload.cjs`)
 * because sandboxed preloads cannot load ES modules or anything but `electron`.
 */
import { contextBridge, ipcRenderer } from 'electron';
import type { EventFilter } from '../common/client.js';
import type { DomainEvent } from '../common/events.js';
import {
  IPC,
  IPC_ECHO,
  type EchoEvent,
  type IpcBinaryRequest,
  type IpcBinaryResponse,
  type IpcEchoFrame,
  type IpcEchoRequest,
  type IpcEchoStart,
  type IpcRequest,
  type IpcResponse,
} from '../common/ipc.js';
import type { CortexBridge } from '../renderer/src/lib/cortex-bridge.js';

type SubscriptionId = number;
type OnEvent = (event: DomainEvent) => void;

/** Live subscriptions of this page, by the id main assigned. */
const listeners = new Map<SubscriptionId, OnEvent>();
/**
 * Events that arrived for an id whose `subscribe` invoke has not resolved here yet (main
 * may start sending before the reply is handled). Flushed when the id is adopted.
 */
const early = new Map<SubscriptionId, DomainEvent[]>();
const MAX_EARLY_EVENTS = 1000;
/** `subscribe` invokes awaiting their id; early events are only kept while some are. */
let pending = 0;
/** Ids this page cancelled: late events for them are dropped, not buffered. */
const retired = new Set<SubscriptionId>();
const MAX_RETIRED = 1000;

function retire(id: SubscriptionId): void {
  retired.add(id);
  if (retired.size > MAX_RETIRED) retired.delete(retired.values().next().value as SubscriptionId);
}

ipcRenderer.on(IPC.event, (_event, message: unknown) => {
  if (typeof message !== 'object' || message === null) return;
  const { subscriptionId, event } = message as { subscriptionId?: unknown; event?: unknown };
  if (typeof subscriptionId !== 'number' || typeof event !== 'object' || event === null) return;
  const listener = listeners.get(subscriptionId);
  if (listener) {
    deliver(listener, event as DomainEvent);
    return;
  }
  if (pending === 0 || retired.has(subscriptionId)) return;
  const queue = early.get(subscriptionId) ?? [];
  if (queue.length < MAX_EARLY_EVENTS) queue.push(event as DomainEvent);
  early.set(subscriptionId, queue);
});

function deliver(listener: OnEvent, event: DomainEvent): void {
  try {
    listener(event);
  } catch (err) {
    console.error('cortex: event listener threw', err);
  }
}

function copyFilter(filter: EventFilter | undefined): EventFilter {
  const out: EventFilter = {};
  if (filter?.projectId != null) out.projectId = String(filter.projectId);
  if (filter?.types != null) out.types = Array.from(filter.types, String);
  if (filter?.since != null) out.since = Number(filter.since);
  return out;
}

function request(req: IpcRequest): Promise<IpcResponse> {
  // Only the three known fields cross; main validates them again.
  const message: IpcRequest = { method: String(req?.method), path: String(req?.path) };
  if (req?.body !== undefined) message.body = req.body;
  return ipcRenderer.invoke(IPC.request, message) as Promise<IpcResponse>;
}

function requestBinary(req: IpcBinaryRequest): Promise<IpcBinaryResponse> {
  // Only the path crosses (always a GET); main validates it again.
  const message: IpcBinaryRequest = { path: String(req?.path) };
  return ipcRenderer.invoke(IPC.requestBinary, message) as Promise<IpcBinaryResponse>;
}

/** Returns the unsubscribe function synchronously; the id is adopted when main answers. */
function subscribe(filter: EventFilter, onEvent: OnEvent): () => void {
  if (typeof onEvent !== 'function') throw new TypeError('cortex.subscribe: onEvent must be a function');
  let id: SubscriptionId | undefined;
  let cancelled = false;

  pending++;
  ipcRenderer.invoke(IPC.subscribe, copyFilter(filter)).then(
    (subscriptionId: SubscriptionId) => {
      const buffered = early.get(subscriptionId) ?? [];
      early.delete(subscriptionId);
      settle();
      if (cancelled) {
        retire(subscriptionId);
        ipcRenderer.send(IPC.unsubscribe, subscriptionId);
        return;
      }
      id = subscriptionId;
      listeners.set(subscriptionId, onEvent);
      for (const event of buffered) deliver(onEvent, event);
    },
    (err: unknown) => {
      settle();
      console.error('cortex: subscribe failed', err);
    },
  );

  return () => {
    if (cancelled) return;
    cancelled = true;
    if (id === undefined) return; // unsubscribed as soon as the id arrives
    listeners.delete(id);
    retire(id);
    ipcRenderer.send(IPC.unsubscribe, id);
  };
}

function settle(): void {
  pending--;
  if (pending === 0) early.clear();
}

type EchoId = number;
type OnEcho = (event: EchoEvent) => void;

/** Topic echoes of this page, by the id main assigned; the same early/retired handling as subscriptions. */
const echoListeners = new Map<EchoId, OnEcho>();
const earlyFrames = new Map<EchoId, IpcEchoFrame[]>();
/** At most 20 frames/s arrive per echo: a second's worth and then some. */
const MAX_EARLY_FRAMES = 100;
let pendingEchoes = 0;
const retiredEchoes = new Set<EchoId>();

function retireEcho(id: EchoId): void {
  retiredEchoes.add(id);
  if (retiredEchoes.size > MAX_RETIRED) retiredEchoes.delete(retiredEchoes.values().next().value as EchoId);
}

/** Copies a frame from main into plain data of the known shape, or null. */
function copyFrame(frame: unknown): IpcEchoFrame | null {
  if (typeof frame !== 'object' || frame === null) return null;
  const { event, data } = frame as { event?: unknown; data?: unknown };
  if ((event !== 'message' && event !== 'invalid') || typeof data !== 'object' || data === null) return null;
  return { event, data } as IpcEchoFrame;
}

ipcRenderer.on(IPC_ECHO.frame, (_event, message: unknown) => {
  if (typeof message !== 'object' || message === null) return;
  const { echoId, frame: raw } = message as { echoId?: unknown; frame?: unknown };
  const frame = copyFrame(raw);
  if (typeof echoId !== 'number' || !frame) return;
  const listener = echoListeners.get(echoId);
  if (listener) {
    deliverEcho(listener, frame);
    return;
  }
  if (pendingEchoes === 0 || retiredEchoes.has(echoId)) return;
  const queue = earlyFrames.get(echoId) ?? [];
  if (queue.length < MAX_EARLY_FRAMES) queue.push(frame);
  earlyFrames.set(echoId, queue);
});

function deliverEcho(listener: OnEcho, event: EchoEvent): void {
  try {
    listener(event);
  } catch (err) {
    console.error('cortex: echo listener threw', err);
  }
}

/**
 * A topic's live echo: `onEvent` gets `ready` (or `failed` with the problem), then the
 * frames. Returns the stop function synchronously; the id is adopted when main answers.
 */
function echoTopic(topic: string, onEvent: OnEcho): () => void {
  if (typeof onEvent !== 'function') throw new TypeError('cortex.echoTopic: onEvent must be a function');
  let id: EchoId | undefined;
  let cancelled = false;

  pendingEchoes++;
  // Only the topic name crosses; main validates it again.
  const message: IpcEchoRequest = { topic: String(topic) };
  ipcRenderer.invoke(IPC_ECHO.start, message).then(
    (start: IpcEchoStart) => {
      if (start.id === null) {
        settleEcho();
        if (!cancelled) deliverEcho(onEvent, { event: 'failed', data: start.problem });
        return;
      }
      const buffered = earlyFrames.get(start.id) ?? [];
      earlyFrames.delete(start.id);
      settleEcho();
      if (cancelled) {
        retireEcho(start.id);
        ipcRenderer.send(IPC_ECHO.stop, start.id);
        return;
      }
      id = start.id;
      echoListeners.set(start.id, onEvent);
      deliverEcho(onEvent, { event: 'ready', data: start.ready });
      for (const frame of buffered) deliverEcho(onEvent, frame);
    },
    (err: unknown) => {
      settleEcho();
      console.error('cortex: echo failed', err);
      if (!cancelled) {
        deliverEcho(onEvent, { event: 'failed', data: { type: 'about:blank', title: 'The echo could not be started', status: 500, code: 'ipc_error' } });
      }
    },
  );

  return () => {
    if (cancelled) return;
    cancelled = true;
    if (id === undefined) return; // stopped as soon as the id arrives
    echoListeners.delete(id);
    retireEcho(id);
    ipcRenderer.send(IPC_ECHO.stop, id);
  };
}

function settleEcho(): void {
  pendingEchoes--;
  if (pendingEchoes === 0) earlyFrames.clear();
}

const api = { request, requestBinary, subscribe, echoTopic } satisfies CortexBridge;
contextBridge.exposeInMainWorld('cortex', api);

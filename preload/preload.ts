/**
 * Sandboxed preload: exposes `window.cortex` (see `renderer/src/lib/cortex-bridge.ts`) and
 * nothing else. `ipcRenderer` itself never crosses the context bridge; every argument is
 * copied into plain data before it is sent. Bundled to CommonJS (`dist/preload/preload.cjs`)
 * because sandboxed preloads cannot load ES modules or anything but `electron`.
 */
import { contextBridge, ipcRenderer } from 'electron';
import type { EventFilter } from '../common/client.js';
import type { DomainEvent } from '../common/events.js';
import { IPC, type IpcBinaryRequest, type IpcBinaryResponse, type IpcRequest, type IpcResponse } from '../common/ipc.js';
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

const api = { request, requestBinary, subscribe } satisfies CortexBridge;
contextBridge.exposeInMainWorld('cortex', api);

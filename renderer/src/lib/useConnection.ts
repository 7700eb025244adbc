import { useSyncExternalStore } from 'react';
import type { ConnectionSnapshot } from './connection.js';
import { useCortex } from './cortex-context.js';

const IPC_SNAPSHOT: ConnectionSnapshot = { state: 'live', openStreams: 0 };
const noopSubscribe = (): (() => void) => () => undefined;

/** Live-stream health of the current transport (IPC is always considered live). */
export function useConnection(): ConnectionSnapshot {
  const { monitor } = useCortex();
  return useSyncExternalStore(monitor?.subscribe ?? noopSubscribe, monitor?.getSnapshot ?? (() => IPC_SNAPSHOT));
}

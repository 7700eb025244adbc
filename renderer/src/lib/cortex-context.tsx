import { createContext, useContext, type ReactNode } from 'react';
import type { ClientHandle } from './client.js';

const CortexContext = createContext<ClientHandle | null>(null);

export function CortexProvider({ handle, children }: { handle: ClientHandle; children: ReactNode }) {
  return <CortexContext.Provider value={handle}>{children}</CortexContext.Provider>;
}

/** The active client and transport; throws outside `<CortexProvider>`. */
export function useCortex(): ClientHandle {
  const handle = useContext(CortexContext);
  if (!handle) throw new Error('useCortex() used outside <CortexProvider>');
  return handle;
}

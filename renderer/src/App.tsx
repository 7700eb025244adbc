import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { useRef, useState } from 'react';
import { ApiError } from '../../common/problem.js';
import { ConnectionIndicator } from './components/ConnectionIndicator.js';
import { KeyForm } from './features/auth/KeyForm.js';
import { Nav } from './components/Nav.js';
import { createHttpHandle, createIpcHandle, forgetKey, saveKey, startupKey, type ClientHandle } from './lib/client.js';
import { CortexProvider } from './lib/cortex-context.js';
import { ProjectProvider, useProject } from './lib/project.js';
import { useRoute } from './lib/router.js';
import { DEFAULT_VIEW, VIEWS } from './routes.js';

function makeQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: {
        refetchOnWindowFocus: false,
        // An auth or validation problem will not fix itself by retrying.
        retry: (count, err) => !(err instanceof ApiError && err.status < 500) && count < 2,
      },
    },
  });
}

function Console({ handle, onSignOut }: { handle: ClientHandle; onSignOut: (() => void) | null }) {
  return (
    <CortexProvider handle={handle}>
      <ProjectProvider>
        <Shell onSignOut={onSignOut} />
      </ProjectProvider>
    </CortexProvider>
  );
}

function Shell({ onSignOut }: { onSignOut: (() => void) | null }) {
  const route = useRoute();
  const { projectId } = useProject();
  const view = VIEWS.find((v) => v.id === route.parts[0]) ?? VIEWS.find((v) => v.id === DEFAULT_VIEW)!;
  return (
    <div className="app">
      <header className="topbar">
        <h1>
          Cortex <span className="muted">Console</span>
        </h1>
        <span className="project" data-testid="project">
          project: {projectId}
        </span>
        <div className="spacer" />
        <ConnectionIndicator />
        {onSignOut && (
          <button type="button" className="link" onClick={onSignOut}>
            Forget key
          </button>
        )}
      </header>
      <div className="layout">
        <Nav current={view.id} />
        <main className="view" data-testid={`view-${view.id}`}>
          {view.render(route)}
        </main>
      </div>
    </div>
  );
}

/**
 * Electron (preload present): IPC, no key. Browser: HTTP to the serving origin with the key
 * from `#key=…` / localStorage, or the key form when there is none or it was rejected.
 */
export function App() {
  const activeKey = useRef<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  // A fresh cache per connection, so nothing fetched with one key is shown under the next.
  const [queryClient, setQueryClient] = useState(makeQueryClient);
  const [handle, setHandle] = useState<ClientHandle | null>(() => {
    if (window.cortex) return createIpcHandle(window.cortex);
    const key = startupKey();
    return key ? openHttp(key) : null;
  });

  function openHttp(key: string): ClientHandle {
    activeKey.current = key;
    // Late 401s from a previous key's in-flight requests must not sign out the current one.
    return createHttpHandle(key, () => {
      if (activeKey.current === key) signOut('The API key was rejected (401). Enter a valid key.');
    });
  }

  function signOut(message: string | null): void {
    forgetKey();
    activeKey.current = null;
    setHandle(null);
    setNotice(message);
  }

  function connect(key: string): void {
    saveKey(key);
    setNotice(null);
    setQueryClient(makeQueryClient());
    setHandle(openHttp(key));
  }

  if (!handle) return <KeyForm onSubmit={connect} notice={notice} />;
  return (
    <QueryClientProvider client={queryClient}>
      <Console handle={handle} onSignOut={handle.transport === 'http' ? () => signOut(null) : null} />
    </QueryClientProvider>
  );
}

import { useEffect, useState } from 'react';

/**
 * A hash router: `#/sessions/0192…` → `{ path: '/sessions/0192…', parts: ['sessions', '0192…'] }`.
 * The hash keeps the console a single static page (served by Cortex, or loaded from disk in
 * Electron) and never reaches the server. `#key=…` (the browser console's login) is consumed
 * before routing starts.
 */
export interface Route {
  path: string;
  parts: string[];
  /** `?a=b` after the path inside the hash. */
  query: URLSearchParams;
}

export function parseRoute(hash: string): Route {
  const raw = hash.replace(/^#/, '');
  const [path = '', search = ''] = raw.startsWith('/') ? raw.split('?', 2) : ['', ''];
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  return { path: '/' + parts.join('/'), parts, query: new URLSearchParams(search) };
}

export function navigate(path: string): void {
  window.location.hash = path.startsWith('#') ? path : `#${path}`;
}

export const href = (path: string): string => `#${path}`;

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(window.location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parseRoute(window.location.hash));
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return route;
}

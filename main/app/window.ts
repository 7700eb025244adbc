/**
 * The console window and the Electron security baseline around it: isolated, sandboxed
 * renderer without Node, no new windows, no navigation away from the app page, no
 * permissions, and the console CSP (`common/csp.ts`) as a response header. For the
 * `file://` page itself Chromium applies the `<meta>` copy in `renderer/index.html`; the
 * header covers anything fetched through the session's web requests.
 */
import { BrowserWindow, type Session, type WebContents } from 'electron';
import { pathToFileURL } from 'node:url';
import { CONSOLE_CSP } from '../../common/csp.js';

export interface MainWindowOptions {
  /** Absolute path of `dist/renderer/index.html`. */
  indexPath: string;
  /** Absolute path of `dist/preload/preload.cjs`. */
  preloadPath: string;
  /** Saved size and position (already checked to be on a display). */
  bounds?: { x: number; y: number; width: number; height: number; maximized: boolean } | null;
  log?: (message: string) => void;
}

/** `file://` URL of the renderer entry, as the IPC sender check expects it. */
export function indexUrlOf(indexPath: string): string {
  return pathToFileURL(indexPath).href;
}

function withoutHashAndQuery(url: string): string {
  try {
    const u = new URL(url);
    u.hash = '';
    u.search = '';
    return u.href;
  } catch {
    return '';
  }
}

/** Permissions, CSP. Call once per session, before any window loads. */
export function hardenSession(ses: Session): void {
  ses.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  ses.setPermissionCheckHandler(() => false);
  ses.setDevicePermissionHandler(() => false);
  ses.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CONSOLE_CSP] } });
  });
}

const hardened = new WeakSet<WebContents>();

/** For every webContents (including ones we did not create): no popups, no `<webview>`. Idempotent. */
export function hardenWebContents(contents: WebContents): void {
  if (hardened.has(contents)) return;
  hardened.add(contents);
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
  contents.on('will-attach-webview', (event) => event.preventDefault());
}

export function createMainWindow(options: MainWindowOptions): BrowserWindow {
  const log = options.log ?? ((m: string) => console.warn(m));
  const appPage = withoutHashAndQuery(indexUrlOf(options.indexPath));

  const b = options.bounds;
  const win = new BrowserWindow({
    ...(b ? { x: b.x, y: b.y, width: b.width, height: b.height } : { width: 1280, height: 820 }),
    minWidth: 760,
    minHeight: 520,
    show: false,
    title: 'Cortex Console',
    backgroundColor: '#111318',
    webPreferences: {
      preload: options.preloadPath,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      spellcheck: false,
      // A middle click on a link would otherwise open it in a new window (electronegativity AUXCLICK_JS_CHECK).
      disableBlinkFeatures: 'Auxclick',
    },
  });

  const contents = win.webContents;
  hardenWebContents(contents);
  // In-page (hash) navigation does not fire will-navigate; a full reload of the app page is allowed.
  contents.on('will-navigate', (event) => {
    if (withoutHashAndQuery(event.url) === appPage) return;
    event.preventDefault();
    log(`cortex: blocked navigation to ${event.url}`);
  });
  contents.on('will-redirect', (event) => {
    event.preventDefault();
    log(`cortex: blocked redirect to ${event.url}`);
  });
  contents.on('will-frame-navigate', (event) => {
    if (event.isMainFrame) return; // handled by will-navigate
    event.preventDefault();
  });

  win.once('ready-to-show', () => {
    if (b?.maximized) win.maximize();
    win.show();
  });
  win.loadFile(options.indexPath).catch((err: unknown) => {
    log(`cortex: could not load ${options.indexPath}: ${(err as Error).message} (did \`npm run build\` run?)`);
  });
  return win;
}

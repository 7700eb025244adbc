/**
 * Electron main process: lifecycle only. Starts the Cortex core in-process, opens the
 * console window (which talks to the core over IPC, see `./ipc.ts`) and also exposes the
 * REST API on loopback for scripts. Bundled to CommonJS (`dist/main/app.cjs`), so paths
 * come from `app.getAppPath()` (project root in dev, `app.asar` when packaged), never from
 * `import.meta.url`.
 */
import { app, BrowserWindow, dialog, ipcMain, Notification, screen, session, type WebContents } from 'electron';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Annotation } from '../../common/schemas.js';
import { FlagDigest, watchAttention } from '../core/attention.js';
import { startCortex, type Cortex } from '../core/cortex.js';
import { createIpcBridge, type IpcBridge } from '../core/ipc-bridge.js';
import { registerIpc, type IpcRegistration } from './ipc.js';
import { loadDesktopState, saveDesktopState, visibleOn, type DesktopState } from './desktop-state.js';
import { installMenu } from './menu.js';
import { createTray, type ConsoleTray } from './tray.js';
import { createMainWindow, hardenSession, hardenWebContents, indexUrlOf } from './window.js';

const SHUTDOWN_TIMEOUT_MS = 10_000;

const appRoot = app.getAppPath();
const paths = {
  index: join(appRoot, 'dist', 'renderer', 'index.html'),
  preload: join(appRoot, 'dist', 'preload', 'preload.cjs'),
  renderer: join(appRoot, 'dist', 'renderer'),
  icon: join(appRoot, 'resources', 'icon.png'),
  desktopState: join(app.getPath('userData'), 'desktop-state.json'),
};

const log = (message: string): void => console.log(message);
const warn = (message: string): void => console.warn(message);

let cortex: Cortex | undefined;
let starting: Promise<Cortex> | undefined;
let bridge: IpcBridge | undefined;
let ipc: IpcRegistration | undefined;
let mainWindow: BrowserWindow | undefined;
let state: 'running' | 'stopping' | 'stopped' = 'running';
let desktop: DesktopState = { window: null, notifications: true };
let tray: ConsoleTray | undefined;
let apiUrl: string | null = null;
const stopWatching: (() => void)[] = [];

function focusMainWindow(view?: string): void {
  if (!mainWindow || mainWindow.isDestroyed()) return;
  if (mainWindow.isMinimized()) mainWindow.restore();
  mainWindow.show();
  mainWindow.focus();
  // In-page navigation only (the view router reads the hash); the view name is ours, not content's.
  if (view && /^[a-z]+$/.test(view)) void mainWindow.webContents.executeJavaScript(`location.hash = '#/${view}'`);
}

function saveDesktop(): void {
  try {
    saveDesktopState(paths.desktopState, desktop);
  } catch (err) {
    warn(`cortex: could not save ${paths.desktopState}: ${(err as Error).message}`);
  }
}

/** Remembers the window's size and position (on close, and shortly after moves and resizes). */
function rememberBounds(win: BrowserWindow): void {
  let timer: NodeJS.Timeout | undefined;
  const capture = () => {
    if (win.isDestroyed() || win.isMinimized()) return;
    desktop.window = { ...win.getNormalBounds(), maximized: win.isMaximized() };
    saveDesktop();
  };
  const later = () => {
    clearTimeout(timer);
    timer = setTimeout(capture, 500);
  };
  win.on('resize', later);
  win.on('move', later);
  win.on('close', () => {
    clearTimeout(timer);
    capture();
  });
}

function notifyFlag(a: Annotation, more: number): void {
  if (!desktop.notifications || !Notification.isSupported()) return;
  const score = a.score === null ? '' : ` ${Math.round(a.score * 100)}%`;
  const n = new Notification({
    title: `High-severity ${a.type}${score}`,
    body: more > 0 ? `and ${more} more in the last seconds — open the review queue` : 'Open the review queue to act on it',
  });
  n.on('click', () => focusMainWindow('review'));
  n.show();
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Releases the subscriptions a renderer made whenever its page goes away. */
function trackRenderer(contents: WebContents): void {
  const release = (): void => ipc?.release(contents);
  contents.on('destroyed', release);
  contents.on('render-process-gone', release);
  contents.on('did-start-navigation', (details) => {
    if (details.isMainFrame && !details.isSameDocument) release();
  });
}

async function start(): Promise<void> {
  hardenSession(session.defaultSession);

  starting = startCortex({
    dataDir: process.env.CORTEX_DATA_DIR || app.getPath('userData'),
    staticDir: existsSync(paths.index) ? paths.renderer : null,
  });
  const core = await starting;
  cortex = core;
  if (state !== 'running') return; // quit was requested while starting; shutdown() closes it

  bridge = createIpcBridge({
    inject: (req) => core.app.inject(req),
    subscribeEvents: (listener) => core.events.subscribe(listener),
    consoleKey: core.consoleKey,
    tenantId: core.tenantId,
    bus: core.bus,
    onError: (err, context) => warn(`cortex ipc: ${context}: ${(err as Error)?.message ?? String(err)}`),
  });
  const indexUrl = indexUrlOf(paths.index);
  ipc = registerIpc({
    ipcMain,
    bridge,
    trusted: () => (mainWindow && !mainWindow.isDestroyed() ? { webContents: mainWindow.webContents, indexUrl } : null),
    log: warn,
  });

  desktop = loadDesktopState(paths.desktopState);
  const bounds = desktop.window && visibleOn(desktop.window, screen.getAllDisplays().map((d) => d.workArea));
  mainWindow = createMainWindow({ indexPath: paths.index, preloadPath: paths.preload, bounds, log: warn });
  trackRenderer(mainWindow.webContents);
  rememberBounds(mainWindow);
  mainWindow.on('closed', () => {
    mainWindow = undefined;
  });
  installMenu({ open: focusMainWindow, apiUrl: () => apiUrl, devTools: !app.isPackaged });
  try {
    tray = createTray({
      iconPath: paths.icon,
      open: focusMainWindow,
      quit: () => app.quit(),
      notifications: desktop.notifications,
      setNotifications: (on) => {
        desktop.notifications = on;
        saveDesktop();
      },
    });
  } catch (err) {
    warn(`cortex: no tray icon (${(err as Error).message})`); // e.g. a desktop without a status area
  }
  const digest = new FlagDigest(notifyFlag);
  stopWatching.push(
    watchAttention({
      events: core.events, tenantId: core.tenantId,
      count: () => ({ activeSessions: core.domain.sessions.countActive(core.tenantId), openReview: core.automod.review.countOpen(core.tenantId) }),
      onCounts: (counts) => tray?.update(counts),
      onHighSeverityFlag: (a) => digest.add(a),
    }),
    () => digest.close(),
  );

  // The REST API is part of the product (scripts, bots); the window itself does not need it.
  try {
    const url = await core.listen();
    apiUrl = url;
    log(`Cortex REST API listening on ${url}  (data: ${core.config.dataDir})`);
    if (core.bootstrap.createdAdminKey) log(`Admin API key for scripts created in ${core.bootstrap.adminKeyFile}`);
  } catch (err) {
    warn(`cortex: REST API not listening (${(err as Error).message}); the console window still works over IPC`);
  }
}

async function shutdown(): Promise<number> {
  let code = 0;
  for (const stop of stopWatching.splice(0)) stop();
  tray?.destroy();
  ipc?.dispose();
  bridge?.closeAll();
  try {
    const core = cortex ?? (await starting?.catch(() => undefined));
    if (core) await withTimeout(core.close(), SHUTDOWN_TIMEOUT_MS, 'cortex.close()');
  } catch (err) {
    warn(`cortex: shutdown failed: ${(err as Error).message}`);
    code = 1;
  }
  return code;
}

function fatal(err: unknown): void {
  const message = err instanceof Error ? (err.stack ?? err.message) : String(err);
  console.error(`cortex: failed to start\n${message}`);
  if (app.isReady()) dialog.showErrorBox('Cortex Console could not start', err instanceof Error ? err.message : String(err));
  state = 'stopped';
  void shutdown().finally(() => app.exit(1));
}

function main(): void {
  if (!app.requestSingleInstanceLock()) {
    // Another instance owns the data directory; it focuses its window (second-instance).
    app.quit();
    return;
  }
  app.enableSandbox();

  app.on('second-instance', () => focusMainWindow());
  app.on('web-contents-created', (_event, contents) => hardenWebContents(contents));
  // The core lives as long as the window: closing it quits on every platform, macOS included.
  app.on('window-all-closed', () => app.quit());

  // Graceful shutdown: hold the quit once, close subscriptions and the core, then exit.
  app.on('before-quit', (event) => {
    if (state === 'stopped') return;
    event.preventDefault();
    if (state === 'stopping') return;
    state = 'stopping';
    void shutdown().then((code) => {
      state = 'stopped';
      app.exit(code);
    });
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => app.quit());

  app.whenReady().then(start).catch(fatal);
}

main();

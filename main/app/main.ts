/**
 * Electron main process: lifecycle only. Starts the Cortex core in-process, opens the
 * console window (which talks to the core over IPC, see `./ipc.ts`) and also exposes the
 * REST API on loopback for scripts. Bundled to CommonJS (`dist/main/app.cjs`), so paths
 * come from `app.getAppPath()` (project root in dev, `app.asar` when packaged), never from
 * `import.meta.url`.
 */
import { app, BrowserWindow, dialog, ipcMain, session, type WebContents } from 'electron';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { startCortex, type Cortex } from '../core/cortex.js';
import { createIpcBridge, type IpcBridge } from '../core/ipc-bridge.js';
import { registerIpc, type IpcRegistration } from './ipc.js';
import { createMainWindow, hardenSession, hardenWebContents, indexUrlOf } from './window.js';

const SHUTDOWN_TIMEOUT_MS = 10_000;

const appRoot = app.getAppPath();
const paths = {
  index: join(appRoot, 'dist', 'renderer', 'index.html'),
  preload: join(appRoot, 'dist', 'preload', 'preload.cjs'),
  renderer: join(appRoot, 'dist', 'renderer'),
};

const log = (message: string): void => console.log(message);
const warn = (message: string): void => console.warn(message);

let cortex: Cortex | undefined;
let starting: Promise<Cortex> | undefined;
let bridge: IpcBridge | undefined;
let ipc: IpcRegistration | undefined;
let mainWindow: BrowserWindow | undefined;
let state: 'running' | 'stopping' | 'stopped' = 'running';

function focusMainWindow(): void {
  if (!mainWindow || mainWindow.isDestroyed()) return;
  if (mainWindow.isMinimized()) mainWindow.restore();
  mainWindow.show();
  mainWindow.focus();
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
    onError: (err, context) => warn(`cortex ipc: ${context}: ${(err as Error)?.message ?? String(err)}`),
  });
  const indexUrl = indexUrlOf(paths.index);
  ipc = registerIpc({
    ipcMain,
    bridge,
    trusted: () => (mainWindow && !mainWindow.isDestroyed() ? { webContents: mainWindow.webContents, indexUrl } : null),
    log: warn,
  });

  mainWindow = createMainWindow({ indexPath: paths.index, preloadPath: paths.preload, log: warn });
  trackRenderer(mainWindow.webContents);
  mainWindow.on('closed', () => {
    mainWindow = undefined;
  });

  // The REST API is part of the product (scripts, bots); the window itself does not need it.
  try {
    const url = await core.listen();
    log(`Cortex REST API listening on ${url}  (data: ${core.config.dataDir})`);
    if (core.bootstrap.createdAdminKey) log(`Admin API key for scripts created in ${core.bootstrap.adminKeyFile}`);
  } catch (err) {
    warn(`cortex: REST API not listening (${(err as Error).message}); the console window still works over IPC`);
  }
}

async function shutdown(): Promise<number> {
  let code = 0;
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

  app.on('second-instance', focusMainWindow);
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

/**
 * Registers the renderer-facing IPC handlers on `ipcMain` and enforces who may use them.
 *
 * Sender validation (every message, every channel): the message must come from the app's
 * own window (`event.sender` is that window's `webContents`), from its top frame, and that
 * frame must currently show the app's `file://…/dist/renderer/index.html` (query and
 * fragment ignored, so hash routing is fine). Anything else — a subframe, a window that
 * navigated elsewhere, a destroyed frame (`senderFrame === null`), another webContents —
 * is dropped: invokes reject with a generic error, sends are ignored, and a warning is logged.
 *
 * Only structural Electron types are used here so the module can be unit-tested with fakes;
 * the real `ipcMain` and `WebContents` satisfy them.
 */
import { IPC, IPC_ECHO, type IpcEchoMessage, type IpcEchoStart } from '../../common/ipc.js';
import type { DomainEvent } from '../../common/events.js';
import type { EchoId, IpcBridge, SubscriptionId } from '../core/ipc-bridge.js';

export interface FrameLike {
  readonly url: string;
  /** `null` for the top frame. */
  readonly parent: unknown;
}

export interface WebContentsLike {
  send(channel: string, ...args: unknown[]): void;
  isDestroyed(): boolean;
}

export interface IpcEventLike {
  readonly sender: WebContentsLike;
  /** Electron: `null` once the frame navigated or was destroyed. */
  readonly senderFrame: FrameLike | null;
}

type Listener = (event: IpcEventLike, ...args: unknown[]) => unknown;

export interface IpcMainLike {
  handle(channel: string, listener: Listener): void;
  removeHandler(channel: string): void;
  on(channel: string, listener: Listener): unknown;
  removeListener(channel: string, listener: Listener): unknown;
}

export interface TrustedWindow {
  webContents: WebContentsLike;
  /** `file://` URL of the renderer entry the window was loaded with. */
  indexUrl: string;
}

export interface IpcRegistrationOptions {
  ipcMain: IpcMainLike;
  bridge: IpcBridge;
  /** The window allowed to talk to the bridge right now, or null (none / closing). */
  trusted: () => TrustedWindow | null;
  log?: (message: string) => void;
  platform?: NodeJS.Platform;
}

export interface IpcRegistration {
  /** Drops every subscription and topic echo owned by `sender` (window closed, reloaded, crashed). */
  release(sender: WebContentsLike): void;
  /** Removes the handlers and drops all subscriptions made through them. */
  dispose(): void;
}

/** The message sent on `IPC.event`. */
export interface IpcEventMessage {
  subscriptionId: SubscriptionId;
  event: DomainEvent;
}

function normalizedFileUrl(url: string, platform: NodeJS.Platform): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  if (parsed.protocol !== 'file:') return null;
  let path: string;
  try {
    path = decodeURIComponent(parsed.pathname);
  } catch {
    return null;
  }
  // Windows paths are case-insensitive and Chromium may spell the drive letter differently.
  if (platform === 'win32') path = path.toLowerCase();
  return `${parsed.host}|${path}`;
}

/** Whether an IPC message comes from the trusted window's top frame showing the app page. */
export function isTrustedSender(event: IpcEventLike, trusted: TrustedWindow | null, platform: NodeJS.Platform = process.platform): boolean {
  if (!trusted) return false;
  if (event.sender !== trusted.webContents || trusted.webContents.isDestroyed()) return false;
  const frame = event.senderFrame;
  if (!frame || frame.parent !== null) return false;
  const actual = normalizedFileUrl(frame.url, platform);
  return actual !== null && actual === normalizedFileUrl(trusted.indexUrl, platform);
}

export function registerIpc(options: IpcRegistrationOptions): IpcRegistration {
  const { ipcMain, bridge } = options;
  const log = options.log ?? ((m: string) => console.warn(m));
  const platform = options.platform ?? process.platform;
  const owned = new Map<WebContentsLike, Set<SubscriptionId>>();
  const ownedEchoes = new Map<WebContentsLike, Set<EchoId>>();
  /** Bumped by `release`: an echo that finishes starting after its page went away is closed at once. */
  const epochs = new WeakMap<WebContentsLike, number>();
  let disposed = false;

  function check(event: IpcEventLike, channel: string): boolean {
    if (isTrustedSender(event, options.trusted(), platform)) return true;
    log(`cortex: dropped ${channel} from an untrusted sender (${event.senderFrame?.url ?? 'no frame'})`);
    return false;
  }

  const onRequest: Listener = (event, req) => {
    if (!check(event, IPC.request)) throw new Error('IPC request refused');
    return options.bridge.handleRequest(req);
  };

  const onRequestBinary: Listener = (event, req) => {
    if (!check(event, IPC.requestBinary)) throw new Error('IPC request refused');
    return options.bridge.handleBinaryRequest(req);
  };

  const onSubscribe: Listener = (event, filter) => {
    if (!check(event, IPC.subscribe)) throw new Error('IPC subscribe refused');
    const sender = event.sender;
    const id = bridge.subscribe(filter, (domainEvent) => {
      // Throwing makes the bridge drop this subscription.
      if (sender.isDestroyed()) throw new Error('renderer is gone');
      const message: IpcEventMessage = { subscriptionId: id, event: domainEvent };
      sender.send(IPC.event, message);
    });
    let ids = owned.get(sender);
    if (!ids) owned.set(sender, (ids = new Set()));
    ids.add(id);
    return id;
  };

  const onUnsubscribe: Listener = (event, id) => {
    if (!check(event, IPC.unsubscribe)) return;
    if (typeof id !== 'number') return;
    // A renderer may only cancel its own subscriptions.
    const ids = owned.get(event.sender);
    if (!ids?.delete(id)) return;
    bridge.unsubscribe(id);
  };

  const onEchoStart: Listener = async (event, req): Promise<IpcEchoStart> => {
    if (!check(event, IPC_ECHO.start)) throw new Error('IPC echo refused');
    const sender = event.sender;
    const epoch = epochs.get(sender) ?? 0;
    const result = await bridge.echo(req, (echoId, frame) => {
      // Throwing makes the bridge close this echo.
      if (sender.isDestroyed()) throw new Error('renderer is gone');
      const message: IpcEchoMessage = { echoId, frame };
      sender.send(IPC_ECHO.frame, message);
    });
    if (result.id === null) return result;
    if (disposed || sender.isDestroyed() || (epochs.get(sender) ?? 0) !== epoch) {
      // The page went away (or the handlers were removed) while the echo was starting.
      bridge.stopEcho(result.id);
      throw new Error('IPC echo refused');
    }
    let ids = ownedEchoes.get(sender);
    if (!ids) ownedEchoes.set(sender, (ids = new Set()));
    ids.add(result.id);
    return result;
  };

  const onEchoStop: Listener = (event, id) => {
    if (!check(event, IPC_ECHO.stop)) return;
    if (typeof id !== 'number') return;
    // A renderer may only stop its own echoes.
    const ids = ownedEchoes.get(event.sender);
    if (!ids?.delete(id)) return;
    bridge.stopEcho(id);
  };

  ipcMain.handle(IPC.request, onRequest);
  ipcMain.handle(IPC.requestBinary, onRequestBinary);
  ipcMain.handle(IPC.subscribe, onSubscribe);
  ipcMain.on(IPC.unsubscribe, onUnsubscribe);
  ipcMain.handle(IPC_ECHO.start, onEchoStart);
  ipcMain.on(IPC_ECHO.stop, onEchoStop);

  function release(sender: WebContentsLike): void {
    epochs.set(sender, (epochs.get(sender) ?? 0) + 1);
    const echoIds = ownedEchoes.get(sender);
    ownedEchoes.delete(sender);
    for (const id of echoIds ?? []) bridge.stopEcho(id);
    const ids = owned.get(sender);
    if (!ids) return;
    owned.delete(sender);
    for (const id of ids) bridge.unsubscribe(id);
  }

  function dispose(): void {
    if (disposed) return;
    disposed = true;
    ipcMain.removeHandler(IPC.request);
    ipcMain.removeHandler(IPC.requestBinary);
    ipcMain.removeHandler(IPC.subscribe);
    ipcMain.removeListener(IPC.unsubscribe, onUnsubscribe);
    ipcMain.removeHandler(IPC_ECHO.start);
    ipcMain.removeListener(IPC_ECHO.stop, onEchoStop);
    for (const sender of new Set([...owned.keys(), ...ownedEchoes.keys()])) release(sender);
  }

  return { release, dispose };
}

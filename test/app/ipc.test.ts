/**
 * main/app/ipc.ts with fake ipcMain / webContents (no Electron binary needed): sender
 * validation, per-sender subscription ownership, cleanup; plus the bridge's behaviour
 * against a fake inject (errors, timeouts, upstream lifecycle).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { DomainEvent } from '../../common/events.js';
import { IPC, IPC_ECHO, type IpcBinaryResponse, type IpcEchoStart, type IpcResponse } from '../../common/ipc.js';
import type { EchoHandlers } from '../../main/bus/echo.js';
import type { EchoHost } from '../../main/core/topic-echo.js';
import { isTrustedSender, registerIpc, type FrameLike, type IpcEventLike, type IpcMainLike, type WebContentsLike } from '../../main/app/ipc.js';
import { createIpcBridge, type BridgeInjectRequest, type IpcBridgeDeps } from '../../main/core/ipc-bridge.js';

const INDEX_URL = 'file:///opt/Cortex%20Console/resources/app.asar/dist/renderer/index.html';

class FakeContents implements WebContentsLike {
  destroyed = false;
  sent: { channel: string; args: unknown[] }[] = [];
  send(channel: string, ...args: unknown[]): void {
    if (this.destroyed) throw new Error('Object has been destroyed');
    this.sent.push({ channel, args });
  }
  isDestroyed(): boolean {
    return this.destroyed;
  }
}

type Listener = (event: IpcEventLike, ...args: unknown[]) => unknown;

class FakeIpcMain implements IpcMainLike {
  handlers = new Map<string, Listener>();
  listeners = new Map<string, Listener>();
  handle(channel: string, listener: Listener): void {
    assert.ok(!this.handlers.has(channel), `second handler for ${channel}`);
    this.handlers.set(channel, listener);
  }
  removeHandler(channel: string): void {
    this.handlers.delete(channel);
  }
  on(channel: string, listener: Listener): void {
    this.listeners.set(channel, listener);
  }
  removeListener(channel: string, listener: Listener): void {
    if (this.listeners.get(channel) === listener) this.listeners.delete(channel);
  }
  /** Mimics ipcMain.handle: a throwing handler rejects the renderer's invoke. */
  async invoke(channel: string, event: IpcEventLike, ...args: unknown[]): Promise<unknown> {
    const h = this.handlers.get(channel);
    if (!h) throw new Error(`No handler registered for '${channel}'`);
    return h(event, ...args);
  }
  emit(channel: string, event: IpcEventLike, ...args: unknown[]): void {
    this.listeners.get(channel)?.(event, ...args);
  }
}

function frame(url: string, parent: unknown = null): FrameLike {
  return { url, parent };
}

function fakeEvents() {
  const listeners = new Set<(e: DomainEvent) => void>();
  let seq = 0;
  return {
    listeners,
    subscribe(listener: (e: DomainEvent) => void) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    emit(type: DomainEvent['type'], over: Partial<DomainEvent> = {}): DomainEvent {
      const e: DomainEvent = {
        id: `e${++seq}`,
        seq,
        type,
        source: 'api',
        tenantId: 'local',
        projectId: 'default',
        resourceId: 'session:x',
        timestamp: new Date().toISOString(),
        payload: { action: 'created', data: {} },
        ...over,
      };
      for (const l of listeners) l(e);
      return e;
    },
  };
}

function setup(deps: Partial<IpcBridgeDeps> = {}) {
  const events = fakeEvents();
  const injected: BridgeInjectRequest[] = [];
  const bridge = createIpcBridge({
    inject: async (req) => {
      injected.push(req);
      return { statusCode: 200, body: JSON.stringify({ ok: true, url: req.url }) };
    },
    subscribeEvents: (l) => events.subscribe(l),
    consoleKey: 'test-key',
    ...deps,
  });
  const ipcMain = new FakeIpcMain();
  const win = new FakeContents();
  const logs: string[] = [];
  let trusted: { webContents: WebContentsLike; indexUrl: string } | null = { webContents: win, indexUrl: INDEX_URL };
  const reg = registerIpc({ ipcMain, bridge, trusted: () => trusted, log: (m) => logs.push(m), platform: 'linux' });
  const good: IpcEventLike = { sender: win, senderFrame: frame(INDEX_URL) };
  return { events, injected, bridge, ipcMain, win, logs, reg, good, setTrusted: (t: typeof trusted) => (trusted = t) };
}

describe('isTrustedSender', () => {
  const win = new FakeContents();
  const trusted = { webContents: win, indexUrl: INDEX_URL };

  test('accepts the window top frame on the app page, with any hash or query', () => {
    assert.ok(isTrustedSender({ sender: win, senderFrame: frame(INDEX_URL) }, trusted, 'linux'));
    assert.ok(isTrustedSender({ sender: win, senderFrame: frame(`${INDEX_URL}#/sessions/1`) }, trusted, 'linux'));
    assert.ok(isTrustedSender({ sender: win, senderFrame: frame(`${INDEX_URL}?x=1`) }, trusted, 'linux'));
    // same path, different percent-encoding
    assert.ok(isTrustedSender({ sender: win, senderFrame: frame(INDEX_URL.replace('%20', ' ')) }, trusted, 'linux'));
  });

  test('rejects other webContents, subframes, missing frames and other pages', () => {
    assert.ok(!isTrustedSender({ sender: new FakeContents(), senderFrame: frame(INDEX_URL) }, trusted, 'linux'));
    assert.ok(!isTrustedSender({ sender: win, senderFrame: frame(INDEX_URL, {}) }, trusted, 'linux'));
    assert.ok(!isTrustedSender({ sender: win, senderFrame: null }, trusted, 'linux'));
    assert.ok(!isTrustedSender({ sender: win, senderFrame: frame('https://evil.example/index.html') }, trusted, 'linux'));
    assert.ok(!isTrustedSender({ sender: win, senderFrame: frame('file:///tmp/index.html') }, trusted, 'linux'));
    assert.ok(!isTrustedSender({ sender: win, senderFrame: frame(INDEX_URL.replace('index.html', 'other.html')) }, trusted, 'linux'));
    assert.ok(!isTrustedSender({ sender: win, senderFrame: frame('not a url') }, trusted, 'linux'));
    assert.ok(!isTrustedSender({ sender: win, senderFrame: frame(INDEX_URL) }, null, 'linux'));
  });

  test('rejects a destroyed window', () => {
    const dead = new FakeContents();
    dead.destroyed = true;
    assert.ok(!isTrustedSender({ sender: dead, senderFrame: frame(INDEX_URL) }, { webContents: dead, indexUrl: INDEX_URL }, 'linux'));
  });

  test('compares Windows paths case-insensitively', () => {
    const t = { webContents: win, indexUrl: 'file:///C:/Program%20Files/Cortex/resources/app.asar/dist/renderer/index.html' };
    const lower = { sender: win, senderFrame: frame('file:///c:/program%20files/cortex/resources/app.asar/dist/renderer/index.html') };
    assert.ok(isTrustedSender(lower, t, 'win32'));
    assert.ok(!isTrustedSender(lower, t, 'linux'));
  });
});

describe('registerIpc', () => {
  test('forwards trusted requests to the bridge with the console key', async () => {
    const { ipcMain, good, injected } = setup();
    const res = (await ipcMain.invoke(IPC.request, good, { method: 'GET', path: '/api/health' })) as IpcResponse;
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { ok: true, url: '/api/health' });
    assert.equal(injected[0]?.headers['x-api-key'], 'test-key');
  });

  test('refuses untrusted senders on every channel', async () => {
    const { ipcMain, win, injected, logs, bridge } = setup();
    const bad: IpcEventLike = { sender: win, senderFrame: frame('https://evil.example/') };
    await assert.rejects(ipcMain.invoke(IPC.request, bad, { method: 'GET', path: '/api/health' }), /refused/);
    await assert.rejects(ipcMain.invoke(IPC.subscribe, bad, {}), /refused/);
    await assert.rejects(ipcMain.invoke(IPC.requestBinary, bad, { path: '/api/health' }), /refused/);
    const other: IpcEventLike = { sender: new FakeContents(), senderFrame: frame(INDEX_URL) };
    await assert.rejects(ipcMain.invoke(IPC.request, other, { method: 'GET', path: '/api/health' }), /refused/);
    await assert.rejects(ipcMain.invoke(IPC.requestBinary, other, { path: '/api/health' }), /refused/);
    assert.equal(injected.length, 0);
    assert.equal(bridge.size, 0);
    assert.equal(logs.length, 5);
  });

  test('forwards trusted binary requests as a GET with the console key and answers the bytes', async () => {
    const wav = Buffer.from('RIFF....WAVE');
    const injected: BridgeInjectRequest[] = [];
    const { ipcMain, good } = setup({
      inject: async (req) => (injected.push(req), { statusCode: 200, body: wav.toString('latin1'), rawPayload: wav, headers: { 'content-type': 'audio/wav' } }),
    });
    const res = (await ipcMain.invoke(IPC.requestBinary, good, { path: '/api/projects/default/sessions/s/messages/m/audio' })) as IpcBinaryResponse;
    assert.equal(res.status, 200);
    assert.equal(res.contentType, 'audio/wav');
    assert.deepEqual(Buffer.from(res.bytes ?? []), wav);
    assert.deepEqual(injected[0], { method: 'GET', url: '/api/projects/default/sessions/s/messages/m/audio', headers: { 'x-api-key': 'test-key', accept: '*/*' } });
    const bad = (await ipcMain.invoke(IPC.requestBinary, good, { path: '/elsewhere' })) as IpcBinaryResponse;
    assert.equal(bad.status, 400);
    assert.equal(injected.length, 1);
  });

  test('refuses everything once no window is trusted (closing)', async () => {
    const { ipcMain, good, setTrusted } = setup();
    setTrusted(null);
    await assert.rejects(ipcMain.invoke(IPC.request, good, { method: 'GET', path: '/api/health' }), /refused/);
  });

  test('subscribe → events on IPC.event with the id; unsubscribe stops them', async () => {
    const { ipcMain, good, win, events, bridge } = setup();
    const id = await ipcMain.invoke(IPC.subscribe, good, { types: ['session.*'] });
    assert.equal(typeof id, 'number');
    const e1 = events.emit('session.created');
    events.emit('message.created');
    assert.deepEqual(win.sent, [{ channel: IPC.event, args: [{ subscriptionId: id, event: e1 }] }]);

    ipcMain.emit(IPC.unsubscribe, good, id);
    assert.equal(bridge.size, 0);
    events.emit('session.updated');
    assert.equal(win.sent.length, 1);
  });

  test('an invalid filter rejects the invoke', async () => {
    const { ipcMain, good } = setup();
    await assert.rejects(ipcMain.invoke(IPC.subscribe, good, { types: ['nope.*'] }), /filter\/types/);
    await assert.rejects(ipcMain.invoke(IPC.subscribe, good, 'x'), /filter/);
  });

  test('a sender cannot cancel subscriptions it does not own', async () => {
    const { ipcMain, good, bridge, setTrusted } = setup();
    const id = await ipcMain.invoke(IPC.subscribe, good, {});
    const otherWin = new FakeContents();
    setTrusted({ webContents: otherWin, indexUrl: INDEX_URL });
    ipcMain.emit(IPC.unsubscribe, { sender: otherWin, senderFrame: frame(INDEX_URL) }, id);
    assert.equal(bridge.size, 1);
  });

  test('release(sender) and a destroyed window drop subscriptions', async () => {
    const { ipcMain, good, win, bridge, reg, events } = setup();
    await ipcMain.invoke(IPC.subscribe, good, {});
    await ipcMain.invoke(IPC.subscribe, good, {});
    assert.equal(bridge.size, 2);
    reg.release(win);
    assert.equal(bridge.size, 0);

    await ipcMain.invoke(IPC.subscribe, good, {});
    win.destroyed = true;
    events.emit('session.created'); // send fails → bridge drops it
    assert.equal(bridge.size, 0);
    assert.equal(events.listeners.size, 0, 'upstream listener removed with the last subscription');
  });

  test('dispose removes handlers and subscriptions', async () => {
    const { ipcMain, good, bridge, reg } = setup();
    await ipcMain.invoke(IPC.subscribe, good, {});
    reg.dispose();
    assert.equal(bridge.size, 0);
    assert.equal(ipcMain.handlers.size, 0);
    assert.equal(ipcMain.listeners.size, 0);
    reg.dispose(); // idempotent
  });
});

describe('bridge with a fake inject', () => {
  test('an inject that throws answers 500 and reports the error', async () => {
    const errors: string[] = [];
    const bridge = createIpcBridge({
      inject: async () => {
        throw new Error('boom');
      },
      subscribeEvents: () => () => undefined,
      consoleKey: 'k',
      onError: (_err, ctx) => errors.push(ctx),
    });
    const res = await bridge.handleRequest({ method: 'GET', path: '/api/health' });
    assert.equal(res.status, 500);
    assert.equal((res.body as { code: string }).code, 'internal');
    assert.equal(errors.length, 1);
  });

  test('a hanging inject answers 504 after the timeout', async () => {
    const bridge = createIpcBridge({
      inject: () => new Promise(() => undefined),
      subscribeEvents: () => () => undefined,
      consoleKey: 'k',
      requestTimeoutMs: 20,
    });
    // The bridge's timeout timer is unref'd (it must not keep the app alive), so hold the
    // event loop open while the request hangs.
    const keepAlive = setTimeout(() => undefined, 5_000);
    try {
      const res = await bridge.handleRequest({ method: 'GET', path: '/api/health' });
      assert.equal(res.status, 504);
    } finally {
      clearTimeout(keepAlive);
    }
  });

  test('empty bodies become null, non-JSON bodies stay text', async () => {
    const bodies = ['', 'openapi: 3.0.0'];
    const bridge = createIpcBridge({
      inject: async () => ({ statusCode: 200, body: bodies.shift() ?? '' }),
      subscribeEvents: () => () => undefined,
      consoleKey: 'k',
    });
    assert.deepEqual(await bridge.handleRequest({ method: 'DELETE', path: '/api/x/1' }), { status: 200, body: null });
    assert.deepEqual(await bridge.handleRequest({ method: 'GET', path: '/api/openapi.yaml' }), { status: 200, body: 'openapi: 3.0.0' });
  });

  test('sends lowercase methods upper-cased, JSON bodies with a content type, never renderer headers', async () => {
    const seen: BridgeInjectRequest[] = [];
    const bridge = createIpcBridge({
      inject: async (req) => (seen.push(req), { statusCode: 201, body: '{}' }),
      subscribeEvents: () => () => undefined,
      consoleKey: 'k',
    });
    await bridge.handleRequest({ method: 'post', path: '/api/sessions', body: { title: 't' }, headers: { 'x-api-key': 'evil' } });
    assert.equal(seen[0]?.method, 'POST');
    assert.equal(seen[0]?.payload, '{"title":"t"}');
    assert.deepEqual(seen[0]?.headers, { 'x-api-key': 'k', accept: 'application/json', 'content-type': 'application/json' });
  });

  test('closeAll drops everything and the upstream listener', () => {
    const events = fakeEvents();
    const bridge = createIpcBridge({ inject: async () => ({ statusCode: 200, body: '' }), subscribeEvents: (l) => events.subscribe(l), consoleKey: 'k' });
    bridge.subscribe({}, () => undefined);
    bridge.subscribe({ projectId: 'p' }, () => undefined);
    assert.equal(events.listeners.size, 1, 'one upstream listener for all subscriptions');
    bridge.closeAll();
    assert.equal(bridge.size, 0);
    assert.equal(events.listeners.size, 0);
  });

  test('filters by tenant and project', () => {
    const events = fakeEvents();
    const bridge = createIpcBridge({ inject: async () => ({ statusCode: 200, body: '' }), subscribeEvents: (l) => events.subscribe(l), consoleKey: 'k' });
    const all: number[] = [];
    const proj: number[] = [];
    bridge.subscribe({}, (e) => all.push(e.seq));
    bridge.subscribe({ projectId: 'other' }, (e) => proj.push(e.seq));
    events.emit('session.created'); // local/default
    events.emit('session.created', { tenantId: 'someone-else' });
    events.emit('session.created', { projectId: 'other' });
    assert.deepEqual(all, [1, 3]);
    assert.deepEqual(proj, [3]);
  });
});

/** A bus host whose one topic `t/echo` is fed by hand. */
function fakeBus() {
  const open = new Set<EchoHandlers>();
  const bus: EchoHost = {
    endpoint: 'ipc:///fake',
    lookup: async (name) => (name === 't/echo' ? { name, address: 'ipc:///fake/t', messageType: 'String', fingerprint: 1n, publisherNode: 'n' } : null),
    echo: (_info, handlers) => {
      open.add(handlers);
      return { ready: Promise.resolve(), close: async () => void open.delete(handlers) };
    },
  };
  return { bus, open, publish: (data: string) => open.forEach((h) => h.onMessage({ seq: '0', timestamp: new Date(0).toISOString(), value: { data } })) };
}

describe('registerIpc: topic echo', () => {
  test('echo start → frames on IPC_ECHO.frame with the id; stop ends them', async () => {
    const fb = fakeBus();
    const { ipcMain, good, win, bridge } = setup({ bus: fb.bus });
    const start = (await ipcMain.invoke(IPC_ECHO.start, good, { topic: 't/echo' })) as IpcEchoStart;
    assert.ok(start.id !== null);
    assert.deepEqual(start.ready, { topic: 't/echo', messageType: 'String', maxRate: 20 });
    fb.publish('hi');
    assert.deepEqual(win.sent, [
      { channel: IPC_ECHO.frame, args: [{ echoId: start.id, frame: { event: 'message', data: { seq: '0', timestamp: new Date(0).toISOString(), value: { data: 'hi' }, dropped: 0 } } }] },
    ]);
    ipcMain.emit(IPC_ECHO.stop, good, start.id);
    assert.equal(bridge.echoes, 0);
    await new Promise((r) => setImmediate(r));
    assert.equal(fb.open.size, 0);
    const missing = (await ipcMain.invoke(IPC_ECHO.start, good, { topic: 'nope' })) as IpcEchoStart;
    assert.ok(missing.id === null && missing.problem.status === 404);
  });

  test('refuses untrusted senders on the echo channels; a sender cannot stop echoes it does not own', async () => {
    const fb = fakeBus();
    const { ipcMain, good, win, bridge, logs, setTrusted } = setup({ bus: fb.bus });
    const bad: IpcEventLike = { sender: win, senderFrame: frame('https://evil.example/') };
    await assert.rejects(ipcMain.invoke(IPC_ECHO.start, bad, { topic: 't/echo' }), /refused/);
    await assert.rejects(ipcMain.invoke(IPC_ECHO.start, { sender: win, senderFrame: null }, { topic: 't/echo' }), /refused/);
    await assert.rejects(ipcMain.invoke(IPC_ECHO.start, { sender: new FakeContents(), senderFrame: frame(INDEX_URL) }, { topic: 't/echo' }), /refused/);
    assert.equal(bridge.echoes, 0);
    assert.equal(fb.open.size, 0);
    assert.equal(logs.length, 3);

    const start = (await ipcMain.invoke(IPC_ECHO.start, good, { topic: 't/echo' })) as IpcEchoStart;
    ipcMain.emit(IPC_ECHO.stop, bad, start.id);
    assert.equal(bridge.echoes, 1, 'an untrusted stop is ignored');
    const otherWin = new FakeContents();
    setTrusted({ webContents: otherWin, indexUrl: INDEX_URL });
    ipcMain.emit(IPC_ECHO.stop, { sender: otherWin, senderFrame: frame(INDEX_URL) }, start.id);
    assert.equal(bridge.echoes, 1, 'another window cannot stop it');
  });

  test('release, a destroyed window and dispose close echoes; an echo started as the page goes away is closed', async () => {
    const fb = fakeBus();
    const { ipcMain, good, win, bridge, reg } = setup({ bus: fb.bus });
    await ipcMain.invoke(IPC_ECHO.start, good, { topic: 't/echo' });
    await ipcMain.invoke(IPC_ECHO.start, good, { topic: 't/echo' });
    assert.equal(bridge.echoes, 2);
    reg.release(win);
    assert.equal(bridge.echoes, 0);

    // released while the lookup is in flight
    const pending = ipcMain.invoke(IPC_ECHO.start, good, { topic: 't/echo' });
    reg.release(win);
    await assert.rejects(pending, /refused/);
    assert.equal(bridge.echoes, 0);

    await ipcMain.invoke(IPC_ECHO.start, good, { topic: 't/echo' });
    win.destroyed = true;
    fb.publish('x'); // send fails → the bridge closes it
    assert.equal(bridge.echoes, 0);
    win.destroyed = false;

    await ipcMain.invoke(IPC_ECHO.start, good, { topic: 't/echo' });
    reg.dispose();
    assert.equal(bridge.echoes, 0);
    assert.equal(ipcMain.handlers.size, 0);
    assert.equal(ipcMain.listeners.size, 0);
    await new Promise((r) => setImmediate(r));
    assert.equal(fb.open.size, 0);
  });
});

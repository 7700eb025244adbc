/**
 * The sandboxed preload bundle (built with the real build script) against a fake
 * `electron` module: what it exposes, and the subscribe/unsubscribe protocol.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { readFileSync, rmSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { DomainEvent } from '../../common/events.js';
import { IPC, IPC_ECHO, type EchoEvent } from '../../common/ipc.js';
import type { CortexBridge } from '../../renderer/src/lib/cortex-bridge.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const outDir = join(root, 'node_modules', '.cache', 'cortex-test', `preload-${process.pid}`);
const bundle = join(outDir, 'preload', 'preload.cjs');

class FakeIpcRenderer extends EventEmitter {
  invokes: { channel: string; arg: unknown; resolve: (v: unknown) => void; reject: (e: unknown) => void }[] = [];
  sends: { channel: string; args: unknown[] }[] = [];
  invoke(channel: string, arg: unknown): Promise<unknown> {
    return new Promise((resolve, reject) => this.invokes.push({ channel, arg, resolve, reject }));
  }
  send(channel: string, ...args: unknown[]): void {
    this.sends.push({ channel, args });
  }
  /** main → renderer */
  deliver(subscriptionId: number, event: DomainEvent): void {
    this.emit(IPC.event, {}, { subscriptionId, event });
  }
}

let ipcRenderer: FakeIpcRenderer;
let exposed: Record<string, unknown>;
let api: CortexBridge;

function load(): void {
  ipcRenderer = new FakeIpcRenderer();
  exposed = {};
  const fake = {
    ipcRenderer,
    contextBridge: { exposeInMainWorld: (key: string, value: unknown) => (exposed[key] = value) },
  };
  const M = Module as unknown as { _load: (r: string, p: unknown, m: boolean) => unknown };
  const orig = M._load;
  M._load = function (request, parent, isMain) {
    if ((parent as { filename?: string } | null)?.filename === bundle) {
      if (request === 'electron') return fake;
      throw new Error(`sandboxed preload may only require electron, got ${request}`);
    }
    return orig.call(this, request, parent, isMain);
  };
  try {
    const req = createRequire(import.meta.url);
    delete req.cache[bundle];
    req(bundle);
  } finally {
    M._load = orig;
  }
  api = exposed.cortex as CortexBridge;
}

const ev = (seq: number): DomainEvent => ({
  id: `e${seq}`,
  seq,
  type: 'session.created',
  source: 'api',
  tenantId: 'local',
  projectId: 'default',
  resourceId: 'session:x',
  timestamp: '2025-01-01T00:00:00.000Z',
  payload: { action: 'created', data: {} },
});

const tick = () => new Promise((r) => setImmediate(r));

before(() => {
  execFileSync(process.execPath, [join(root, 'scripts', 'build-main.mjs'), '--only', 'preload', '--outdir', outDir], { cwd: root, stdio: 'pipe' });
});
after(() => rmSync(outDir, { recursive: true, force: true }));

describe('preload', () => {
  test('is a CommonJS bundle requiring nothing but electron', () => {
    const code = readFileSync(bundle, 'utf8');
    const requires = [...code.matchAll(/require\(["']([^"']+)["']\)/g)].map((m) => m[1]);
    assert.deepEqual([...new Set(requires)], ['electron']);
  });

  test('exposes exactly window.cortex = {request, requestBinary, subscribe, echoTopic}, no ipcRenderer', () => {
    load();
    assert.deepEqual(Object.keys(exposed), ['cortex']);
    assert.deepEqual(Object.keys(api).sort(), ['echoTopic', 'request', 'requestBinary', 'subscribe']);
    assert.ok(Object.values(api).every((v) => typeof v === 'function'));
  });

  test('request invokes IPC.request with only method, path, body', async () => {
    load();
    const p = api.request({ method: 'POST', path: '/api/x', body: { a: 1 }, extra: 'dropped' } as never);
    const call = ipcRenderer.invokes[0];
    assert.equal(call?.channel, IPC.request);
    assert.deepEqual(call?.arg, { method: 'POST', path: '/api/x', body: { a: 1 } });
    call?.resolve({ status: 201, body: { ok: true } });
    assert.deepEqual(await p, { status: 201, body: { ok: true } });
  });

  test('requestBinary invokes IPC.requestBinary with only the path', async () => {
    load();
    const p = api.requestBinary({ path: '/api/x/audio', method: 'DELETE', body: 1 } as never);
    const call = ipcRenderer.invokes[0];
    assert.equal(call?.channel, IPC.requestBinary);
    assert.deepEqual(call?.arg, { path: '/api/x/audio' });
    const answer = { status: 200, contentType: 'audio/wav', bytes: new Uint8Array([1, 2]), body: null };
    call?.resolve(answer);
    assert.deepEqual(await p, answer);
  });

  test('subscribe returns an unsubscribe function synchronously and dispatches by id', async () => {
    load();
    const a: number[] = [];
    const b: number[] = [];
    const unsubA = api.subscribe({ types: ['session.*'], projectId: 'default' }, (e) => a.push(e.seq));
    const unsubB = api.subscribe({}, (e) => b.push(e.seq));
    assert.equal(typeof unsubA, 'function');
    assert.deepEqual(ipcRenderer.invokes[0]?.arg, { types: ['session.*'], projectId: 'default' });
    ipcRenderer.invokes[0]?.resolve(7);
    ipcRenderer.invokes[1]?.resolve(8);
    await tick();
    ipcRenderer.deliver(7, ev(1));
    ipcRenderer.deliver(8, ev(2));
    ipcRenderer.deliver(99, ev(3)); // unknown id: ignored
    assert.deepEqual(a, [1]);
    assert.deepEqual(b, [2]);

    (unsubA as () => void)();
    (unsubA as () => void)(); // idempotent
    assert.deepEqual(ipcRenderer.sends, [{ channel: IPC.unsubscribe, args: [7] }]);
    ipcRenderer.deliver(7, ev(4));
    assert.deepEqual(a, [1]);
    (unsubB as () => void)();
  });

  test('events that beat the subscribe reply are buffered and delivered in order', async () => {
    load();
    const seen: number[] = [];
    api.subscribe({}, (e) => seen.push(e.seq));
    ipcRenderer.deliver(3, ev(10));
    ipcRenderer.deliver(3, ev(11));
    ipcRenderer.invokes[0]?.resolve(3);
    await tick();
    ipcRenderer.deliver(3, ev(12));
    assert.deepEqual(seen, [10, 11, 12]);
  });

  test('unsubscribing before the id arrives cancels as soon as it does', async () => {
    load();
    const seen: number[] = [];
    const unsub = api.subscribe({}, (e) => seen.push(e.seq)) as () => void;
    unsub();
    assert.equal(ipcRenderer.sends.length, 0);
    ipcRenderer.invokes[0]?.resolve(5);
    await tick();
    assert.deepEqual(ipcRenderer.sends, [{ channel: IPC.unsubscribe, args: [5] }]);
    ipcRenderer.deliver(5, ev(1));
    assert.deepEqual(seen, []);
  });

  test('a failed subscribe does not throw into the page', async () => {
    load();
    const errors: unknown[] = [];
    const origError = console.error;
    console.error = (...args: unknown[]) => errors.push(args);
    try {
      const unsub = api.subscribe({ types: ['bogus'] }, () => undefined) as () => void;
      ipcRenderer.invokes[0]?.reject(new Error('invalid filter'));
      await tick();
      unsub();
      assert.equal(errors.length, 1);
      assert.equal(ipcRenderer.sends.length, 0);
    } finally {
      console.error = origError;
    }
  });

  test('a throwing listener does not break the others', async () => {
    load();
    const seen: number[] = [];
    const origError = console.error;
    console.error = () => undefined;
    try {
      api.subscribe({}, () => {
        throw new Error('listener bug');
      });
      api.subscribe({}, (e) => seen.push(e.seq));
      ipcRenderer.invokes[0]?.resolve(1);
      ipcRenderer.invokes[1]?.resolve(2);
      await tick();
      ipcRenderer.deliver(1, ev(1));
      ipcRenderer.deliver(2, ev(2));
      assert.deepEqual(seen, [2]);
    } finally {
      console.error = origError;
    }
  });

  test('echoTopic sends only the topic, reports ready then frames (early ones buffered), and stops by id', async () => {
    load();
    const seen: EchoEvent[] = [];
    const stop = api.echoTopic({ toString: () => 't/x', evil: 1 } as never, (e) => seen.push(e));
    assert.equal(typeof stop, 'function');
    const call = ipcRenderer.invokes[0];
    assert.equal(call?.channel, IPC_ECHO.start);
    assert.deepEqual(call?.arg, { topic: 't/x' });
    const frame = (n: number) => ({ event: 'message', data: { seq: String(n), timestamp: 't', value: n, dropped: 0 } });
    // a frame that beats the reply, one for another id, and junk
    ipcRenderer.emit(IPC_ECHO.frame, {}, { echoId: 4, frame: { ...frame(1), extra: 'dropped' } });
    ipcRenderer.emit(IPC_ECHO.frame, {}, { echoId: 4, frame: { event: 'bogus', data: {} } });
    ipcRenderer.emit(IPC_ECHO.frame, {}, null);
    call?.resolve({ id: 4, ready: { topic: 't/x', messageType: 'String', maxRate: 20 } });
    await tick();
    ipcRenderer.emit(IPC_ECHO.frame, {}, { echoId: 4, frame: frame(2) });
    ipcRenderer.emit(IPC_ECHO.frame, {}, { echoId: 9, frame: frame(3) });
    assert.deepEqual(seen, [{ event: 'ready', data: { topic: 't/x', messageType: 'String', maxRate: 20 } }, frame(1), frame(2)]);
    stop();
    stop(); // idempotent
    assert.deepEqual(ipcRenderer.sends, [{ channel: IPC_ECHO.stop, args: [4] }]);
    ipcRenderer.emit(IPC_ECHO.frame, {}, { echoId: 4, frame: frame(5) });
    assert.equal(seen.length, 3);
  });

  test('echoTopic: a problem answer arrives as failed; stopping before the id arrives stops it then', async () => {
    load();
    const seen: EchoEvent[] = [];
    api.echoTopic('nope', (e) => seen.push(e));
    const problem = { type: 'urn:cortex:problem:not-found', title: 'Resource not found', status: 404, code: 'not_found' };
    ipcRenderer.invokes[0]?.resolve({ id: null, problem });
    await tick();
    assert.deepEqual(seen, [{ event: 'failed', data: problem }]);

    const stop = api.echoTopic('t/x', (e) => seen.push(e));
    stop();
    ipcRenderer.invokes[1]?.resolve({ id: 6, ready: { topic: 't/x', messageType: 'String', maxRate: 20 } });
    await tick();
    assert.deepEqual(ipcRenderer.sends, [{ channel: IPC_ECHO.stop, args: [6] }]);
    assert.equal(seen.length, 1);
  });
});

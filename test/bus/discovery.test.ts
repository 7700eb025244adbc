import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { decode, encode } from '@msgpack/msgpack';
import { Reply, Request } from 'zeromq';
import { DiscoveryClient, DiscoveryTimeoutError, type TopicInfo } from '../../main/bus/discovery/client.js';
import { startDiscoveryDaemon } from '../../main/bus/discovery/daemon.js';
import { Command, encodeRequest, Status } from '../../main/bus/discovery/protocol.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
const PY = '/usr/bin/python3';
const pyOk = spawnSync(PY, ['-c', 'import zmq, msgpack'], { stdio: 'ignore' }).status === 0;

const dirs: string[] = [];
const children: ChildProcess[] = [];
after(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A fresh short temp dir (ipc paths are limited to ~107 bytes). */
function tmp(): string {
  const d = mkdtempSync('/tmp/cx-disc-');
  dirs.push(d);
  return d;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, fn: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs: number, stepMs = 50): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(stepMs);
  }
}

/** Spawns a process and collects its stdout lines. */
function run(cmd: string, args: string[]) {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_NO_WARNINGS: '1' } });
  children.push(child);
  const lines: string[] = [];
  let buf = '';
  let err = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => {
    buf += d;
    const parts = buf.split('\n');
    buf = parts.pop() ?? '';
    lines.push(...parts);
  });
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (err += d));
  return {
    child,
    lines,
    stderr: () => err,
    waitFor: (re: RegExp, timeoutMs = 8000) =>
      until(
        `${re} from ${cmd} ${args.join(' ')}`,
        () => {
          if (child.exitCode !== null) throw new Error(`${cmd} exited ${child.exitCode}: ${lines.join('\n')}\n${err}`);
          return lines.find((l) => re.test(l));
        },
        timeoutMs,
        20,
      ),
  };
}

const runTs = (fixture: string, args: string[]) => run(process.execPath, ['--import', 'tsx', join(FIXTURES, fixture), ...args]);

function info(name: string, over: Partial<TopicInfo> = {}): TopicInfo {
  return { name, address: 'tcp://*:1', messageType: 'String', fingerprint: 42n, publisherNode: 'test-node', ...over };
}

/** One raw REQ exchange with arbitrary frames; returns the decoded reply map. */
async function raw(endpoint: string, frames: Uint8Array | Uint8Array[]): Promise<Record<string, unknown>> {
  const s = new Request({ linger: 0, receiveTimeout: 2000 });
  s.connect(endpoint);
  try {
    await s.send(frames);
    const [reply] = await s.receive();
    assert.ok(reply);
    return decode(reply, { useBigInt64: true }) as Record<string, unknown>;
  } finally {
    s.close();
  }
}

test('every command round-trips, including HEARTBEAT, ALREADY_EXISTS and NOT_FOUND', async () => {
  const endpoint = `ipc://${tmp()}/d.sock`;
  const daemon = await startDiscoveryDaemon({ endpoint });
  const c = new DiscoveryClient({ endpoint });
  try {
    assert.equal(await c.ping(), true);
    const big = info('cam/image', { address: 'ipc:///nonexistent/x', fingerprint: 0xffff_ffff_ffff_fff0n, messageType: 'Image', publisherNode: 'n1' });
    const small = info('cam/count', { fingerprint: 3n, publisherNode: 'n1' });
    assert.equal(await c.register(big, { lease: true }), 'ok');
    assert.equal(await c.register(small), 'ok');
    assert.deepEqual(await c.lookup('cam/image'), big);
    assert.deepEqual(await c.lookup('cam/count'), small);
    assert.equal(await c.lookup('nope'), null);
    const names = (await c.list()).map((t) => t.name).sort();
    assert.deepEqual(names, ['cam/count', 'cam/image']);
    // Another live node cannot take the name; the same node at the same address may re-register.
    assert.equal(await c.register({ ...small, publisherNode: 'n2', address: 'tcp://*:2' }), 'exists');
    assert.equal(await c.register(small), 'ok');
    // A probed owner whose endpoint is gone is dead: its name can be taken over.
    assert.equal(await c.register(info('orphan', { address: `ipc://${endpoint.slice(6, -7)}/gone.sock`, publisherNode: 'old' })), 'ok');
    assert.equal(await c.register(info('orphan', { publisherNode: 'n2' })), 'ok');
    assert.equal((await c.lookup('orphan'))?.publisherNode, 'n2');
    assert.equal(await c.unregister('orphan'), true);
    // Heartbeat: known names renew, unknown or foreign ones are reported missing.
    assert.deepEqual(await c.heartbeat('n1', ['cam/image', 'cam/count']), []);
    assert.deepEqual(await c.heartbeat('n1', ['cam/image', 'ghost']), ['ghost']);
    assert.deepEqual(await c.heartbeat('n2', ['cam/image']), ['cam/image']);
    assert.deepEqual(
      daemon.topics().map((t) => [t.name, t.liveness]).sort(),
      [
        ['cam/count', 'lease'],
        ['cam/image', 'lease'],
      ],
    );
    assert.equal(await c.unregister('cam/count'), true);
    assert.equal(await c.unregister('cam/count'), false);
    assert.equal(await c.lookup('cam/count'), null);
    assert.deepEqual((await c.list()).map((t) => t.name), ['cam/image']);
    // Nested-bytes TopicInfo on the wire (the original's form), u64 fingerprint intact.
    const r = await raw(endpoint, encodeRequest({ command: Command.LOOKUP_TOPIC, topicName: 'cam/image' }));
    assert.ok(r.topic_info instanceof Uint8Array);
    assert.deepEqual(decode(r.topic_info, { useBigInt64: true }), {
      name: 'cam/image',
      address: 'ipc:///nonexistent/x',
      message_type: 'Image',
      fingerprint: 0xffff_ffff_ffff_fff0n,
      publisher_node: 'n1',
    });
    // A plain nested map is accepted too.
    const plain = encode({ command: 1, topic_name: 'p', topic_info: { name: 'p', address: 'tcp://*:3', message_type: 'Int', fingerprint: 5, publisher_node: 'n3' } });
    assert.equal((await raw(endpoint, plain)).status, Status.OK);
    assert.equal((await c.lookup('p'))?.publisherNode, 'n3');
  } finally {
    c.close();
    await daemon.close();
  }
  assert.equal(existsSync(endpoint.slice('ipc://'.length)), false, 'socket file removed on close');
});

test('a legacy Python client: seen intact, kept while alive, gone within 3 s of SIGKILL', { skip: !pyOk && 'no python3-zmq/msgpack for /usr/bin/python3' }, async () => {
  const dir = tmp();
  const endpoint = `ipc://${dir}/d.sock`;
  const daemon = await startDiscoveryDaemon({ endpoint });
  const c = new DiscoveryClient({ endpoint });
  try {
    const fp = (1n << 63n) + 12345n;
    const py = run(PY, [join(FIXTURES, 'discovery-legacy.py'), endpoint, 'legacy/array', `${dir}/pub.sock`, fp.toString()]);
    await py.waitFor(/^REGISTERED$/);
    assert.deepEqual(
      (await c.list()).find((t) => t.name === 'legacy/array'),
      { name: 'legacy/array', address: `ipc://${dir}/pub.sock`, messageType: 'Array', fingerprint: fp, publisherNode: 'legacy-py' },
    );
    assert.equal(daemon.topics()[0]?.liveness, 'probe');
    // It never heartbeats, yet keeps its topic (and its LOOKUP/LIST keep answering) while it lives.
    await sleep(3500);
    assert.ok(await c.lookup('legacy/array'), 'the live legacy topic survives > 3 s');
    const rounds = py.lines.filter((l) => l.startsWith('ALIVE')).length;
    assert.ok(rounds >= 10, `legacy client kept working (${rounds} rounds)`);
    assert.ok(!py.lines.some((l) => l.startsWith('FAIL')), py.lines.join('\n'));
    const killedAt = Date.now();
    py.child.kill('SIGKILL');
    await until('legacy topic dropped', async () => (await c.lookup('legacy/array')) === null, 3000);
    const ms = Date.now() - killedAt;
    console.log(`legacy topic gone ${ms} ms after SIGKILL`);
    assert.ok(ms < 3000);
  } finally {
    c.close();
    await daemon.close();
  }
});

test('a heartbeating TS publisher killed with SIGKILL loses its topics within 3 s (lease)', async () => {
  const dir = tmp();
  const endpoint = `ipc://${dir}/d.sock`;
  const daemon = await startDiscoveryDaemon({ endpoint });
  const c = new DiscoveryClient({ endpoint });
  try {
    const child = runTs('discovery-child.ts', [endpoint, 'kid', `${dir}/a.sock`]);
    await child.waitFor(/^READY$/, 10_000);
    assert.deepEqual(daemon.topics().map((t) => [t.name, t.liveness]).sort(), [
      ['kid/a', 'lease'],
      ['kid/b', 'lease'],
    ]);
    assert.equal((await c.lookup('kid/a'))?.fingerprint, 0xfedcba9876543210n);
    const killedAt = Date.now();
    child.child.kill('SIGKILL');
    // Watch the table directly (no round trip): the lease goes exactly leaseMs after the
    // last heartbeat, which the crash came after.
    let lastSeen = 0;
    await until(
      'lease expiry',
      () => {
        const t = daemon.topics();
        for (const e of t) lastSeen = Math.max(lastSeen, e.lastSeen);
        return t.length === 0;
      },
      3500,
      5,
    );
    const gone = Date.now();
    console.log(`leased topics gone ${gone - killedAt} ms after SIGKILL, ${gone - lastSeen} ms after the last heartbeat`);
    assert.ok(lastSeen <= killedAt);
    assert.ok(gone - lastSeen >= 2500 && gone - lastSeen <= 2800, `lease ran ${gone - lastSeen} ms`);
    assert.ok(gone - killedAt <= 3000, `gone within 3 s of the crash (${gone - killedAt} ms)`);
    assert.deepEqual(await c.list(), []);
  } finally {
    c.close();
    await daemon.close();
  }
});

test('daemon restart: stale socket removed, the heartbeating publisher re-registers', async () => {
  const dir = tmp();
  const endpoint = `ipc://${dir}/d.sock`;
  const first = runTs('discovery-daemon.ts', [endpoint]);
  await first.waitFor(/^READY$/, 10_000);
  const child = runTs('discovery-child.ts', [endpoint, 'rr', `${dir}/a.sock`]);
  await child.waitFor(/^READY$/, 10_000);
  first.child.kill('SIGKILL');
  await until('daemon exit', () => first.child.signalCode !== null, 2000);
  assert.ok(existsSync(`${dir}/d.sock`), 'the killed daemon left its socket file behind');
  await sleep(300); // the child's heartbeats now time out
  const daemon = await startDiscoveryDaemon({ endpoint });
  const c = new DiscoveryClient({ endpoint });
  try {
    await child.waitFor(/^REREG rr\/b$/, 3000);
    const a = await until('re-registered rr/a', () => c.lookup('rr/a').then((t) => t ?? undefined), 3000);
    assert.equal(a.address, `ipc://${dir}/a.sock`);
    assert.ok(await c.lookup('rr/b'));
    assert.ok(daemon.topics().every((t) => t.liveness === 'lease'));
  } finally {
    child.child.kill('SIGKILL');
    c.close();
    await daemon.close();
  }
});

test('a second daemon on the same endpoint refuses to start while the first lives', async () => {
  const endpoint = `ipc://${tmp()}/d.sock`;
  const daemon = await startDiscoveryDaemon({ endpoint });
  const c = new DiscoveryClient({ endpoint });
  try {
    await assert.rejects(startDiscoveryDaemon({ endpoint }), /already running at ipc:\/\/.*answered PING/);
    assert.equal(await c.ping(), true, 'the first daemon still serves');
  } finally {
    c.close();
    await daemon.close();
  }
  // tcp: the port is taken.
  const tcp = await startDiscoveryDaemon({ endpoint: 'tcp://127.0.0.1:0' });
  try {
    await assert.rejects(startDiscoveryDaemon({ endpoint: tcp.endpoint }), /cannot bind/);
    const tc = new DiscoveryClient({ endpoint: tcp.endpoint });
    assert.equal(await tc.ping(), true);
    tc.close();
  } finally {
    await tcp.close();
  }
});

test('garbage gets an ERROR reply and the daemon keeps serving', async () => {
  const endpoint = `ipc://${tmp()}/d.sock`;
  const daemon = await startDiscoveryDaemon({ endpoint, logger: () => {} });
  try {
    const ping = encode({ command: Command.PING });
    const goodRegister = encodeRequest({ command: Command.REGISTER_TOPIC, topicInfo: info('t') });
    const cases: [string, Uint8Array | Uint8Array[]][] = [
      ['non-msgpack bytes', Buffer.from([0xc1, 0xc1, 0x00, 0xff])],
      ['empty frame', Buffer.alloc(0)],
      ['truncated msgpack', goodRegister.subarray(0, goodRegister.length - 5)],
      ['trailing bytes', Buffer.concat([ping, Buffer.from([0x01])])],
      ['a msgpack int', encode(42)],
      ['a msgpack list', encode([5])],
      ['a map without command', encode({ topic_name: 'x' })],
      ['unknown command', encode({ command: 99 })],
      ['string command', encode({ command: 'PING' })],
      ['register without topic_info', encode({ command: 1, topic_name: 'x' })],
      ['register with garbage topic_info bytes', encode({ command: 1, topic_info: Buffer.from('garbage') })],
      ['register with a string fingerprint', encode({ command: 1, topic_info: encode({ name: 'x', address: 'a', message_type: 'm', fingerprint: 'f', publisher_node: 'n' }) })],
      ['lookup without name', encode({ command: 3 })],
      ['heartbeat with non-list topics', encode({ command: 6, topic_name: 'n', topics: 'a' })],
      ['multi-frame', [ping, ping]],
    ];
    for (const [what, frames] of cases) {
      const r = await raw(endpoint, frames);
      assert.equal(r.status, Status.ERROR, what);
      assert.equal(typeof r.message, 'string', what);
    }
    const c = new DiscoveryClient({ endpoint });
    assert.equal(await c.ping(), true);
    assert.equal(await c.register(info('t')), 'ok');
    c.close();
  } finally {
    await daemon.close();
  }
});

test('a client whose call timed out recovers its REQ socket', async () => {
  const dir = tmp();
  // 1. Nothing listens at the endpoint.
  const endpoint = `ipc://${dir}/d.sock`;
  const c = new DiscoveryClient({ endpoint, timeoutMs: 300 });
  try {
    let t0 = Date.now();
    await assert.rejects(c.lookup('x'), DiscoveryTimeoutError);
    assert.ok(Date.now() - t0 < 450, `rejected after ${Date.now() - t0} ms`);
    t0 = Date.now();
    // Queued calls share the wait; ping() answers false instead of rejecting.
    const [p1, p2] = await Promise.allSettled([c.list(), c.ping()]);
    assert.equal(p1.status, 'rejected');
    assert.deepEqual(p2, { status: 'fulfilled', value: false });
    assert.ok(Date.now() - t0 < 450);
    const daemon = await startDiscoveryDaemon({ endpoint });
    try {
      assert.equal(await c.lookup('x'), null);
      assert.equal(await c.ping(), true);
    } finally {
      await daemon.close();
    }
  } finally {
    c.close();
  }
  // 2. A REP that takes the request and never answers.
  const endpoint2 = `ipc://${dir}/mute.sock`;
  const mute = new Reply({ linger: 0 });
  await mute.bind(endpoint2);
  const swallowed = mute.receive();
  const c2 = new DiscoveryClient({ endpoint: endpoint2, timeoutMs: 300 });
  try {
    await assert.rejects(c2.list(), /did not answer within 300 ms/);
    await swallowed;
    mute.close();
    // The mute process "died": a daemon takes over its (stale) path.
    const daemon = await startDiscoveryDaemon({ endpoint: endpoint2 });
    try {
      assert.deepEqual(await c2.list(), []);
    } finally {
      await daemon.close();
    }
  } finally {
    c2.close();
  }
});

test('against an original daemon (ERROR to HEARTBEAT) the client falls back to no-heartbeat mode', async () => {
  const endpoint = `ipc://${tmp()}/old.sock`;
  const old = new Reply({ linger: 0 });
  await old.bind(endpoint);
  const seen: number[] = [];
  const serving = (async () => {
    for (;;) {
      let frames: Buffer[];
      try {
        frames = await old.receive();
      } catch {
        return;
      }
      const req = decode(frames[0] ?? new Uint8Array()) as { command: number };
      seen.push(req.command);
      const known = req.command >= 1 && req.command <= 5;
      await old.send(encode(known ? { status: Status.OK, message: 'ok' } : { status: Status.ERROR, message: `Unknown command: ${req.command}` }));
    }
  })();
  const c = new DiscoveryClient({ endpoint });
  try {
    assert.equal(c.heartbeatSupported, true);
    assert.deepEqual(await c.heartbeat('n', ['a']), []);
    assert.equal(c.heartbeatSupported, false);
    assert.deepEqual(await c.heartbeat('n', ['a']), []);
    assert.equal(await c.ping(), true);
    assert.deepEqual(seen, [Command.HEARTBEAT, Command.PING], 'no second heartbeat was sent');
  } finally {
    c.close();
    old.close();
    await serving;
  }
});

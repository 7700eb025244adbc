// Pub/sub between real processes: a discovery daemon in this process, a publisher child
// (fixtures/publisher.ts), subscribers here.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Publisher as ZmqPublisher } from 'zeromq';
import { DiscoveryClient } from '../../main/bus/discovery/client.js';
import { startDiscoveryDaemon } from '../../main/bus/discovery/daemon.js';
import { Node, topicSocketPath, type SubscriberError } from '../../main/bus/node.js';
import { ArrayType, IntType, StringType, type MessageType, type NdArray } from '../../main/bus/types.js';
import { encodeFrames, isTypedArray } from '../../main/bus/wire.js';
import { BIG_N, SAMPLES } from './fixtures/samples.js';

const dir = mkdtempSync('/tmp/cx-bus-');
const endpoint = `ipc://${dir}/d.sock`;
const runtimeDir = join(dir, 'topics');
const logs: string[] = [];
const logger = { info: (m: string) => logs.push(m), warn: (m: string) => logs.push(m), error: (m: string) => logs.push(m) };

let daemon: Awaited<ReturnType<typeof startDiscoveryDaemon>>;
let child: ChildProcess;
let node: Node;

function waitFor<T>(what: string, get: () => T | undefined | null | false, timeoutMs = 5000): Promise<T> {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const tick = () => {
      const v = get();
      if (v) return resolve(v);
      if (Date.now() - t0 > timeoutMs) return reject(new Error(`timed out waiting for ${what}`));
      setTimeout(tick, 10);
    };
    tick();
  });
}

/** Arrays → {dtype ctor name, shape, values} so deepEqual compares them by content. */
function plain(v: unknown): unknown {
  if (isTypedArray(v)) return { ctor: v.constructor.name === 'Buffer' ? 'Uint8Array' : v.constructor.name, values: [...(v as Float32Array)] };
  if (v && typeof v === 'object' && 'data' in v && 'shape' in v && isTypedArray((v as NdArray).data)) {
    return { nd: plain((v as NdArray).data), shape: (v as NdArray).shape };
  }
  if (Array.isArray(v)) return v.map(plain);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  return v;
}

before(async () => {
  daemon = await startDiscoveryDaemon({ endpoint, logger: () => {} });
  child = spawn(process.execPath, ['--import', 'tsx', 'test/bus/fixtures/publisher.ts', endpoint, runtimeDir], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
    child.once('exit', (code) => reject(new Error(`publisher child exited (${code}): ${err}`)));
  });
  node = new Node({ name: 'test-sub', discoveryEndpoint: endpoint, runtimeDir, logger });
});

after(async () => {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await node?.close();
  await daemon?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('pub/sub between processes', () => {
  it('every message type arrives intact (incl. a user-defined one)', async () => {
    const got = new Map<string, unknown>();
    const subs = SAMPLES.map((s) =>
      node.subscriber(s.topic, s.type as MessageType<unknown>, (msg) => {
        if (!got.has(s.topic)) got.set(s.topic, msg);
      }),
    );
    await waitFor('all sample types', () => got.size === SAMPLES.length, 8000);
    for (const s of SAMPLES) assert.deepEqual(plain(got.get(s.topic)), plain(s.value), s.topic);
    for (const sub of subs) {
      assert.equal(sub.stats.dropped, 0, sub.topic);
      assert.equal(sub.stats.fingerprintMismatches, 0);
      await sub.close();
    }
  });

  it('4 MiB Float32 arrays arrive intact as views over the received frame', async () => {
    const seen: { ok: boolean; view: boolean }[] = [];
    const sub = node.subscriber('t/big', ArrayType, (msg) => {
      const a = msg.data as Float32Array;
      let ok = a instanceof Float32Array && a.length === BIG_N;
      for (let i = 0; ok && i < BIG_N; i += 997) ok = a[i] === (i % 1000) * 0.25 - 100;
      ok &&= a[BIG_N - 1] === ((BIG_N - 1) % 1000) * 0.25 - 100;
      // A view: the ArrayBuffer is the frame's, exactly the array's size (not a fresh copy we made).
      seen.push({ ok, view: a.buffer.byteLength === a.byteLength });
    });
    await waitFor('3 big arrays', () => seen.length >= 3, 8000);
    assert.ok(seen.every((s) => s.ok));
    assert.ok(seen.every((s) => s.view));
    assert.equal(sub.stats.alignmentCopies, 0);
    assert.equal(sub.stats.dropped, 0);
    await sub.close();
  });

  it('sequence gaps are detected and counted', async () => {
    const seqs: bigint[] = [];
    const sub = node.subscriber('t/gaps', IntType, (msg, header) => {
      assert.equal(BigInt(msg.data as number), header.sequence);
      seqs.push(header.sequence);
    });
    await waitFor('30 messages', () => seqs.length >= 30, 8000);
    await sub.close();
    assert.ok(sub.stats.gaps >= 2, `gaps ${sub.stats.gaps}`);
    assert.equal(sub.stats.missed, sub.stats.gaps * 3);
    assert.equal(sub.stats.received, seqs.length);
  });

  it('fingerprint mismatch is reported per topic and the message is not delivered', async () => {
    const errors: SubscriberError[] = [];
    let delivered = 0;
    const sub = node.subscriber(
      't/String',
      IntType,
      () => {
        delivered++;
      },
      { onError: (e) => errors.push(e) },
    );
    await waitFor('mismatches', () => sub.stats.fingerprintMismatches >= 3, 5000);
    await sub.close();
    assert.equal(delivered, 0);
    assert.equal(sub.stats.received, 0);
    const fpErrors = errors.filter((e) => e.kind === 'fingerprint_mismatch');
    // once at lookup (registered type differs) and once for the first mismatching message
    assert.ok(fpErrors.length >= 1);
    assert.ok(fpErrors.every((e) => e.topic === 't/String' && e.fingerprint === StringType.fingerprint));
    assert.ok(logs.some((l) => l.includes('t/String') && l.includes('fingerprint')), 'clear log line');
  });

  it('malformed frames from a raw PUB are dropped and counted; the subscriber keeps working', async () => {
    const topic = 'raw/topic';
    const path = topicSocketPath(runtimeDir, topic);
    const raw = new ZmqPublisher({ linger: 0 });
    await raw.bind(`ipc://${path}`);
    const reg = new DiscoveryClient({ endpoint });
    assert.equal(
      await reg.register({ name: topic, address: `ipc://${path}`, messageType: 'Array', fingerprint: ArrayType.fingerprint, publisherNode: 'raw' }),
      'ok',
    );
    const errors: SubscriberError[] = [];
    const good: number[] = [];
    const sub = node.subscriber(topic, ArrayType, (m) => void good.push(Number(m.frameId)), {
      onError: (e) => errors.push(e),
      maxMessageBytes: 64 * 1024,
    });
    await sub.ready;
    const t = Buffer.from(topic);
    const valid = (id: number) => encodeFrames(topic, ArrayType, { data: Float32Array.of(1, 2), name: 'ok', frameId: id }, BigInt(id), 0n);
    const v = valid(0);
    const bad: Buffer[][] = [
      [t],
      [t, v[1]!],
      [t, Buffer.alloc(10), v[2]!, v[3]!],
      [t, v[1]!, Buffer.from([0xc1, 0xc1]), v[3]!],
      [t, v[1]!, v[2]!], // descriptor without its buffer
      [t, v[1]!, v[2]!, Buffer.alloc(12)], // lying shape
      [t, v[1]!, v[2]!, v[3]!, Buffer.alloc(4)], // extra frame
      [t, v[1]!, v[2]!, Buffer.alloc(100 * 1024)], // oversized
      [Buffer.from(`${topic}/longer`), v[1]!, v[2]!, v[3]!], // prefix match of another topic: ignored, not counted
    ];
    // The SUB connects asynchronously: send valid messages until one arrives.
    let id = 1;
    while (good.length === 0) {
      await raw.send(valid(id++));
      await new Promise((r) => setTimeout(r, 10));
    }
    const before = sub.stats.dropped;
    for (const frames of bad) {
      await raw.send(frames);
      await raw.send(valid(id++));
    }
    const last = id - 1;
    await waitFor('last valid message', () => good.includes(last), 3000);
    assert.equal(sub.stats.dropped - before, bad.length - 1);
    assert.equal(sub.stats.dropsByReason.oversized, 1);
    assert.equal(sub.stats.dropsByReason.too_few_frames, 2);
    assert.ok((sub.stats.dropsByReason.size_mismatch ?? 0) >= 1);
    assert.ok(errors.length >= bad.length - 1);
    assert.ok(logs.some((l) => l.includes('dropped message (bad_header)')), 'clear log line');
    await sub.close();
    raw.close();
    await reg.unregister(topic);
    reg.close();
  });

  it('daemon restart: the publisher re-registers and a subscriber keeps receiving', async () => {
    let n = 0;
    const sub = node.subscriber('t/Int', IntType, () => void n++);
    await waitFor('first message', () => n > 0);
    await daemon.close();
    daemon = await startDiscoveryDaemon({ endpoint, logger: () => {} });
    assert.equal(daemon.topics().length, 0);
    const t0 = Date.now();
    await waitFor('re-registration', () => daemon.topics().some((e) => e.name === 't/Int'), 4000);
    const ms = Date.now() - t0;
    assert.ok(ms < 2500, `re-registered after ${ms} ms`);
    const before = n;
    await waitFor('messages after the restart', () => n > before + 5);
    await sub.close();
  });

  it('publisher killed with SIGKILL: its topics leave discovery within the lease', async () => {
    const t0 = Date.now();
    child.kill('SIGKILL');
    await waitFor(
      'topic removal',
      () => !daemon.topics().some((e) => e.name.startsWith('t/')),
      5000,
    );
    const elapsed = Date.now() - t0;
    assert.ok(elapsed < 4000, `took ${elapsed} ms`);
    assert.ok(existsSync(runtimeDir));
  });
});

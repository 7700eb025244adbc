// Interop with a Python peer (Debian's /usr/bin/python3 with python3-zmq and python3-msgpack)
// that speaks the wire format from its own code (fixtures/interop.py).
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startDiscoveryDaemon } from '../../main/bus/discovery/daemon.js';
import { fingerprintHex } from '../../main/bus/fingerprint.js';
import { Node } from '../../main/bus/node.js';
import { ArrayType } from '../../main/bus/types.js';

const PY = '/usr/bin/python3';
const probe = spawnSync(PY, ['-c', 'import zmq, msgpack'], { encoding: 'utf8' });
const skip = probe.status !== 0 ? `needs ${PY} with zmq and msgpack (python3-zmq, python3-msgpack): ${probe.error?.message ?? probe.stderr.trim()}` : false;
const SCRIPT = 'test/bus/fixtures/interop.py';

const dir = mkdtempSync('/tmp/cx-py-');
const endpoint = `ipc://${dir}/d.sock`;
const runtimeDir = join(dir, 'topics');
let daemon: Awaited<ReturnType<typeof startDiscoveryDaemon>> | undefined;
let node: Node;

before(async () => {
  if (skip) return;
  daemon = await startDiscoveryDaemon({ endpoint, logger: () => {} });
  node = new Node({ name: 'ts-interop', discoveryEndpoint: endpoint, runtimeDir, logger: { info() {}, warn() {}, error() {} } });
});

after(async () => {
  await node?.close();
  await daemon?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('python interop', { skip }, () => {
  it('a Python publisher (registered via the original discovery protocol) → TS subscriber', async () => {
    const address = `ipc://${dir}/py-array.sock`;
    const py = spawn(PY, [SCRIPT, 'pub', address, 'py/array', endpoint], { stdio: ['pipe', 'pipe', 'pipe'] });
    let err = '';
    py.stderr.on('data', (d: Buffer) => (err += d.toString()));
    try {
      const info = await node.waitForTopic('py/array', 5000).catch((e: Error) => {
        throw new Error(`${e.message}; python stderr: ${err}`);
      });
      assert.equal(info.address, address);
      assert.equal(info.fingerprint, ArrayType.fingerprint, 'Python computes the same fingerprint');
      const msg = await new Promise<{ data: unknown; name: string; frameId: number | bigint }>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`no message from python; stderr: ${err}`)), 8000);
        const sub = node.subscriber('py/array', ArrayType, (m) => {
          clearTimeout(t);
          void sub.close();
          resolve(m);
        });
      });
      assert.ok(msg.data instanceof Float32Array);
      const a = msg.data;
      assert.equal(a.length, 1000);
      for (let i = 0; i < 1000; i++) assert.equal(a[i], i * 0.5 - 10);
      assert.equal(msg.name, 'from-python');
      assert.equal(msg.frameId, 42);
    } finally {
      py.stdin.end();
      py.kill();
    }
  });

  it('a TS publisher → Python subscriber', async () => {
    const pub = await node.publisher('ts/array', ArrayType);
    const values = Float32Array.from({ length: 257 }, (_, i) => i / 4 - 3);
    const py = spawn(PY, [SCRIPT, 'sub', pub.address, 'ts/array'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    py.stdout.on('data', (d: Buffer) => (out += d.toString()));
    py.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setInterval(() => pub.publish({ data: values, name: 'from-ts', frameId: 7 }), 20);
    const code = await new Promise<number | null>((resolve) => py.once('exit', resolve));
    clearInterval(timer);
    assert.equal(code, 0, `python failed: ${err}`);
    const got = JSON.parse(out.trim().split('\n').pop()!) as Record<string, unknown>;
    assert.equal(got.frames, 4);
    assert.equal(got.topic, 'ts/array');
    assert.equal(got.fingerprint, fingerprintHex(ArrayType.fingerprint));
    assert.equal(got.fingerprintOk, true);
    assert.equal(got.name, 'from-ts');
    assert.equal(got.frameId, 7);
    assert.deepEqual(got.descriptor, { __cortex_oob__: 'numpy', buffer: 0, dtype: '<f4', shape: [257] });
    assert.equal(got.nbytes, 257 * 4);
    assert.deepEqual(got.values, [...values]);
    const ts = BigInt(got.timestampNs as string);
    assert.ok(ts > BigInt(Date.now() - 60_000) * 1_000_000n, 'timestamp is wall-clock ns');
    await pub.close();
  });
});

// Node unit behaviour in one process: timer schedule, socket-path shortening, publisher
// back-pressure accounting, waitForTopic, close() cleanup.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startDiscoveryDaemon } from '../../main/bus/discovery/daemon.js';
import { MAX_IPC_PATH_BYTES, Node, topicSocketPath } from '../../main/bus/node.js';
import { IntType, StringType } from '../../main/bus/types.js';

const dir = mkdtempSync('/tmp/cx-node-');
const endpoint = `ipc://${dir}/d.sock`;
const runtimeDir = join(dir, 'topics');
const logs: string[] = [];
const logger = { info: (m: string) => logs.push(m), warn: (m: string) => logs.push(m), error: (m: string) => logs.push(m) };
let daemon: Awaited<ReturnType<typeof startDiscoveryDaemon>>;

before(async () => {
  daemon = await startDiscoveryDaemon({ endpoint, logger: () => {} });
});
after(async () => {
  await daemon.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('topicSocketPath', () => {
  it('keeps safe names, disambiguates sanitized ones, shortens long ones by hash', () => {
    assert.equal(topicSocketPath('/tmp/cortex/topics', 'camera.front'), '/tmp/cortex/topics/camera.front.sock');
    const a = topicSocketPath('/tmp/cortex/topics', 'a/b');
    const b = topicSocketPath('/tmp/cortex/topics', 'a_b');
    assert.notEqual(a, b);
    assert.match(a, /^\/tmp\/cortex\/topics\/a_b-[0-9a-f]{8}\.sock$/);
    const long = 'rooms/' + 'r'.repeat(40) + '/peers/' + 'p'.repeat(40) + '/audio';
    const p = topicSocketPath('/tmp/cortex/topics', long);
    assert.ok(Buffer.byteLength(p) <= MAX_IPC_PATH_BYTES, p);
    assert.match(p, /-[0-9a-f]{16}\.sock$/);
    assert.notEqual(p, topicSocketPath('/tmp/cortex/topics', long + 'x'));
    assert.throws(() => topicSocketPath('/' + 'd'.repeat(120), 't'));
  });
});

describe('Node', () => {
  it('timer: drift-free schedule, overruns skip ticks instead of bunching', async () => {
    const node = new Node({ discoveryEndpoint: endpoint, runtimeDir, logger });
    const times: number[] = [];
    const t = node.timer(100, (tick) => {
      times.push(tick.scheduledAt);
      if (tick.index === 5) {
        const end = performance.now() + 35; // overrun by ~3 periods
        while (performance.now() < end);
      }
    });
    await new Promise((r) => setTimeout(r, 300));
    t.stop();
    // (bounds allow for a loaded machine adding its own event-loop lag)
    assert.ok(t.stats.overruns >= 1);
    assert.ok(t.stats.skipped >= 2, `skipped ${t.stats.skipped}`);
    // deadlines are exact multiples of the period from the start (no accumulated drift)
    const d = times.map((x) => x - times[0]!);
    for (const x of d) assert.ok(Math.abs(x / 10 - Math.round(x / 10)) < 1e-6);
    // no bunching: consecutive deadlines are ≥ one period apart
    for (let i = 1; i < times.length; i++) assert.ok(times[i]! - times[i - 1]! >= 10 - 1e-6);
    assert.ok(t.stats.ticks >= 10 && t.stats.ticks <= 30, `ticks ${t.stats.ticks}`);
    await node.close();
  });

  it('publisher: back-pressure drops the oldest queued messages and counts them', async () => {
    const node = new Node({ discoveryEndpoint: endpoint, runtimeDir, logger });
    const pub = await node.publisher('np/queue', IntType, { queueSize: 2 });
    for (let i = 0; i < 10; i++) pub.publish({ data: i }); // first goes out, the rest queue behind it
    assert.equal(pub.stats.published, 10);
    assert.equal(pub.stats.dropped, 7);
    assert.equal(pub.queued, 2);
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(pub.stats.sent, 3);
    assert.equal(pub.queued, 0);
    assert.ok(logs.some((l) => l.includes('np/queue') && l.includes('dropped oldest')));
    assert.throws(() => pub.publish({ data: 1.5 }), /expected int/);
    await node.close();
  });

  it('waitForTopic, duplicate publishers, close() unregisters and removes the socket file', async () => {
    const a = new Node({ name: 'node-a', discoveryEndpoint: endpoint, runtimeDir, logger });
    const b = new Node({ name: 'node-b', discoveryEndpoint: endpoint, runtimeDir, logger });
    const pub = await a.publisher('np/x', StringType);
    assert.ok(existsSync(pub.path));
    const info = await b.waitForTopic('np/x', 2000);
    assert.equal(info.publisherNode, 'node-a');
    assert.equal(info.address, pub.address);
    assert.equal(info.fingerprint, StringType.fingerprint);
    await assert.rejects(a.publisher('np/x', StringType), /already publishes/);
    await assert.rejects(b.publisher('np/x', StringType), /live process/);
    await assert.rejects(b.waitForTopic('np/none', 150), /timed out/);
    await a.close();
    assert.ok(!existsSync(pub.path));
    assert.equal(await b.discovery.lookup('np/x'), null);
    await b.close();
  });
});

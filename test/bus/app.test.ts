import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { startCortex, type Cortex } from '../../main/core/cortex.js';
import { CortexEvent, EVENTS_TOPIC, type CortexEventMessage } from '../../main/bus/host.js';
import { Node } from '../../main/bus/node.js';
import { StringType } from '../../main/bus/types.js';

const run = promisify(execFile);
const CLI = fileURLToPath(new URL('../../dist/main/cli.js', import.meta.url));
// Short paths: ipc:// socket paths are limited to ~103 bytes.
const dir = mkdtempSync('/tmp/cxb-');
const endpoint = `ipc://${dir}/d.sock`;
let cortex: Cortex;
let url: string;

before(async () => {
  cortex = await startCortex({
    dataDir: mkdtempSync(join(tmpdir(), 'cx-busapp-')), port: 0, logLevel: 'silent',
    busEndpoint: endpoint, busRuntimeDir: join(dir, 't'),
  });
  url = await cortex.listen();
});
after(async () => {
  await cortex.close();
  rmSync(dir, { recursive: true, force: true });
});

const api = async (method: string, path: string, body?: unknown) => {
  const res = await fetch(url + path, {
    method,
    headers: { 'x-api-key': cortex.consoleKey, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
};

test('the core runs the discovery daemon and mirrors committed events onto cortex/events', async () => {
  assert.ok(cortex.bus, 'the data plane started');
  assert.equal(cortex.bus.ownsDaemon, true);
  const node = new Node({ name: 'test-listener', discoveryEndpoint: endpoint, runtimeDir: join(dir, 'l') });
  try {
    const got: CortexEventMessage[] = [];
    const sub = node.subscriber(EVENTS_TOPIC, CortexEvent, (msg) => {
      got.push(msg);
    });
    await sub.ready;
    await new Promise((r) => setTimeout(r, 200)); // PUB/SUB: let the subscription reach the publisher
    const created = await api('POST', '/api/projects/default/sessions', { title: 'on the bus' });
    assert.equal(created.status, 201);
    const deadline = Date.now() + 3000;
    while (!got.some((e) => e.type === 'session.created') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const event = got.find((e) => e.type === 'session.created');
    assert.ok(event, 'session.created arrived on cortex/events');
    assert.equal(event.resourceId, `session:${created.json.id as string}`);
    assert.equal((event.payload as { data: { title: string } }).data.title, 'on the bus');
    const logged = cortex.events.read({ tenantId: 'local', afterSeq: 0, limit: 100 }).find((e) => e.id === event.id);
    assert.equal(Number(event.seq), logged?.seq, 'same seq as in the log');
  } finally {
    await node.close();
  }
});

test('GET /api/topics lists registered topics with publisher, type, fingerprint and activity', async () => {
  const node = new Node({ name: 'test-publisher', discoveryEndpoint: endpoint, runtimeDir: join(dir, 'p') });
  try {
    const pub = await node.publisher('sensors/temp', StringType, { queueSize: 10 });
    const first = await api('GET', '/api/topics');
    assert.equal(first.status, 200);
    assert.equal(first.json.enabled, true);
    const items = first.json.items as { name: string; publisherNode: string; messageType: string; fingerprint: string; rate: number | null }[];
    const events = items.find((t) => t.name === EVENTS_TOPIC);
    assert.ok(events && events.messageType === 'CortexEvent' && events.publisherNode.startsWith('cortex-console-'));
    assert.equal(events.fingerprint, CortexEvent.fingerprint.toString());
    assert.ok(items.some((t) => t.name === 'sensors/temp' && t.publisherNode === 'test-publisher'));
    // Activity is measured while someone looks: publish for a while, then look again.
    const timer = setInterval(() => pub.publish({ data: 'x' }), 20);
    await new Promise((r) => setTimeout(r, 1500));
    clearInterval(timer);
    const second = await api('GET', '/api/topics');
    const temp = (second.json.items as { name: string; rate: number | null; lastMessageAt: string | null }[]).find((t) => t.name === 'sensors/temp');
    assert.ok(temp && temp.rate !== null && temp.rate > 10 && temp.rate < 100, `rate ${temp?.rate}`);
    assert.ok(temp.lastMessageAt && Date.now() - Date.parse(temp.lastMessageAt) < 2000);
  } finally {
    await node.close();
  }
});

test('cortex topic list / pub / echo against the running daemon', async () => {
  const env = { ...process.env, CORTEX_BUS_ENDPOINT: endpoint };
  const listed = await run(process.execPath, [CLI, 'topic', 'list'], { env });
  assert.match(listed.stdout, /^cortex\/events\tCortexEvent\tcortex-console-\d+\t/m);
  const info = await run(process.execPath, [CLI, 'topic', 'info', EVENTS_TOPIC], { env });
  assert.match(info.stdout, /"messageType":"CortexEvent"/);
  assert.match(info.stdout, /"fields":\[\["id","str"\]/);

  // echo a topic that a CLI `pub` then publishes to.
  const echo = execFile(process.execPath, [CLI, 'topic', 'echo', 'cli/hello'], { env });
  let echoed = '';
  echo.stdout!.on('data', (c: Buffer) => (echoed += c.toString()));
  const node = new Node({ name: 'test-cli-topic', discoveryEndpoint: endpoint, runtimeDir: join(dir, 'c') });
  const pub = await node.publisher('cli/hello', StringType, { queueSize: 10 });
  try {
    await new Promise((r) => setTimeout(r, 800)); // echo looks the topic up and connects
    pub.publish({ data: 'hello from the test' });
    const deadline = Date.now() + 3000;
    while (!echoed.includes('hello from the test') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.match(echoed, /\[\d+\] \{"data":"hello from the test"\}/);
  } finally {
    echo.kill('SIGINT');
    await node.close();
  }
  await assert.rejects(run(process.execPath, [CLI, 'topic', 'info', 'no/such/topic'], { env }), /not registered/);
});

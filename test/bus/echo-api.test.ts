/**
 * `GET /api/topics/{topic}/echo`: a real ZeroMQ publisher in this process, the console's bus
 * host on a private discovery endpoint, and the SSE stream read with common/sse.ts.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { SseParser, type SseMessage } from '../../common/sse.js';
import { echoJson, RateCap } from '../../main/bus/echo.js';
import { Node } from '../../main/bus/node.js';
import { AudioFrameType, defineMessageType, IntType, StringType } from '../../main/bus/types.js';
import { startCortex, type Cortex } from '../../main/core/cortex.js';
import { assertProblem, request, startServer, until, type J } from '../api/helpers.js';

// Short paths: ipc:// socket paths are limited to ~103 bytes.
const dir = mkdtempSync('/tmp/cxe-');
const endpoint = `ipc://${dir}/d.sock`;
let cortex: Cortex;
let url: string;
let node: Node;

before(async () => {
  cortex = await startCortex({
    dataDir: mkdtempSync(join(tmpdir(), 'cx-echo-')), port: 0, logLevel: 'silent',
    busEndpoint: endpoint, busRuntimeDir: join(dir, 't'),
  });
  url = await cortex.listen();
  node = new Node({ name: 'test-echo-pub', discoveryEndpoint: endpoint, runtimeDir: join(dir, 'p') });
});
after(async () => {
  await node.close();
  await cortex.close();
  rmSync(dir, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** An open echo stream: its parsed messages so far, and a way to disconnect. */
async function openEcho(topic: string) {
  const ac = new AbortController();
  const res = await fetch(`${url}/api/topics/${encodeURIComponent(topic)}/echo`, { headers: { 'x-api-key': cortex.consoleKey }, signal: ac.signal });
  assert.equal(res.status, 200, await (res.ok ? Promise.resolve('') : res.text()));
  assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
  const messages: (SseMessage & { json: J; at: number })[] = [];
  const parser = new SseParser((m) => messages.push({ ...m, json: JSON.parse(m.data), at: performance.now() }));
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  const pump = (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        parser.push(value);
      }
    } catch {
      // aborted
    }
  })();
  await until(() => messages.some((m) => m.event === 'ready'), 'the echo stream to be ready');
  await sleep(150); // PUB/SUB: let the subscription reach the publisher
  return {
    messages,
    data: () => messages.filter((m) => m.event === 'message').map((m) => m.json),
    async close() {
      ac.abort();
      await pump;
    },
  };
}

test('echo streams typed messages decoded to JSON (bigints as strings, arrays summarized)', async () => {
  const text = await node.publisher('echo/text', StringType, { queueSize: 10 });
  const big = await node.publisher('echo/big', IntType, { queueSize: 10 });
  const audio = await node.publisher('rooms/r1/peers/p1/audio', AudioFrameType, { queueSize: 10 });
  const s1 = await openEcho('echo/text');
  const s2 = await openEcho('echo/big');
  const s3 = await openEcho('rooms/r1/peers/p1/audio');
  try {
    assert.deepEqual(s1.messages[0]!.json, { topic: 'echo/text', messageType: 'String', maxRate: 20 });
    text.publish({ data: 'hello over SSE' });
    big.publish({ data: 2n ** 60n + 1n });
    const pcm = new Float32Array(960).map((_, i) => i / 960);
    audio.publish({ pcm, sampleRate: 48000, channels: 1, peerId: 'p1', roomId: 'r1' });
    const m1 = await until(() => s1.data()[0], 'the string message');
    assert.equal(m1.value.data, 'hello over SSE');
    assert.equal(m1.seq, '0');
    assert.equal(m1.dropped, 0);
    assert.ok(Math.abs(Date.parse(m1.timestamp) - Date.now()) < 5000);
    const m2 = await until(() => s2.data()[0], 'the int message');
    assert.equal(m2.value.data, (2n ** 60n + 1n).toString());
    const m3 = await until(() => s3.data()[0], 'the audio frame');
    assert.deepEqual(m3.value.pcm, { bytes: 3840, preview: Buffer.from(pcm.buffer, 0, 32).toString('base64'), type: 'Float32Array', length: 960 });
    assert.equal(m3.value.sampleRate, 48000);
    assert.equal(m3.value.peerId, 'p1');
    assert.ok(s3.messages.find((m) => m.event === 'message')!.data.length < 400, 'an audio frame is a short summary');
  } finally {
    await Promise.all([s1.close(), s2.close(), s3.close()]);
    await Promise.all([text.close(), big.close(), audio.close()]);
  }
});

test('a topic of a type the server does not know is echoed as its raw field values', async () => {
  const Custom = defineMessageType('EchoCustom', [['label', 'str'], ['samples', 'array']] as const);
  const pub = await node.publisher('echo/custom', Custom, { queueSize: 10 });
  const s = await openEcho('echo/custom');
  try {
    pub.publish({ label: 'x', samples: new Int16Array([1, 2, 3]) });
    const m = await until(() => s.data()[0], 'the custom message');
    assert.equal(m.raw, true);
    assert.equal(m.buffers, 1);
    assert.equal(m.value[0], 'x');
  } finally {
    await s.close();
    await pub.close();
  }
});

test('the stream sends at most 20 messages/s and reports what it dropped; a disconnect frees the subscriber', async () => {
  const pub = await node.publisher('echo/fast', IntType, { queueSize: 1000 });
  const base = cortex.bus!.echoes;
  const s = await openEcho('echo/fast');
  try {
    assert.equal(cortex.bus!.echoes, base + 1);
    for (let i = 0; i < 200; i++) pub.publish({ data: i });
    await sleep(1200);
    pub.publish({ data: 200 }); // a second later: sent, carrying the count of the dropped ones
    const last = await until(() => s.data()[20], 'the message after the burst');
    await sleep(300);
    const got = s.data();
    assert.equal(got.length, 21, `sent ${got.length}`);
    assert.deepEqual(got.slice(0, 20).map((m) => m.value.data), [...Array(20).keys()], 'the first 20 of the burst');
    assert.equal(last.value.data, 200);
    assert.equal(got.reduce((n: number, m: J) => n + m.dropped, 0) + got.length, 201, 'every message is sent or counted as dropped');
    assert.equal(got[20].dropped, 180);
    // No sliding second holds more than 20 messages.
    const times = s.messages.filter((m) => m.event === 'message').map((m) => m.at);
    for (let i = 20; i < times.length; i++) assert.ok(times[i]! - times[i - 20]! >= 950, `21 messages within ${times[i]! - times[i - 20]!} ms`);
  } finally {
    await s.close();
  }
  await until(() => cortex.bus!.echoes === base, 'the echo subscriber to close after the disconnect');
  await pub.close();
});

test('unknown topic → 404, data plane off → 409, and the key needs the topics scope', async () => {
  const r = await request(url, cortex.consoleKey, 'GET', `/api/topics/${encodeURIComponent('no/such/topic')}/echo`, {});
  assertProblem(r, 404, 'params/topic', 'unknown topic');
  assert.match(r.json.detail, /No topic "no\/such\/topic" is registered/);

  const key = cortex.domain.tenancy.createKey('local', { name: 'no-topics', scopes: ['sessions'], projectId: null }).key;
  assertProblem(await request(url, key, 'GET', `/api/topics/${encodeURIComponent('cortex/events')}/echo`, {}), 403, undefined, 'scope');

  const off = await startServer({ busEndpoint: null });
  try {
    const r2 = await off.api('GET', `/api/topics/${encodeURIComponent('cortex/events')}/echo`);
    assertProblem(r2, 409, undefined, 'data plane off');
    assert.match(r2.json.detail, /data plane is off/);
  } finally {
    await off.close();
  }
});

test('echoJson and RateCap', () => {
  assert.deepEqual(echoJson({ a: 1n, b: new Uint8Array([1, 2, 3]), c: [{ d: -5n }], e: Buffer.from('hi') }), {
    a: '1', b: { bytes: 3, preview: 'AQID' }, c: [{ d: '-5' }], e: { bytes: 2, preview: 'aGk=' },
  });
  let t = 0;
  const cap = new RateCap(2, () => t);
  assert.equal(cap.take(), 0);
  assert.equal(cap.take(), 0);
  assert.equal(cap.take(), null);
  assert.equal(cap.take(), null);
  t = 999;
  assert.equal(cap.take(), null);
  t = 1000;
  assert.equal(cap.take(), 3);
  assert.equal(cap.totalDropped, 3);
});

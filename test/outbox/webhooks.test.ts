/**
 * Webhook subscriptions and delivery against real HTTP receivers on 127.0.0.1. Signatures are
 * checked with the npm `standardwebhooks` package (someone else's implementation).
 */
import assert from 'node:assert/strict';
import { freePort } from '../support/ports.js';
import { after, before, describe, test } from 'node:test';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { assertProblem, eventsSince, lastSeq, P, startServer, until, type J, type Server } from '../api/helpers.js';
import { startReceiver, type Receiver } from '../support/webhook-receiver.js';

const SCHEDULE = [0, 300, 600, 1200, 1200];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));


let s: Server;
let rcv: Receiver;
let session: string;

before(async () => {
  s = await startServer({ webhookRetryScheduleMs: SCHEDULE, webhookBreakerThreshold: 100 });
  rcv = await startReceiver();
  session = (await s.api('POST', `${P}/sessions`, { body: { title: 'hooks' } })).json.id;
});
after(async () => {
  await s.close();
  await rcv.stop();
});

async function createHook(body: Record<string, unknown>): Promise<J> {
  const r = await s.api('POST', `${P}/webhooks`, { body: { events: ['message.created'], ...body } });
  assert.equal(r.status, 201, r.text);
  return r.json;
}

async function postMessage(text: string): Promise<J> {
  const r = await s.api('POST', `${P}/sessions/${session}/messages`, { body: { content: text } });
  assert.equal(r.status, 201, r.text);
  return r.json;
}

async function deliveries(hookId: string, status?: string): Promise<J[]> {
  const r = await s.api('GET', `${P}/webhooks/${hookId}/deliveries?limit=500${status ? `&status=${status}` : ''}`);
  assert.equal(r.status, 200, r.text);
  return r.json.items;
}

async function delivery(hookId: string, id: string): Promise<J> {
  const r = await s.api('GET', `${P}/webhooks/${hookId}/deliveries/${id}`);
  assert.equal(r.status, 200, r.text);
  return r.json;
}

/** A fresh receiver per test, so counts never mix. */
const freshReceiver = (): Promise<Receiver> => startReceiver();

describe('subscriptions API', () => {
  test('create shows the secret once; reads mask it and every credential', async () => {
    const hook = await createHook({
      url: rcv.url, description: 'game server', authType: 'api_key', apiKey: 'k-1234567890abcdef', customHeaders: { 'X-Tenant': 'abc' },
    });
    assert.match(hook.secret, /^whsec_[A-Za-z0-9+/]{43}=$/, 'whsec_ + base64 of 32 random bytes');
    assert.equal(Buffer.from(hook.secret.slice(6), 'base64').length, 32);
    assert.equal(hook.apiKeyHeader, 'X-API-Key');
    const got = (await s.api('GET', `${P}/webhooks/${hook.id}`)).json;
    assert.equal(got.secret, undefined, 'the secret is never shown again');
    assert.equal(got.secretHint, `whsec_…${hook.secret.slice(-4)}`);
    assert.equal(got.apiKey, '****cdef');
    assert.deepEqual(got.customHeaders, { 'X-Tenant': '****' });
    const list = (await s.api('GET', `${P}/webhooks`)).json;
    assert.ok(list.items.some((w: J) => w.id === hook.id && w.secret === undefined));
    // Events about the subscription never carry secrets either.
    const events = await eventsSince(s.api, 0);
    const created = events.find((e) => e.type === 'webhook.created' && e.resourceId === `webhook:${hook.id}`);
    assert.ok(created);
    assert.ok(!JSON.stringify(created).includes(hook.secret) && !JSON.stringify(created).includes('k-1234567890abcdef'));

    const patched = await s.api('PATCH', `${P}/webhooks/${hook.id}`, { body: { description: 'renamed', events: ['sanction.*', 'message.created'] } });
    assert.equal(patched.status, 200, patched.text);
    assert.equal(patched.json.description, 'renamed');
    assert.deepEqual(patched.json.events, ['sanction.*', 'message.created']);
    assert.equal((await s.api('DELETE', `${P}/webhooks/${hook.id}`)).status, 204);
    assertProblem(await s.api('GET', `${P}/webhooks/${hook.id}`), 404, 'params/webhookId');
  });

  test('bad input → 400 problem+json naming the field', async () => {
    const bad: [Record<string, unknown>, string][] = [
      [{ url: 'ftp://example.com/x' }, 'body/url'],
      [{ url: 'not a url' }, 'body/url'],
      [{ url: 'http://user:pw@example.com/' }, 'body/url'],
      [{ url: 'javascript:alert(1)' }, 'body/url'],
      [{ events: ['nope.*'] }, 'body/events/0'],
      [{ events: ['message.created', 'message.typo'] }, 'body/events/1'],
      [{ events: [] }, 'body/events'],
      [{ customHeaders: { 'X-A': 'ok\r\nInjected: yes' } }, 'body/customHeaders/X-A'],
      [{ customHeaders: { 'X-A': 'ok\nx' } }, 'body/customHeaders/X-A'],
      [{ customHeaders: { 'Bad Name': 'v' } }, 'body/customHeaders/Bad Name'],
      [{ customHeaders: { 'webhook-signature': 'forged' } }, 'body/customHeaders/webhook-signature'],
      [{ customHeaders: { 'Content-Type': 'text/plain' } }, 'body/customHeaders/Content-Type'],
      [{ customHeaders: { 'X-1': 'a'.repeat(3000), 'X-2': 'b'.repeat(3000), 'X-3': 'c'.repeat(3000) } }, 'body/customHeaders'],
      [{ customHeaders: { 'X-1': 'a'.repeat(5000) } }, 'body/customHeaders/X-1'],
      [{ authType: 'api_key', apiKey: 'abc\r\nX-Evil: 1' }, 'body/apiKey'],
      [{ authType: 'api_key' }, 'body/apiKey'],
      [{ authType: 'api_key', apiKey: 'k', apiKeyHeader: 'Bad Header' }, 'body/apiKeyHeader'],
      [{ authType: 'basic_auth', basicAuthUsername: 'a:b', basicAuthPassword: 'p' }, 'body/basicAuthUsername'],
      [{ authType: 'basic_auth', basicAuthUsername: 'a' }, 'body/basicAuthPassword'],
      [{ authType: 'custom_headers' }, 'body/customHeaders'],
      [{ authType: 'oauth' }, 'body/authType'],
      [{ secret: 'not-a-secret' }, 'body/secret'],
      [{ unknown: 1 }, 'body/unknown'],
    ];
    for (const [body, field] of bad) {
      const r = await s.api('POST', `${P}/webhooks`, { body: { url: rcv.url, events: ['message.created'], ...body } });
      assertProblem(r, 400, field, JSON.stringify(body).slice(0, 80));
    }
    const hook = await createHook({ url: rcv.url });
    assertProblem(await s.api('PATCH', `${P}/webhooks/${hook.id}`, { body: { url: 'gopher://x' } }), 400, 'body/url');
    assertProblem(await s.api('PATCH', `${P}/webhooks/${hook.id}`, { body: {} }), 400);
    assertProblem(await s.api('PATCH', `${P}/webhooks/${hook.id}`, { body: { customHeaders: { 'X-A': 'a\u0000b' } } }), 400, 'body/customHeaders/X-A');
    // Nothing was half-applied.
    assert.equal((await s.api('GET', `${P}/webhooks/${hook.id}`)).json.url, rcv.url);
    await s.api('DELETE', `${P}/webhooks/${hook.id}`);
  });

  test('private targets can be blocked by a setting', async () => {
    const strict = await startServer({ webhookBlockPrivateTargets: true });
    try {
      for (const url of ['http://127.0.0.1:9/x', 'http://localhost/x', 'http://10.1.2.3/', 'http://[::1]:80/', 'http://192.168.0.1/', 'http://169.254.169.254/latest']) {
        const r = await strict.api('POST', `${P}/webhooks`, { body: { url, events: ['*'] } });
        assertProblem(r, 400, 'body/url', url);
      }
      const ok = await strict.api('POST', `${P}/webhooks`, { body: { url: 'https://hooks.example.com/cortex', events: ['*'] } });
      assert.equal(ok.status, 201, ok.text);
    } finally {
      await strict.close();
    }
  });
});

describe('delivery', () => {
  test('signed (verified by standardwebhooks), with the configured auth, only matching events after creation', async () => {
    const r = await freshReceiver();
    await postMessage('before the subscription');
    const hook = await createHook({ url: r.url, authType: 'basic_auth', basicAuthUsername: 'game', basicAuthPassword: 's3cret' });
    const hook2 = await createHook({ url: r.url, events: ['session.*'], authType: 'custom_headers', customHeaders: { 'X-Token': 't-1' } });
    const m = await postMessage('hello');
    await r.waitFor(1);
    await sleep(200);
    assert.equal(r.received.length, 1, 'one message.created, nothing for the session.* subscription, nothing from before');
    const got = r.received[0]!;
    const body = JSON.parse(got.body);
    assert.equal(body.type, 'message.created');
    assert.equal(body.payload.data.id, m.id);
    assert.equal(got.headers['webhook-id'], body.id, 'webhook-id is the event id');
    assert.equal(got.headers['content-type'], 'application/json');
    assert.equal(got.headers.authorization, 'Basic ' + Buffer.from('game:s3cret').toString('base64'));
    assert.doesNotThrow(() => new StandardWebhook(hook.secret).verify(got.body, got.headers as Record<string, string>));
    assert.throws(() => new StandardWebhook(hook2.secret).verify(got.body, got.headers as Record<string, string>), 'another secret does not verify');
    const tampered = got.body.replace('hello', 'HELLO');
    assert.throws(() => new StandardWebhook(hook.secret).verify(tampered, got.headers as Record<string, string>));

    await s.api('POST', `${P}/sessions/${session}/stop`);
    await r.waitFor(2);
    assert.equal(r.received[1]!.headers['x-token'], 't-1');
    assert.match(JSON.parse(r.received[1]!.body).type, /^session\./);
    const [d] = await until(async () => {
      const all = await deliveries(hook.id);
      return all[0]?.status === 'delivered' ? all : null;
    }, 'delivered');
    assert.equal(d.attempts, 1);
    await s.api('POST', `${P}/sessions/${session}/start`);
    for (const h of [hook, hook2]) await s.api('DELETE', `${P}/webhooks/${h.id}`);
    await r.stop();
  });

  test('secret rotation: both secrets sign for the overlap, and each verifies', async () => {
    const r = await freshReceiver();
    const hook = await createHook({ url: r.url });
    const rotated = await s.api('POST', `${P}/webhooks/${hook.id}/rotate-secret`);
    assert.equal(rotated.status, 200, rotated.text);
    assert.notEqual(rotated.json.secret, hook.secret);
    assert.ok(rotated.json.rotatingUntil && Date.parse(rotated.json.rotatingUntil) > Date.now() + 23 * 3600_000);
    await postMessage('after rotation');
    await r.waitFor(1);
    const got = r.received[0]!;
    const sigs = String(got.headers['webhook-signature']).split(' ');
    assert.equal(sigs.length, 2, 'new and old signature, space-separated');
    assert.doesNotThrow(() => new StandardWebhook(rotated.json.secret).verify(got.body, got.headers as Record<string, string>));
    assert.doesNotThrow(() => new StandardWebhook(hook.secret).verify(got.body, got.headers as Record<string, string>));
    await s.api('DELETE', `${P}/webhooks/${hook.id}`);
    await r.stop();
  });

  test('receiver down for a while, then up: every event delivered, retries follow the schedule', async () => {
    const r = await freshReceiver();
    const hook = await createHook({ url: r.url });
    await r.stop();
    const sent = [];
    for (let i = 0; i < 5; i++) sent.push(await postMessage(`down ${i}`));
    // Attempts at ≈0, 300 and 900 ms fail; the receiver is back before the 4th (≈2.1 s).
    await sleep(1300);
    await r.start();
    await r.waitFor(5, 15_000);
    const ids = new Set(r.received.map((x) => JSON.parse(x.body).payload.data.id));
    for (const m of sent) assert.ok(ids.has(m.id), `message ${m.id} delivered`);
    // The result is recorded just after the receiver answers.
    const ds = await until(async () => {
      const all = await deliveries(hook.id);
      return all.length === 5 && all.every((d) => d.status === 'delivered') ? all : null;
    }, 'all five recorded as delivered');
    for (const d of ds) {
      const detail = await delivery(hook.id, d.id);
      const log = detail.attemptLog as J[];
      assert.ok(log.length >= 3, `at least 3 attempts (${log.length})`);
      assert.ok(log.slice(0, -1).every((a) => a.statusCode === null && a.error), 'failed attempts record the connection error');
      assert.equal(log.at(-1).statusCode, 200);
      // Gap before attempt k+1 is schedule[k] ± 20 % jitter (plus scheduling slack).
      for (let k = 1; k < log.length; k++) {
        const gap = Date.parse(log[k].startedAt) - Date.parse(log[k - 1].startedAt);
        const want = SCHEDULE[k]!;
        assert.ok(gap >= want * 0.8 - 5 && gap <= want * 1.2 + 400, `attempt ${k + 1}: gap ${gap} ms, schedule ${want} ms ±20 %`);
      }
    }
    await s.api('DELETE', `${P}/webhooks/${hook.id}`);
    await r.stop();
  });

  test('exhausted after the last attempt: event, attempt log with status and the first 4 KB; redeliver succeeds with the same webhook-id', async () => {
    const r = await freshReceiver();
    r.reply = () => ({ status: 500, body: 'x'.repeat(10_000) });
    const hook = await createHook({ url: r.url });
    const seq = await lastSeq(s.api);
    await postMessage('doomed');
    const [d] = await until(async () => {
      const ds = await deliveries(hook.id, 'exhausted');
      return ds.length ? ds : null;
    }, 'exhaustion', 15_000);
    const detail = await delivery(hook.id, d.id);
    assert.equal(detail.attemptLog.length, SCHEDULE.length);
    for (const a of detail.attemptLog) {
      assert.equal(a.statusCode, 500);
      assert.equal(a.responseBody.length, 4096);
      assert.ok(a.durationMs >= 0);
    }
    assert.equal(detail.lastStatusCode, 500);
    const exhausted = (await eventsSince(s.api, seq)).filter((e) => e.type === 'webhook.delivery.exhausted');
    assert.equal(exhausted.length, 1);
    assert.equal(exhausted[0]!.payload.data.deliveryId, d.id);
    assert.equal(exhausted[0]!.payload.data.attempts, SCHEDULE.length);

    r.reply = () => ({ status: 204 });
    const before = r.received.length;
    const re = await s.api('POST', `${P}/webhooks/${hook.id}/deliveries/${d.id}/redeliver`);
    assert.equal(re.status, 202, re.text);
    await r.waitFor(before + 1);
    assert.equal(r.received.at(-1)!.headers['webhook-id'], r.received[0]!.headers['webhook-id'], 'same webhook-id on every attempt');
    await until(async () => (await delivery(hook.id, d.id)).status === 'delivered', 'redelivered');
    assertProblem(await s.api('POST', `${P}/webhooks/${hook.id}/deliveries/01a00000-0000-7000-8000-000000000000/redeliver`), 404, 'params/deliveryId');
    await s.api('DELETE', `${P}/webhooks/${hook.id}`);
    await r.stop();
  });

  test('bulk redeliver: every exhausted delivery is queued again, with progress events down to done', async () => {
    const r = await freshReceiver();
    r.reply = () => ({ status: 500 });
    // Subscribed to webhook.* too: its own progress events must still not be sent to it.
    const hook = await createHook({ url: r.url, events: ['message.created', 'webhook.*'] });
    for (let i = 0; i < 5; i++) await postMessage(`doomed ${i}`);
    await until(async () => (await deliveries(hook.id, 'exhausted')).length === 5 || null, 'five exhausted', 20_000);
    assertProblem(await s.api('POST', `${P}/webhooks/${hook.id}/redeliver`, { body: { status: 'pending' } }), 400, 'body/status');
    r.reply = () => ({ status: 204 });
    const seq = await lastSeq(s.api);
    const re = await s.api('POST', `${P}/webhooks/${hook.id}/redeliver`, { body: { status: 'exhausted' } });
    assert.equal(re.status, 202, re.text);
    assert.equal(re.json.count, 5);
    await until(async () => (await deliveries(hook.id, 'delivered')).length === 5 || null, 'all five delivered');
    const progress = await until(async () => {
      const ps = (await eventsSince(s.api, seq)).filter((e) => e.type === 'webhook.redelivery.progress');
      return ps.at(-1)?.payload.data.done ? ps : null;
    }, 'a final progress event', 5_000);
    assert.deepEqual(progress[0]!.payload.data, { webhookId: hook.id, total: 5, remaining: 5, done: false });
    assert.deepEqual(progress.at(-1)!.payload.data, { webhookId: hook.id, total: 5, remaining: 0, done: true });
    assert.ok(!r.received.some((x) => JSON.parse(x.body).type === 'webhook.redelivery.progress'), 'a subscription is not sent its own progress');
    assert.equal((await s.api('POST', `${P}/webhooks/${hook.id}/redeliver`, { body: { status: 'failed' } })).json.count, 0);
    await s.api('DELETE', `${P}/webhooks/${hook.id}`);
    await r.stop();
  });

  test('410 Gone disables the subscription; 429 Retry-After is honoured', async () => {
    const r = await freshReceiver();
    r.reply = () => ({ status: 410 });
    const hook = await createHook({ url: r.url });
    await postMessage('gone');
    await r.waitFor(1);
    const got = await until(async () => {
      const w = (await s.api('GET', `${P}/webhooks/${hook.id}`)).json;
      return w.enabled === false ? w : null;
    }, 'disabled');
    assert.match(got.disabledReason, /410/);
    assert.equal((await deliveries(hook.id))[0].status, 'failed');
    assertProblem(await s.api('POST', `${P}/webhooks/${hook.id}/test`), 409);

    const r2 = await freshReceiver();
    let n = 0;
    r2.reply = () => (n++ === 0 ? { status: 429, headers: { 'retry-after': '1' } } : { status: 200 });
    const hook2 = await createHook({ url: r2.url });
    await postMessage('rate limited');
    await r2.waitFor(2, 10_000);
    const gap = r2.received[1]!.at - r2.received[0]!.at;
    assert.ok(gap >= 950, `second attempt waited for Retry-After: 1 (gap ${gap} ms, schedule says 300)`);
    for (const h of [hook, hook2]) await s.api('DELETE', `${P}/webhooks/${h.id}`);
    await r.stop();
    await r2.stop();
  });

  test('test ping: a signed webhook.test delivery, whatever the event filter', async () => {
    const r = await freshReceiver();
    const hook = await createHook({ url: r.url, events: ['sanction.created'] });
    const res = await s.api('POST', `${P}/webhooks/${hook.id}/test`);
    assert.equal(res.status, 202, res.text);
    assert.equal(res.json.eventType, 'webhook.test');
    await r.waitFor(1);
    const got = r.received[0]!;
    assert.equal(JSON.parse(got.body).type, 'webhook.test');
    assert.equal(got.headers['webhook-id'], res.json.eventId);
    assert.doesNotThrow(() => new StandardWebhook(hook.secret).verify(got.body, got.headers as Record<string, string>));
    await s.api('DELETE', `${P}/webhooks/${hook.id}`);
    await r.stop();
  });
});

describe('isolation', () => {
  test('a slow (10 s) and a dead endpoint do not hold up a healthy one', async (t) => {
    const slow = await freshReceiver();
    slow.reply = () => ({ status: 200, delayMs: 10_000 });
    const healthy = await freshReceiver();
    const hooks = [
      await createHook({ url: slow.url }),
      await createHook({ url: `http://127.0.0.1:${await freePort()}/hook` }),
      await createHook({ url: healthy.url }),
    ];
    const N = 60;
    for (let i = 0; i < N; i++) await postMessage(`iso ${i}`);
    await healthy.waitFor(N, 15_000);
    const lat = healthy.received.map((x) => x.at - Date.parse(JSON.parse(x.body).timestamp)).sort((a, b) => a - b);
    const p99 = lat[Math.ceil(lat.length * 0.99) - 1]!;
    t.diagnostic(`healthy endpoint commit→received p50 ${lat[lat.length >> 1]} ms, p99 ${p99} ms (bench:outbox measures the 100 ms target)`);
    // Timing on this shared machine is noisy; what must hold is that nothing waited for the slow endpoint's 10 s.
    assert.ok(p99 < 3000, `healthy p99 ${p99} ms must be far below the slow endpoint's 10 s`);
    assert.ok(slow.received.length <= 8, 'the slow endpoint only ever has its concurrency limit in flight');
    for (const h of hooks) await s.api('DELETE', `${P}/webhooks/${h.id}`);
    await slow.stop();
    await healthy.stop();
  });

  test('circuit breaker: a failing endpoint stops being tried after the threshold, until the cool-down', async () => {
    // One request at a time, so the breaker sees each failure before the next request starts.
    const strict = await startServer({
      webhookRetryScheduleMs: [0, 0, 0, 0, 0, 0, 0, 0], webhookBreakerThreshold: 3, webhookBreakerCooldownMs: 60_000, webhookConcurrency: 1,
    });
    try {
      const r = await startReceiver();
      r.reply = () => ({ status: 503 });
      const sess = (await strict.api('POST', `${P}/sessions`, { body: {} })).json.id;
      const hook = (await strict.api('POST', `${P}/webhooks`, { body: { url: r.url, events: ['message.created'] } })).json;
      for (let i = 0; i < 5; i++) await strict.api('POST', `${P}/sessions/${sess}/messages`, { body: { content: `b${i}` } });
      await r.waitFor(3);
      await sleep(800);
      assert.equal(r.received.length, 3, 'no attempts while the breaker is open');
      const pending = (await strict.api('GET', `${P}/webhooks/${hook.id}/deliveries?status=pending`)).json.items;
      assert.equal(pending.length, 5, 'nothing is lost while the breaker is open');
      await r.stop();
    } finally {
      await strict.close();
    }
  });
});

/**
 * Crash test for the webhook outbox: `cortex serve` runs as a real child process and is killed
 * with SIGKILL 20 times, at random moments, during a burst of 2,000 message.created events; it is
 * restarted on the same data dir each time. At the end every committed message.created event has
 * reached the receiver at least once, and any duplicate is the same delivery sent again: same
 * `webhook-id`, same body.
 *
 * The burst is spread over the 21 lives of the server (a cumulative quota per life, paced to end
 * just after the planned kill), so each kill lands with POSTs in flight and deliveries
 * outstanding. Posters retry a request that a kill cut with the same Idempotency-Key once the
 * next server is up. The random kill moments come from a seeded PRNG: the seed is printed as a
 * diagnostic, and CRASH_TEST_SEED=<seed> replays the same schedule.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Webhook } from 'standardwebhooks';
import { startServe, type ServeProcess } from '../support/serve-process.js';
import { startReceiver, type Received } from '../support/webhook-receiver.js';

const EVENTS = 2_000;
const KILLS = 20;
const POSTERS = 4;
/** A kill lands this long after the server is ready (uniformly random). */
const KILL_DELAY_MS: [number, number] = [100, 600];
/** How long the last server gets to deliver everything after the burst. */
const DRAIN_TIMEOUT_MS = 60_000;
const P = '/api/projects/default';

/** mulberry32: small, seedable, good enough to pick kill moments. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The server under test across its restarts: one data dir, one child at a time. `up()` resolves
 * with a listening server (waiting out a restart); `life` counts starts.
 */
class Restartable {
  current: ServeProcess | null = null;
  life = -1;
  readyAt = 0;
  /** When each killed life's process was seen to exit; the next one is spawned after that. */
  readonly exitedAt: number[] = [];
  private stopped = false;
  private waiters: { resolve: (s: ServeProcess) => void; reject: (err: Error) => void }[] = [];
  private changeWaiters: (() => void)[] = [];

  constructor(private readonly env: NodeJS.ProcessEnv) {}

  async start(): Promise<ServeProcess> {
    const srv = await startServe(['--no-console'], this.env);
    this.current = srv;
    this.life++;
    this.readyAt = Date.now();
    for (const w of this.waiters.splice(0)) w.resolve(srv);
    for (const w of this.changeWaiters.splice(0)) w();
    return srv;
  }

  /** SIGKILL, and wait until the process is gone (the database lock is released with it). */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const srv = this.current;
    if (!srv) return;
    this.current = null; // from here on, callers wait for the next start
    srv.child.kill(signal);
    await srv.exited;
    this.exitedAt.push(Date.now());
  }

  /** Which life sent a request the receiver completed at `at` (data an old process sent just before dying may be read a moment later). */
  lifeOf(at: number): number {
    return this.exitedAt.filter((t) => t < at).length;
  }

  up(): Promise<ServeProcess> {
    if (this.current) return Promise.resolve(this.current);
    if (this.stopped) return Promise.reject(new Error('the test is over'));
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  /** No more starts: whoever waits for one is told so. */
  stop(): void {
    this.stopped = true;
    for (const w of this.waiters.splice(0)) w.reject(new Error('the test is over'));
  }

  /** Resolves at the next start (or after `ms`, whichever is first). */
  nextLife(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        resolve();
      }
      this.changeWaiters.push(done);
    });
  }
}

interface EventEnvelope {
  id: string;
  seq: number;
  type: string;
  payload: { action: string; data: { id: string; content: string } };
}

test('SIGKILL ×20 during a 2,000-event burst: every event reaches the receiver, duplicates keep their webhook-id', { timeout: 150_000 }, async (t) => {
  const started = Date.now();
  const seed = Number(process.env.CRASH_TEST_SEED ?? Date.now() % 2 ** 31);
  const random = prng(seed);
  t.diagnostic(`seed ${seed} (CRASH_TEST_SEED=${seed} replays the kill schedule)`);
  // Planned kill delay of each life; the last life is never killed (its value only paces the posters).
  const delays = Array.from({ length: KILLS + 1 }, () => Math.round(KILL_DELAY_MS[0] + random() * (KILL_DELAY_MS[1] - KILL_DELAY_MS[0])));

  const dir = mkdtempSync(join(tmpdir(), 'cx-crash-'));
  const receiver = await startReceiver();
  const server = new Restartable({
    CORTEX_DATA_DIR: dir,
    CORTEX_BUS_ENDPOINT: 'off',
    CORTEX_WEBHOOK_RETRY_SCHEDULE: '0,100,200,400,800,1000,1000,1000,1000,1000',
  });
  const abort = new AbortController();
  let posters: Promise<void>[] = [];

  try {
    // ---- first life: key, subscription, session ----------------------------------------
    const first = await server.start();
    // Bootstrap writes the admin key on first start; unlike the console key it survives restarts.
    const key = readFileSync(join(dir, 'admin-key'), 'utf8').trim();
    const headers = { 'x-api-key': key, 'content-type': 'application/json' };
    const call = async (base: string, method: string, path: string, body?: unknown) => {
      const res = await fetch(base + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(20_000) });
      const text = await res.text();
      return { status: res.status, json: text ? JSON.parse(text) : null };
    };
    const hook = await call(first.url, 'POST', `${P}/webhooks`, { url: receiver.url, events: ['message.created'] });
    assert.equal(hook.status, 201, JSON.stringify(hook.json));
    const { id: webhookId, secret } = hook.json as { id: string; secret: string };
    const session = await call(first.url, 'POST', `${P}/sessions`, { title: 'crash test' });
    assert.equal(session.status, 201, JSON.stringify(session.json));
    const messagesPath = `${P}/sessions/${(session.json as { id: string }).id}/messages`;

    // ---- the burst --------------------------------------------------------------------
    // Life g may post up to quota(g) messages in total; its own share is paced over ~1.2× its
    // planned kill delay, so the kill lands mid-burst. A poster behind schedule posts at once.
    const quota = (g: number) => Math.round((EVENTS * (g + 1)) / (KILLS + 1));
    let next = 0;
    let acked = 0;
    let inFlight = 0;
    let retried = 0;
    let replayed = 0;
    let failure: Error | null = null;

    async function postOne(i: number): Promise<void> {
      const body = JSON.stringify({ content: `crash ${i}` });
      for (let attempt = 1; ; attempt++) {
        if (failure || abort.signal.aborted) return;
        if (attempt > 200) throw new Error(`message ${i}: still not accepted after 200 attempts`);
        const srv = await server.up();
        inFlight++;
        let status = 0;
        let detail = '';
        try {
          const res = await fetch(srv.url + messagesPath, {
            method: 'POST',
            headers: { ...headers, 'idempotency-key': `crash-${i}` },
            body,
            signal: AbortSignal.any([abort.signal, AbortSignal.timeout(20_000)]),
          });
          detail = await res.text();
          status = res.status;
          if (status === 201 && res.headers.get('idempotent-replayed') === 'true') replayed++;
        } catch (err) {
          detail = String((err as Error).cause ?? err); // connection refused / reset by the kill
        } finally {
          inFlight--;
        }
        if (status === 201) {
          acked++;
          return;
        }
        // 0: the kill cut it; 409 idempotency_in_progress / 503 closing: the first try still runs.
        if (status !== 0 && status !== 409 && status !== 503) throw new Error(`message ${i}: HTTP ${status} ${detail}`);
        retried++;
        await sleep(20);
      }
    }

    async function poster(): Promise<void> {
      while (!failure && !abort.signal.aborted) {
        const life = server.life;
        if (next >= EVENTS) return;
        if (next >= quota(life)) {
          await server.nextLife(1_000);
          continue;
        }
        const i = next++;
        const lo = life === 0 ? 0 : quota(life - 1);
        if (i >= lo) {
          const due = server.readyAt + ((i - lo + 1) / (quota(life) - lo)) * delays[life]! * 1.2;
          if (due > Date.now()) await Promise.race([sleep(due - Date.now()), server.nextLife(due - Date.now())]);
        }
        await postOne(i);
      }
    }

    posters = Array.from({ length: POSTERS }, () =>
      poster().catch((err: Error) => {
        failure ??= err;
      }),
    );

    // ---- the kills ---------------------------------------------------------------------
    const kills: { inFlight: number; unposted: boolean }[] = [];
    for (let k = 0; k < KILLS && !failure; k++) {
      await sleep(delays[k]!);
      kills.push({ inFlight, unposted: next < quota(k) || inFlight > 0 });
      await server.kill();
      await server.start();
    }
    await Promise.all(posters);
    if (failure) throw failure;
    assert.equal(acked, EVENTS);
    const burstMs = Date.now() - started;

    // ---- the last life delivers everything -------------------------------------------
    const last = await server.up();
    const events: EventEnvelope[] = [];
    for (let since = 0; ;) {
      const page = await call(last.url, 'GET', `/api/events?since=${since}&types=message.created&limit=500`);
      assert.equal(page.status, 200, JSON.stringify(page.json));
      const { items, lastSeq } = page.json as { items: EventEnvelope[]; lastSeq: number };
      events.push(...items);
      if (lastSeq === since) break;
      since = lastSeq;
    }
    const eventIds = new Set(events.map((e) => e.id));
    assert.equal(eventIds.size, events.length);

    // Every one of the 2,000 messages was committed (a retried request did not get lost).
    const byContent = new Map<string, string[]>();
    for (const e of events) byContent.set(e.payload.data.content, [...(byContent.get(e.payload.data.content) ?? []), e.id]);
    const missing = Array.from({ length: EVENTS }, (_, i) => `crash ${i}`).filter((c) => !byContent.has(c));
    assert.deepEqual(missing, [], 'every posted message has its message.created event');
    const doubled = [...byContent.values()].filter((ids) => ids.length > 1).length;

    const seen = () => new Set(receiver.received.map((r) => r.headers['webhook-id'] as string));
    const deadline = Date.now() + DRAIN_TIMEOUT_MS;
    let undelivered = [...eventIds];
    while (Date.now() < deadline) {
      const s = seen();
      undelivered = undelivered.filter((id) => !s.has(id));
      if (undelivered.length === 0) break;
      await sleep(250);
    }
    assert.equal(undelivered.length, 0, `${undelivered.length} of ${eventIds.size} events never reached the receiver after ${DRAIN_TIMEOUT_MS} ms, e.g. ${undelivered.slice(0, 3).join(', ')}`);

    // The outbox agrees: nothing is left pending once the results are recorded.
    let pending: unknown[] = [];
    for (let i = 0; i < 100; i++) {
      const res = await call(last.url, 'GET', `${P}/webhooks/${webhookId}/deliveries?status=pending&limit=10`);
      assert.equal(res.status, 200, JSON.stringify(res.json));
      pending = (res.json as { items: unknown[] }).items;
      if (pending.length === 0) break;
      await sleep(100);
    }
    assert.deepEqual(pending, [], 'no delivery is left pending');

    // ---- what the receiver got -------------------------------------------------------
    const verifier = new Webhook(secret);
    const byId = new Map<string, Received[]>();
    const badSignatures: string[] = [];
    for (const r of receiver.received) {
      const id = r.headers['webhook-id'];
      assert.equal(typeof id, 'string', 'every request carries a webhook-id');
      const body = JSON.parse(r.body) as EventEnvelope;
      assert.equal(body.id, id, 'webhook-id is the id of the event in the body');
      assert.equal(body.type, 'message.created');
      assert.ok(eventIds.has(body.id), `a delivered event (${body.id}) is in the log`);
      try {
        verifier.verify(r.body, r.headers as Record<string, string>);
      } catch (err) {
        badSignatures.push(`${String(id)}: ${(err as Error).message}`);
      }
      byId.set(id as string, [...(byId.get(id as string) ?? []), r]);
    }
    assert.deepEqual(badSignatures, [], 'every request verifies with standardwebhooks');
    let duplicates = 0;
    let sameLife = 0;
    for (const [id, copies] of byId) {
      if (copies.length < 2) continue;
      duplicates += copies.length - 1;
      if (new Set(copies.map((c) => server.lifeOf(c.at))).size < copies.length) sameLife++;
      for (const c of copies) assert.equal(c.body, copies[0]!.body, `every copy of ${id} has the same body`);
    }

    const cut = kills.filter((k) => k.inFlight > 0).length;
    const midBurst = kills.filter((k) => k.unposted).length;
    t.diagnostic(`${events.length} message.created events, ${receiver.received.length} webhook requests, ${duplicates} duplicate deliveries (${[...byId.values()].filter((c) => c.length > 1).length} events received more than once, ${sameLife} of them twice by one life)`);
    t.diagnostic(`${KILLS} kills: ${midBurst} before that life's share of the burst was posted, ${cut} with POSTs in flight; ${retried} POST retries, ${replayed} idempotent replays`);
    // The idempotency record commits with the write, so a kill between commit and response cannot double a retried POST.
    assert.equal(doubled, 0, `${doubled} Idempotency-Keys produced two messages`);
    t.diagnostic(`burst + kills ${burstMs} ms, total ${Date.now() - started} ms`);
  } finally {
    abort.abort();
    server.stop();
    await Promise.allSettled(posters);
    await server.kill();
    await receiver.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

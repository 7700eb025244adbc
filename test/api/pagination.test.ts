/**
 * Cursor paging: complete, duplicate-free walks in the documented order, and list filters
 * (sanctions `?active=`) that follow derived status.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { assertProblem, P, startServer, type J, type Server } from './helpers.js';

let s: Server;
before(async () => {
  s = await startServer();
});
after(() => s.close());

/** Follows `nextCursor` from `path` (which already has a query) and returns every page. */
async function walk(path: string): Promise<J[][]> {
  const pages: J[][] = [];
  let cursor: string | null = null;
  for (let i = 0; i < 100; i++) {
    const r = await s.api('GET', cursor === null ? path : `${path}&cursor=${encodeURIComponent(cursor)}`);
    assert.equal(r.status, 200, r.text);
    pages.push(r.json.items);
    cursor = r.json.nextCursor;
    if (cursor === null) return pages;
    assert.equal(typeof cursor, 'string');
  }
  throw new Error('paging did not terminate');
}

describe('sessions', () => {
  const created: string[] = [];
  before(async () => {
    // Created in sequence batches so creation order is known: created[i] is older than created[i+1].
    for (let i = 0; i < 120; i += 20) {
      const batch = await Promise.all(Array.from({ length: 20 }, (_, j) => s.api('POST', `${P}/sessions`, { body: { title: `s${i + j}` } })));
      const ids = batch.map((r) => {
        assert.equal(r.status, 201);
        return r.json.id as string;
      });
      created.push(...ids.sort());
    }
  });

  test('120 sessions walk ?limit=50 as 50, 50, 20, then nextCursor null; no duplicates; newest first', async () => {
    const pages = await walk(`${P}/sessions?limit=50`);
    assert.deepEqual(pages.map((p) => p.length), [50, 50, 20]);
    const ids = pages.flat().map((x) => x.id as string);
    assert.equal(new Set(ids).size, 120, 'no duplicates');
    assert.deepEqual(ids, [...created].reverse(), 'exactly the created sessions, newest first');
    const times = pages.flat().map((x) => x.createdAt as string);
    for (let i = 1; i < times.length; i++) assert.ok(times[i - 1]! >= times[i]!, `createdAt not descending at ${i}`);
    // The last page says so, and the cursor of the second page is reusable (cursors are stable).
    const first = await s.api('GET', `${P}/sessions?limit=50`);
    const again = await s.api('GET', `${P}/sessions?limit=50&cursor=${first.json.nextCursor}`);
    assert.deepEqual(again.json.items.map((x: J) => x.id), pages[1]!.map((x) => x.id));
  });

  test('default limit is 50, exact multiples end with null, other limits walk everything', async () => {
    const d = await s.api('GET', `${P}/sessions`);
    assert.equal(d.json.items.length, 50);
    assert.ok(d.json.nextCursor);
    const pages = await walk(`${P}/sessions?limit=40`);
    assert.deepEqual(pages.map((p) => p.length), [40, 40, 40], 'no empty trailing page');
    const seven = (await walk(`${P}/sessions?limit=7`)).flat().map((x) => x.id);
    assert.deepEqual(seven, [...created].reverse());
    const all = await s.api('GET', `${P}/sessions?limit=500`);
    assert.equal(all.json.items.length, 120);
    assert.equal(all.json.nextCursor, null);
  });

  test('paging with a filter: ?status=ended walks only ended sessions', async () => {
    const toEnd = created.filter((_, i) => i % 3 === 0); // 40
    for (const id of toEnd) assert.equal((await s.api('POST', `${P}/sessions/${id}/stop`)).status, 200);
    const ended = (await walk(`${P}/sessions?status=ended&limit=15`)).flat();
    assert.equal(ended.length, 40);
    assert.ok(ended.every((x) => x.status === 'ended'));
    assert.deepEqual(ended.map((x) => x.id), [...toEnd].reverse());
    const active = (await walk(`${P}/sessions?status=active&limit=50`)).flat();
    assert.equal(active.length, 80);
  });
});

describe('messages', () => {
  test('messages list is oldest-first and pages forward without gaps', async () => {
    const sid = (await s.api('POST', `${P}/sessions`, { body: { title: 'chat' } })).json.id;
    const sent: string[] = [];
    for (let i = 0; i < 55; i++) {
      const r = await s.api('POST', `${P}/sessions/${sid}/messages`, { body: { content: `m${i}` } });
      assert.equal(r.status, 201);
      sent.push(r.json.id);
    }
    const pages = await walk(`${P}/sessions/${sid}/messages?limit=20`);
    assert.deepEqual(pages.map((p) => p.length), [20, 20, 15]);
    const items = pages.flat();
    assert.deepEqual(items.map((m) => m.id), sent, 'oldest first, all of them, once');
    assert.deepEqual(items.map((m) => m.content), sent.map((_, i) => `m${i}`));
    // Another session's messages do not appear, and a cursor from it does not bring them in.
    const other = (await s.api('POST', `${P}/sessions`, { body: {} })).json.id;
    await s.api('POST', `${P}/sessions/${other}/messages`, { body: { content: 'elsewhere' } });
    const again = (await walk(`${P}/sessions/${sid}/messages?limit=50`)).flat();
    assert.equal(again.length, 55);
  });

  test('participants, gatherings and sanctions page newest-first too', async () => {
    for (let i = 0; i < 7; i++) {
      assert.equal((await s.api('POST', `${P}/participants`, { body: { externalUserId: `pg-${i}` } })).status, 201);
      assert.equal((await s.api('POST', `${P}/gatherings`, { body: { name: `g${i}` } })).status, 201);
    }
    for (const path of [`${P}/participants?limit=3`, `${P}/gatherings?limit=3`]) {
      const pages = await walk(path);
      assert.deepEqual(pages.map((p) => p.length), [3, 3, 1], path);
      const ids = pages.flat().map((x) => x.id as string);
      assert.deepEqual(ids, [...ids].sort().reverse(), `${path} newest first`);
    }
  });
});

describe('sanctions ?active', () => {
  test('?active=true excludes revoked and expired; ?active=false is exactly those', async () => {
    const mk = async (body: Record<string, unknown>) => {
      const r = await s.api('POST', `${P}/sanctions`, { body: { externalUserId: 'pager', ...body } });
      assert.equal(r.status, 201, r.text);
      return r.json;
    };
    const warn = await mk({ type: 'warn' });
    const mute = await mk({ type: 'mute', durationSeconds: 3600 });
    const perm = await mk({ type: 'perm_ban' });
    const revoked = await mk({ type: 'mute' });
    assert.equal((await s.api('POST', `${P}/sanctions/${revoked.id}/revoke`, { body: {} })).json.status, 'revoked');
    // Created already over: start and end both in the past.
    const expired = await mk({ type: 'temp_ban', startAt: '2020-01-01T00:00:00Z', endAt: '2020-01-02T00:00:00Z' });
    assert.equal(expired.status, 'expired');
    const shortPast = await mk({ type: 'mute', startAt: new Date(Date.now() - 10_000).toISOString(), durationSeconds: 1 });
    assert.equal(shortPast.status, 'expired');
    // An end at or before the start is refused rather than created.
    assertProblem(await s.api('POST', `${P}/sanctions`, { body: { type: 'mute', externalUserId: 'pager', startAt: '2020-01-02T00:00:00Z', endAt: '2020-01-01T00:00:00Z' } }), 400, 'body/endAt');

    const active = (await walk(`${P}/sanctions?active=true&limit=2`)).flat();
    assert.deepEqual(active.map((x) => x.id).sort(), [warn.id, mute.id, perm.id].sort());
    assert.ok(active.every((x) => x.status === 'active'));
    const inactive = (await walk(`${P}/sanctions?active=false&limit=2`)).flat();
    assert.deepEqual(inactive.map((x) => x.id).sort(), [revoked.id, expired.id, shortPast.id].sort());
    assert.deepEqual(inactive.map((x) => x.status).sort(), ['expired', 'expired', 'revoked']);
    const all = (await walk(`${P}/sanctions?limit=4`)).flat();
    assert.equal(all.length, 6);
    // Filters combine with paging and with each other.
    const pid = warn.participantId;
    const byUser = (await walk(`${P}/sanctions?participantId=${pid}&active=true&limit=1`)).flat();
    assert.equal(byUser.length, 3);
    assert.equal((await s.api('GET', `${P}/sanctions?externalUserId=nobody`)).json.items.length, 0);
  });
});

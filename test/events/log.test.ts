import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DomainEvent } from '../../common/events.js';
import { EventLog, eventJson } from '../../main/events/log.js';
import { openDatabase } from '../../main/store/db.js';
import { startCortex } from '../../main/core/cortex.js';

function setup() {
  const db = openDatabase(join(mkdtempSync(join(tmpdir(), 'cx-log-')), 'cortex.db'));
  const log = new EventLog(db);
  const seen: DomainEvent[] = [];
  log.subscribe((e) => seen.push(e));
  const ev = (id: string) => ({ type: 'session.created' as const, tenantId: 't', projectId: 'p', resourceId: `session:${id}`, action: 'created' as const, data: { id } });
  return { db, log, seen, ev };
}

test('events are dispatched only after their transaction commits, in seq order', () => {
  const { log, seen, ev } = setup();
  log.write(() => {
    log.append(ev('a'));
    log.append(ev('b'));
    assert.equal(seen.length, 0, 'nothing is published before commit');
  });
  assert.deepEqual(seen.map((e) => e.resourceId), ['session:a', 'session:b']);
  assert.ok(seen[1]!.seq > seen[0]!.seq);
  assert.deepEqual(log.read({ tenantId: 't', afterSeq: 0, limit: 10 }).map((e) => e.id), seen.map((e) => e.id));
});

test('a failed write stores and publishes no event', () => {
  const { log, seen, ev } = setup();
  assert.throws(() => log.write(() => {
    log.append(ev('doomed'));
    throw new Error('constraint failed');
  }), /constraint failed/);
  assert.equal(seen.length, 0);
  assert.equal(log.lastSeq(), 0);
});

test('a rolled-back nested write drops only its own events', () => {
  const { log, seen, ev } = setup();
  log.write(() => {
    log.append(ev('outer'));
    try {
      log.write(() => {
        log.append(ev('inner'));
        throw new Error('inner fails');
      });
    } catch {
      // the outer change goes on
    }
  });
  assert.deepEqual(seen.map((e) => e.resourceId), ['session:outer']);
  assert.deepEqual(log.read({ tenantId: 't', afterSeq: 0, limit: 10 }).map((e) => e.resourceId), ['session:outer']);
});

test('append outside write() is refused: an event must commit with its change', () => {
  const { log, ev } = setup();
  assert.throws(() => log.append(ev('x')), /outside write/);
});

test('seq is strictly increasing and consumer cursors persist', () => {
  const { db, log, ev } = setup();
  for (let i = 0; i < 50; i++) log.write(() => log.append(ev(String(i))));
  const seqs = log.read({ tenantId: 't', afterSeq: 0, limit: 100 }).map((e) => e.seq);
  assert.equal(seqs.length, 50);
  for (let i = 1; i < seqs.length; i++) assert.ok(seqs[i]! > seqs[i - 1]!);
  log.write(() => log.setCursor('webhooks', 42));
  assert.equal(new EventLog(db).cursor('webhooks'), 42);
  assert.equal(log.cursor('never-ran'), 0);
});

test('a failed API write emits no event and leaves no partial change', async () => {
  const cortex = await startCortex({ dataDir: mkdtempSync(join(tmpdir(), 'cx-log-api-')), port: 0, logLevel: 'silent' });
  try {
    const before = cortex.events.lastSeq();
    // The sanction creates its unknown participant first, then fails validation of endAt:
    // the participant row and its participant.created event must both roll back.
    const res = await cortex.app.inject({
      method: 'POST', url: '/api/projects/default/sanctions',
      headers: { 'x-api-key': cortex.consoleKey },
      payload: { type: 'temp_ban', externalUserId: 'newcomer', startAt: '2030-01-02T00:00:00Z', endAt: '2030-01-01T00:00:00Z' },
    });
    assert.equal(res.statusCode, 400);
    assert.equal(res.json().errors[0].field, 'body/endAt');
    assert.equal(cortex.events.lastSeq(), before, 'no event for the rejected change');
    assert.equal(cortex.db.prepare("SELECT count(*) FROM participants WHERE external_user_id = 'newcomer'").pluck().get(), 0, 'no half-written participant');
  } finally {
    await cortex.close();
  }
});

test('group commit: a failing write among concurrent ones leaves nothing and does not affect the others', async () => {
  const { log, seen, ev } = setup();
  const results = await Promise.allSettled([
    log.commit(() => log.write(() => log.append(ev('one')))),
    log.commit(() => log.write(() => {
      log.append(ev('doomed'));
      throw new Error('invalid');
    })),
    log.commit(() => log.write(() => log.append(ev('two')))),
  ]);
  assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled']);
  assert.deepEqual(seen.map((e) => e.resourceId), ['session:one', 'session:two']);
  assert.deepEqual(log.read({ tenantId: 't', afterSeq: 0, limit: 10 }).map((e) => e.resourceId), ['session:one', 'session:two']);
});

test('group commit: a job that fails after writing (outside any write of its own) leaves nothing behind', async () => {
  const { db, log, seen, ev } = setup();
  db.exec('CREATE TABLE scratch (v TEXT)');
  const insert = db.prepare('INSERT INTO scratch (v) VALUES (?)');
  const results = await Promise.allSettled([
    log.commit(() => insert.run('kept-1')),
    log.commit(() => {
      insert.run('half-done');
      log.append(ev('half-done'));
      throw new Error('fails after writing');
    }),
    log.commit(() => log.write(() => log.append(ev('kept-2')))),
  ]);
  assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled']);
  assert.deepEqual(db.prepare('SELECT v FROM scratch').pluck().all(), ['kept-1']);
  assert.deepEqual(seen.map((e) => e.resourceId), ['session:kept-2']);
  assert.equal(log.read({ tenantId: 't', afterSeq: 0, limit: 10 }).length, 1);
});

test('jsonBySeq is byte-identical to the envelope JSON every stream sends', () => {
  const { log, seen } = setup();
  log.write(() => {
    log.append({ type: 'message.created', tenantId: 't', projectId: null, resourceId: 'message:1', action: 'created', data: { text: 'é "quoted" \u2028 \\ </script>', n: 1.5, big: 2 ** 60, nested: { a: [1, null, true] } } });
    log.append({ type: 'session.updated', tenantId: 't', projectId: 'p', resourceId: 'session:1', action: 'updated', data: { id: '1' }, changes: { title: null } });
  });
  for (const e of seen) assert.equal(log.jsonBySeq(e.seq), eventJson(e));
  assert.equal(log.jsonBySeq(999_999), null);
});

/**
 * The automod evaluator against a real server: annotations posted through the public API
 * (standing in for plugins) turn into sanctions exactly when a rule's condition is met.
 * Every test uses its own annotation type, so the project's other rules never interfere.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { eventsSince, lastSeq } from '../api/helpers.js';
import { annotate, createRule, P, removeDir, sanctionsOf, say, settled, startNode, tempDir, until, type J, type Node } from './helpers.js';

let n: Node;
let session: string;

before(async () => {
  n = await startNode(await tempDir());
  session = (await n.api('POST', `${P}/sessions`, { body: { title: 'automod' } })).json.id;
});
after(async () => {
  await n.stop();
  await removeDir(n.dataDir);
});

describe('sanction rules', () => {
  test('count 1: one matching annotation → one sanction by automod:<ruleId>, with its evidence, and a sanction.created event', async () => {
    const rule = await createRule(n, {
      name: 'toxic mute', when: { annotationType: 'tox-1', minScore: 0.8 }, then: { sanction: { type: 'mute', durationSeconds: 600, reason: 'toxic' } },
    });
    const since = await lastSeq(n.api);
    const m = await say(n, session, 'alice-1', 'you are terrible');
    const a = await annotate(n, m, 'tox-1', 0.93, 'high');
    const [s] = await until(async () => {
      const list = await sanctionsOf(n, m.participantId);
      return list.length ? list : null;
    }, 'the sanction');
    assert.equal(s.type, 'mute');
    assert.equal(s.createdByUserId, `automod:${rule.id}`);
    assert.equal(s.participantId, m.participantId);
    assert.equal(s.sessionId, session);
    assert.equal(s.reason, 'toxic');
    assert.equal(s.status, 'active');
    assert.equal(Date.parse(s.endAt) - Date.parse(s.startAt), 600_000);
    assert.deepEqual(s.metadata, { ruleId: rule.id, annotationIds: [a.id], messageIds: [m.id] });
    await settled(n);
    assert.equal((await sanctionsOf(n, m.participantId)).length, 1, 'exactly one');
    const created = (await eventsSince(n.api, since)).filter((e) => e.type === 'sanction.created');
    assert.equal(created.length, 1);
    assert.equal(created[0]!.source, 'automod');
    assert.equal((created[0]!.payload.data as J).id, s.id);
  });

  test('a clean, low-scored or unscored annotation does nothing; nor does a disabled rule or one without a participant', async () => {
    await createRule(n, { when: { annotationType: 'tox-2', minScore: 0.7 }, then: { sanction: { type: 'warn' } } });
    await createRule(n, { enabled: false, when: { annotationType: 'tox-2b' }, then: { sanction: { type: 'warn' } } });
    const m = await say(n, session, 'bob-2', 'nice game');
    await annotate(n, m, 'tox-2', 0.1, 'low');
    await annotate(n, m, 'tox-2', 0.69);
    await annotate(n, m, 'tox-2', null);
    await annotate(n, m, 'tox-2b', 1, 'high');
    await annotate(n, m, 'other-type', 1, 'high');
    const system = await n.api('POST', `${P}/sessions/${session}/messages`, { body: { content: 'server restarting', type: 'system' } });
    await annotate(n, system.json, 'tox-2', 1, 'high');
    await settled(n);
    assert.deepEqual(await sanctionsOf(n, m.participantId), []);
  });

  test('count 3 within the window: one sanction on the 3rd; the 4th and 5th add nothing until three fresh ones', async () => {
    const rule = await createRule(n, { when: { annotationType: 'tox-3', minScore: 0.5, count: 3, windowSeconds: 600 }, then: { sanction: { type: 'warn' } } });
    const ids: string[] = [];
    let participantId = '';
    const step = async (i: number) => {
      const m = await say(n, session, 'carol-3', `insult ${i}`);
      participantId = m.participantId;
      ids.push((await annotate(n, m, 'tox-3', 0.9)).id);
      await settled(n);
      return sanctionsOf(n, participantId);
    };
    assert.equal((await step(1)).length, 0);
    assert.equal((await step(2)).length, 0);
    const third = await step(3);
    assert.equal(third.length, 1);
    assert.deepEqual(third[0].metadata.annotationIds, ids.slice(0, 3));
    assert.equal(third[0].createdByUserId, `automod:${rule.id}`);
    assert.equal((await step(4)).length, 1, 'the 4th is not enough on its own');
    assert.equal((await step(5)).length, 1, 'nor the 4th and 5th');
    const sixth = await step(6);
    assert.equal(sixth.length, 2, 'three fresh annotations → a second sanction');
    assert.deepEqual(sixth[0].metadata.annotationIds, ids.slice(3, 6));
    // Another participant's annotations never count towards carol's.
    const dave = await say(n, session, 'dave-3', 'x');
    await annotate(n, dave, 'tox-3', 0.9);
    await settled(n);
    assert.equal((await sanctionsOf(n, dave.participantId)).length, 0);
    assert.equal((await sanctionsOf(n, participantId)).length, 2);
  });

  test('annotations outside the window do not count', async () => {
    // windowSeconds 1: two annotations more than a second apart never make a pair.
    await createRule(n, { when: { annotationType: 'tox-w', count: 2, windowSeconds: 1 }, then: { sanction: { type: 'warn' } } });
    const m1 = await say(n, session, 'walt-w', 'one');
    await annotate(n, m1, 'tox-w', 1);
    await settled(n);
    await new Promise((r) => setTimeout(r, 1100));
    const m2 = await say(n, session, 'walt-w', 'two');
    await annotate(n, m2, 'tox-w', 1);
    await settled(n);
    assert.equal((await sanctionsOf(n, m1.participantId)).length, 0);
    const m3 = await say(n, session, 'walt-w', 'three');
    await annotate(n, m3, 'tox-w', 1);
    await settled(n);
    const list = await sanctionsOf(n, m1.participantId);
    assert.equal(list.length, 1);
    assert.deepEqual(list[0].metadata.messageIds, [m2.id, m3.id]);
  });

  test('categories: any-of match against content.categories (case-insensitive); none or other categories do not match', async () => {
    await createRule(n, { when: { annotationType: 'tox-c', categories: ['hate', 'threat'] }, then: { sanction: { type: 'temp_ban', durationSeconds: 3600 } } });
    const m = await say(n, session, 'erin-c', 'x');
    await annotate(n, m, 'tox-c', 0.99, 'high', ['spam']);
    await annotate(n, m, 'tox-c', 0.99, 'high');
    await annotate(n, m, 'tox-c', 0.99, 'high', []);
    await settled(n);
    assert.equal((await sanctionsOf(n, m.participantId)).length, 0);
    await annotate(n, m, 'tox-c', 0.99, 'high', ['insult', 'Threat']);
    await settled(n);
    const list = await sanctionsOf(n, m.participantId);
    assert.equal(list.length, 1);
    assert.equal(list[0].type, 'temp_ban');
  });

  test('annotations on messages older than the window (a back-fill) are ignored', async () => {
    await createRule(n, { when: { annotationType: 'tox-old', windowSeconds: 600 }, then: { sanction: { type: 'warn' } } });
    const old = await say(n, session, 'frank-old', 'said long ago', { timestamp: new Date(Date.now() - 3600_000).toISOString() });
    await annotate(n, old, 'tox-old', 1, 'high');
    // The same hour-old instant written with an offset (it sorts after "now" as text).
    const hourAgo = Date.now() - 3600_000;
    const offset = new Date(hourAgo + 9 * 3600_000).toISOString().replace('Z', '+09:00');
    const oldToo = await say(n, session, 'frank-old', 'said long ago, elsewhere', { timestamp: offset });
    assert.equal(Date.parse(oldToo.timestamp), Math.floor(hourAgo));
    await annotate(n, oldToo, 'tox-old', 1, 'high');
    await settled(n);
    assert.equal((await sanctionsOf(n, old.participantId)).length, 0);
    const fresh = await say(n, session, 'frank-old', 'said now');
    await annotate(n, fresh, 'tox-old', 1, 'high');
    await settled(n);
    const list = await sanctionsOf(n, old.participantId);
    assert.equal(list.length, 1);
    assert.deepEqual(list[0].metadata.messageIds, [fresh.id]);
  });

  test('a rule judges only what happens while it exists and is enabled; deleting or disabling it stops it', async () => {
    const m = await say(n, session, 'gina-h', 'before the rule');
    await annotate(n, m, 'tox-h', 1);
    await annotate(n, m, 'tox-h', 1);
    await settled(n);
    const rule = await createRule(n, { when: { annotationType: 'tox-h', count: 2 }, then: { sanction: { type: 'warn' } } });
    await annotate(n, m, 'tox-h', 1);
    await settled(n);
    assert.equal((await sanctionsOf(n, m.participantId)).length, 0, 'history does not count');
    await annotate(n, m, 'tox-h', 1);
    await settled(n);
    assert.equal((await sanctionsOf(n, m.participantId)).length, 1);
    assert.equal((await n.api('PATCH', `${P}/automod/rules/${rule.id}`, { body: { enabled: false } })).status, 200);
    await annotate(n, m, 'tox-h', 1);
    await annotate(n, m, 'tox-h', 1);
    await settled(n);
    assert.equal((await sanctionsOf(n, m.participantId)).length, 1, 'disabled');
    // Re-enabled: what happened while it was off does not count either.
    assert.equal((await n.api('PATCH', `${P}/automod/rules/${rule.id}`, { body: { enabled: true } })).status, 200);
    await annotate(n, m, 'tox-h', 1);
    await settled(n);
    assert.equal((await sanctionsOf(n, m.participantId)).length, 1, 'the annotations from while it was disabled do not count');
    await annotate(n, m, 'tox-h', 1);
    await settled(n);
    assert.equal((await sanctionsOf(n, m.participantId)).length, 2);
    assert.equal((await n.api('DELETE', `${P}/automod/rules/${rule.id}`)).status, 204);
    await annotate(n, m, 'tox-h', 1);
    await annotate(n, m, 'tox-h', 1);
    await settled(n);
    assert.equal((await sanctionsOf(n, m.participantId)).length, 2, 'deleted');
  });

  test('two rules on the same annotation act independently, each once', async () => {
    const warn = await createRule(n, { when: { annotationType: 'tox-2r' }, then: { sanction: { type: 'warn' } } });
    const mute = await createRule(n, { when: { annotationType: 'tox-2r', minScore: 0.9 }, then: { sanction: { type: 'mute' } } });
    const m = await say(n, session, 'hank-2r', 'x');
    await annotate(n, m, 'tox-2r', 0.95);
    await settled(n);
    const list = await sanctionsOf(n, m.participantId);
    assert.deepEqual(list.map((s: J) => s.createdByUserId).sort(), [`automod:${warn.id}`, `automod:${mute.id}`].sort());
  });
});

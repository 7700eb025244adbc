/** Automod rules over the API: CRUD with its events, malformed rules naming the field, and the dry run. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { assertProblem, eventsSince, lastSeq } from '../api/helpers.js';
import { annotate, createRule, ok, P, removeDir, say, settled, startNode, tempDir, type J, type Node } from './helpers.js';

let n: Node;
let session: string;

before(async () => {
  n = await startNode(await tempDir());
  session = (await n.api('POST', `${P}/sessions`, { body: { title: 'rules' } })).json.id;
});
after(async () => {
  await n.stop();
  await removeDir(n.dataDir);
});

describe('rules API', () => {
  test('create (defaults applied), read, list, patch, delete, each with its automod.rule.* event', async () => {
    const since = await lastSeq(n.api);
    const rule = await createRule(n, { name: 'spam', when: { annotationType: 'spam' }, then: { review: { priority: 'low' } } });
    assert.equal(rule.enabled, true);
    assert.deepEqual(rule.when, { annotationType: 'spam', count: 1, windowSeconds: 3600 });
    assert.deepEqual(rule.then, { review: { priority: 'low' } });
    assert.deepEqual(await ok(n, 'GET', `${P}/automod/rules/${rule.id}`), rule);
    const list = await ok(n, 'GET', `${P}/automod/rules`);
    assert.ok(list.items.some((r: J) => r.id === rule.id));

    const patched = await ok(n, 'PATCH', `${P}/automod/rules/${rule.id}`, {
      name: 'spam 3x', enabled: false, when: { annotationType: 'spam', count: 3, windowSeconds: 60, minScore: 0.5, categories: ['ads'] },
      then: { sanction: { type: 'mute', durationSeconds: 300 } },
    });
    assert.equal(patched.name, 'spam 3x');
    assert.equal(patched.enabled, false);
    assert.deepEqual(patched.when, { annotationType: 'spam', minScore: 0.5, count: 3, windowSeconds: 60, categories: ['ads'] });
    assert.deepEqual(patched.then, { sanction: { type: 'mute', durationSeconds: 300 } });
    assert.equal(patched.createdAt, rule.createdAt);
    const unchanged = await ok(n, 'PATCH', `${P}/automod/rules/${rule.id}`, { name: 'spam 3x' });
    assert.equal(unchanged.updatedAt, patched.updatedAt, 'a no-op patch changes nothing');

    assert.equal((await n.api('DELETE', `${P}/automod/rules/${rule.id}`)).status, 204);
    assertProblem(await n.api('GET', `${P}/automod/rules/${rule.id}`), 404, 'params/ruleId');
    assertProblem(await n.api('PATCH', `${P}/automod/rules/${rule.id}`, { body: { name: 'x' } }), 404, 'params/ruleId');
    assertProblem(await n.api('DELETE', `${P}/automod/rules/${rule.id}`), 404, 'params/ruleId');

    const events = (await eventsSince(n.api, since)).filter((e) => e.resourceId === `automod_rule:${rule.id}`);
    assert.deepEqual(events.map((e) => e.type), ['automod.rule.created', 'automod.rule.updated', 'automod.rule.deleted']);
    assert.deepEqual(events[0]!.payload.data, rule);
    assert.deepEqual(events[1]!.payload.changes, { name: 'spam', enabled: true, when: rule.when, then: rule.then });
  });

  test('malformed rules → 4xx problem+json naming the field', async () => {
    const base = { name: 'r', when: { annotationType: 'tox' }, then: { sanction: { type: 'warn' } } };
    const cases: [unknown, string][] = [
      [{ ...base, then: {} }, 'body/then'],
      [{ ...base, then: { sanction: { type: 'warn' }, review: { priority: 'high' } } }, 'body/then'],
      [{ ...base, then: { sanction: { type: 'temp_ban' } } }, 'body/then/sanction/durationSeconds'],
      [{ ...base, then: { sanction: { type: 'perm_ban', durationSeconds: 60 } } }, 'body/then/sanction/durationSeconds'],
      [{ ...base, then: { sanction: { type: 'nuke' } } }, 'body/then/sanction/type'],
      [{ ...base, then: { sanction: { type: 'mute', durationSeconds: 0 } } }, 'body/then/sanction/durationSeconds'],
      [{ ...base, then: { review: { priority: 'urgent' } } }, 'body/then/review/priority'],
      [{ ...base, then: { ban: true } }, 'body/then/ban'],
      [{ ...base, when: { annotationType: '' } }, 'body/when/annotationType'],
      [{ ...base, when: {} }, 'body/when/annotationType'],
      [{ ...base, when: { annotationType: 'tox', minScore: 1.5 } }, 'body/when/minScore'],
      [{ ...base, when: { annotationType: 'tox', count: 0 } }, 'body/when/count'],
      [{ ...base, when: { annotationType: 'tox', count: 1.5 } }, 'body/when/count'],
      [{ ...base, when: { annotationType: 'tox', windowSeconds: 0 } }, 'body/when/windowSeconds'],
      [{ ...base, when: { annotationType: 'tox', windowSeconds: 2_592_001 } }, 'body/when/windowSeconds'],
      [{ ...base, when: { annotationType: 'tox', categories: [] } }, 'body/when/categories'],
      [{ ...base, when: { annotationType: 'tox', categories: ['  '] } }, 'body/when/categories'],
      [{ ...base, when: { annotationType: 'tox', sometimes: true } }, 'body/when/sometimes'],
      [{ ...base, name: '' }, 'body/name'],
      [{ when: base.when, then: base.then }, 'body/name'],
      [{ ...base, then: undefined }, 'body/then'],
    ];
    for (const [body, field] of cases) {
      const r = await n.api('POST', `${P}/automod/rules`, { body });
      assert.ok(r.status === 400 || r.status === 422, `${JSON.stringify(body)} → ${r.status}`);
      assertProblem(r, r.status, field, JSON.stringify(body));
    }
    // Patches are checked as the merged rule.
    const rule = await createRule(n, base);
    const patches: [unknown, string][] = [
      [{ then: {} }, 'body/then'],
      [{ then: { sanction: { type: 'temp_ban' } } }, 'body/then/sanction/durationSeconds'],
      [{ when: { count: 2 } }, 'body/when/annotationType'],
      [{}, 'body'],
    ];
    for (const [body, field] of patches) {
      const r = await n.api('PATCH', `${P}/automod/rules/${rule.id}`, { body });
      assertProblem(r, 400, field === 'body' ? undefined : field, JSON.stringify(body));
    }
    assert.deepEqual(await ok(n, 'GET', `${P}/automod/rules/${rule.id}`), rule, 'nothing changed');
    // …and so is the dry run's rule.
    assertProblem(await n.api('POST', `${P}/automod/rules/test`, { body: { ...base, then: { sanction: { type: 'temp_ban' } } } }), 400, 'body/then/sanction/durationSeconds');
    assertProblem(await n.api('POST', `${P}/automod/rules/test`, { body: { ...base, sessionId: 'nope' } }), 404, 'body/sessionId');
  });

  test('a key without the automod scope gets 403', async () => {
    const key = (await ok(n, 'POST', '/api/keys', { name: 'mod', scopes: ['sanctions', 'review'] })).key;
    assertProblem(await n.api('GET', `${P}/automod/rules`, { key }), 403);
    assertProblem(await n.api('POST', `${P}/automod/rules`, { key, body: { name: 'x', when: { annotationType: 't' }, then: { review: { priority: 'low' } } } }), 403);
    assertProblem(await n.api('POST', `${P}/automod/rules/test`, { key, body: { when: { annotationType: 't' }, then: { review: { priority: 'low' } } } }), 403);
  });
});

describe('dry run (POST …/automod/rules/test)', () => {
  test('says which recent annotations match and who would be actioned, and writes nothing', async () => {
    const m1 = await say(n, session, 'dry-ivy', 'one');
    const m2 = await say(n, session, 'dry-ivy', 'two');
    const m3 = await say(n, session, 'dry-jon', 'three');
    const m4 = await say(n, session, 'dry-ivy', 'four');
    const a1 = await annotate(n, m1, 'dry', 0.9, 'high', ['hate']);
    const a2 = await annotate(n, m2, 'dry', 0.95, 'medium', ['hate']);
    await annotate(n, m3, 'dry', 0.99, 'high', ['hate']); // jon: one is not enough for count 2
    await annotate(n, m4, 'dry', 0.2, 'low', ['hate']); // below minScore
    await annotate(n, m4, 'dry', 0.99, 'low', ['spam']); // other category
    await annotate(n, m4, 'not-dry', 1, 'high', ['hate']); // other type
    const other = (await ok(n, 'POST', `${P}/sessions`, { title: 'elsewhere' })).id;
    await settled(n);
    const seq = await lastSeq(n.api);
    const sanctionsBefore = (await ok(n, 'GET', `${P}/sanctions?limit=500`)).items.length;

    const rule = { when: { annotationType: 'dry', minScore: 0.5, count: 2, categories: ['hate'] }, then: { sanction: { type: 'warn' } } };
    const r = await ok(n, 'POST', `${P}/automod/rules/test`, rule, 200);
    assert.equal(r.scanned, 5, 'the annotations of the rule\'s type');
    assert.deepEqual(r.matches.map((x: J) => x.annotation.id).sort(), [a1.id, a2.id, r.matches.find((x: J) => x.message.id === m3.id).annotation.id].sort());
    assert.equal(r.matches[0].message.id, m3.id, 'newest first');
    assert.equal(r.matches[0].message.content, 'three');
    assert.equal(r.actions.length, 1);
    assert.deepEqual(r.actions[0], {
      participantId: m1.participantId,
      participant: r.actions[0].participant,
      action: 'sanction',
      at: a2.createdAt,
      annotationIds: [a1.id, a2.id],
      messageIds: [m1.id, m2.id],
    });
    assert.equal(r.actions[0].participant.externalUserId, 'dry-ivy');

    // limit and sessionId narrow what is replayed; a review rule says so.
    const none = await ok(n, 'POST', `${P}/automod/rules/test`, { ...rule, sessionId: other }, 200);
    assert.deepEqual(none, { scanned: 0, matches: [], actions: [] });
    const limited = await ok(n, 'POST', `${P}/automod/rules/test`, { ...rule, when: { ...rule.when, count: 1 }, then: { review: { priority: 'high' } }, limit: 3 }, 200);
    assert.equal(limited.scanned, 3);
    assert.deepEqual(limited.actions.map((x: J) => [x.action, x.participant.externalUserId]), [['review', 'dry-jon']]);

    assert.equal(await lastSeq(n.api), seq, 'no event was written');
    assert.equal((await ok(n, 'GET', `${P}/sanctions?limit=500`)).items.length, sanctionsBefore, 'no sanction was created');
    assert.equal((await ok(n, 'GET', `${P}/review`)).items.length, 0, 'no review item was opened');
  });
});

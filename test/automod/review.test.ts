/**
 * The review queue: review rules open ranked items (one open item per message), which
 * moderators resolve by dismissing or sanctioning; another tenant or project sees none of it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { assertProblem, eventsSince, lastSeq, makeOtherTenant } from '../api/helpers.js';
import { annotate, createRule, ok, P, removeDir, sanctionsOf, say, settled, startNode, tempDir, type J, type Node } from './helpers.js';

let n: Node;
let session: string;
/** Items opened in the ranking test, for the later ones. */
const items: Record<string, J> = {};

before(async () => {
  n = await startNode(await tempDir());
  session = (await n.api('POST', `${P}/sessions`, { body: { title: 'review' } })).json.id;
});
after(async () => {
  await n.stop();
  await removeDir(n.dataDir);
});

const queue = async (query = ''): Promise<J> => ok(n, 'GET', `${P}/review${query}`, undefined, 200);

describe('review queue', () => {
  test('review rules open items ranked by priority, then severity, then newest, with message, annotations and speaker', async () => {
    const high = await createRule(n, { name: 'threats', when: { annotationType: 'threat', minScore: 0.5 }, then: { review: { priority: 'high' } } });
    await createRule(n, { name: 'spam', when: { annotationType: 'spam' }, then: { review: { priority: 'low' } } });
    const since = await lastSeq(n.api);
    const mLow1 = await say(n, session, 'rev-kim', 'buy gold');
    const mHigh1 = await say(n, session, 'rev-lee', 'I will find you');
    const mLow2 = await say(n, session, 'rev-kim', 'cheap gold');
    const mHigh2 = await say(n, session, 'rev-max', 'watch your back');
    const mClean = await say(n, session, 'rev-max', 'gg');
    await annotate(n, mLow1, 'spam', 0.7, 'low');
    await annotate(n, mHigh1, 'threat', 0.9, 'medium');
    await annotate(n, mLow2, 'spam', 0.7, 'low');
    const h2 = await annotate(n, mHigh2, 'threat', 0.8, 'medium', ['violence']);
    await annotate(n, mHigh2, 'sentiment', 0.1, null); // not evidence, but shown with the message
    await annotate(n, mClean, 'threat', 0.1, 'low');
    await settled(n);

    const page = await queue();
    assert.deepEqual(page.items.map((i: J) => i.messageId), [mHigh2.id, mHigh1.id, mLow2.id, mLow1.id], 'high before low; newer first within a priority');
    assert.equal(page.nextCursor, null);
    const top = page.items[0];
    assert.equal(top.status, 'open');
    assert.equal(top.priority, 'high');
    assert.equal(top.severity, 'medium');
    assert.equal(top.ruleId, high.id);
    assert.deepEqual(top.ruleIds, [high.id]);
    assert.deepEqual(top.evidenceAnnotationIds, [h2.id]);
    assert.equal(top.participantId, mHigh2.participantId);
    assert.equal(top.sessionId, session);
    assert.equal(top.message.content, 'watch your back');
    assert.equal(top.message.id, mHigh2.id);
    assert.deepEqual(top.annotations.map((a: J) => a.type), ['threat', 'sentiment']);
    assert.deepEqual(top.annotations[0].content, { categories: ['violence'] });
    assert.equal(top.participant.externalUserId, 'rev-max');
    assert.deepEqual([top.decision, top.sanctionId, top.note, top.resolvedBy, top.resolvedAt], [null, null, null, null, null]);
    assert.deepEqual(await ok(n, 'GET', `${P}/review/${top.id}`), top);

    const created = (await eventsSince(n.api, since)).filter((e) => e.type === 'review.created');
    assert.equal(created.length, 4);
    const ev = created.find((e) => e.resourceId === `review:${top.id}`)!;
    assert.equal(ev.source, 'automod');
    assert.equal((ev.payload.data as J).id, top.id);
    assert.equal((ev.payload.data as J).message, undefined, 'the event carries the item, not the message text');
    Object.assign(items, { high2: page.items[0], high1: page.items[1], low2: page.items[2], low1: page.items[3] });
  });

  test('within a priority, higher severity ranks first; a second rule flagging an open message raises it instead of opening another', async () => {
    const sev = await createRule(n, { name: 'slurs', when: { annotationType: 'slur' }, then: { review: { priority: 'medium' } } });
    const mA = await say(n, session, 'rev-ned', 'a');
    const mB = await say(n, session, 'rev-ned', 'b');
    await annotate(n, mA, 'slur', 1, 'high');
    await annotate(n, mB, 'slur', 1, 'low');
    await settled(n);
    let order = (await queue()).items.map((i: J) => i.messageId);
    assert.deepEqual(order.slice(2, 4), [mA.id, mB.id], 'medium priority: high severity before the newer low one');

    // The older spam message gets a slur annotation too: same open item, raised to medium (and high severity).
    const before = (await queue()).items.length;
    const since = await lastSeq(n.api);
    const extra = await annotate(n, { sessionId: session, id: items.low1.messageId }, 'slur', 1, 'high');
    await settled(n);
    const after = await queue();
    assert.equal(after.items.length, before, 'no second open item for the message');
    const raised = after.items.find((i: J) => i.id === items.low1.id);
    assert.equal(raised.priority, 'medium');
    assert.equal(raised.severity, 'high');
    assert.deepEqual(raised.ruleIds.length, 2);
    assert.ok(raised.ruleIds.includes(sev.id));
    assert.ok(raised.evidenceAnnotationIds.includes(extra.id));
    const updated = (await eventsSince(n.api, since)).filter((e) => e.type === 'review.updated');
    assert.equal(updated.length, 1, 'live views learn of the re-ranking');
    assert.deepEqual(updated[0]!.payload.changes, { priority: 'low', severity: 'low' });
    order = after.items.map((i: J) => i.messageId);
    // Medium priority now holds mA and the raised item (both high severity: newer first), then mB (low severity).
    assert.deepEqual(order, [items.high2.messageId, items.high1.messageId, mA.id, items.low1.messageId, mB.id, items.low2.messageId]);
  });

  test('paging walks the same order without overlap; a foreign cursor is a 400', async () => {
    const all = (await queue()).items.map((i: J) => i.id);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: J = await queue(`?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      assert.ok(page.items.length <= 2);
      seen.push(...page.items.map((i: J) => i.id));
      cursor = page.nextCursor;
    } while (cursor);
    assert.deepEqual(seen, all);
    assertProblem(await n.api('GET', `${P}/review?cursor=${Buffer.from('nope').toString('base64url')}`), 400, 'query/cursor');
    assertProblem(await n.api('GET', `${P}/review?status=closed`), 400, 'query/status');
  });

  test('resolve: dismiss; sanction (the participant\'s active sanctions show it); twice → 409; malformed → 400 naming the field', async () => {
    const since = await lastSeq(n.api);
    const dismissed = await ok(n, 'POST', `${P}/review/${items.low2.id}/resolve`, { decision: 'dismiss', note: 'just ads' }, 200);
    assert.equal(dismissed.status, 'resolved');
    assert.equal(dismissed.decision, 'dismiss');
    assert.equal(dismissed.note, 'just ads');
    assert.equal(dismissed.sanctionId, null);
    assert.match(dismissed.resolvedBy, /^key:/);
    assert.ok(dismissed.resolvedAt);
    assert.equal(dismissed.message.id, items.low2.messageId);

    const bad: [unknown, string][] = [
      [{ decision: 'sanction' }, 'body/sanction'],
      [{ decision: 'sanction', sanction: { type: 'temp_ban' } }, 'body/sanction/durationSeconds'],
      [{ decision: 'sanction', sanction: { type: 'perm_ban', durationSeconds: 5 } }, 'body/sanction/durationSeconds'],
      [{ decision: 'dismiss', sanction: { type: 'warn' } }, 'body/sanction'],
      [{ decision: 'ban' }, 'body/decision'],
      [{}, 'body/decision'],
    ];
    for (const [body, field] of bad) assertProblem(await n.api('POST', `${P}/review/${items.high1.id}/resolve`, { body }), 400, field, JSON.stringify(body));

    const sanctioned = await ok(n, 'POST', `${P}/review/${items.high1.id}/resolve`, {
      decision: 'sanction', sanction: { type: 'temp_ban', durationSeconds: 86_400, reason: 'threats' }, note: 'clear threat',
    }, 200);
    assert.equal(sanctioned.decision, 'sanction');
    assert.ok(sanctioned.sanctionId);
    const active = await sanctionsOf(n, items.high1.participantId, '?active=true');
    assert.equal(active.length, 1);
    assert.equal(active[0].id, sanctioned.sanctionId);
    assert.equal(active[0].type, 'temp_ban');
    assert.equal(active[0].reason, 'threats');
    assert.equal(active[0].createdByUserId, sanctioned.resolvedBy);
    assert.match(active[0].createdByUserId, /^key:/);
    assert.equal(active[0].metadata.reviewItemId, items.high1.id);
    assert.deepEqual(await sanctionsOf(n, items.high1.participantId, '?active=false'), []);

    assertProblem(await n.api('POST', `${P}/review/${items.high1.id}/resolve`, { body: { decision: 'dismiss' } }), 409);
    assertProblem(await n.api('POST', `${P}/review/${items.low2.id}/resolve`, { body: { decision: 'sanction', sanction: { type: 'warn' } } }), 409);
    assertProblem(await n.api('POST', `${P}/review/0190a000-0000-7000-8000-000000000000/resolve`, { body: { decision: 'dismiss' } }), 404, 'params/itemId');
    assert.equal((await sanctionsOf(n, items.low2.participantId)).length, 0, 'the 409 created no sanction');

    const open = (await queue()).items.map((i: J) => i.id);
    assert.ok(!open.includes(items.low2.id) && !open.includes(items.high1.id));
    const resolved = (await queue('?status=resolved')).items.map((i: J) => i.id);
    assert.deepEqual(resolved, [items.high1.id, items.low2.id], 'ranked the same way');

    const events = (await eventsSince(n.api, since)).filter((e) => e.type === 'review.resolved' || e.type === 'sanction.created');
    assert.deepEqual(events.map((e) => [e.type, e.resourceId]), [
      ['review.resolved', `review:${items.low2.id}`],
      ['sanction.created', `sanction:${sanctioned.sanctionId}`],
      ['review.resolved', `review:${items.high1.id}`],
    ]);
    const data = events[2]!.payload.data as J;
    assert.equal(data.status, 'resolved');
    assert.equal(data.sanctionId, sanctioned.sanctionId);

    // A flag after resolution opens a new item for the message.
    await annotate(n, { sessionId: session, id: items.low2.messageId }, 'spam', 0.9, 'low');
    await settled(n);
    const reopened = (await queue()).items.filter((i: J) => i.messageId === items.low2.messageId);
    assert.equal(reopened.length, 1);
    assert.notEqual(reopened[0].id, items.low2.id);
  });

  test('participant sanctions: 404 for an unknown participant; active=false lists revoked ones', async () => {
    assertProblem(await n.api('GET', `${P}/participants/nope/sanctions`), 404, 'params/participantId');
    const p = items.high2.participantId;
    const s = await ok(n, 'POST', `${P}/sanctions`, { type: 'warn', participantId: p }, 201);
    await ok(n, 'POST', `${P}/sanctions/${s.id}/revoke`, {}, 200);
    assert.deepEqual((await sanctionsOf(n, p, '?active=false')).map((x: J) => x.id), [s.id]);
    assert.deepEqual(await sanctionsOf(n, p, '?active=true'), []);
    assert.deepEqual((await sanctionsOf(n, p)).map((x: J) => x.id), [s.id]);
  });

  test('tenant and project isolation: another tenant\'s or project\'s key can neither see nor resolve items', async () => {
    const otherKey = makeOtherTenant(n.cortex);
    const item = items.high2;
    const foreign = ['/api/projects/other-proj', P];
    for (const base of foreign) {
      for (const [method, path, body] of [
        ['GET', `${base}/review/${item.id}`, undefined],
        ['POST', `${base}/review/${item.id}/resolve`, { decision: 'dismiss' }],
        ['GET', base === P ? `${base}/automod/rules` : `${base}/review/${item.id}`, undefined],
        ['GET', `${base}/participants/${item.participantId}/sanctions`, undefined],
      ] as const) {
        const r = await n.api(method, path, { key: otherKey, body });
        assertProblem(r, 404, undefined, `${method} ${path}`);
        assert.ok(!r.text.includes(item.message.content), 'no leak');
      }
    }
    const own = await n.api('GET', '/api/projects/other-proj/review', { key: otherKey });
    assert.equal(own.status, 200);
    assert.deepEqual(own.json.items, []);
    assert.deepEqual((await n.api('GET', '/api/projects/other-proj/automod/rules', { key: otherKey })).json.items, []);

    // A key of another project in the same tenant.
    n.cortex.domain.tenancy.createProject('local', { id: 'second', name: 'Second' });
    const projectKey = (await ok(n, 'POST', '/api/keys', { name: 'second-mod', scopes: ['review', 'automod'], projectId: 'second' })).key;
    assertProblem(await n.api('GET', `${P}/review`, { key: projectKey }), 404, 'params/projectId');
    assertProblem(await n.api('GET', `/api/projects/second/review/${item.id}`, { key: projectKey }), 404, 'params/itemId');
    assertProblem(await n.api('POST', `/api/projects/second/review/${item.id}/resolve`, { key: projectKey, body: { decision: 'dismiss' } }), 404, 'params/itemId');
    // A key without the review scope.
    const noReview = (await ok(n, 'POST', '/api/keys', { name: 'rules-only', scopes: ['automod'] })).key;
    assertProblem(await n.api('GET', `${P}/review`, { key: noReview }), 403);

    assert.equal((await ok(n, 'GET', `${P}/review/${item.id}`)).status, 'open', 'still open');
  });
});

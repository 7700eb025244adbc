/**
 * Exactly once across restarts: annotations committed while the evaluator was not running are
 * acted on after a restart, once; rewinding the evaluator's cursor (a replay of the whole log)
 * creates nothing more.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { eventsSince } from '../api/helpers.js';
import { annotate, createRule, ok, P, removeDir, say, settled, startNode, tempDir, until, type J, type Node } from './helpers.js';

let dir = '';
let n: Node | null = null;
after(async () => {
  await n?.stop();
  if (dir) await removeDir(dir);
});

const count = async (node: Node) => {
  const sanctions = (await ok(node, 'GET', `${P}/sanctions?limit=500`)).items.filter((s: J) => String(s.createdByUserId).startsWith('automod:'));
  const review = (await ok(node, 'GET', `${P}/review?limit=500`)).items;
  const events = await eventsSince(node.api, 0);
  return {
    sanctions: sanctions.length,
    review: review.length,
    reviewEvidence: review.map((i: J) => i.evidenceAnnotationIds.length).sort(),
    sanctionEvents: events.filter((e) => e.type === 'sanction.created').length,
    reviewEvents: events.filter((e) => e.type === 'review.created').length,
  };
};

test('a backlog committed while the evaluator was down is acted on once after a restart; a replayed log acts on nothing again', async () => {
  dir = await tempDir();
  n = await startNode(dir);
  const session = (await ok(n, 'POST', `${P}/sessions`, { title: 'restart' })).id;
  await createRule(n, { name: 'pairs', when: { annotationType: 'tox', minScore: 0.5, count: 2 }, then: { sanction: { type: 'mute', durationSeconds: 3600 } } });
  await createRule(n, { name: 'look', when: { annotationType: 'tox', minScore: 0.9 }, then: { review: { priority: 'medium' } } });
  await settled(n);

  // The evaluator stops; the API keeps committing annotations (as a crash before it ran would leave them).
  n.cortex.automod.close();
  const seqBefore = n.cortex.automod.evaluator.evaluatedSeq;
  const users = ['ann', 'ben', 'cat'];
  for (const u of users) {
    for (let i = 0; i < 5; i++) {
      const m = await say(n, session, `rs-${u}`, `${u} ${i}`);
      await annotate(n, m, 'tox', i === 0 ? 0.95 : 0.6, 'medium');
    }
  }
  const dead = await count(n);
  assert.deepEqual([dead.sanctions, dead.review], [0, 0], 'nothing was evaluated');
  assert.equal(n.cortex.automod.evaluator.evaluatedSeq, seqBefore);
  await n.stop();

  // Restart: it catches up from its cursor. 5 annotations per user → 2 pairs → 2 sanctions each; 1 review item each.
  n = await startNode(dir);
  const expected = { sanctions: 6, review: 3, reviewEvidence: [1, 1, 1], sanctionEvents: 6, reviewEvents: 3 };
  await until(async () => (await count(n!)).sanctions === 6, 'the backlog to be acted on');
  await settled(n);
  assert.deepEqual(await count(n), expected);
  await n.stop();

  // Rewind the cursor to the very start (a replay of the whole log), with the server down.
  const db = new Database(join(dir, 'cortex.db'));
  const cursor = db.prepare("SELECT seq FROM consumer_cursors WHERE name = 'automod'").get() as { seq: number };
  assert.ok(cursor.seq > seqBefore, 'the cursor moved with the actions');
  db.prepare("UPDATE consumer_cursors SET seq = 0 WHERE name = 'automod'").run();
  db.close();
  n = await startNode(dir);
  await settled(n);
  assert.equal(n.cortex.automod.evaluator.evaluatedSeq, n.cortex.events.lastSeq());
  assert.deepEqual(await count(n), expected, 'the same evidence never acts twice');

  // And it still acts on new evidence after all that.
  const m = await say(n, session, 'rs-ann', 'again');
  await annotate(n, m, 'tox', 0.6);
  const m2 = await say(n, session, 'rs-ann', 'and again');
  await annotate(n, m2, 'tox', 0.6);
  await settled(n);
  assert.equal((await count(n)).sanctions, 7);
});

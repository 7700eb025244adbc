/**
 * The whole chain through the public REST API: a message is posted → the toxicity plugin
 * annotates it → an automod rule sanctions the speaker (sanction.created, createdByUserId
 * `automod:<ruleId>`) or puts it on the review queue. Clean messages lead to nothing;
 * obfuscated variants and a project's own word list are caught.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { eventsSince, lastSeq, P, startServer, until, type J, type Server } from '../api/helpers.js';

let s: Server;
let session: string;

async function post(content: string, externalUserId: string): Promise<J> {
  const r = await s.api('POST', `${P}/sessions/${session}/messages`, { body: { content, externalUserId } });
  assert.equal(r.status, 201, r.text);
  return r.json;
}

const toxicityOf = async (messageId: string): Promise<J | undefined> =>
  (await s.api('GET', `${P}/sessions/${session}/messages/${messageId}`)).json.annotations.find((a: J) => a.pluginId === 'toxicity');

/** Waits until the toxicity plugin has handled everything posted so far. */
const drained = () => until(async () => (await s.api('GET', `${P}/plugins/toxicity/status`)).json.backlog === 0 && true, 'toxicity caught up');

before(async () => {
  s = await startServer();
  session = (await s.api('POST', `${P}/sessions`, { body: { title: 'lobby' } })).json.id;
  const r = await s.api('POST', `${P}/plugins`, { body: { pluginId: 'toxicity', settings: { customWords: [{ word: 'grimbly', category: 'insult', severity: 'high' }] } } });
  assert.equal(r.status, 201, r.text);
});
after(() => s.close());

test('toxic message → annotation above threshold → automod sanction → sanction.created', async () => {
  const rule = (await s.api('POST', `${P}/automod/rules`, {
    body: { name: 'mute the toxic', when: { annotationType: 'toxicity', minScore: 0.5 }, then: { sanction: { type: 'mute', durationSeconds: 600, reason: 'toxic language' } } },
  })).json;
  assert.ok(rule.id, JSON.stringify(rule));
  const since = await lastSeq(s.api);
  const clean = await post('good game everyone, well played', 'nice-player');
  const toxic = await post('shut up you worthless fucking idiot', 'troll');
  const a = await until(() => toxicityOf(toxic.id), 'toxicity annotation');
  assert.ok(a.score >= 0.5, `score ${a.score}`);
  assert.ok(a.content.categories.includes('insult') || a.content.categories.includes('profanity'), JSON.stringify(a.content));
  const created = await until(async () => (await eventsSince(s.api, since)).find((e) => e.type === 'sanction.created'), 'sanction.created');
  const sanction = created.payload.data as J;
  assert.equal(sanction.createdByUserId, `automod:${rule.id}`);
  assert.equal(sanction.participantId, toxic.participantId);
  assert.equal(sanction.type, 'mute');
  const active = (await s.api('GET', `${P}/participants/${toxic.participantId}/sanctions?active=true`)).json.items;
  assert.deepEqual(active.map((x: J) => x.id), [sanction.id]);
  await drained();
  assert.equal(await toxicityOf(clean.id), undefined, 'a clean message is not annotated');
  assert.deepEqual((await s.api('GET', `${P}/participants/${clean.participantId}/sanctions`)).json.items, [], 'nor sanctioned');
  assert.equal((await s.api('DELETE', `${P}/automod/rules/${rule.id}`)).status, 204);
});

test('obfuscated variants are caught; clean look-alikes are not', async () => {
  const toxic = ['f u c k you', 'fuuuuuck this', 'what a piece of sh1t', 'F.U.C.K off', 'you b1tch', 'I will kill you'];
  const clean = ['classic assassin build', 'I passed the exam', 'see you in Scunthorpe', 'the cocktail was great'];
  const posted = [];
  for (const t of [...toxic, ...clean]) posted.push({ t, m: await post(t, 'variants') });
  await drained();
  for (const { t, m } of posted) {
    const a = await toxicityOf(m.id);
    if (toxic.includes(t)) assert.ok(a && a.score > 0, `"${t}" caught`);
    else assert.equal(a, undefined, `"${t}" not flagged`);
  }
  const threat = await toxicityOf(posted[5]!.m.id);
  assert.ok(threat.content.categories.includes('threat'));
  assert.equal(threat.severity, 'high');
});

test("a project's own word list works, obfuscated too; a review rule ranks it for a moderator", async () => {
  const rule = (await s.api('POST', `${P}/automod/rules`, {
    body: { name: 'review custom insults', when: { annotationType: 'toxicity', categories: ['insult'] }, then: { review: { priority: 'high' } } },
  })).json;
  const m1 = await post('you are such a grimbly', 'custom-1');
  const m2 = await post('total gr1mblyyy move', 'custom-2');
  for (const m of [m1, m2]) {
    const a = await until(() => toxicityOf(m.id), 'custom word annotation');
    assert.ok(a.content.categories.includes('insult'));
    assert.equal(a.severity, 'high');
  }
  const items = await until(async () => {
    const r = (await s.api('GET', `${P}/review`)).json.items as J[];
    return r.filter((i) => i.message?.id === m1.id || i.message?.id === m2.id).length === 2 && r;
  }, 'two review items');
  const item = items.find((i: J) => i.message.id === m2.id);
  assert.equal(item.priority, 'high');
  assert.equal(item.participant.externalUserId, 'custom-2');
  assert.ok(item.annotations.some((a: J) => a.pluginId === 'toxicity'));
  const resolved = await s.api('POST', `${P}/review/${item.id}/resolve`, { body: { decision: 'sanction', sanction: { type: 'temp_ban', durationSeconds: 3600, reason: 'custom insult' } } });
  assert.equal(resolved.status, 200, resolved.text);
  const bans = (await s.api('GET', `${P}/participants/${m2.participantId}/sanctions?active=true`)).json.items;
  assert.equal(bans.length, 1);
  assert.equal(bans[0].type, 'temp_ban');
  assert.equal((await s.api('DELETE', `${P}/automod/rules/${rule.id}`)).status, 204);
});

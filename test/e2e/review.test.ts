/**
 * The review queue in Chromium against a real Cortex: an automod review rule flags annotated
 * messages (all over REST) → the items appear live and ranked; worked with the keyboard only:
 * move, temp-ban with a picked duration (visible over REST), undo (revoked over REST), dismiss
 * (resolved over REST), the help toggle, and a failure shown in plain words.
 * Run with `node --import tsx --test test/e2e/review.test.ts` after `npx vite build`.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Page } from 'playwright-core';
import type { ReviewItemView } from '../../common/automod-schemas.js';
import type { Message, Participant, Sanction, Session } from '../../common/schemas.js';
import { LIVE_TIMEOUT, screenshots, startConsole, type Console } from './support.js';

let c: Console;
before(async () => {
  c = await startConsole();
});
after(async () => {
  await c?.close();
});

const item = (page: Page, messageId: string) => page.locator(`[data-testid="review-item"][data-message-id="${messageId}"]`);
const selectedMessage = (page: Page) => page.locator('[data-testid="review-item"][aria-selected="true"]').getAttribute('data-message-id');
const queueOrder = (page: Page) => page.$$eval('[data-testid="review-item"]', (els) => els.map((e) => (e as HTMLElement).dataset.messageId));

async function waitFor(what: string, fn: () => Promise<boolean>): Promise<void> {
  const end = Date.now() + LIVE_TIMEOUT;
  for (;;) {
    if (await fn()) return;
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('review queue: live and ranked; temp-ban with a duration, undo, dismiss — keyboard only', async () => {
  await c.api('POST', '/automod/rules', { name: 'Toxic → review', when: { annotationType: 'toxicity', minScore: 0.5 }, then: { review: { priority: 'high' } } });
  const session = await c.api<Session>('POST', '/sessions', { title: 'Ranked #77' });
  const say = (who: string, name: string, content: string) =>
    c.api<Message>('POST', `/sessions/${session.id}/messages`, { content, externalUserId: who, senderName: name });
  const annotate = (m: Message, score: number, severity: 'low' | 'medium' | 'high') =>
    c.api('POST', `/sessions/${session.id}/messages/${m.id}/annotations`, { type: 'toxicity', score, severity, content: { categories: ['insult'] } });

  const { page, problems } = await c.open('review');
  try {
    await page.locator('[data-testid="review-list"][data-state="ready"]').waitFor({ timeout: LIVE_TIMEOUT });
    await page.locator('[data-testid="connection"][data-state="live"][data-open-streams="1"]').waitFor({ timeout: LIVE_TIMEOUT });
    await page.getByText('Nothing to review').waitFor({ timeout: LIVE_TIMEOUT });

    // Flagged over REST → appear live, ranked: severity high before medium, newest first within.
    const m1 = await say('player-7', 'Vex', 'you are all useless, uninstall');
    const m2 = await say('player-8', 'Moth', 'that was a dumb play');
    const m3 = await say('player-9', 'Rook', 'go away loser');
    const quiet = await say('player-10', 'Nice', 'gg well played');
    await annotate(m1, 0.9, 'high');
    await item(page, m1.id).waitFor({ timeout: LIVE_TIMEOUT });
    await annotate(m2, 0.7, 'medium');
    await annotate(quiet, 0.1, 'low'); // under the rule's minScore: never queued
    await annotate(m3, 0.95, 'high');
    await item(page, m2.id).waitFor({ timeout: LIVE_TIMEOUT });
    await item(page, m3.id).waitFor({ timeout: LIVE_TIMEOUT });
    assert.deepEqual(await queueOrder(page), [m3.id, m1.id, m2.id]);
    const badge = item(page, m1.id).getByTestId('annotation-badge');
    assert.match((await badge.textContent()) ?? '', /toxicity.*0\.90.*high.*insult/);

    // The first item is selected and focused; the detail shows message, speaker, annotations.
    await waitFor('first item focused', async () => (await page.evaluate(() => document.activeElement?.getAttribute('data-message-id'))) === m3.id);
    await page.getByTestId('review-message').getByText('go away loser').waitFor({ timeout: LIVE_TIMEOUT });

    // ? toggles the shortcut help.
    await page.keyboard.press('?');
    await page.getByTestId('review-help').waitFor({ timeout: LIVE_TIMEOUT });
    await screenshots(page, 'review');
    await page.keyboard.press('?');
    await page.getByTestId('review-help').waitFor({ state: 'detached', timeout: LIVE_TIMEOUT });

    // j moves to Vex's message; b opens the duration picker; ↓ picks "1 day"; Enter applies.
    await page.keyboard.press('j');
    await waitFor('m1 selected', async () => (await selectedMessage(page)) === m1.id);
    await page.keyboard.press('k');
    await waitFor('m3 selected', async () => (await selectedMessage(page)) === m3.id);
    await page.keyboard.press('ArrowDown');
    await waitFor('m1 selected again', async () => (await selectedMessage(page)) === m1.id);
    await page.keyboard.press('b');
    await page.getByTestId('duration-picker').waitFor({ timeout: LIVE_TIMEOUT });
    await page.keyboard.press('ArrowDown');
    await page.locator('[data-testid="duration-86400"][aria-checked="true"]').waitFor({ timeout: LIVE_TIMEOUT });
    await screenshots(page, 'review-picker');
    await page.keyboard.press('Enter');
    await page.getByTestId('review-status').getByText('Banned Vex for 1 day — press u to undo.').waitFor({ timeout: LIVE_TIMEOUT });
    await item(page, m1.id).waitFor({ state: 'detached', timeout: LIVE_TIMEOUT });
    // The action moved on to the next item.
    await waitFor('m2 selected after the ban', async () => (await selectedMessage(page)) === m2.id);

    const vex = (await c.api<{ items: Participant[] }>('GET', '/participants?q=player-7')).items[0]!;
    const active = await c.api<{ items: Sanction[] }>('GET', `/participants/${vex.id}/sanctions?active=true`);
    assert.equal(active.items.length, 1);
    const ban = active.items[0]!;
    assert.equal(ban.type, 'temp_ban');
    assert.equal((Date.parse(ban.endAt!) - Date.parse(ban.startAt)) / 1000, 86_400);
    assert.match(ban.reason ?? '', /toxicity 0\.90/);

    // u revokes it.
    await page.keyboard.press('u');
    await page.getByTestId('review-status').getByText(/Undone: the 1 day ban of Vex is revoked/).waitFor({ timeout: LIVE_TIMEOUT });
    assert.equal((await c.api<Sanction>('GET', `/sanctions/${ban.id}`)).status, 'revoked');
    assert.equal((await c.api<{ items: Sanction[] }>('GET', `/participants/${vex.id}/sanctions?active=true`)).items.length, 0);

    // d dismisses Moth's (selected) item.
    const m2Item = (await c.api<{ items: ReviewItemView[] }>('GET', '/review?status=open')).items.find((i) => i.messageId === m2.id)!;
    await page.keyboard.press('d');
    await page.getByTestId('review-status').getByText("Dismissed the flag on Moth's message.").waitFor({ timeout: LIVE_TIMEOUT });
    await item(page, m2.id).waitFor({ state: 'detached', timeout: LIVE_TIMEOUT });
    const resolved = await c.api<ReviewItemView>('GET', `/review/${m2Item.id}`);
    assert.equal(resolved.status, 'resolved');
    assert.equal(resolved.decision, 'dismiss');
    assert.equal(resolved.sanctionId, null);

    // Resolved elsewhere (another moderator, over REST) → leaves the queue live.
    const m3Item = (await c.api<{ items: ReviewItemView[] }>('GET', '/review?status=open')).items.find((i) => i.messageId === m3.id)!;
    await c.api('POST', `/review/${m3Item.id}/resolve`, { decision: 'sanction', sanction: { type: 'mute', durationSeconds: 600 } });
    await item(page, m3.id).waitFor({ state: 'detached', timeout: LIVE_TIMEOUT });
    await page.getByText('Nothing to review').waitFor({ timeout: LIVE_TIMEOUT });

    // A failed action is reported in plain words: a 1 h mute of a message whose item a
    // second tab resolves first (the UI still has it) answers 409.
    const m4 = await say('player-11', 'Ash', 'trash team');
    await annotate(m4, 0.8, 'high');
    await item(page, m4.id).waitFor({ timeout: LIVE_TIMEOUT });
    await waitFor('m4 selected', async () => (await selectedMessage(page)) === m4.id);
    await page.keyboard.press('m');
    await page.getByTestId('duration-picker').waitFor({ timeout: LIVE_TIMEOUT });
    await page.keyboard.press('Escape');
    await page.getByTestId('duration-picker').waitFor({ state: 'detached', timeout: LIVE_TIMEOUT });
    await page.keyboard.press('m');
    await page.keyboard.press('2');
    await page.getByTestId('review-status').getByText('Muted Ash for 1 h — press u to undo.').waitFor({ timeout: LIVE_TIMEOUT });
    const ash = (await c.api<{ items: Participant[] }>('GET', '/participants?q=player-11')).items[0]!;
    const mute = (await c.api<{ items: Sanction[] }>('GET', `/participants/${ash.id}/sanctions?active=true`)).items[0]!;
    assert.equal(mute.type, 'mute');
    assert.equal((Date.parse(mute.endAt!) - Date.parse(mute.startAt)) / 1000, 3600);
    // Revoked elsewhere first → undo reports the conflict in plain words.
    await c.api('POST', `/sanctions/${mute.id}/revoke`);
    await page.keyboard.press('u');
    await page.getByTestId('review-error').getByText(/Could not undo the mute of Ash: sanction is already revoked/).waitFor({ timeout: LIVE_TIMEOUT });
    await screenshots(page, 'review-empty');

    // Chromium logs every non-2xx response; the one 409 above was provoked on purpose.
    assert.deepEqual(problems.filter((p) => !p.includes('status of 409')), []);
    assert.equal(problems.length, 1);
  } finally {
    await page.context().close();
  }
});

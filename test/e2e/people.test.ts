/**
 * Participants, sanctions and gatherings in Chromium against a real Cortex: search, a
 * participant's profile with history and sanctions (live), revoking with a reason from the
 * sanctions view (visible over REST), and gatherings with their members' states (live).
 * Run with `node --import tsx --test test/e2e/people.test.ts` after `npx vite build`.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Page } from 'playwright-core';
import type { Gathering, GatheringMember, Message, Participant, Sanction, Session } from '../../common/schemas.js';
import { LIVE_TIMEOUT, screenshots, startConsole, type Console } from './support.js';

let c: Console;
before(async () => {
  c = await startConsole();
});
after(async () => {
  await c?.close();
});

const go = (page: Page, path: string) => page.evaluate((p) => (window.location.hash = `#/${p}`), path);
const streams = (page: Page, n: number) =>
  page.locator(`[data-testid="connection"][data-state="live"][data-open-streams="${n}"]`).waitFor({ timeout: LIVE_TIMEOUT });

test('participants: search, profile with history and sanctions; sanctions: revoke with a reason; all live', async () => {
  const vex = await c.api<Participant>('POST', '/participants', { externalUserId: 'steam:7001', displayName: 'Vex' });
  await c.api<Participant>('POST', '/participants', { externalUserId: 'steam:7002', displayName: 'Moth' });
  await c.api<Participant>('POST', '/participants', { externalUserId: 'xbox:rook', displayName: 'Rook' });
  const session = await c.api<Session>('POST', '/sessions', { title: 'Ranked #4411' });
  const m1 = await c.api<Message>('POST', `/sessions/${session.id}/messages`, { content: 'uninstall the game', participantId: vex.id });
  await c.api('POST', `/sessions/${session.id}/messages/${m1.id}/annotations`, { type: 'toxicity', score: 0.91, severity: 'high' });
  const ban = await c.api<Sanction>('POST', '/sanctions', { type: 'temp_ban', participantId: vex.id, durationSeconds: 3600, reason: 'toxic in voice' });
  const warn = await c.api<Sanction>('POST', '/sanctions', { type: 'warn', participantId: vex.id, reason: 'spam' });
  const old = await c.api<Sanction>('POST', '/sanctions', { type: 'mute', externalUserId: 'steam:7002', durationSeconds: 600, reason: 'shouting' });
  await c.api('POST', `/sanctions/${old.id}/revoke`, { reason: 'appeal accepted' });

  const { page, problems } = await c.open('participants');
  try {
    // Search (typing only), and a new match created over REST joins the results live.
    const results = page.getByTestId('participant-results');
    await page.locator('[data-testid="participant-results"][data-state="ready"]').waitFor({ timeout: LIVE_TIMEOUT });
    assert.equal(await page.getByTestId('participant-row').count(), 3);
    await streams(page, 1);
    await page.getByTestId('participant-search').fill('STEAM:700');
    await page.locator('[data-testid="participant-results"][data-state="ready"][data-q="STEAM:700"]').waitFor({ timeout: LIVE_TIMEOUT });
    assert.equal(await page.getByTestId('participant-row').count(), 2);
    await page.getByTestId('participant-search').fill('vex');
    await page.locator('[data-testid="participant-results"][data-state="ready"][data-q="vex"]').waitFor({ timeout: LIVE_TIMEOUT });
    assert.deepEqual(await results.getByTestId('participant-row').evaluateAll((els) => els.map((e) => e.textContent)), ['Vexsteam:7001']);
    const vexer = await c.api<Participant>('POST', '/participants', { externalUserId: 'psn:vexer', displayName: 'Vexer' });
    await page.locator(`[data-testid="participant-row"][data-participant-id="${vexer.id}"]`).waitFor({ timeout: LIVE_TIMEOUT });
    await c.api<Participant>('POST', '/participants', { externalUserId: 'psn:quiet' }); // does not match: stays out
    await screenshots(page, 'participants');
    assert.equal(await page.getByTestId('participant-row').count(), 2);

    // Keyboard into the detail: ↓ into the results (Vexer, newest, then Vex), Enter.
    assert.deepEqual(await results.getByTestId('participant-row').evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.participantId)), [vexer.id, vex.id]);
    await page.getByTestId('participant-search').focus();
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Enter');
    const detail = page.locator(`[data-testid="participant-detail"][data-participant-id="${vex.id}"]`);
    await detail.waitFor({ timeout: LIVE_TIMEOUT });
    await detail.getByTestId('participant-profile').getByText('steam:7001').waitFor({ timeout: LIVE_TIMEOUT });
    await page.locator('[data-testid="participant-sanctions"][data-state="ready"]').waitFor({ timeout: LIVE_TIMEOUT });
    await page.locator('[data-testid="participant-history"][data-state="ready"]').waitFor({ timeout: LIVE_TIMEOUT });
    assert.equal(await detail.getByTestId('sanction-row').count(), 2);
    await detail.getByTestId('history-message').getByText('uninstall the game').waitFor({ timeout: LIVE_TIMEOUT });
    await streams(page, 1);

    // Live: a new message, a rename and a new sanction show up without reloading.
    await c.api('POST', `/sessions/${session.id}/messages`, { content: 'ok ok sorry', participantId: vex.id });
    await detail.getByTestId('history-message').getByText('ok ok sorry').waitFor({ timeout: LIVE_TIMEOUT });
    await c.api('PATCH', `/participants/${vex.id}`, { displayName: 'Vex the Second' });
    await detail.getByRole('heading', { name: 'Vex the Second' }).waitFor({ timeout: LIVE_TIMEOUT });
    const mute = await c.api<Sanction>('POST', '/sanctions', { type: 'mute', participantId: vex.id, durationSeconds: 86_400, reason: 'again' });
    await detail.locator(`[data-testid="sanction-row"][data-sanction-id="${mute.id}"]`).waitFor({ timeout: LIVE_TIMEOUT });
    // Revoke from the profile.
    await detail.locator(`[data-testid="sanction-row"][data-sanction-id="${mute.id}"]`).getByTestId('revoke').click();
    await page.getByTestId('revoke-reason').fill('wrong player');
    await page.keyboard.press('Enter');
    await detail.locator(`[data-testid="sanction-row"][data-sanction-id="${mute.id}"][data-status="revoked"]`).waitFor({ timeout: LIVE_TIMEOUT });
    assert.equal((await c.api<Sanction>('GET', `/sanctions/${mute.id}`)).metadata?.revokeReason, 'wrong player');
    await screenshots(page, 'participant-detail');

    // Sanctions view: active by default; revoke the warning with a reason, keyboard only.
    await go(page, 'sanctions');
    await page.locator('[data-testid="sanctions-list"][data-state="ready"]').waitFor({ timeout: LIVE_TIMEOUT });
    await streams(page, 1);
    const row = (id: string) => page.locator(`[data-testid="sanction-row"][data-sanction-id="${id}"]`);
    await row(ban.id).waitFor({ timeout: LIVE_TIMEOUT });
    assert.equal(await row(old.id).count(), 0, 'a revoked sanction is not under Active');
    const fresh = await c.api<Sanction>('POST', '/sanctions', { type: 'rate_limit', externalUserId: 'xbox:rook', durationSeconds: 600 });
    await row(fresh.id).waitFor({ timeout: LIVE_TIMEOUT });
    await row(warn.id).getByTestId('revoke').focus();
    await page.keyboard.press('Enter');
    await page.keyboard.type('apologised in chat');
    await page.keyboard.press('Enter');
    await page.getByTestId('sanctions-status').getByText('Revoked the warn of steam:7001.').waitFor({ timeout: LIVE_TIMEOUT });
    await row(warn.id).waitFor({ state: 'detached', timeout: LIVE_TIMEOUT });
    const revoked = await c.api<Sanction>('GET', `/sanctions/${warn.id}`);
    assert.equal(revoked.status, 'revoked');
    assert.equal(revoked.metadata?.revokeReason, 'apologised in chat');
    // Revoked elsewhere → leaves Active live.
    await c.api('POST', `/sanctions/${fresh.id}/revoke`);
    await row(fresh.id).waitFor({ state: 'detached', timeout: LIVE_TIMEOUT });
    await screenshots(page, 'sanctions');

    // Tabs by keyboard: → Expired → Revoked.
    await page.getByTestId('sanctions-tab-active').focus();
    await page.keyboard.press('ArrowRight');
    await page.locator('[data-testid="sanctions-tab-expired"][aria-selected="true"]').waitFor({ timeout: LIVE_TIMEOUT });
    await page.keyboard.press('ArrowRight');
    await page.locator('[data-testid="sanctions-tab-revoked"][aria-selected="true"]').waitFor({ timeout: LIVE_TIMEOUT });
    await page.locator('[data-testid="sanctions-list"][data-state="ready"]').waitFor({ timeout: LIVE_TIMEOUT });
    await row(warn.id).getByTestId('revoke-reason-shown').getByText('lifted: apologised in chat').waitFor({ timeout: LIVE_TIMEOUT });
    await row(old.id).waitFor({ timeout: LIVE_TIMEOUT });
    await row(fresh.id).waitFor({ timeout: LIVE_TIMEOUT });
    assert.equal(await row(ban.id).count(), 0);
    await screenshots(page, 'sanctions-revoked');

    assert.deepEqual(problems, []);
  } finally {
    await page.context().close();
  }
});

test('gatherings: list and members with their states, live', async () => {
  const lobby = await c.api<Gathering>('POST', '/gatherings', { name: 'Squad lobby', type: 'lobby', maxMembers: 4 });
  await c.api<GatheringMember>('POST', `/gatherings/${lobby.id}/members`, { externalUserId: 'steam:7001', role: 'owner' });

  const { page, problems } = await c.open('gatherings');
  try {
    await page.locator('[data-testid="gatherings-list"][data-state="ready"]').waitFor({ timeout: LIVE_TIMEOUT });
    await streams(page, 1);
    const gRow = (id: string) => page.locator(`[data-testid="gathering-row"][data-gathering-id="${id}"]`);
    await gRow(lobby.id).waitFor({ timeout: LIVE_TIMEOUT });

    // Created over REST → appears live; open it from the keyboard.
    const raid = await c.api<Gathering>('POST', '/gatherings', { name: 'Friday raid', type: 'appointment', startsAt: new Date(Date.now() + 86_400_000).toISOString() });
    await gRow(raid.id).waitFor({ timeout: LIVE_TIMEOUT });
    await gRow(lobby.id).focus();
    await page.keyboard.press('Enter');
    const detail = page.locator(`[data-testid="gathering-detail"][data-gathering-id="${lobby.id}"]`);
    await page.locator('[data-testid="members-list"][data-state="ready"]').waitFor({ timeout: LIVE_TIMEOUT });
    assert.equal(await detail.getByTestId('member-row').count(), 1);

    // Members join, get ready, leave — live, with the list's count following.
    const moth = await c.api<GatheringMember>('POST', `/gatherings/${lobby.id}/members`, { externalUserId: 'steam:7002' });
    const rook = await c.api<GatheringMember>('POST', `/gatherings/${lobby.id}/members`, { externalUserId: 'xbox:rook', state: 'invited' });
    const member = (id: string, state: string) => detail.locator(`[data-testid="member-row"][data-member-id="${id}"][data-state="${state}"]`);
    await member(moth.id, 'joined').waitFor({ timeout: LIVE_TIMEOUT });
    await member(rook.id, 'invited').waitFor({ timeout: LIVE_TIMEOUT });
    await c.api('PATCH', `/gatherings/${lobby.id}/members/${moth.id}`, { state: 'ready' });
    await member(moth.id, 'ready').waitFor({ timeout: LIVE_TIMEOUT });
    await gRow(lobby.id).getByTestId('gathering-members').getByText('2/4').waitFor({ timeout: LIVE_TIMEOUT });
    await c.api('PATCH', `/gatherings/${lobby.id}`, { status: 'active' });
    await gRow(lobby.id).getByText('active', { exact: true }).waitFor({ timeout: LIVE_TIMEOUT });
    await screenshots(page, 'gatherings');
    await c.api('DELETE', `/gatherings/${lobby.id}/members/${moth.id}`);
    await member(moth.id, 'left').waitFor({ timeout: LIVE_TIMEOUT });
    await gRow(lobby.id).getByTestId('gathering-members').getByText('1/4').waitFor({ timeout: LIVE_TIMEOUT });

    // Deleted elsewhere → gone from the list; the open detail says so.
    await c.api('DELETE', `/gatherings/${lobby.id}`);
    await gRow(lobby.id).waitFor({ state: 'detached', timeout: LIVE_TIMEOUT });
    await page.getByText('This gathering no longer exists.').waitFor({ timeout: LIVE_TIMEOUT });

    assert.deepEqual(problems, []);
  } finally {
    await page.context().close();
  }
});

/**
 * The sessions area in Chromium against a real Cortex: the live list with filters, a session's
 * live transcript (annotations, follow-the-live-edge, 10,000 messages virtualized), participants
 * with sanctions, the summary, the activity chart and evidence audio fetched with the key.
 * Run with `node --import tsx --test test/e2e/sessions.test.ts` after `npx vite build`.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Page } from 'playwright-core';
import { CONSOLE_CSP } from '../../common/csp.js';
import type { Message, Participant, Session } from '../../common/schemas.js';
import { EvidenceStore } from '../../main/bot/evidence.js';
import { LIVE_TIMEOUT, ROOT, screenshots, startConsole, STATIC_DIR, type Console } from './support.js';

let c: Console;

before(async () => {
  c = await startConsole({ evidenceRetentionDays: 1 });
});
after(async () => {
  await c?.close();
});

const row = (page: Page, text: string) => page.getByTestId('transcript-row').filter({ has: page.getByTestId('message-content').getByText(text, { exact: true }) });
const sessionRow = (page: Page, title: string) =>
  page.getByTestId('session-row').filter({ has: page.getByTestId('session-title').getByText(title, { exact: true }) });

/** Rendered transcript rows as [index, content]. */
async function renderedRows(page: Page): Promise<[number, string][]> {
  return page.$$eval('[data-testid="transcript-row"]', (els) =>
    els.map((el) => [Number((el as HTMLElement).dataset.index), el.querySelector('[data-testid="message-content"]')?.textContent ?? ''] as [number, string]),
  );
}

test('the CSP lets blob: media play, and index.html repeats the header policy', () => {
  assert.match(CONSOLE_CSP, /media-src 'self' blob:/);
  const meta = (html: string) => /http-equiv="Content-Security-Policy"\s+content="([^"]+)"/.exec(html)?.[1];
  const expected = CONSOLE_CSP.replace(/;\s*frame-ancestors [^;]+/, '');
  assert.equal(meta(readFileSync(join(ROOT, 'renderer', 'index.html'), 'utf8')), expected);
  assert.equal(meta(readFileSync(join(STATIC_DIR, 'index.html'), 'utf8')), expected, 'the built console carries the same policy (rebuild with vite)');
});

test('list: live, filtered; detail: live transcript, annotations, participants, sanctions, summary, audio', async () => {
  const { page, problems } = await c.open('sessions');
  try {
    await page.locator('[data-testid="sessions-list"][data-state="ready"]').waitFor({ timeout: LIVE_TIMEOUT });
    await page.locator('[data-testid="connection"][data-state="live"][data-open-streams="2"]').waitFor({ timeout: LIVE_TIMEOUT });

    // Sessions created over REST appear live.
    const ended = await c.api<Session>('POST', '/sessions', { title: 'Casual #1180 (ended)' });
    await c.api('POST', `/sessions/${ended.id}/stop`);
    const title = 'Ranked #4411';
    const session = await c.api<Session>('POST', '/sessions', { title });
    await sessionRow(page, title).waitFor({ timeout: LIVE_TIMEOUT });
    await sessionRow(page, 'Casual #1180 (ended)').locator('.badge-ended').waitFor({ timeout: LIVE_TIMEOUT });

    // Filters: status and title text, with counts.
    await page.getByTestId('status-ended').click();
    await sessionRow(page, title).waitFor({ state: 'detached', timeout: LIVE_TIMEOUT });
    assert.equal(await sessionRow(page, 'Casual #1180 (ended)').count(), 1);
    assert.match((await page.getByTestId('status-ended').textContent()) ?? '', /Ended\s*1/);
    await page.getByTestId('status-all').click();
    await page.getByTestId('sessions-filter').fill('ranked');
    await sessionRow(page, 'Casual #1180 (ended)').waitFor({ state: 'detached', timeout: LIVE_TIMEOUT });
    assert.equal(await page.getByTestId('session-row').count(), 1);
    await page.getByTestId('sessions-filter').fill('');
    await screenshots(page, 'sessions-list');

    // Open it from the list (keyboard: the row is a link).
    await sessionRow(page, title).getByTestId('session-link').focus();
    await page.keyboard.press('Enter');
    await page.getByTestId('session-detail').waitFor({ timeout: LIVE_TIMEOUT });
    assert.match(page.url(), new RegExp(`#/sessions/${session.id}$`));
    await page.locator('[data-testid="detail-title"]').getByText(title).waitFor({ timeout: LIVE_TIMEOUT });
    await page.locator('[data-testid="transcript"][aria-busy="false"]').waitFor({ timeout: LIVE_TIMEOUT });
    await page.locator('[data-testid="connection"][data-open-streams="1"]').waitFor({ timeout: LIVE_TIMEOUT });

    // Messages posted over REST arrive live, each with its speaker.
    const m1 = await c.api<Message>('POST', `/sessions/${session.id}/messages`, { content: 'gl hf everyone', externalUserId: 'ann', senderName: 'Ann' });
    await c.api<Message>('POST', `/sessions/${session.id}/messages`, { content: 'push mid, I have the smoke', externalUserId: 'bob', senderName: 'Bob' });
    const bad = await c.api<Message>('POST', `/sessions/${session.id}/messages`, { content: 'you are trash, uninstall', externalUserId: 'bob', senderName: 'Bob' });
    await row(page, 'you are trash, uninstall').waitFor({ timeout: LIVE_TIMEOUT });
    assert.equal(await row(page, 'gl hf everyone').getByTestId('message-speaker').textContent(), 'Ann');
    assert.equal(await row(page, 'push mid, I have the smoke').getByTestId('message-speaker').textContent(), 'Bob');
    assert.equal(await row(page, 'gl hf everyone').getAttribute('data-flagged'), 'false');

    // An annotation highlights its message, with type, score and severity badges.
    await c.api('POST', `/sessions/${session.id}/messages/${bad.id}/annotations`, { type: 'toxicity', score: 0.9, severity: 'high' });
    const flagged = row(page, 'you are trash, uninstall');
    await flagged.and(page.locator('[data-flagged="true"].sx-flag-high')).waitFor({ timeout: LIVE_TIMEOUT });
    const badge = flagged.getByTestId('annotation-badge');
    assert.deepEqual(await badge.locator('span').allTextContents(), ['toxicity', '0.90', 'high']);
    await page.getByTestId('flagged-count').getByText('1 flagged').waitFor({ timeout: LIVE_TIMEOUT });
    const bg = await flagged.evaluate((el) => getComputedStyle(el).backgroundColor);
    assert.notEqual(bg, 'rgba(0, 0, 0, 0)', 'a flagged row is tinted');

    // Participants, with their active sanctions kept live.
    await page.getByTestId('participant').filter({ hasText: 'Bob' }).waitFor({ timeout: LIVE_TIMEOUT });
    assert.equal(await page.getByTestId('participant').count(), 2);
    const bob = bad.participantId!;
    const sanction = await c.api<{ id: string }>('POST', '/sanctions', { type: 'mute', participantId: bob, durationSeconds: 600, reason: 'insults' });
    const bobRow = page.locator(`[data-testid="participant"][data-participant-id="${bob}"]`);
    await bobRow.getByTestId('participant-sanction').getByText(/mute until/).waitFor({ timeout: LIVE_TIMEOUT });
    await c.api('POST', `/sanctions/${sanction.id}/revoke`, {});
    await bobRow.getByTestId('participant-sanction').waitFor({ state: 'detached', timeout: LIVE_TIMEOUT });
    await c.api('POST', '/sanctions', { type: 'warn', participantId: bob, durationSeconds: 3600, reason: 'insults' });
    await bobRow.getByTestId('participant-sanction').getByText(/warn until/).waitFor({ timeout: LIVE_TIMEOUT });

    // Regenerate without the summary plugin: the 409 in plain words.
    await page.getByTestId('regenerate-summary').click();
    await page.getByTestId('summary').getByRole('alert').getByText(/summary plugin is not installed or not enabled/).waitFor({ timeout: LIVE_TIMEOUT });
    // The summary follows session.updated.
    await c.api('PATCH', `/sessions/${session.id}`, { summary: 'Bob insulted Ann after the first round; Ann kept playing.' });
    await page.getByTestId('summary-text').getByText(/Bob insulted Ann/).waitFor({ timeout: LIVE_TIMEOUT });

    // Edits and deletions arrive live too.
    await c.api('PATCH', `/sessions/${session.id}/messages/${m1.id}`, { content: 'gl hf everyone!' });
    await row(page, 'gl hf everyone!').waitFor({ timeout: LIVE_TIMEOUT });

    // Evidence audio: a stored clip, fetched with the key and played from a blob: URL.
    const voiced = await c.api<Message>('POST', `/sessions/${session.id}/messages`, { content: 'I said what I said', externalUserId: 'bob', hasDebugAudio: true });
    const samples = Float32Array.from({ length: 12_000 }, (_, i) => Math.sin((2 * Math.PI * 440 * i) / 16_000) * 0.2);
    await (await new EvidenceStore(c.cortex.config.dataDir, 1).stage(samples, 16_000)).commit(voiced.id);
    await row(page, 'I said what I said').getByTestId('play-audio').click();
    const audio = page.getByTestId('evidence-audio');
    await audio.waitFor({ timeout: LIVE_TIMEOUT });
    assert.match((await audio.getAttribute('src')) ?? '', /^blob:/);
    await page.waitForFunction(
      () => {
        const a = document.querySelector<HTMLAudioElement>('[data-testid="evidence-audio"]');
        return !!a && Math.abs(a.duration - 0.75) < 0.05 && (a.currentTime > 0 || a.ended);
      },
      undefined,
      { timeout: LIVE_TIMEOUT },
    );

    // The chart counts messages and flags.
    const chartLabel = (await page.getByTestId('activity-chart').getAttribute('aria-label')) ?? '';
    assert.match(chartLabel, /^4 messages, 1 flagged/);

    await screenshots(page, 'session-detail');
    // Chromium logs every non-2xx fetch; the regenerate 409 was expected (and shown in words).
    assert.deepEqual(problems.filter((p) => !/status of 409 \(Conflict\)/.test(p)), []);
    assert.equal(problems.length, 1);
  } finally {
    await page.context().close();
  }
});

test('10,000 messages: few rows in the DOM, jump to the middle, scroll stays put, follows the live edge', async () => {
  const session = await c.api<Session>('POST', '/sessions', { title: 'Marathon lobby' });
  const scope = { tenantId: c.cortex.tenantId, projectId: 'default' };
  const speakers = ['mara', 'nils', 'olga', 'piet'];
  const ps = await Promise.all(speakers.map((s) => c.api<Participant>('POST', '/participants', { externalUserId: s, displayName: s.toUpperCase() })));
  const t0 = Date.now() - 120 * 60_000;
  await c.cortex.events.commit(() => {
    for (let i = 0; i < 10_000; i++) {
      const long = i % 7 === 0 ? ' — and a longer line that wraps onto a second row so that heights differ between messages in the list, as real chat does' : '';
      const m = c.cortex.domain.messages.create(scope, session.id, {
        content: `message ${i}${long}`,
        participantId: ps[i % 4]!.id,
        timestamp: new Date(t0 + i * 700).toISOString(),
      });
      if (i % 250 === 0) c.cortex.domain.annotations.create(scope, session.id, m.id, { type: 'toxicity', score: 0.8, severity: 'medium' });
    }
  });

  const { page, problems } = await c.open(`sessions/${session.id}`);
  try {
    const transcript = page.getByTestId('transcript');
    await page.locator('[data-testid="transcript"][data-count="10000"][aria-busy="false"]').waitFor({ timeout: 30_000 });

    // Opens at the live edge, with only a window of rows rendered.
    await page.locator('[data-testid="transcript"][data-at-bottom="true"]').waitFor({ timeout: LIVE_TIMEOUT });
    await row(page, 'message 9999').waitFor({ timeout: LIVE_TIMEOUT });
    let rows = await renderedRows(page);
    assert.ok(rows.length > 5 && rows.length < 200, `rendered ${rows.length} rows`);

    // Jump to the middle: the rows there are rendered, and they are the right ones.
    await transcript.evaluate((el) => {
      el.scrollTop = el.scrollHeight / 2 - el.clientHeight / 2;
    });
    await page.waitForFunction(() => {
      const idx = [...document.querySelectorAll<HTMLElement>('[data-testid="transcript-row"]')].map((e) => Number(e.dataset.index));
      return idx.some((i) => i > 4000 && i < 6000);
    }, undefined, { timeout: LIVE_TIMEOUT });
    rows = await renderedRows(page);
    assert.ok(rows.length < 200, `rendered ${rows.length} rows`);
    for (const [index, content] of rows) assert.ok(content.startsWith(`message ${index}`), `row ${index} shows "${content}"`);
    const indexes = rows.map(([i]) => i);
    assert.deepEqual(indexes, [...indexes].sort((a, b) => a - b));
    assert.ok(indexes.every((i, k) => k === 0 || i === indexes[k - 1]! + 1), 'contiguous rows');

    // While reading in the middle, new messages do not move the view; they are counted.
    const visible = async () =>
      transcript.evaluate((el) => {
        const top = el.getBoundingClientRect().top;
        const first = [...el.querySelectorAll<HTMLElement>('[data-testid="transcript-row"]')].find((r) => r.getBoundingClientRect().bottom > top + 1);
        return { id: first?.dataset.id ?? '', y: Math.round((first?.getBoundingClientRect().top ?? 0) - top) };
      });
    await page.locator('[data-testid="transcript"][data-at-bottom="false"]').waitFor({ timeout: LIVE_TIMEOUT });
    // Let row measurement settle (two frames with the same first row and offset).
    const frames = () => page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    let before = await visible();
    for (let i = 0; i < 50; i++) {
      await frames();
      const now = await visible();
      if (now.id === before.id && now.y === before.y) break;
      before = now;
    }
    await c.api('POST', `/sessions/${session.id}/messages`, { content: 'live one', externalUserId: 'ann' });
    await c.api('POST', `/sessions/${session.id}/messages`, { content: 'live two', externalUserId: 'bob' });
    await page.getByTestId('new-messages').getByText('2 new messages ↓').waitFor({ timeout: LIVE_TIMEOUT });
    const after = await visible();
    assert.equal(after.id, before.id, 'the same row stays first');
    assert.ok(Math.abs(after.y - before.y) <= 2, `moved from ${before.y} to ${after.y}`);
    assert.equal(await row(page, 'live two').count(), 0, 'the live edge is not rendered while reading the middle');

    await screenshots(page, 'session-detail-10k-middle');

    // The button jumps to the live edge; from there the list follows new messages.
    await page.getByTestId('new-messages').click();
    await row(page, 'live two').waitFor({ timeout: LIVE_TIMEOUT });
    await page.locator('[data-testid="transcript"][data-at-bottom="true"]').waitFor({ timeout: LIVE_TIMEOUT });
    await c.api('POST', `/sessions/${session.id}/messages`, { content: 'live three, followed', externalUserId: 'cid' });
    await row(page, 'live three, followed').waitFor({ timeout: LIVE_TIMEOUT });
    await page.waitForFunction(() => {
      const el = document.querySelector<HTMLElement>('[data-testid="transcript"]')!;
      const last = [...el.querySelectorAll<HTMLElement>('[data-testid="transcript-row"]')].pop()!;
      return last.textContent?.includes('live three, followed') && last.getBoundingClientRect().bottom <= el.getBoundingClientRect().bottom + 2;
    }, undefined, { timeout: LIVE_TIMEOUT });
    assert.equal(await page.getByTestId('new-messages').count(), 0);
    assert.equal(await page.getByTestId('message-count').textContent(), '10,003 messages');

    // Keyboard: Home goes to the start, End back to the live edge.
    await transcript.focus();
    await page.keyboard.press('Home');
    await row(page, 'message 1').waitFor({ timeout: LIVE_TIMEOUT });
    await page.keyboard.press('End');
    await row(page, 'live three, followed').waitFor({ timeout: LIVE_TIMEOUT });

    await screenshots(page, 'session-detail-10k');
    assert.deepEqual(problems, []);
  } finally {
    await page.context().close();
  }
});

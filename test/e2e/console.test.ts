/**
 * End-to-end: the built web console served by an in-process Cortex, driven in Chromium.
 * Run with `node --import tsx --test test/e2e/console.test.ts`.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import type { Page } from 'playwright-core';
import { LIVE_TIMEOUT, startConsole, type Console } from './support.js';

let c: Console;
let cortex: Console['cortex'];
let url = '';

before(async () => {
  c = await startConsole();
  cortex = c.cortex;
  url = c.url;
});

after(() => c?.close());

const openPage = () => c.newPage({ height: 800 });
const api = <T>(method: string, path: string, body?: unknown) => c.api<T>(method, path, body);

const sessionRow = (page: Page, title: string) =>
  page.getByTestId('session-row').filter({ has: page.getByTestId('session-title').getByText(title, { exact: true }) });

test('sessions list and event feed update live from REST writes', async () => {
  const { page, problems } = await openPage();
  try {
    await page.goto(`${url}/#key=${encodeURIComponent(cortex.consoleKey)}`);
    // The console opens on the overview; the sessions list is one view further.
    await page.getByTestId('connection').waitFor({ timeout: LIVE_TIMEOUT });
    await page.evaluate(() => (window.location.hash = '#/sessions'));

    // The key moved from the fragment into localStorage and out of the address bar.
    await page.getByTestId('sessions-list').and(page.locator('[data-state="ready"]')).waitFor({ timeout: LIVE_TIMEOUT });
    assert.ok(!page.url().includes('key='), `key still in URL: ${page.url()}`);
    assert.equal(await page.evaluate(() => localStorage.getItem('cortex.apiKey')), cortex.consoleKey);

    // Both subscriptions (project sessions + tenant feed) are open before we write.
    await page.locator('[data-testid="connection"][data-state="live"][data-open-streams="2"]').waitFor({ timeout: LIVE_TIMEOUT });

    const title = `Live from REST ${randomUUID().slice(0, 8)}`;
    const created = await api<{ id: string }>('POST', '/sessions', { title });

    const row = sessionRow(page, title);
    await row.waitFor({ timeout: LIVE_TIMEOUT });
    assert.equal(await row.count(), 1);
    assert.match((await row.textContent()) ?? '', /active/);

    const eventRow = page.getByTestId('event-row').filter({ hasText: 'session.created' }).filter({ hasText: created.id });
    await eventRow.first().waitFor({ timeout: LIVE_TIMEOUT });

    // A session created from the UI form shows up as well (and only once).
    const uiTitle = `From the form ${randomUUID().slice(0, 8)}`;
    await page.getByLabel('Session title').fill(uiTitle);
    await page.getByRole('button', { name: 'New session' }).click();
    const uiRow = sessionRow(page, uiTitle);
    await uiRow.waitFor({ timeout: LIVE_TIMEOUT });
    await page.getByTestId('event-row').filter({ hasText: 'session.created' }).nth(1).waitFor({ timeout: LIVE_TIMEOUT });
    assert.equal(await uiRow.count(), 1);

    await page.screenshot({ path: '/tmp/console.png' });

    // Updates, ends and deletes made elsewhere are reflected live too.
    const renamed = `${title} (renamed)`;
    await api('PATCH', `/sessions/${created.id}`, { title: renamed });
    const renamedRow = sessionRow(page, renamed);
    await renamedRow.waitFor({ timeout: LIVE_TIMEOUT });
    await api('POST', `/sessions/${created.id}/stop`);
    await renamedRow.locator('.badge-ended').waitFor({ timeout: LIVE_TIMEOUT });
    await api('DELETE', `/sessions/${created.id}`);
    await renamedRow.waitFor({ state: 'detached', timeout: LIVE_TIMEOUT });
    await page.getByTestId('event-row').filter({ hasText: 'session.deleted' }).filter({ hasText: created.id }).waitFor({ timeout: LIVE_TIMEOUT });
    assert.equal(await uiRow.count(), 1);

    assert.deepEqual(problems, []);
  } finally {
    await page.context().close();
  }
});

test('browser console without a key asks for one, and rejects a bad key', async () => {
  const { page } = await openPage();
  try {
    await page.goto(`${url}/`);
    await page.getByTestId('key-form').waitFor({ timeout: LIVE_TIMEOUT });

    await page.getByLabel('API key').fill('ctx_not_a_real_key');
    await page.getByRole('button', { name: 'Connect' }).click();
    await page.getByRole('alert').getByText(/rejected/).waitFor({ timeout: LIVE_TIMEOUT });
    assert.equal(await page.evaluate(() => localStorage.getItem('cortex.apiKey')), null);

    await page.getByLabel('API key').fill(cortex.consoleKey);
    await page.getByRole('button', { name: 'Connect' }).click();
    await page.getByTestId('view-overview').waitFor({ timeout: LIVE_TIMEOUT });
    await page.evaluate(() => (window.location.hash = '#/sessions'));
    await page.getByTestId('sessions-list').and(page.locator('[data-state="ready"]')).waitFor({ timeout: LIVE_TIMEOUT });
    assert.equal(await page.getByTestId('session-row').count() >= 1, true);
  } finally {
    await page.context().close();
  }
});

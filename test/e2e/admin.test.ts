/**
 * End-to-end: the overview and admin views (overview, models, settings, topics) in Chromium
 * against a real Cortex. Run with `node --import tsx --test test/e2e/admin.test.ts`.
 *
 * This machine is offline for model downloads on purpose: `fetch` to anything but loopback
 * fails here like it does on an offline machine (ENOTFOUND), so no test traffic leaves it.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { LIVE_TIMEOUT, screenshots, startConsole, type Console } from './support.js';

const realFetch = globalThis.fetch;
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * Chromium logs every 4xx answer as a console error; a test that provokes `n` of them on
 * purpose (a refused import, an invalid setting) takes exactly those out, nothing else.
 */
function unexpected(problems: string[], n: number): string[] {
  const refused = problems.filter((p) => /status of 400 \(Bad Request\)/.test(p));
  assert.equal(refused.length, n, `expected ${n} refused request(s): ${problems.join('; ')}`);
  return problems.filter((p) => !refused.includes(p));
}

let c: Console;
before(async () => {
  globalThis.fetch = (input, init) => {
    const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
    if (!LOOPBACK.has(url.hostname)) return Promise.reject(Object.assign(new TypeError('fetch failed'), { cause: { code: 'ENOTFOUND' } }));
    return realFetch(input, init);
  };
  c = await startConsole(); // the data plane is off (busEndpoint: null)
});
after(async () => {
  await c?.close();
  globalThis.fetch = realFetch;
});

test('overview: a session, a speaker and a flagged message created over REST appear live', async () => {
  const { page, problems } = await c.open('overview');
  try {
    await page.getByTestId('overview').waitFor({ timeout: LIVE_TIMEOUT });
    // One project stream and one tenant stream (model downloads): both open before we write.
    await page.locator('[data-testid="connection"][data-state="live"][data-open-streams="2"]').waitFor({ timeout: LIVE_TIMEOUT });
    assert.equal(await page.getByTestId('connection').getAttribute('data-shown'), 'live');
    await page.getByTestId('tile-sessions-value').filter({ hasText: /^\d+$/ }).waitFor({ timeout: LIVE_TIMEOUT });
    const activeBefore = Number(await page.getByTestId('tile-sessions-value').textContent());

    const title = `Ranked #${randomUUID().slice(0, 6)}`;
    const session = await c.api<{ id: string }>('POST', '/sessions', { title });
    const row = page.getByTestId('active-session').filter({ hasText: title });
    await row.waitFor({ timeout: LIVE_TIMEOUT });
    await page.getByTestId('tile-sessions-value').getByText(String(activeBefore + 1), { exact: true }).waitFor({ timeout: LIVE_TIMEOUT });
    assert.equal(await row.locator('a').getAttribute('href'), `#/sessions/${session.id}`);

    const message = await c.api<{ id: string }>('POST', `/sessions/${session.id}/messages`, { content: 'you are all terrible', externalUserId: 'ann-42', senderName: 'Ann' });
    await page.getByTestId('heard-row').filter({ hasText: 'Ann' }).filter({ hasText: title }).waitFor({ timeout: LIVE_TIMEOUT });

    // A low score is not a flag; a high one is, at once.
    await c.api('POST', `/sessions/${session.id}/messages/${message.id}/annotations`, { type: 'toxicity', score: 0.2 });
    await c.api('POST', `/sessions/${session.id}/messages/${message.id}/annotations`, { type: 'toxicity', score: 0.92, severity: 'high', content: { categories: ['insult'] } });
    const flagged = page.locator(`[data-testid="flagged-row"][data-message-id="${message.id}"]`);
    await flagged.waitFor({ timeout: LIVE_TIMEOUT });
    assert.equal(await flagged.count(), 1);
    assert.match((await flagged.textContent()) ?? '', /0\.92.*toxicity.*insult.*high/);
    assert.equal(await page.getByTestId('tile-flagged-value').textContent(), '1');

    // Everything else is read plainly: an empty queue, no webhooks, no plugins, no model.
    assert.equal(await page.getByTestId('tile-review-value').textContent(), '0');
    await page.getByTestId('engine-status').getByText('no model').waitFor({ timeout: LIVE_TIMEOUT });

    // Ending it removes it from the active list, live.
    await screenshots(page, 'overview');
    await c.api('POST', `/sessions/${session.id}/stop`);
    await row.waitFor({ state: 'detached', timeout: LIVE_TIMEOUT });

    // The session link leads to the session.
    const second = await c.api<{ id: string }>('POST', '/sessions', { title: `${title} (2)` });
    await page.getByTestId('active-session').filter({ hasText: `${title} (2)` }).locator('a').click();
    await page.waitForURL((u) => u.hash === `#/sessions/${second.id}`, { timeout: LIVE_TIMEOUT });
    assert.deepEqual(problems, []);
  } finally {
    await page.context().close();
  }
});

test('settings: a key created in the UI is shown once and works from a script within its scopes', async () => {
  const { page, problems } = await c.open('settings');
  try {
    await page.getByTestId('settings').waitFor({ timeout: LIVE_TIMEOUT });
    await page.getByTestId('project-row').filter({ hasText: 'current' }).waitFor({ timeout: LIVE_TIMEOUT });

    // Where scripts reach the API, with a curl line to copy; retention read from the server.
    assert.equal(await page.getByTestId('rest-url').textContent(), c.url);
    assert.match((await page.getByTestId('curl').textContent()) ?? '', new RegExp(`${c.url.replace(/[.]/g, '\\.')}/api/projects/default/sessions`));
    await page.getByTestId('retention').getByText('not kept').waitFor({ timeout: LIVE_TIMEOUT });

    const name = `script ${randomUUID().slice(0, 6)}`;
    const form = page.getByTestId('new-key-form');
    await form.getByLabel('New key name').fill(name);
    // Default scopes: sessions, messages, events. Take events away; leave the project binding (default).
    await form.getByTestId('scope-events').uncheck();
    await form.getByRole('button', { name: 'Create key' }).click();

    const secret = (await page.getByTestId('new-key-secret').textContent({ timeout: LIVE_TIMEOUT })) ?? '';
    assert.match(secret, /^ctx_/);
    await page.getByTestId('key-row').filter({ hasText: name }).waitFor({ timeout: LIVE_TIMEOUT });
    await page.locator('[data-testid="connection"][data-shown="idle"]').waitFor({ timeout: LIVE_TIMEOUT });
    await screenshots(page, 'settings');
    await page.getByTestId('server-settings').scrollIntoViewIfNeeded();
    await screenshots(page, 'settings-data');

    const script = (path: string) => realFetch(c.url + path, { headers: { 'x-api-key': secret } });
    assert.equal((await script('/api/projects/default/sessions')).status, 200);
    const forbidden = await script('/api/keys');
    assert.equal(forbidden.status, 403);
    assert.match(((await forbidden.json()) as { detail: string }).detail, /"keys" scope/);
    assert.equal((await script('/api/events?limit=1')).status, 403);

    // The secret is gone once dismissed, and nowhere in the key list.
    await page.getByRole('button', { name: 'I have saved it' }).click();
    await page.getByTestId('new-key-secret').waitFor({ state: 'detached', timeout: LIVE_TIMEOUT });
    assert.ok(!((await page.getByTestId('keys').textContent()) ?? '').includes(secret));

    // Revoked in the UI: the script is refused (401).
    const row = page.getByTestId('key-row').filter({ hasText: name });
    await row.getByRole('button', { name: `Revoke ${name}` }).click();
    await row.getByRole('button', { name: 'Revoke now' }).click();
    // Revoked keys leave the list, and can be shown again.
    await row.waitFor({ state: 'detached', timeout: LIVE_TIMEOUT });
    await page.getByLabel(/show \d+ revoked/).check();
    await row.getByText('revoked').waitFor({ timeout: LIVE_TIMEOUT });
    assert.equal((await script('/api/projects/default/sessions')).status, 401);

    // A bot setting saved in the UI is what the API reads.
    const botForm = page.getByTestId('bot-settings-form');
    await botForm.getByLabel('Silence that ends an utterance (ms)').fill('900');
    await botForm.getByRole('button', { name: 'Save' }).click();
    await botForm.getByText('Saved.').waitFor({ timeout: LIVE_TIMEOUT });
    assert.equal((await c.api<{ minSilenceMs: number }>('GET', '/bot-settings')).minSilenceMs, 900);
    await botForm.getByLabel('Silence that ends an utterance (ms)').fill('50');
    await botForm.getByRole('button', { name: 'Save' }).click();
    await botForm.getByRole('alert').getByText(/minSilenceMs/).waitFor({ timeout: LIVE_TIMEOUT });

    // A new project, switched to from here.
    await page.getByLabel('New project name').fill('Tournament');
    await page.getByRole('button', { name: 'Create', exact: true }).click();
    await page.getByRole('button', { name: 'Switch to it' }).click();
    const tournament = page.getByTestId('project-row').filter({ hasText: 'Tournament' });
    await tournament.getByText('current').waitFor({ timeout: LIVE_TIMEOUT });
    assert.equal(await page.getByTestId('project').textContent(), `project: ${await tournament.getAttribute('data-project-id')}`);
    assert.deepEqual(unexpected(problems, 1), []);
  } finally {
    await page.context().close();
  }
});

test('models: a bad import path and an offline download fail in plain words', async () => {
  const { page, problems } = await c.open('models');
  try {
    await page.getByTestId('no-models').waitFor({ timeout: LIVE_TIMEOUT });
    await page.locator('[data-testid="connection"][data-state="live"][data-open-streams="1"]').waitFor({ timeout: LIVE_TIMEOUT });

    const form = page.getByTestId('import-form');
    await form.getByLabel('Model file on this machine (.bin)').fill('/no/such/model.bin');
    await form.getByRole('button', { name: 'Import' }).click();
    const importError = page.getByTestId('import-error').getByRole('alert');
    await importError.waitFor({ timeout: LIVE_TIMEOUT });
    const importText = (await importError.textContent()) ?? '';
    assert.match(importText, /^Not imported: path: /);
    assert.match(importText, /\/no\/such\/model\.bin/);

    await page.getByRole('button', { name: 'Download tiny.en' }).click();
    const failed = page.locator('[data-testid="catalog-model"][data-name="tiny.en"]').getByTestId('download-failed');
    await failed.waitFor({ timeout: 15_000 });
    const failedText = (await failed.textContent()) ?? '';
    assert.match(failedText, /^Download failed: cannot download tiny\.en: huggingface\.co is unreachable/);
    assert.match(failedText, /offline: import a model file instead/);
    // Cleanly: nothing left downloading, nothing installed, and it can be tried again.
    const models = await c.api<{ downloads: unknown[]; items: unknown[] }>('GET', '/api/models');
    assert.deepEqual(models.downloads, []);
    assert.deepEqual(models.items, []);
    await page.getByRole('button', { name: 'Download tiny.en' }).waitFor({ timeout: LIVE_TIMEOUT });
    await screenshots(page, 'models');
    assert.deepEqual(unexpected(problems, 1), []);
  } finally {
    await page.context().close();
  }
});

test('connection indicator: live, offline while the network is down, live again with what was missed', async () => {
  const { page, problems } = await c.open('overview');
  try {
    const indicator = page.getByTestId('connection');
    await page.locator('[data-testid="connection"][data-shown="live"][data-open-streams="2"]').waitFor({ timeout: LIVE_TIMEOUT });
    await page.context().setOffline(true);
    await page.locator('[data-testid="connection"][data-shown="offline"]').waitFor({ timeout: LIVE_TIMEOUT });
    assert.match((await indicator.textContent()) ?? '', /Offline/);
    assert.match((await indicator.getAttribute('aria-label')) ?? '', /cannot be reached.*retrying/);

    const title = `While offline ${randomUUID().slice(0, 6)}`;
    await c.api('POST', '/sessions', { title });
    await page.context().setOffline(false);
    await page.locator('[data-testid="connection"][data-shown="live"]').waitFor({ timeout: 10_000 });
    await page.getByTestId('active-session').filter({ hasText: title }).waitFor({ timeout: LIVE_TIMEOUT });
    // Failed stream attempts while offline are the browser's own network errors, not the page's.
    assert.deepEqual(problems.filter((p) => !/ERR_INTERNET_DISCONNECTED|Failed to fetch/.test(p)), []);
  } finally {
    await page.context().close();
  }
});

test('topics: with the data plane off the view says so', async () => {
  const { page, problems } = await c.open('topics');
  try {
    await page.locator('[data-testid="topics"][data-state="off"]').waitFor({ timeout: LIVE_TIMEOUT });
    assert.match((await page.getByTestId('bus-off').textContent()) ?? '', /data plane is off/);
    assert.match((await page.getByTestId('echo-command').textContent()) ?? '', /^cortex topic echo <topic>$/);
    // Nothing here changes live: the indicator says so rather than "Connecting…".
    await page.locator('[data-testid="connection"][data-shown="idle"]').waitFor({ timeout: LIVE_TIMEOUT });
    await screenshots(page, 'topics');
    assert.deepEqual(problems, []);
  } finally {
    await page.context().close();
  }
});

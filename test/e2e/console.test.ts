/**
 * End-to-end: the built web console served by an in-process Cortex, driven in Chromium.
 * Run with `node --import tsx --test test/e2e/console.test.ts`.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startCortex } from '../../main/core/cortex.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const STATIC_DIR = join(ROOT, 'dist', 'renderer');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];
const LIVE_TIMEOUT = 5_000;

type Cortex = Awaited<ReturnType<typeof startCortex>>;

let cortex: Cortex | undefined;
let browser: Browser | undefined;
let dataDir: string | undefined;
let url = '';

before(async () => {
  if (!existsSync(join(STATIC_DIR, 'index.html'))) {
    execFileSync('npx', ['vite', 'build', '--logLevel', 'warn'], { cwd: ROOT, stdio: 'inherit' });
  }
  dataDir = await mkdtemp(join(tmpdir(), 'cortex-e2e-'));
  cortex = await startCortex({ dataDir, port: 0, logLevel: 'silent', staticDir: STATIC_DIR });
  url = await cortex.listen();
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
});

after(async () => {
  await browser?.close().catch(() => undefined);
  await cortex?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

/** Opens a fresh browser context and records page errors / console errors / CSP violations. */
async function openPage(): Promise<{ page: Page; problems: string[] }> {
  assert.ok(browser);
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
  page.on('console', (msg) => {
    const text = msg.text();
    // frame-ancestors is only honoured as an HTTP header; Chromium notes that it ignores it in <meta>.
    if (msg.type() === 'error' && !text.includes("'frame-ancestors'")) problems.push(`console: ${text}`);
  });
  return { page, problems };
}

/** Plain REST call with the console key, as any other API client would make it. */
async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  assert.ok(cortex);
  const res = await fetch(`${url}/api/projects/default${path}`, {
    method,
    headers: body === undefined ? { 'x-api-key': cortex.consoleKey } : { 'x-api-key': cortex.consoleKey, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  assert.ok(res.ok, `${method} ${path} answered ${res.status}: ${text}`);
  return (text ? JSON.parse(text) : null) as T;
}

const sessionRow = (page: Page, title: string) =>
  page.getByTestId('session-row').filter({ has: page.getByTestId('session-title').getByText(title, { exact: true }) });

test('sessions list and event feed update live from REST writes', async () => {
  assert.ok(cortex);
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
  assert.ok(cortex);
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

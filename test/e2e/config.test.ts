/**
 * The configuration views in Chromium: plugins (install through the generated settings form,
 * server errors next to the field, live status), automod rules (dry run, field errors,
 * create/toggle) and webhooks (secret shown once, test ping, delivery log with attempts,
 * rotation). Run with `node --import tsx --test test/e2e/config.test.ts`.
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Page } from 'playwright-core';
import { LIVE_TIMEOUT, screenshots, startConsole, type Console } from './support.js';
import { until } from '../api/helpers.js';

let app: Console;
let pluginsDir: string;
const shared: { sessionId?: string; messageId?: string } = {};

before(async () => {
  pluginsDir = await mkdtemp(join(tmpdir(), 'cortex-e2e-plugins-'));
  // A plugin file that fails to load: the catalog lists it under `problems`.
  await writeFile(join(pluginsDir, 'broken.mjs'), 'export const manifest = { id: "broken" };\nthis is not javascript\n');
  app = await startConsole({ pluginsDir });
});

after(async () => {
  await app?.close();
  await rm(pluginsDir, { recursive: true, force: true });
});

const byTestId = (page: Page, id: string) => page.getByTestId(id);

/**
 * Page problems apart from the 400s this test provokes on purpose (Chromium logs every failed
 * fetch as a console error): exactly `expected400` of those, nothing else.
 */
function assertOnlyProvoked(problems: string[], expected400: number): void {
  const provoked = problems.filter((p) => /Failed to load resource: the server responded with a status of 400/.test(p));
  assert.deepEqual(problems.filter((p) => !provoked.includes(p)), []);
  assert.equal(provoked.length, expected400, problems.join('\n'));
}
const inputOf = (page: Page, field: string) => page.getByTestId(`field-${field}`).locator('input, select, textarea').first();

test('plugins: install keywords through its generated form, see the server error at the field, then its live status', async () => {
  const { page, problems } = await app.open('plugins');
  try {
    await page.locator('[data-testid="plugins-list"][data-state="ready"]').waitFor({ timeout: LIVE_TIMEOUT });
    const problem = byTestId(page, 'catalog-problem');
    await problem.waitFor({ timeout: LIVE_TIMEOUT });
    assert.match((await problem.textContent()) ?? '', /broken\.mjs/);
    await screenshots(page, 'plugins');

    await page.locator('[data-testid="catalog-plugin"][data-plugin-id="keywords"]').click();
    const form = byTestId(page, 'install-form');
    await form.waitFor({ timeout: LIVE_TIMEOUT });
    // Defaults from the schema are applied.
    assert.equal(await inputOf(page, 'severity').inputValue(), '1'); // enum index of "medium"
    assert.equal(await inputOf(page, 'score').inputValue(), '1');

    // Array of strings: add a row, type the phrase (keyboard only).
    await byTestId(page, 'add-phrases').click();
    await page.keyboard.type('purple monkey');
    assert.equal(await inputOf(page, 'phrases.0').inputValue(), 'purple monkey');
    // Array of objects: one sub-form per item; a regex that could backtrack catastrophically.
    await byTestId(page, 'add-patterns').click();
    await inputOf(page, 'patterns.0.pattern').fill('(a+)+$');
    await byTestId(page, 'install-submit').click();
    const fieldError = byTestId(page, 'field-error-patterns.0.pattern');
    await fieldError.waitFor({ timeout: LIVE_TIMEOUT });
    assert.ok(((await fieldError.textContent()) ?? '').length > 5);
    assert.equal(await inputOf(page, 'patterns.0.pattern').getAttribute('aria-invalid'), 'true');
    await screenshots(page, 'plugins-install-error');

    // Nothing was installed; fix the pattern and install.
    assert.equal((await app.api<{ items: unknown[] }>('GET', '/plugins')).items.length, 0);
    await inputOf(page, 'patterns.0.pattern').fill('bann?ed');
    await byTestId(page, 'install-submit').click();
    await page.locator('[data-testid="installed-detail"][data-plugin-id="keywords"]').waitFor({ timeout: LIVE_TIMEOUT });
    await byTestId(page, 'status-state').waitFor({ timeout: LIVE_TIMEOUT });
    await page.locator('[data-testid="installed-plugin"][data-plugin-id="keywords"]').waitFor({ timeout: LIVE_TIMEOUT });

    const installed = await app.api<{ items: { pluginId: string; enabled: boolean; settings: { phrases: string[]; patterns: { pattern: string; flags: string }[]; severity: string } }[] }>('GET', '/plugins');
    assert.equal(installed.items.length, 1);
    assert.equal(installed.items[0]!.pluginId, 'keywords');
    assert.deepEqual(installed.items[0]!.settings.phrases, ['purple monkey']);
    assert.deepEqual(installed.items[0]!.settings.patterns, [{ pattern: 'bann?ed', flags: '' }]);
    assert.equal(installed.items[0]!.settings.severity, 'medium');

    // A message with the phrase, over REST → the plugin annotates it.
    const session = await app.api<{ id: string }>('POST', '/sessions', { title: 'Config e2e' });
    const message = await app.api<{ id: string }>('POST', `/sessions/${session.id}/messages`, { content: 'Look, a PURPLE  monkey!', externalUserId: 'ann', senderName: 'Ann' });
    shared.sessionId = session.id;
    shared.messageId = message.id;
    const annotation = await until(async () => {
      const m = await app.api<{ annotations?: { type: string; pluginId: string | null }[] }>('GET', `/sessions/${session.id}/messages/${message.id}`);
      return m.annotations?.find((a) => a.type === 'keyword');
    }, 'the keyword annotation', LIVE_TIMEOUT);
    assert.equal(annotation.pluginId, 'keywords');

    // The status panel follows live (refetched on the annotation event).
    await byTestId(page, 'status-annotations').filter({ hasText: /^1$/ }).waitFor({ timeout: LIVE_TIMEOUT });
    await byTestId(page, 'status-processed').filter({ hasNotText: /^0$/ }).waitFor({ timeout: LIVE_TIMEOUT });

    // Disable from the UI → visible over REST.
    await byTestId(page, 'plugin-enabled').click();
    await until(async () => {
      const r = await app.api<{ enabled: boolean }>('GET', '/plugins/keywords');
      return r.enabled ? undefined : true;
    }, 'keywords disabled', LIVE_TIMEOUT);
    await byTestId(page, 'plugin-enabled').click();
    await page.locator('[data-testid="plugin-enabled"][aria-checked="true"]').waitFor({ timeout: LIVE_TIMEOUT });
    await byTestId(page, 'status-state').filter({ hasText: /idle|busy|starting/ }).waitFor({ timeout: LIVE_TIMEOUT });
    await screenshots(page, 'plugins-installed');

    // Settings edits are validated the same way, at the field.
    await inputOf(page, 'score').fill('3');
    await byTestId(page, 'settings-save').click();
    await byTestId(page, 'field-error-score').waitFor({ timeout: LIVE_TIMEOUT });
    await inputOf(page, 'score').fill('0.9');
    await byTestId(page, 'settings-save').click();
    await until(async () => {
      const r = await app.api<{ settings: { score: number } }>('GET', '/plugins/keywords');
      return r.settings.score === 0.9 ? true : undefined;
    }, 'score saved', LIVE_TIMEOUT);
    await byTestId(page, 'field-error-score').waitFor({ state: 'detached', timeout: LIVE_TIMEOUT });

    // A second plugin with an enum-array (checkboxes) installs with its defaults, then is uninstalled after confirming.
    await page.locator('[data-testid="catalog-plugin"][data-plugin-id="pii"]').click();
    await byTestId(page, 'install-form').waitFor({ timeout: LIVE_TIMEOUT });
    await page.getByRole('checkbox', { name: 'iban' }).uncheck();
    await byTestId(page, 'install-submit').click();
    await page.locator('[data-testid="installed-detail"][data-plugin-id="pii"]').waitFor({ timeout: LIVE_TIMEOUT });
    assert.deepEqual((await app.api<{ settings: { types: string[] } }>('GET', '/plugins/pii')).settings.types, ['email', 'phone', 'card']);
    await byTestId(page, 'uninstall').click();
    await byTestId(page, 'uninstall-yes').click();
    await page.locator('[data-testid="installed-plugin"][data-plugin-id="pii"]').waitFor({ state: 'detached', timeout: LIVE_TIMEOUT });
    assert.deepEqual((await app.api<{ items: { pluginId: string }[] }>('GET', '/plugins')).items.map((i) => i.pluginId), ['keywords']);

    assertOnlyProvoked(problems, 2);
  } finally {
    await page.context().close();
  }
});

test('automod: a rule is dry-run against recent messages, errors show at the field, and it is saved and toggled', async () => {
  assert.ok(shared.messageId, 'runs after the plugins test (needs its annotation)');
  const { page, problems } = await app.open('automod');
  try {
    await page.locator('[data-testid="rules-list"][data-state="ready"]').waitFor({ timeout: LIVE_TIMEOUT });
    await byTestId(page, 'rule-new').click();
    await byTestId(page, 'rule-form').waitFor({ timeout: LIVE_TIMEOUT });
    await page.getByLabel('Name').fill('Watched phrase → review');
    await inputOf(page, 'when.annotationType').fill('keyword');
    await inputOf(page, 'when.minScore').fill('0.5');

    // A temp ban without a duration: the API names the field, shown next to it.
    await byTestId(page, 'action-sanction').check();
    await inputOf(page, 'then.sanction.type').selectOption('temp_ban');
    await inputOf(page, 'then.sanction.durationSeconds').fill('');
    await byTestId(page, 'rule-test').click();
    await byTestId(page, 'field-error-then.sanction.durationSeconds').waitFor({ timeout: LIVE_TIMEOUT });

    // As a review rule, the dry run finds Ann's message.
    await byTestId(page, 'action-review').check();
    await inputOf(page, 'then.review.priority').selectOption('high');
    await byTestId(page, 'rule-test').click();
    const summary = byTestId(page, 'rule-test-summary');
    await summary.waitFor({ timeout: LIVE_TIMEOUT });
    assert.match((await summary.textContent()) ?? '', /1 match,/);
    const action = byTestId(page, 'rule-test-action');
    await action.waitFor({ timeout: LIVE_TIMEOUT });
    assert.match((await action.textContent()) ?? '', /ann/i);
    assert.match((await byTestId(page, 'rule-test-match').first().textContent()) ?? '', /PURPLE {2}monkey/);
    // A dry run writes nothing.
    assert.equal((await app.api<{ items: unknown[] }>('GET', '/automod/rules')).items.length, 0);
    await screenshots(page, 'automod-test');

    await byTestId(page, 'rule-save').click();
    const row = byTestId(page, 'rule-row').filter({ hasText: 'Watched phrase → review' });
    await row.waitFor({ timeout: LIVE_TIMEOUT });
    const rules = await app.api<{ items: { id: string; name: string; enabled: boolean; when: { annotationType: string; minScore: number; count: number }; then: { review?: { priority: string } } }[] }>('GET', '/automod/rules');
    assert.equal(rules.items.length, 1);
    const rule = rules.items[0]!;
    assert.equal(rule.name, 'Watched phrase → review');
    assert.equal(rule.when.annotationType, 'keyword');
    assert.equal(rule.when.minScore, 0.5);
    assert.deepEqual(rule.then, { review: { priority: 'high' } });
    assert.equal(rule.enabled, true);
    await page.waitForURL(new RegExp(`#/automod/${rule.id}$`), { timeout: LIVE_TIMEOUT });

    // Toggled in the list → over REST; a change over REST → live in the list.
    await row.getByTestId('rule-enabled').click();
    await until(async () => ((await app.api<{ enabled: boolean }>('GET', `/automod/rules/${rule.id}`)).enabled ? undefined : true), 'rule disabled', LIVE_TIMEOUT);
    await app.api('POST', '/automod/rules', { name: 'Toxic streak → mute', when: { annotationType: 'toxicity', minScore: 0.8, count: 3, windowSeconds: 600 }, then: { sanction: { type: 'mute', durationSeconds: 900, reason: 'repeated toxicity' } } });
    await byTestId(page, 'rule-row').filter({ hasText: 'Toxic streak → mute' }).waitFor({ timeout: LIVE_TIMEOUT });
    await screenshots(page, 'automod');
    assertOnlyProvoked(problems, 1);
  } finally {
    await page.context().close();
  }
});

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}

async function receiver(): Promise<{ server: Server; url: string; next(): Promise<Received> }> {
  const waiting: ((r: Received) => void)[] = [];
  const queued: Received[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('thanks');
      const r = { headers: req.headers, body };
      const w = waiting.shift();
      if (w) w(r);
      else queued.push(r);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    server,
    url: `http://127.0.0.1:${port}/hooks/cortex`,
    next: () =>
      new Promise<Received>((resolve, reject) => {
        const q = queued.shift();
        if (q) return resolve(q);
        const t = setTimeout(() => reject(new Error('no delivery arrived')), LIVE_TIMEOUT);
        waiting.push((r) => {
          clearTimeout(t);
          resolve(r);
        });
      }),
  };
}

function verifies(secret: string, r: Received): boolean {
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
  const expected = createHmac('sha256', key).update(`${String(r.headers['webhook-id'])}.${String(r.headers['webhook-timestamp'])}.${r.body}`).digest('base64');
  return String(r.headers['webhook-signature']).split(' ').includes(`v1,${expected}`);
}

test('webhooks: create shows the secret once, a test ping lands in the delivery log with its attempt, rotation shows a new secret', async () => {
  const hook = await receiver();
  const { page, problems } = await app.open('webhooks');
  try {
    await page.locator('[data-testid="webhooks-list"][data-state="ready"]').waitFor({ timeout: LIVE_TIMEOUT });
    await byTestId(page, 'webhook-new').click();
    await byTestId(page, 'webhook-form').waitFor({ timeout: LIVE_TIMEOUT });

    // A bad event pattern is named at the Events field.
    await page.getByLabel('Receiver URL').fill(hook.url);
    await page.getByLabel('Events').fill('sanction.*\nnot.a.type');
    await byTestId(page, 'webhook-save').click();
    await byTestId(page, 'field-error-events').waitFor({ timeout: LIVE_TIMEOUT });
    assert.match((await byTestId(page, 'field-error-events').textContent()) ?? '', /not\.a\.type/);
    await screenshots(page, 'webhooks-new');

    await page.getByLabel('Events').fill('sanction.*\nreview.*');
    await page.getByLabel('Description').fill('Game server: sanctions and review');
    await byTestId(page, 'webhook-save').click();
    const once = byTestId(page, 'secret-once');
    await once.waitFor({ timeout: LIVE_TIMEOUT });
    assert.match((await once.textContent()) ?? '', /You will not see this secret again/);
    const secret = await byTestId(page, 'secret-value').inputValue();
    assert.match(secret, /^whsec_[A-Za-z0-9+/]{32,}={0,2}$/);

    // Over REST: the subscription exists; reads never carry the secret.
    const list = await app.api<{ items: (Record<string, unknown> & { id: string; url: string; events: string[]; secretHint: string })[] }>('GET', '/webhooks');
    assert.equal(list.items.length, 1);
    const created = list.items[0]!;
    assert.equal(created.url, hook.url);
    assert.deepEqual(created.events, ['sanction.*', 'review.*']);
    assert.equal('secret' in created, false);
    await page.waitForURL(new RegExp(`#/webhooks/${created.id}$`), { timeout: LIVE_TIMEOUT });
    await screenshots(page, 'webhooks-secret');

    await byTestId(page, 'secret-dismiss').click();
    await once.waitFor({ state: 'detached', timeout: LIVE_TIMEOUT });
    await byTestId(page, 'delivery-empty').waitFor({ timeout: LIVE_TIMEOUT });

    // Test ping: it reaches the receiver signed with the secret that was shown.
    await byTestId(page, 'webhook-test').click();
    const received = await hook.next();
    assert.equal(JSON.parse(received.body).type, 'webhook.test');
    assert.ok(verifies(secret, received), 'signed with the secret shown once');
    // It is in the log at once (pending or delivered); Refresh shows its outcome (deliveries are not evented).
    await byTestId(page, 'delivery-row').first().waitFor({ timeout: LIVE_TIMEOUT });
    const delivered = page.locator('[data-testid="delivery-row"][data-status="delivered"]');
    await until(async () => {
      if (await delivered.count()) return true;
      await byTestId(page, 'delivery-refresh').click();
      await page.locator('[data-testid="delivery-refresh"]:not([disabled])').waitFor({ timeout: LIVE_TIMEOUT });
      return (await delivered.count()) ? true : undefined;
    }, 'the delivered row', LIVE_TIMEOUT);
    assert.match((await delivered.textContent()) ?? '', /webhook\.test/);
    await delivered.getByTestId('delivery-toggle').click();
    const attempt = byTestId(page, 'delivery-attempt');
    await attempt.waitFor({ timeout: LIVE_TIMEOUT });
    assert.match((await attempt.getByTestId('attempt-status').textContent()) ?? '', /HTTP 200/);
    assert.match((await attempt.textContent()) ?? '', /thanks/);
    await screenshots(page, 'webhooks');

    // Redeliver: queued again, and it arrives again with the same webhook-id.
    await byTestId(page, 'delivery-redeliver').click();
    const again = await hook.next();
    assert.equal(again.headers['webhook-id'], received.headers['webhook-id']);
    // Bulk redeliver: nothing exhausted here, and the view says so.
    await byTestId(page, 'redeliver-all-exhausted').click();
    await page.getByTestId('bulk-redeliver').getByText('Nothing to redeliver.').waitFor({ timeout: LIVE_TIMEOUT });

    // Rotate: a new secret, shown once; the old one keeps signing for 24 h.
    await byTestId(page, 'webhook-rotate').click();
    await byTestId(page, 'webhook-rotate-yes').click();
    await once.waitFor({ timeout: LIVE_TIMEOUT });
    const rotated = await byTestId(page, 'secret-value').inputValue();
    assert.match(rotated, /^whsec_/);
    assert.notEqual(rotated, secret);
    assert.match((await once.textContent()) ?? '', /old secret keeps signing/);
    const after = await app.api<{ rotatingUntil: string | null; secretHint: string }>('GET', `/webhooks/${created.id}`);
    assert.ok(after.rotatingUntil);
    await page.getByText(/the previous secret also signs until/).waitFor({ timeout: LIVE_TIMEOUT });

    // The next test ping carries both signatures.
    await byTestId(page, 'secret-dismiss').click();
    await byTestId(page, 'webhook-test').click();
    const third = await hook.next();
    assert.ok(verifies(rotated, third) && verifies(secret, third));
    assertOnlyProvoked(problems, 1);
  } finally {
    await page.context().close();
    await new Promise((r) => hook.server.close(r));
  }
});

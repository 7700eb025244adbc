/**
 * End-to-end: the Topics view's live echo in Chromium against a real Cortex with the data
 * plane on (a private discovery endpoint); this process publishes on a topic.
 * Run with `node --import tsx --test test/e2e/topics.test.ts`.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Node, type Publisher } from '../../main/bus/node.js';
import { StringType } from '../../main/bus/types.js';
import { LIVE_TIMEOUT, screenshots, startConsole, type Console } from './support.js';

// Short paths: ipc:// socket paths are limited to ~103 bytes.
const dir = mkdtempSync('/tmp/cx-e2e-');
let c: Console;
let node: Node;
let pub: Publisher<{ data: string }>;

before(async () => {
  c = await startConsole({ busEndpoint: `ipc://${dir}/d.sock`, busRuntimeDir: join(dir, 't') });
  node = new Node({ name: 'e2e-publisher', discoveryEndpoint: `ipc://${dir}/d.sock`, runtimeDir: join(dir, 'p') });
  pub = await node.publisher('e2e/chat', StringType, { queueSize: 100 });
});
after(async () => {
  await node?.close();
  await c?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('topics: Echo streams a topic live into the list, newest first, and pauses', async () => {
  const { page, problems } = await c.open('topics');
  try {
    await page.locator('[data-testid="topics"][data-state="on"]').waitFor({ timeout: LIVE_TIMEOUT });
    const row = page.getByTestId('topic-row').filter({ hasText: 'e2e/chat' });
    await row.getByTestId('echo-toggle').click();
    await page.locator('[data-testid="echo-live"][data-status="live"]').waitFor({ timeout: LIVE_TIMEOUT });
    await new Promise((r) => setTimeout(r, 200)); // PUB/SUB: let the subscription reach the publisher
    pub.publish({ data: 'first message' });
    pub.publish({ data: 'second message' });
    const rows = page.getByTestId('echo-row');
    await rows.filter({ hasText: 'second message' }).waitFor({ timeout: LIVE_TIMEOUT });
    assert.match((await rows.nth(0).textContent()) ?? '', /second message/, 'newest first');
    assert.match((await rows.nth(1).textContent()) ?? '', /first message/);

    await page.getByTestId('echo-pause').click();
    await page.locator('[data-testid="echo-pause"][aria-pressed="true"]').waitFor();
    pub.publish({ data: 'while paused' });
    await page.getByText('1 skipped while paused').waitFor({ timeout: LIVE_TIMEOUT });
    assert.equal(await rows.count(), 2);
    await page.getByTestId('echo-pause').click();
    pub.publish({ data: 'after resume' });
    await rows.filter({ hasText: 'after resume' }).waitFor({ timeout: LIVE_TIMEOUT });
    await screenshots(page, 'topics-echo');

    // Stop: the server's subscriber goes away.
    await row.getByTestId('echo-toggle').click();
    await page.getByTestId('echo-live').waitFor({ state: 'detached' });
    for (const end = Date.now() + LIVE_TIMEOUT; c.cortex.bus!.echoes > 0; await new Promise((r) => setTimeout(r, 25))) {
      assert.ok(Date.now() < end, 'the echo subscriber was not closed');
    }
    assert.deepEqual(problems, []);
  } finally {
    await page.context().close();
  }
});

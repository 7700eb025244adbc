/**
 * Reconnect: the web console is open on a session while messages stream in over REST; the
 * server (`cortex serve`, a real child process) is SIGKILLed mid-stream and restarted on the
 * same data dir and port. The page's event stream resumes from the last event id it saw and the
 * transcript catches up with no message missing and none twice, without a reload.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../support/ports.js';
import { test } from 'node:test';
import { chromium } from 'playwright-core';
import { startServe, type ServeProcess } from '../support/serve-process.js';
import { CHROMIUM_ARGS } from './support.js';

const P = '/api/projects/default';


test('killed and restarted mid-stream: the page catches up with no missing messages', { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cx-reconnect-'));
  const port = await freePort();
  const env = { CORTEX_DATA_DIR: dir, CORTEX_BUS_ENDPOINT: 'off' };
  const args = ['--port', String(port)];
  let srv: ServeProcess = await startServe(args, env);
  // The admin key survives restarts (the printed console key lives only as long as its process).
  const key = readFileSync(join(dir, 'admin-key'), 'utf8').trim();
  // A retry reuses its Idempotency-Key: a POST that committed just before the kill is not posted twice.
  const post = async (path: string, body: unknown, idempotencyKey = randomUUID()): Promise<{ id: string } | null> => {
    try {
      const res = await fetch(`http://127.0.0.1:${port}${path}`, {
        method: 'POST',
        headers: { 'x-api-key': key, 'content-type': 'application/json', 'idempotency-key': idempotencyKey },
        body: JSON.stringify(body),
      });
      return res.ok ? ((await res.json()) as { id: string }) : null;
    } catch {
      return null; // the server is down: the poster tries again
    }
  };
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: CHROMIUM_ARGS });
  try {
    const session = (await post(`${P}/sessions`, { title: 'reconnect' }))!;
    const page = await (await browser.newContext({ viewport: { width: 1280, height: 720 } })).newPage();
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(e.message));
    await page.goto(`http://127.0.0.1:${port}/#key=${encodeURIComponent(key)}`);
    await page.evaluate((id) => (window.location.hash = `#/sessions/${id}`), session.id);
    await page.locator('[data-testid="transcript"]').waitFor({ timeout: 10_000 });
    await page.locator('[data-testid="connection"][data-state="live"]').waitFor({ timeout: 10_000 });

    const ids: string[] = [];
    const send = async (n: number) => {
      for (let i = 0; i < n; i++) {
        const idempotencyKey = randomUUID();
        for (;;) {
          const m = await post(`${P}/sessions/${session.id}/messages`, { content: `line ${ids.length}`, externalUserId: `p${ids.length % 3}` }, idempotencyKey);
          if (m) {
            ids.push(m.id);
            break;
          }
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    };
    await send(40);
    await page.locator(`[data-testid="transcript"][data-count="40"]`).waitFor({ timeout: 10_000 });
    // Kill mid-stream: messages keep being posted (and retried) across the restart.
    const sending = send(60);
    await new Promise((r) => setTimeout(r, 150));
    srv.child.kill('SIGKILL');
    await srv.exited;
    await page.locator('[data-testid="connection"]:not([data-state="live"])').waitFor({ timeout: 10_000 });
    srv = await startServe(args, env);
    await sending;
    await send(20);
    assert.equal(new Set(ids).size, 120);
    await page.locator(`[data-testid="transcript"][data-count="120"]`).waitFor({ timeout: 30_000 }).catch(async (err: Error) => {
      const count = await page.locator('[data-testid="transcript"]').getAttribute('data-count');
      const state = await page.locator('[data-testid="connection"]').getAttribute('data-state');
      throw new Error(`${err.message}\ntranscript count ${count}, connection ${state}`);
    });
    await page.locator('[data-testid="connection"][data-state="live"]').waitFor({ timeout: 10_000 });
    // Following the live edge: the newest message is on screen.
    await page.locator(`[data-testid="transcript-row"][data-id="${ids.at(-1)}"]`).waitFor({ timeout: 5_000 });
    assert.deepEqual(problems, []);
  } finally {
    await browser.close();
    srv.child.kill('SIGKILL');
    await srv.exited;
    rmSync(dir, { recursive: true, force: true });
  }
});

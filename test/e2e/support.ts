/**
 * Shared by the browser tests: a Cortex serving the built web console on 127.0.0.1, Debian's
 * Chromium through playwright-core, a page that records errors, a REST helper, and screenshots
 * of a view in the light and dark theme under test-results/screenshots/.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { CortexConfig } from '../../main/core/config.js';
import { startCortex, type Cortex } from '../../main/core/cortex.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const STATIC_DIR = join(ROOT, 'dist', 'renderer');
export const SCREENSHOTS = join(ROOT, 'test-results', 'screenshots');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'];
export const LIVE_TIMEOUT = 5_000;

export interface Console {
  cortex: Cortex;
  url: string;
  browser: Browser;
  /** REST with the console key against /api/projects/default + path (or an absolute /api path). */
  api<T = unknown>(method: string, path: string, body?: unknown): Promise<T>;
  /** A fresh context and page, not navigated yet; `problems` collects page and console errors. */
  newPage(opts?: PageOptions): Promise<{ page: Page; problems: string[] }>;
  /** As newPage, logged in with the console key, at `#/<view>`. */
  open(view?: string, opts?: PageOptions): Promise<{ page: Page; problems: string[] }>;
  close(): Promise<void>;
}

export interface PageOptions {
  colorScheme?: 'light' | 'dark';
  width?: number;
  height?: number;
}

export async function startConsole(overrides: Partial<CortexConfig> = {}): Promise<Console> {
  if (!existsSync(join(STATIC_DIR, 'index.html'))) execFileSync('npx', ['vite', 'build', '--logLevel', 'warn'], { cwd: ROOT, stdio: 'inherit' });
  const dataDir = await mkdtemp(join(tmpdir(), 'cortex-e2e-'));
  const cortex = await startCortex({ dataDir, port: 0, logLevel: 'silent', staticDir: STATIC_DIR, busEndpoint: null, ...overrides });
  const url = await cortex.listen();
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  const newPage = async (opts: PageOptions = {}) => {
    const context = await browser.newContext({ viewport: { width: opts.width ?? 1280, height: opts.height ?? 720 }, colorScheme: opts.colorScheme ?? 'light' });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
    page.on('console', (msg) => {
      const text = msg.text();
      // frame-ancestors is only honoured as an HTTP header; Chromium notes that it ignores it in <meta>.
      if (msg.type() === 'error' && !text.includes("'frame-ancestors'")) problems.push(`console: ${text}`);
    });
    return { page, problems };
  };
  return {
    cortex, url, browser,
    async api<T>(method: string, path: string, body?: unknown): Promise<T> {
      const full = path.startsWith('/api/') ? path : `/api/projects/default${path}`;
      const res = await fetch(url + full, {
        method,
        headers: { 'x-api-key': cortex.consoleKey, ...(body !== undefined && { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      assert.ok(res.ok, `${method} ${full} answered ${res.status}: ${text}`);
      return (text ? JSON.parse(text) : null) as T;
    },
    newPage,
    async open(view = '', opts = {}) {
      const { page, problems } = await newPage(opts);
      await page.goto(`${url}/#key=${encodeURIComponent(cortex.consoleKey)}`);
      // The first load parses the bundle: on a loaded 2-core machine that can take a while.
      await page.locator('[data-testid="connection"]').waitFor({ timeout: 20_000 });
      if (view) await page.evaluate((v) => (window.location.hash = `#/${v}`), view);
      return { page, problems };
    },
    async close() {
      await browser.close().catch(() => undefined);
      await cortex.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Saves `<name>-light.png` and `<name>-dark.png` of the page as it is now. */
export async function screenshots(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  for (const scheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme: scheme });
    await page.screenshot({ path: join(SCREENSHOTS, `${name}-${scheme}.png`) });
  }
  await page.emulateMedia({ colorScheme: 'light' });
}

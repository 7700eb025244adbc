/**
 * The whole chain as a moderator lives it, in Chromium against a real Cortex: espeak-ng speech
 * in a WAV → the file adapter's bot (Silero VAD, utterance cutting, the transcription queue,
 * the OpenAI-compatible engine client) → messages arriving live in the session's transcript →
 * the toxicity plugin flags the insult → an automod rule queues it for review → a 1 h temp-ban
 * with the keyboard only, visible over REST.
 *
 * The only stand-in is the speech-to-text server (real Whisper weights do not exist here): a
 * node:http endpoint on 127.0.0.1 that answers `POST /v1/audio/transcriptions` with the next
 * line of a script, checking that each request carries a WAV the way OpenAI expects it.
 * Run with `node --import tsx --test test/e2e/moderator-flow.test.ts` after `npx vite build`.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Page } from 'playwright-core';
import type { Message, Sanction, Session } from '../../common/schemas.js';
import { encodeWav } from '../../main/bot/rooms/wav.js';
import { espeakMissing, layout, speak, trim } from '../bot/audio/speech.js';
import { screenshots, startConsole, type Console } from './support.js';

const skip = espeakMissing();
/** Generous: the bot replays in real time and the machine has two shared cores. */
const FLOW_TIMEOUT = 30_000;
const SCRIPT = ['gg everyone', 'you are a worthless fucking idiot', 'nice shot'];

/** What the stub saw: one entry per transcription request. */
interface SttRequest {
  path: string;
  model: string | null;
  format: string | null;
  wavBytes: number;
}

let stt: Server;
const requests: SttRequest[] = [];
let c: Console | undefined;
let dir: string;
let wavPath: string;

/** The OpenAI-compatible transcription endpoint: each utterance gets the next line of the script. */
function startStt(): Promise<string> {
  stt = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (d: Buffer) => chunks.push(d));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const text = body.toString('latin1');
      const field = (name: string) => new RegExp(`name="${name}"\\r\\n\\r\\n([^\\r]*)\\r\\n`).exec(text)?.[1] ?? null;
      const riff = body.indexOf('RIFF');
      requests.push({ path: req.url ?? '', model: field('model'), format: field('response_format'), wavBytes: riff < 0 ? 0 : body.length - riff });
      if (req.method !== 'POST' || req.url !== '/v1/audio/transcriptions' || riff < 0 || !/multipart\/form-data/.test(req.headers['content-type'] ?? '')) {
        res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: 'expected a multipart POST with a WAV file' } }));
        return;
      }
      const line = SCRIPT[requests.length - 1] ?? '';
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ text: line, language: 'english', segments: [] }));
    });
  });
  return new Promise((resolve) => stt.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(stt.address() as AddressInfo).port}/v1`)));
}

before(async () => {
  if (skip) return;
  dir = mkdtempSync(join(tmpdir(), 'cortex-flow-'));
  // Three phrases by one speaker, 2.5 s apart (the cutter ends an utterance after 1.5 s of silence).
  const speech = layout(SCRIPT.map((t) => trim(speak(t, 'en-us'))), [2500, 2500], 500, 2500);
  wavPath = join(dir, 'vex.wav');
  writeFileSync(wavPath, encodeWav(speech.pcm.samples, speech.pcm.rate));
  const openaiUrl = await startStt();
  c = await startConsole({ transcriptionEngine: 'openai', openaiUrl, evidenceRetentionDays: 1 });
});
after(async () => {
  await c?.close();
  await new Promise((r) => (stt ? stt.close(r) : r(undefined)));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const row = (page: Page, text: string) => page.getByTestId('transcript-row').filter({ has: page.getByTestId('message-content').getByText(text, { exact: true }) });
const reviewItem = (page: Page, messageId: string) => page.locator(`[data-testid="review-item"][data-message-id="${messageId}"]`);

async function waitFor(what: string, fn: () => Promise<boolean>, timeout = FLOW_TIMEOUT): Promise<void> {
  const end = Date.now() + timeout;
  for (;;) {
    if (await fn()) return;
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('speech → live transcript → toxicity flag → review → 1 h temp-ban with the keyboard', { skip, timeout: 180_000 }, async () => {
  const app = c!;
  const started = Date.now();

  // The moderator's setup, over REST: the toxicity plugin and a rule that queues flags for review.
  await app.api('POST', '/plugins', { pluginId: 'toxicity' });
  await app.api('POST', '/automod/rules', { name: 'Toxic → review', when: { annotationType: 'toxicity', minScore: 0.5 }, then: { review: { priority: 'high' } } });

  const { page, problems } = await app.open('sessions');
  try {
    await page.locator('[data-testid="sessions-list"][data-state="ready"]').waitFor({ timeout: FLOW_TIMEOUT });
    await page.locator('[data-testid="connection"][data-state="live"]').waitFor({ timeout: FLOW_TIMEOUT });

    // A voice session appears live in the list; the moderator opens it before it starts.
    const title = 'Ranked #5120 (voice)';
    const session = await app.api<Session>('POST', '/sessions', {
      title,
      autoStart: false,
      adapter: 'file',
      adapterConfig: { realtime: true, peers: [{ peerId: 'p-vex', userId: 'vex#7', displayName: 'Vex', path: wavPath }] },
    });
    const link = page.getByTestId('session-row').filter({ has: page.getByTestId('session-title').getByText(title, { exact: true }) }).getByTestId('session-link');
    await link.waitFor({ timeout: FLOW_TIMEOUT });
    await link.focus();
    await page.keyboard.press('Enter');
    await page.locator(`[data-testid="session-detail"][data-session-id="${session.id}"]`).waitFor({ timeout: FLOW_TIMEOUT });
    await page.locator('[data-testid="transcript"][aria-busy="false"]').waitFor({ timeout: FLOW_TIMEOUT });
    await page.locator('[data-testid="connection"][data-state="live"][data-open-streams="1"]').waitFor({ timeout: FLOW_TIMEOUT });
    assert.equal(await page.getByTestId('transcript-row').count(), 0);

    // Started: the bot joins, listens, and each utterance arrives in the open transcript.
    await app.api('POST', `/sessions/${session.id}/start`);
    await page.getByTestId('bot-state').getByText(/Transcription bot: (listening|stopped)/).waitFor({ timeout: FLOW_TIMEOUT });
    // While the WAV plays (three phrases, 2.5 s apart), Vex's speaking indicator turns on: pushed by bot.status.changed.
    const vexRow = page.getByTestId('participant').filter({ hasText: 'Vex' });
    await vexRow.and(page.locator('[data-speaking="true"]')).locator('.sx-speaking-dot.sx-is-speaking').waitFor({ timeout: FLOW_TIMEOUT });
    for (const line of SCRIPT) await row(page, line).waitFor({ timeout: FLOW_TIMEOUT });
    const shown = await page.$$eval('[data-testid="transcript-row"] [data-testid="message-content"]', (els) => els.map((e) => e.textContent));
    assert.deepEqual(shown, SCRIPT, 'the three utterances, in the order spoken');
    assert.equal(await row(page, 'gg everyone').getByTestId('message-speaker').textContent(), 'Vex');

    // The stub got exactly one WAV per utterance, as the OpenAI API takes it.
    assert.equal(requests.length, 3, `one request per utterance: ${JSON.stringify(requests)}`);
    for (const r of requests) {
      assert.deepEqual([r.path, r.model, r.format], ['/v1/audio/transcriptions', 'whisper-1', 'verbose_json']);
      assert.ok(r.wavBytes > 16_000, `a WAV of real length (${r.wavBytes} bytes)`);
    }

    // The toxicity plugin flags the insult: highlighted, with its badge; the others stay plain.
    const toxic = row(page, SCRIPT[1]!);
    await toxic.and(page.locator('[data-flagged="true"]')).waitFor({ timeout: FLOW_TIMEOUT });
    const badge = toxic.getByTestId('annotation-badge');
    assert.equal(await badge.locator('span').first().textContent(), 'toxicity');
    assert.match((await badge.textContent()) ?? '', /toxicity\s*0\.65/);
    assert.equal(await row(page, 'gg everyone').getAttribute('data-flagged'), 'false');
    assert.equal(await row(page, 'nice shot').getAttribute('data-flagged'), 'false');
    await page.getByTestId('flagged-count').getByText('1 flagged').waitFor({ timeout: FLOW_TIMEOUT });

    // Evidence audio was kept (retention 1 day): the button plays the clip from a blob: URL.
    const toxicId = (await toxic.getAttribute('data-id'))!;
    const stored = await app.api<Message>('GET', `/sessions/${session.id}/messages/${toxicId}`);
    assert.equal(stored.hasDebugAudio, true);
    const play = toxic.getByTestId('play-audio');
    await play.waitFor({ timeout: FLOW_TIMEOUT });
    await play.click();
    await page.getByTestId('evidence-audio').waitFor({ timeout: FLOW_TIMEOUT });
    assert.match((await page.getByTestId('evidence-audio').getAttribute('src')) ?? '', /^blob:/);
    await page.getByTestId('bot-state').getByText('Transcription bot: stopped').waitFor({ timeout: FLOW_TIMEOUT });
    assert.equal(await vexRow.getAttribute('data-speaking'), 'false', 'nobody speaks once the bot has left');
    await screenshots(page, 'flow-session');

    // The review queue: the insult is there, selected; b → the picker (1 h preselected) → Enter.
    await page.evaluate(() => (window.location.hash = '#/review'));
    await page.locator('[data-testid="review-list"][data-state="ready"]').waitFor({ timeout: FLOW_TIMEOUT });
    const item = reviewItem(page, toxicId);
    await item.waitFor({ timeout: FLOW_TIMEOUT });
    assert.equal(await page.getByTestId('review-item').count(), 1);
    await item.and(page.locator('[aria-selected="true"]')).waitFor({ timeout: FLOW_TIMEOUT });
    await page.getByTestId('review-message').getByText(SCRIPT[1]!).waitFor({ timeout: FLOW_TIMEOUT });
    await waitFor('the item focused', async () => (await page.evaluate(() => document.activeElement?.getAttribute('data-message-id'))) === toxicId);
    await page.keyboard.press('b');
    await page.getByTestId('duration-picker').waitFor({ timeout: FLOW_TIMEOUT });
    await page.locator('[data-testid="duration-3600"][aria-checked="true"]').waitFor({ timeout: FLOW_TIMEOUT });
    await screenshots(page, 'flow-review');
    await page.keyboard.press('Enter');
    await page.getByTestId('review-status').getByText('Banned Vex for 1 h — press u to undo.').waitFor({ timeout: FLOW_TIMEOUT });
    await item.waitFor({ state: 'detached', timeout: FLOW_TIMEOUT });

    // Over REST: one active temp-ban of 3600 s on Vex, with the flag as its reason.
    const vex = stored.participantId!;
    const active = await app.api<{ items: Sanction[] }>('GET', `/participants/${vex}/sanctions?active=true`);
    assert.equal(active.items.length, 1);
    const ban = active.items[0]!;
    assert.equal(ban.type, 'temp_ban');
    assert.equal((Date.parse(ban.endAt!) - Date.parse(ban.startAt)) / 1000, 3600);

    assert.deepEqual(problems, []);
    console.log(`moderator flow: ${((Date.now() - started) / 1000).toFixed(1)} s`);
  } finally {
    await page.context().close();
  }

  // Large screens: the session and the overview at 2560×1440.
  const big = { width: 2560, height: 1440 };
  const session = (await app.api<{ items: Session[] }>('GET', '/sessions')).items[0]!;
  const detail = await app.open(`sessions/${session.id}`, big);
  try {
    await row(detail.page, SCRIPT[2]!).waitFor({ timeout: FLOW_TIMEOUT });
    await screenshots(detail.page, 'session-detail-2560');
    assert.deepEqual(detail.problems, []);
  } finally {
    await detail.page.context().close();
  }
  const overview = await app.open('overview', big);
  try {
    await overview.page.getByTestId('overview').waitFor({ timeout: FLOW_TIMEOUT });
    await overview.page.getByTestId('flagged-row').first().waitFor({ timeout: FLOW_TIMEOUT });
    await screenshots(overview.page, 'overview-2560');
    assert.deepEqual(overview.problems, []);
  } finally {
    await overview.page.context().close();
  }
});

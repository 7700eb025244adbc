/**
 * The bot end to end on the file adapter: two speakers (two espeak-ng voices, overlapping
 * turns, known pauses) → per-peer resample/VAD/utterances → the shared queue → an engine
 * double (real Whisper weights cannot exist here; the double stands in for the downstream
 * path only, as the issue allows) → messages attributed to the right participants.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { loadVadModel, type VadModel } from '../../main/bot/audio/vad.js';
import type { Transcription } from '../../main/bot/engine/types.js';
import { TranscriptionQueue } from '../../main/bot/queue.js';
import { FileRoom } from '../../main/bot/rooms/file.js';
import { encodeWav } from '../../main/bot/rooms/wav.js';
import { SessionBot, type BotStatus } from '../../main/bot/session-bot.js';
import { startCortex, type Cortex } from '../../main/core/cortex.js';
import { espeakMissing, layout, speak, trim } from './audio/speech.js';

const skip = espeakMissing();
const dir = mkdtempSync('/tmp/cx-bot-');
let cortex: Cortex;
let vad: VadModel;
before(async () => {
  cortex = await startCortex({ dataDir: join(dir, 'data'), port: 0, logLevel: 'silent', busEndpoint: null });
  vad = await loadVadModel();
});
after(async () => {
  await cortex?.close();
  await vad?.release();
  rmSync(dir, { recursive: true, force: true });
});

/** Says how long the utterance was, so the test can check which audio produced which message. */
const lengthEngine = {
  name: 'double',
  calls: 0,
  async transcribe(pcm: Float32Array): Promise<Transcription> {
    this.calls++;
    const ms = Math.round((pcm.length / 16000) * 1000);
    return { text: ms < 400 ? '[BLANK_AUDIO]' : `utterance of ${ms} ms`, segments: [], language: 'en', encodeMs: 0, totalMs: 0 };
  },
  async close() {},
};

test('two speakers → one message per utterance, each attributed to its speaker, blanks dropped', { skip }, async () => {
  const scope = { tenantId: cortex.tenantId, projectId: cortex.projectId };
  const session = await cortex.events.commit(() => cortex.domain.sessions.create(scope, { title: 'bot e2e' }));
  // Ann: two phrases 2.5 s apart. Bob (another voice) talks while Ann pauses: overlapping turns across peers.
  const ann = layout([trim(speak('the match starts in five minutes', 'en-us')), trim(speak('everyone ready up please', 'en-us'))], [2500], 300, 2000);
  const bob = layout([trim(speak('I need one more minute', 'en-gb'))], [], 1800, 3000);
  for (const [name, l] of [['ann', ann], ['bob', bob]] as const) writeFileSync(join(dir, `${name}.wav`), encodeWav(l.pcm.samples, l.pcm.rate));
  const statuses: BotStatus['state'][] = [];
  const queue = new TranscriptionQueue(lengthEngine, { capacity: 16 });
  const bot = new SessionBot(
    { domain: cortex.domain, commit: (fn) => cortex.events.commit(fn), queue, vadModel: vad, logger: { info() {}, warn() {}, error() {} }, onStatus: (s) => statuses.push(s.state) },
    {
      scope, sessionId: session.id,
      adapter: new FileRoom({ realtime: false, peers: [
        { peerId: 'p-ann', userId: 'ann#1', displayName: 'Ann', path: join(dir, 'ann.wav') },
        { peerId: 'p-bob', userId: 'bob#2', displayName: 'Bob', path: join(dir, 'bob.wav') },
      ] }),
    },
  );
  await bot.start();
  // The file adapter leaves the room at the end of the files; stop() then waits for every transcript.
  for (let i = 0; i < 200 && statuses.at(-1) !== 'stopped'; i++) await new Promise((r) => setTimeout(r, 50));
  await bot.stop();
  assert.deepEqual(statuses, ['joining', 'listening', 'stopped']);

  const messages = cortex.domain.messages.list(scope, session.id, { limit: 100 }).items;
  const participants = cortex.domain.participants.listInSession(scope, session.id);
  const byExternal = new Map(participants.map((p) => [p.externalUserId, p]));
  assert.deepEqual([...byExternal.keys()].sort(), ['ann#1', 'bob#2']);
  assert.ok(participants.every((p) => p.leftAt !== null), 'peers left when their files ended');
  const of = (who: string) => messages.filter((m) => m.participantId === byExternal.get(who)!.id);
  assert.equal(of('ann#1').length, 2, `Ann said two things: ${JSON.stringify(messages.map((m) => [m.senderName, m.content]))}`);
  assert.equal(of('bob#2').length, 1);
  for (const m of messages) {
    assert.equal(m.type, 'user');
    assert.equal(m.language, 'en');
    assert.match(m.content, /^utterance of \d+ ms$/);
  }
  // Each message's length matches its phrase (+ pre/post-roll), so attribution and boundaries line up.
  const expectMs = (span: { startMs: number; endMs: number }) => span.endMs - span.startMs + 600;
  const annMs = of('ann#1').map((m) => Number(/(\d+) ms/.exec(m.content)![1])).sort((a, b) => a - b);
  const annTruth = ann.speech.map(expectMs).sort((a, b) => a - b);
  annMs.forEach((ms, i) => assert.ok(Math.abs(ms - annTruth[i]!) < 400, `Ann utterance ${ms} ms vs ${annTruth[i]} ms`));
  assert.equal(of('ann#1')[0]!.senderName, 'Ann');
  assert.ok(queue.stats().processed >= 3);
});

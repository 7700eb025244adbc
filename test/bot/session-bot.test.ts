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
import { WhisperEngine } from '../../main/bot/engine/whisper.js';
import { needsTestModel, TEST_MODEL } from '../support/shared-models.js';
import { FileRoom } from '../../main/bot/rooms/file.js';
import { encodeWav } from '../../main/bot/rooms/wav.js';
import { SessionBot, SPEAKING_INTERVAL_MS, type BotStatus, type PeerSpeaking } from '../../main/bot/session-bot.js';
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

test('the real engine killed mid-utterance: restarted, the utterance retried, no speaker loses anything', { skip: skip || needsTestModel }, async () => {
  const scope = { tenantId: cortex.tenantId, projectId: cortex.projectId };
  const session = await cortex.events.commit(() => cortex.domain.sessions.create(scope, { title: 'engine crash' }));
  const a = layout([trim(speak('first thing', 'en-us')), trim(speak('second thing', 'en-us'))], [2000], 300, 2000);
  const b = layout([trim(speak('another voice here', 'en-gb'))], [], 1000, 2500);
  writeFileSync(join(dir, 'ka.wav'), encodeWav(a.pcm.samples, a.pcm.rate));
  writeFileSync(join(dir, 'kb.wav'), encodeWav(b.pcm.samples, b.pcm.rate));
  const whisper = new WhisperEngine({ modelPath: TEST_MODEL! });
  let killed = false;
  // Kill the engine process 30 ms into the first transcription.
  const engine = {
    name: 'whisper (killed once)',
    transcribe: (pcm: Float32Array, o: object) => {
      if (!killed) {
        killed = true;
        setTimeout(() => {
          if (whisper.pid) process.kill(whisper.pid, 'SIGKILL');
        }, 30);
      }
      return whisper.transcribe(pcm, o);
    },
    close: () => whisper.close(),
  };
  const queue = new TranscriptionQueue(engine, { capacity: 16 });
  const emitted: string[] = [];
  const bot = new SessionBot(
    { domain: cortex.domain, commit: (fn) => cortex.events.commit(fn), queue, vadModel: vad, logger: { info() {}, warn() {}, error() {} }, onStatus: () => {} },
    { scope, sessionId: session.id, adapter: new FileRoom({ realtime: false, peers: [{ peerId: 'a', path: join(dir, 'ka.wav') }, { peerId: 'b', path: join(dir, 'kb.wav') }] }) },
  );
  try {
    await whisper.transcribe(new Float32Array(16000), {}); // warm: the kill must hit a running engine
    await bot.start();
    for (let i = 0; i < 400 && bot.state.state !== 'stopped'; i++) await new Promise((r) => setTimeout(r, 50));
    await bot.stop();
    for (const p of bot.peerStates()) if (p.lastUtterance) emitted.push(p.peerId);
    const stats = queue.stats();
    assert.ok(killed, 'the engine was killed during a transcription');
    assert.equal(stats.failed, 0, 'the killed utterance was retried on the restarted engine');
    assert.equal(stats.processed, 3, 'every utterance of both speakers was transcribed');
    assert.deepEqual(emitted.sort(), ['a', 'b']);
  } finally {
    await whisper.close();
  }
});

/** Runs one file-adapter bot to the end and records its speaking updates with their times. */
async function speakingRun(name: string, wav: string, realtime: boolean) {
  const scope = { tenantId: cortex.tenantId, projectId: cortex.projectId };
  const session = await cortex.events.commit(() => cortex.domain.sessions.create(scope, { title: name }));
  const updates: Array<{ at: number; peers: PeerSpeaking[] }> = [];
  const bot = new SessionBot(
    {
      domain: cortex.domain, commit: (fn) => cortex.events.commit(fn), queue: new TranscriptionQueue(lengthEngine, { capacity: 16 }), vadModel: vad,
      logger: { info() {}, warn() {}, error() {} }, onStatus: () => {},
      onSpeaking: (peers) => updates.push({ at: performance.now(), peers }),
    },
    { scope, sessionId: session.id, adapter: new FileRoom({ realtime, peers: [{ peerId: 'p-ann', userId: 'ann#1', displayName: 'Ann', path: wav }] }) },
  );
  const t0 = performance.now();
  await bot.start();
  for (let i = 0; i < 400 && bot.state.state !== 'stopped'; i++) await new Promise((r) => setTimeout(r, 50));
  await bot.stop();
  const wallMs = performance.now() - t0;
  const gaps = updates.slice(1).map((u, i) => u.at - updates[i]!.at);
  return { updates, gaps, wallMs, ann: updates.map((u) => u.peers.find((p) => p.peerId === 'p-ann')?.speaking) };
}

test('speaking updates: on and off for a speaker in real time, the last one says nobody speaks', { skip }, async () => {
  const l = layout([trim(speak('the match starts in five minutes', 'en-us')), trim(speak('everyone ready up please', 'en-us'))], [1500], 300, 1500);
  writeFileSync(join(dir, 'speaking.wav'), encodeWav(l.pcm.samples, l.pcm.rate));
  const { updates, gaps, wallMs, ann } = await speakingRun('speaking', join(dir, 'speaking.wav'), true);
  console.log(`speaking (real time): ${updates.length} updates in ${Math.round(wallMs)} ms: ${JSON.stringify(ann)}; gaps ${gaps.map(Math.round).join(', ')} ms`);
  const on = ann.indexOf(true);
  assert.ok(on >= 0, `Ann was reported speaking: ${JSON.stringify(ann)}`);
  assert.ok(ann.indexOf(false, on) > on, `and then not speaking: ${JSON.stringify(ann)}`);
  assert.equal(ann.at(-1), false, 'the trailing update is the final state');
  // Two phrases 1.5 s apart: on, off, on, off (each a separate update: the pause is longer than the interval).
  assert.ok(ann.filter((x) => x === true).length >= 2, `both phrases turned the indicator on: ${JSON.stringify(ann)}`);
  for (const g of gaps) assert.ok(g >= SPEAKING_INTERVAL_MS - 2, `updates ${Math.round(g)} ms apart`);
  assert.equal(updates[0]!.peers[0]!.displayName, 'Ann');
});

test('speaking updates are coalesced: a stream replayed faster than real time flips far more often than it reports', { skip }, async () => {
  const words = ['one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten'].map((w) => trim(speak(w, 'en-us')));
  const l = layout(words, words.slice(1).map(() => 700), 300, 1500);
  writeFileSync(join(dir, 'flaps.wav'), encodeWav(l.pcm.samples, l.pcm.rate));
  const { updates, gaps, wallMs, ann } = await speakingRun('flaps', join(dir, 'flaps.wav'), false);
  // Ten words 700 ms apart: the VAD flips on and off ~20 times in ~10 s of stream time.
  console.log(`speaking (fast replay): ${updates.length} updates in ${Math.round(wallMs)} ms for ${l.speech.length * 2} flips of ${Math.round((l.pcm.samples.length / l.pcm.rate) * 1000)} ms of audio`);
  for (const g of gaps) assert.ok(g >= SPEAKING_INTERVAL_MS - 2, `updates ${Math.round(g)} ms apart`);
  assert.ok(updates.length <= Math.ceil(wallMs / SPEAKING_INTERVAL_MS) + 1, `${updates.length} updates in ${Math.round(wallMs)} ms`);
  assert.ok(updates.length < l.speech.length * 2, `coalesced: ${updates.length} updates for ${l.speech.length * 2} flips (${JSON.stringify(ann)})`);
});

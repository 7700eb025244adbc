import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_SEGMENTER_SETTINGS, UtteranceSegmenter, resolveSegmenterSettings, type SegmenterSettings, type Utterance } from '../../../main/bot/audio/utterances.js';

const RATE = 16000;
const FRAME = 512; // 32 ms, as the pipeline feeds it
const MS_PER_FRAME = (FRAME * 1000) / RATE;

/** Sample value that encodes its stream index, so tests can tell which audio an utterance holds. */
const mark = (index: number): number => Math.fround(((index % 1_000_000) + 1) * 1e-6);

/**
 * Drives a segmenter with a probability script: [durationMs, probability][]. Returns the
 * utterances and the stream time (ms) at which each was emitted.
 */
function run(script: Array<[number, number]>, settings: Partial<SegmenterSettings> = {}, wall?: (ms: number) => number) {
  const out: Array<Utterance & { emittedAtMs: number }> = [];
  let clockMs = 0;
  const seg = new UtteranceSegmenter('peer-1', settings, (u) => out.push({ ...u, emittedAtMs: clockMs }));
  let index = 0;
  for (const [ms, p] of script) {
    const frames = Math.round(ms / MS_PER_FRAME);
    for (let f = 0; f < frames; f++) {
      const x = new Float32Array(FRAME);
      for (let i = 0; i < FRAME; i++) x[i] = mark(index + i);
      clockMs = ((index + FRAME) * 1000) / RATE;
      seg.push(x, p, wall?.((index * 1000) / RATE));
      index += FRAME;
    }
  }
  return { out, seg };
}

/** ms → whole frames → ms, as `run` rounds script durations. */
const q = (ms: number): number => Math.round(ms / MS_PER_FRAME) * MS_PER_FRAME;

function checkSamples(u: Utterance): void {
  assert.equal(u.samples.length, Math.round(((u.endMs - u.startMs) * RATE) / 1000));
  const first = Math.round((u.startMs * RATE) / 1000);
  assert.equal(u.samples[0], mark(first), 'first sample is the one at startMs');
  assert.equal(u.samples[u.samples.length - 1], mark(first + u.samples.length - 1), 'samples are contiguous');
}

test('defaults are the documented ones', () => {
  assert.deepEqual(
    { ...DEFAULT_SEGMENTER_SETTINGS },
    { sampleRate: 16000, startThreshold: 0.5, stopThreshold: 0.35, preRollMs: 300, postRollMs: 300, minSilenceMs: 1500, maxUtteranceMs: 30_000, minSpeechMs: 250 },
  );
});

test('one utterance: 300 ms pre-roll, post-roll, emitted after 1.5 s of silence', () => {
  const { out, seg } = run([
    [2000, 0.05],
    [1000, 0.9],
    [3000, 0.05],
  ]);
  assert.equal(out.length, 1);
  const u = out[0]!;
  assert.equal(u.peerId, 'peer-1');
  assert.equal(u.speechStartMs, q(2000));
  assert.equal(u.speechEndMs, q(2000) + q(1000));
  assert.equal(u.startMs, u.speechStartMs - 300, 'pre-roll');
  assert.equal(u.endMs, u.speechEndMs + 300, 'post-roll');
  assert.equal(u.end, 'silence');
  assert.equal(u.continued, false);
  assert.equal(u.sampleRate, 16000);
  checkSamples(u);
  // Emitted on the first frame that completes 1.5 s of silence, not before.
  assert.ok(u.emittedAtMs >= u.speechEndMs + 1500 && u.emittedAtMs < u.speechEndMs + 1500 + MS_PER_FRAME, String(u.emittedAtMs));
  assert.equal(seg.inUtterance, false);
  assert.deepEqual(seg.stats, { emitted: 1, droppedShort: 0 });
});

test('pre-roll is cut short at the start of the stream', () => {
  const { out } = run([
    [96, 0],
    [1000, 0.9],
    [2000, 0],
  ]);
  assert.equal(out[0]!.startMs, 0);
  assert.equal(out[0]!.speechStartMs, q(96));
  checkSamples(out[0]!);
});

test('hysteresis: 0.4 neither starts nor ends speech', () => {
  // 0.45 from idle: never starts.
  assert.equal(run([[3000, 0.45]]).out.length, 0);
  // Started by 0.6, 0.4 holds it (above 0.35) for 3 s, 0.3 ends it.
  const { out } = run([
    [500, 0],
    [500, 0.6],
    [3000, 0.4],
    [2000, 0.3],
  ]);
  assert.equal(out.length, 1);
  assert.equal(out[0]!.speechEndMs, q(500) + q(500) + q(3000));
});

test('a pause shorter than 1.5 s keeps one utterance; a longer one splits it', () => {
  const one = run([
    [500, 0],
    [1000, 0.9],
    [1400, 0.1],
    [1000, 0.9],
    [2000, 0],
  ]).out;
  assert.equal(one.length, 1);
  assert.equal(one[0]!.speechEndMs - one[0]!.speechStartMs, q(1000) + q(1400) + q(1000));
  const two = run([
    [500, 0],
    [1000, 0.9],
    [1600, 0.1],
    [1000, 0.9],
    [2000, 0],
  ]).out;
  assert.equal(two.length, 2);
  for (const u of two) checkSamples(u);
  assert.ok(two[1]!.startMs >= two[0]!.endMs, 'no audio in two utterances');
  assert.equal(two[1]!.speechStartMs - two[1]!.startMs, 300, 'second utterance has its pre-roll too');
});

test('blips shorter than 250 ms are dropped and counted', () => {
  const { out, seg } = run([
    [1000, 0],
    [192, 0.95], // 6 frames
    [2000, 0],
    [288, 0.95], // 9 frames: kept
    [2000, 0],
  ]);
  assert.equal(out.length, 1);
  assert.equal(out[0]!.speechEndMs - out[0]!.speechStartMs, 288);
  assert.deepEqual(seg.stats, { emitted: 1, droppedShort: 1 });
});

test('30 s cap: long speech is cut into seamless pieces, none longer than 30 s', () => {
  const { out } = run([
    [1000, 0],
    [65_000, 0.9],
    [2000, 0],
  ]);
  assert.equal(out.length, 3);
  assert.deepEqual(
    out.map((u) => [u.end, u.continued]),
    [
      ['max-length', false],
      ['max-length', true],
      ['silence', true],
    ],
  );
  for (const u of out) {
    assert.ok(u.endMs - u.startMs <= 30_000, `${u.endMs - u.startMs} ms`);
    checkSamples(u);
  }
  assert.equal(out[0]!.endMs - out[0]!.startMs, 30_000);
  assert.equal(out[1]!.startMs, out[0]!.endMs, 'continues exactly where the cut was');
  assert.equal(out[2]!.startMs, out[1]!.endMs);
  assert.equal(out[2]!.speechEndMs, q(1000) + q(65_000));
});

test('30 s cap during the trailing silence ends the utterance at its post-roll', () => {
  const { out } = run([
    [1000, 0],
    [29_000, 0.9],
    [3000, 0],
  ]);
  assert.equal(out.length, 1);
  assert.equal(out[0]!.end, 'max-length');
  assert.equal(out[0]!.endMs, out[0]!.speechEndMs + 300);
  // Post-roll never pushes it past the cap.
  const late = run([
    [1000, 0],
    [29_400, 0.9],
    [3000, 0],
  ]).out;
  assert.equal(late.length, 1);
  assert.equal(late[0]!.endMs - late[0]!.startMs, 30_000);
  checkSamples(late[0]!);
  checkSamples(out[0]!);
});

test('a custom cap and thresholds are honoured', () => {
  const { out } = run(
    [
      [1000, 0],
      [5000, 0.75],
      [1000, 0],
    ],
    { maxUtteranceMs: 2000, startThreshold: 0.7, stopThreshold: 0.6, minSilenceMs: 500, preRollMs: 100, postRollMs: 0 },
  );
  assert.ok(out.length >= 3);
  assert.equal(out[0]!.speechStartMs - out[0]!.startMs, 100);
  assert.ok(out.every((u) => u.endMs - u.startMs <= 2000));
  assert.equal(out.at(-1)!.endMs, out.at(-1)!.speechEndMs);
});

test('flush emits the open utterance; the stream can go on afterwards', () => {
  const seg = new UtteranceSegmenter('p', {}, (u) => got.push(u));
  const got: Utterance[] = [];
  const frame = new Float32Array(FRAME).fill(0.1);
  for (let i = 0; i < 30; i++) seg.push(frame, 0.9);
  assert.equal(seg.speaking, true);
  assert.ok(Math.abs(seg.utteranceMs - 30 * MS_PER_FRAME) < 1e-9);
  seg.flush();
  assert.equal(got.length, 1);
  assert.equal(got[0]!.end, 'flush');
  assert.equal(seg.speaking, false);
  assert.equal(seg.utteranceMs, 0);
  for (let i = 0; i < 30; i++) seg.push(frame, 0.9);
  seg.flush();
  assert.equal(got.length, 2);
  assert.equal(got[1]!.startMs, 30 * MS_PER_FRAME, 'no pre-roll across a flush; the clock kept running');
  seg.flush();
  assert.equal(got.length, 2, 'flushing when idle emits nothing');
});

test('a NaN probability counts as silence', () => {
  const { out } = run([
    [500, 0],
    [1000, 0.9],
    [2000, NaN],
  ]);
  assert.equal(out.length, 1);
  assert.equal(out[0]!.end, 'silence');
});

test('wall clock of the first sample comes from the caller’s timestamps', () => {
  const t0 = 1_700_000_000_000;
  const { out } = run(
    [
      [1000, 0],
      [1000, 0.9],
      [2000, 0],
    ],
    {},
    (ms) => t0 + ms + 5000, // the stream started 5 s after t0
  );
  assert.equal(out[0]!.wallClockStartMs, t0 + 5000 + out[0]!.startMs);
});

test('deterministic: the same input gives the same utterances', () => {
  const script: Array<[number, number]> = [
    [700, 0.1],
    [1300, 0.8],
    [200, 0.2],
    [900, 0.7],
    [1800, 0],
    [240, 0.9],
    [3000, 0],
  ];
  assert.deepEqual(run(script).out, run(script).out);
});

test('settings that cannot work are rejected with the reason', () => {
  assert.throws(() => resolveSegmenterSettings({ stopThreshold: 0.6 }), /stopThreshold must be in \[0, startThreshold\]/);
  assert.throws(() => resolveSegmenterSettings({ startThreshold: 0 }), /startThreshold/);
  assert.throws(() => resolveSegmenterSettings({ preRollMs: -1 }), /preRollMs must be ≥ 0/);
  assert.throws(() => resolveSegmenterSettings({ minSilenceMs: NaN }), /minSilenceMs/);
  assert.throws(() => resolveSegmenterSettings({ postRollMs: 2000 }), /postRollMs must not exceed minSilenceMs/);
  assert.throws(() => resolveSegmenterSettings({ maxUtteranceMs: 300 }), /maxUtteranceMs/);
  assert.throws(() => new UtteranceSegmenter('p', { sampleRate: 0 }, () => {}), /sampleRate/);
});

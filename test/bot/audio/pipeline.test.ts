import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { AudioPipeline, PeerAudioPipeline, resolvePipelineSettings, type AudioLogger, type PeerPipelineOptions } from '../../../main/bot/audio/pipeline.js';
import { Resampler } from '../../../main/bot/audio/resample.js';
import type { Utterance } from '../../../main/bot/audio/utterances.js';
import { loadVadModel, type Vad, type VadModel } from '../../../main/bot/audio/vad.js';
import { addNoise, espeakMissing, frames, layout, rms, toInt16, tone, twoPhrases, type Layout, type Pcm } from './speech.js';

const skip = espeakMissing();
let model: VadModel;

before(async () => {
  model = await loadVadModel();
});
after(async () => {
  await model.release();
});

/** Deterministic stand-in for the bad-input tests: "speech" is anything above −30 dBFS. */
class EnergyVad implements Vad {
  readonly frameSamples = 512;
  frames = 0;
  async process(frame: Float32Array): Promise<number> {
    if (frame.length !== 512) throw new RangeError('bad frame');
    this.frames++;
    for (const v of frame) if (!Number.isFinite(v)) throw new Error('non-finite sample reached the VAD');
    return rms(frame) > 0.03 ? 0.9 : 0.05;
  }
  reset(): void {}
}

interface Collected {
  pipe: PeerAudioPipeline;
  utterances: Utterance[];
  warnings: Array<{ obj: object; msg: string }>;
}

function peer(opts: Partial<PeerPipelineOptions> = {}): Collected {
  const utterances: Utterance[] = [];
  const warnings: Array<{ obj: object; msg: string }> = [];
  const logger: AudioLogger = { warn: (obj, msg) => warnings.push({ obj, msg }), info: () => {} };
  let now = 1_700_000_000_000;
  const pipe = new PeerAudioPipeline({
    peerId: 'alice',
    vad: new EnergyVad(),
    onUtterance: (u) => utterances.push(u),
    logger,
    now: () => (now += 20),
    ...opts,
  });
  return { pipe, utterances, warnings };
}

/** Feeds frames as a voice room would: a few at a time, letting the VAD keep up. */
async function feed(pipe: PeerAudioPipeline, fs: Array<Int16Array | Float32Array>, rate: number, channels = 1): Promise<void> {
  for (const [i, f] of fs.entries()) {
    const r = pipe.push(f, rate, channels);
    assert.ok(r.ok, r.ok ? '' : r.message);
    if (i % 8 === 7) await pipe.idle();
  }
}

/** 1 s silence, 1 s tone, 2.5 s silence at `rate`. */
function toneScene(rate: number): Float32Array {
  const x = new Float32Array(Math.round(rate * 4.5));
  x.set(tone(rate, 440, 1, 0.3), rate);
  return x;
}

// --- end to end with Silero on synthesized speech -------------------------------------------

function speechScene(gapMs: number, snrDb: number): Layout {
  const l = layout(twoPhrases(), [gapMs], 1000, 2500);
  return Number.isFinite(snrDb) ? { ...l, pcm: addNoise(l.pcm, l.speech, snrDb, 5) } : l;
}

async function transcribeLike(pcm: Pcm, settings: Parameters<typeof resolvePipelineSettings>[0], asInt16: boolean, channels = 1): Promise<Utterance[]> {
  const got: Utterance[] = [];
  const pipe = new AudioPipeline({ model, onUtterance: (u) => got.push(u), settings });
  let x: Float32Array = pcm.samples;
  if (channels === 2) {
    x = new Float32Array(pcm.samples.length * 2);
    pcm.samples.forEach((v, i) => (x[2 * i] = x[2 * i + 1] = v));
  }
  const fs = asInt16 ? frames(toInt16(x), pcm.rate, 20, channels) : frames(x, pcm.rate, 20, channels);
  await feed(pipe.peer('bob'), fs, pcm.rate, channels);
  await pipe.flushAll();
  const state = pipe.state('bob')!;
  assert.deepEqual(Object.values(state.framesDropped), [0, 0, 0, 0, 0, 0, 0, 0]);
  return got;
}

function assertMatches(got: Utterance[], truth: Layout['speech'], label: string): void {
  assert.equal(got.length, truth.length, `${label}: ${got.length} utterances for ${truth.length} phrases`);
  got.forEach((u, i) => {
    const s = truth[i]!;
    assert.equal(u.peerId, 'bob');
    assert.ok(Math.abs(u.speechStartMs - s.startMs) <= 150, `${label} #${i}: speech start ${u.speechStartMs} ms, truth ${s.startMs.toFixed(0)} ms`);
    assert.ok(Math.abs(u.speechEndMs - s.endMs) <= 150, `${label} #${i}: speech end ${u.speechEndMs} ms, truth ${s.endMs.toFixed(0)} ms`);
    // Pre-roll: 300 ms of (near) silence before the detected start is included.
    assert.equal(u.speechStartMs - u.startMs, 300, `${label} #${i}: pre-roll`);
    assert.equal(u.samples.length, Math.round(((u.endMs - u.startMs) * 16000) / 1000));
    const onset = Math.round(((s.startMs - u.startMs) * 16000) / 1000);
    assert.ok(onset > 0, 'the true onset is inside the utterance, after its first sample');
    assert.ok(rms(u.samples, onset, onset + 8000) > 10 * rms(u.samples, 0, Math.max(1, onset - 320)), 'speech after the onset, quiet before');
  });
}

test('two phrases, 1.0 s pause, defaults: one utterance spanning both (22.05 kHz Int16)', { skip }, async () => {
  const l = speechScene(1000, Infinity);
  const got = await transcribeLike(l.pcm, {}, true);
  assertMatches(got, [{ startMs: l.speech[0]!.startMs, endMs: l.speech[1]!.endMs }], 'merged');
});

for (const [snr, label] of [
  [Infinity, 'clean'],
  [20, 'white noise 20 dB SNR'],
] as const) {
  test(`two phrases, 1.0 s pause, minSilenceMs 800: boundaries within 150 ms (${label})`, { skip }, async () => {
    const l = speechScene(1000, snr);
    assertMatches(await transcribeLike(l.pcm, { segmenter: { minSilenceMs: 800 } }, true), l.speech, label);
  });
}

test('two phrases, 2.0 s pause, defaults: two utterances (48 kHz stereo Float32)', { skip }, async () => {
  const l = speechScene(2000, 20);
  const up = new Resampler({ inputRate: l.pcm.rate, outputRate: 48000 });
  const a = up.process(l.pcm.samples);
  const b = up.flush();
  const x48 = new Float32Array(a.length + b.length);
  x48.set(a);
  x48.set(b, a.length);
  assertMatches(await transcribeLike({ rate: 48000, samples: x48 }, {}, false, 2), l.speech, '48k stereo');
});

// --- bad input ------------------------------------------------------------------------------

test('NaN/Inf frames are replaced by silence, counted and logged; the clock stays true', async () => {
  const { pipe, utterances, warnings } = peer();
  const x = toneScene(48000);
  const fs = frames(x, 48000).map((f) => Float32Array.from(f));
  fs[60]![5] = NaN; // inside the tone
  fs[61]![0] = Infinity;
  fs[200]![100] = -Infinity; // in the silence
  for (const [i, f] of fs.entries()) {
    const r = pipe.push(f, 48000);
    if ([60, 61, 200].includes(i)) assert.deepEqual(r.ok ? null : r.reason, 'non-finite');
    else assert.ok(r.ok);
  }
  await pipe.flush();
  const s = pipe.state();
  assert.equal(s.framesDropped['non-finite'], 3);
  assert.equal(s.streamMs, 4500);
  assert.equal(utterances.length, 1, 'the utterance survives two silenced frames');
  assert.equal(warnings.length, 1, 'logged once (then at 10, 100, …)');
  assert.match(warnings[0]!.msg, /NaN\/Infinity.*replaced by silence/);
  assert.deepEqual(warnings[0]!.obj, { peerId: 'alice', reason: 'non-finite', count: 1 });
});

test('log lines for a repeated problem thin out: 1, 10, 100, …', () => {
  const { pipe, warnings } = peer();
  const bad = new Float32Array(960).fill(NaN);
  for (let i = 0; i < 150; i++) pipe.push(bad, 48000);
  assert.equal(pipe.state().framesDropped['non-finite'], 150);
  assert.deepEqual(
    warnings.map((w) => (w.obj as { count: number }).count),
    [1, 10, 100],
  );
});

test('out-of-range floats are clamped and counted', async () => {
  const { pipe } = peer();
  const f = new Float32Array(960).fill(0.1);
  f[3] = 7;
  f[4] = -2;
  assert.ok(pipe.push(f, 48000).ok);
  assert.equal(pipe.state().clampedSamples, 2);
  assert.equal(f[3], 7, 'the caller’s buffer is not modified');
});

test('unsupported sample rates, bad channel counts and lengths are rejected with a clear reason', () => {
  const { pipe } = peer();
  const f = new Int16Array(960);
  const reason = (r: ReturnType<PeerAudioPipeline['push']>): string => (r.ok ? 'ok' : `${r.reason}: ${r.message}`);
  assert.match(reason(pipe.push(f, 12345)), /^unsupported-rate: sample rate 12345 Hz is not supported \(supported: 8000, 11025, .*48000/);
  assert.match(reason(pipe.push(f, NaN)), /^unsupported-rate/);
  assert.match(reason(pipe.push(f, 48000, 0)), /^bad-channels: channel count 0/);
  assert.match(reason(pipe.push(f, 48000, 9)), /^bad-channels/);
  assert.match(reason(pipe.push(f, 48000, 1.5)), /^bad-channels/);
  assert.match(reason(pipe.push(new Int16Array(961), 48000, 2)), /^bad-length: 961 samples is not a whole number of 2-channel frames/);
  assert.match(reason(pipe.push([1, 2, 3] as unknown as Float32Array, 48000)), /^bad-length: frame is not an Int16Array or Float32Array/);
  assert.equal(reason(pipe.push(new Int16Array(0), 48000)), 'ok');
  const s = pipe.state();
  assert.equal(s.framesDropped['unsupported-rate'], 2);
  assert.equal(s.framesDropped['bad-channels'], 3);
  assert.equal(s.framesDropped['bad-length'], 2);
  assert.equal(s.streamMs, 0);
  assert.equal(s.sampleRate, 0, 'no rejected frame set up a resampler');
});

test('enormous frames are rejected above the cap (1 s by default)', () => {
  const { pipe } = peer();
  const r = pipe.push(new Int16Array(48000 * 2 * 10), 48000, 2);
  assert.equal(r.ok ? 'ok' : r.reason, 'too-large');
  assert.match(r.ok ? '' : r.message, /960000 samples exceeds the cap of 96000 \(1000 ms at 48000 Hz × 2\)/);
  assert.ok(pipe.push(new Int16Array(48000 * 2), 48000, 2).ok, 'exactly 1 s is fine');
  const small = peer({ settings: { maxFrameMs: 100 } }).pipe;
  assert.equal(small.push(new Int16Array(4801), 48000).ok, false);
});

test('a VAD that cannot keep up: audio beyond the backlog cap is dropped and counted', async () => {
  const never: Vad = { frameSamples: 512, process: () => new Promise<number>(() => {}), reset: () => {} };
  const { pipe } = peer({ vad: never, settings: { maxBacklogMs: 500 } });
  const f = new Int16Array(960);
  let dropped = 0;
  for (let i = 0; i < 100; i++) if (!pipe.push(f, 48000).ok) dropped++;
  const s = pipe.state();
  assert.ok(dropped > 50 && s.framesDropped.backlog === dropped, `${dropped} dropped`);
  assert.ok(s.backlogFrames * 32 <= 500 + 64, `backlog ${s.backlogFrames} frames`);
});

test('a failing VAD call counts as silence and the stream goes on', async () => {
  const inner = new EnergyVad();
  let calls = 0;
  const flaky: Vad = {
    frameSamples: 512,
    process: (f) => (++calls === 40 ? Promise.reject(new Error('boom')) : inner.process(f)),
    reset: () => {},
  };
  const { pipe, utterances } = peer({ vad: flaky });
  await feed(pipe, frames(toInt16(toneScene(48000)), 48000), 48000);
  await pipe.flush();
  assert.equal(pipe.state().framesDropped['vad-error'], 1);
  assert.equal(utterances.length, 1);
});

test('an utterance handler that throws does not stop the peer', async () => {
  let n = 0;
  const { pipe, warnings } = peer({
    onUtterance: () => {
      n++;
      throw new Error('consumer bug');
    },
  });
  const x = toneScene(16000);
  await feed(pipe, frames(x, 16000), 16000);
  await feed(pipe, frames(x, 16000), 16000);
  await pipe.flush();
  assert.equal(n, 2);
  assert.equal(warnings.filter((w) => w.msg === 'utterance handler threw').length, 2);
});

test('one peer’s garbage does not affect another peer', async () => {
  const clean = async (withNoisyNeighbour: boolean): Promise<Utterance[]> => {
    const got: Utterance[] = [];
    const vadModel: VadModel = { name: 'energy', frameSamples: 512, createVad: () => new EnergyVad(), release: async () => {} };
    const pipe = new AudioPipeline({ model: vadModel, onUtterance: (u) => u.peerId === 'bob' && got.push(u), now: () => 0 });
    const fs = frames(toInt16(toneScene(44100)), 44100);
    const nan = new Float32Array(960).fill(NaN);
    for (const [i, f] of fs.entries()) {
      if (withNoisyNeighbour) {
        pipe.push('mallory', nan, 48000);
        pipe.push('mallory', new Int16Array(5_000_000), 48000);
        pipe.push('mallory', f, 12345);
        pipe.push('mallory', new Float32Array(960).fill(i % 2 ? 1e30 : -1e30), 48000);
      }
      assert.ok(pipe.push('bob', f, 44100).ok);
      if (i % 8 === 7) await pipe.peer('bob').idle();
    }
    await pipe.flushAll();
    if (withNoisyNeighbour) {
      const m = pipe.state('mallory')!;
      assert.equal(m.framesDropped['non-finite'], fs.length);
      assert.equal(m.framesDropped['too-large'], fs.length);
      assert.equal(m.framesDropped['unsupported-rate'], fs.length);
      assert.equal(m.clampedSamples, 960 * fs.length);
    }
    return got;
  };
  const alone = await clean(false);
  assert.equal(alone.length, 1);
  assert.deepEqual(await clean(true), alone);
});

test('per-peer state: speaking, open utterance length, drops', async () => {
  const { pipe } = peer();
  const x = toneScene(16000);
  const fs = frames(x, 16000);
  await feed(pipe, fs.slice(0, 50 + 25), 16000); // 1.0 s silence + 0.5 s of tone
  await pipe.idle();
  let s = pipe.state();
  assert.equal(s.speaking, true);
  assert.equal(s.inUtterance, true);
  assert.ok(s.utteranceMs >= 700 && s.utteranceMs <= 850, `utterance ${s.utteranceMs} ms (0.5 s + 0.3 s pre-roll)`);
  assert.equal(s.sampleRate, 16000);
  assert.equal(s.channels, 1);
  await feed(pipe, fs.slice(75), 16000);
  await pipe.idle();
  s = pipe.state();
  assert.equal(s.speaking, false);
  assert.equal(s.inUtterance, false, 'closed after 1.5 s of silence');
  assert.equal(s.utteranceMs, 0);
  assert.equal(s.utterancesEmitted, 1);
  assert.equal(s.framesIn, fs.length);
});

test('wall-clock start follows the arrival clock', async () => {
  const { pipe, utterances } = peer(); // the fake clock advances 20 ms per push, from 1.7e12
  await feed(pipe, frames(toneScene(48000), 48000), 48000);
  await pipe.flush();
  const u = utterances[0]!;
  // Frames arrive on time, so wall − stream clock is constant (the first arrival, minus 20 ms).
  assert.ok(Math.abs(u.wallClockStartMs - (1_700_000_000_000 + u.startMs)) <= 40, `${u.wallClockStartMs - 1_700_000_000_000} vs ${u.startMs}`);
});

test('a change of sample rate mid-stream is followed', async () => {
  const { pipe, utterances } = peer();
  const x48 = toneScene(48000);
  const x441 = toneScene(44100);
  await feed(pipe, frames(x48, 48000), 48000);
  await feed(pipe, frames(x441, 44100), 44100);
  await pipe.flush();
  assert.equal(utterances.length, 2);
  assert.ok(Math.abs(pipe.state().streamMs - 9000) < 1, String(pipe.state().streamMs));
  assert.ok(Math.abs(utterances[1]!.speechStartMs - 5500) <= 64, String(utterances[1]!.speechStartMs));
});

test('30 s cap through the pipeline', async () => {
  const { pipe, utterances } = peer();
  const x = tone(16000, 300, 70, 0.3);
  await feed(pipe, frames(x, 16000), 16000);
  await pipe.flush();
  assert.deepEqual(
    utterances.map((u) => [u.end, u.continued]),
    [
      ['max-length', false],
      ['max-length', true],
      ['flush', true],
    ],
  );
  assert.ok(utterances.every((u) => u.samples.length <= 30 * 16000));
  assert.equal(
    utterances.reduce((s, u) => s + u.samples.length, 0),
    70 * 16000,
  );
});

test('settings are validated up front', () => {
  assert.throws(() => resolvePipelineSettings({ sampleRates: [48000, 1000] }), /sampleRates: input sample rate 1000 Hz/);
  assert.throws(() => resolvePipelineSettings({ segmenter: { sampleRate: 8000 } }), /segmenter sampleRate must match/);
  assert.throws(() => resolvePipelineSettings({ maxFrameMs: 0 }), /maxFrameMs/);
  const vadModel: VadModel = { name: 'energy', frameSamples: 512, createVad: () => new EnergyVad(), release: async () => {} };
  assert.throws(() => new AudioPipeline({ model: vadModel, onUtterance: () => {}, settings: { segmenter: { stopThreshold: 2 } } }), /stopThreshold/);
});

test('flushIdle ends the utterance of a peer that stopped sending (DTX)', async () => {
  let now = 1000;
  const got: Utterance[] = [];
  const vadModel: VadModel = { name: 'energy', frameSamples: 512, createVad: () => new EnergyVad(), release: async () => {} };
  const pipe = new AudioPipeline({ model: vadModel, onUtterance: (u) => got.push(u), now: () => now });
  const speech = frames(tone(48000, 440, 1, 0.3), 48000);
  for (const f of [...frames(new Float32Array(48000), 48000), ...speech]) {
    now += 20;
    pipe.push('dtx', f, 48000);
    pipe.push('other', new Float32Array(960), 48000);
  }
  await pipe.peer('dtx').idle();
  assert.equal(pipe.state('dtx')!.inUtterance, true);
  // No more frames from anyone: not yet 1.5 s.
  now += 1400;
  assert.deepEqual(await pipe.flushIdle(), []);
  assert.equal(got.length, 0);
  now += 200;
  assert.deepEqual(await pipe.flushIdle(), ['dtx'], 'only the peer with an open utterance');
  assert.equal(got.length, 1);
  assert.equal(got[0]!.end, 'flush');
  assert.ok(Math.abs(got[0]!.speechEndMs - 2000) <= 64, String(got[0]!.speechEndMs));
});

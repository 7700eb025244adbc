import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Resampler } from '../../../main/bot/audio/resample.js';
import { loadVadModel, type SileroVadModel } from '../../../main/bot/audio/vad.js';
import { addNoise, espeakMissing, layout, rng, twoPhrases, type Layout } from './speech.js';

const skip = espeakMissing();
let model: SileroVadModel;

before(async () => {
  model = await loadVadModel();
});
after(async () => {
  await model.release();
});

/** Two phrases with a 1.0 s pause, synthesized at 22.05 kHz and resampled to 16 kHz. */
function scene(snrDb = Infinity, seed = 1): { x: Float32Array; truth: Layout['speech'] } {
  const l = layout(twoPhrases(), [1000], 1000, 1500);
  const pcm = Number.isFinite(snrDb) ? addNoise(l.pcm, l.speech, snrDb, seed) : l.pcm;
  const r = new Resampler({ inputRate: pcm.rate });
  const a = r.process(pcm.samples);
  const b = r.flush();
  const x = new Float32Array(a.length + b.length);
  x.set(a);
  x.set(b, a.length);
  return { x, truth: l.speech };
}

async function probabilities(x: Float32Array, vad = model.createVad()): Promise<number[]> {
  const n = vad.frameSamples;
  const out: number[] = [];
  for (let i = 0; i + n <= x.length; i += n) out.push(await vad.process(x.subarray(i, i + n)));
  return out;
}

/** Frames whose span is at least `marginMs` inside (inside=true) or outside every span. */
function framesWhere(count: number, truth: Layout['speech'], inside: boolean, marginMs: number): number[] {
  const ms = 32;
  const idx: number[] = [];
  for (let k = 0; k < count; k++) {
    const a = k * ms;
    const b = a + ms;
    const inSpeech = truth.some((s) => a >= s.startMs + marginMs && b <= s.endMs - marginMs);
    const outside = truth.every((s) => b <= s.startMs - marginMs || a >= s.endMs + marginMs);
    if (inside ? inSpeech : outside) idx.push(k);
  }
  return idx;
}

test('model: Silero, 512-sample frames at 16 kHz', () => {
  assert.equal(model.frameSamples, 512);
  assert.match(model.name, /^silero-v5\+:silero_vad_16k_op15\.onnx$/);
});

for (const [label, snr] of [
  ['clean', Infinity],
  ['white noise at 10 dB SNR', 10],
] as const) {
  test(`speech vs the known 1.0 s pause (${label})`, { skip }, async (t) => {
    const { x, truth } = scene(snr);
    const p = await probabilities(x);
    const speech = framesWhere(p.length, truth, true, 100);
    const silence = framesWhere(p.length, truth, false, 150);
    const hit = speech.filter((k) => p[k]! >= 0.5).length / speech.length;
    const falseAlarm = silence.filter((k) => p[k]! >= 0.5).length / silence.length;
    t.diagnostic(`speech frames ≥ 0.5: ${(hit * 100).toFixed(1)}%; silence frames ≥ 0.5: ${(falseAlarm * 100).toFixed(1)}%`);
    assert.ok(hit >= 0.85, `speech detected in ${(hit * 100).toFixed(1)}% of speech frames`);
    assert.ok(falseAlarm <= 0.02, `speech reported in ${(falseAlarm * 100).toFixed(1)}% of silent frames`);

    // The pause itself: speech stops and restarts near the true boundaries (hysteresis 0.5/0.35).
    const [first, second] = truth;
    const pauseFrames = p.map((v, k) => ({ v, ms: k * 32 })).filter(({ ms }) => ms >= first!.endMs - 500 && ms < second!.startMs + 500);
    const stop = pauseFrames.find(({ v, ms }) => ms > first!.endMs - 300 && v < 0.35);
    const restart = pauseFrames.find(({ v, ms }) => ms > first!.endMs + 200 && v >= 0.5);
    assert.ok(stop && restart, 'speech stops in the pause and starts again');
    assert.ok(Math.abs(stop.ms - first!.endMs) <= 150, `speech stop at ${stop.ms} ms, truth ${first!.endMs.toFixed(0)} ms`);
    assert.ok(Math.abs(restart.ms - second!.startMs) <= 150, `restart at ${restart.ms} ms, truth ${second!.startMs.toFixed(0)} ms`);
  });
}

test('noise alone is not speech', async () => {
  const rand = rng(3);
  const x = new Float32Array(16000 * 4);
  for (let i = 0; i < x.length; i++) x[i] = (rand() - 0.5) * 0.02; // about −45 dBFS white noise
  const p = await probabilities(x);
  assert.ok(Math.max(...p) < 0.5, `max probability ${Math.max(...p)}`);
});

test('streams are independent; batching across streams does not change results', { skip }, async () => {
  const { x } = scene(20);
  const ref = await probabilities(x);
  // Three streams in lockstep, each offset, submitted together: they share runs (batch of 3).
  const offsets = [0, 512 * 7, 512 * 30];
  const vads = offsets.map(() => model.createVad());
  const got: number[][] = offsets.map(() => []);
  const before = { ...model.stats };
  for (let k = 0; ; k++) {
    const jobs = offsets.map((o, s) => {
      const from = o + k * 512;
      return from + 512 <= x.length ? vads[s]!.process(x.subarray(from, from + 512)).then((v) => got[s]!.push(v)) : null;
    });
    if (jobs.every((j) => j === null)) break;
    await Promise.all(jobs);
  }
  const runs = model.stats.runs - before.runs;
  const frames = model.stats.frames - before.frames;
  assert.ok(frames >= 2.5 * runs, `${frames} frames in ${runs} runs: frames submitted together share a run`);
  for (const [s, o] of offsets.entries()) {
    const expected = await probabilities(x.subarray(o));
    assert.equal(got[s]!.length, expected.length);
    for (let k = 0; k < expected.length; k++) assert.ok(Math.abs(got[s]![k]! - expected[k]!) < 1e-4, `stream ${s} frame ${k}`);
  }
  assert.equal(got[0]!.length, ref.length);
});

test('reset restores the initial state', { skip }, async () => {
  const { x } = scene();
  const vad = model.createVad();
  const fresh = await probabilities(x.subarray(0, 512 * 60), vad);
  vad.reset();
  assert.deepEqual(await probabilities(x.subarray(0, 512 * 60), vad), fresh);
});

test('a frame of the wrong size is rejected', async () => {
  const vad = model.createVad();
  await assert.rejects(vad.process(new Float32Array(480)), /512-sample frames at 16 kHz, got 480/);
  // The stream still works afterwards.
  assert.equal(typeof (await vad.process(new Float32Array(512))), 'number');
});

test('loading something that is not a Silero model fails clearly', async () => {
  await assert.rejects(loadVadModel({ modelPath: '/nonexistent/model.onnx' }), /nonexistent|no such file|Load model|failed/i);
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { COMMON_RATES, Resampler, rateProblem } from '../../../main/bot/audio/resample.js';
import { frames, rms, rng, tone, toInt16 } from './speech.js';

/** Resamples a whole signal (process + flush). */
function whole(r: Resampler, x: Float32Array | Int16Array): Float32Array {
  const a = r.process(x);
  const b = r.flush();
  const out = new Float32Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** Least-squares fit of a sinusoid at `hz` over y[from..to): amplitude and the RMS of what is left. */
function fit(y: Float32Array, rate: number, hz: number, from: number, to: number): { amplitude: number; residual: number } {
  let i = 0;
  let q = 0;
  const w = (2 * Math.PI * hz) / rate;
  for (let k = from; k < to; k++) {
    i += y[k]! * Math.sin(w * k);
    q += y[k]! * Math.cos(w * k);
  }
  const n = to - from;
  const a = (2 * i) / n;
  const b = (2 * q) / n;
  let e = 0;
  for (let k = from; k < to; k++) {
    const r = y[k]! - a * Math.sin(w * k) - b * Math.cos(w * k);
    e += r * r;
  }
  return { amplitude: Math.hypot(a, b), residual: Math.sqrt(e / n) };
}

const db = (x: number): number => 20 * Math.log10(x);
const RATES = [48000, 44100, 32000, 24000, 22050, 16000, 8000];

test('1 kHz sine keeps its amplitude and stays clean from every common rate', () => {
  for (const rate of RATES) {
    const y = whole(new Resampler({ inputRate: rate }), tone(rate, 1000, 1, 0.5));
    assert.equal(y.length, 16000, `${rate}: output length`);
    // Skip the edges (the filter sees zeros beyond the signal there).
    const { amplitude, residual } = fit(y, 16000, 1000, 800, 15200);
    assert.ok(Math.abs(db(amplitude / 0.5)) < 0.05, `${rate}: amplitude ${amplitude} (${db(amplitude / 0.5).toFixed(3)} dB)`);
    assert.ok(db(residual / (0.5 / Math.SQRT2)) < -60, `${rate}: residual ${db(residual / (0.5 / Math.SQRT2)).toFixed(1)} dB`);
  }
});

test('pass band is flat to 6.5 kHz', () => {
  for (const rate of [48000, 44100, 22050]) {
    for (const hz of [100, 3000, 6500]) {
      const y = whole(new Resampler({ inputRate: rate }), tone(rate, hz, 1, 0.5));
      const { amplitude } = fit(y, 16000, hz, 800, 15200);
      assert.ok(Math.abs(db(amplitude / 0.5)) < 0.1, `${rate} Hz, ${hz} Hz tone: ${db(amplitude / 0.5).toFixed(3)} dB`);
    }
  }
});

test('tones from 7.9 to 20 kHz are attenuated ≥ 40 dB (no aliasing into the speech band)', () => {
  const hzs = [7900, 8000, 8100, 9000, 10_000, 12_000, 15_000, 18_000, 20_000];
  for (const rate of [48000, 44100, 32000, 24000, 22050]) {
    for (const hz of hzs.filter((h) => h < rate / 2)) {
      const x = tone(rate, hz, 0.5, 0.5);
      const y = whole(new Resampler({ inputRate: rate }), x);
      const att = db(rms(y, 400, y.length - 400) / rms(x));
      assert.ok(att <= -40, `${rate} Hz input, ${hz} Hz tone: ${att.toFixed(1)} dB`);
    }
  }
});

test('upsampling 8 kHz → 16 kHz leaves no image above 4 kHz', () => {
  // A 3 kHz tone zero-stuffed to 16 kHz has an image at 5 kHz; the fit residual includes it.
  const y = whole(new Resampler({ inputRate: 8000 }), tone(8000, 3000, 1, 0.5));
  const { amplitude, residual } = fit(y, 16000, 3000, 800, 15200);
  assert.ok(Math.abs(db(amplitude / 0.5)) < 0.1);
  assert.ok(db(residual / (0.5 / Math.SQRT2)) < -50, `image at ${db(residual / (0.5 / Math.SQRT2)).toFixed(1)} dB`);
});

test('streaming in 20 ms frames (and in odd chunks) gives exactly the one-block output', () => {
  const rand = rng(7);
  for (const rate of [48000, 44100, 22050, 8000, 16000]) {
    for (const channels of [1, 2]) {
      const n = Math.round(rate * 0.73) * channels; // not a whole number of frames
      const x = new Float32Array(n);
      for (let i = 0; i < n; i++) x[i] = rand() * 1.6 - 0.8;
      const block = whole(new Resampler({ inputRate: rate, channels }), x);

      const framed = new Resampler({ inputRate: rate, channels });
      const parts = frames(x, rate, 20, channels).map((f) => framed.process(f));
      parts.push(framed.flush());
      assert.deepEqual(concat(parts), block, `${rate} Hz × ${channels}: 20 ms frames`);

      const odd = new Resampler({ inputRate: rate, channels });
      const oddParts: Float32Array[] = [];
      for (let i = 0; i < n; ) {
        const len = Math.min(n - i, channels * (1 + Math.floor(rand() * 700)));
        oddParts.push(odd.process(x.subarray(i, i + len)));
        i += len;
      }
      oddParts.push(odd.flush());
      assert.deepEqual(concat(oddParts), block, `${rate} Hz × ${channels}: random chunks`);
      assert.equal(block.length, Math.round((n / channels) * (16000 / rate)));
    }
  }
});

test('multi-channel input is mixed down to mono; Int16 is scaled to ±1', () => {
  const rate = 48000;
  const mono = tone(rate, 440, 0.5, 0.5);
  const same = new Float32Array(mono.length * 2);
  const opposite = new Float32Array(mono.length * 2);
  for (let i = 0; i < mono.length; i++) {
    same[2 * i] = same[2 * i + 1] = mono[i]!;
    opposite[2 * i] = mono[i]!;
    opposite[2 * i + 1] = -mono[i]!;
  }
  const ref = whole(new Resampler({ inputRate: rate }), mono);
  assert.deepEqual(whole(new Resampler({ inputRate: rate, channels: 2 }), same), ref);
  assert.ok(rms(whole(new Resampler({ inputRate: rate, channels: 2 }), opposite)) < 1e-7);

  const fromInt = whole(new Resampler({ inputRate: rate }), toInt16(mono));
  let maxDiff = 0;
  for (let i = 0; i < ref.length; i++) maxDiff = Math.max(maxDiff, Math.abs(fromInt[i]! - ref[i]!));
  assert.ok(maxDiff < 1e-4, `Int16 vs Float32 differ by ${maxDiff}`);
});

test('reset forgets the history', () => {
  const r = new Resampler({ inputRate: 44100 });
  const x = tone(44100, 1000, 0.2);
  const first = whole(r, x);
  r.process(tone(44100, 3000, 0.1));
  r.reset();
  assert.deepEqual(whole(r, x), first);
});

test('unsupported rates and channel counts are rejected with the reason', () => {
  assert.equal(rateProblem(48000), null);
  for (const rate of COMMON_RATES) assert.equal(rateProblem(rate), null, String(rate));
  assert.match(rateProblem(1000) ?? '', /1000 Hz is not an integer in 4000\.\.192000/);
  assert.match(rateProblem(44100.5) ?? '', /not an integer/);
  assert.match(rateProblem(NaN) ?? '', /NaN Hz/);
  assert.match(rateProblem(191_999) ?? '', /filter phases/);
  assert.throws(() => new Resampler({ inputRate: 3000 }), /unsupported resampling: input sample rate 3000 Hz/);
  assert.throws(() => new Resampler({ inputRate: 48000, channels: 0 }), /channel count 0/);
  assert.throws(() => new Resampler({ inputRate: 48000, channels: 2 }).process(new Float32Array(3)), /not a multiple of 2 channels/);
});

test('cost per 20 ms frame (reported, not asserted)', (t) => {
  const report: Record<string, number> = {};
  for (const rate of [48000, 44100, 22050, 16000]) {
    const r = new Resampler({ inputRate: rate, channels: 1 });
    const f = toInt16(tone(rate, 1000, 0.02));
    for (let i = 0; i < 200; i++) r.process(f); // warm up the JIT
    const n = 1000;
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) r.process(f);
    report[`${rate}Hz`] = Math.round(Number(process.hrtime.bigint() - t0) / n / 100) / 10;
  }
  t.diagnostic(`resampler µs per 20 ms Int16 mono frame → 16 kHz: ${JSON.stringify(report)}`);
});

function concat(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

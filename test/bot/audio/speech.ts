/**
 * Test audio: espeak-ng speech with a known layout, WAV parsing, noise and tones.
 *
 * Ground truth comes from synthesis, not from a detector: each phrase is synthesized on its
 * own, trimmed to its first/last 10 ms window above −50 dBFS (espeak-ng pads with digital
 * silence), and the trimmed phrases are laid out with silences of exact length. So the true
 * speech spans are known to a 10 ms window.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const ESPEAK = 'espeak-ng';

/** Whether espeak-ng can be run (CI installs it: Debian package espeak-ng). */
export function haveEspeak(): boolean {
  return spawnSync(ESPEAK, ['--version'], { stdio: 'ignore' }).status === 0;
}

/** Skip reason for tests that need espeak-ng; in CI a missing espeak-ng is a failure. */
export function espeakMissing(): string | false {
  if (haveEspeak()) return false;
  if (process.env['CI']) throw new Error('espeak-ng is not installed (Debian package espeak-ng; .ci/run installs it)');
  return 'espeak-ng not installed (apt-get install espeak-ng)';
}

export interface Pcm {
  rate: number;
  samples: Float32Array;
}

/** Minimal RIFF/WAVE reader: 16-bit PCM mono (what espeak-ng writes). */
export function parseWav(buf: Buffer): Pcm {
  if (buf.toString('ascii', 0, 4) !== 'RIFF' || buf.toString('ascii', 8, 12) !== 'WAVE') throw new Error('not a WAV file');
  let off = 12;
  let rate = 0;
  let channels = 0;
  let bits = 0;
  let data: Buffer | undefined;
  while (off + 8 <= buf.length) {
    const id = buf.toString('ascii', off, off + 4);
    // espeak-ng writing to a file leaves the data size as written; clamp to what is there.
    const size = Math.min(buf.readUInt32LE(off + 4), buf.length - off - 8);
    if (id === 'fmt ') {
      channels = buf.readUInt16LE(off + 10);
      rate = buf.readUInt32LE(off + 12);
      bits = buf.readUInt16LE(off + 22);
    } else if (id === 'data') data = buf.subarray(off + 8, off + 8 + size);
    off += 8 + size + (size & 1);
  }
  if (!data || channels !== 1 || bits !== 16) throw new Error(`unsupported WAV (channels ${channels}, bits ${bits})`);
  const samples = new Float32Array(data.length >> 1);
  for (let i = 0; i < samples.length; i++) samples[i] = data.readInt16LE(2 * i) / 32768;
  return { rate, samples };
}

/** Synthesizes `text` (espeak-ng's native rate, 22050 Hz). */
export function speak(text: string, voice = 'en-us'): Pcm {
  const dir = mkdtempSync(join(tmpdir(), 'cortex-espeak-'));
  try {
    const file = join(dir, 'out.wav');
    execFileSync(ESPEAK, ['-v', voice, '-w', file, text], { stdio: 'ignore' });
    return parseWav(readFileSync(file));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The phrase without espeak-ng's leading/trailing silence (10 ms windows above −50 dBFS). */
export function trim(pcm: Pcm): Pcm {
  const w = Math.round(pcm.rate / 100);
  const x = pcm.samples;
  let first = -1;
  let last = -1;
  for (let i = 0; i + w <= x.length; i += w) {
    let e = 0;
    for (let j = i; j < i + w; j++) e += x[j]! * x[j]!;
    if (Math.sqrt(e / w) > 0.00316) {
      if (first < 0) first = i;
      last = i + w;
    }
  }
  if (first < 0) throw new Error('synthesized phrase is silent');
  return { rate: pcm.rate, samples: x.slice(first, last) };
}

export interface Span {
  startMs: number;
  endMs: number;
}

export interface Layout {
  pcm: Pcm;
  /** True speech spans (ms from the start of `pcm`). */
  speech: Span[];
}

/**
 * Lays out trimmed phrases: `lead` ms of silence, phrase, `gaps[i]` ms, phrase, …, `tail` ms.
 * Sample counts are rounded once per part, so spans are exact in samples.
 */
export function layout(phrases: Pcm[], gapsMs: number[], leadMs: number, tailMs: number): Layout {
  const rate = phrases[0]!.rate;
  const n = (ms: number): number => Math.round((ms * rate) / 1000);
  const parts: Array<Float32Array | number> = [n(leadMs)];
  phrases.forEach((p, i) => {
    if (p.rate !== rate) throw new Error('phrases at different rates');
    parts.push(p.samples);
    parts.push(n(i < phrases.length - 1 ? gapsMs[i]! : tailMs));
  });
  const total = parts.reduce<number>((s, p) => s + (typeof p === 'number' ? p : p.length), 0);
  const samples = new Float32Array(total);
  const speech: Span[] = [];
  let at = 0;
  for (const p of parts) {
    if (typeof p === 'number') at += p;
    else {
      samples.set(p, at);
      speech.push({ startMs: (at * 1000) / rate, endMs: ((at + p.length) * 1000) / rate });
      at += p.length;
    }
  }
  return { pcm: { rate, samples }, speech };
}

/** Deterministic PRNG (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Adds white (or brown: −6 dB/octave) Gaussian noise at `snrDb` below the RMS of the given
 * speech spans. Returns a new array. */
export function addNoise(pcm: Pcm, speech: Span[], snrDb: number, seed = 1, color: 'white' | 'brown' = 'white'): Pcm {
  const x = pcm.samples;
  let e = 0;
  let n = 0;
  for (const s of speech) {
    for (let i = Math.round((s.startMs * pcm.rate) / 1000); i < Math.round((s.endMs * pcm.rate) / 1000); i++) {
      e += x[i]! * x[i]!;
      n++;
    }
  }
  const level = Math.sqrt(e / n) / 10 ** (snrDb / 20);
  const rand = rng(seed);
  const gauss = (): number => Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());
  const out = new Float32Array(x.length);
  let b = 0;
  for (let i = 0; i < x.length; i++) {
    let v = gauss();
    if (color === 'brown') {
      b = 0.98 * b + 0.2 * v;
      v = b / 0.7; // unit variance: 0.2² / (1 − 0.98²) ≈ 0.7²
    }
    out[i] = x[i]! + level * v;
  }
  return { rate: pcm.rate, samples: out };
}

export function tone(rate: number, hz: number, seconds: number, amplitude = 0.5): Float32Array {
  const x = new Float32Array(Math.round(rate * seconds));
  for (let i = 0; i < x.length; i++) x[i] = amplitude * Math.sin((2 * Math.PI * hz * i) / rate);
  return x;
}

export function rms(x: Float32Array, from = 0, to = x.length): number {
  let e = 0;
  for (let i = from; i < to; i++) e += x[i]! * x[i]!;
  return Math.sqrt(e / Math.max(1, to - from));
}

export function toInt16(x: Float32Array): Int16Array {
  const out = new Int16Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = Math.max(-32768, Math.min(32767, Math.round(x[i]! * 32768)));
  return out;
}

/** Splits into frames of `frameMs` (the last one may be shorter). */
export function frames<T extends Float32Array | Int16Array>(x: T, rate: number, frameMs = 20, channels = 1): T[] {
  const n = Math.round((rate * frameMs) / 1000) * channels;
  const out: T[] = [];
  for (let i = 0; i < x.length; i += n) out.push(x.subarray(i, Math.min(x.length, i + n)) as T);
  return out;
}

/** Two fixed phrases, synthesized once per process. */
let cached: [Pcm, Pcm] | undefined;
export function twoPhrases(): [Pcm, Pcm] {
  cached ??= [
    trim(speak('The quick brown fox jumps over the lazy dog near the river bank.')),
    trim(speak('Please send the quarterly report to the finance team by Friday.')),
  ];
  return cached;
}

/**
 * Audio and a real-time room for bench/bot.ts: espeak-ng phrases with known speech spans,
 * laid out into per-peer tracks with background noise, and a RoomAdapter that delivers each
 * track as 20 ms Int16 frames on a drift-free real-time clock.
 */
import { performance } from 'node:perf_hooks';
import { Resampler } from '../main/bot/audio/resample.js';
import type { RoomAdapter, RoomHandlers } from '../main/bot/rooms/types.js';
import { rng, speak, toInt16, trim } from '../test/bot/audio/speech.js';

export { rng };

export interface Span {
  startMs: number;
  endMs: number;
}

export interface Phrase {
  text: string;
  voice: string;
  seconds: number;
  /** At the room rate. */
  atRate: Float32Array;
  /** At 16 kHz (engine clips). */
  at16k: Float32Array;
  rms: number;
}

/** Meeting-like sentences: 0.8–5 s with espeak-ng's default speed. */
export const SENTENCES = [
  'Ready when you are.',
  'Can everyone hear me now?',
  'Let us move on to the next item.',
  'I need one more minute to finish this.',
  'Okay, I will take care of that today.',
  'I think the second option is better for the team.',
  'Please send the quarterly report to the finance team by Friday.',
  'The quick brown fox jumps over the lazy dog near the river bank.',
  'The match starts in five minutes, everyone ready up please.',
  'Could you share your screen so that we can all look at the numbers together?',
  'My connection dropped for a moment, could you repeat the last thing you said please?',
  'We should push the release to next week, the tests are still failing on the build server.',
  'Has anyone seen the latest version of the design document that was sent around yesterday?',
];
export const VOICES = ['en-us', 'en-gb'];

export function resample(x: Float32Array, from: number, to: number): Float32Array {
  if (from === to) return x.slice();
  const r = new Resampler({ inputRate: from, outputRate: to });
  const a = r.process(x);
  const b = r.flush();
  const out = new Float32Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

function rmsOf(x: Float32Array): number {
  let e = 0;
  for (let i = 0; i < x.length; i++) e += x[i]! * x[i]!;
  return Math.sqrt(e / Math.max(1, x.length));
}

/** Every sentence in every voice, trimmed (espeak-ng's 22.05 kHz → `rate` and 16 kHz). */
export function phrasePool(rate: number): Phrase[] {
  const out: Phrase[] = [];
  for (const voice of VOICES) {
    for (const text of SENTENCES) {
      const p = trim(speak(text, voice));
      out.push({ text, voice, seconds: p.samples.length / p.rate, atRate: resample(p.samples, p.rate, rate), at16k: resample(p.samples, p.rate, 16000), rms: rmsOf(p.samples) });
    }
  }
  return out;
}

function gaussian(r: () => number): () => number {
  return () => Math.sqrt(-2 * Math.log(r() + 1e-12)) * Math.cos(2 * Math.PI * r());
}

/** Speech RMS of the pool → noise level for `snrDb` (null: no noise). */
function noiseLevel(phrases: Phrase[], snrDb: number | null): number {
  if (snrDb === null) return 0;
  const speechRms = Math.sqrt(phrases.reduce((a, p) => a + p.rms * p.rms, 0) / phrases.length);
  return speechRms / 10 ** (snrDb / 20);
}

/** `seconds` of 16 kHz speech: phrases (one voice) joined with 150 ms gaps from a random one on, cut to length, noise added. */
export function clip16k(pool: Phrase[], seconds: number, snrDb: number | null, r: () => number): Float32Array {
  const mine = pool.filter((p) => p.voice === VOICES[0]);
  const n = Math.round(seconds * 16000);
  const out = new Float32Array(n);
  const gap = Math.round(0.15 * 16000);
  let at = 0;
  let i = Math.floor(r() * mine.length);
  while (at < n) {
    const p = mine[i++ % mine.length]!.at16k;
    out.set(p.subarray(0, Math.min(p.length, n - at)), at);
    at += p.length + gap;
  }
  const level = noiseLevel(mine, snrDb);
  const g = gaussian(r);
  if (level > 0) for (let k = 0; k < n; k++) out[k] = out[k]! + level * g();
  return out;
}

export interface Track {
  peerId: string;
  /** Int16 mono at the room rate. */
  samples: Int16Array;
  rate: number;
  seconds: number;
  /** True speech spans, ms from the start of the track. */
  speech: Span[];
  /** DTX: whether frame k (20 ms) is sent; null = every frame. */
  sendMask: Uint8Array | null;
}

/**
 * `leadMs` of silence, then each phrase followed by `gapsMs[i]` (the last gap is the tail);
 * white noise over everything; spans exact in samples. With `dtxHangoverMs`, only frames
 * overlapping [phrase start, phrase end + hangover] are sent.
 */
export function buildTrack(peerId: string, phrases: Phrase[], leadMs: number, gapsMs: number[], rate: number, snrDb: number | null, r: () => number, dtxHangoverMs: number | null): Track {
  const ms = (n: number) => Math.round((n * rate) / 1000);
  let total = ms(leadMs);
  phrases.forEach((p, i) => (total += p.atRate.length + ms(gapsMs[i] ?? 0)));
  const x = new Float32Array(total);
  const speech: Span[] = [];
  let at = ms(leadMs);
  phrases.forEach((p, i) => {
    x.set(p.atRate, at);
    speech.push({ startMs: (at * 1000) / rate, endMs: ((at + p.atRate.length) * 1000) / rate });
    at += p.atRate.length + ms(gapsMs[i] ?? 0);
  });
  const level = noiseLevel(phrases, snrDb);
  const g = gaussian(r);
  if (level > 0) for (let k = 0; k < x.length; k++) x[k] = x[k]! + level * g();
  let sendMask: Uint8Array | null = null;
  if (dtxHangoverMs !== null) {
    const frames = Math.ceil(total / ms(20));
    sendMask = new Uint8Array(frames);
    for (let k = 0; k < frames; k++) {
      const a = k * 20;
      const b = a + 20;
      sendMask[k] = speech.some((s) => b > s.startMs && a < s.endMs + dtxHangoverMs) ? 1 : 0;
    }
  }
  return { peerId, samples: toInt16(x), rate, seconds: total / rate, speech, sendMask };
}

/**
 * A room whose peers are the tracks, delivered live: frame k (20 ms) of every track at
 * t0 + (k + 1) × 20 ms (a live source has a frame once it is recorded), drift-free, all frames
 * due by now in one timer turn. Never leaves on its own: `done` resolves after `feedMs`.
 */
export class BenchRoom implements RoomAdapter {
  readonly kind = 'file' as const;
  /** performance.now() of the stream start (sample 0 of every track). */
  t0 = NaN;
  /** Per timer turn: how late the first due frame was delivered (ms). */
  readonly lateness: number[] = [];
  readonly done: Promise<void>;
  private resolveDone!: () => void;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(
    private readonly tracks: Track[],
    private readonly opts: { sampleRate: number; feedMs: number; frameMs?: number },
  ) {
    this.done = new Promise((r) => (this.resolveDone = r));
  }

  async join(h: RoomHandlers): Promise<void> {
    for (const t of this.tracks) h.peerJoined({ peerId: t.peerId, userId: t.peerId, displayName: t.peerId, userData: null });
    const frameMs = this.opts.frameMs ?? 20;
    const n = Math.round((this.opts.sampleRate * frameMs) / 1000);
    const total = Math.ceil(this.opts.feedMs / frameMs);
    let k = 0;
    this.t0 = performance.now();
    const due = (i: number) => this.t0 + (i + 1) * frameMs;
    const tick = () => {
      this.timer = null;
      if (this.stopped) return;
      if (k < total) this.lateness.push(performance.now() - due(k));
      while (k < total && performance.now() >= due(k)) {
        for (const t of this.tracks) {
          const from = k * n;
          if (from >= t.samples.length || (t.sendMask && !t.sendMask[k])) continue;
          h.audio({ peerId: t.peerId, samples: t.samples.subarray(from, Math.min(from + n, t.samples.length)), sampleRate: this.opts.sampleRate, channels: 1 });
        }
        k++;
      }
      if (k >= total) {
        this.resolveDone();
        return;
      }
      this.timer = setTimeout(tick, Math.max(0, due(k) - performance.now()));
    };
    this.timer = setTimeout(tick, frameMs);
  }

  async leave(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.resolveDone();
  }
}

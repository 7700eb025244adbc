/**
 * Streaming rational resampler with mono mixdown, for voice frames → the 16 kHz mono Float32
 * the VAD and Whisper want.
 *
 * Method: polyphase FIR. The rate ratio out/in is reduced to L/M (48k→16k = 1/3,
 * 44.1k→16k = 160/441). Conceptually the input is upsampled by L (zeros inserted), low-pass
 * filtered by a Kaiser-windowed sinc, and every M-th sample kept; the polyphase form computes
 * only the kept samples, each as a T-tap dot product with one of L coefficient phases.
 *
 * Filter: the pass band ends at `passband` × the lower Nyquist (7.0 kHz for 16 kHz output),
 * the stop band starts at `stopband` × it (7.8 kHz) with `attenuationDb` (70 dB) below it, so
 * a tone above the new Nyquist cannot fold back into the speech band. Whisper's mel filters
 * reach 8 kHz, but 7–8 kHz carries little speech energy, and a transition band that ends
 * before 8 kHz is what keeps 8–9 kHz energy from aliasing to 7–8 kHz. Each phase is
 * normalised to unit DC gain, so the phases match exactly and silence/DC stay exact.
 *
 * Streaming: the last T−1 input samples are kept between calls, and the next output's input
 * position and phase carry over, so any split of the input into frames gives bit-identical
 * output to one block (the per-sample arithmetic is the same). The FIR's group delay is
 * removed by dropping its first outputs (`compensateDelay`, default on), so output sample k
 * lines up with input time k / outputRate; `flush()` feeds zeros to drain the tail at the end
 * of a stream.
 */

export interface ResamplerOptions {
  inputRate: number;
  /** Default 16000 (Whisper / Silero). */
  outputRate?: number;
  /** Interleaved channels of the input; mixed down to mono by averaging. Default 1. */
  channels?: number;
  /** Stop-band attenuation in dB. Default 70. */
  attenuationDb?: number;
  /** Pass-band edge as a fraction of the lower of the two Nyquist frequencies. Default 0.875. */
  passband?: number;
  /** Stop-band edge as a fraction of the lower Nyquist frequency. Default 0.975. */
  stopband?: number;
  /** Drop the FIR's group delay from the start of the output. Default true. */
  compensateDelay?: boolean;
}

/** The rates voice stacks and files commonly use; any other integer rate works if the ratio
 * reduces to at most MAX_PHASES phases. */
export const COMMON_RATES: readonly number[] = [8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000, 96000];
export const MIN_RATE = 4000;
export const MAX_RATE = 192_000;
export const MAX_CHANNELS = 8;
/** Bounds the coefficient table (L × T floats). 11.025 kHz → 16 kHz needs 640. */
const MAX_PHASES = 2048;
const MAX_TABLE = 1 << 21;

const INT16_SCALE = 1 / 32768;

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/** Modified Bessel function of the first kind, order 0 (power series; converges fast for the
 * β ≤ ~10 a Kaiser window uses). */
function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  const q = (x * x) / 4;
  for (let k = 1; k < 64; k++) {
    term *= q / (k * k);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return sum;
}

/** Why a rate pair cannot be resampled, or null when it can. */
export function rateProblem(inputRate: number, outputRate = 16000): string | null {
  for (const [name, r] of [['input', inputRate], ['output', outputRate]] as const) {
    if (!Number.isInteger(r) || r < MIN_RATE || r > MAX_RATE) {
      return `${name} sample rate ${String(r)} Hz is not an integer in ${MIN_RATE}..${MAX_RATE}`;
    }
  }
  const up = outputRate / gcd(inputRate, outputRate);
  if (up > MAX_PHASES) return `ratio ${outputRate}/${inputRate} needs ${up} filter phases (max ${MAX_PHASES})`;
  return null;
}

interface Design {
  up: number;
  down: number;
  taps: number;
  /** coeffs[p * taps + j] multiplies x[n − taps + 1 + j] for phase p (taps stored oldest-first so
   * the dot product walks both arrays forwards). */
  coeffs: Float32Array;
  /** Group delay in output samples. */
  delay: number;
}

/** Designs are shared by every resampler with the same parameters (one per peer otherwise). */
const designCache = new Map<string, Design>();

function design(inputRate: number, outputRate: number, attenuationDb: number, passband: number, stopband: number): Design {
  const key = `${inputRate}/${outputRate}/${attenuationDb}/${passband}/${stopband}`;
  const cached = designCache.get(key);
  if (cached) return cached;
  const g = gcd(inputRate, outputRate);
  const up = outputRate / g;
  const down = inputRate / g;
  let d: Design;
  if (up === 1 && down === 1) {
    d = { up, down, taps: 1, coeffs: Float32Array.of(1), delay: 0 };
  } else {
    const nyquist = Math.min(inputRate, outputRate) / 2;
    const fPass = passband * nyquist;
    const fStop = stopband * nyquist;
    // Kaiser's estimates: taps for the transition width at the input rate, β for the attenuation.
    const dw = (2 * Math.PI * (fStop - fPass)) / inputRate;
    const taps = Math.max(2, Math.ceil((attenuationDb - 7.95) / (2.285 * dw)) + 1);
    const beta =
      attenuationDb > 50
        ? 0.1102 * (attenuationDb - 8.7)
        : attenuationDb >= 21
          ? 0.5842 * (attenuationDb - 21) ** 0.4 + 0.07886 * (attenuationDb - 21)
          : 0;
    const length = taps * up;
    if (length > MAX_TABLE) throw new Error(`resampler ${inputRate}→${outputRate} Hz needs ${length} coefficients (max ${MAX_TABLE})`);
    const fc = (fPass + fStop) / 2 / (inputRate * up); // cycles per upsampled sample
    const mid = (length - 1) / 2;
    const i0b = besselI0(beta);
    const coeffs = new Float32Array(length);
    const proto = new Float64Array(length);
    for (let i = 0; i < length; i++) {
      const t = i - mid;
      const sinc = t === 0 ? 2 * fc : Math.sin(2 * Math.PI * fc * t) / (Math.PI * t);
      const r = (2 * i) / (length - 1) - 1;
      proto[i] = sinc * (besselI0(beta * Math.sqrt(Math.max(0, 1 - r * r))) / i0b);
    }
    for (let p = 0; p < up; p++) {
      let sum = 0;
      for (let j = 0; j < taps; j++) sum += proto[p + j * up] ?? 0;
      for (let j = 0; j < taps; j++) coeffs[p * taps + (taps - 1 - j)] = (proto[p + j * up] ?? 0) / sum;
    }
    d = { up, down, taps, coeffs, delay: mid / down };
  }
  designCache.set(key, d);
  return d;
}

export class Resampler {
  readonly inputRate: number;
  readonly outputRate: number;
  readonly channels: number;
  /** FIR taps per output sample (cost ∝ taps × output samples). */
  readonly taps: number;
  /** FIR group delay in output samples (removed from the output when compensateDelay). */
  readonly delay: number;
  private readonly up: number;
  private readonly down: number;
  private readonly coeffs: Float32Array;
  private readonly compensate: boolean;
  /** Mono input history; buf[next] is the newest input sample of the next output. */
  private buf: Float32Array;
  private len = 0;
  private next = 0;
  private phase = 0;
  /** Outputs still to drop for delay compensation. */
  private skip = 0;
  /** Mono input samples received since the last reset. */
  private received = 0;
  /** Outputs returned since the last reset (after delay compensation). */
  private emitted = 0;

  constructor(opts: ResamplerOptions) {
    const outputRate = opts.outputRate ?? 16000;
    const channels = opts.channels ?? 1;
    const problem = rateProblem(opts.inputRate, outputRate);
    if (problem) throw new RangeError(`unsupported resampling: ${problem}`);
    if (!Number.isInteger(channels) || channels < 1 || channels > MAX_CHANNELS) {
      throw new RangeError(`unsupported channel count ${String(channels)} (1..${MAX_CHANNELS})`);
    }
    const attenuationDb = opts.attenuationDb ?? 70;
    const passband = opts.passband ?? 0.875;
    const stopband = opts.stopband ?? 0.975;
    if (!(passband > 0 && passband < stopband && stopband <= 1.2)) throw new RangeError('need 0 < passband < stopband ≤ 1.2');
    if (!(attenuationDb >= 20 && attenuationDb <= 160)) throw new RangeError('attenuationDb must be in 20..160');
    const d = design(opts.inputRate, outputRate, attenuationDb, passband, stopband);
    this.inputRate = opts.inputRate;
    this.outputRate = outputRate;
    this.channels = channels;
    this.up = d.up;
    this.down = d.down;
    this.taps = d.taps;
    this.coeffs = d.coeffs;
    this.delay = d.delay;
    this.compensate = opts.compensateDelay ?? true;
    this.buf = new Float32Array(d.taps - 1 + 4096);
    this.reset();
  }

  /** Forget the stream: history zeroed, next output aligned with the next input sample. */
  reset(): void {
    this.buf.fill(0);
    this.len = this.taps - 1; // T−1 zeros of history before the first sample
    this.next = this.len;
    this.phase = 0;
    this.skip = this.compensate ? Math.round(this.delay) : 0;
    this.received = 0;
    this.emitted = 0;
  }

  /** Number of outputs the next `inputFrames` input frames will produce at most. */
  maxOutput(inputFrames: number): number {
    return Math.ceil((inputFrames * this.up) / this.down) + 1;
  }

  /**
   * Resample interleaved samples (length a multiple of `channels`). Int16 is scaled by 1/32768.
   * Returns a new array the caller may keep. Samples must be finite (the pipeline checks).
   */
  process(input: Int16Array | Float32Array): Float32Array {
    const ch = this.channels;
    if (input.length % ch !== 0) throw new RangeError(`input length ${input.length} is not a multiple of ${ch} channels`);
    const frames = input.length / ch;
    this.reserve(frames);
    const buf = this.buf;
    const scale = (input instanceof Int16Array ? INT16_SCALE : 1) / ch;
    let w = this.len;
    if (ch === 1 && scale === 1) {
      buf.set(input, w);
      w += frames;
    } else {
      for (let i = 0, k = 0; i < frames; i++) {
        let s = 0;
        for (let c = 0; c < ch; c++) s += input[k++] ?? 0;
        buf[w++] = s * scale;
      }
    }
    this.len = w;
    this.received += frames;
    return this.drain();
  }

  /** End of stream: feed zeros until every output up to the end of the real input (delay
   * compensated: round(inputs × out/in) in all) has been emitted, then reset. */
  flush(): Float32Array {
    const wanted = Math.round((this.received * this.up) / this.down) + (this.compensate ? 0 : Math.round(this.delay));
    const pad = Math.ceil(this.delay * this.down / this.up) + 2;
    this.reserve(pad);
    this.buf.fill(0, this.len, this.len + pad);
    this.len += pad;
    const out = this.drain();
    const keep = Math.max(0, Math.min(out.length, wanted - (this.emitted - out.length)));
    this.reset();
    return keep === out.length ? out : out.slice(0, keep);
  }

  private reserve(extra: number): void {
    if (this.len + extra <= this.buf.length) return;
    const grown = new Float32Array(Math.max(this.len + extra, this.buf.length * 2));
    grown.set(this.buf.subarray(0, this.len));
    this.buf = grown;
  }

  private drain(): Float32Array {
    const { buf, coeffs, taps, up, down } = this;
    const out = new Float32Array(Math.max(0, this.maxOutput(this.len - this.next)));
    let n = this.next;
    let p = this.phase;
    let o = 0;
    const len = this.len;
    while (n < len) {
      // Unrolled by 4 with independent accumulators: about 2× faster in V8 than the plain loop.
      const c0 = p * taps;
      const x0 = n - taps + 1;
      let a0 = 0;
      let a1 = 0;
      let a2 = 0;
      let a3 = 0;
      let j = 0;
      for (; j + 3 < taps; j += 4) {
        a0 += coeffs[c0 + j]! * buf[x0 + j]!;
        a1 += coeffs[c0 + j + 1]! * buf[x0 + j + 1]!;
        a2 += coeffs[c0 + j + 2]! * buf[x0 + j + 2]!;
        a3 += coeffs[c0 + j + 3]! * buf[x0 + j + 3]!;
      }
      for (; j < taps; j++) a0 += coeffs[c0 + j]! * buf[x0 + j]!;
      out[o++] = a0 + a1 + (a2 + a3);
      p += down;
      if (p >= up) {
        n += Math.floor(p / up);
        p %= up;
      }
    }
    this.phase = p;
    // Keep T−1 samples of history behind the next output's newest input.
    const keepFrom = Math.min(n - (taps - 1), len);
    if (keepFrom > 0) {
      buf.copyWithin(0, keepFrom, len);
      this.len = len - keepFrom;
      n -= keepFrom;
    }
    this.next = n;
    let start = 0;
    if (this.skip > 0) {
      start = Math.min(this.skip, o);
      this.skip -= start;
    }
    this.emitted += o - start;
    return out.slice(start, o);
  }
}

/**
 * Per-peer utterance segmenter: cuts a 16 kHz stream into utterances from VAD probabilities.
 *
 * Pure and deterministic: no timers, no clock reads. Time is the stream clock (samples pushed
 * so far / sample rate); wall-clock times come only from the caller (`push(…, wallClockMs)`).
 *
 * Rules (all in `SegmenterSettings`):
 * - Hysteresis: speech starts when p ≥ startThreshold and stops only when p < stopThreshold,
 *   so a probability wobbling around one threshold does not chop a word.
 * - Pre-roll: the utterance begins `preRollMs` before the frame that triggered it (the VAD
 *   fires a frame or two into a word; Whisper needs the onset).
 * - End: after `minSilenceMs` without speech, the utterance ends `postRollMs` after the last
 *   speech frame (trailing consonants are quiet and score low).
 * - Cap: at `maxUtteranceMs` (Whisper's window is 30 s) the utterance is cut; if the peer is
 *   still speaking, the next one continues seamlessly from the cut (no pre-roll, so no audio
 *   is duplicated).
 * - Too short: an utterance with less than `minSpeechMs` of speech (first speech frame to last,
 *   without pre/post-roll) is dropped and counted: coughs, clicks, keyboard.
 */

export interface SegmenterSettings {
  sampleRate: number;
  startThreshold: number;
  stopThreshold: number;
  preRollMs: number;
  postRollMs: number;
  minSilenceMs: number;
  maxUtteranceMs: number;
  minSpeechMs: number;
}

export const DEFAULT_SEGMENTER_SETTINGS: Readonly<SegmenterSettings> = Object.freeze({
  sampleRate: 16000,
  startThreshold: 0.5,
  stopThreshold: 0.35,
  preRollMs: 300,
  postRollMs: 300,
  minSilenceMs: 1500,
  maxUtteranceMs: 30_000,
  minSpeechMs: 250,
});

export type UtteranceEnd = 'silence' | 'max-length' | 'flush';

export interface Utterance {
  peerId: string;
  /** Stream clock (ms since the first sample of this peer's stream) of samples[0]. */
  startMs: number;
  /** Stream clock just after the last sample: startMs + samples.length / rate. */
  endMs: number;
  /** Where the VAD saw speech begin and end (stream clock); the rest is pre/post-roll. */
  speechStartMs: number;
  speechEndMs: number;
  /** Wall clock (ms since the epoch, from the caller's timestamps) of samples[0]. */
  wallClockStartMs: number;
  sampleRate: number;
  samples: Float32Array;
  /** Why it ended; 'max-length' with `continued` on the next one when speech went on. */
  end: UtteranceEnd;
  /** True when this utterance directly continues one cut at maxUtteranceMs. */
  continued: boolean;
}

export interface SegmenterStats {
  emitted: number;
  droppedShort: number;
}

/** Fills in defaults and rejects settings that cannot work, with the reason. */
export function resolveSegmenterSettings(partial: Partial<SegmenterSettings> = {}): SegmenterSettings {
  const s: SegmenterSettings = { ...DEFAULT_SEGMENTER_SETTINGS, ...partial };
  const fail = (why: string): never => {
    throw new RangeError(`invalid segmenter settings: ${why}`);
  };
  if (!Number.isInteger(s.sampleRate) || s.sampleRate <= 0) fail(`sampleRate ${s.sampleRate}`);
  if (!(s.startThreshold > 0 && s.startThreshold <= 1)) fail('startThreshold must be in (0, 1]');
  if (!(s.stopThreshold >= 0 && s.stopThreshold <= s.startThreshold)) fail('stopThreshold must be in [0, startThreshold]');
  for (const k of ['preRollMs', 'postRollMs', 'minSilenceMs', 'minSpeechMs'] as const) {
    if (!(Number.isFinite(s[k]) && s[k] >= 0)) fail(`${k} must be ≥ 0`);
  }
  if (s.postRollMs > s.minSilenceMs) fail('postRollMs must not exceed minSilenceMs');
  if (!(Number.isFinite(s.maxUtteranceMs) && s.maxUtteranceMs >= s.preRollMs + 100)) fail('maxUtteranceMs must be ≥ preRollMs + 100');
  return s;
}

export class UtteranceSegmenter {
  readonly settings: SegmenterSettings;
  readonly stats: SegmenterStats = { emitted: 0, droppedShort: 0 };
  private readonly msPerSample: number;
  private readonly preRoll: number;
  private readonly postRoll: number;
  private readonly minSilence: number;
  private readonly maxLen: number;
  private readonly minSpeech: number;

  /** Samples pushed so far: the stream clock. */
  private clock = 0;
  /** Wall-clock anchor: wall time of stream sample `anchorSample`. */
  private anchorWall = 0;
  private anchorSample = 0;
  /** Hysteresis state of the VAD. */
  private speech = false;

  /** Ring of the latest audio while idle (pre-roll source). */
  private readonly ring: Float32Array;
  private ringPos = 0;
  private ringFill = 0;

  /** Current utterance, when active. */
  private active = false;
  private buf = new Float32Array(0);
  private len = 0;
  private uttStart = 0;
  private uttWall = 0;
  private speechStart = 0;
  private speechEnd = 0;
  private continued = false;

  constructor(
    readonly peerId: string,
    settings: Partial<SegmenterSettings> = {},
    private readonly onUtterance: (u: Utterance) => void,
  ) {
    this.settings = resolveSegmenterSettings(settings);
    const perMs = this.settings.sampleRate / 1000;
    this.msPerSample = 1 / perMs;
    this.preRoll = Math.round(this.settings.preRollMs * perMs);
    this.postRoll = Math.round(this.settings.postRollMs * perMs);
    this.minSilence = Math.round(this.settings.minSilenceMs * perMs);
    this.maxLen = Math.round(this.settings.maxUtteranceMs * perMs);
    this.minSpeech = Math.round(this.settings.minSpeechMs * perMs);
    this.ring = new Float32Array(this.preRoll);
  }

  /** Stream clock in ms (all samples pushed so far). */
  get clockMs(): number {
    return this.clock * this.msPerSample;
  }

  /** The VAD's hysteresis state: true from a start-threshold frame until a stop-threshold one. */
  get speaking(): boolean {
    return this.speech;
  }

  /** Whether an utterance is open (speech, or silence shorter than minSilenceMs after it). */
  get inUtterance(): boolean {
    return this.active;
  }

  /** Length of the open utterance in ms (pre-roll included), 0 when none. */
  get utteranceMs(): number {
    return this.active ? this.len * this.msPerSample : 0;
  }

  /**
   * Feed the next chunk of the stream (typically one VAD frame) and the VAD's speech
   * probability for it. `wallClockMs` is the wall time of the chunk's first sample; when
   * omitted it is extrapolated from the last one given (from 0 if none ever was).
   */
  push(samples: Float32Array, probability: number, wallClockMs?: number): void {
    if (wallClockMs !== undefined && Number.isFinite(wallClockMs)) {
      this.anchorWall = wallClockMs;
      this.anchorSample = this.clock;
    }
    // A NaN probability compares false with everything: it must count as silence, not hold speech.
    const p = Number.isFinite(probability) ? probability : 0;
    const { startThreshold, stopThreshold } = this.settings;
    if (!this.speech && p >= startThreshold) this.speech = true;
    else if (this.speech && p < stopThreshold) this.speech = false;

    let chunk = samples;
    let t0 = this.clock;
    if (!this.active && this.speech) this.open(t0, false);
    while (this.active) {
      // Cap: fill up to maxLen, cut, and continue with the rest of the chunk.
      const room = this.maxLen - this.len;
      const take = Math.min(room, chunk.length);
      this.append(chunk.subarray(0, take));
      if (this.speech) this.speechEnd = t0 + take;
      if (take < chunk.length || this.len >= this.maxLen) {
        if (this.speech) {
          this.close('max-length', this.len);
          chunk = chunk.subarray(take);
          t0 += take;
          this.open(t0, true);
          if (chunk.length === 0) break;
          continue;
        }
        this.close('max-length', this.cutAfterSpeech());
        chunk = chunk.subarray(take);
        t0 += take;
        break;
      }
      chunk = chunk.subarray(take);
      if (!this.speech && t0 + take - this.speechEnd >= this.minSilence) this.close('silence', this.cutAfterSpeech());
      break;
    }
    if (!this.active && chunk.length > 0) this.remember(chunk);
    this.clock += samples.length;
  }

  /** End of stream (or a gap in it): emit the open utterance, forget the pre-roll and the
   * VAD state. The stream clock keeps running. */
  flush(): void {
    if (this.active) this.close('flush', this.cutAfterSpeech());
    this.speech = false;
    this.ringFill = 0;
    this.ringPos = 0;
  }

  private wallAt(sample: number): number {
    return this.anchorWall + (sample - this.anchorSample) * this.msPerSample;
  }

  /** Opens an utterance at stream sample t0, with pre-roll unless it continues a cut one. */
  private open(t0: number, continued: boolean): void {
    this.active = true;
    this.continued = continued;
    this.len = 0;
    const pre = continued ? 0 : Math.min(this.ringFill, this.preRoll);
    this.reserve(Math.max(pre, 2 * this.settings.sampleRate));
    // Oldest-first copy out of the ring.
    const ring = this.ring;
    for (let i = 0; i < pre; i++) this.buf[i] = ring[(this.ringPos - pre + i + ring.length) % ring.length]!;
    this.len = pre;
    this.uttStart = t0 - pre;
    this.uttWall = this.wallAt(this.uttStart);
    this.speechStart = t0;
    this.speechEnd = t0;
    this.ringFill = 0;
  }

  /** Where to cut when speech has stopped: postRoll after the last speech sample. */
  private cutAfterSpeech(): number {
    return Math.min(this.len, this.speechEnd - this.uttStart + this.postRoll);
  }

  /** Emits the open utterance cut to `keep` samples (or drops it as too short), and keeps the
   * audio after the cut as pre-roll for the next one. */
  private close(end: UtteranceEnd, keep: number): void {
    this.active = false;
    // A continuation is kept even if short (it is the rest of a word cut at the cap), unless it
    // holds no speech at all.
    const speech = this.speechEnd - this.speechStart;
    if (this.continued ? speech <= 0 : speech < this.minSpeech) {
      this.stats.droppedShort++;
    } else {
      const ms = this.msPerSample;
      this.stats.emitted++;
      this.onUtterance({
        peerId: this.peerId,
        startMs: this.uttStart * ms,
        endMs: (this.uttStart + keep) * ms,
        speechStartMs: this.speechStart * ms,
        speechEndMs: this.speechEnd * ms,
        wallClockStartMs: this.uttWall,
        sampleRate: this.settings.sampleRate,
        samples: this.buf.slice(0, keep),
        end,
        continued: this.continued,
      });
    }
    if (end !== 'flush') this.remember(this.buf.subarray(Math.max(keep, this.len - this.preRoll), this.len));
    this.len = 0;
  }

  private append(x: Float32Array): void {
    this.reserve(this.len + x.length);
    this.buf.set(x, this.len);
    this.len += x.length;
  }

  private reserve(n: number): void {
    if (n <= this.buf.length) return;
    const next = new Float32Array(Math.min(Math.max(n, this.buf.length * 2), this.maxLen + this.preRoll));
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  private remember(x: Float32Array): void {
    const ring = this.ring;
    const n = ring.length;
    if (n === 0) return;
    const src = x.length > n ? x.subarray(x.length - n) : x;
    for (let i = 0; i < src.length; i++) {
      ring[this.ringPos] = src[i]!;
      this.ringPos = (this.ringPos + 1) % n;
    }
    this.ringFill = Math.min(n, this.ringFill + src.length);
  }
}

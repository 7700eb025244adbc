/**
 * Per-peer audio pipeline: voice frames (any common rate, Int16 or Float32, interleaved
 * channels) → 16 kHz mono → VAD frames → utterances for Whisper.
 *
 *   push(frame, rate, channels)      synchronous: validate, resample, cut VAD frames
 *     → VAD (async, in order)        one Vad (recurrent state) per peer
 *     → UtteranceSegmenter           emits Utterance objects through `onUtterance`
 *
 * Input comes from the network, so `push` never throws on bad data: it returns a result,
 * counts the drop by reason and logs it (first occurrence, then at 10, 100, 1000, … so a
 * broken peer cannot flood the log). Nothing a peer sends can reach another peer's state;
 * `AudioPipeline` keeps one `PeerAudioPipeline` per peer and contains their failures.
 *
 * Non-finite samples (NaN/±Inf) would poison the resampler history and the VAD's recurrent
 * state for good, so such a frame is replaced by silence of the same length (counted as
 * dropped, reason 'non-finite'; the stream clock stays true). Finite Float32 samples outside
 * [−1, 1] are clamped and counted (`clampedSamples`).
 */
import { COMMON_RATES, MAX_CHANNELS, Resampler, rateProblem } from './resample.js';
import { UtteranceSegmenter, resolveSegmenterSettings, type SegmenterSettings, type Utterance } from './utterances.js';
import { VAD_SAMPLE_RATE, type Vad, type VadModel } from './vad.js';

export type DropReason =
  | 'non-finite' // NaN/Inf samples: frame replaced by silence
  | 'unsupported-rate'
  | 'bad-channels'
  | 'bad-length' // not a whole number of channel frames, or not a typed array
  | 'too-large' // longer than maxFrameMs
  | 'backlog' // the VAD is too far behind (CPU overload): audio discarded
  | 'vad-error' // inference failed: frame treated as silence
  | 'internal-error';

export const DROP_REASONS: readonly DropReason[] = [
  'non-finite',
  'unsupported-rate',
  'bad-channels',
  'bad-length',
  'too-large',
  'backlog',
  'vad-error',
  'internal-error',
];

export type PushResult = { ok: true } | { ok: false; reason: DropReason; message: string };

export interface PipelineSettings {
  segmenter: Partial<SegmenterSettings>;
  /** Input rates accepted. Default: COMMON_RATES (8k … 96k). */
  sampleRates: readonly number[];
  /** Frames longer than this are rejected ('too-large'). Voice frames are 10–60 ms. */
  maxFrameMs: number;
  /** Audio waiting for the VAD beyond this is dropped ('backlog'). */
  maxBacklogMs: number;
}

export const DEFAULT_PIPELINE_SETTINGS: Readonly<PipelineSettings> = Object.freeze({
  segmenter: {},
  sampleRates: COMMON_RATES,
  maxFrameMs: 1000,
  maxBacklogMs: 5000,
});

/** pino-compatible subset. */
export interface AudioLogger {
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
}

/** Fills in defaults and rejects settings that cannot work, with the reason. */
export function resolvePipelineSettings(partial: Partial<PipelineSettings> = {}): PipelineSettings {
  const s: PipelineSettings = { ...DEFAULT_PIPELINE_SETTINGS, ...partial };
  const seg = resolveSegmenterSettings(s.segmenter);
  if (seg.sampleRate !== VAD_SAMPLE_RATE) throw new RangeError(`the VAD runs at ${VAD_SAMPLE_RATE} Hz; segmenter sampleRate must match`);
  for (const r of s.sampleRates) {
    const problem = rateProblem(r, VAD_SAMPLE_RATE);
    if (problem) throw new RangeError(`sampleRates: ${problem}`);
  }
  if (!(s.maxFrameMs > 0)) throw new RangeError('maxFrameMs must be > 0');
  if (!(s.maxBacklogMs > 0)) throw new RangeError('maxBacklogMs must be > 0');
  return { ...s, segmenter: seg };
}

const silentLogger: AudioLogger = { warn: () => {}, info: () => {} };

export interface PeerAudioState {
  peerId: string;
  /** VAD hysteresis state: the peer is talking now. */
  speaking: boolean;
  /** An utterance is open (speaking, or in the silence before it is flushed). */
  inUtterance: boolean;
  /** Length of the open utterance in ms (0 when none). */
  utteranceMs: number;
  /** Stream clock: ms of 16 kHz audio that went through the VAD. */
  streamMs: number;
  /** Rate and channels of the last accepted frame (0 before the first). */
  sampleRate: number;
  channels: number;
  framesIn: number;
  framesDropped: Record<DropReason, number>;
  clampedSamples: number;
  /** VAD frames waiting for inference. */
  backlogFrames: number;
  utterancesEmitted: number;
  utterancesDroppedShort: number;
  /** Wall-clock arrival of the last accepted frame (NaN before the first). */
  lastFrameAt: number;
}

export interface PeerPipelineOptions {
  peerId: string;
  vad: Vad;
  onUtterance: (u: Utterance) => void;
  /** The VAD's speaking state of this peer flipped (called once per flip, in stream order). */
  onSpeaking?: (peerId: string, speaking: boolean) => void;
  settings?: Partial<PipelineSettings>;
  logger?: AudioLogger;
  /** Wall clock for utterance start times. Default Date.now. */
  now?: () => number;
}

interface Pending {
  frame: Float32Array;
  /** Real samples (the last frame of a flushed stream is zero-padded). */
  length: number;
  wall: number;
}

export class PeerAudioPipeline {
  readonly peerId: string;
  private readonly vad: Vad;
  private readonly segmenter: UtteranceSegmenter;
  private readonly settings: PipelineSettings;
  private readonly rates: ReadonlySet<number>;
  private readonly log: AudioLogger;
  private readonly now: () => number;
  private readonly onUtterance: (u: Utterance) => void;
  private readonly onSpeaking: ((peerId: string, speaking: boolean) => void) | undefined;
  private readonly frameSamples: number;
  /** The speaking state last reported through onSpeaking. */
  private reportedSpeaking = false;

  private resampler: Resampler | null = null;
  /** Format of the last accepted frame (kept across flush, for state()). */
  private format = { sampleRate: 0, channels: 0 };
  /** Resampled audio not yet cut into a VAD frame. */
  private fifo: Float32Array;
  private fifoLen = 0;
  /** 16 kHz samples produced so far, and the wall-clock anchor of the latest push. */
  private produced = 0;
  private anchorSample = 0;
  private anchorWall = 0;

  private readonly queue: Pending[] = [];
  private draining: Promise<void> | null = null;

  private readonly dropped = Object.fromEntries(DROP_REASONS.map((r) => [r, 0])) as Record<DropReason, number>;
  private framesIn = 0;
  private clamped = 0;
  /** Wall time of the last accepted frame's arrival (NaN before the first). */
  private lastArrival = NaN;

  constructor(opts: PeerPipelineOptions) {
    this.peerId = opts.peerId;
    this.vad = opts.vad;
    this.settings = resolvePipelineSettings(opts.settings);
    this.rates = new Set(this.settings.sampleRates);
    this.log = opts.logger ?? silentLogger;
    this.now = opts.now ?? Date.now;
    this.onUtterance = opts.onUtterance;
    this.onSpeaking = opts.onSpeaking;
    this.frameSamples = this.vad.frameSamples;
    this.fifo = new Float32Array(this.frameSamples * 4);
    this.segmenter = new UtteranceSegmenter(this.peerId, this.settings.segmenter, (u) => this.emit(u));
  }

  /**
   * One frame of this peer's audio: interleaved samples, Int16 (full scale 32768) or Float32
   * (full scale 1). Returns whether it was accepted; the frame is not retained.
   */
  push(frame: Int16Array | Float32Array, sampleRate: number, channels = 1): PushResult {
    this.framesIn++;
    if (!(frame instanceof Int16Array || frame instanceof Float32Array)) {
      return this.drop('bad-length', 'frame is not an Int16Array or Float32Array');
    }
    if (!Number.isInteger(channels) || channels < 1 || channels > MAX_CHANNELS) {
      return this.drop('bad-channels', `channel count ${String(channels)} is not an integer in 1..${MAX_CHANNELS}`);
    }
    if (!this.rates.has(sampleRate)) {
      return this.drop('unsupported-rate', `sample rate ${String(sampleRate)} Hz is not supported (supported: ${[...this.rates].join(', ')})`);
    }
    if (frame.length % channels !== 0) {
      return this.drop('bad-length', `${frame.length} samples is not a whole number of ${channels}-channel frames`);
    }
    const maxSamples = Math.ceil((sampleRate * channels * this.settings.maxFrameMs) / 1000);
    if (frame.length > maxSamples) {
      return this.drop('too-large', `${frame.length} samples exceeds the cap of ${maxSamples} (${this.settings.maxFrameMs} ms at ${sampleRate} Hz × ${channels})`);
    }
    if (frame.length === 0) return { ok: true };
    const backlogMs = ((this.queue.length * this.frameSamples + this.fifoLen) * 1000) / VAD_SAMPLE_RATE;
    if (backlogMs > this.settings.maxBacklogMs) {
      return this.drop('backlog', `VAD is ${Math.round(backlogMs)} ms behind (cap ${this.settings.maxBacklogMs} ms); frame discarded`);
    }
    let input: Int16Array | Float32Array = frame;
    let result: PushResult = { ok: true };
    if (frame instanceof Float32Array) {
      const checked = this.sanitize(frame);
      if (checked === null) {
        input = new Float32Array(frame.length);
        result = this.drop('non-finite', `frame of ${frame.length} samples has NaN/Infinity values; replaced by silence`);
      } else input = checked;
    }
    try {
      if (!this.resampler || this.resampler.inputRate !== sampleRate || this.resampler.channels !== channels) {
        if (this.resampler) {
          this.log.info({ peerId: this.peerId, from: this.resampler.inputRate, to: sampleRate, channels }, 'audio format changed');
          this.append(this.resampler.flush());
        }
        this.resampler = new Resampler({ inputRate: sampleRate, outputRate: VAD_SAMPLE_RATE, channels });
        this.format = { sampleRate, channels };
      }
      const out = this.resampler.process(input);
      // This frame has just arrived, so its first sample is `duration` old.
      this.anchorSample = this.produced + this.fifoLen;
      this.lastArrival = this.now();
      this.anchorWall = this.lastArrival - (frame.length / channels / sampleRate) * 1000;
      this.append(out);
      this.cutFrames(false);
    } catch (e) {
      return this.drop('internal-error', e instanceof Error ? e.message : String(e));
    }
    return result;
  }

  /** Resolves when every frame pushed so far went through the VAD and the segmenter. */
  async idle(): Promise<void> {
    while (this.draining) await this.draining;
  }

  /** End of stream (or a long gap): drains the resampler and the VAD, emits the open
   * utterance. The peer can keep pushing afterwards (a new stream on the same clock). */
  async flush(): Promise<void> {
    if (this.resampler) this.append(this.resampler.flush());
    this.resampler = null;
    this.cutFrames(true);
    await this.idle();
    this.segmenter.flush();
    this.vad.reset();
    this.reportSpeaking();
  }

  state(): PeerAudioState {
    const seg = this.segmenter;
    return {
      peerId: this.peerId,
      speaking: seg.speaking,
      inUtterance: seg.inUtterance,
      utteranceMs: seg.utteranceMs,
      streamMs: seg.clockMs,
      sampleRate: this.format.sampleRate,
      channels: this.format.channels,
      framesIn: this.framesIn,
      framesDropped: { ...this.dropped },
      clampedSamples: this.clamped,
      backlogFrames: this.queue.length,
      utterancesEmitted: seg.stats.emitted,
      utterancesDroppedShort: seg.stats.droppedShort,
      lastFrameAt: this.lastArrival,
    };
  }

  /** null when the frame has non-finite values; else the frame, or a clamped copy. */
  private sanitize(frame: Float32Array): Float32Array | null {
    let out: Float32Array | null = null;
    let clamped = 0;
    for (let i = 0; i < frame.length; i++) {
      const v = frame[i]!;
      if (v >= -1 && v <= 1) continue;
      if (!Number.isFinite(v)) return null;
      out ??= Float32Array.from(frame);
      out[i] = v > 1 ? 1 : -1;
      clamped++;
    }
    this.clamped += clamped;
    return out ?? frame;
  }

  private drop(reason: DropReason, message: string): PushResult {
    const n = ++this.dropped[reason];
    // 1, 10, 100, …: every problem is visible once, without flooding.
    if (Number.isInteger(Math.log10(n))) this.log.warn({ peerId: this.peerId, reason, count: n }, `audio frame dropped: ${message}`);
    return { ok: false, reason, message };
  }

  private append(x: Float32Array): void {
    if (this.fifoLen + x.length > this.fifo.length) {
      const grown = new Float32Array(Math.max(this.fifoLen + x.length, this.fifo.length * 2));
      grown.set(this.fifo.subarray(0, this.fifoLen));
      this.fifo = grown;
    }
    this.fifo.set(x, this.fifoLen);
    this.fifoLen += x.length;
  }

  /** Moves whole VAD frames from the fifo to the queue (and a zero-padded last one when the
   * stream ends), then makes sure the queue is being worked on. */
  private cutFrames(final: boolean): void {
    const n = this.frameSamples;
    let off = 0;
    while (this.fifoLen - off >= n || (final && this.fifoLen - off > 0)) {
      const length = Math.min(n, this.fifoLen - off);
      const frame = new Float32Array(n);
      frame.set(this.fifo.subarray(off, off + length));
      const wall = this.anchorWall + ((this.produced - this.anchorSample) * 1000) / VAD_SAMPLE_RATE;
      this.queue.push({ frame, length, wall });
      this.produced += length;
      off += length;
    }
    if (off > 0) {
      this.fifo.copyWithin(0, off, this.fifoLen);
      this.fifoLen -= off;
    }
    this.kick();
  }

  /** Starts the VAD loop unless it runs. The loop's end is observed in `finally`, a microtask
   * after its last queue check, so frames queued in between are picked up by re-kicking. */
  private kick(): void {
    if (this.draining || this.queue.length === 0) return;
    const run: Promise<void> = this.drain().finally(() => {
      if (this.draining === run) this.draining = null;
      this.kick();
    });
    this.draining = run;
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const item = this.queue[0]!;
      let p: number;
      try {
        p = await this.vad.process(item.frame);
      } catch (e) {
        p = 0;
        this.vad.reset();
        this.drop('vad-error', `VAD failed (${e instanceof Error ? e.message : String(e)}); frame treated as silence`);
      }
      this.queue.shift();
      this.segmenter.push(item.length === item.frame.length ? item.frame : item.frame.subarray(0, item.length), p, item.wall);
      this.reportSpeaking();
    }
  }

  /** Tells onSpeaking when the segmenter's speaking state differs from the last one reported. */
  private reportSpeaking(): void {
    const now = this.segmenter.speaking;
    if (now === this.reportedSpeaking) return;
    this.reportedSpeaking = now;
    try {
      this.onSpeaking?.(this.peerId, now);
    } catch (e) {
      this.log.warn({ peerId: this.peerId, err: e instanceof Error ? e.message : String(e) }, 'speaking handler threw');
    }
  }

  private emit(u: Utterance): void {
    try {
      this.onUtterance(u);
    } catch (e) {
      // The consumer's bug must not stop this peer's audio.
      this.log.warn({ peerId: this.peerId, err: e instanceof Error ? e.message : String(e) }, 'utterance handler threw');
    }
  }
}

export interface AudioPipelineOptions {
  model: VadModel;
  onUtterance: (u: Utterance) => void;
  onSpeaking?: (peerId: string, speaking: boolean) => void;
  settings?: Partial<PipelineSettings>;
  logger?: AudioLogger;
  now?: () => number;
}

/** All peers of a room: one PeerAudioPipeline each, created on a peer's first frame. */
export class AudioPipeline {
  private readonly peers = new Map<string, PeerAudioPipeline>();
  private readonly settings: PipelineSettings;

  constructor(private readonly opts: AudioPipelineOptions) {
    // Bad settings fail here, not on some peer's first frame.
    this.settings = resolvePipelineSettings(opts.settings);
  }

  push(peerId: string, frame: Int16Array | Float32Array, sampleRate: number, channels = 1): PushResult {
    try {
      return this.peer(peerId).push(frame, sampleRate, channels);
    } catch (e) {
      // PeerAudioPipeline.push does not throw on data; this is a bug, kept to this peer.
      const message = e instanceof Error ? e.message : String(e);
      this.opts.logger?.warn({ peerId, err: message }, 'audio pipeline failed');
      return { ok: false, reason: 'internal-error', message };
    }
  }

  peer(peerId: string): PeerAudioPipeline {
    let p = this.peers.get(peerId);
    if (!p) {
      const { model, onUtterance, onSpeaking, logger, now } = this.opts;
      p = new PeerAudioPipeline({ peerId, vad: model.createVad(), onUtterance, onSpeaking, settings: this.settings, logger, now });
      this.peers.set(peerId, p);
    }
    return p;
  }

  state(peerId: string): PeerAudioState | undefined {
    return this.peers.get(peerId)?.state();
  }

  states(): PeerAudioState[] {
    return [...this.peers.values()].map((p) => p.state());
  }

  /** The peer left: emit its open utterance and forget it. */
  async remove(peerId: string): Promise<void> {
    const p = this.peers.get(peerId);
    if (!p) return;
    this.peers.delete(peerId);
    await p.flush();
  }

  /**
   * Voice rooms stop sending frames while a peer is silent (DTX), so the 1.5 s of silence that
   * ends an utterance may never arrive as audio. Call this periodically (e.g. every 500 ms):
   * peers with an open utterance and no frame for `afterMs` (default: the segmenter's
   * minSilenceMs) are flushed. Returns the peers flushed.
   */
  async flushIdle(afterMs = this.settings.segmenter.minSilenceMs ?? 1500): Promise<string[]> {
    const now = (this.opts.now ?? Date.now)();
    const idle = [...this.peers.values()].filter((p) => {
      const s = p.state();
      return s.inUtterance && now - s.lastFrameAt >= afterMs;
    });
    await Promise.allSettled(idle.map((p) => p.flush()));
    return idle.map((p) => p.peerId);
  }

  /** End of all streams. One peer's failure does not stop the others' flush. */
  async flushAll(): Promise<void> {
    await Promise.allSettled([...this.peers.values()].map((p) => p.flush()));
  }
}

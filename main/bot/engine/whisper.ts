/**
 * Local Whisper via a warm native process (native/whisper-engine.cpp, built by
 * native/build-whisper.mjs). The model loads once per process; the encoder runs there, so
 * this process only frames bytes. One request is in flight at a time (the engine is
 * sequential anyway), the rest wait here, which keeps timeouts about work rather than queueing
 * and makes "retry the in-flight utterance" well defined after a crash.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants as fsConstants } from 'node:fs';
import { access } from 'node:fs/promises';
import { availableParallelism, endianness } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ModelFileError, modelInfo } from './model.js';
import {
  EXIT_MODEL_LOAD_FAILED,
  FrameDecoder,
  SAMPLE_RATE,
  encodeRequest,
  isErrorFrame,
  parseReady,
  parseResponse,
  type EngineErrorCode,
  type ReadyFrame,
  type RequestHeader,
} from './protocol.js';
import type { TranscribeOptions, Transcription, TranscriptionEngine } from './types.js';

export { modelInfo, ModelFileError, type ModelInfo } from './model.js';

export type WhisperErrorCode =
  | EngineErrorCode
  | 'bad-model'
  | 'no-binary'
  | 'start-failed'
  | 'timeout'
  | 'crashed'
  | 'closed';

export class WhisperEngineError extends Error {
  override readonly name = 'WhisperEngineError';
  constructor(
    readonly code: WhisperErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface WhisperEngineOptions {
  /** ggml model file (ggml-*.bin). Always passed in: the app ships no model. */
  modelPath: string;
  /** Engine executable; defaults to defaultEngineBinary(). */
  binaryPath?: string;
  /** Encoder/decoder threads in the engine. Default: available cores, at most 4. */
  threads?: number;
  /** Per-request limit for the engine's work (not queueing). Default 60 s. */
  timeoutMs?: number;
  /** Model load limit. Default 120 s (large models from a slow disk). */
  startTimeoutMs?: number;
  /** Default for requests that do not set audioCtx: scale it to the clip (true) or use the full 30 s context. Default true. */
  scaleAudioCtx?: boolean;
  /** Longest clip accepted. Default 30 s: utterances, not recordings. */
  maxSeconds?: number;
  /** Default language when a request has none. Default "auto" (English-only models use "en"). */
  language?: string;
  /** The engine's stderr, line by line (whisper.cpp warnings and our engine's notes). */
  onLog?: (line: string) => void;
}

export interface WhisperTranscribeOptions extends TranscribeOptions {
  /** Overrides the engine's timeoutMs for this request. */
  timeoutMs?: number;
  /** Decoder prompt (names, jargon) to bias spelling. */
  prompt?: string;
  /** Translate to English instead of transcribing (multilingual models only). */
  translate?: boolean;
}

const ENGINE_FILE = process.platform === 'win32' ? 'whisper-engine.exe' : 'whisper-engine';
/** The encoder's frames per 30 s window (all released Whisper models). */
const FULL_AUDIO_CTX = 1500;
const AUDIO_CTX_STEP = 64;
const STDERR_TAIL_LINES = 40;

/**
 * Encoder context for a clip of `samples` at 16 kHz: its share of the 30 s window, rounded up
 * to a multiple of 64 (at least 64). Returns 0 (the model's full context) once that reaches it.
 */
export function scaledAudioCtx(samples: number, nAudioCtx = FULL_AUDIO_CTX): number {
  const seconds = samples / SAMPLE_RATE;
  const frames = Math.ceil((seconds / 30) * nAudioCtx);
  const ctx = Math.max(AUDIO_CTX_STEP, Math.ceil(frames / AUDIO_CTX_STEP) * AUDIO_CTX_STEP);
  return ctx >= nAudioCtx ? 0 : ctx;
}

/**
 * CORTEX_WHISPER_ENGINE, else native/build/whisper-engine found by walking up from this module
 * (source tree and dist/ bundles sit at different depths). Packaged apps pass binaryPath.
 */
export function defaultEngineBinary(): string {
  const fromEnv = process.env.CORTEX_WHISPER_ENGINE;
  if (fromEnv) return fromEnv;
  // A packaged app ships the engine in its resources (electron-builder extraResources).
  const resources = (process as NodeJS.Process & { resourcesPath?: string }).resourcesPath;
  if (resources) {
    const packaged = join(resources, 'native', ENGINE_FILE);
    try {
      accessSync(packaged, fsConstants.X_OK);
      return packaged;
    } catch {
      // not packaged after all (e.g. `electron .` from a checkout)
    }
  }
  let dir = dirname(fileURLToPath(import.meta.url));
  const first = join(dir, 'native', 'build', ENGINE_FILE);
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, 'native', 'build', ENGINE_FILE);
    try {
      accessSync(candidate, fsConstants.X_OK);
      return candidate;
    } catch {
      const parent = dirname(dir);
      if (parent === dir) break;
      dir = parent;
    }
  }
  return first;
}

interface Job {
  pcm: Float32Array;
  language: string;
  audioCtx: number | 'auto' | 'full';
  translate: boolean;
  prompt: string | undefined;
  timeoutMs: number;
  /** Sends so far; a crash during the second one is final. */
  attempts: number;
  resolve: (t: Transcription) => void;
  reject: (e: Error) => void;
}

interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
  reason: string | null;
}

/** One engine process. Events from an old process never reach a newer one's requests. */
class EngineProcess {
  readonly child: ChildProcess;
  readonly ready: Promise<ReadyFrame>;
  readonly exited: Promise<ExitInfo>;
  info: ReadyFrame | null = null;
  alive = true;
  onResponse: (frame: unknown) => void = () => {};
  /** Set per request rather than chaining on `exited`, which would retain every request's PCM until the process dies. */
  onExit: (info: ExitInfo) => void = () => {};
  private readonly decoder = new FrameDecoder();
  private readonly stderrTail: string[] = [];
  private stderrPartial = '';
  private failure: string | null = null;

  constructor(binary: string, args: string[], onLog: ((line: string) => void) | undefined, startTimeoutMs: number) {
    // Passive OpenMP waits: spinning workers starve each other as soon as anything else wants
    // the cores (measured 10-40x slower per call on 2 cores). libgomp reads this at load time,
    // so it has to come from the parent.
    const env = { ...process.env, OMP_WAIT_POLICY: process.env.OMP_WAIT_POLICY ?? 'passive' };
    this.child = spawn(binary, args, { stdio: ['pipe', 'pipe', 'pipe'], windowsHide: true, env });
    let readyResolve!: (r: ReadyFrame) => void;
    let readyReject!: (e: Error) => void;
    this.ready = new Promise((res, rej) => {
      readyResolve = res;
      readyReject = rej;
    });
    // Callers may never await ready (close() during start); the rejection is still reported via exited.
    this.ready.catch(() => {});

    const startTimer = setTimeout(() => {
      this.kill(`model did not load within ${startTimeoutMs} ms`);
    }, startTimeoutMs);

    this.child.stdout?.on('data', (chunk: Buffer) => {
      let frames: unknown[];
      try {
        frames = this.decoder.push(chunk);
      } catch (err) {
        this.kill(err instanceof Error ? err.message : String(err));
        return;
      }
      for (const frame of frames) {
        if (this.info === null) {
          try {
            this.info = parseReady(frame);
          } catch (err) {
            this.kill(err instanceof Error ? err.message : String(err));
            return;
          }
          clearTimeout(startTimer);
          readyResolve(this.info);
        } else {
          this.onResponse(frame);
        }
      }
    });
    this.child.stderr?.setEncoding('utf8');
    this.child.stderr?.on('data', (text: string) => {
      const lines = (this.stderrPartial + text).split('\n');
      this.stderrPartial = lines.pop() ?? '';
      for (const line of lines) {
        this.stderrTail.push(line);
        if (this.stderrTail.length > STDERR_TAIL_LINES) this.stderrTail.shift();
        onLog?.(line);
      }
    });
    // EPIPE when the engine died with a request half written; 'close' reports the death.
    this.child.stdin?.on('error', () => {});

    this.exited = new Promise((resolve) => {
      let spawnError: string | null = null;
      const closed = (code: number | null, signal: NodeJS.Signals | null) => {
        if (!this.alive) return;
        clearTimeout(startTimer);
        this.alive = false;
        // An assertion message is often the last thing written, without a newline.
        if (this.stderrPartial) this.stderrTail.push(this.stderrPartial);
        const info: ExitInfo = { code, signal, reason: this.failure ?? spawnError };
        if (this.info === null) readyReject(new Error(this.describeExit(info)));
        resolve(info);
        this.onExit(info);
      };
      this.child.once('error', (err) => {
        spawnError = err.message;
        // A process that never started emits no 'close' of its own on every Node version.
        if (this.child.pid === undefined) closed(null, null);
      });
      // 'close' rather than 'exit': a response written just before dying is still delivered.
      this.child.once('close', closed);
    });
  }

  kill(reason: string): void {
    this.failure ??= reason;
    if (this.alive) this.child.kill('SIGKILL');
  }

  send(header: RequestHeader, pcm: Float32Array): void {
    const stdin = this.child.stdin;
    if (!stdin || stdin.destroyed) return; // dead already; 'close' settles the request
    for (const part of encodeRequest(header, pcm)) stdin.write(part);
  }

  /** Idle engines must not keep the host process alive; busy ones must. */
  setRef(on: boolean): void {
    const handles = [this.child, this.child.stdin, this.child.stdout, this.child.stderr] as unknown as ({ ref?: () => void; unref?: () => void } | null)[];
    for (const h of handles) (on ? h?.ref : h?.unref)?.call(h);
  }

  describeExit(info: ExitInfo, withStderr = true): string {
    const how = info.signal ? `was killed by ${info.signal}` : `exited with status ${info.code}`;
    const why = info.reason ? ` (${info.reason})` : '';
    if (!withStderr) return `whisper engine ${how}${why}`;
    const tail = this.stderrTail.filter((l) => l.trim()).slice(-8).join('\n  ');
    return `whisper engine ${how}${why}${tail ? `; last stderr:\n  ${tail}` : ''}`;
  }
}

export class WhisperEngine implements TranscriptionEngine {
  readonly name: string;
  private readonly modelPath: string;
  private readonly binary: string;
  private readonly threads: number;
  private readonly timeoutMs: number;
  private readonly startTimeoutMs: number;
  private readonly scaleAudioCtx: boolean;
  private readonly maxSamples: number;
  private readonly maxSeconds: number;
  private readonly language: string;
  private readonly onLog: ((line: string) => void) | undefined;

  private proc: EngineProcess | null = null;
  private starting: Promise<EngineProcess> | null = null;
  private readonly queue: Job[] = [];
  private pumping = false;
  private closed = false;
  private closing: Promise<void> | null = null;
  private nextId = 1;
  private starts = 0;
  private inFlight = false;

  constructor(opts: WhisperEngineOptions) {
    if (endianness() !== 'LE') throw new Error('WhisperEngine needs a little-endian host (PCM is sent as native float32)');
    this.modelPath = opts.modelPath;
    this.binary = opts.binaryPath ?? defaultEngineBinary();
    this.threads = opts.threads ?? Math.min(4, availableParallelism());
    this.timeoutMs = opts.timeoutMs ?? 60_000;
    this.startTimeoutMs = opts.startTimeoutMs ?? 120_000;
    this.scaleAudioCtx = opts.scaleAudioCtx ?? true;
    this.maxSeconds = opts.maxSeconds ?? 30;
    this.maxSamples = Math.floor(this.maxSeconds * SAMPLE_RATE);
    this.language = opts.language ?? 'auto';
    this.onLog = opts.onLog;
    this.name = `whisper.cpp:${basename(opts.modelPath)}`;
    // The engine would refuse these at start with a usage message; say so where the mistake is.
    if (!Number.isInteger(this.threads) || this.threads < 1 || this.threads > 256) throw new RangeError(`threads must be an integer 1..256, got ${this.threads}`);
    if (!(this.maxSeconds > 0 && this.maxSeconds <= 3600)) throw new RangeError(`maxSeconds must be in (0, 3600], got ${this.maxSeconds}`);
  }

  /** Engine processes started so far (1 after the first load; each crash or timeout adds one). */
  get processStarts(): number {
    return this.starts;
  }

  /** The running engine's pid, if any (for monitoring, and for tests that kill it). */
  get pid(): number | undefined {
    return this.proc?.alive ? this.proc.child.pid : undefined;
  }

  /** A request has been sent to the engine and not yet answered. */
  get busy(): boolean {
    return this.inFlight;
  }

  /** What the running engine reported when it became ready (load time, CPU features, model). */
  get info(): ReadyFrame | null {
    return this.proc?.info ?? null;
  }

  /** Loads the model now rather than on the first request. */
  async start(): Promise<ReadyFrame> {
    const proc = await this.ensureProcess();
    if (!this.pumping && this.queue.length === 0) proc.setRef(false);
    return proc.info as ReadyFrame;
  }

  transcribe(pcm16k: Float32Array, opts: WhisperTranscribeOptions = {}): Promise<Transcription> {
    if (this.closed) return Promise.reject(new WhisperEngineError('closed', 'whisper engine is closed'));
    if (!(pcm16k instanceof Float32Array)) {
      return Promise.reject(new WhisperEngineError('bad-audio', 'audio must be a Float32Array of 16 kHz mono samples'));
    }
    if (pcm16k.length === 0) return Promise.reject(new WhisperEngineError('bad-audio', 'audio is empty'));
    if (pcm16k.length > this.maxSamples) {
      const secs = (pcm16k.length / SAMPLE_RATE).toFixed(1);
      return Promise.reject(new WhisperEngineError('too-long', `audio is ${secs} s; this engine accepts at most ${this.maxSeconds} s per request`));
    }
    const ac = opts.audioCtx;
    if (typeof ac === 'number' && !(Number.isInteger(ac) && ac >= 0)) {
      return Promise.reject(new WhisperEngineError('bad-request', `audioCtx must be 'auto' or a non-negative integer, got ${ac}`));
    }
    return new Promise<Transcription>((resolve, reject) => {
      this.queue.push({
        pcm: pcm16k,
        language: opts.language ?? this.language,
        audioCtx: ac ?? (this.scaleAudioCtx ? 'auto' : 'full'),
        translate: opts.translate ?? false,
        prompt: opts.prompt,
        timeoutMs: opts.timeoutMs ?? this.timeoutMs,
        attempts: 0,
        resolve,
        reject,
      });
      void this.pump();
    });
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) job.reject(new WhisperEngineError('closed', 'whisper engine closed before this request ran'));
    await this.starting?.catch(() => {});
    const proc = this.proc;
    this.proc = null;
    if (!proc?.alive) return;
    // EOF is the engine's shutdown signal; it finishes the request at hand first, so a
    // request in flight is settled normally or by the kill below.
    proc.child.stdin?.end();
    const timer = setTimeout(() => proc.kill('did not exit within 5 s of close()'), 5000);
    await proc.exited;
    clearTimeout(timer);
  }

  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (!this.closed && this.queue.length > 0) {
        let proc: EngineProcess;
        try {
          proc = await this.ensureProcess();
        } catch (err) {
          // Start failures (bad model, missing binary, load crash) would fail every queued
          // request the same way; fail them now rather than respawn in a loop.
          const error = err instanceof Error ? err : new Error(String(err));
          for (const job of this.queue.splice(0)) job.reject(error);
          break;
        }
        const job = this.queue.shift();
        if (!job) break;
        proc.setRef(true);
        await this.run(proc, job);
      }
    } finally {
      this.pumping = false;
      if (this.proc?.alive && this.queue.length === 0) this.proc.setRef(false);
    }
  }

  private ensureProcess(): Promise<EngineProcess> {
    if (this.closed) return Promise.reject(new WhisperEngineError('closed', 'whisper engine is closed'));
    if (this.proc?.alive && this.proc.info) return Promise.resolve(this.proc);
    this.starting ??= this.spawnProcess().finally(() => {
      this.starting = null;
    });
    return this.starting;
  }

  private async spawnProcess(): Promise<EngineProcess> {
    try {
      await modelInfo(this.modelPath);
    } catch (err) {
      if (err instanceof ModelFileError) throw new WhisperEngineError('bad-model', err.message, { cause: err });
      throw err;
    }
    try {
      await access(this.binary, fsConstants.X_OK);
    } catch {
      throw new WhisperEngineError('no-binary', `whisper engine binary not found or not executable at ${this.binary}; build it with: node native/build-whisper.mjs`);
    }
    const args = ['--model', this.modelPath, '--threads', String(this.threads), '--max-seconds', String(this.maxSeconds)];
    const proc = new EngineProcess(this.binary, args, this.onLog, this.startTimeoutMs);
    this.starts++;
    this.proc = proc;
    try {
      await proc.ready;
    } catch (err) {
      const exit = await proc.exited;
      const message = err instanceof Error ? err.message : String(err);
      if (exit.code === EXIT_MODEL_LOAD_FAILED) throw new WhisperEngineError('bad-model', `whisper.cpp could not load ${this.modelPath}: ${message}`);
      throw new WhisperEngineError('start-failed', message);
    }
    if (this.closed) {
      proc.child.stdin?.end();
      throw new WhisperEngineError('closed', 'whisper engine is closed');
    }
    return proc;
  }

  /** Settles `job`, or puts it back at the head of the queue for its one retry. */
  private run(proc: EngineProcess, job: Job): Promise<void> {
    const nAudioCtx = proc.info?.model.nAudioCtx ?? FULL_AUDIO_CTX;
    const audioCtx = job.audioCtx === 'auto' ? scaledAudioCtx(job.pcm.length, nAudioCtx) : job.audioCtx === 'full' ? 0 : job.audioCtx;
    const id = this.nextId++;
    const header: RequestHeader = { id, language: job.language, audio_ctx: audioCtx, translate: job.translate };
    if (job.prompt !== undefined) header.prompt = job.prompt;
    if (!proc.alive) {
      this.queue.unshift(job);
      return Promise.resolve();
    }
    job.attempts++;

    return new Promise<void>((done) => {
      let settled = false;
      const finish = () => {
        settled = true;
        clearTimeout(timer);
        proc.onResponse = () => {};
        proc.onExit = () => {};
        this.inFlight = false;
        done();
      };

      const timer = setTimeout(() => {
        if (settled) return;
        // The engine cannot be interrupted mid-encode; a fresh process is the only way to
        // free it. The next request pays one model load.
        proc.kill(`request ${id} timed out`);
        job.reject(new WhisperEngineError('timeout', `whisper engine did not answer within ${job.timeoutMs} ms (${(job.pcm.length / SAMPLE_RATE).toFixed(1)} s of audio); the engine was restarted`));
        void proc.exited.then(finish);
        settled = true;
      }, job.timeoutMs);

      proc.onResponse = (raw) => {
        if (settled) return;
        let frame;
        try {
          frame = parseResponse(raw);
        } catch (err) {
          proc.kill(err instanceof Error ? err.message : String(err));
          return; // the exit below settles the job
        }
        if (frame.id !== id) {
          proc.kill(`response for request ${String(frame.id)} while waiting for ${id}`);
          return;
        }
        if (isErrorFrame(frame)) {
          job.reject(new WhisperEngineError(frame.code, `whisper engine: ${frame.error}`));
        } else {
          job.resolve({
            text: frame.text,
            segments: frame.segments.map((s) => ({ startMs: s.t0Ms, endMs: s.t1Ms, text: s.text })),
            language: frame.language,
            encodeMs: frame.encodeMs,
            totalMs: frame.totalMs,
          });
        }
        finish();
      };

      proc.onExit = (exit) => {
        if (settled) return;
        const what = proc.describeExit(exit);
        if (this.closed) {
          job.reject(new WhisperEngineError('closed', `whisper engine closed during the request: ${what}`));
        } else if (job.attempts < 2) {
          this.onLog?.(`[whisper] ${proc.describeExit(exit, false)} during request ${id}; restarting it and retrying the request once`);
          this.queue.unshift(job);
        } else {
          job.reject(new WhisperEngineError('crashed', `${what}. It failed on this utterance twice (original attempt and one retry); giving up on it`));
        }
        finish();
      };

      this.inFlight = true;
      proc.send(header, job.pcm);
    });
  }
}

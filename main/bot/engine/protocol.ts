/**
 * Wire protocol between WhisperEngine and the native `whisper-engine` process
 * (native/whisper-engine.cpp documents the same; change both together).
 *
 * Every message in either direction is one frame, integers little-endian:
 *
 *   u32 headerBytes | u32 payloadBytes | header: UTF-8 JSON object | payload: raw bytes
 *
 * engine → host, once after the model loaded: ReadyFrame (payload empty). A model that fails
 *   to load makes the process exit with status 3 before any frame, reason on stderr.
 * host → engine: RequestHeader, payload = float32 PCM samples, mono, 16 kHz, little-endian.
 * engine → host: exactly one ResultFrame or ErrorFrame per request, in request order.
 *
 * Bad requests get an ErrorFrame and the engine keeps serving. A header over 1 MiB makes the
 * engine exit with status 2 (stream out of step). EOF on stdin is a clean shutdown.
 */

export const PROTOCOL_VERSION = 1;
export const SAMPLE_RATE = 16_000;
/** The engine's own limit; larger headers mean the stream lost its framing. */
export const MAX_HEADER_BYTES = 1 << 20;
/** Engine exit status when the model could not be loaded. */
export const EXIT_MODEL_LOAD_FAILED = 3;

export interface ReadyFrame {
  ready: true;
  protocol: number;
  loadMs: number;
  whisperVersion: string;
  /** whisper.cpp's system info, e.g. "... AVX2 = 1 | F16C = 1 | FMA = 1 ...". */
  system: string;
  model: { type: string; multilingual: boolean; nVocab: number; nAudioCtx: number };
  threads: number;
  maxSamples: number;
}

export interface RequestHeader {
  id: number;
  /** ISO 639-1 code or "auto". */
  language: string;
  /** 0 = the model's full context (1500 frames = 30 s). */
  audio_ctx: number;
  translate: boolean;
  prompt?: string;
}

export interface ResultFrame {
  id: number;
  text: string;
  segments: { t0Ms: number; t1Ms: number; text: string }[];
  language: string | null;
  encodeMs: number;
  totalMs: number;
}

export type EngineErrorCode = 'bad-request' | 'too-long' | 'bad-audio' | 'failed';

export interface ErrorFrame {
  /** null when the engine could not read the request's id. */
  id: number | string | null;
  error: string;
  code: EngineErrorCode;
}

export type ResponseFrame = ResultFrame | ErrorFrame;

export function encodeRequest(header: RequestHeader, pcm: Float32Array): Buffer[] {
  const head = Buffer.from(JSON.stringify(header), 'utf8');
  const prefix = Buffer.allocUnsafe(8);
  prefix.writeUInt32LE(head.length, 0);
  prefix.writeUInt32LE(pcm.byteLength, 4);
  // A view, not a copy: the samples go to the pipe as they are (the host is little-endian,
  // checked by WhisperEngine).
  const payload = Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength);
  return [prefix, head, payload];
}

export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
}

/** Reassembles frames from stdout chunks; the engine's frames carry JSON only. */
export class FrameDecoder {
  private pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): unknown[] {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const out: unknown[] = [];
    for (;;) {
      if (this.pending.length < 8) break;
      const headerBytes = this.pending.readUInt32LE(0);
      const payloadBytes = this.pending.readUInt32LE(4);
      if (headerBytes === 0 || headerBytes > MAX_HEADER_BYTES || payloadBytes !== 0) {
        throw new ProtocolError(`bad frame from engine (header ${headerBytes} B, payload ${payloadBytes} B)`);
      }
      if (this.pending.length < 8 + headerBytes) break;
      const text = this.pending.subarray(8, 8 + headerBytes).toString('utf8');
      this.pending = this.pending.subarray(8 + headerBytes);
      try {
        out.push(JSON.parse(text));
      } catch {
        throw new ProtocolError(`engine sent a frame that is not JSON: ${text.slice(0, 200)}`);
      }
    }
    return out;
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function parseReady(v: unknown): ReadyFrame {
  if (!isRecord(v) || v.ready !== true) throw new ProtocolError(`expected the ready frame, got ${JSON.stringify(v).slice(0, 200)}`);
  if (v.protocol !== PROTOCOL_VERSION) {
    throw new ProtocolError(`engine speaks protocol ${String(v.protocol)}, this host ${PROTOCOL_VERSION}: rebuild it (node native/build-whisper.mjs)`);
  }
  const model = v.model;
  if (!isRecord(model) || typeof model.nAudioCtx !== 'number' || typeof model.multilingual !== 'boolean') {
    throw new ProtocolError('ready frame without model information');
  }
  return v as unknown as ReadyFrame;
}

export function parseResponse(v: unknown): ResponseFrame {
  if (!isRecord(v) || !('id' in v)) throw new ProtocolError(`response without id: ${JSON.stringify(v).slice(0, 200)}`);
  if (typeof v.error === 'string') return v as unknown as ErrorFrame;
  if (typeof v.text !== 'string' || !Array.isArray(v.segments) || typeof v.encodeMs !== 'number' || typeof v.totalMs !== 'number') {
    throw new ProtocolError(`malformed response: ${JSON.stringify(v).slice(0, 200)}`);
  }
  return v as unknown as ResultFrame;
}

export function isErrorFrame(f: ResponseFrame): f is ErrorFrame {
  return 'error' in f;
}

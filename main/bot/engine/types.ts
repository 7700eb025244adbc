/** What the transcription bot needs from a speech-to-text engine, whichever one it is. */

export interface TranscriptSegment {
  /** Milliseconds from the start of the clip. */
  startMs: number;
  endMs: number;
  text: string;
}

export interface Transcription {
  text: string;
  segments: TranscriptSegment[];
  /** Language used or detected (ISO 639-1, e.g. "en"); null when the engine did not say. */
  language: string | null;
  /** Time spent in the encoder, the part that `audioCtx` scales. */
  encodeMs: number;
  /** Engine-side time for the whole call (mel, encode, decode), excluding queueing and IPC. */
  totalMs: number;
}

export interface TranscribeOptions {
  /** ISO 639-1 code, or "auto" to detect. English-only models accept only "en"/"auto". */
  language?: string;
  /**
   * Encoder context: 'auto' scales it to the clip length (short clips encode much faster),
   * a number sets it (0 = the model's full 30 s context).
   */
  audioCtx?: number | 'auto';
}

export interface TranscriptionEngine {
  /** `pcm16k`: mono float32 samples at 16 kHz, nominally in [-1, 1]. */
  transcribe(pcm16k: Float32Array, opts: TranscribeOptions): Promise<Transcription>;
  close(): Promise<void>;
  readonly name: string;
}

import { open } from 'node:fs/promises';

/** whisper.cpp's ggml model magic, the bytes "lmgg" read as a little-endian u32. */
export const GGML_MAGIC = 0x67676d6c;
/** Header, mel filters and vocabulary alone take more than this (the empty test model: 573 KiB). */
const MIN_MODEL_BYTES = 64 * 1024;
/** large-v3 in f32 is ~6 GiB. */
const MAX_MODEL_BYTES = 16 * 1024 ** 3;

export interface ModelInfo {
  path: string;
  sizeBytes: number;
  /** tiny/base/small/medium/large, from the encoder depth; "unknown" for other shapes. */
  type: string;
  multilingual: boolean;
  nVocab: number;
  nAudioCtx: number;
  nAudioState: number;
  nAudioLayer: number;
  nTextLayer: number;
  nMels: number;
  /** 0 f32, 1 f16, others quantized (whisper.cpp's ggml_ftype, plus 1000 × quantization version). */
  ftype: number;
}

export class ModelFileError extends Error {
  override readonly name = 'ModelFileError';
  constructor(
    readonly path: string,
    reason: string,
  ) {
    super(`not a usable whisper.cpp model: ${path}: ${reason}`);
  }
}

const TYPES: Record<number, string> = { 4: 'tiny', 6: 'base', 12: 'small', 24: 'medium', 32: 'large' };

function sniff(head: Buffer): string | null {
  const ascii = head.subarray(0, 64).toString('latin1');
  if (ascii.startsWith('GGUF')) return 'it is a GGUF file (llama.cpp format); whisper.cpp needs a ggml .bin model (ggml-*.bin)';
  if (ascii.startsWith('PK')) return 'it is a zip archive (a PyTorch checkpoint?); convert it with whisper.cpp models/convert-pt-to-ggml.py';
  if (ascii.startsWith('version https://git-lfs')) return 'it is a Git LFS pointer, not the model itself';
  if (/^\s*<(!doctype|html)/i.test(ascii)) return 'it is an HTML page (a failed download?)';
  return null;
}

/** Reads and checks a ggml whisper model's header without loading it. Throws ModelFileError. */
export async function modelInfo(path: string): Promise<ModelInfo> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ModelFileError(path, code === 'ENOENT' ? 'file does not exist' : `cannot open it (${code ?? String(err)})`);
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) throw new ModelFileError(path, 'not a regular file');
    const head = Buffer.alloc(48);
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    const sniffed = sniff(head.subarray(0, bytesRead));
    if (sniffed) throw new ModelFileError(path, sniffed);
    if (bytesRead < head.length) throw new ModelFileError(path, `only ${stat.size} bytes long`);
    const magic = head.readUInt32LE(0);
    if (magic !== GGML_MAGIC) {
      throw new ModelFileError(path, `bad magic 0x${magic.toString(16).padStart(8, '0')} (expected 0x${GGML_MAGIC.toString(16)}, "lmgg")`);
    }
    const i = (n: number) => head.readInt32LE(4 + 4 * n);
    const info: ModelInfo = {
      path,
      sizeBytes: stat.size,
      nVocab: i(0),
      nAudioCtx: i(1),
      nAudioState: i(2),
      nAudioLayer: i(4),
      nTextLayer: i(8),
      nMels: i(9),
      ftype: i(10),
      type: TYPES[i(4)] ?? 'unknown',
      multilingual: i(0) >= 51865,
    };
    const insane = [
      info.nVocab < 1000 || info.nVocab > 1_000_000 ? `n_vocab ${info.nVocab}` : '',
      info.nAudioCtx < 1 || info.nAudioCtx > 100_000 ? `n_audio_ctx ${info.nAudioCtx}` : '',
      info.nAudioState < 1 || info.nAudioState > 65_536 ? `n_audio_state ${info.nAudioState}` : '',
      info.nAudioLayer < 1 || info.nAudioLayer > 1024 ? `n_audio_layer ${info.nAudioLayer}` : '',
      info.nTextLayer < 1 || info.nTextLayer > 1024 ? `n_text_layer ${info.nTextLayer}` : '',
      info.nMels < 1 || info.nMels > 1024 ? `n_mels ${info.nMels}` : '',
      // ftype = ggml_ftype (under 64) + 1000 × quantization version.
      info.ftype < 0 || info.ftype % 1000 >= 64 || info.ftype > 100_000 ? `ftype ${info.ftype}` : '',
    ].filter(Boolean);
    if (insane.length) throw new ModelFileError(path, `implausible header (${insane.join(', ')}); the file is corrupt or not a whisper model`);
    if (stat.size < MIN_MODEL_BYTES) throw new ModelFileError(path, `only ${stat.size} bytes long: truncated`);
    if (stat.size > MAX_MODEL_BYTES) throw new ModelFileError(path, `${stat.size} bytes is larger than any whisper model`);
    return info;
  } finally {
    await handle.close();
  }
}

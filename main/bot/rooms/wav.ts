/**
 * WAV (RIFF) reading and writing for replay and evidence clips. Reading accepts PCM 8/16/24/32
 * bit and IEEE float 32/64, plain or WAVE_FORMAT_EXTENSIBLE, and refuses headers that lie in
 * ways that matter (impossible rates, channel counts, block sizes); a data chunk that claims
 * more bytes than the file holds (streamed WAVs write 0xFFFFFFFF) is clamped to what is there.
 */

export interface Wav {
  sampleRate: number;
  channels: number;
  /** Interleaved samples, ±1. */
  samples: Float32Array;
  /** Notes about tolerated oddities (e.g. a clamped data chunk). */
  warnings: string[];
}

export class WavError extends Error {
  override name = 'WavError';
}

const MAX_RATE = 384_000;
const MAX_CHANNELS = 32;

export function parseWav(buf: Uint8Array, what = 'WAV'): Wav {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (b.byteLength < 12 || b.toString('latin1', 0, 4) !== 'RIFF' || b.toString('latin1', 8, 12) !== 'WAVE') {
    throw new WavError(`${what}: not a RIFF/WAVE file`);
  }
  let pos = 12;
  let fmt: { format: number; channels: number; rate: number; blockAlign: number; bits: number } | null = null;
  const warnings: string[] = [];
  while (pos + 8 <= b.byteLength) {
    const id = b.toString('latin1', pos, pos + 4);
    let size = b.readUInt32LE(pos + 4);
    const body = pos + 8;
    if (id === 'fmt ') {
      if (size < 16 || body + 16 > b.byteLength) throw new WavError(`${what}: fmt chunk is ${size} bytes, too short`);
      let format = b.readUInt16LE(body);
      const channels = b.readUInt16LE(body + 2);
      const rate = b.readUInt32LE(body + 4);
      const blockAlign = b.readUInt16LE(body + 12);
      const bits = b.readUInt16LE(body + 14);
      if (format === 0xfffe) {
        if (size < 40 || body + 40 > b.byteLength) throw new WavError(`${what}: WAVE_FORMAT_EXTENSIBLE without its extension`);
        format = b.readUInt16LE(body + 24); // first two bytes of the sub-format GUID
      }
      if (format !== 1 && format !== 3) throw new WavError(`${what}: unsupported sample format ${format} (PCM and IEEE float only)`);
      if (channels < 1 || channels > MAX_CHANNELS) throw new WavError(`${what}: ${channels} channels is not plausible`);
      if (rate < 1000 || rate > MAX_RATE) throw new WavError(`${what}: sample rate ${rate} Hz is not plausible`);
      const valid = format === 1 ? [8, 16, 24, 32] : [32, 64];
      if (!valid.includes(bits)) throw new WavError(`${what}: ${bits}-bit ${format === 1 ? 'PCM' : 'float'} is not supported`);
      if (blockAlign !== (bits / 8) * channels) throw new WavError(`${what}: block align ${blockAlign} does not match ${channels} × ${bits} bit`);
      fmt = { format, channels, rate, blockAlign, bits };
    } else if (id === 'data') {
      if (!fmt) throw new WavError(`${what}: data chunk before the fmt chunk`);
      if (body + size > b.byteLength) {
        warnings.push(`data chunk claims ${size} bytes, the file holds ${b.byteLength - body}; clamped`);
        size = b.byteLength - body;
      }
      const frames = Math.floor(size / fmt.blockAlign);
      return { sampleRate: fmt.rate, channels: fmt.channels, samples: decode(b, body, frames * fmt.channels, fmt.format, fmt.bits), warnings };
    }
    pos = body + size + (size & 1); // chunks are word-aligned
  }
  throw new WavError(`${what}: no ${fmt ? 'data' : 'fmt'} chunk`);
}

function decode(b: Buffer, at: number, n: number, format: number, bits: number): Float32Array {
  const out = new Float32Array(n);
  const step = bits / 8;
  for (let i = 0, p = at; i < n; i++, p += step) {
    let v: number;
    if (format === 3) v = bits === 32 ? b.readFloatLE(p) : b.readDoubleLE(p);
    else if (bits === 16) v = b.readInt16LE(p) / 32768;
    else if (bits === 8) v = (b[p]! - 128) / 128;
    else if (bits === 24) v = b.readIntLE(p, 3) / 8388608;
    else v = b.readInt32LE(p) / 2147483648;
    // NaN/Inf in a float file become silence; loud values are clamped.
    out[i] = Number.isFinite(v) ? Math.max(-1, Math.min(1, v)) : 0;
  }
  return out;
}

/** 16-bit PCM WAV of interleaved ±1 samples. */
export function encodeWav(samples: Float32Array, sampleRate: number, channels = 1): Buffer {
  const data = samples.length * 2;
  const b = Buffer.alloc(44 + data);
  b.write('RIFF', 0, 'latin1');
  b.writeUInt32LE(36 + data, 4);
  b.write('WAVEfmt ', 8, 'latin1');
  b.writeUInt32LE(16, 16);
  b.writeUInt16LE(1, 20);
  b.writeUInt16LE(channels, 22);
  b.writeUInt32LE(sampleRate, 24);
  b.writeUInt32LE(sampleRate * channels * 2, 28);
  b.writeUInt16LE(channels * 2, 32);
  b.writeUInt16LE(16, 34);
  b.write('data', 36, 'latin1');
  b.writeUInt32LE(data, 40);
  for (let i = 0; i < samples.length; i++) {
    const v = Math.max(-1, Math.min(1, samples[i]!));
    b.writeInt16LE(Math.round(v < 0 ? v * 32768 : v * 32767), 44 + i * 2);
  }
  return b;
}

/**
 * Wire format (byte-compatible with the original Python middleware):
 *
 *   frame 0   topic, UTF-8
 *   frame 1   header, 24 bytes: big-endian u64 fingerprint, u64 timestamp (ns since the Unix
 *             epoch), u64 sequence
 *   frame 2   metadata: a msgpack LIST of the field values in declaration order
 *   frame 3+i out-of-band buffer i
 *
 * A typed-array value is replaced in the metadata by the descriptor map
 *   {"__cortex_oob__": "numpy", "buffer": i, "dtype": "<f4", "shape": [n, ...]}
 * and its raw bytes (C order, little-endian) travel as frame 3+i. Buffers are numbered in
 * field order. OOB is used for 'array' fields and for typed-array values of 'any' fields;
 * 'bytes' fields travel inline as msgpack bin (as Python `bytes` do).
 *
 * Encoding is zero-copy for arrays (the frame is a Buffer over the caller's memory: do not
 * mutate an array after publishing it). 'float' fields are always written as float64, even
 * when integral, so Python receives a float.
 *
 * Decoding never throws on bad input: it returns `{ ok: false, reason, detail }`. A received
 * array is a view over its frame, unless the frame's byteOffset is not a multiple of the
 * element size (typed arrays require alignment), in which case it is copied and counted
 * (`copies` in the result). Host byte order is assumed little-endian (all supported platforms).
 */
import { decoder, encoder, normalizeInts } from './msgpack.js';
import type { ArrayValue, FieldKind, MessageType, NdArray, TypedArray } from './types.js';

export const HEADER_BYTES = 24;
export const OOB_MARKER = '__cortex_oob__';
export const OOB_KIND = 'numpy';
/** Default limit on the total size of all frames of one received message. */
export const DEFAULT_MAX_MESSAGE_BYTES = 256 * 1024 * 1024;
const MAX_NDIM = 32;

export interface MessageHeader {
  fingerprint: bigint;
  /** Wall-clock nanoseconds since the Unix epoch at publish time. */
  timestampNs: bigint;
  sequence: bigint;
}

export interface OobDescriptor {
  [OOB_MARKER]: typeof OOB_KIND;
  buffer: number;
  dtype: string;
  shape: number[];
}

interface TypedArrayCtor {
  new (length: number): TypedArray;
  new (buffer: ArrayBufferLike, byteOffset: number, length: number): TypedArray;
  readonly BYTES_PER_ELEMENT: number;
}

const ctor = (c: unknown): TypedArrayCtor => c as TypedArrayCtor;

/** numpy dtype string → typed-array constructor. One-byte types accept any byte-order char. */
const DTYPES: ReadonlyMap<string, TypedArrayCtor> = new Map([
  ['<f4', ctor(Float32Array)],
  ['<f8', ctor(Float64Array)],
  ['|i1', ctor(Int8Array)],
  ['<i1', ctor(Int8Array)],
  ['>i1', ctor(Int8Array)],
  ['|u1', ctor(Uint8Array)],
  ['<u1', ctor(Uint8Array)],
  ['>u1', ctor(Uint8Array)],
  ['<i2', ctor(Int16Array)],
  ['<u2', ctor(Uint16Array)],
  ['<i4', ctor(Int32Array)],
  ['<u4', ctor(Uint32Array)],
  ['<i8', ctor(BigInt64Array)],
  ['<u8', ctor(BigUint64Array)],
]);

const DTYPE_BY_CTOR: ReadonlyMap<unknown, string> = new Map<unknown, string>([
  [Float32Array, '<f4'],
  [Float64Array, '<f8'],
  [Int8Array, '|i1'],
  [Uint8Array, '|u1'],
  [Uint8ClampedArray, '|u1'],
  [Int16Array, '<i2'],
  [Uint16Array, '<u2'],
  [Int32Array, '<i4'],
  [Uint32Array, '<u4'],
  [BigInt64Array, '<i8'],
  [BigUint64Array, '<u8'],
]);

export function isTypedArray(v: unknown): v is TypedArray {
  return ArrayBuffer.isView(v) && !(v instanceof DataView);
}

export function isNdArray(v: unknown): v is NdArray {
  return (
    typeof v === 'object' && v !== null && isTypedArray((v as NdArray).data) && Array.isArray((v as NdArray).shape)
  );
}

/** numpy dtype string of a typed array (Buffer and other Uint8Array subclasses → '|u1'). */
export function dtypeOf(a: TypedArray): string {
  const d = DTYPE_BY_CTOR.get(a.constructor);
  if (d !== undefined) return d;
  if (a instanceof Uint8Array) return '|u1';
  throw new TypeError(`unsupported typed array: ${a.constructor.name}`);
}

/** The typed array inside an ArrayValue. */
export function arrayData(v: ArrayValue): TypedArray {
  return isTypedArray(v) ? v : v.data;
}

/** The shape of an ArrayValue ([length] for a plain typed array). */
export function arrayShape(v: ArrayValue): number[] {
  return isTypedArray(v) ? [v.length] : v.shape;
}

// ---------------------------------------------------------------------------------------
// Encoding

/** Thrown by {@link encodeFrames} when a value does not match its type (a programming error). */
export class BusEncodeError extends TypeError {
  override name = 'BusEncodeError';
}

const U64 = (v: bigint): bigint => BigInt.asUintN(64, v);

const FINGERPRINT_BYTES = new WeakMap<MessageType<unknown>, Buffer>();

/** The type's fingerprint as 8 big-endian bytes, computed once per type. */
function fingerprintBytes(type: MessageType<unknown>): Buffer {
  let b = FINGERPRINT_BYTES.get(type);
  if (b === undefined) {
    b = Buffer.alloc(8);
    b.writeBigUInt64BE(U64(type.fingerprint), 0);
    FINGERPRINT_BYTES.set(type, b);
  }
  return b;
}

export function encodeHeader(fingerprint: bigint, timestampNs: bigint, sequence: bigint): Buffer {
  const h = Buffer.allocUnsafe(HEADER_BYTES);
  h.writeBigUInt64BE(U64(fingerprint), 0);
  h.writeBigUInt64BE(U64(timestampNs), 8);
  h.writeBigUInt64BE(U64(sequence), 16);
  return h;
}

function encodeOob(v: unknown, buffers: Buffer[], where: string): OobDescriptor {
  let data: TypedArray;
  let shape: number[];
  if (isTypedArray(v)) {
    data = v;
    shape = [v.length];
  } else if (isNdArray(v)) {
    data = v.data;
    shape = v.shape.slice();
    let n = 1;
    for (const d of shape) {
      if (!Number.isSafeInteger(d) || d < 0) throw new BusEncodeError(`${where}: invalid shape ${JSON.stringify(v.shape)}`);
      n *= d;
    }
    if (n !== data.length) throw new BusEncodeError(`${where}: shape ${JSON.stringify(shape)} does not match length ${data.length}`);
  } else {
    throw new BusEncodeError(`${where}: expected a typed array or {data, shape}`);
  }
  const dtype = dtypeOf(data);
  const buffer = buffers.length;
  buffers.push(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  return { [OOB_MARKER]: OOB_KIND, buffer, dtype, shape };
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null) return false;
  const p: unknown = Object.getPrototypeOf(v);
  return p === Object.prototype || p === null;
}

function checkKind(kind: FieldKind, v: unknown, where: string): void {
  let ok: boolean;
  switch (kind) {
    case 'str':
      ok = typeof v === 'string';
      break;
    case 'int':
      ok =
        typeof v === 'bigint'
          ? v >= -(2n ** 63n) && v < 2n ** 64n
          : typeof v === 'number' && Number.isInteger(v) && v >= -(2 ** 63) && v < 2 ** 64;
      break;
    case 'float':
      ok = typeof v === 'number';
      break;
    case 'bool':
      ok = typeof v === 'boolean';
      break;
    case 'bytes':
      ok = v instanceof Uint8Array;
      break;
    case 'dict':
      ok = isPlainObject(v) || v instanceof Map;
      break;
    case 'list':
      ok = Array.isArray(v);
      break;
    default:
      ok = true;
  }
  if (!ok) throw new BusEncodeError(`${where}: expected ${kind}, got ${describe(v)}`);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (isTypedArray(v)) return v.constructor.name;
  return typeof v;
}

/**
 * Hand-rolled msgpack writer for the metadata list: scalars, strings, bins and OOB descriptors
 * are written directly (node's native UTF-8 writer is several times faster than
 * @msgpack/msgpack's for strings); dict/list/any values go through @msgpack/msgpack. Same
 * output as a standard msgpack packer (smallest int/str/bin forms, float64 for 'float').
 */
class MetaWriter {
  private buf = Buffer.allocUnsafeSlow(64 * 1024);
  private pos = 0;

  reset(): void {
    this.pos = 0;
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafeSlow(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  u8(v: number): void {
    this.ensure(1);
    this.buf[this.pos++] = v;
  }

  listHeader(n: number): void {
    this.ensure(5);
    if (n < 16) this.buf[this.pos++] = 0x90 | n;
    else if (n < 0x10000) {
      this.buf[this.pos++] = 0xdc;
      this.pos = this.buf.writeUInt16BE(n, this.pos);
    } else {
      this.buf[this.pos++] = 0xdd;
      this.pos = this.buf.writeUInt32BE(n, this.pos);
    }
  }

  mapHeader(n: number): void {
    this.u8(0x80 | n); // n < 16 only (descriptors)
  }

  str(v: string): void {
    const n = Buffer.byteLength(v, 'utf8');
    this.ensure(n + 5);
    const b = this.buf;
    if (n < 32) b[this.pos++] = 0xa0 | n;
    else if (n < 0x100) {
      b[this.pos++] = 0xd9;
      b[this.pos++] = n;
    } else if (n < 0x10000) {
      b[this.pos++] = 0xda;
      this.pos = b.writeUInt16BE(n, this.pos);
    } else {
      b[this.pos++] = 0xdb;
      this.pos = b.writeUInt32BE(n, this.pos);
    }
    this.pos += b.write(v, this.pos, n, 'utf8');
  }

  bin(v: Uint8Array): void {
    const n = v.byteLength;
    this.ensure(n + 5);
    const b = this.buf;
    if (n < 0x100) {
      b[this.pos++] = 0xc4;
      b[this.pos++] = n;
    } else if (n < 0x10000) {
      b[this.pos++] = 0xc5;
      this.pos = b.writeUInt16BE(n, this.pos);
    } else {
      b[this.pos++] = 0xc6;
      this.pos = b.writeUInt32BE(n, this.pos);
    }
    b.set(v, this.pos);
    this.pos += n;
  }

  f64(v: number): void {
    this.ensure(9);
    this.buf[this.pos++] = 0xcb;
    this.pos = this.buf.writeDoubleBE(v, this.pos);
  }

  int(v: number | bigint): void {
    this.ensure(9);
    const b = this.buf;
    if (typeof v === 'bigint') {
      if (v >= 0n) {
        b[this.pos++] = 0xcf;
        this.pos = b.writeBigUInt64BE(BigInt.asUintN(64, v), this.pos);
      } else {
        b[this.pos++] = 0xd3;
        this.pos = b.writeBigInt64BE(BigInt.asIntN(64, v), this.pos);
      }
    } else if (v >= 0) {
      if (v < 0x80) b[this.pos++] = v;
      else if (v < 0x100) {
        b[this.pos++] = 0xcc;
        b[this.pos++] = v;
      } else if (v < 0x10000) {
        b[this.pos++] = 0xcd;
        this.pos = b.writeUInt16BE(v, this.pos);
      } else if (v < 0x100000000) {
        b[this.pos++] = 0xce;
        this.pos = b.writeUInt32BE(v, this.pos);
      } else {
        b[this.pos++] = 0xcf;
        this.pos = b.writeBigUInt64BE(BigInt(v), this.pos);
      }
    } else if (v >= -32) b[this.pos++] = v & 0xff;
    else if (v >= -0x80) {
      b[this.pos++] = 0xd0;
      this.pos = b.writeInt8(v, this.pos);
    } else if (v >= -0x8000) {
      b[this.pos++] = 0xd1;
      this.pos = b.writeInt16BE(v, this.pos);
    } else if (v >= -0x80000000) {
      b[this.pos++] = 0xd2;
      this.pos = b.writeInt32BE(v, this.pos);
    } else {
      b[this.pos++] = 0xd3;
      this.pos = b.writeBigInt64BE(BigInt(v), this.pos);
    }
  }

  raw(v: Uint8Array): void {
    this.ensure(v.byteLength);
    this.buf.set(v, this.pos);
    this.pos += v.byteLength;
  }

  oob(d: OobDescriptor): void {
    this.mapHeader(4);
    this.str(OOB_MARKER);
    this.str(d[OOB_MARKER]);
    this.str('buffer');
    this.int(d.buffer);
    this.str('dtype');
    this.str(d.dtype);
    this.str('shape');
    this.listHeader(d.shape.length);
    for (const x of d.shape) this.int(x);
  }

  /** The bytes written, as a view of the scratch buffer (valid until the next reset). */
  written(): Buffer {
    return this.buf.subarray(0, this.pos);
  }
}

/**
 * Frames handed to zeromq.js must stay untouched until sent, so each message needs its own
 * memory. Carving header and metadata out of a shared slab costs a third of a pooled
 * Buffer.allocUnsafe + copy per message (measured: ~190 vs ~450 ns for 1 KB); a slab is
 * freed by GC once every frame cut from it is gone.
 */
const SLAB_BYTES = 256 * 1024;
let slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
// Buffer.writeBigUInt64BE is plain JS BigInt arithmetic; DataView's is a V8 intrinsic (~5× faster).
let slabView = new DataView(slab.buffer, slab.byteOffset, SLAB_BYTES);
let slabPos = 0;

function carve(n: number): Buffer {
  if (n > SLAB_BYTES / 4) return Buffer.allocUnsafeSlow(n);
  if (slabPos + n > SLAB_BYTES) {
    slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
    slabView = new DataView(slab.buffer, slab.byteOffset, SLAB_BYTES);
    slabPos = 0;
  }
  const out = slab.subarray(slabPos, slabPos + n);
  slabPos += (n + 7) & ~7; // keep every frame 8-byte aligned
  return out;
}

/** A header frame carved from the slab (24 ≤ SLAB_BYTES / 4, so always from the slab). */
function carveHeader(fingerprint: Uint8Array, timestampNs: bigint, sequence: bigint): Buffer {
  const h = carve(HEADER_BYTES);
  const at = h.byteOffset - slab.byteOffset;
  h.set(fingerprint, 0);
  slabView.setBigUint64(at + 8, timestampNs);
  slabView.setBigUint64(at + 16, sequence);
  return h;
}

const writer = new MetaWriter();

/** Encode the metadata into the shared writer and collect out-of-band buffers. */
function writeMetadata<T>(type: MessageType<T>, value: T, buffers: Buffer[]): MetaWriter {
  const fields = type.fields;
  if (typeof value !== 'object' || value === null) throw new BusEncodeError(`${type.name}: expected an object`);
  const rec = value as Record<string, unknown>;
  const w = writer;
  w.reset();
  w.listHeader(fields.length);
  for (let i = 0; i < fields.length; i++) {
    const [name, kind] = fields[i]!;
    const v = rec[name];
    if (kind === 'array' || (kind === 'any' && (isTypedArray(v) || isNdArray(v)))) {
      w.oob(encodeOob(v, buffers, `${type.name}.${name}`));
      continue;
    }
    checkKind(kind, v, `${type.name}.${name}`);
    switch (kind) {
      case 'str':
        w.str(v as string);
        break;
      case 'int':
        w.int(v as number | bigint);
        break;
      case 'float':
        w.f64(v as number);
        break;
      case 'bool':
        w.u8(v ? 0xc3 : 0xc2);
        break;
      case 'bytes':
        w.bin(v as Uint8Array);
        break;
      default:
        w.raw(encoder.encode(v));
    }
  }
  return w;
}

/**
 * Encode one message into its frames. Arrays are not copied. Throws {@link BusEncodeError}
 * if `value` does not match `type`.
 */
export function encodeFrames<T>(
  topic: string | Uint8Array,
  type: MessageType<T>,
  value: T,
  sequence: bigint,
  timestampNs: bigint,
): Buffer[] {
  const buffers: Buffer[] = [];
  const meta = writeMetadata(type, value, buffers).written();
  // A Buffer topic is reused as is (zeromq.js copies frames ≤ 128 B and never writes to larger ones).
  const t = typeof topic === 'string' ? Buffer.from(topic, 'utf8') : Buffer.isBuffer(topic) ? topic : Buffer.from(topic.buffer, topic.byteOffset, topic.byteLength);
  // setBigUint64 wraps modulo 2^64 itself, like U64()
  const header = carveHeader(fingerprintBytes(type), timestampNs, sequence);
  const metadata = carve(meta.byteLength);
  metadata.set(meta, 0);
  const out = [t, header, metadata];
  for (let i = 0; i < buffers.length; i++) out.push(buffers[i]!);
  return out;
}

const hrBase = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();
/** Wall-clock nanoseconds since the epoch, monotonic within this process. */
export function nowNs(): bigint {
  return hrBase + process.hrtime.bigint();
}

// ---------------------------------------------------------------------------------------
// Decoding

export type DecodeFailureReason =
  | 'too_few_frames'
  | 'oversized'
  | 'bad_topic'
  | 'topic_mismatch'
  | 'bad_header'
  | 'fingerprint_mismatch'
  | 'bad_metadata'
  | 'field_count'
  | 'bad_field'
  | 'bad_oob'
  | 'unknown_dtype'
  | 'bad_shape'
  | 'size_mismatch'
  | 'buffer_index'
  | 'unreferenced_frames';

export type DecodeResult<T> =
  | { ok: true; topic: string; header: MessageHeader; value: T; copies: number }
  | { ok: false; reason: DecodeFailureReason; detail: string; topic?: string; header?: MessageHeader };

export interface DecodeOptions {
  /** Total size limit over all frames (default {@link DEFAULT_MAX_MESSAGE_BYTES}). */
  maxMessageBytes?: number;
  /** If given, frame 0 must equal this topic. */
  expectedTopic?: string;
  /** The caller already checked that frame 0 is exactly this topic (skips UTF-8 decoding). */
  knownTopic?: string;
}

type Fail = Extract<DecodeResult<never>, { ok: false }>;
const fail = (reason: DecodeFailureReason, detail: string, extra?: Partial<Fail>): Fail => ({ ok: false, reason, detail, ...extra });

const utf8 = new TextDecoder('utf-8', { fatal: true });

export function decodeHeader(frame: Uint8Array): MessageHeader | null {
  if (frame.byteLength !== HEADER_BYTES) return null;
  if (Buffer.isBuffer(frame)) return { fingerprint: frame.readBigUInt64BE(0), timestampNs: frame.readBigUInt64BE(8), sequence: frame.readBigUInt64BE(16) };
  const dv = new DataView(frame.buffer, frame.byteOffset, HEADER_BYTES);
  return { fingerprint: dv.getBigUint64(0), timestampNs: dv.getBigUint64(8), sequence: dv.getBigUint64(16) };
}

const NO_BUFFERS = new Uint8Array(0);

function fingerprintMatches(header: Uint8Array, type: MessageType<unknown>): boolean {
  const fp = fingerprintBytes(type);
  for (let i = 0; i < 8; i++) if (header[i] !== fp[i]) return false;
  return true;
}

/** Header whose fingerprint bytes are already known to equal `fingerprint`. */
function decodeHeaderOf(frame: Uint8Array, fingerprint: bigint): MessageHeader {
  if (Buffer.isBuffer(frame)) return { fingerprint, timestampNs: frame.readBigUInt64BE(8), sequence: frame.readBigUInt64BE(16) };
  const dv = new DataView(frame.buffer, frame.byteOffset, HEADER_BYTES);
  return { fingerprint, timestampNs: dv.getBigUint64(8), sequence: dv.getBigUint64(16) };
}

interface OobState {
  frames: readonly Uint8Array[];
  used: Uint8Array;
  copies: number;
}

function decodeOob(v: unknown, st: OobState, where: string): { ok: true; value: ArrayValue } | Fail {
  if (!isPlainObject(v) || !(OOB_MARKER in v)) return fail('bad_field', `${where}: expected an out-of-band array descriptor, got ${describe(v)}`);
  if (v[OOB_MARKER] !== OOB_KIND) return fail('bad_oob', `${where}: unknown out-of-band descriptor kind ${JSON.stringify(v[OOB_MARKER])}`);
  const nbuf = st.frames.length - 3;
  const idx: unknown = v.buffer;
  const bufIdx = typeof idx === 'bigint' ? Number(idx) : idx;
  if (typeof bufIdx !== 'number' || !Number.isInteger(bufIdx)) return fail('bad_oob', `${where}: descriptor buffer index is not an integer`);
  if (bufIdx < 0 || bufIdx >= nbuf) return fail('buffer_index', `${where}: buffer index ${bufIdx} out of range (message has ${nbuf} buffer frame(s))`);
  if (st.used[bufIdx]) return fail('bad_oob', `${where}: buffer ${bufIdx} referenced twice`);
  st.used[bufIdx] = 1;
  const dtype: unknown = v.dtype;
  if (typeof dtype !== 'string') return fail('bad_oob', `${where}: descriptor dtype is not a string`);
  const Ctor = DTYPES.get(dtype);
  if (Ctor === undefined) return fail('unknown_dtype', `${where}: unsupported dtype ${JSON.stringify(dtype)}`);
  const shapeRaw: unknown = v.shape;
  if (!Array.isArray(shapeRaw) || shapeRaw.length > MAX_NDIM) return fail('bad_shape', `${where}: descriptor shape is not a list of ≤ ${MAX_NDIM} dims`);
  const frame = st.frames[3 + bufIdx]!;
  const bpe = Ctor.BYTES_PER_ELEMENT;
  const shape: number[] = [];
  let count = 1;
  for (const d0 of shapeRaw) {
    const d = typeof d0 === 'bigint' && d0 >= 0n && d0 <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(d0) : d0;
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) return fail('bad_shape', `${where}: invalid shape ${safeJson(shapeRaw)}`);
    shape.push(d);
    count *= d;
    if (count * bpe > frame.byteLength) break; // already too big; reported below
  }
  if (shape.length === shapeRaw.length && count * bpe === frame.byteLength) {
    let data: TypedArray;
    if (frame.byteOffset % bpe === 0) {
      data = new Ctor(frame.buffer, frame.byteOffset, count);
    } else {
      data = new Ctor(count);
      new Uint8Array(data.buffer).set(frame);
      st.copies++;
    }
    return { ok: true, value: shape.length === 1 ? data : { data, shape } };
  }
  return fail(
    'size_mismatch',
    `${where}: dtype ${dtype} × shape ${safeJson(shapeRaw)} needs ${count * bpe} bytes, buffer ${bufIdx} has ${frame.byteLength}`,
  );
}

function safeJson(v: unknown): string {
  try {
    return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x)) ?? String(v);
  } catch {
    return '?';
  }
}

const SCALAR_KINDS: ReadonlySet<FieldKind> = new Set(['str', 'int', 'float', 'bool', 'bytes']);

/** Per type: its "Type.field" labels (for error details) and whether every field is a scalar. */
interface TypePlan {
  where: string[];
  scalarOnly: boolean;
}
const PLANS = new WeakMap<MessageType<unknown>, TypePlan>();

function planOf(type: MessageType<unknown>): TypePlan {
  let p = PLANS.get(type);
  if (p === undefined) {
    p = { where: type.fields.map(([name]) => `${type.name}.${name}`), scalarOnly: type.fields.every(([, k]) => SCALAR_KINDS.has(k)) };
    PLANS.set(type, p);
  }
  return p;
}

const NOT_SCALAR = Symbol('not scalar');
const MAX_SAFE_BIG = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * Reads a msgpack list of scalars (nil, bool, int, float, str, bin) without the generic
 * decoder: for the common all-scalar message types this halves the receive cost. Returns
 * null when the bytes hold anything else (maps, nested lists, ext, truncation) — the caller
 * then falls back to the generic decoder, which produces the real error.
 */
function readScalarList(b: Buffer): unknown[] | null {
  let pos = 0;
  const end = b.byteLength;
  if (end < 1) return null;
  const h = b[pos++]!;
  let n: number;
  if ((h & 0xf0) === 0x90) n = h & 0x0f;
  else if (h === 0xdc && end >= 3) {
    n = b.readUInt16BE(1);
    pos = 3;
  } else return null;
  const out = new Array<unknown>(n);
  for (let i = 0; i < n; i++) {
    if (pos >= end) return null;
    const t = b[pos++]!;
    let v: unknown = NOT_SCALAR;
    let len = -1;
    if (t < 0x80) v = t;
    else if (t >= 0xe0) v = t - 0x100;
    else if ((t & 0xe0) === 0xa0) len = t & 0x1f;
    else {
      const left = end - pos;
      switch (t) {
        case 0xc0: v = null; break;
        case 0xc2: v = false; break;
        case 0xc3: v = true; break;
        case 0xcc: if (left >= 1) { v = b[pos]; pos += 1; } break;
        case 0xcd: if (left >= 2) { v = b.readUInt16BE(pos); pos += 2; } break;
        case 0xce: if (left >= 4) { v = b.readUInt32BE(pos); pos += 4; } break;
        case 0xcf: if (left >= 8) { const x = b.readBigUInt64BE(pos); v = x <= MAX_SAFE_BIG ? Number(x) : x; pos += 8; } break;
        case 0xd0: if (left >= 1) { v = b.readInt8(pos); pos += 1; } break;
        case 0xd1: if (left >= 2) { v = b.readInt16BE(pos); pos += 2; } break;
        case 0xd2: if (left >= 4) { v = b.readInt32BE(pos); pos += 4; } break;
        case 0xd3: if (left >= 8) { const x = b.readBigInt64BE(pos); v = x <= MAX_SAFE_BIG && x >= -MAX_SAFE_BIG ? Number(x) : x; pos += 8; } break;
        case 0xca: if (left >= 4) { v = b.readFloatBE(pos); pos += 4; } break;
        case 0xcb: if (left >= 8) { v = b.readDoubleBE(pos); pos += 8; } break;
        case 0xd9: case 0xc4: if (left >= 1) { len = b[pos]!; pos += 1; } break;
        case 0xda: case 0xc5: if (left >= 2) { len = b.readUInt16BE(pos); pos += 2; } break;
        case 0xdb: case 0xc6: if (left >= 4) { len = b.readUInt32BE(pos); pos += 4; } break;
      }
    }
    if (len >= 0) {
      if (pos + len > end) return null;
      // 0xc4–0xc6 are bin; everything else that set len is a str
      v = t >= 0xc4 && t <= 0xc6 ? b.subarray(pos, pos + len) : b.toString('utf8', pos, pos + len);
      pos += len;
    }
    if (v === NOT_SCALAR) return null;
    out[i] = v;
  }
  return pos === end ? out : null;
}

function decodeField(kind: FieldKind, v: unknown, st: OobState, where: string): { ok: true; value: unknown } | Fail {
  switch (kind) {
    case 'array':
      return decodeOob(v, st, where);
    case 'any':
      if (isPlainObject(v) && OOB_MARKER in v) return decodeOob(v, st, where);
      return { ok: true, value: normalizeInts(v) };
    case 'str':
      if (typeof v === 'string') return { ok: true, value: v };
      break;
    case 'int':
      if (typeof v === 'bigint') return { ok: true, value: normalizeInts(v) };
      if (typeof v === 'number' && Number.isInteger(v)) return { ok: true, value: v };
      break;
    case 'float':
      if (typeof v === 'number') return { ok: true, value: v };
      if (typeof v === 'bigint') return { ok: true, value: Number(v) };
      break;
    case 'bool':
      if (typeof v === 'boolean') return { ok: true, value: v };
      break;
    case 'bytes':
      if (v instanceof Uint8Array) return { ok: true, value: v };
      break;
    case 'dict':
      if (isPlainObject(v)) return { ok: true, value: normalizeInts(v) };
      break;
    case 'list':
      if (Array.isArray(v)) return { ok: true, value: normalizeInts(v) };
      break;
  }
  return fail('bad_field', `${where}: expected ${kind}, got ${describe(v)}`);
}

/** Decode and validate one message. Never throws on bad input. */
export function decodeFrames<T>(frames: readonly Uint8Array[], type: MessageType<T>, opts: DecodeOptions = {}): DecodeResult<T> {
  if (frames.length < 3) return fail('too_few_frames', `expected ≥ 3 frames (topic, header, metadata), got ${frames.length}`);
  const max = opts.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  let total = 0;
  for (const f of frames) total += f.byteLength;
  if (total > max) return fail('oversized', `message is ${total} bytes, limit ${max}`);
  let topic: string;
  if (opts.knownTopic !== undefined) topic = opts.knownTopic;
  else {
    try {
      topic = utf8.decode(frames[0]);
    } catch {
      return fail('bad_topic', 'topic frame is not valid UTF-8');
    }
  }
  if (opts.expectedTopic !== undefined && topic !== opts.expectedTopic) {
    return fail('topic_mismatch', `topic ${JSON.stringify(topic)} ≠ ${JSON.stringify(opts.expectedTopic)}`, { topic });
  }
  const f1 = frames[1]!;
  if (f1.byteLength !== HEADER_BYTES) return fail('bad_header', `header is ${f1.byteLength} bytes, expected ${HEADER_BYTES}`, { topic });
  const header = fingerprintMatches(f1, type) ? decodeHeaderOf(f1, type.fingerprint) : decodeHeader(f1)!;
  if (header.fingerprint !== type.fingerprint) {
    return fail(
      'fingerprint_mismatch',
      `fingerprint ${header.fingerprint.toString(16).padStart(16, '0')} ≠ ${type.name} ${type.fingerprint.toString(16).padStart(16, '0')}`,
      { topic, header },
    );
  }
  const plan = planOf(type);
  const f2 = frames[2]!;
  let meta: unknown = plan.scalarOnly && Buffer.isBuffer(f2) ? readScalarList(f2) : null;
  if (meta === null) {
    try {
      meta = decoder.decode(f2);
    } catch (e) {
      return fail('bad_metadata', `metadata is not valid msgpack: ${(e as Error).message}`, { topic, header });
    }
  }
  if (!Array.isArray(meta)) return fail('bad_metadata', `metadata is a ${describe(meta)}, expected a msgpack list`, { topic, header });
  const fields = type.fields;
  if (meta.length !== fields.length) {
    return fail('field_count', `metadata has ${meta.length} value(s), ${type.name} has ${fields.length} field(s)`, { topic, header });
  }
  const st: OobState = { frames, used: frames.length > 3 ? new Uint8Array(frames.length - 3) : NO_BUFFERS, copies: 0 };
  const value: Record<string, unknown> = {};
  for (let i = 0; i < fields.length; i++) {
    const [name, kind] = fields[i]!;
    const r = decodeField(kind, meta[i], st, plan.where[i]!);
    if (!r.ok) return { ...r, topic, header };
    value[name] = r.value;
  }
  const unused = st.used.indexOf(0);
  if (unused !== -1) {
    return fail('unreferenced_frames', `buffer frame ${unused} is not referenced by any field (${frames.length - 3} buffer frame(s))`, { topic, header });
  }
  return { ok: true, topic, header, value: value as T, copies: st.copies };
}

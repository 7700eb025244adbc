/**
 * Shared msgpack encoder/decoder for the bus (wire metadata). Both use `useBigInt64: true`
 * so u64 values (fingerprints, large ints) round-trip exactly.
 *
 * Integer policy: with `useBigInt64`, @msgpack/msgpack decodes every int64/uint64-format
 * integer as a `bigint` (smaller formats stay `number`), and it encodes any JS integer
 * ≥ 2^32 in the 64-bit format. So `2**40` would come back as `1099511627776n`.
 * {@link decodeMsgpack} therefore normalizes: a decoded bigint that fits in a safe integer
 * (|v| ≤ 2^53 − 1) becomes a `number`; only values outside that range stay `bigint`.
 * The walk is recursive over arrays and plain objects (metadata is small: arrays travel
 * out of band). Encoding: `bigint` is always written as int64/uint64. (wire.ts writes the
 * metadata list itself for scalar fields and uses this encoder for dict/list/any values.)
 */
import { Decoder, Encoder } from '@msgpack/msgpack';

export const encoder = new Encoder({ useBigInt64: true });
export const decoder = new Decoder({ useBigInt64: true });

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER);

/** Encode to a fresh (unshared) Uint8Array. */
export function encodeMsgpack(value: unknown): Uint8Array {
  return encoder.encode(value);
}

/** Decode and normalize safe-range bigints to numbers. Throws on malformed input. */
export function decodeMsgpack(bytes: Uint8Array): unknown {
  return normalizeInts(decoder.decode(bytes));
}

/** Recursively turn bigints in the safe-integer range into numbers (in place for containers). */
export function normalizeInts(v: unknown): unknown {
  if (typeof v === 'bigint') return v <= MAX_SAFE && v >= MIN_SAFE ? Number(v) : v;
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) v[i] = normalizeInts(v[i]);
    return v;
  }
  if (Object.getPrototypeOf(v) === Object.prototype) {
    const o = v as Record<string, unknown>;
    for (const k of Object.keys(o)) o[k] = normalizeInts(o[k]);
  }
  return v;
}

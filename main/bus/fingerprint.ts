/**
 * Message-type fingerprints.
 *
 * Canonical form (what a Python or other peer must hash to agree with us):
 *
 *     <TypeName>(<field1>:<kind1>,<field2>:<kind2>,...)
 *
 * - fields in declaration order (= order of values in the metadata list), no spaces;
 * - kinds are exactly one of: str int float bool bytes dict list array any;
 * - a type without fields is `<TypeName>()`.
 * Example: `AudioFrame(pcm:array,sampleRate:int,channels:int,peerId:str,roomId:str)`.
 *
 * fingerprint = the first 8 bytes of SHA-256(UTF-8 of that string), read as a big-endian u64.
 * Python: `int.from_bytes(hashlib.sha256(s.encode()).digest()[:8], 'big')`.
 * (The original middleware hashed only the class name; we include the fields, so types with
 * the same name but different schemas do not collide.)
 */
import { createHash } from 'node:crypto';

export function canonicalTypeString(name: string, fields: readonly (readonly [string, string])[]): string {
  return `${name}(${fields.map(([f, k]) => `${f}:${k}`).join(',')})`;
}

export function fingerprintOf(canonical: string): bigint {
  return createHash('sha256').update(canonical, 'utf8').digest().readBigUInt64BE(0);
}

/** Fingerprint as the 16-digit lowercase hex string used in logs and tools. */
export function fingerprintHex(fp: bigint): string {
  return fp.toString(16).padStart(16, '0');
}

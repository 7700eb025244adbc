/**
 * Message type definitions: a name plus an ordered field schema. Only the values travel on
 * the wire (a msgpack list in declaration order); names and kinds matter for the fingerprint
 * (see fingerprint.ts for the canonical string) and for validation on decode.
 */
import { canonicalTypeString, fingerprintOf } from './fingerprint.js';

export type FieldKind = 'str' | 'int' | 'float' | 'bool' | 'bytes' | 'dict' | 'list' | 'array' | 'any';
export const FIELD_KINDS: readonly FieldKind[] = ['str', 'int', 'float', 'bool', 'bytes', 'dict', 'list', 'array', 'any'];

export type TypedArray =
  | Float32Array
  | Float64Array
  | Int8Array
  | Uint8Array
  | Uint8ClampedArray
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array;

/** A multi-dimensional array (C order). `shape` product must equal `data.length`. */
export interface NdArray<A extends TypedArray = TypedArray> {
  data: A;
  shape: number[];
}

/**
 * Value of an 'array' field. On publish, a plain TypedArray is 1-D. On receive, a 1-D array
 * arrives as a plain TypedArray and any other rank (including 0-d) as an {@link NdArray}.
 * Received arrays are views over the received frame (no copy) unless misaligned.
 */
export type ArrayValue = TypedArray | NdArray;

/** TypeScript value type for each kind. Ints outside ±(2^53−1) decode as bigint. */
export interface KindValue {
  str: string;
  int: number | bigint;
  float: number;
  bool: boolean;
  bytes: Uint8Array;
  dict: Record<string, unknown>;
  list: unknown[];
  array: ArrayValue;
  any: unknown;
}

export type FieldSpec<T> = readonly [keyof T & string, FieldKind];

/**
 * A message type. `fields` is typed with plain string names (not `keyof T`) so that every
 * `MessageType<X>` is assignable to `MessageType<unknown>` (generic registries, tools); the
 * phantom `__value` keeps `T` covariant. {@link defineMessageType} checks names against `T`.
 */
export interface MessageType<T> {
  readonly name: string;
  readonly fields: readonly (readonly [string, FieldKind])[];
  /** Phantom: never set at runtime. */
  readonly __value?: T;
  /** First 8 bytes (big-endian u64) of SHA-256 over {@link canonical}. */
  readonly fingerprint: bigint;
  /** Canonical string, e.g. `Array(data:array,name:str,frameId:int)`. */
  readonly canonical: string;
}

/** Value type inferred from a `const` field schema. */
export type FromFields<F extends readonly (readonly [string, FieldKind])[]> = {
  [E in F[number] as E[0]]: KindValue[E[1]];
};

/** Message value type of a MessageType. */
export type ValueOf<M> = M extends MessageType<infer T> ? T : never;

const TYPE_NAME = /^[A-Za-z_][A-Za-z0-9_.]*$/;
const FIELD_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Declare a message type. Either let the value type be inferred from a literal schema:
 *   `defineMessageType('Pose', [['x', 'float'], ['y', 'float']] as const)`
 * or give it explicitly: `defineMessageType<Pose>('Pose', [['x', 'float'], ['y', 'float']])`.
 * Throws on invalid names, duplicate fields or unknown kinds.
 */
export function defineMessageType<const F extends readonly (readonly [string, FieldKind])[]>(
  name: string,
  fields: F,
): MessageType<FromFields<F>>;
export function defineMessageType<T>(name: string, fields: readonly FieldSpec<T>[]): MessageType<T>;
export function defineMessageType(name: string, fields: readonly (readonly [string, FieldKind])[]): MessageType<unknown> {
  if (!TYPE_NAME.test(name)) throw new TypeError(`invalid message type name: ${JSON.stringify(name)}`);
  const seen = new Set<string>();
  for (const f of fields) {
    const [fname, kind] = f;
    if (!FIELD_NAME.test(fname)) throw new TypeError(`${name}: invalid field name ${JSON.stringify(fname)}`);
    if (seen.has(fname)) throw new TypeError(`${name}: duplicate field ${fname}`);
    if (!FIELD_KINDS.includes(kind)) throw new TypeError(`${name}.${fname}: unknown field kind ${JSON.stringify(kind)}`);
    seen.add(fname);
  }
  const frozen = Object.freeze(fields.map((f) => Object.freeze([f[0], f[1]] as const)));
  const canonical = canonicalTypeString(name, frozen);
  return Object.freeze({ name, fields: frozen, canonical, fingerprint: fingerprintOf(canonical) }) as MessageType<unknown>;
}

// Built-in types; wire names as in the original Python middleware. Exported with a `Type`
// suffix so they do not shadow the `String`/`Array` globals in importing modules.
export const StringType = defineMessageType('String', [['data', 'str']] as const);
export const IntType = defineMessageType('Int', [['data', 'int']] as const);
export const FloatType = defineMessageType('Float', [['data', 'float']] as const);
export const BoolType = defineMessageType('Bool', [['data', 'bool']] as const);
export const BytesType = defineMessageType('Bytes', [['data', 'bytes']] as const);
export const DictType = defineMessageType('Dict', [['data', 'dict']] as const);
export const ListType = defineMessageType('List', [['data', 'list']] as const);
export const ArrayType = defineMessageType('Array', [
  ['data', 'array'],
  ['name', 'str'],
  ['frameId', 'int'],
] as const);
export const ImageType = defineMessageType('Image', [
  ['data', 'array'],
  ['encoding', 'str'],
  ['width', 'int'],
  ['height', 'int'],
] as const);
export const AudioFrameType = defineMessageType('AudioFrame', [
  ['pcm', 'array'],
  ['sampleRate', 'int'],
  ['channels', 'int'],
  ['peerId', 'str'],
  ['roomId', 'str'],
] as const);

/** Built-in types keyed by wire name (e.g. for `cortex topic pub T '<json>'`). */
export const BUILTIN_TYPES: Readonly<Record<string, MessageType<unknown>>> = Object.freeze({
  String: StringType,
  Int: IntType,
  Float: FloatType,
  Bool: BoolType,
  Bytes: BytesType,
  Dict: DictType,
  List: ListType,
  Array: ArrayType,
  Image: ImageType,
  AudioFrame: AudioFrameType,
} as Record<string, MessageType<unknown>>);

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encode } from '@msgpack/msgpack';
import { canonicalTypeString, fingerprintOf } from '../../main/bus/fingerprint.js';
import {
  ArrayType,
  AudioFrameType,
  BoolType,
  BytesType,
  defineMessageType,
  DictType,
  FloatType,
  ImageType,
  IntType,
  ListType,
  StringType,
  type MessageType,
  type NdArray,
} from '../../main/bus/types.js';
import { decodeFrames, encodeFrames, encodeHeader, type DecodeResult } from '../../main/bus/wire.js';

const T = 'test/topic';

function roundTrip<V>(type: MessageType<V>, value: V, seq = 7n): Extract<DecodeResult<V>, { ok: true }> {
  const frames = encodeFrames(T, type, value, seq, 123456789n);
  // Simulate the receive side: each frame is its own Buffer (as zeromq.js delivers them).
  const received = frames.map((f) => Buffer.from(f));
  const r = decodeFrames(received, type);
  assert.ok(r.ok, r.ok ? '' : `${r.reason}: ${r.detail}`);
  assert.equal(r.topic, T);
  assert.equal(r.header.sequence, seq);
  assert.equal(r.header.timestampNs, 123456789n);
  assert.equal(r.header.fingerprint, type.fingerprint);
  return r;
}

function expectFail<V>(frames: Uint8Array[], type: MessageType<V>, reason: string, opts = {}): void {
  const r = decodeFrames(frames, type, opts);
  assert.equal(r.ok, false, 'expected a decode failure');
  if (!r.ok) {
    assert.equal(r.reason, reason, r.detail);
    assert.ok(r.detail.length > 0);
  }
}

const meta = (v: unknown) => Buffer.from(encode(v, { useBigInt64: true }));
const hdr = (type: MessageType<unknown>, seq = 0n) => encodeHeader(type.fingerprint, 0n, seq);
const topicFrame = Buffer.from(T);

describe('fingerprint', () => {
  it('canonical form and hash', () => {
    assert.equal(AudioFrameType.canonical, 'AudioFrame(pcm:array,sampleRate:int,channels:int,peerId:str,roomId:str)');
    assert.equal(ArrayType.canonical, 'Array(data:array,name:str,frameId:int)');
    assert.equal(ImageType.canonical, 'Image(data:array,encoding:str,width:int,height:int)');
    assert.equal(StringType.canonical, 'String(data:str)');
    assert.equal(fingerprintOf(canonicalTypeString('X', [])), fingerprintOf('X()'));
    assert.equal(typeof AudioFrameType.fingerprint, 'bigint');
  });

  it('includes the fields: same name, different fields → different fingerprints', () => {
    const a = defineMessageType('Pose', [['x', 'float']] as const);
    const b = defineMessageType('Pose', [['x', 'float'], ['y', 'float']] as const);
    const c = defineMessageType('Pose', [['x', 'int']] as const);
    const d = defineMessageType('Pose', [['y', 'float']] as const);
    const fps = new Set([a, b, c, d].map((t) => t.fingerprint));
    assert.equal(fps.size, 4);
    assert.notEqual(a.fingerprint, fingerprintOf('Pose'));
  });

  it('rejects invalid schemas', () => {
    assert.throws(() => defineMessageType('Bad Name', [['x', 'int']] as const));
    assert.throws(() => defineMessageType('X', [['x', 'int'], ['x', 'str']] as const));
    assert.throws(() => defineMessageType('X', [['a:b', 'int']] as const));
    assert.throws(() => defineMessageType('X', [['x', 'nope' as 'int']]));
  });
});

describe('wire round trip', () => {
  it('every built-in type', () => {
    assert.equal(roundTrip(StringType, { data: 'héllo ✓' }).value.data, 'héllo ✓');
    assert.equal(roundTrip(IntType, { data: -42 }).value.data, -42);
    assert.equal(roundTrip(IntType, { data: 2 ** 40 }).value.data, 2 ** 40); // 64-bit format → number
    assert.equal(roundTrip(IntType, { data: 2n ** 63n - 1n }).value.data, 2n ** 63n - 1n);
    assert.equal(roundTrip(IntType, { data: 2n ** 64n - 1n }).value.data, 2n ** 64n - 1n);
    assert.equal(roundTrip(FloatType, { data: 1.5 }).value.data, 1.5);
    assert.equal(roundTrip(FloatType, { data: 3 }).value.data, 3);
    assert.equal(roundTrip(BoolType, { data: true }).value.data, true);
    assert.deepEqual([...roundTrip(BytesType, { data: Uint8Array.of(1, 2, 255) }).value.data], [1, 2, 255]);
    assert.deepEqual(roundTrip(DictType, { data: { a: 1, b: [1, 'x'], c: { d: null }, big: 2 ** 50 } }).value.data, {
      a: 1,
      b: [1, 'x'],
      c: { d: null },
      big: 2 ** 50,
    });
    assert.deepEqual(roundTrip(ListType, { data: [1, 'two', 3.5, false, null] }).value.data, [1, 'two', 3.5, false, null]);
    const arr = roundTrip(ArrayType, { data: Float32Array.of(1, 2.5, -3), name: 'cam', frameId: 9 }).value;
    assert.ok(arr.data instanceof Float32Array);
    assert.deepEqual([...(arr.data as Float32Array)], [1, 2.5, -3]);
    assert.equal(arr.name, 'cam');
    assert.equal(arr.frameId, 9);
    const img = roundTrip(ImageType, {
      data: { data: Uint8Array.from({ length: 2 * 3 * 3 }, (_, i) => i), shape: [2, 3, 3] },
      encoding: 'rgb8',
      width: 3,
      height: 2,
    }).value;
    const nd = img.data as NdArray;
    assert.deepEqual(nd.shape, [2, 3, 3]);
    assert.ok(nd.data instanceof Uint8Array);
    assert.equal(nd.data[17], 17);
    assert.deepEqual([img.encoding, img.width, img.height], ['rgb8', 3, 2]);
    const pcm = Int16Array.of(0, 1000, -1000, 32767, -32768);
    const af = roundTrip(AudioFrameType, { pcm, sampleRate: 48000, channels: 1, peerId: 'p1', roomId: 'r1' }).value;
    assert.ok(af.pcm instanceof Int16Array);
    assert.deepEqual([...(af.pcm as Int16Array)], [...pcm]);
    assert.deepEqual([af.sampleRate, af.channels, af.peerId, af.roomId], [48000, 1, 'p1', 'r1']);
  });

  it('float fields are sent as float64 even when integral', () => {
    const frames = encodeFrames(T, FloatType, { data: 3 }, 0n, 0n);
    assert.deepEqual([...frames[2]!], [0x91, 0xcb, 0x40, 0x08, 0, 0, 0, 0, 0, 0]);
  });

  it('every typed array dtype', () => {
    const cases: [ArrayLike<number | bigint> & { constructor: unknown }, string][] = [
      [Float32Array.of(1.5), '<f4'],
      [Float64Array.of(1e300), '<f8'],
      [Int8Array.of(-5), '|i1'],
      [Uint8Array.of(250), '|u1'],
      [Int16Array.of(-300), '<i2'],
      [Uint16Array.of(60000), '<u2'],
      [Int32Array.of(-7e8), '<i4'],
      [Uint32Array.of(4e9), '<u4'],
      [BigInt64Array.of(-(2n ** 62n)), '<i8'],
      [BigUint64Array.of(2n ** 63n), '<u8'],
    ];
    for (const [a, dtype] of cases) {
      const frames = encodeFrames(T, ArrayType, { data: a as Float32Array, name: '', frameId: 0 }, 0n, 0n);
      const m = decodeFrames([frames[0]!, frames[1]!, frames[2]!, Buffer.from(frames[3]!)], ArrayType);
      assert.ok(m.ok);
      assert.equal(m.value.data.constructor, a.constructor, dtype);
      assert.deepEqual([...(m.value.data as Float32Array)], [...(a as Float32Array)]);
      assert.ok(frames[2]!.includes(Buffer.from(dtype)), `metadata names ${dtype}`);
    }
  });

  it('user-defined type with every kind, including an array in an any field', () => {
    const Rec = defineMessageType('Rec', [
      ['s', 'str'],
      ['i', 'int'],
      ['f', 'float'],
      ['b', 'bool'],
      ['y', 'bytes'],
      ['d', 'dict'],
      ['l', 'list'],
      ['a', 'array'],
      ['x', 'any'],
      ['z', 'any'],
    ] as const);
    const v = roundTrip(Rec, {
      s: 's',
      i: 1,
      f: 0.25,
      b: false,
      y: Buffer.from('yy'),
      d: { k: 'v' },
      l: [],
      a: Float64Array.of(1, 2),
      x: Int32Array.of(5, 6, 7),
      z: { free: ['form'] },
    }).value;
    assert.equal(v.s, 's');
    assert.equal(v.i, 1);
    assert.equal(v.f, 0.25);
    assert.equal(v.b, false);
    assert.equal(Buffer.from(v.y).toString(), 'yy');
    assert.deepEqual(v.d, { k: 'v' });
    assert.deepEqual(v.l, []);
    assert.deepEqual([...(v.a as Float64Array)], [1, 2]);
    assert.deepEqual([...(v.x as Int32Array)], [5, 6, 7]);
    assert.deepEqual(v.z, { free: ['form'] });
  });

  it('explicitly typed user type', () => {
    interface Pose {
      x: number;
      label: string;
    }
    const PoseT = defineMessageType<Pose>('PoseT', [
      ['x', 'float'],
      ['label', 'str'],
    ]);
    assert.deepEqual(roundTrip(PoseT, { x: 1.25, label: 'p' }).value, { x: 1.25, label: 'p' });
  });

  it('4 MiB Float32 array: intact, zero-copy on send, a view (not a copy) on receive', () => {
    const n = (4 * 1024 * 1024) / 4;
    const src = new Float32Array(n);
    for (let i = 0; i < n; i++) src[i] = i * 0.5;
    const frames = encodeFrames(T, ArrayType, { data: src, name: 'big', frameId: 1 }, 0n, 0n);
    assert.equal(frames.length, 4);
    assert.equal(frames[3]!.buffer, src.buffer, 'send side shares the memory');
    const received = Buffer.from(frames[3]!); // what the socket hands us: a fresh buffer
    const r = decodeFrames([frames[0]!, frames[1]!, frames[2]!, received], ArrayType);
    assert.ok(r.ok);
    const got = r.value.data as Float32Array;
    assert.equal(got.length, n);
    assert.equal(got.buffer, received.buffer, 'receive side is a view over the frame');
    assert.equal(got.byteOffset, received.byteOffset);
    assert.equal(r.copies, 0);
    for (let i = 0; i < n; i += 4097) assert.equal(got[i], i * 0.5);
    assert.equal(got[n - 1], (n - 1) * 0.5);
  });

  it('misaligned frame → copied and counted', () => {
    const frames = encodeFrames(T, ArrayType, { data: Float32Array.of(1, 2, 3), name: '', frameId: 0 }, 0n, 0n);
    const backing = Buffer.alloc(13);
    const mis = backing.subarray(1);
    frames[3]!.copy(mis);
    const r = decodeFrames([frames[0]!, frames[1]!, frames[2]!, mis], ArrayType);
    assert.ok(r.ok);
    assert.equal(r.copies, 1);
    assert.deepEqual([...(r.value.data as Float32Array)], [1, 2, 3]);
  });

  it('encode rejects values that do not match the type', () => {
    assert.throws(() => encodeFrames(T, IntType, { data: 1.5 }, 0n, 0n), /expected int/);
    assert.throws(() => encodeFrames(T, StringType, { data: 1 as unknown as string }, 0n, 0n), /expected str/);
    assert.throws(() => encodeFrames(T, ArrayType, { data: [1, 2] as unknown as Float32Array, name: '', frameId: 0 }, 0n, 0n));
    assert.throws(() => encodeFrames(T, ArrayType, { data: { data: new Float32Array(6), shape: [4, 2] }, name: '', frameId: 0 }, 0n, 0n));
  });
});

describe('wire: bad input is rejected with a reason, never thrown', () => {
  const good = encodeFrames(T, ArrayType, { data: Float32Array.of(1, 2, 3, 4), name: 'n', frameId: 1 }, 5n, 0n);
  const desc = (o: Record<string, unknown>) => ({ __cortex_oob__: 'numpy', buffer: 0, dtype: '<f4', shape: [4], ...o });
  const withDesc = (o: Record<string, unknown>, bufs = [good[3]!]) => [topicFrame, hdr(ArrayType), meta([desc(o), 'n', 1]), ...bufs];

  it('wrong frame counts', () => {
    expectFail([], ArrayType, 'too_few_frames');
    expectFail([topicFrame], ArrayType, 'too_few_frames');
    expectFail([topicFrame, hdr(ArrayType)], ArrayType, 'too_few_frames');
    expectFail(good.slice(0, 3), ArrayType, 'buffer_index'); // descriptor points past the end
    expectFail([...good, Buffer.alloc(8)], ArrayType, 'unreferenced_frames');
    expectFail([topicFrame, hdr(StringType), meta(['x']), Buffer.alloc(4)], StringType, 'unreferenced_frames');
  });

  it('short or long header', () => {
    expectFail([topicFrame, Buffer.alloc(16), good[2]!, good[3]!], ArrayType, 'bad_header');
    expectFail([topicFrame, Buffer.alloc(25), good[2]!, good[3]!], ArrayType, 'bad_header');
  });

  it('fingerprint mismatch (not decoded as the wrong type)', () => {
    const r = decodeFrames(good, ImageType);
    assert.ok(!r.ok);
    assert.equal(r.reason, 'fingerprint_mismatch');
    assert.equal(r.header?.fingerprint, ArrayType.fingerprint);
    assert.equal(r.header?.sequence, 5n);
  });

  it('garbage / wrong-shape metadata', () => {
    expectFail([topicFrame, hdr(ArrayType), Buffer.from([0xc1]), good[3]!], ArrayType, 'bad_metadata'); // 0xc1 never used
    expectFail([topicFrame, hdr(ArrayType), Buffer.from([0x93, 0x01]), good[3]!], ArrayType, 'bad_metadata'); // truncated
    expectFail([topicFrame, hdr(ArrayType), Buffer.concat([good[2]!, Buffer.from([0])]), good[3]!], ArrayType, 'bad_metadata'); // trailing
    expectFail([topicFrame, hdr(ArrayType), meta({ data: 1 }), good[3]!], ArrayType, 'bad_metadata'); // a map, not a list
    expectFail([topicFrame, hdr(ArrayType), Buffer.alloc(0), good[3]!], ArrayType, 'bad_metadata');
    expectFail([topicFrame, hdr(ArrayType), meta([desc({}), 'n']), good[3]!], ArrayType, 'field_count');
    expectFail([topicFrame, hdr(ArrayType), meta([desc({}), 'n', 1, 2]), good[3]!], ArrayType, 'field_count');
    expectFail([topicFrame, hdr(ArrayType), meta([desc({}), 5, 1]), good[3]!], ArrayType, 'bad_field');
    expectFail([topicFrame, hdr(ArrayType), meta([desc({}), 'n', 1.5]), good[3]!], ArrayType, 'bad_field');
    expectFail([topicFrame, hdr(ArrayType), meta([[1, 2, 3, 4], 'n', 1]), good[3]!], ArrayType, 'bad_field');
    expectFail([Buffer.from([0xff, 0xfe]), hdr(ArrayType), good[2]!, good[3]!], ArrayType, 'bad_topic');
  });

  it('unknown or malformed OOB descriptor', () => {
    expectFail(withDesc({ __cortex_oob__: 'arrow' }), ArrayType, 'bad_oob');
    expectFail(withDesc({ buffer: 'zero' }), ArrayType, 'bad_oob');
    expectFail(withDesc({ dtype: 4 }), ArrayType, 'bad_oob');
    expectFail(withDesc({ shape: 'big' }), ArrayType, 'bad_shape');
    expectFail(withDesc({ shape: [-4] }), ArrayType, 'bad_shape');
    expectFail(withDesc({ shape: [2.5] }), ArrayType, 'bad_shape');
  });

  it('unknown dtype', () => {
    expectFail(withDesc({ dtype: '<f2' }), ArrayType, 'unknown_dtype');
    expectFail(withDesc({ dtype: '>f4' }), ArrayType, 'unknown_dtype');
    expectFail(withDesc({ dtype: 'complex' }), ArrayType, 'unknown_dtype');
  });

  it('lying shape', () => {
    expectFail(withDesc({ shape: [5] }), ArrayType, 'size_mismatch');
    expectFail(withDesc({ shape: [3] }), ArrayType, 'size_mismatch');
    expectFail(withDesc({ shape: [2, 3] }), ArrayType, 'size_mismatch');
    expectFail(withDesc({ shape: [2 ** 40, 2 ** 40] }), ArrayType, 'size_mismatch');
    assert.ok(decodeFrames(withDesc({ shape: [2, 2] }), ArrayType).ok, 'an honest 2-D shape is fine');
  });

  it('lying dtype', () => {
    expectFail(withDesc({ dtype: '<f8' }), ArrayType, 'size_mismatch');
    expectFail(withDesc({ dtype: '<i2' }), ArrayType, 'size_mismatch');
  });

  it('out-of-range or reused buffer index', () => {
    expectFail(withDesc({ buffer: 1 }), ArrayType, 'buffer_index');
    expectFail(withDesc({ buffer: -1 }), ArrayType, 'buffer_index');
    const Two = defineMessageType('Two', [
      ['a', 'array'],
      ['b', 'array'],
    ] as const);
    const two = [topicFrame, hdr(Two), meta([desc({}), desc({})]), good[3]!, good[3]!];
    expectFail(two, Two, 'bad_oob');
  });

  it('oversized', () => {
    expectFail(good, ArrayType, 'oversized', { maxMessageBytes: 32 });
    assert.ok(decodeFrames(good, ArrayType, { maxMessageBytes: 1 << 20 }).ok);
  });

  it('random garbage never throws', () => {
    let seed = 1;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff), seed);
    for (let i = 0; i < 2000; i++) {
      const n = rnd() % 6;
      const frames = [topicFrame, hdr(ArrayType)];
      for (let j = 0; j < n; j++) frames.push(Buffer.from(Array.from({ length: rnd() % 40 }, () => rnd() & 0xff)));
      // occasionally mutate a valid message
      const src = i % 2 ? frames : good.map((f) => Buffer.from(f));
      if (i % 2 === 0) {
        const f = src[2 + (rnd() % 2)]!;
        if (f.length) f[rnd() % f.length] = rnd() & 0xff;
      }
      const r = decodeFrames(src, ArrayType);
      assert.equal(typeof r.ok, 'boolean');
    }
  });
});

describe('wire: metadata bytes match a standard msgpack packer', () => {
  it('scalar forms (smallest ints, str/bin lengths, float64) decode identically via @msgpack/msgpack', async () => {
    const { decode } = await import('@msgpack/msgpack');
    const K = defineMessageType('K', [
      ['s', 'str'],
      ['i', 'int'],
      ['b', 'bytes'],
      ['f', 'float'],
      ['t', 'bool'],
    ] as const);
    const ints = [0, 1, 127, 128, 255, 256, 65535, 65536, 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1, -1, -32, -33, -128, -129, -32768, -32769, -(2 ** 31), -(2 ** 31) - 1, -(2 ** 53) + 1];
    const strs = ['', 'a', 'x'.repeat(31), 'x'.repeat(32), 'é'.repeat(200), 'y'.repeat(70000)];
    const bins = [0, 255, 256, 70000].map((n) => Buffer.alloc(n, 3));
    for (const i of ints)
      for (const s of strs.slice(0, 3)) {
        const frames = encodeFrames(T, K, { s, i, b: bins[0]!, f: -0.5, t: true }, 0n, 0n);
        assert.deepEqual(decode(frames[2]!), [s, i, bins[0], -0.5, true]);
        assert.deepEqual(frames[2], Buffer.from(encode([s, i, bins[0], -0.5, true])), `bytes for ${i}`);
      }
    for (const s of strs)
      for (const b of bins) {
        const frames = encodeFrames(T, K, { s, i: 1, b, f: 1e300, t: false }, 0n, 0n);
        assert.deepEqual(frames[2], Buffer.from(encode([s, 1, b, 1e300, false])));
      }
    const big = encodeFrames(T, K, { s: '', i: 2n ** 64n - 1n, b: bins[0]!, f: 0.5, t: true }, 0n, 0n);
    assert.deepEqual(decode(big[2]!, { useBigInt64: true }), ['', 2n ** 64n - 1n, bins[0], 0.5, true]);
    assert.throws(() => encodeFrames(T, K, { s: '', i: 2n ** 64n, b: bins[0]!, f: 0.5, t: true }, 0n, 0n), /expected int/);
  });
});

describe('wire: the scalar fast path decodes exactly what the generic decoder does', () => {
  const K = defineMessageType('K2', [
    ['s', 'str'],
    ['i', 'int'],
    ['b', 'bytes'],
    ['f', 'float'],
    ['t', 'bool'],
  ] as const);
  // @msgpack/msgpack packs these (someone else's encoder), including forms ours never writes: float32.
  const rows: unknown[][] = [
    ['', 0, Buffer.alloc(0), 0.5, true],
    ['x'.repeat(40), -33, Buffer.alloc(300, 1), -1e300, false],
    ['é'.repeat(40_000), 2 ** 40, Buffer.alloc(70_000, 2), 1, true],
    ['a', 2n ** 63n + 5n, Buffer.from([1]), 2, false],
    ['b', -(2n ** 63n), Buffer.from([1]), 3, false],
  ];

  it('every scalar format, from a standard packer', () => {
    for (const row of rows) {
      const frames = [topicFrame, hdr(K), meta(row)];
      const r = decodeFrames(frames, K);
      assert.ok(r.ok, r.ok ? '' : r.detail);
      const big = (v: unknown) => (typeof v === 'bigint' && v >= -(2n ** 53n) + 1n && v <= 2n ** 53n - 1n ? Number(v) : v);
      assert.deepEqual(Object.values(r.value), row.map(big));
    }
    const f32 = Buffer.from([0x95, 0xa1, 0x61, 0x01, 0xc4, 0x00, 0xca, 0x3f, 0xc0, 0x00, 0x00, 0xc3]); // float32 1.5
    const r = decodeFrames([topicFrame, hdr(K), f32], K);
    assert.ok(r.ok);
    assert.equal(r.value.f, 1.5);
  });

  it('non-scalar, truncated or trailing bytes fall back to the generic decoder and fail the same way', () => {
    const good = meta(rows[1]);
    expectFail([topicFrame, hdr(K), good.subarray(0, good.length - 1)], K, 'bad_metadata');
    expectFail([topicFrame, hdr(K), Buffer.concat([good, Buffer.from([0])])], K, 'bad_metadata');
    expectFail([topicFrame, hdr(K), meta(['a', 1, Buffer.alloc(0), 1.5, { x: 1 }])], K, 'bad_field');
    expectFail([topicFrame, hdr(K), meta(['a', [1], Buffer.alloc(0), 1.5, true])], K, 'bad_field');
    expectFail([topicFrame, hdr(K), meta(['a', 1, Buffer.alloc(0), 1.5])], K, 'field_count');
    expectFail([topicFrame, hdr(K), meta(['a', 1, 'not bytes', 1.5, true])], K, 'bad_field');
    expectFail([topicFrame, hdr(K), Buffer.from([0x95, 0xd9, 0x05, 0x61])], K, 'bad_metadata'); // str8 longer than the frame
  });
});

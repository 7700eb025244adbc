/** Room adapters: WAV replay, the ZeroMQ transport over real sockets, and the optional ODIN SDK. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startDiscoveryDaemon } from '../../../main/bus/discovery/daemon.js';
import { Node } from '../../../main/bus/node.js';
import { AudioFrameType, StringType } from '../../../main/bus/types.js';
import { FileRoom } from '../../../main/bot/rooms/file.js';
import { OdinRoom, ODIN_PACKAGE } from '../../../main/bot/rooms/odin.js';
import type { PeerAudio, RoomHandlers, RoomPeer } from '../../../main/bot/rooms/types.js';
import { RoomJoinError } from '../../../main/bot/rooms/types.js';
import { encodeWav, parseWav, WavError } from '../../../main/bot/rooms/wav.js';
import { peerOfTopic, ZmqRoom } from '../../../main/bot/rooms/zmq.js';

const dir = mkdtempSync('/tmp/cx-rooms-');
after(() => rmSync(dir, { recursive: true, force: true }));

function recorder() {
  const r = { joined: [] as RoomPeer[], left: [] as string[], frames: [] as PeerAudio[], errors: [] as Error[], ended: [] as string[] };
  const h: RoomHandlers = {
    peerJoined: (p) => r.joined.push(p),
    peerLeft: (id) => r.left.push(id),
    audio: (f) => r.frames.push(f),
    error: (e) => r.errors.push(e),
    left: (why) => r.ended.push(why),
  };
  return { r, h };
}

const until = async (cond: () => boolean, what: string, ms = 5000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((res) => setTimeout(res, 10));
  }
};

const tone = (seconds: number, rate: number, hz = 440) => Float32Array.from({ length: Math.round(seconds * rate) }, (_, i) => 0.5 * Math.sin((2 * Math.PI * hz * i) / rate));

describe('WAV', () => {
  test('round trip, and headers that lie are refused or clamped with a clear reason', () => {
    const samples = tone(0.1, 16000);
    const wav = parseWav(encodeWav(samples, 16000));
    assert.equal(wav.sampleRate, 16000);
    assert.equal(wav.channels, 1);
    assert.equal(wav.samples.length, samples.length);
    assert.ok(Math.abs(wav.samples[100]! - samples[100]!) < 1e-4);

    const good = encodeWav(samples, 16000);
    const lie = (f: (b: Buffer) => void) => {
      const b = Buffer.from(good);
      f(b);
      return b;
    };
    assert.throws(() => parseWav(Buffer.from('not a wav file at all')), WavError);
    assert.throws(() => parseWav(lie((b) => b.writeUInt32LE(0, 24))), /sample rate 0/);
    assert.throws(() => parseWav(lie((b) => b.writeUInt16LE(0, 22))), /0 channels/);
    assert.throws(() => parseWav(lie((b) => b.writeUInt16LE(7, 20))), /unsupported sample format 7/);
    assert.throws(() => parseWav(lie((b) => b.writeUInt16LE(12, 34))), /12-bit/);
    assert.throws(() => parseWav(lie((b) => b.writeUInt16LE(4, 32))), /block align/);
    assert.throws(() => parseWav(good.subarray(0, 30)), /fmt chunk|no fmt/);
    const streamed = parseWav(lie((b) => b.writeUInt32LE(0xffffffff, 40)));
    assert.equal(streamed.samples.length, samples.length, 'a data size larger than the file is clamped');
    assert.match(streamed.warnings[0]!, /clamped/);
    // Float WAV with NaN/Inf: silence, not poison.
    const f = Buffer.alloc(44 + 12);
    encodeWav(new Float32Array(3), 16000).copy(f, 0, 0, 44);
    f.writeUInt16LE(3, 20);
    f.writeUInt16LE(32, 34);
    f.writeUInt16LE(4, 32);
    f.writeUInt32LE(16000 * 4, 28);
    f.writeUInt32LE(12, 40);
    f.writeFloatLE(Number.NaN, 44);
    f.writeFloatLE(Number.POSITIVE_INFINITY, 48);
    f.writeFloatLE(2, 52);
    assert.deepEqual([...parseWav(f).samples], [0, 0, 1]);
  });
});

describe('file adapter', () => {
  test('replays one WAV per peer in 20 ms frames, fast; peers leave when their file ends', async () => {
    writeFileSync(join(dir, 'a.wav'), encodeWav(tone(1, 48000), 48000));
    writeFileSync(join(dir, 'b.wav'), encodeWav(tone(0.5, 16000), 16000));
    const room = new FileRoom({ realtime: false, peers: [{ peerId: 'a', userId: 'user-a', displayName: 'Ann', path: join(dir, 'a.wav') }, { peerId: 'b', path: join(dir, 'b.wav') }] });
    const { r, h } = recorder();
    await room.join(h);
    await until(() => r.ended.length === 1, 'end of files');
    assert.deepEqual(r.joined.map((p) => [p.peerId, p.userId, p.displayName]), [['a', 'user-a', 'Ann'], ['b', 'b', null]]);
    const a = r.frames.filter((f) => f.peerId === 'a');
    const b = r.frames.filter((f) => f.peerId === 'b');
    assert.equal(a.length, 50);
    assert.equal(b.length, 25);
    assert.equal(a[0]!.samples.length, 960);
    assert.equal(b[0]!.samples.length, 320);
    assert.deepEqual(r.left, ['b', 'a']);
  });

  test('real time: frames at the pace of the recording', async () => {
    writeFileSync(join(dir, 'c.wav'), encodeWav(tone(0.4, 16000), 16000));
    const room = new FileRoom({ realtime: true, peers: [{ peerId: 'c', path: join(dir, 'c.wav') }] });
    const { r, h } = recorder();
    const t0 = performance.now();
    await room.join(h);
    await until(() => r.ended.length === 1, 'end');
    const took = performance.now() - t0;
    assert.equal(r.frames.length, 20);
    assert.ok(took >= 370, `20 frames of 20 ms took ${took.toFixed(0)} ms`);
    await room.leave();
  });

  test('a missing or lying file fails the join, naming the peer and the problem', async () => {
    await assert.rejects(new FileRoom({ realtime: false, peers: [{ peerId: 'x', path: join(dir, 'nope.wav') }] }).join(recorder().h), (e: Error) => e instanceof RoomJoinError && /peer x: cannot read/.test(e.message));
    writeFileSync(join(dir, 'bad.wav'), Buffer.from('RIFF\0\0\0\0WAVEjunk'));
    await assert.rejects(new FileRoom({ realtime: false, peers: [{ peerId: 'y', path: join(dir, 'bad.wav') }] }).join(recorder().h), /peer y: bad\.wav: no fmt chunk/);
  });
});

describe('zmq adapter', () => {
  const endpoint = `ipc://${dir}/d.sock`;
  let daemon: Awaited<ReturnType<typeof startDiscoveryDaemon>>;
  before(async () => {
    daemon = await startDiscoveryDaemon({ endpoint, logger: () => {} });
  });
  after(() => daemon.close());

  test('peers appear with their audio topics, frames are attributed by topic, and peers leave with them', async () => {
    assert.equal(peerOfTopic('r1', 'rooms/r1/peers/p1/audio'), 'p1');
    assert.equal(peerOfTopic('r1', 'rooms/r2/peers/p1/audio'), null);
    assert.equal(peerOfTopic('r1', 'rooms/r1/peers/a/b/audio'), null);
    const quiet = { info: () => {}, warn: () => {}, error: () => {} };
    const speaker = new Node({ name: 'speaker', discoveryEndpoint: endpoint, runtimeDir: join(dir, 'topics'), logger: quiet });
    const bot = new Node({ name: 'bot', discoveryEndpoint: endpoint, runtimeDir: join(dir, 'topics'), logger: quiet });
    const room = new ZmqRoom({ roomId: 'r1', node: bot, pollMs: 50 });
    const { r, h } = recorder();
    try {
      await room.join(h);
      const p1 = await speaker.publisher('rooms/r1/peers/p1/audio', AudioFrameType);
      const other = await speaker.publisher('rooms/r2/peers/p9/audio', AudioFrameType);
      const wrongType = await speaker.publisher('rooms/r1/peers/p2/audio', StringType);
      await until(() => r.joined.length === 1, 'p1 joined');
      assert.equal(r.joined[0]!.peerId, 'p1');
      const pcm = new Float32Array(960).fill(0.25);
      await until(() => {
        p1.publish({ pcm, sampleRate: 48000, channels: 1, peerId: 'liar', roomId: 'r1' });
        other.publish({ pcm, sampleRate: 48000, channels: 1, peerId: 'p9', roomId: 'r2' });
        return r.frames.length >= 3;
      }, 'frames');
      assert.ok(r.frames.every((f) => f.peerId === 'p1' && f.sampleRate === 48000 && f.samples.length === 960));
      assert.ok(r.errors.some((e) => /p2\/audio carries String/.test(e.message)));
      await p1.close();
      await until(() => r.left.includes('p1'), 'p1 left');
      await wrongType.close();
    } finally {
      await room.leave();
      await speaker.close();
      await bot.close();
    }
  });
});

describe('odin adapter', () => {
  test('without its optional package the join fails with a message naming it', async () => {
    const room = new OdinRoom({ accessKey: 'secret-key', roomId: 'room', botUserId: 'bot' });
    await assert.rejects(room.join(recorder().h), (e: Error) => e instanceof RoomJoinError && e.message.includes(ODIN_PACKAGE) && !e.message.includes('secret-key'));
  });

  test('with an SDK (a stand-in shaped like the documented API): peers, user data and per-peer audio', async () => {
    type Listener = (e: never) => void;
    const listeners = new Map<string, Listener>();
    let joinedWith: [string, string] | null = null;
    const sdk = {
      OdinClient: class {
        generateToken(key: string, room: string, user: string) {
          return `${key}|${room}|${user}`;
        }
        createRoom(token: string) {
          return {
            addEventListener: (ev: string, cb: Listener) => listeners.set(ev, cb),
            join: (gateway: string) => {
              joinedWith = [gateway, token];
            },
          };
        }
      },
    };
    const room = new OdinRoom({ accessKey: 'k', roomId: 'room', botUserId: 'bot', load: async () => sdk as never });
    const { r, h } = recorder();
    await room.join(h);
    assert.deepEqual(joinedWith, ['https://gateway.odin.4players.io', 'k|room|bot']);
    const fire = (ev: string, e: unknown) => (listeners.get(ev) as (x: unknown) => void)(e);
    fire('PeerJoined', { peerId: 7n, userId: 'player-7', userData: new TextEncoder().encode('{"name":"Zed","team":2}') });
    fire('AudioDataReceived', { peerId: 7n, mediaId: 1, samples32: new Float32Array(960) });
    fire('PeerLeft', { peerId: 7n });
    fire('Left', { reason: 'kicked' });
    assert.deepEqual(r.joined, [{ peerId: '7', userId: 'player-7', displayName: 'Zed', userData: { name: 'Zed', team: 2 } }]);
    assert.equal(r.frames[0]!.peerId, '7');
    assert.equal(r.frames[0]!.sampleRate, 48000);
    assert.deepEqual(r.left, ['7']);
    assert.deepEqual(r.ended, ['kicked']);
  });
});

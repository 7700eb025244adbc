/**
 * WhisperEngine against the real native engine and whisper.cpp's own test model (a real
 * ggml tiny.en file without weights: the full encoder runs, the text comes out empty).
 *
 * The engine is built here when missing (native/build-whisper.mjs, about a minute on 2
 * cores). The suite skips only when the whisper.cpp source package is not installed and no
 * engine was built before; anything else that goes wrong fails.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ENGINE_BINARY, SOURCE_PACKAGE, buildWhisperEngine, findWhisperSource } from '../../../native/build-whisper.mjs';
import { FrameDecoder } from '../../../main/bot/engine/protocol.js';
import { WhisperEngine, WhisperEngineError, modelInfo, scaledAudioCtx } from '../../../main/bot/engine/whisper.js';
import { needsTestModel, TEST_MODEL } from '../../support/shared-models.js';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const MODEL = TEST_MODEL ?? join(repoRoot, '..', 'shared', 'models', 'for-tests-ggml-tiny.en.bin');

function prepare(): string | undefined {
  const log = (line: string) => console.log(`# [build-whisper] ${line}`);
  if (findWhisperSource() === null) {
    if (existsSync(ENGINE_BINARY)) {
      log(`whisper.cpp source not installed; using the engine built earlier at ${ENGINE_BINARY}`);
      return undefined;
    }
    return `SKIPPED: the whisper.cpp source package (${SOURCE_PACKAGE}) is not installed and ${ENGINE_BINARY} was never built`;
  }
  const res = buildWhisperEngine({ quiet: true, log });
  assert.notEqual(res.status, 'no-source');
  return undefined;
}

const skip = needsTestModel || prepare();
if (skip) console.log(`# ${skip}`);

/** 440 Hz tone plus a little deterministic noise: real signal, no speech. */
function toneWithNoise(seconds: number): Float32Array {
  const out = new Float32Array(Math.round(seconds * 16_000));
  let seed = 12345;
  for (let i = 0; i < out.length; i++) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    out[i] = 0.3 * Math.sin((2 * Math.PI * 440 * i) / 16_000) + 0.05 * (seed / 0x7fffffff - 0.5);
  }
  return out;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

async function waitFor(cond: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function isEngineError(code: string, pattern: RegExp) {
  return (err: unknown) => {
    assert.ok(err instanceof WhisperEngineError, `expected WhisperEngineError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    assert.match(err.message, pattern);
    return true;
  };
}

describe('scaledAudioCtx', () => {
  test('is the clip share of the 1500-frame window, rounded up to 64, full context from ~29 s', () => {
    assert.equal(scaledAudioCtx(1_600), 64); // 0.1 s
    assert.equal(scaledAudioCtx(16_000), 64); // 1 s = 50 frames
    assert.equal(scaledAudioCtx(48_000), 192); // 3 s = 150 frames
    assert.equal(scaledAudioCtx(160_000), 512); // 10 s = 500 frames
    assert.equal(scaledAudioCtx(16_000 * 29), 1472); // 1450 frames
    assert.equal(scaledAudioCtx(16_000 * 29.5), 0); // 1475 → 1536, past the model's 1500
    assert.equal(scaledAudioCtx(16_000 * 30), 0);
    assert.equal(scaledAudioCtx(16_000 * 10, 448), 192); // a model with another window
  });
});

describe('FrameDecoder', () => {
  test('reassembles frames split across chunks and rejects payload-carrying frames', () => {
    const frame = (o: object) => {
      const body = Buffer.from(JSON.stringify(o));
      const pre = Buffer.alloc(8);
      pre.writeUInt32LE(body.length, 0);
      return Buffer.concat([pre, body]);
    };
    const bytes = Buffer.concat([frame({ id: 1, a: 'é' }), frame({ id: 2 })]);
    const d = new FrameDecoder();
    const got: unknown[] = [];
    for (let i = 0; i < bytes.length; i += 3) got.push(...d.push(bytes.subarray(i, i + 3)));
    assert.deepEqual(got, [{ id: 1, a: 'é' }, { id: 2 }]);
    const bad = Buffer.alloc(8);
    bad.writeUInt32LE(2, 0);
    bad.writeUInt32LE(4, 4);
    assert.throws(() => new FrameDecoder().push(bad), /bad frame/);
  });
});

describe('modelInfo', { skip: needsTestModel }, () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cortex-whisper-model-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('reads the ggml header of the test model', async () => {
    const info = await modelInfo(MODEL);
    assert.equal(info.type, 'tiny');
    assert.equal(info.multilingual, false);
    assert.equal(info.nAudioCtx, 1500);
    assert.equal(info.nMels, 80);
    assert.equal(info.nVocab, 51864);
  });

  test('names what is wrong with files that are not whisper models', async () => {
    const real = await readFile(MODEL);
    const cases: [string, Buffer | null, RegExp][] = [
      ['missing.bin', null, /does not exist/],
      ['random.bin', Buffer.alloc(200_000, 0x5a), /bad magic 0x5a5a5a5a .*"lmgg"/],
      ['model.gguf', Buffer.concat([Buffer.from('GGUF'), Buffer.alloc(200_000)]), /GGUF/],
      ['page.bin', Buffer.from('<!DOCTYPE html><html><body>Not found</body></html>'), /HTML page/],
      ['lfs.bin', Buffer.from('version https://git-lfs.github.com/spec/v1\noid sha256:abc\n'), /Git LFS pointer/],
      ['cut.bin', real.subarray(0, 4096), /truncated/],
      ['empty.bin', Buffer.alloc(0), /only 0 bytes/],
      ['ftype.bin', (() => {
        const b = Buffer.from(real);
        b.writeInt32LE(99, 44);
        return b;
      })(), /implausible header \(ftype 99\)/],
    ];
    for (const [name, bytes, pattern] of cases) {
      const path = join(dir, name);
      if (bytes) await writeFile(path, bytes);
      await assert.rejects(modelInfo(path), (err: unknown) => {
        assert.ok(err instanceof Error && err.name === 'ModelFileError', String(err));
        assert.match(err.message, pattern, name);
        assert.ok(err.message.includes(path), 'message names the file');
        return true;
      });
    }
  });
});

describe('WhisperEngine (real whisper.cpp engine)', { skip }, () => {
  let dir = '';
  const engines: WhisperEngine[] = [];
  const make = (opts: Partial<ConstructorParameters<typeof WhisperEngine>[0]> = {}) => {
    const e = new WhisperEngine({ modelPath: MODEL, binaryPath: ENGINE_BINARY, threads: 2, ...opts });
    engines.push(e);
    return e;
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cortex-whisper-'));
  });
  after(async () => {
    await Promise.all(engines.map((e) => e.close()));
    await rm(dir, { recursive: true, force: true });
  });

  test('loads the model once and transcribes 3 s of tone and noise to empty text', async (t) => {
    const engine = make();
    const info = await engine.start();
    t.diagnostic(`whisper.cpp ${info.whisperVersion}, model ${info.model.type}, load ${info.loadMs.toFixed(0)} ms, ${info.threads} threads`);
    t.diagnostic(info.system);
    assert.match(info.system, /AVX2 = 1/, 'engine built without AVX2: whisper would be 10-15x slower');
    const pid = engine.pid;
    const first = await engine.transcribe(toneWithNoise(3), {});
    const second = await engine.transcribe(toneWithNoise(3), { language: 'en' });
    for (const res of [first, second]) {
      assert.equal(res.text, '');
      assert.deepEqual(res.segments, []);
      assert.equal(res.language, 'en');
      assert.ok(res.encodeMs > 0, 'the encoder ran');
      assert.ok(res.totalMs >= res.encodeMs);
    }
    assert.equal(engine.pid, pid, 'the same warm process served both');
    assert.equal(engine.processStarts, 1);
    assert.equal(engine.name, 'whisper.cpp:for-tests-ggml-tiny.en.bin');
  });

  test('scaled audio_ctx vs the default context (numbers reported, not asserted)', async (t) => {
    const engine = make();
    await engine.start();
    await engine.transcribe(toneWithNoise(1), { audioCtx: 0 }); // warm-up
    const rows: string[] = [];
    for (const seconds of [1, 3, 10]) {
      const pcm = toneWithNoise(seconds);
      const measure = async (audioCtx: number | 'auto') => {
        const wall: number[] = [];
        const encode: number[] = [];
        for (let i = 0; i < 3; i++) {
          const t0 = performance.now();
          const res = await engine.transcribe(pcm, { audioCtx });
          wall.push(performance.now() - t0);
          encode.push(res.encodeMs);
          assert.equal(res.text, '');
        }
        return { wall: median(wall), encode: median(encode) };
      };
      const full = await measure(0);
      const scaled = await measure('auto');
      rows.push(
        `${String(seconds).padStart(2)} s: default ${full.wall.toFixed(0)} ms wall / ${full.encode.toFixed(0)} ms encode; ` +
          `audio_ctx ${scaledAudioCtx(pcm.length)} ${scaled.wall.toFixed(0)} ms wall / ${scaled.encode.toFixed(0)} ms encode ` +
          `(encode x${(full.encode / scaled.encode).toFixed(1)} faster)`,
      );
    }
    for (const r of rows) t.diagnostic(r);
  });

  test('a SIGKILLed engine is restarted and the utterance in flight succeeds on the retry', async () => {
    const logs: string[] = [];
    const engine = make({ onLog: (l) => logs.push(l) });
    await engine.start();
    const firstPid = engine.pid;
    assert.ok(firstPid);
    // Full context on 10 s: several hundred ms of encoder work to land the kill in.
    const pending = engine.transcribe(toneWithNoise(10), { audioCtx: 0 });
    await waitFor(() => engine.busy, 'the request to be sent');
    process.kill(firstPid, 'SIGKILL');
    const res = await pending;
    assert.equal(res.text, '');
    assert.equal(engine.processStarts, 2);
    assert.notEqual(engine.pid, firstPid);
    assert.ok(logs.some((l) => /killed by SIGKILL during request \d+; restarting it and retrying the request once/.test(l)), logs.join('\n'));
  });

  test('a second crash on the same utterance rejects it clearly, and the engine recovers', async () => {
    const engine = make();
    await engine.start();
    const pending = engine.transcribe(toneWithNoise(10), { audioCtx: 0 });
    const outcome = pending.then(
      () => null,
      (err: unknown) => err,
    );
    for (let i = 0; i < 2; i++) {
      const pid = engine.pid;
      await waitFor(() => engine.busy && engine.pid !== undefined && engine.processStarts === i + 1, `attempt ${i + 1} in flight`);
      process.kill(engine.pid ?? pid ?? 0, 'SIGKILL');
    }
    const err = await outcome;
    isEngineError('crashed', /killed by SIGKILL.*twice/s)(err);
    const next = await engine.transcribe(toneWithNoise(1), {});
    assert.equal(next.text, '');
    assert.equal(engine.processStarts, 3);
  });

  test('a request over its timeout is rejected and the engine restarted for the next one', async () => {
    const engine = make({ timeoutMs: 30 });
    await engine.start();
    await assert.rejects(engine.transcribe(toneWithNoise(10), { audioCtx: 0 }), isEngineError('timeout', /did not answer within 30 ms/));
    const res = await engine.transcribe(toneWithNoise(1), { timeoutMs: 60_000 });
    assert.equal(res.text, '');
    assert.equal(engine.processStarts, 2);
  });

  test('a bad model file fails with a clear error, not a hang or a crash loop', async () => {
    const garbage = join(dir, 'garbage.bin');
    await writeFile(garbage, Buffer.alloc(300_000, 7));
    const e1 = make({ modelPath: garbage });
    await assert.rejects(e1.transcribe(toneWithNoise(1), {}), isEngineError('bad-model', /bad magic/));
    assert.equal(e1.processStarts, 0, 'rejected before spawning');

    // A sane header with a corrupt body passes modelInfo; whisper.cpp itself refuses it (here:
    // a tensor it does not know) and the engine exits with its model-load status.
    const cut = join(dir, 'corrupt.bin');
    const tensor = Buffer.alloc(16);
    [1, 3, 0, 4].forEach((v, i) => tensor.writeInt32LE(v, 4 * i)); // n_dims, name length, type, ne[0]
    await writeFile(cut, Buffer.concat([await readFile(MODEL), tensor, Buffer.from('xyz')]));
    const e2 = make({ modelPath: cut });
    const both = await Promise.allSettled([e2.transcribe(toneWithNoise(1), {}), e2.transcribe(toneWithNoise(1), {})]);
    for (const r of both) {
      assert.equal(r.status, 'rejected');
      isEngineError('bad-model', /could not load .*corrupt\.bin.*exited with status 3.*unknown tensor 'xyz'/s)(r.reason);
    }
    assert.equal(e2.processStarts, 1, 'one load attempt for both queued requests');

    const e3 = make({ binaryPath: join(dir, 'no-such-engine') });
    await assert.rejects(e3.transcribe(toneWithNoise(1), {}), isEngineError('no-binary', /build-whisper\.mjs/));
  });

  test('NaN samples, empty and over-long audio are rejected clearly; the engine keeps serving', async () => {
    const engine = make();
    await engine.start();
    const pid = engine.pid;
    const nan = toneWithNoise(2);
    nan[1234] = NaN;
    await assert.rejects(engine.transcribe(nan, {}), isEngineError('bad-audio', /sample 1234 is not a finite number/));
    const inf = toneWithNoise(1);
    inf[7] = Infinity;
    await assert.rejects(engine.transcribe(inf, {}), isEngineError('bad-audio', /sample 7 is not a finite number/));
    await assert.rejects(engine.transcribe(new Float32Array(0), {}), isEngineError('bad-audio', /empty/));
    await assert.rejects(engine.transcribe(new Float32Array(16_000 * 31), {}), isEngineError('too-long', /31\.0 s.*at most 30 s/));
    await assert.rejects(engine.transcribe(toneWithNoise(1), { language: 'de' }), isEngineError('bad-request', /English-only/));
    await assert.rejects(engine.transcribe(toneWithNoise(1), { audioCtx: 4000 }), isEngineError('bad-request', /audio_ctx must be 0\.\.\.1500/));
    await assert.rejects(engine.transcribe(toneWithNoise(1), { audioCtx: -1 }), isEngineError('bad-request', /audioCtx/));
    const ok = await engine.transcribe(toneWithNoise(1), {});
    assert.equal(ok.text, '');
    assert.equal(engine.pid, pid, 'no restart was needed');
    assert.equal(engine.processStarts, 1);
  });

  test('close() ends the engine on stdin EOF; later requests are refused', async () => {
    const engine = make();
    await engine.start();
    const pid = engine.pid;
    assert.ok(pid);
    const inFlight = engine.transcribe(toneWithNoise(3), {});
    await waitFor(() => engine.busy, 'the request to be sent');
    await engine.close();
    // The engine finishes what it was doing before it reads EOF.
    assert.equal((await inFlight).text, '');
    assert.throws(() => process.kill(pid, 0), { code: 'ESRCH' });
    await assert.rejects(engine.transcribe(toneWithNoise(1), {}), isEngineError('closed', /closed/));
    await engine.close();
  });
});

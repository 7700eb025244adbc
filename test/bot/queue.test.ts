import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Transcription } from '../../main/bot/engine/types.js';
import { isBlankTranscript, QueueFullError, TranscriptionQueue } from '../../main/bot/queue.js';

/** An engine double that records the order it is asked in and answers when told to. */
function manualEngine() {
  const calls: { tag: number; done: (t: Transcription) => void; fail: (e: Error) => void }[] = [];
  return {
    calls,
    transcribe: (pcm: Float32Array) =>
      new Promise<Transcription>((done, fail) => calls.push({ tag: pcm[0]!, done, fail })),
    finish(i = 0) {
      const c = calls[i]!;
      c.done({ text: `t${c.tag}`, segments: [], language: 'en', encodeMs: 1, totalMs: 1 });
    },
  };
}

const item = (speaker: string, tag: number) => ({ speaker, samples: Float32Array.of(tag), opts: {} });
const tick = () => new Promise((r) => setImmediate(r));

test('fair between speakers, oldest first within one', async () => {
  const engine = manualEngine();
  const q = new TranscriptionQueue(engine, { capacity: 100 });
  const results: string[] = [];
  // A floods first; B and C arrive later, each with one utterance.
  for (const t of [1, 2, 3, 4]) void q.push(item('A', t)).then((r) => results.push(r.text));
  void q.push(item('B', 10)).then((r) => results.push(r.text));
  void q.push(item('C', 20)).then((r) => results.push(r.text));
  assert.equal(q.stats().depth, 5, 'one is running, five wait');
  for (let i = 0; i < 6; i++) {
    engine.finish(i);
    await tick();
  }
  assert.deepEqual(engine.calls.map((c) => c.tag), [1, 10, 20, 2, 3, 4], 'B and C do not wait behind all of A');
  assert.deepEqual(results, ['t1', 't10', 't20', 't2', 't3', 't4']);
  const s = q.stats();
  assert.equal(s.processed, 6);
  assert.equal(s.depth, 0);
});

test('full: the flooding speaker loses its oldest utterance, others keep theirs', async () => {
  const engine = manualEngine();
  const q = new TranscriptionQueue(engine, { capacity: 3 });
  const outcome: string[] = [];
  const track = (p: Promise<Transcription>, name: string) => p.then(() => outcome.push(`${name} ok`), (e: Error) => outcome.push(`${name} ${e instanceof QueueFullError ? 'dropped' : 'failed'}`));
  void track(q.push(item('A', 1)), 'A1'); // running
  void track(q.push(item('A', 2)), 'A2');
  void track(q.push(item('A', 3)), 'A3');
  void track(q.push(item('B', 9)), 'B9');
  void track(q.push(item('B', 8)), 'B8'); // full: A has the most waiting → A2 goes
  await tick();
  assert.deepEqual(outcome, ['A2 dropped']);
  assert.equal(q.stats().dropped, 1);
  assert.deepEqual(q.stats().bySpeaker, { A: 1, B: 2 });
});

test('an engine failure rejects that item only; the queue goes on', async () => {
  const engine = manualEngine();
  const q = new TranscriptionQueue(engine, { capacity: 10 });
  const a = q.push(item('A', 1));
  const b = q.push(item('B', 2));
  engine.calls[0]!.fail(new Error('engine crashed twice'));
  await assert.rejects(a, /crashed twice/);
  await tick();
  engine.finish(1);
  assert.equal((await b).text, 't2');
  assert.equal(q.stats().failed, 1);
});

test('blank transcripts produce no message', () => {
  for (const t of ['', '   ', '[BLANK_AUDIO]', ' [BLANK_AUDIO] ', '(silence)', '...', ' . , !', '[MUSIC] ♪']) assert.ok(isBlankTranscript(t), JSON.stringify(t));
  for (const t of ['hello', ' ok.', 'GG', '¿qué?', '42']) assert.ok(!isBlankTranscript(t), t);
});

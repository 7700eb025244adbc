import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Message } from '../../../common/schemas.js';
import { floodPlugin, type FloodSettings } from '../../../main/plugins/builtin/flood.js';
import { makeCtx, message, messageEvent, onlyAnnotation } from './ctx.js';

const DEFAULTS: FloodSettings = { maxMessages: 8, windowSeconds: 10, maxRepeats: 3, repeatWindowSeconds: 60 };

/** Runs the plugin for the last message of `history`. */
async function runLast(history: Message[], settings: Partial<FloodSettings> = {}) {
  const current = history.at(-1)!;
  const ctx = makeCtx({ ...DEFAULTS, ...settings }, { messages: history, current });
  return { output: await floodPlugin.handle(messageEvent(current), ctx), ctx };
}

/** `n` distinct messages from one participant, one per `every` seconds. */
function burst(n: number, every: number, participantId = 'p-alice', from = 0): Message[] {
  return Array.from({ length: n }, (_, i) => message(`message number ${i} ${participantId}`, { at: from + i * every, participantId }));
}

describe('flood plugin', () => {
  test('at the limit: nothing; one over: low severity rate annotation', async () => {
    assert.equal((await runLast(burst(8, 1))).output, null);
    const { output, ctx } = await runLast(burst(9, 1));
    const a = onlyAnnotation(output);
    assert.equal(a.type, 'flood');
    assert.equal(a.severity, 'low');
    assert.equal(a.score, 0.563); // 9 / 16
    assert.deepEqual(a.content, { categories: ['rate'], count: 9, windowSeconds: 10, rate: { count: 9, limit: 8, windowSeconds: 10 } });
    assert.equal(ctx.queries[0]!.participantId, 'p-alice');
    assert.equal(ctx.queries[0]!.sinceSeconds, 60);
  });

  test('twice the limit: medium severity, score 1', async () => {
    const a = onlyAnnotation((await runLast(burst(16, 0.5))).output);
    assert.equal(a.severity, 'medium');
    assert.equal(a.score, 1);
  });

  test('only messages inside the window count', async () => {
    // 12 messages, 2 s apart: the last 10 s hold 6
    assert.equal((await runLast(burst(12, 2))).output, null);
    const a = onlyAnnotation((await runLast(burst(12, 2), { maxMessages: 5 })).output);
    assert.deepEqual(a.content?.rate, { count: 6, limit: 5, windowSeconds: 10 });
  });

  test('other participants and participant-less messages do not count', async () => {
    const history = [...burst(6, 0.1, 'p-bob'), ...burst(8, 0.1, 'p-alice', 1)];
    assert.equal((await runLast(history)).output, null);
    const system = message('server restarting', { participantId: null, type: 'system' });
    assert.equal((await runLast([...burst(20, 0.1), system])).output, null);
  });

  test('repeated text: normalised, counted per participant', async () => {
    const history = [
      message('BUY GOLD at example.com', { at: 0 }),
      message('buy gold at example.com!!', { at: 10 }),
      message('something else', { at: 15 }),
      message('buy   gold at example.com', { at: 20 }),
      message('Buy gold at example.com', { at: 30, participantId: 'p-bob' }),
    ];
    assert.equal((await runLast(history.slice(0, 4))).output, null); // 3 = maxRepeats
    const fourth = [...history.slice(0, 4), message('buy gold at example.com.', { at: 40 })];
    const a = onlyAnnotation((await runLast(fourth)).output);
    assert.equal(a.severity, 'low');
    assert.equal(a.score, 0.667); // 4 / 6
    assert.deepEqual(a.content, { categories: ['repeat'], count: 4, windowSeconds: 60, repeat: { count: 4, limit: 3, windowSeconds: 60 } });
  });

  test('repeats outside the repeat window do not count', async () => {
    const history = [message('gg', { at: 0 }), message('gg', { at: 30 }), message('gg', { at: 70 }), message('gg', { at: 100 })];
    assert.equal((await runLast(history)).output, null); // only 3 within 60 s of the last
  });

  test('both rate and repeat: one annotation with both categories', async () => {
    const history = Array.from({ length: 9 }, (_, i) => message('spam spam', { at: i }));
    const a = onlyAnnotation((await runLast(history)).output);
    assert.deepEqual(a.content?.categories, ['rate', 'repeat']);
    assert.equal(a.content?.count, 9);
    assert.deepEqual(a.content?.repeat, { count: 9, limit: 3, windowSeconds: 60 });
    assert.equal(a.severity, 'medium'); // 9 ≥ 2 × 3 repeats
    assert.equal(a.score, 1);
  });

  test('a message without participant is ignored', async () => {
    const history = burst(20, 0.1, 'p-alice');
    const anonymous = message('hello', { participantId: null, at: 2 });
    const ctx = makeCtx(DEFAULTS, { messages: [...history, anonymous], current: anonymous });
    assert.equal(await floodPlugin.handle(messageEvent(anonymous), ctx), null);
    assert.equal(ctx.queries.length, 0);
  });
});

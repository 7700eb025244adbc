import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Message } from '../../../common/schemas.js';
import { summaryPlugin, type SummarySettings } from '../../../main/plugins/builtin/summary.js';
import { makeCtx, message, messageEvent, onlyAnnotation, resultOf, sessionEvent } from './ctx.js';

const DEFAULTS: SummarySettings = { maxSentences: 5 };

function say(senderName: string | null, content: string, at: number, type: 'user' | 'system' = 'user'): Message {
  return message(content, { senderName, at, type, participantId: senderName ? `p-${senderName.toLowerCase()}` : null });
}

function meeting(): Message[] {
  return [
    say(null, 'Recording started. Database migration bot online.', 0, 'system'),
    say('Alice', 'Hi everyone!', 1),
    say('Bob', 'hey', 2),
    say('Alice', 'Today we need to decide on the database migration for the release. The migration has to finish before Friday.', 3),
    say('Carol', 'lol ok', 4),
    say('Bob', 'I think the database migration should run during the night to avoid downtime for users.', 5),
    say('Carol', 'The database migration script still fails on the staging server.', 6),
    say('Bob', 'The database migration script still fails on the staging server!', 7),
    say('Alice', 'Carol, can you fix the migration script on staging by Wednesday?', 8),
    say('Carol', 'Sure, I will fix the staging script tomorrow.', 9),
    say('Bob', 'Did anyone watch the game yesterday?', 10),
    say('Alice', 'Great, then we release on Friday after the database migration finishes.', 11),
    say('Carol', 'ok bye', 12),
  ];
}

async function summarizeWith(messages: Message[], settings: SummarySettings = DEFAULTS, type: 'session.ended' | 'session.summary.requested' = 'session.ended') {
  const ctx = makeCtx(settings, { messages });
  const output = await summaryPlugin.handle(sessionEvent(type), ctx);
  return { output, ctx };
}

describe('summary plugin', () => {
  test('manifest', () => {
    assert.deepEqual(summaryPlugin.manifest.events, ['session.ended', 'session.summary.requested']);
  });

  test('picks the most representative sentences, in order, with speakers', async () => {
    const { output, ctx } = await summarizeWith(meeting());
    const expected = [
      'Alice: Today we need to decide on the database migration for the release.',
      'Alice: The migration has to finish before Friday.',
      'Carol: The database migration script still fails on the staging server.',
      'Alice: Carol, can you fix the migration script on staging by Wednesday?',
      'Alice: Great, then we release on Friday after the database migration finishes.',
    ].join('\n');
    const result = resultOf(output);
    assert.equal(result.summary, expected);
    const a = onlyAnnotation(output);
    assert.equal(a.target, 'session');
    assert.equal(a.type, 'summary');
    assert.deepEqual(a.content, { text: expected, sentenceCount: 5, messageCount: 12 });
    assert.deepEqual(ctx.queries, [{ limit: 500 }]);
  });

  test('drops near-duplicates, small talk and system messages', async () => {
    const text = resultOf((await summarizeWith(meeting(), { maxSentences: 20 })).output).summary!;
    const lines = text.split('\n');
    assert.equal(lines.filter((l) => l.includes('still fails on the staging server')).length, 1);
    assert.ok(!text.includes('Recording started'));
    assert.ok(lines.length < 15);
  });

  test('maxSentences limits the summary; it stays the best ones', async () => {
    const { output } = await summarizeWith(meeting(), { maxSentences: 2 });
    assert.equal(
      resultOf(output).summary,
      ['Alice: The migration has to finish before Friday.', 'Carol: The database migration script still fails on the staging server.'].join('\n'),
    );
  });

  test('on request too, and deterministic', async () => {
    const a = resultOf((await summarizeWith(meeting(), DEFAULTS, 'session.summary.requested')).output).summary;
    const b = resultOf((await summarizeWith(meeting(), DEFAULTS, 'session.summary.requested')).output).summary;
    assert.ok(a);
    assert.equal(a, b);
  });

  test('messages without a sender name have no prefix', async () => {
    const { output } = await summarizeWith([say(null, 'The quarterly budget review covers hardware spending.', 0), say(null, 'ok', 1)], { maxSentences: 1 });
    assert.equal(resultOf(output).summary, 'The quarterly budget review covers hardware spending.');
  });

  test('empty session: empty summary, no annotation', async () => {
    assert.deepEqual((await summarizeWith([])).output, { summary: '' });
    assert.deepEqual((await summarizeWith([say(null, 'Recording started.', 0, 'system')])).output, { summary: '' });
  });

  test('ignores other events', async () => {
    const ctx = makeCtx(DEFAULTS, { messages: meeting() });
    assert.equal(await summaryPlugin.handle(messageEvent(message('hello')), ctx), null);
    assert.equal(await summaryPlugin.handle(sessionEvent('session.created'), ctx), null);
    assert.equal(ctx.queries.length, 0);
  });
});

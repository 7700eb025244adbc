import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { findKeywords, keywordsPlugin, type KeywordMatch, type KeywordsSettings } from '../../../main/plugins/builtin/keywords.js';
import { checkRegex } from '../../../main/plugins/builtin/regex-safety.js';
import { makeCtx, message, messageEvent, onlyAnnotation } from './ctx.js';

const DEFAULTS: KeywordsSettings = { phrases: [], patterns: [], severity: 'medium', score: 1 };

async function run(content: string, settings: Partial<KeywordsSettings>) {
  const ctx = makeCtx({ ...DEFAULTS, ...settings });
  const output = await keywordsPlugin.handle(messageEvent(message(content)), ctx);
  return { output, ctx };
}

async function matches(content: string, settings: Partial<KeywordsSettings>): Promise<KeywordMatch[]> {
  const a = onlyAnnotation((await run(content, settings)).output);
  assert.equal(a.type, 'keyword');
  return (a.content as { matches: KeywordMatch[] }).matches;
}

describe('regex safety', () => {
  for (const pattern of ['(a+)+$', '(x+x+)+y', '(a|a)*b', '(\\w+\\s?)*$', '(.*a){12}', '(a)\\1']) {
    test(`rejects ${pattern}`, () => {
      assert.equal(typeof checkRegex(pattern, ''), 'string');
    });
  }

  test('names the reason', () => {
    assert.match(checkRegex('(a)\\1')!, /backreference/);
    assert.match(checkRegex('(?<x>a)\\k<x>', 'u')!, /backreference/);
    assert.match(checkRegex('(?<=\\$)\\d+')!, /lookbehind/);
    assert.match(checkRegex('(a+)+$')!, /nested quantifiers/);
    assert.match(checkRegex('(a|ab)*c')!, /alternatives inside a repeated group/);
    assert.match(checkRegex('(a|)+')!, /empty string/);
    assert.match(checkRegex('.*a.*b')!, /unbounded quantifiers/);
    assert.match(checkRegex('\\d+\\s*\\d+')!, /unbounded quantifiers/);
    assert.match(checkRegex('(')!, /^invalid regular expression/);
    assert.match(checkRegex('a'.repeat(501))!, /longer than 500/);
    assert.match(checkRegex('abc', 'g')!, /flags/);
    assert.match(checkRegex('(A|a)+', 'i')!, /alternatives/); // the same letter once case is ignored
  });

  for (const [pattern, flags] of [
    ['\\bfree\\s+v-?bucks\\b', 'i'],
    ['discord\\.gg/\\w+', 'i'],
    ['(foo|bar)+', ''],
    ['(?:\\d|[a-f])+', 'i'],
    ['\\w+@\\w+\\.com', ''],
    ['\\p{Lu}{3,}', 'u'],
    ['(?<code>[A-Z]{3})-\\d{4}', 'u'],
    ['https?://\\S+', ''],
    ['(A|a)+', ''],
  ] as const) {
    test(`accepts ${pattern}`, () => {
      assert.equal(checkRegex(pattern, flags), null);
    });
  }

  test('check plus run on a 10 KB adversarial string is fast', () => {
    const inputs = ['a'.repeat(10_240), 'free '.repeat(2048), 'free\t'.repeat(2047) + 'v-', 'discord.gg/'.repeat(931), 'x'.repeat(5000) + ' '.repeat(5240)];
    const started = performance.now();
    for (const p of ['(a+)+$', '(x+x+)+y', '(a|a)*b', '(\\w+\\s?)*$', '(.*a){12}', '(a)\\1']) assert.notEqual(checkRegex(p), null);
    for (const input of inputs) {
      for (const [p, f] of [['\\bfree\\s+v-?bucks\\b', 'i'], ['discord\\.gg/\\w+', 'i']] as const) {
        assert.equal(checkRegex(p, f), null);
        assert.equal([...input.matchAll(new RegExp(p, `${f}g`))].length > 10_000, false);
      }
    }
    const elapsed = performance.now() - started;
    assert.ok(elapsed < 1000, `took ${elapsed} ms`);
  });
});

describe('keywords plugin', () => {
  test('phrases: case-insensitive, whole words, any whitespace', async () => {
    const m = await matches('Get FREE\n  Robux now, free robuxx no', { phrases: ['free robux'] });
    assert.deepEqual(m, [{ keyword: 'free robux', text: 'FREE\n  Robux', start: 4, end: 16 }]);
  });

  test('phrases: no match inside words', async () => {
    assert.equal((await run('carefree robuxes', { phrases: ['free robux'] })).output, null);
  });

  test('phrases: the longest phrase wins, punctuation-edged phrases work', async () => {
    const m = await matches('sell account now!!! and $$$ here', { phrases: ['sell account', 'sell account now', '$$$'] });
    assert.deepEqual(
      m.map((x) => [x.keyword, x.text]),
      [['sell account now', 'sell account now'], ['$$$', '$$$']],
    );
  });

  test('phrases: leftmost-longest among phrases sharing words; punctuation spacing must match', () => {
    const settings = { ...DEFAULTS, phrases: ['free', 'free robux', 'free robux now', 'discord.gg'] };
    const found = (text: string) => findKeywords(text, settings).map((m) => m.keyword);
    assert.deepEqual(found('free robux now!'), ['free robux now']);
    assert.deepEqual(found('FREE robux, free stuff'), ['free robux', 'free']);
    assert.deepEqual(found('see discord.gg/abc but not discord . gg'), ['discord.gg']);
    assert.deepEqual(found('freedom'), []);
  });

  test('phrases: hundreds of phrases', () => {
    const phrases = Array.from({ length: 500 }, (_, i) => `word${i} phrase${i % 37}`);
    const m = findKeywords('a word499 phrase18 b word7 phrase7 c', { ...DEFAULTS, phrases });
    assert.deepEqual(m.map((x) => [x.keyword, x.start]), [['word499 phrase18', 2], ['word7 phrase7', 21]]);
  });

  test('patterns: matches with offsets, severity and score from settings', async () => {
    const { output } = await run('join discord.gg/abc123 for Free V-Bucks', {
      patterns: [{ pattern: '\\bfree\\s+v-?bucks\\b', flags: 'i' }, { pattern: 'discord\\.gg/\\w+', flags: '' }],
      severity: 'high',
      score: 0.8,
    });
    const a = onlyAnnotation(output);
    assert.equal(a.severity, 'high');
    assert.equal(a.score, 0.8);
    assert.deepEqual((a.content as { matches: KeywordMatch[] }).matches, [
      { keyword: 'discord\\.gg/\\w+', text: 'discord.gg/abc123', start: 5, end: 22 },
      { keyword: '\\bfree\\s+v-?bucks\\b', text: 'Free V-Bucks', start: 27, end: 39 },
    ]);
  });

  test('nothing configured or nothing found: no annotation', async () => {
    assert.equal((await run('free robux', {})).output, null);
    assert.equal((await run('hello there', { phrases: ['free robux'] })).output, null);
  });

  test('unsafe patterns are skipped at run time (and logged once)', async () => {
    const settings = { ...DEFAULTS, patterns: [{ pattern: '(a+)+$' }, { pattern: 'spam' }] };
    const ctx = makeCtx(settings);
    const first = await keywordsPlugin.handle(messageEvent(message('spam aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!')), ctx);
    assert.deepEqual(
      (onlyAnnotation(first).content as { matches: KeywordMatch[] }).matches.map((m) => m.keyword),
      ['spam'],
    );
    await keywordsPlugin.handle(messageEvent(message('spam again')), ctx);
    assert.equal(ctx.logs.filter((l) => l.level === 'warn').length, 1);
  });

  test('long texts are scanned in windows without losing or duplicating matches', async () => {
    const filler = 'lorem ipsum dolor sit amet '.repeat(400); // ~10.8 KB
    const text = `spam1 ${filler}spam2 ${filler}spam3`;
    const m = await matches(text, { patterns: [{ pattern: 'spam\\d' }] });
    assert.deepEqual(m.map((x) => x.text), ['spam1', 'spam2', 'spam3']);
    assert.deepEqual(m.map((x) => x.start), [0, text.indexOf('spam2'), text.indexOf('spam3')]);
    // a match in every window position, including the overlaps
    const dense = 'ab '.repeat(4000);
    const all = await matches(dense, { patterns: [{ pattern: 'ab' }] });
    assert.equal(all.length, 20); // per-keyword cap
    assert.deepEqual(all.map((x) => x.start), Array.from({ length: 20 }, (_, i) => i * 3));
  });

  test('window boundaries: matches just before, on and across them are found once', () => {
    // windows of 1,024 with 128 shared on each side: window k accepts starts in [768k + 128, 768k + 896)
    const positions: number[] = [];
    for (let k = 0; k < 6; k++) positions.push(768 * k + 890, 768 * k + (k % 2 ? 896 : 895), 768 * k + 1020);
    const chars = Array.from({ length: 5000 }, () => 'a');
    for (const p of positions) chars.splice(p, 3, 'X', 'y', 'Z');
    const text = chars.join('');
    const expected = [...text.matchAll(/XyZ/g)].map((m) => m.index);
    assert.deepEqual(expected, positions); // the fixture is what it claims to be
    const found = findKeywords(text, { ...DEFAULTS, patterns: [{ pattern: 'XyZ' }] });
    assert.deepEqual(found.map((m) => m.start), positions);
    assert.ok(found.every((m) => m.text === 'XyZ' && m.end === m.start + 3));
  });

  test('pattern scanning of one message stops after its time budget', async () => {
    // each pattern is quadratic on a run of word characters (~50 ms for 64 KB); 30 of them would take seconds
    const patterns = Array.from({ length: 30 }, (_, i) => ({ pattern: `\\w+x${i}`, flags: '' }));
    assert.ok(patterns.every((p) => checkRegex(p.pattern, p.flags) === null));
    const started = performance.now();
    const { output, ctx } = await run('a'.repeat(65_000), { patterns });
    const elapsed = performance.now() - started;
    assert.equal(output, null);
    assert.ok(elapsed < 1000, `took ${elapsed} ms`);
    assert.match(ctx.logs.find((l) => l.level === 'warn')?.msg ?? '', /exceeded 50 ms/);
  });

  test('validateSettings reports each bad pattern by its path', () => {
    const problems = keywordsPlugin.validateSettings!({
      ...DEFAULTS,
      phrases: ['free robux', 'FREE   robux', ' '],
      patterns: [{ pattern: 'ok\\d+' }, { pattern: '(a+)+$' }, { pattern: '(a)\\1', flags: 'i' }, { pattern: 'x', flags: 'g' }, { pattern: 'a*' }],
    });
    assert.deepEqual(
      problems.map((p) => p.field),
      ['phrases/1', 'phrases/2', 'patterns/1/pattern', 'patterns/2/pattern', 'patterns/3/flags', 'patterns/4/pattern'],
    );
    assert.match(problems[2]!.message, /nested quantifiers/);
    assert.match(problems[5]!.message, /empty string/);
    assert.deepEqual(keywordsPlugin.validateSettings!({ ...DEFAULTS, patterns: [{ pattern: '\\bfree\\s+v-?bucks\\b', flags: 'i' }] }), []);
  });
});

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { RegExpMatcher, SyntaxKind, englishDataset, englishRecommendedTransformers, type ParsedPattern } from 'obscenity';
import { analyzeToxicity, toxicityPlugin, type ToxicityMatch, type ToxicitySettings } from '../../../main/plugins/builtin/toxicity.js';
import { makeCtx, message, messageEvent, onlyAnnotation, session, sessionEvent } from './ctx.js';

const DEFAULTS: ToxicitySettings = { customWords: [], allowWords: [], minScore: 0.3 };

async function check(content: string, settings: Partial<ToxicitySettings> = {}) {
  const s = { ...DEFAULTS, ...settings };
  return toxicityPlugin.handle(messageEvent(message(content)), makeCtx(s));
}

async function flagged(content: string, settings: Partial<ToxicitySettings> = {}) {
  const a = onlyAnnotation(await check(content, settings));
  assert.equal(a.type, 'toxicity');
  assert.equal(a.target, 'message');
  const c = a.content as { categories: string[]; matches: ToxicityMatch[] };
  return { ...a, categories: c.categories, matches: c.matches };
}

describe('toxicity plugin', () => {
  test('manifest', () => {
    assert.equal(toxicityPlugin.manifest.id, 'toxicity');
    assert.equal(toxicityPlugin.manifest.version, '1.0.0');
    assert.deepEqual(toxicityPlugin.manifest.events, ['message.created']);
  });

  test('plain profanity is flagged with word, category and offsets', async () => {
    const r = await flagged('what the fuck is this');
    assert.equal(r.severity, 'medium');
    assert.equal(r.score, 0.6);
    assert.deepEqual(r.categories, ['profanity']);
    assert.deepEqual(r.matches, [{ word: 'fuck', category: 'profanity', severity: 'medium', start: 9, end: 13 }]);
  });

  for (const [text, word, start, end] of [
    ['f u c k', 'fuck', 0, 7],
    ['fuuuuck', 'fuck', 0, 7],
    ['sh1t', 'shit', 0, 4],
    ['F.U.C.K', 'fuck', 0, 7],
    ['f-u-c-k off', 'fuck', 0, 7],
    ['b1tch', 'bitch', 0, 5],
    ['FuCk', 'fuck', 0, 4],
    ['kiss my @ss', 'ass', 8, 11],
    ['well s h 1 t happens', 'shit', 5, 12],
    ['ｆｕｃｋ', 'fuck', 0, 4],
    ['f\u200bu\u200bc\u200bk', 'fuck', 0, 7],
    ['sh\u00adit', 'shit', 0, 5],
    ['x f\u200du\u200dc\u200dk', 'fuck', 2, 9],
  ] as const) {
    test(`obfuscated: ${JSON.stringify(text)} → ${word}`, async () => {
      const r = await flagged(text);
      assert.equal(r.matches.length, 1, JSON.stringify(r.matches));
      assert.equal(r.matches[0]!.word, word);
      assert.equal(r.matches[0]!.start, start);
      assert.equal(r.matches[0]!.end, end);
    });
  }

  for (const text of [
    'have a nice day',
    'classic assassin build',
    'I passed the exam',
    'Scunthorpe',
    'I will find you a team for tonight',
    "I'll shoot you a message later",
    'the dumbbell workout was hard',
    'U S A are playing tonight',
    'e.g. the analysis of the cocktail menu',
    'you are a great teammate',
  ]) {
    test(`clean: ${JSON.stringify(text)}`, async () => {
      assert.equal(await check(text), null);
    });
  }

  for (const text of ['I will kill you', "i'm gonna find you", 'kys', 'kill yourself', "you're dead", 'I know where you live', 'ima st4b you', 'I’ll hurt u']) {
    test(`threat: ${JSON.stringify(text)} is high severity`, async () => {
      const r = await flagged(text);
      assert.equal(r.severity, 'high');
      assert.deepEqual(r.categories, ['threat']);
      assert.ok((r.score ?? 0) >= 0.85);
      assert.equal(r.matches[0]!.start, 0);
      assert.equal(r.matches[0]!.end, text.length);
    });
  }

  test('insults: directed forms are medium, mild ones low', async () => {
    const directed = await flagged('honestly you are such an idiot');
    assert.deepEqual(directed.categories, ['insult']);
    assert.equal(directed.severity, 'medium');
    assert.equal(directed.matches[0]!.word, 'you are such an idiot');

    const trash = await flagged("you're trash at this game");
    assert.equal(trash.severity, 'medium');

    const mild = await flagged('shut up');
    assert.equal(mild.severity, 'low');
    assert.equal(mild.score, 0.35);

    const obfuscated = await flagged('what an 1d10t');
    assert.equal(obfuscated.matches[0]!.word, '1d10t');
  });

  test('slurs are high severity', async () => {
    const r = await flagged('that is so r3tarded');
    assert.deepEqual(r.categories, ['slur']);
    assert.equal(r.severity, 'high');
  });

  test('more matches raise the score a little; categories are unique', async () => {
    const r = await flagged('fuck this shit, you idiot');
    assert.deepEqual(r.categories, ['profanity', 'insult']);
    assert.equal(r.severity, 'medium');
    assert.equal(r.score, 0.7);
    assert.deepEqual(
      r.matches.map((m) => m.word),
      ['fuck', 'shit', 'idiot'],
    );
  });

  test('custom words: category, severity and obfuscation handling', async () => {
    const customWords: ToxicitySettings['customWords'] = [
      { word: 'noob', category: 'custom', severity: 'low' },
      { word: 'griefer', category: 'insult', severity: 'high' },
    ];
    for (const text of ['total n00b', 'total n 0 0 b', 'total NOOOOB', 'total noobs']) {
      const r = await flagged(text, { customWords });
      assert.deepEqual(r.matches.map((m) => [m.word, m.category, m.severity]), [['noob', 'custom', 'low']], text);
    }
    const g = await flagged('stop being a gr1efer', { customWords });
    assert.deepEqual(g.categories, ['insult']);
    assert.equal(g.severity, 'high');
    assert.equal(g.matches[0]!.start, 13);
    // custom words match at word starts only
    assert.equal(await check('snoob', { customWords }), null);
    // without the setting they are not flagged
    assert.equal(await check('total noob'), null);
  });

  test('allow words are never flagged', async () => {
    assert.equal((await flagged('cumin and pepper')).matches[0]!.word, 'cum'); // obscenity false positive…
    assert.equal(await check('cumin and pepper', { allowWords: ['Cumin'] }), null); // …fixed by the allow list
    assert.equal(await check('sex education', { allowWords: ['sex'] }), null);
    assert.equal(await check('stupid bug again', { allowWords: ['stupid'] }), null);
    // an allow word does not hide other matches
    const r = await flagged('cumin is shit', { allowWords: ['cumin'] });
    assert.deepEqual(r.matches.map((m) => m.word), ['shit']);
  });

  test('minScore filters weak results', async () => {
    assert.equal(await check('kiss my ass', { minScore: 0.5 }), null);
    assert.equal((await flagged('fuck off', { minScore: 0.5 })).score, 0.6);
  });

  test('finds everything obscenity itself finds (the clean-text prefilter loses nothing)', () => {
    // one sample text per dataset pattern, spelled from the pattern (wildcards as "u")
    const spell = (p: ParsedPattern) =>
      p.nodes
        .map((n) => (n.kind === SyntaxKind.Literal ? String.fromCodePoint(...n.chars) : n.kind === SyntaxKind.Wildcard ? 'u' : ''))
        .join('');
    const reference = new RegExpMatcher({ ...englishDataset.build(), ...englishRecommendedTransformers });
    let compared = 0;
    for (const { pattern } of englishDataset.build().blacklistedTerms) {
      for (const text of [`hey ${spell(pattern)} there`, `${spell(pattern).toUpperCase()}!!`]) {
        const expected = new Set(reference.getAllMatches(text).map((m) => englishDataset.getPayloadWithPhraseMetadata(m).phraseMetadata?.originalWord));
        const found = new Set(analyzeToxicity(text, DEFAULTS)?.matches.map((m) => m.word));
        for (const word of expected) assert.ok(found.has(word ?? ''), `${JSON.stringify(text)}: ${word}`);
        compared += expected.size;
      }
    }
    assert.ok(compared > 100);
  });

  test('stays fast on long adversarial texts', () => {
    for (const text of ['i' + ' \t'.repeat(32_000), 'you' + ' \t'.repeat(32_000) + 'x', 'a '.repeat(32_000), 'fuck '.repeat(13_000), 'you are a '.repeat(6_000), '😀'.repeat(30_000)]) {
      const started = performance.now();
      analyzeToxicity(text, DEFAULTS);
      const elapsed = performance.now() - started;
      assert.ok(elapsed < 1000, `${JSON.stringify(text.slice(0, 12))}: ${elapsed} ms`);
    }
  });

  test('ignores other events and empty content', async () => {
    assert.equal(await toxicityPlugin.handle(sessionEvent('session.ended', session()), makeCtx(DEFAULTS)), null);
    assert.equal(await check(''), null);
  });

  test('validateSettings: custom words need a letter and must be unique', () => {
    const problems = toxicityPlugin.validateSettings!({
      ...DEFAULTS,
      customWords: [
        { word: 'noob', category: 'custom', severity: 'low' },
        { word: '1234', category: 'custom', severity: 'low' },
        { word: 'N00B', category: 'insult', severity: 'high' },
      ],
      allowWords: ['ok', '  '],
    });
    assert.deepEqual(problems, [
      { field: 'customWords/1/word', message: 'must contain at least one letter' },
      { field: 'customWords/2/word', message: 'duplicate of customWords/0/word' },
      { field: 'allowWords/1', message: 'must not be blank' },
    ]);
    assert.deepEqual(toxicityPlugin.validateSettings!(DEFAULTS), []);
  });
});

/**
 * `toxicity`: profanity, slurs, sexual terms, insults and threats in chat messages.
 *
 * Layers, all over the same text:
 *  0. Invisible format characters (zero-width space/joiners, soft hyphen) are dropped.
 *  1. Spaced-out letters are joined: runs of three or more single characters separated by
 *     up to three spaces or punctuation marks (`f u c k`, `F.U.C.K`, `f-u-c-k`, `s_h_1_t`)
 *     become one word, with a position map back to the original text.
 *  2. obscenity's English dataset plus the installation's custom words (compiled as obscenity
 *     patterns, matched at word starts) with obscenity's recommended transformers: Unicode
 *     confusables (`ｆｕｃｋ`), leetspeak (`sh1t`, `@ss`, `b1tch`), case and repeated letters
 *     (`fuuuuck`). A single regex of all patterns over the transformed text first rules out
 *     clean messages, so obscenity's per-pattern scan only runs for likely hits.
 *  3. Our own insult and threat expressions over the same text, normalised the same way except
 *     that `!`, `|`, `(` and `/` stay punctuation.
 * Allow words are removed from obscenity's results through its whitelist (a match inside an
 * allowed word is dropped) and by word (allowing `sex` drops every `sex` match, however
 * spelled); insult/threat matches are dropped when they lie inside an allowed word or equal one.
 *
 * Not caught: words split into multi-letter chunks (`fu ck`, `sh it`), letters separated by
 * apostrophes or `!` (`f'u'c'k`), several symbols in place of letters (`f**k`; one symbol is
 * caught where obscenity has a wildcard, e.g. `f*ck`), phonetic or reversed spellings (`phuck`),
 * non-English words unless added as custom words, and anything that needs context (sarcasm,
 * threats without the listed verbs, "you're dead" said in a game).
 */
import {
  DataSet,
  RegExpMatcher,
  SyntaxKind,
  collapseDuplicatesTransformer,
  englishDataset,
  englishRecommendedBlacklistMatcherTransformers,
  englishRecommendedWhitelistMatcherTransformers,
  parseRawPattern,
  remapCharactersTransformer,
  type ParsedPattern,
  resolveConfusablesTransformer,
  toAsciiLowerCaseTransformer,
  type TransformerContainer,
} from 'obscenity';
import type { Severity } from '../api.js';
import type { BuiltinPlugin, SettingsProblem } from './types.js';
import { arrayOr, isSeverity, maxSeverity, messageOf, numberOr, one, settingsCache } from './util.js';

export const TOXICITY_CATEGORIES = ['profanity', 'slur', 'insult', 'threat', 'sexual', 'custom'] as const;
export type ToxicityCategory = (typeof TOXICITY_CATEGORIES)[number];

export type ToxicityCustomWord = { word: string; category: ToxicityCategory; severity: Severity };

export type ToxicitySettings = {
  /** Extra words, matched with the same obfuscation handling as the built-in list. */
  customWords: ToxicityCustomWord[];
  /** Words never flagged (e.g. place names that contain a listed word). */
  allowWords: string[];
  /** Nothing is reported when the score is below this. */
  minScore: number;
};

export type ToxicityMatch = {
  /** The listed word (dataset or custom word) or, for insults and threats, the matched text (lower-cased). */
  word: string;
  category: ToxicityCategory;
  severity: Severity;
  /** Offsets in the original text (UTF-16 code units, end exclusive). */
  start?: number;
  end?: number;
};

export type ToxicityResult = {
  score: number;
  severity: Severity;
  categories: ToxicityCategory[];
  matches: ToxicityMatch[];
};

const SEVERITY_BASE: Record<Severity, number> = { low: 0.35, medium: 0.6, high: 0.85 };
/** Added to the score for every match beyond the first. */
const EXTRA_MATCH_BONUS = 0.05;
const MAX_MATCHES = 50;

// ---- the obscenity dataset, classified --------------------------------------------------

type WordClass = readonly [ToxicityCategory, Severity];
const SLUR_HIGH: WordClass = ['slur', 'high'];

/** Category and severity of obscenity's English words; anything missing is profanity/medium. */
const DATASET_WORDS: Record<string, WordClass> = {
  // slurs
  abeed: SLUR_HIGH, abo: SLUR_HIGH, africoon: SLUR_HIGH, arabush: SLUR_HIGH, boonga: SLUR_HIGH,
  chingchong: SLUR_HIGH, chink: SLUR_HIGH, dyke: SLUR_HIGH, fag: SLUR_HIGH, kike: SLUR_HIGH,
  nigger: SLUR_HIGH, retard: SLUR_HIGH, spastic: SLUR_HIGH, tranny: SLUR_HIGH,
  // also the ordinary Spanish/Portuguese word for "black": a slur in English, but not high by itself
  negro: ['slur', 'medium'],
  // profanity
  fuck: ['profanity', 'medium'], shit: ['profanity', 'medium'], bitch: ['profanity', 'medium'],
  cunt: ['profanity', 'high'], bastard: ['profanity', 'medium'], twat: ['profanity', 'medium'],
  wank: ['profanity', 'medium'], prick: ['profanity', 'medium'], dick: ['profanity', 'medium'],
  cock: ['profanity', 'medium'], cuck: ['profanity', 'medium'], slut: ['profanity', 'medium'],
  whore: ['profanity', 'medium'], pussy: ['profanity', 'medium'], ass: ['profanity', 'low'],
  arse: ['profanity', 'low'], bollocks: ['profanity', 'low'], piss: ['profanity', 'low'], turd: ['profanity', 'low'],
  // sexual
  rape: ['sexual', 'high'], bestiality: ['sexual', 'high'], incest: ['sexual', 'high'],
  anal: ['sexual', 'medium'], blowjob: ['sexual', 'medium'], buttplug: ['sexual', 'medium'], cum: ['sexual', 'medium'],
  deepthroat: ['sexual', 'medium'], dildo: ['sexual', 'medium'], doggystyle: ['sexual', 'medium'],
  'double penetration': ['sexual', 'medium'], ejaculate: ['sexual', 'medium'], felch: ['sexual', 'medium'],
  fellatio: ['sexual', 'medium'], 'finger bang': ['sexual', 'medium'], fisting: ['sexual', 'medium'],
  gangbang: ['sexual', 'medium'], handjob: ['sexual', 'medium'], hentai: ['sexual', 'medium'],
  'jerk off': ['sexual', 'medium'], jizz: ['sexual', 'medium'], lubejob: ['sexual', 'medium'],
  masturbate: ['sexual', 'medium'], orgy: ['sexual', 'medium'], porn: ['sexual', 'medium'],
  anus: ['sexual', 'low'], boob: ['sexual', 'low'], hooker: ['sexual', 'low'], orgasm: ['sexual', 'low'],
  penis: ['sexual', 'low'], scat: ['sexual', 'low'], semen: ['sexual', 'low'], sex: ['sexual', 'low'],
  tit: ['sexual', 'low'], vagina: ['sexual', 'low'],
};

/** Phrase metadata in our combined dataset. `custom` is set for the installation's words. */
type PhraseMeta = { originalWord: string; custom?: { category: ToxicityCategory; severity: Severity } };

// ---- text normalisation -----------------------------------------------------------------

/** A "letter" for the spaced-out detection: letters, digits and the leetspeak symbols @ and $. */
const TOKEN = String.raw`[\p{L}\p{N}@$]`;
/** What may separate spaced-out letters: whitespace and common punctuation (not ' or !). */
const SEPARATOR = String.raw`[\s._*~+=:;,\-\/\\|^#]{1,3}`;
/** Three or more single characters separated by separators, e.g. `f u c k`, `F.U.C.K`. */
const SPACED_RUN = new RegExp(`(?<!${TOKEN})${TOKEN}(?:${SEPARATOR}${TOKEN}(?!${TOKEN})){2,}`, 'gu');
const TOKEN_CHAR = new RegExp(TOKEN, 'gu');

/** Text plus, for each UTF-16 code unit, the index of the code unit it came from in the original. */
type MappedText = { text: string; map: number[] | null };

/** Joins spaced-out letters. `map` is null when nothing was joined (text unchanged). */
export function collapseSpacedLetters(input: string): MappedText {
  SPACED_RUN.lastIndex = 0;
  const any = SPACED_RUN.test(input);
  SPACED_RUN.lastIndex = 0; // matchAll below starts from the regex's lastIndex
  if (!any) return { text: input, map: null };
  let text = '';
  const map: number[] = [];
  const copy = (from: number, to: number) => {
    text += input.slice(from, to);
    for (let i = from; i < to; i++) map.push(i);
  };
  let last = 0;
  for (const run of input.matchAll(SPACED_RUN)) {
    copy(last, run.index);
    for (const ch of run[0].matchAll(TOKEN_CHAR)) copy(run.index + ch.index, run.index + ch.index + ch[0].length);
    last = run.index + run[0].length;
  }
  copy(last, input.length);
  return { text, map };
}

const INVISIBLE = /\p{Cf}/u;
const INVISIBLE_RUNS = /\p{Cf}+/gu;

/** Drops format characters (zero-width space/joiners, soft hyphen, BOM, bidi controls). */
export function stripInvisible(input: string): MappedText {
  if (!INVISIBLE.test(input)) return { text: input, map: null };
  let text = '';
  const map: number[] = [];
  let last = 0;
  for (const run of input.matchAll(INVISIBLE_RUNS)) {
    text += input.slice(last, run.index);
    for (let i = last; i < run.index; i++) map.push(i);
    last = run.index + run[0].length;
  }
  text += input.slice(last);
  for (let i = last; i < input.length; i++) map.push(i);
  return { text, map };
}

/** `inner` was derived from `outer.text`; the result maps `inner.text` to what `outer` came from. */
function compose(outer: MappedText, inner: MappedText): MappedText {
  if (!outer.map) return inner;
  const outerMap = outer.map;
  return { text: inner.text, map: inner.map ? inner.map.map((i) => outerMap[i]!) : outerMap };
}

type CharFn = (char: number) => number | undefined;
type Chain = { fns: CharFn[]; reset: () => void };

/** Instantiates transformer containers (stateful ones get their own state). */
function chainOf(containers: readonly TransformerContainer[]): Chain {
  const fns: CharFn[] = [];
  const resets: (() => void)[] = [];
  for (const c of containers) {
    if ('factory' in c) {
      const t = c.factory();
      fns.push((char) => t.transform(char));
      resets.push(() => t.reset());
    } else {
      fns.push(c.transform);
    }
  }
  return { fns, reset: () => resets.forEach((r) => r()) };
}

/**
 * Applies a transformer chain the way obscenity does. `map[k]` is the index (in `input`) of the
 * code point that produced output code unit `k`.
 */
function applyChain(input: string, chain: Chain): { text: string; map: number[] } {
  let text = '';
  const map: number[] = [];
  for (let i = 0; i < input.length; ) {
    const cp = input.codePointAt(i)!;
    const width = cp > 0xffff ? 2 : 1;
    let c: number | undefined = cp;
    for (let f = 0; f < chain.fns.length && c !== undefined; f++) c = chain.fns[f]!(c);
    if (c !== undefined) {
      const s = String.fromCodePoint(c);
      text += s;
      map.push(i);
      if (s.length === 2) map.push(i);
    }
    i += width;
  }
  chain.reset();
  return { text, map };
}

/** Same repeated-letter thresholds as obscenity's English preset. */
const collapseRepeats = () =>
  collapseDuplicatesTransformer({
    defaultThreshold: 1,
    customThresholds: new Map([['b', 2], ['e', 2], ['o', 2], ['l', 2], ['s', 2], ['g', 2]]),
  });

/**
 * Normalisation for our insult/threat expressions: like obscenity's, but `!`, `|`, `(` and `/`
 * are not read as letters (they are ordinary punctuation far more often than leetspeak).
 */
const PHRASE_TRANSFORMERS: TransformerContainer[] = [
  resolveConfusablesTransformer(),
  remapCharactersTransformer({ a: '@4', e: '3', i: '1', o: '0', s: '$5', t: '7', "'": '’‘`´ʼ' }),
  toAsciiLowerCaseTransformer(),
  collapseRepeats(),
];

// ---- insults and threats ----------------------------------------------------------------

const YOU = String.raw`(?:you|u|ya|yu)`;
const ARE = String.raw`(?:\s*'\s*re|re|\s+are|\s+r)`;
/**
 * An optional apostrophe with optional whitespace around it. Written so that it stays linear:
 * `\s*'?\s*` would try every split of a whitespace run (quadratic on `i` + 64 KB of " \t").
 */
const APOSTROPHE = String.raw`(?:\s*'\s*|\s*)`;
/** "I'll", "I will", "I'm gonna", "I am going to", "imma", … (after normalisation: gonna → gona). */
const I_WILL = String.raw`\bi(?:${APOSTROPHE}l{1,2}|\s+wil{1,2}|\s+shal{1,2}|${APOSTROPHE}m\s+(?:going\s+to|gona|gon)|\s+am\s+(?:going\s+to|gona)|\s+(?:gona|wana|want\s+to|wil{1,2}\s+come\s+and)|ma)`;
const INSULT_NOUN = String.raw`(?:idiot|moron|imbecile|loser|clown|joke|failure|disgrace|nobody|freak|pig|rat|parasite|cretin|halfwit|dimwit|dumbas{1,2}|jackas{1,2}|retard|bitch|prick|twat|cunt|piece\s+of\s+(?:trash|garbage|crap|shit|work)|waste\s+of\s+(?:space|air|oxygen|time))`;

type PhraseRule = { category: 'insult' | 'threat'; severity: Severity; source: string };

/** Ordered: at one position the first rule wins, so longer/more serious forms come first. */
const PHRASE_RULES: PhraseRule[] = [
  { category: 'threat', severity: 'high', source: String.raw`${I_WILL}\s+(?:kil{1,2}|hurt|murder|stab|strangle|rape|beat)\s+${YOU}\b` },
  // "find/shoot you" only when it is not "I'll find you a team" / "I'll shoot you a message".
  {
    category: 'threat',
    severity: 'high',
    source: String.raw`${I_WILL}\s+(?:find|sho{1,2}t)\s+${YOU}\b(?!\s+(?:a|an|the|some|my|later|in|on|at|when|after|there|guys|all)\b)`,
  },
  { category: 'threat', severity: 'high', source: String.raw`\bkil{1,2}\s*(?:your|ur|yo)\s*(?:self|selves|slf)\b` },
  { category: 'threat', severity: 'high', source: String.raw`\bkys\b` },
  { category: 'threat', severity: 'high', source: String.raw`\b(?:${YOU}${ARE}|ur)\s+dead\b` },
  { category: 'threat', severity: 'high', source: String.raw`\bi\s+know\s+where\s+${YOU}\s+live\b` },
  { category: 'threat', severity: 'high', source: String.raw`\bhope\s+${YOU}\s+die\b` },
  { category: 'insult', severity: 'medium', source: String.raw`\b${YOU}${ARE}?\s+(?:such\s+)?an?\s+(?:[a-z]+\s+){0,2}?${INSULT_NOUN}` },
  {
    category: 'insult',
    severity: 'medium',
    source: String.raw`\b(?:${YOU}${ARE}?|ur)\s+(?:so\s+|such\s+|really\s+)?(?:trash|garbage|worthless|useless|pathetic|stupid|dumb|ugly|a\s+joke)\b`,
  },
  { category: 'insult', severity: 'medium', source: String.raw`\b(?:idiot|moron|imbecile|cretin|halfwit|dimwit|nitwit|dumbas{1,2}|jackas{1,2}|dipshit|scumbag)` },
  { category: 'insult', severity: 'low', source: String.raw`\b(?:loser|stupid|dumb|pathetic|stfu|gtfo)\b` },
  { category: 'insult', severity: 'low', source: String.raw`\bshut\s+(?:the\s+[a-z]+\s+)?up\b` },
  { category: 'insult', severity: 'low', source: String.raw`\b${YOU}\s+suck\b` },
];

/** One regex, one capture group per rule (rules use only non-capturing groups). */
const PHRASE_RE = new RegExp(PHRASE_RULES.map((r) => `(${r.source})`).join('|'), 'g');

// ---- compiled settings ------------------------------------------------------------------

type Compiled = {
  matcher: RegExpMatcher;
  /** Every blacklisted pattern in one regex: if it does not match the transformed text, nothing can. */
  prefilter: RegExp;
  dataset: DataSet<PhraseMeta>;
  blacklistChain: Chain;
  phraseChain: Chain;
  /** Lower-cased, whitespace-normalised allow words. */
  allow: Set<string>;
  allowList: string[];
  minScore: number;
};

/** The regex source obscenity compiles a pattern to (see obscenity's `compilePatternToRegExp`). */
function patternSource(pattern: ParsedPattern): string {
  const literal = (chars: number[]) => chars.map((c) => String.fromCodePoint(c).replace(/[[\].*+?^${}()|\\]/g, '\\$&')).join('');
  let src = pattern.requireWordBoundaryAtStart ? '\\b' : '';
  for (const node of pattern.nodes) {
    if (node.kind === SyntaxKind.Literal) src += literal(node.chars);
    else if (node.kind === SyntaxKind.Wildcard) src += '.';
    else src += `(?:${node.childNode.kind === SyntaxKind.Literal ? literal(node.childNode.chars) : '.'})?`;
  }
  return pattern.requireWordBoundaryAtEnd ? `${src}\\b` : src;
}

function normaliseWord(word: string): string {
  return word.toLowerCase().replace(/\s+/g, ' ').trim();
}

/** A custom word as it looks after obscenity's transformers (what its pattern must spell). */
function customWordKey(word: string, chain: Chain): string {
  return applyChain(normaliseWord(word), chain).text;
}

const HAS_LETTER = /\p{L}/u;

function compile(settings: Partial<ToxicitySettings>): Compiled {
  const blacklistChain = chainOf(englishRecommendedBlacklistMatcherTransformers);
  const allowList = [...new Set(arrayOr(settings.allowWords).filter((w) => typeof w === 'string').map(normaliseWord).filter(Boolean))];
  const allow = new Set(allowList);
  const dataset = new DataSet<PhraseMeta>()
    .addAll(englishDataset)
    // obscenity's `jizz` pattern can never match once repeated letters are collapsed
    .addPhrase((p) => p.setMetadata({ originalWord: 'jizz' }).addPattern(parseRawPattern('|jiz')));
  const seen = new Set<string>();
  for (const entry of arrayOr(settings.customWords)) {
    if (!entry || typeof entry.word !== 'string' || !HAS_LETTER.test(entry.word)) continue;
    const key = customWordKey(entry.word, blacklistChain);
    if (!key.trim() || seen.has(key)) continue;
    seen.add(key);
    const category = TOXICITY_CATEGORIES.includes(entry.category) ? entry.category : 'custom';
    const severity = isSeverity(entry.severity) ? entry.severity : 'medium';
    try {
      const pattern = parseRawPattern(`|${key.replace(/[\\[\]?|]/g, '\\$&')}`);
      dataset.addPhrase((p) => p.setMetadata({ originalWord: normaliseWord(entry.word), custom: { category, severity } }).addPattern(pattern));
    } catch {
      // unparsable after escaping: cannot happen, but a bad word must not break the plugin
    }
  }
  const built = dataset.build();
  const matcher = new RegExpMatcher({
    blacklistedTerms: built.blacklistedTerms,
    whitelistedTerms: [...(built.whitelistedTerms ?? []), ...allowList],
    blacklistMatcherTransformers: englishRecommendedBlacklistMatcherTransformers,
    whitelistMatcherTransformers: englishRecommendedWhitelistMatcherTransformers,
  });
  return {
    matcher,
    prefilter: new RegExp(built.blacklistedTerms.map((t) => patternSource(t.pattern)).join('|'), 's'),
    dataset,
    blacklistChain,
    phraseChain: chainOf(PHRASE_TRANSFORMERS),
    allow,
    allowList,
    minScore: numberOr(settings.minScore, 0.3, 0, 1),
  };
}

const compiled = settingsCache<Partial<ToxicitySettings>, Compiled>(compile);

// ---- analysis ---------------------------------------------------------------------------

type Span = { start: number; end: number };

/** Maps a span of `mapped.text` (end exclusive) back to the text it was derived from. */
function spanBack(mapped: MappedText, start: number, end: number): Span {
  if (!mapped.map) return { start, end };
  return { start: mapped.map[start]!, end: mapped.map[end - 1]! + 1 };
}

/** Occurrences of the allow words in (lower-cased) text. */
function allowedSpans(lowerText: string, allowList: readonly string[]): Span[] {
  const spans: Span[] = [];
  for (const word of allowList) {
    for (let i = lowerText.indexOf(word); i !== -1; i = lowerText.indexOf(word, i + 1)) spans.push({ start: i, end: i + word.length });
  }
  return spans;
}

/** Scores a text; null when nothing was found. Does not apply `minScore`. */
export function analyzeToxicity(text: string, settings: Partial<ToxicitySettings>): ToxicityResult | null {
  const c = compiled(settings);
  const visible = stripInvisible(text);
  const collapsed = compose(visible, collapseSpacedLetters(visible.text));
  const found: ToxicityMatch[] = [];

  // 1. obscenity: dataset + custom words (positions are in the collapsed text, end inclusive).
  //    Most messages are clean: one combined regex over the same transformed text rules them out.
  const dirty = c.prefilter.test(applyChain(collapsed.text, c.blacklistChain).text);
  for (const payload of dirty ? c.matcher.getAllMatches(collapsed.text, true) : []) {
    const { phraseMetadata } = c.dataset.getPayloadWithPhraseMetadata(payload);
    const word = phraseMetadata?.originalWord ?? '';
    if (c.allow.has(word)) continue;
    const [category, severity] = phraseMetadata?.custom
      ? [phraseMetadata.custom.category, phraseMetadata.custom.severity]
      : (DATASET_WORDS[word] ?? ['profanity', 'medium']);
    found.push({ word, category, severity, ...spanBack(collapsed, payload.startIndex, payload.endIndex + 1) });
  }

  // 2. insults and threats over the normalised collapsed text
  const normalised = applyChain(collapsed.text, c.phraseChain);
  PHRASE_RE.lastIndex = 0;
  const anyPhrase = PHRASE_RE.test(normalised.text);
  PHRASE_RE.lastIndex = 0; // matchAll below starts from the regex's lastIndex
  if (anyPhrase) {
    const allowed = c.allowList.length ? allowedSpans(collapsed.text.toLowerCase(), c.allowList) : [];
    for (const m of normalised.text.matchAll(PHRASE_RE)) {
      const rule = PHRASE_RULES[m.findIndex((g, i) => i > 0 && g !== undefined) - 1];
      if (!rule) continue;
      const inCollapsed = { start: normalised.map[m.index]!, end: normalised.map[m.index + m[0].length - 1]! + 1 };
      // a normalised char can come from a surrogate pair: extend the end over it
      const cp = collapsed.text.codePointAt(inCollapsed.end - 1)!;
      if (cp > 0xffff) inCollapsed.end++;
      const span = spanBack(collapsed, inCollapsed.start, inCollapsed.end);
      const word = text.slice(span.start, span.end).toLowerCase().replace(/\s+/g, ' ');
      if (c.allow.has(word) || allowed.some((a) => a.start <= inCollapsed.start && a.end >= inCollapsed.end)) continue;
      found.push({ word, category: rule.category, severity: rule.severity, ...span });
    }
  }
  if (found.length === 0) return null;

  // same word matched twice at overlapping positions (two patterns of one phrase) counts once
  found.sort((a, b) => a.start! - b.start! || b.end! - a.end!);
  const matches: ToxicityMatch[] = [];
  for (const m of found) {
    if (matches.some((k) => k.word === m.word && k.start! < m.end! && m.start! < k.end!)) continue;
    matches.push(m);
    if (matches.length >= MAX_MATCHES) break;
  }
  let severity: Severity = 'low';
  for (const m of matches) severity = maxSeverity(severity, m.severity);
  const score = Math.min(1, Math.round((SEVERITY_BASE[severity] + EXTRA_MATCH_BONUS * (matches.length - 1)) * 100) / 100);
  const categories = [...new Set(matches.map((m) => m.category))];
  return { score, severity, categories, matches };
}

// ---- plugin -----------------------------------------------------------------------------

const severitySchema = { type: 'string', enum: ['low', 'medium', 'high'] };

export const toxicityPlugin: BuiltinPlugin<ToxicitySettings> = {
  manifest: {
    id: 'toxicity',
    name: 'Toxicity',
    version: '1.0.0',
    description:
      'Flags profanity, slurs, sexual terms, insults and threats, including obfuscated spellings (leetspeak, repeated or spaced-out letters).',
    events: ['message.created'],
    settingsSchema: {
      type: 'object',
      additionalProperties: false,
      properties: {
        customWords: {
          type: 'array',
          description: 'Extra words to flag; matched with the same obfuscation handling as the built-in list.',
          maxItems: 500,
          default: [],
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['word'],
            properties: {
              word: { type: 'string', minLength: 1, maxLength: 100 },
              category: { type: 'string', enum: [...TOXICITY_CATEGORIES], default: 'custom' },
              severity: { ...severitySchema, default: 'medium' },
            },
          },
        },
        allowWords: {
          type: 'array',
          description: 'Words never flagged, e.g. names that contain a listed word.',
          maxItems: 500,
          default: [],
          items: { type: 'string', minLength: 1, maxLength: 100 },
        },
        minScore: { type: 'number', minimum: 0, maximum: 1, default: 0.3, description: 'Report nothing below this score.' },
      },
    },
  },

  handle(event, ctx) {
    const message = messageOf(event);
    if (!message || !message.content) return null;
    const settings = ctx.settings ?? {};
    const result = analyzeToxicity(message.content, settings);
    if (!result || result.score < compiled(settings).minScore) return null;
    return one({
      target: 'message',
      type: 'toxicity',
      score: result.score,
      severity: result.severity,
      content: { categories: result.categories, matches: result.matches },
    });
  },

  validateSettings(settings) {
    const problems: SettingsProblem[] = [];
    const chain = chainOf(englishRecommendedBlacklistMatcherTransformers);
    const firstIndex = new Map<string, number>();
    arrayOr(settings.customWords).forEach((entry, i) => {
      const field = `customWords/${i}/word`;
      if (!entry || typeof entry.word !== 'string' || !HAS_LETTER.test(entry.word)) {
        problems.push({ field, message: 'must contain at least one letter' });
        return;
      }
      const key = customWordKey(entry.word, chain);
      const first = firstIndex.get(key);
      if (first !== undefined) problems.push({ field, message: `duplicate of customWords/${first}/word` });
      else firstIndex.set(key, i);
    });
    arrayOr(settings.allowWords).forEach((word, i) => {
      if (typeof word !== 'string' || !word.trim()) problems.push({ field: `allowWords/${i}`, message: 'must not be blank' });
    });
    return problems;
  },
};

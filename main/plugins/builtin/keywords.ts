/**
 * `keywords`: a per-project watchlist of phrases and regular expressions.
 *
 * Phrases match case-insensitively (lower-casing), as whole words, with any whitespace between
 * their words: both phrase and text are split into tokens (runs of letters, marks, digits and
 * `_`, or single other characters) and matched through a token trie, so the cost does not grow
 * with the number of phrases. Punctuation inside a phrase must be spaced as in the phrase
 * (`discord.gg` does not match `discord . gg`). The longest phrase at a position wins.
 *
 * Patterns must pass `checkRegex` (see regex-safety.ts); unsafe ones are reported by
 * `validateSettings` and skipped at run time (logged once). Texts longer than 1,024 characters
 * are scanned in overlapping windows (1,024 characters, 128 shared with each neighbour), so a
 * pattern with quadratic worst-case behaviour (`\w+x`) costs O(length × 1 KB), not O(length²);
 * a match longer than 128 characters may be cut short or missed in such texts. As a last
 * resort, once pattern scanning of one message has taken 50 ms the remaining patterns are
 * skipped for that message (and a warning logged).
 */
import type { Severity } from '../api.js';
import { checkFlags, checkRegex } from './regex-safety.js';
import type { BuiltinPlugin, SettingsProblem } from './types.js';
import { arrayOr, isSeverity, messageOf, numberOr, one, settingsCache } from './util.js';

export type KeywordPattern = { pattern: string; flags?: string };

export type KeywordsSettings = {
  phrases: string[];
  patterns: KeywordPattern[];
  severity: Severity;
  score: number;
};

export type KeywordMatch = {
  /** The configured phrase or pattern that matched. */
  keyword: string;
  /** The matched text (at most 200 characters). */
  text: string;
  start: number;
  end: number;
};

const MAX_MATCHES = 100;
const MAX_MATCHES_PER_KEYWORD = 20;
const MAX_TEXT = 200;
const WINDOW = 1024;
const MARGIN = 128;
/** Pattern scanning time per message after which the remaining patterns are skipped. */
const PATTERN_BUDGET_MS = 50;

type TrieNode = { next: Map<string, TrieNode>; phrase?: string };

type Compiled = {
  /** Phrase tokens; edges after the first are keyed `' ' + token` when whitespace precedes it. */
  trie: TrieNode | null;
  patterns: { keyword: string; re: RegExp }[];
  rejected: { index: number; reason: string }[];
  severity: Severity;
  score: number;
  warned: boolean;
  overBudgetWarned: boolean;
};

const TOKEN = /[\p{L}\p{M}\p{N}_]+|\S/gu;

type Tokens = { tokens: string[]; starts: number[]; ends: number[] };

function tokenize(text: string): Tokens {
  const tokens: string[] = [];
  const starts: number[] = [];
  const ends: number[] = [];
  for (const m of text.matchAll(TOKEN)) {
    tokens.push(m[0].toLowerCase());
    starts.push(m.index);
    ends.push(m.index + m[0].length);
  }
  return { tokens, starts, ends };
}

/** Trie edge keys of a token sequence (whitespace before a token is part of its key). */
function edgeKeys({ tokens, starts, ends }: Tokens): string[] {
  return tokens.map((t, i) => (i > 0 && starts[i]! > ends[i - 1]! ? ` ${t}` : t));
}

function normalisePhrase(phrase: string): string {
  return phrase.trim().replace(/\s+/g, ' ');
}

function compile(settings: Partial<KeywordsSettings>): Compiled {
  let trie: TrieNode | null = null;
  for (const raw of arrayOr(settings.phrases)) {
    if (typeof raw !== 'string' || !normalisePhrase(raw)) continue;
    trie ??= { next: new Map() };
    let node = trie;
    for (const key of edgeKeys(tokenize(normalisePhrase(raw)))) {
      let child = node.next.get(key);
      if (!child) node.next.set(key, (child = { next: new Map() }));
      node = child;
    }
    node.phrase ??= raw; // the first of duplicate phrases names the match
  }

  const patterns: Compiled['patterns'] = [];
  const rejected: Compiled['rejected'] = [];
  arrayOr(settings.patterns).forEach((entry, index) => {
    const pattern = entry?.pattern;
    const flags = typeof entry?.flags === 'string' ? entry.flags : '';
    const reason = typeof pattern === 'string' ? checkRegex(pattern, flags) : 'the pattern is missing';
    if (reason) rejected.push({ index, reason });
    else patterns.push({ keyword: pattern, re: new RegExp(pattern, `${flags}g`) });
  });

  return {
    trie,
    patterns,
    rejected,
    severity: isSeverity(settings.severity) ? settings.severity : 'medium',
    score: numberOr(settings.score, 1, 0, 1),
    warned: false,
    overBudgetWarned: false,
  };
}

const compiled = settingsCache<Partial<KeywordsSettings>, Compiled>(compile);

/** Matches of `re` in `text`; long texts are scanned in overlapping windows (see module doc). */
function scan(text: string, re: RegExp, limit: number, onMatch: (start: number, matched: string) => void): void {
  let count = 0;
  if (text.length <= WINDOW) {
    for (const m of text.matchAll(re)) {
      if (m[0] === '') continue;
      onMatch(m.index, m[0]);
      if (++count >= limit) return;
    }
    return;
  }
  for (let from = 0; ; from += WINDOW - 2 * MARGIN) {
    const to = Math.min(text.length, from + WINDOW);
    const last = to === text.length;
    const acceptFrom = from === 0 ? 0 : from + MARGIN;
    const acceptTo = last ? Infinity : to - MARGIN;
    for (const m of text.slice(from, to).matchAll(re)) {
      const start = from + m.index;
      if (start >= acceptTo) break;
      if (m[0] === '' || start < acceptFrom) continue;
      onMatch(start, m[0]);
      if (++count >= limit) return;
    }
    if (last) return;
  }
}

/** All watchlist matches in `text`, ordered by position. */
export function findKeywords(text: string, settings: Partial<KeywordsSettings>): KeywordMatch[] {
  return search(text, compiled(settings)).matches;
}

/** Matches, and how many patterns were skipped because the time budget ran out. */
function search(text: string, c: Compiled): { matches: KeywordMatch[]; skipped: number } {
  const matches: KeywordMatch[] = [];
  const push = (keyword: string, start: number, matched: string) =>
    matches.push({ keyword, text: matched.slice(0, MAX_TEXT), start, end: start + matched.length });

  if (c.trie) {
    const t = tokenize(text);
    const keys = edgeKeys(t);
    for (let i = 0; i < keys.length && matches.length < MAX_MATCHES; ) {
      // leftmost-longest: follow the trie as far as the text allows, remember the last phrase end
      let node = c.trie.next.get(t.tokens[i]!);
      let last = -1;
      let phrase = '';
      for (let j = i; node; ) {
        if (node.phrase !== undefined) [last, phrase] = [j, node.phrase];
        if (++j >= keys.length) break;
        node = node.next.get(keys[j]!);
      }
      if (last < 0) {
        i++;
        continue;
      }
      push(phrase, t.starts[i]!, text.slice(t.starts[i]!, t.ends[last]!));
      i = last + 1;
    }
  }
  const started = performance.now();
  let skipped = 0;
  for (const [i, { keyword, re }] of c.patterns.entries()) {
    if (matches.length >= MAX_MATCHES) break;
    if (i > 0 && performance.now() - started > PATTERN_BUDGET_MS) {
      skipped = c.patterns.length - i;
      break;
    }
    scan(text, re, Math.min(MAX_MATCHES_PER_KEYWORD, MAX_MATCHES - matches.length), (start, matched) => push(keyword, start, matched));
  }
  return { matches: matches.sort((a, b) => a.start - b.start || a.end - b.end), skipped };
}

export const keywordsPlugin: BuiltinPlugin<KeywordsSettings> = {
  manifest: {
    id: 'keywords',
    name: 'Keywords',
    version: '1.0.0',
    description: 'Flags messages containing watchlist phrases (whole words, case-insensitive) or matching regular expressions.',
    events: ['message.created'],
    settingsSchema: {
      type: 'object',
      additionalProperties: false,
      properties: {
        phrases: {
          type: 'array',
          description: 'Case-insensitive whole-word phrases; any whitespace between words matches.',
          maxItems: 500,
          default: [],
          items: { type: 'string', minLength: 1, maxLength: 200 },
        },
        patterns: {
          type: 'array',
          description: 'JavaScript regular expressions; patterns that could backtrack catastrophically are rejected.',
          maxItems: 100,
          default: [],
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['pattern'],
            properties: {
              pattern: { type: 'string', minLength: 1, maxLength: 500 },
              flags: { type: 'string', pattern: '^[imsu]{0,4}$', default: '' },
            },
          },
        },
        severity: { type: 'string', enum: ['low', 'medium', 'high'], default: 'medium' },
        score: { type: 'number', minimum: 0, maximum: 1, default: 1 },
      },
    },
  },

  handle(event, ctx) {
    const message = messageOf(event);
    if (!message || !message.content) return null;
    const settings = ctx.settings ?? {};
    const c = compiled(settings);
    if (c.rejected.length && !c.warned) {
      c.warned = true;
      ctx.log?.warn('keywords: skipping unsafe or invalid patterns', { rejected: c.rejected });
    }
    const { matches, skipped } = search(message.content, c);
    if (skipped && !c.overBudgetWarned) {
      c.overBudgetWarned = true;
      ctx.log?.warn(`keywords: pattern scanning exceeded ${PATTERN_BUDGET_MS} ms; skipped the remaining patterns`, { skipped, length: message.content.length });
    }
    if (matches.length === 0) return null;
    return one({ target: 'message', type: 'keyword', score: c.score, severity: c.severity, content: { matches } });
  },

  validateSettings(settings) {
    const problems: SettingsProblem[] = [];
    const firstIndex = new Map<string, number>();
    arrayOr(settings.phrases).forEach((raw, i) => {
      const phrase = typeof raw === 'string' ? normalisePhrase(raw) : '';
      if (!phrase) {
        problems.push({ field: `phrases/${i}`, message: 'must not be blank' });
        return;
      }
      const first = firstIndex.get(phrase.toLowerCase());
      if (first !== undefined) problems.push({ field: `phrases/${i}`, message: `duplicate of phrases/${first}` });
      else firstIndex.set(phrase.toLowerCase(), i);
    });
    arrayOr(settings.patterns).forEach((entry, i) => {
      const flags = typeof entry?.flags === 'string' ? entry.flags : '';
      const flagProblem = checkFlags(flags);
      if (flagProblem) {
        problems.push({ field: `patterns/${i}/flags`, message: flagProblem });
        return;
      }
      const pattern = entry?.pattern;
      const reason = typeof pattern === 'string' ? checkRegex(pattern, flags) : 'the pattern is missing';
      if (reason) problems.push({ field: `patterns/${i}/pattern`, message: reason });
      else if (new RegExp(pattern, flags).test('')) problems.push({ field: `patterns/${i}/pattern`, message: 'can match the empty string' });
    });
    return problems;
  },
};

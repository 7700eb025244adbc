/**
 * `keywords`: a per-project watchlist of phrases (case-insensitive, whole words, any whitespace
 * between words) and regular expressions. Patterns must pass `checkRegex` (see
 * regex-safety.ts); unsafe ones are reported by `validateSettings` and skipped at run time.
 *
 * Texts longer than 2,048 characters are scanned by the user patterns in overlapping windows
 * (2,048 characters, 256 on each side shared with the neighbours), so even a pattern with
 * quadratic worst-case behaviour (`\w+x`) costs O(length × 2 KB), not O(length²). A pattern
 * match longer than 256 characters may therefore be cut short or missed in such texts.
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
const WINDOW = 2048;
const MARGIN = 256;

type Compiled = {
  /** All phrases in one regex, one capture group per phrase; null without phrases. */
  phraseRe: RegExp | null;
  phraseOf: string[];
  patterns: { keyword: string; re: RegExp }[];
  rejected: { index: number; reason: string }[];
  severity: Severity;
  score: number;
  warned: boolean;
};

const WORD_CHAR = /[\p{L}\p{N}_]/u;

function normalisePhrase(phrase: string): string {
  return phrase.trim().replace(/\s+/g, ' ');
}

function phraseSource(phrase: string): string {
  const body = phrase
    .split(' ')
    .map((w) => w.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&'))
    .join(String.raw`\s+`);
  const before = WORD_CHAR.test(phrase[0]!) ? String.raw`(?<![\p{L}\p{N}_])` : '';
  const after = WORD_CHAR.test(phrase.at(-1)!) ? String.raw`(?![\p{L}\p{N}_])` : '';
  return `${before}${body}${after}`;
}

function compile(settings: Partial<KeywordsSettings>): Compiled {
  // unique phrases, longest first so that "free vbucks now" wins over "free vbucks"
  const seen = new Set<string>();
  const phrases: string[] = [];
  for (const raw of arrayOr(settings.phrases)) {
    if (typeof raw !== 'string') continue;
    const phrase = normalisePhrase(raw);
    const key = phrase.toLowerCase();
    if (!phrase || seen.has(key)) continue;
    seen.add(key);
    phrases.push(phrase);
  }
  phrases.sort((a, b) => b.length - a.length);
  const phraseRe = phrases.length ? new RegExp(phrases.map((p) => `(${phraseSource(p)})`).join('|'), 'giu') : null;

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
    phraseRe,
    phraseOf: phrases,
    patterns,
    rejected,
    severity: isSeverity(settings.severity) ? settings.severity : 'medium',
    score: numberOr(settings.score, 1, 0, 1),
    warned: false,
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
  const c = compiled(settings);
  const matches: KeywordMatch[] = [];
  const push = (keyword: string, start: number, matched: string) =>
    matches.push({ keyword, text: matched.slice(0, MAX_TEXT), start, end: start + matched.length });

  if (c.phraseRe) {
    let count = 0;
    for (const m of text.matchAll(c.phraseRe)) {
      const group = m.findIndex((g, i) => i > 0 && g !== undefined);
      push(c.phraseOf[group - 1] ?? m[0], m.index, m[0]);
      if (++count >= MAX_MATCHES) break;
    }
  }
  for (const { keyword, re } of c.patterns) {
    if (matches.length >= MAX_MATCHES) break;
    scan(text, re, Math.min(MAX_MATCHES_PER_KEYWORD, MAX_MATCHES - matches.length), (start, matched) => push(keyword, start, matched));
  }
  return matches.sort((a, b) => a.start - b.start || a.end - b.end);
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
    const matches = findKeywords(message.content, settings);
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

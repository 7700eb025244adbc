/**
 * `summary`: an extractive summary of a session when it ends (or on request). Sentences of the
 * last 500 non-system messages are scored by the normalised frequency of their content words
 * across the session (the average over a sentence's distinct non-stopwords, each term's count
 * divided by the most frequent term's count), with a mild bonus for 6–30 words and a penalty
 * for fragments under 3 words. Near-duplicates (Jaccard similarity of their content words
 * ≥ 0.6) are dropped, the best `maxSentences` are kept and printed in their original order,
 * prefixed with the speaker's name when known. Deterministic: ties go to the earlier sentence.
 */
import type { Message } from '../../../common/schemas.js';
import type { BuiltinPlugin } from './types.js';
import { numberOr } from './util.js';

export type SummarySettings = { maxSentences: number };

export const SUMMARY_EVENTS = ['session.ended', 'session.summary.requested'];

const MESSAGE_LIMIT = 500;
const MAX_SENTENCE_CHARS = 500;
const DUPLICATE_SIMILARITY = 0.6;

const STOPWORDS = new Set([
  'a', 'about', 'above', 'after', 'again', 'against', 'all', 'also', 'am', 'an', 'and', 'any', 'are', 'arent', 'as', 'at',
  'be', 'because', 'been', 'before', 'being', 'below', 'between', 'both', 'but', 'by', 'can', 'cant', 'cannot', 'could',
  'couldnt', 'did', 'didnt', 'do', 'does', 'doesnt', 'doing', 'dont', 'down', 'during', 'each', 'else', 'even', 'ever',
  'every', 'few', 'for', 'from', 'further', 'get', 'gets', 'got', 'had', 'hadnt', 'has', 'hasnt', 'have', 'havent', 'having',
  'he', 'hed', 'hell', 'her', 'here', 'heres', 'hers', 'herself', 'hes', 'him', 'himself', 'his', 'how', 'hows', 'i', 'id',
  'if', 'ill', 'im', 'in', 'into', 'is', 'isnt', 'it', 'itd', 'itll', 'its', 'itself', 'ive', 'just', 'let', 'lets', 'like',
  'many', 'may', 'me', 'might', 'more', 'most', 'much', 'must', 'mustnt', 'my', 'myself', 'need', 'no', 'nor', 'not', 'now',
  'of', 'off', 'on', 'once', 'one', 'only', 'or', 'other', 'ought', 'our', 'ours', 'ourselves', 'out', 'over', 'own',
  'quite', 'rather', 'really', 'same', 'say', 'said', 'says', 'shall', 'shant', 'she', 'shed', 'shell', 'shes', 'should',
  'shouldnt', 'so', 'some', 'such', 'than', 'that', 'thats', 'the', 'their', 'theirs', 'them', 'themselves', 'then',
  'there', 'theres', 'these', 'they', 'theyd', 'theyll', 'theyre', 'theyve', 'thing', 'things', 'this', 'those', 'though',
  'through', 'to', 'too', 'under', 'until', 'up', 'upon', 'us', 'very', 'was', 'wasnt', 'we', 'wed', 'well', 'were', 'weve',
  'werent', 'what', 'whats', 'when', 'whens', 'where', 'wheres', 'which', 'while', 'who', 'whom', 'whos', 'why', 'whys',
  'will', 'with', 'within', 'without', 'wont', 'would', 'wouldnt', 'yet', 'you', 'youd', 'youll', 'your', 'youre', 'yours',
  'yourself', 'yourselves', 'youve',
  // chat and speech fillers
  'ah', 'bye', 'eh', 'gg', 'gonna', 'gotta', 'haha', 'hah', 'hey', 'hi', 'hello', 'hm', 'hmm', 'huh', 'kinda', 'know',
  'lol', 'lmao', 'maybe', 'mhm', 'nah', 'nope', 'oh', 'ok', 'okay', 'please', 'pls', 'right', 'sorry', 'sure', 'thank',
  'thanks', 'think', 'uh', 'um', 'umm', 'wanna', 'yeah', 'yep', 'yes', 'yo',
]);

type Sentence = {
  index: number;
  text: string;
  speaker: string | null;
  words: number;
  terms: Set<string>;
  score: number;
};

const SENTENCE_SPLIT = /(?<=[.!?…])\s+|\s*\n\s*/;
const TOKEN = /[\p{L}\p{N}][\p{L}\p{N}'’]*/gu;

function tokens(text: string): string[] {
  return (text.toLowerCase().match(TOKEN) ?? []).map((t) => t.replace(/['’]s$/, '').replace(/['’]/g, ''));
}

function jaccard(a: Set<string>, b: Set<string>): number {
  if (a.size === 0 && b.size === 0) return 1;
  let shared = 0;
  for (const t of a) if (b.has(t)) shared++;
  return shared / (a.size + b.size - shared);
}

/** The summary lines for a session's messages (oldest first); empty when there is nothing to say. */
export function summarize(messages: readonly Message[], maxSentences: number): { lines: string[]; messageCount: number } {
  const sentences: Sentence[] = [];
  const tf = new Map<string, number>();
  let messageCount = 0;
  for (const message of messages) {
    if (message.type === 'system' || typeof message.content !== 'string' || !message.content.trim()) continue;
    messageCount++;
    const speaker = message.senderName?.trim() || null;
    for (const raw of message.content.split(SENTENCE_SPLIT)) {
      const trimmed = raw.trim();
      if (!trimmed) continue;
      const text = trimmed.length > MAX_SENTENCE_CHARS ? `${trimmed.slice(0, MAX_SENTENCE_CHARS)}…` : trimmed;
      const all = tokens(trimmed);
      const terms = new Set(all.filter((t) => t.length > 1 && !STOPWORDS.has(t)));
      for (const t of terms) tf.set(t, (tf.get(t) ?? 0) + 1);
      sentences.push({ index: sentences.length, text, speaker, words: all.length, terms, score: 0 });
    }
  }
  if (sentences.length === 0) return { lines: [], messageCount };

  let maxTf = 1;
  for (const n of tf.values()) maxTf = Math.max(maxTf, n);
  for (const s of sentences) {
    let sum = 0;
    for (const t of s.terms) sum += tf.get(t)! / maxTf;
    const lengthFactor = s.words >= 6 && s.words <= 30 ? 1.2 : s.words < 3 ? 0.6 : 1;
    s.score = s.terms.size ? (sum / s.terms.size) * lengthFactor : 0;
  }

  const ranked = [...sentences].sort((a, b) => b.score - a.score || a.index - b.index);
  const chosen: Sentence[] = [];
  const seenText = new Set<string>();
  for (const s of ranked) {
    if (chosen.length >= maxSentences) break;
    const key = s.text.toLowerCase();
    if (seenText.has(key)) continue;
    if (chosen.some((c) => jaccard(c.terms, s.terms) >= DUPLICATE_SIMILARITY)) continue;
    seenText.add(key);
    chosen.push(s);
  }
  chosen.sort((a, b) => a.index - b.index);
  return { lines: chosen.map((s) => (s.speaker ? `${s.speaker}: ${s.text}` : s.text)), messageCount };
}

export const summaryPlugin: BuiltinPlugin<SummarySettings> = {
  manifest: {
    id: 'summary',
    name: 'Session summary',
    version: '1.0.0',
    description: 'Writes an extractive summary (the most representative sentences) when a session ends or a summary is requested.',
    events: SUMMARY_EVENTS,
    settingsSchema: {
      type: 'object',
      additionalProperties: false,
      properties: {
        maxSentences: { type: 'integer', minimum: 1, maximum: 20, default: 5, description: 'Sentences in the summary.' },
      },
    },
  },

  async handle(event, ctx) {
    if (!SUMMARY_EVENTS.includes(event.type)) return null;
    const maxSentences = Math.floor(numberOr(ctx.settings?.maxSentences, 5, 1, 20));
    const messages = await ctx.recentMessages({ limit: MESSAGE_LIMIT });
    const { lines, messageCount } = summarize(messages, maxSentences);
    if (lines.length === 0) return { summary: '' };
    const text = lines.join('\n');
    return {
      summary: text,
      annotations: [{ target: 'session', type: 'summary', content: { text, sentenceCount: lines.length, messageCount } }],
    };
  },

  validateSettings() {
    return []; // every constraint is in the schema
  },
};

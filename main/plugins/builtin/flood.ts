/**
 * `flood`: a participant sending too many messages in a short window (`rate`), or the same
 * text over and over (`repeat`). Counts come from `ctx.recentMessages`, which includes the
 * current message, so the first message over a limit is the one annotated.
 *
 * - rate: more than `maxMessages` messages within `windowSeconds`.
 * - repeat: more than `maxRepeats` messages with the same normalised text (case, whitespace and
 *   punctuation ignored) within `repeatWindowSeconds`.
 * Score per check is min(1, count / (2 × limit)); severity `low`, `medium` from twice the limit.
 * Messages without a participant are ignored.
 */
import type { Message } from '../../../common/schemas.js';
import type { Severity } from '../api.js';
import type { BuiltinPlugin } from './types.js';
import { maxSeverity, messageOf, numberOr, one } from './util.js';

export type FloodSettings = {
  maxMessages: number;
  windowSeconds: number;
  maxRepeats: number;
  repeatWindowSeconds: number;
};

/** What `recentMessages` can return at most. */
const QUERY_LIMIT = 500;

/** Recent messages are looked at again and again: remember their normalised text. */
const normalised = new Map<string, string>();

/** Lower case, NFKC, punctuation dropped, whitespace collapsed; emoji and symbols kept. */
export function normaliseForRepeat(text: string): string {
  const cached = normalised.get(text);
  if (cached !== undefined) return cached;
  const n = text.normalize('NFKC').toLowerCase().replace(/\p{P}+/gu, ' ').replace(/\s+/g, ' ').trim() || text.trim();
  if (text.length <= 500) {
    if (normalised.size >= 2000) normalised.clear();
    normalised.set(text, n);
  }
  return n;
}

type Check = { count: number; limit: number; windowSeconds: number };

function scoreOf(check: Check): number {
  return Math.min(1, Math.round((check.count / (2 * check.limit)) * 1000) / 1000);
}

function severityOf(check: Check): Severity {
  return check.count >= 2 * check.limit ? 'medium' : 'low';
}

export const floodPlugin: BuiltinPlugin<FloodSettings> = {
  manifest: {
    id: 'flood',
    name: 'Flood',
    version: '1.0.0',
    description: 'Flags participants who send too many messages in a short time or repeat the same text.',
    events: ['message.created'],
    settingsSchema: {
      type: 'object',
      additionalProperties: false,
      properties: {
        maxMessages: { type: 'integer', minimum: 1, maximum: 200, default: 8, description: 'Messages allowed per window.' },
        windowSeconds: { type: 'integer', minimum: 1, maximum: 3600, default: 10 },
        maxRepeats: { type: 'integer', minimum: 1, maximum: 100, default: 3, description: 'Identical messages allowed per repeat window.' },
        repeatWindowSeconds: { type: 'integer', minimum: 1, maximum: 86400, default: 60 },
      },
    },
  },

  async handle(event, ctx) {
    const message = messageOf(event);
    if (!message || !message.participantId) return null;
    const s = ctx.settings ?? {};
    const maxMessages = Math.floor(numberOr(s.maxMessages, 8, 1));
    const windowSeconds = numberOr(s.windowSeconds, 10, 1);
    const maxRepeats = Math.floor(numberOr(s.maxRepeats, 3, 1));
    const repeatWindowSeconds = numberOr(s.repeatWindowSeconds, 60, 1);

    const sinceSeconds = Math.max(windowSeconds, repeatWindowSeconds);
    const recent = await ctx.recentMessages({ participantId: message.participantId, sinceSeconds, limit: QUERY_LIMIT });
    // defensive: only this participant's messages, up to and including this one
    const now = Date.parse(message.timestamp);
    const own: Message[] = recent.filter((m) => m.participantId === message.participantId);
    if (!own.some((m) => m.id === message.id)) own.push(message);
    const ageMs = (m: Message) => (Number.isFinite(now) ? now - Date.parse(m.timestamp) : 0);
    const within = (m: Message, seconds: number) => !(ageMs(m) > seconds * 1000); // unparsable timestamps count as "now"

    const rateCount = own.filter((m) => within(m, windowSeconds)).length;
    const text = normaliseForRepeat(message.content);
    const repeatCount = own.filter((m) => within(m, repeatWindowSeconds) && normaliseForRepeat(m.content) === text).length;

    const rate: Check | null = rateCount > maxMessages ? { count: rateCount, limit: maxMessages, windowSeconds } : null;
    const repeat: Check | null = repeatCount > maxRepeats ? { count: repeatCount, limit: maxRepeats, windowSeconds: repeatWindowSeconds } : null;
    const primary = rate ?? repeat;
    if (!primary) return null;

    const categories: string[] = [];
    let score = 0;
    let severity: Severity = 'low';
    for (const [name, check] of [['rate', rate], ['repeat', repeat]] as const) {
      if (!check) continue;
      categories.push(name);
      score = Math.max(score, scoreOf(check));
      severity = maxSeverity(severity, severityOf(check));
    }
    return one({
      target: 'message',
      type: 'flood',
      score,
      severity,
      content: {
        categories,
        count: primary.count,
        windowSeconds: primary.windowSeconds,
        ...(rate ? { rate } : {}),
        ...(repeat ? { repeat } : {}),
      },
    });
  },

  validateSettings() {
    return []; // every constraint is in the schema
  },
};

/**
 * The domain-event catalog and envelope. Runtime-neutral: shared by the server, the
 * renderer, durable consumers (plugins, webhooks) and scripts.
 */

export const EVENT_TYPES = [
  'session.created',
  'session.updated',
  'session.deleted',
  'session.started',
  'session.ended',
  'session.summary.requested',
  'participant.created',
  'participant.updated',
  'participant.joined',
  'participant.left',
  'message.created',
  'message.updated',
  'message.deleted',
  'message.redacted',
  'message.annotation.created',
  'session.annotation.created',
  'sanction.created',
  'sanction.revoked',
  'sanction.expired',
  'automod.rule.created',
  'automod.rule.updated',
  'automod.rule.deleted',
  'review.created',
  'review.updated',
  'review.resolved',
  'plugin.installed',
  'plugin.updated',
  'plugin.uninstalled',
  'plugin.error',
  'gathering.created',
  'gathering.updated',
  'gathering.deleted',
  'gathering.member.joined',
  'gathering.member.left',
  'gathering.member.updated',
  'webhook.created',
  'webhook.updated',
  'webhook.deleted',
  'webhook.delivery.exhausted',
  'webhook.redelivery.progress',
  'bot.status.changed',
  'model.download.started',
  'model.download.progress',
  'model.download.completed',
  'model.download.failed',
] as const;

export type EventType = (typeof EVENT_TYPES)[number];

export type EventAction = 'created' | 'updated' | 'deleted' | 'occurred';

export interface EventPayload<D = Record<string, unknown>> {
  action: EventAction;
  data: D;
  /** Old values of the fields an update changed. */
  changes?: Record<string, unknown>;
}

export interface DomainEvent<D = Record<string, unknown>> {
  id: string;
  /** Strictly increasing position in the log; the SSE `id`. */
  seq: number;
  type: EventType;
  /** Which part of the product wrote it, e.g. `api`, `bot`, `plugin:toxicity`. */
  source: string;
  tenantId: string;
  projectId: string | null;
  /** `<kind>:<id>`, e.g. `session:0192…`. */
  resourceId: string;
  /** ISO 8601, UTC. */
  timestamp: string;
  payload: EventPayload<D>;
}

/** A type filter entry is an exact type, a prefix glob (`message.*`) or `*`. */
export function isValidTypePattern(pattern: string): boolean {
  if (pattern === '*') return true;
  const exact = pattern.endsWith('.*') ? pattern.slice(0, -2) : pattern;
  return EVENT_TYPES.some((t) => t === exact || (pattern.endsWith('.*') && t.startsWith(exact + '.')));
}

/** Compiles `['message.*', 'sanction.created']` into a predicate; empty = everything. */
export function typeMatcher(patterns: readonly string[] | undefined): (type: string) => boolean {
  if (!patterns || patterns.length === 0 || patterns.includes('*')) return () => true;
  const exact = new Set(patterns.filter((p) => !p.endsWith('.*')));
  const prefixes = patterns.filter((p) => p.endsWith('.*')).map((p) => p.slice(0, -1));
  return (type) => exact.has(type) || prefixes.some((p) => type.startsWith(p));
}

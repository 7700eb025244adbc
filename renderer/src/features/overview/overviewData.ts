/**
 * What the overview reads, and how one event changes it. Pure functions over the cached
 * query data, so they are easy to reason about (and test) apart from React.
 */
import type { DomainEvent } from '../../../../common/events.js';
import type { Annotation, Message, Session } from '../../../../common/schemas.js';
import type { BotPeer } from '../../lib/bot.js';

export interface Paged<T> {
  items: T[];
  nextCursor: string | null;
}

/** A speaker and when they were last heard (their latest transcript or message). */
export interface Heard {
  key: string;
  sessionId: string;
  name: string;
  at: string;
  text: string | null;
}

/** What counts as flagged: a message annotation scored at least this. */
export const FLAG_MIN_SCORE = 0.5;
export const FLAG_WINDOW_MS = 3_600_000;

export const overviewKeys = {
  all: (projectId: string) => ['overview', projectId] as const,
  sessions: (projectId: string) => ['overview', projectId, 'sessions'] as const,
  bot: (projectId: string, sessionId: string) => ['overview', projectId, 'bot', sessionId] as const,
  flagged: (projectId: string) => ['overview', projectId, 'flagged'] as const,
  review: (projectId: string) => ['overview', projectId, 'review-open'] as const,
  webhooks: (projectId: string) => ['overview', projectId, 'webhooks'] as const,
  plugins: (projectId: string) => ['overview', projectId, 'plugins'] as const,
};

const newestFirst = (a: Session, b: Session): number => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : a.id < b.id ? 1 : -1);

/** Active sessions: a session event adds, replaces or removes one; null = refetch. */
export function applyToActive(page: Paged<Session>, event: DomainEvent): Paged<Session> | null | undefined {
  if (!event.type.startsWith('session.') || event.type.includes('annotation') || event.type === 'session.summary.requested') return undefined;
  const data = event.payload.data as Partial<Session>;
  if (typeof data.id !== 'string') return null;
  const rest = page.items.filter((s) => s.id !== data.id);
  if (event.type === 'session.deleted' || data.status !== 'active') return rest.length === page.items.length ? undefined : { ...page, items: rest };
  if (typeof data.createdAt !== 'string') return null;
  return { ...page, items: [...rest, data as Session].sort(newestFirst) };
}

/** Flagged list: a scored message annotation at or above the threshold goes on top. */
export function applyToFlagged(page: Paged<Annotation>, event: DomainEvent): Paged<Annotation> | undefined {
  if (event.type !== 'message.annotation.created') return undefined;
  const a = event.payload.data as unknown as Annotation;
  if (a.score === null || a.score < FLAG_MIN_SCORE || page.items.some((x) => x.id === a.id)) return undefined;
  return { ...page, items: [a, ...page.items] };
}

export function heardFromPeer(sessionId: string, p: BotPeer): Heard | null {
  if (!p.lastUtterance) return null;
  return {
    key: `${sessionId}/${p.participantId ?? p.peerId}`,
    sessionId,
    name: p.displayName ?? p.peerId,
    at: new Date(Date.parse(p.lastUtterance.startedAt) + p.lastUtterance.durationMs).toISOString(),
    text: p.lastUtterance.text,
  };
}

export function heardFromMessage(m: Message): Heard | null {
  if (m.type !== 'user' || (!m.participantId && !m.senderName)) return null;
  return {
    key: `${m.sessionId}/${m.participantId ?? m.senderName}`,
    sessionId: m.sessionId,
    name: m.senderName ?? `participant …${(m.participantId ?? '').slice(-6)}`,
    at: m.timestamp,
    text: m.content,
  };
}

/** Keeps the latest per speaker, newest first. */
export function mergeHeard(list: Heard[], more: Heard[]): Heard[] {
  const byKey = new Map(list.map((h) => [h.key, h]));
  for (const h of more) {
    const prev = byKey.get(h.key);
    if (!prev || prev.at < h.at) byKey.set(h.key, prev && prev.name !== h.name && h.name.startsWith('participant …') ? { ...h, name: prev.name } : h);
  }
  return [...byKey.values()].sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : 0));
}

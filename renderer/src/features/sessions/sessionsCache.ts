import type { DomainEvent } from '../../../../common/events.js';
import type { Session } from '../../../../common/schemas.js';

export const PROJECT_ID = 'default';

export interface SessionPage {
  items: Session[];
  nextCursor: string | null;
}

export const sessionsQueryKey = ['projects', PROJECT_ID, 'sessions'] as const;
export const sessionsPath = `/api/projects/${PROJECT_ID}/sessions`;

const newestFirst = (a: Session, b: Session): number =>
  a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : a.id < b.id ? 1 : -1;

/** Inserts or replaces a session, keeping the list newest first. */
export function upsertSession(page: SessionPage, session: Session): SessionPage {
  const items = page.items.filter((s) => s.id !== session.id);
  items.push(session);
  items.sort(newestFirst);
  return { ...page, items };
}

export function removeSession(page: SessionPage, id: string): SessionPage {
  return { ...page, items: page.items.filter((s) => s.id !== id) };
}

/**
 * Applies a `session.*` event to the cached page. Returns null if the event carries no
 * usable session (caller should then refetch).
 */
export function applySessionEvent(page: SessionPage, event: DomainEvent): SessionPage | null {
  const data = event.payload.data;
  if (typeof data.id !== 'string') return null;
  switch (event.type) {
    case 'session.deleted':
      return removeSession(page, data.id);
    case 'session.created':
    case 'session.updated':
    case 'session.started':
    case 'session.ended':
      if (typeof data.createdAt !== 'string' || typeof data.status !== 'string') return null;
      return upsertSession(page, data as unknown as Session);
    default:
      return page; // e.g. session.annotation.created: nothing in the list changes
  }
}

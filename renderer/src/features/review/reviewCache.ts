import type { ReviewItemView } from '../../../../common/automod-schemas.js';
import type { Annotation, Message } from '../../../../common/schemas.js';

export interface ReviewPage {
  items: ReviewItemView[];
  nextCursor: string | null;
}

export const reviewKey = (projectId: string) => ['projects', projectId, 'review', 'open'] as const;

const RANK: Record<string, number> = { low: 1, medium: 2, high: 3 };
const rank = (v: string | null | undefined): number => (v ? (RANK[v] ?? 0) : 0);

/** The server's queue order: priority, severity, newest first, id. */
export function byQueueOrder(a: ReviewItemView, b: ReviewItemView): number {
  return (
    rank(b.priority) - rank(a.priority) ||
    rank(b.severity) - rank(a.severity) ||
    (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0) ||
    (a.id < b.id ? 1 : a.id > b.id ? -1 : 0)
  );
}

/** Inserts or replaces an open item (a resolved one leaves the queue), keeping queue order. */
export function upsertItem(page: ReviewPage, item: ReviewItemView): ReviewPage {
  const items = page.items.filter((i) => i.id !== item.id);
  if (item.status === 'open') items.push(item);
  items.sort(byQueueOrder);
  return { ...page, items };
}

export function removeItem(page: ReviewPage, id: string): ReviewPage {
  return page.items.some((i) => i.id === id) ? { ...page, items: page.items.filter((i) => i.id !== id) } : page;
}

/** A message event: the flagged text changed (edit, redaction) or was deleted. */
export function patchMessage(page: ReviewPage, message: Message, deleted: boolean): ReviewPage {
  if (!page.items.some((i) => i.messageId === message.id)) return page;
  return {
    ...page,
    items: page.items.map((i) =>
      i.messageId !== message.id ? i : deleted ? { ...i, message: null } : { ...i, message: { ...message, annotations: i.message?.annotations } },
    ),
  };
}

/** A new annotation of a flagged message shows on its item. */
export function addAnnotation(page: ReviewPage, a: Annotation): ReviewPage {
  if (!a.messageId || !page.items.some((i) => i.messageId === a.messageId && !i.annotations.some((x) => x.id === a.id))) return page;
  return { ...page, items: page.items.map((i) => (i.messageId === a.messageId ? { ...i, annotations: [...i.annotations, a] } : i)) };
}

import type { QueryClient, QueryKey } from '@tanstack/react-query';
import type { DomainEvent } from '../../../../common/events.js';
import type { Sanction } from '../../../../common/schemas.js';

export interface SanctionPage {
  items: Sanction[];
  nextCursor: string | null;
}

export type SanctionTab = 'active' | 'expired' | 'revoked';

/** Lists of sanctions the console caches; each key says which sanctions belong in it. */
export const sanctionKeys = {
  all: (projectId: string) => ['projects', projectId, 'sanctions'] as const,
  /** active=true, or active=false (expired and revoked: the tab filters by status). */
  list: (projectId: string, active: boolean) => ['projects', projectId, 'sanctions', 'list', active ? 'active' : 'inactive'] as const,
  participant: (projectId: string, participantId: string) => ['projects', projectId, 'sanctions', 'participant', participantId] as const,
};

function belongs(key: QueryKey, s: Sanction): boolean {
  if (key[3] === 'list') return key[4] === 'active' ? s.status === 'active' : s.status !== 'active';
  if (key[3] === 'participant') return s.participantId === key[4];
  return false;
}

const newestFirst = (a: Sanction, b: Sanction): number => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);

/** Puts the sanction where it now belongs in every cached list (and takes it out of the others). */
export function placeSanction(queryClient: QueryClient, projectId: string, s: Sanction): void {
  for (const [key, page] of queryClient.getQueriesData<SanctionPage>({ queryKey: sanctionKeys.all(projectId) })) {
    if (!page) continue;
    const had = page.items.some((x) => x.id === s.id);
    const wants = belongs(key, s);
    if (!had && !wants) continue;
    const items = page.items.filter((x) => x.id !== s.id);
    if (wants) {
      items.push(s);
      items.sort(newestFirst);
    }
    queryClient.setQueryData<SanctionPage>(key, { ...page, items });
  }
}

/** Applies a `sanction.*` event (its data is the sanction as it now is). */
export function applySanctionEvent(queryClient: QueryClient, projectId: string, event: DomainEvent): void {
  const data = event.payload.data;
  if (typeof data.id !== 'string' || typeof data.status !== 'string') {
    void queryClient.invalidateQueries({ queryKey: sanctionKeys.all(projectId) });
    return;
  }
  const s = data as unknown as Sanction;
  // sanction.expired carries the row as stored; by now its end has passed.
  placeSanction(queryClient, projectId, event.type === 'sanction.expired' && s.status === 'active' ? { ...s, status: 'expired' } : s);
}

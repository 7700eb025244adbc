import { useQuery, useQueryClient, type QueryKey, type UseQueryResult } from '@tanstack/react-query';
import type { DomainEvent } from '../../../common/events.js';
import { useCortex } from './cortex-context.js';
import { useProject } from './project.js';
import { useEvents } from './useEvents.js';

export interface LiveQueryOptions<T> {
  key: QueryKey;
  /** GET path (absolute, e.g. `${base}/sessions?limit=100`). */
  path: string;
  /** Event types that can change the result (`message.*`, …). */
  types: string[];
  /**
   * Applies one event to the cached data: the new data, `undefined` when the event does not
   * concern this query, or null to refetch (the event cannot be applied exactly).
   */
  apply?: (data: T, event: DomainEvent) => T | null | undefined;
  enabled?: boolean;
}

/**
 * Server state that stays current without polling: fetched once, then patched (or
 * invalidated) by the project's event stream. After a reconnect the stream replays what was
 * missed, so patches keep converging.
 */
export function useLiveQuery<T>(o: LiveQueryOptions<T>): UseQueryResult<T> {
  const { client } = useCortex();
  const { projectId } = useProject();
  const queryClient = useQueryClient();
  const query = useQuery({
    queryKey: o.key,
    queryFn: () => client.request<T>('GET', o.path),
    staleTime: Infinity,
    enabled: o.enabled ?? true,
  });
  useEvents(o.enabled === false ? null : { projectId, types: o.types }, (event) => {
    const data = queryClient.getQueryData<T>(o.key);
    if (data === undefined) return;
    const next = o.apply ? o.apply(data, event) : null;
    if (next === undefined) return;
    if (next === null) void queryClient.invalidateQueries({ queryKey: o.key });
    else queryClient.setQueryData(o.key, next);
  });
  return query;
}

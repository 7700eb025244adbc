import { useQuery, useQueryClient, type UseQueryResult } from '@tanstack/react-query';
import { useCortex } from '../../lib/cortex-context.js';
import { useEvents } from '../../lib/useEvents.js';
import { applySessionEvent, PROJECT_ID, sessionsPath, sessionsQueryKey, type SessionPage } from './sessionsCache.js';

const FILTER = { projectId: PROJECT_ID, types: ['session.*'] };

/** Sessions of the project, fetched once and then kept current from `session.*` events. */
export function useLiveSessions(): UseQueryResult<SessionPage> {
  const { client } = useCortex();
  const queryClient = useQueryClient();

  const query = useQuery({
    queryKey: sessionsQueryKey,
    queryFn: () => client.request<SessionPage>('GET', `${sessionsPath}?limit=100`),
    staleTime: Infinity, // events keep it fresh; no polling, no refetch on focus
  });

  useEvents(FILTER, (event) => {
    const page = queryClient.getQueryData<SessionPage>(sessionsQueryKey);
    const next = page ? applySessionEvent(page, event) : null;
    if (next) queryClient.setQueryData(sessionsQueryKey, next);
    // Not loaded yet (or an event we cannot apply): one refetch converges on the server's state.
    else void queryClient.invalidateQueries({ queryKey: sessionsQueryKey });
  });

  return query;
}

import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type KeyboardEvent } from 'react';
import { ProblemText } from '../../components/ProblemText.js';
import { useCortex } from '../../lib/cortex-context.js';
import { useProject } from '../../lib/project.js';
import { useEvents } from '../../lib/useEvents.js';
import { navigate, type Route } from '../../lib/router.js';
import { SanctionRows } from './SanctionRows.js';
import { applySanctionEvent, sanctionKeys, type SanctionPage, type SanctionTab } from './sanctionsCache.js';

const TABS: readonly { id: SanctionTab; label: string }[] = [
  { id: 'active', label: 'Active' },
  { id: 'expired', label: 'Expired' },
  { id: 'revoked', label: 'Revoked' },
];

/** `#/sanctions[?status=active|expired|revoked]`: every sanction of the project, live. */
export function SanctionsView({ route }: { route: Route }) {
  const { client } = useCortex();
  const { base, projectId } = useProject();
  const queryClient = useQueryClient();
  const tabParam = route.query.get('status');
  const tab: SanctionTab = TABS.some((t) => t.id === tabParam) ? (tabParam as SanctionTab) : 'active';
  const active = tab === 'active';
  const [status, setStatus] = useState('');

  const key = sanctionKeys.list(projectId, active);
  const query = useQuery({
    queryKey: key,
    queryFn: () => client.request<SanctionPage>('GET', `${base}/sanctions?active=${active}&limit=200`),
    staleTime: Infinity,
  });
  useEvents({ projectId, types: ['sanction.*'] }, (event) => applySanctionEvent(queryClient, projectId, event));

  const items = (query.data?.items ?? []).filter((s) => s.status === tab);
  const [moreError, setMoreError] = useState<unknown>(null);
  const [loadingMore, setLoadingMore] = useState(false);
  /** The next page joins the cached list, so events keep patching all of it. */
  async function loadMore(): Promise<void> {
    const cursor = query.data?.nextCursor;
    if (!cursor) return;
    setLoadingMore(true);
    try {
      const page = await client.request<SanctionPage>('GET', `${base}/sanctions?active=${active}&limit=200&cursor=${encodeURIComponent(cursor)}`);
      queryClient.setQueryData<SanctionPage>(key, (old) => {
        if (!old) return page;
        const seen = new Set(old.items.map((s) => s.id));
        return { items: [...old.items, ...page.items.filter((s) => !seen.has(s.id))], nextCursor: page.nextCursor };
      });
      setMoreError(null);
    } catch (err) {
      setMoreError(err);
    } finally {
      setLoadingMore(false);
    }
  }

  function onTabKey(e: KeyboardEvent<HTMLDivElement>): void {
    const i = TABS.findIndex((t) => t.id === tab);
    const next = e.key === 'ArrowRight' ? (i + 1) % TABS.length : e.key === 'ArrowLeft' ? (i + TABS.length - 1) % TABS.length : -1;
    if (next < 0) return;
    e.preventDefault();
    navigate(`/sanctions?status=${TABS[next]!.id}`);
    document.getElementById(`sanctions-tab-${TABS[next]!.id}`)?.focus();
  }

  return (
    <section className="pane sanctions-pane" aria-labelledby="sanctions-heading">
      <header className="pane-header">
        <h2 id="sanctions-heading">Sanctions</h2>
        <div className="mod-tabs" role="tablist" aria-label="Sanction status" onKeyDown={onTabKey}>
          {TABS.map((t) => (
            <button
              key={t.id}
              id={`sanctions-tab-${t.id}`}
              type="button"
              role="tab"
              className="mod-tab"
              aria-selected={t.id === tab}
              aria-controls="sanctions-panel"
              tabIndex={t.id === tab ? 0 : -1}
              data-testid={`sanctions-tab-${t.id}`}
              onClick={() => navigate(`/sanctions?status=${t.id}`)}
            >
              {t.label}
            </button>
          ))}
        </div>
        {query.data && <span className="count" data-testid="sanctions-count">{items.length}</span>}
      </header>
      <p className="mod-status" role="status" aria-live="polite" data-testid="sanctions-status">
        {status}
      </p>
      <div
        className="pane-body"
        id="sanctions-panel"
        role="tabpanel"
        aria-labelledby={`sanctions-tab-${tab}`}
        data-testid="sanctions-list"
        data-state={query.isPending ? 'loading' : query.error ? 'error' : 'ready'}
      >
        {query.isPending && <p className="empty">Loading sanctions…</p>}
        <ProblemText error={query.error} prefix="Could not load sanctions" />
        {query.data && items.length === 0 && <p className="empty">No {tab} sanctions.</p>}
        {items.length > 0 && <SanctionRows items={items} onStatus={setStatus} />}
        {query.data?.nextCursor && (
          <div className="mod-load-more">
            <button type="button" className="mod-secondary" disabled={loadingMore} onClick={() => void loadMore()}>
              {loadingMore ? 'Loading…' : 'Load more'}
            </button>
            <ProblemText error={moreError} prefix="Could not load more" />
          </div>
        )}
      </div>
    </section>
  );
}

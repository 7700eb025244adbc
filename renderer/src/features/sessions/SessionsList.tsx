import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useMemo, useState } from 'react';
import type { Session } from '../../../../common/schemas.js';
import { ProblemText } from '../../components/ProblemText.js';
import { useCortex } from '../../lib/cortex-context.js';
import { formatDateTime } from '../../lib/format.js';
import { href } from '../../lib/router.js';
import { NewSessionForm } from './NewSessionForm.js';
import { sessionsPath, sessionsQueryKey, upsertSession, type SessionPage } from './sessionsCache.js';
import { useLiveSessions } from './useLiveSessions.js';

type StatusFilter = 'all' | 'active' | 'ended';
const STATUSES: { id: StatusFilter; label: string }[] = [
  { id: 'all', label: 'All' },
  { id: 'active', label: 'Active' },
  { id: 'ended', label: 'Ended' },
];

function SessionRow({ session }: { session: Session }) {
  return (
    <li className="sx-session-item" data-testid="session-row" data-session-id={session.id}>
      <a className="row sx-session-link" href={href(`/sessions/${encodeURIComponent(session.id)}`)} data-testid="session-link">
        <span className={session.title ? 'row-title' : 'row-title muted'} data-testid="session-title">
          {session.title ?? '(untitled)'}
        </span>
        <span className={`badge badge-${session.status}`}>{session.status}</span>
        <time className="muted" dateTime={session.createdAt} title={session.createdAt}>
          {formatDateTime(session.createdAt)}
        </time>
      </a>
    </li>
  );
}

export function SessionsList() {
  const { client } = useCortex();
  const queryClient = useQueryClient();
  const { data, error, isPending } = useLiveSessions();
  const [status, setStatus] = useState<StatusFilter>('all');
  const [text, setText] = useState('');
  const state = isPending ? 'loading' : error ? 'error' : 'ready';

  const counts = useMemo(() => {
    const c = { all: 0, active: 0, ended: 0 };
    for (const s of data?.items ?? []) {
      c.all++;
      c[s.status]++;
    }
    return c;
  }, [data]);
  const needle = text.trim().toLowerCase();
  const shown = useMemo(
    () => (data?.items ?? []).filter((s) => (status === 'all' || s.status === status) && (!needle || (s.title ?? '').toLowerCase().includes(needle))),
    [data, status, needle],
  );

  const more = useMutation({
    mutationFn: (cursor: string) => client.request<SessionPage>('GET', `${sessionsPath}?limit=100&cursor=${encodeURIComponent(cursor)}`),
    onSuccess: (page) =>
      queryClient.setQueryData<SessionPage>(sessionsQueryKey, (cur) =>
        cur ? { ...page.items.reduce((p, s) => upsertSession(p, s), cur), nextCursor: page.nextCursor } : page,
      ),
  });

  return (
    <section className="pane" aria-labelledby="sessions-heading">
      <header className="pane-header">
        <h2 id="sessions-heading">Sessions</h2>
        {data && (
          <span className="count" data-testid="sessions-count">
            {data.items.length}
            {data.nextCursor ? '+' : ''}
          </span>
        )}
      </header>
      <NewSessionForm />
      <div className="sx-list-filters" role="search" aria-label="Filter sessions">
        <div className="sx-segmented" role="radiogroup" aria-label="Status">
          {STATUSES.map((s) => (
            <button
              key={s.id}
              type="button"
              role="radio"
              aria-checked={status === s.id}
              className={status === s.id ? 'sx-seg sx-is-on' : 'sx-seg'}
              data-testid={`status-${s.id}`}
              onClick={() => setStatus(s.id)}
            >
              {s.label} <span className="sx-seg-count">{counts[s.id]}</span>
            </button>
          ))}
        </div>
        <input
          type="search"
          className="sx-filter-input"
          placeholder="Filter by title"
          aria-label="Filter by title"
          data-testid="sessions-filter"
          value={text}
          onChange={(e) => setText(e.target.value)}
        />
      </div>
      <div className="pane-body" data-testid="sessions-list" data-state={state}>
        {isPending && <p className="empty">Loading sessions…</p>}
        <ProblemText error={error} prefix="Could not load sessions" />
        {data && data.items.length === 0 && <p className="empty">No sessions yet.</p>}
        {data && data.items.length > 0 && shown.length === 0 && (
          <p className="empty" data-testid="sessions-none-match">
            No {status === 'all' ? '' : `${status} `}sessions{needle ? ` match “${text.trim()}”` : ''}.
          </p>
        )}
        {shown.length > 0 && (
          <ul className="rows" aria-label={`${shown.length} sessions`}>
            {shown.map((s) => (
              <SessionRow key={s.id} session={s} />
            ))}
          </ul>
        )}
        {data?.nextCursor && (
          <div className="sx-load-more">
            <button type="button" className="sx-small-button" disabled={more.isPending} onClick={() => data.nextCursor && more.mutate(data.nextCursor)}>
              {more.isPending ? 'Loading…' : 'Load older sessions'}
            </button>
            <ProblemText error={more.error} prefix="Could not load more sessions" />
          </div>
        )}
      </div>
    </section>
  );
}

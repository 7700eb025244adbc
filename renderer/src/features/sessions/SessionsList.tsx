import type { Session } from '../../../../common/schemas.js';
import { formatDateTime } from '../../lib/format.js';
import { NewSessionForm } from './NewSessionForm.js';
import { useLiveSessions } from './useLiveSessions.js';

function SessionRow({ session }: { session: Session }) {
  return (
    <li className="row" data-testid="session-row" data-session-id={session.id}>
      <span className={session.title ? 'row-title' : 'row-title muted'} data-testid="session-title">
        {session.title ?? '(untitled)'}
      </span>
      <span className={`badge badge-${session.status}`}>{session.status}</span>
      <time className="muted" dateTime={session.createdAt} title={session.createdAt}>
        {formatDateTime(session.createdAt)}
      </time>
    </li>
  );
}

export function SessionsList() {
  const { data, error, isPending } = useLiveSessions();
  const state = isPending ? 'loading' : error ? 'error' : 'ready';

  return (
    <section className="pane" aria-labelledby="sessions-heading">
      <header className="pane-header">
        <h2 id="sessions-heading">Sessions</h2>
        {data && <span className="count">{data.items.length}</span>}
      </header>
      <NewSessionForm />
      <div className="pane-body" data-testid="sessions-list" data-state={state}>
        {isPending && <p className="empty">Loading sessions…</p>}
        {error && <p className="error" role="alert">Could not load sessions: {error.message}</p>}
        {data && data.items.length === 0 && <p className="empty">No sessions yet.</p>}
        {data && data.items.length > 0 && (
          <ul className="rows">
            {data.items.map((s) => (
              <SessionRow key={s.id} session={s} />
            ))}
          </ul>
        )}
      </div>
    </section>
  );
}

import { useQuery, useQueryClient, type QueryClient, type QueryKey } from '@tanstack/react-query';
import { useEffect, useRef, useState, type KeyboardEvent } from 'react';
import type { Message, Participant, ParticipantSession } from '../../../../common/schemas.js';
import { ProblemText } from '../../components/ProblemText.js';
import { useCortex } from '../../lib/cortex-context.js';
import { formatDateTime } from '../../lib/format.js';
import { useProject } from '../../lib/project.js';
import { href, type Route } from '../../lib/router.js';
import { useEvents } from '../../lib/useEvents.js';
import { SanctionRows } from '../sanctions/SanctionRows.js';
import { participantName } from '../sanctions/sanctionFormat.js';
import { applySanctionEvent, sanctionKeys, type SanctionPage } from '../sanctions/sanctionsCache.js';
import '../sanctions/sanctions.css';
import './participants.css';

interface ParticipantPage {
  items: Participant[];
  nextCursor: string | null;
}

const matches = (p: Participant, q: string): boolean =>
  !q || p.externalUserId.toLowerCase().includes(q.toLowerCase()) || (p.displayName ?? '').toLowerCase().includes(q.toLowerCase());

function useDebounced<T>(value: T, ms: number): T {
  const [v, setV] = useState(value);
  useEffect(() => {
    const t = setTimeout(() => setV(value), ms);
    return () => clearTimeout(t);
  }, [value, ms]);
  return v;
}

const searchKey = (projectId: string, q: string) => ['projects', projectId, 'participants', 'search', q] as const;
const participantKey = (projectId: string, id: string) => ['projects', projectId, 'participants', 'one', id] as const;
const historyKey = (projectId: string, id: string) => ['projects', projectId, 'participants', 'history', id] as const;
const HISTORY_MESSAGES = 5;

/** A created or renamed participant: the open profile and every cached search it (now) matches. */
function applyParticipant(queryClient: QueryClient, projectId: string, p: Participant): void {
  if (typeof p.id !== 'string') return;
  if (queryClient.getQueryData(participantKey(projectId, p.id))) queryClient.setQueryData(participantKey(projectId, p.id), p);
  for (const [k, page] of queryClient.getQueriesData<ParticipantPage>({ queryKey: ['projects', projectId, 'participants', 'search'] })) {
    if (!page) continue;
    const kq = String(k[4] ?? '');
    const had = page.items.some((x) => x.id === p.id);
    const wants = matches(p, kq);
    if (!had && !wants) continue;
    const items = had ? page.items.map((x) => (x.id === p.id ? p : x)).filter((x) => matches(x, kq)) : [p, ...page.items];
    queryClient.setQueryData<ParticipantPage>(k, { ...page, items });
  }
}

/** The participant said something: it tops that session's recent messages. */
function applyMessage(queryClient: QueryClient, key: QueryKey, m: Message): void {
  const data = queryClient.getQueryData<{ items: ParticipantSession[] }>(key);
  if (!data) return;
  if (!data.items.some((h) => h.session.id === m.sessionId)) {
    void queryClient.invalidateQueries({ queryKey: key });
    return;
  }
  queryClient.setQueryData<{ items: ParticipantSession[] }>(key, {
    items: data.items.map((h) =>
      h.session.id !== m.sessionId || h.recentMessages.some((x) => x.id === m.id)
        ? h
        : { ...h, messageCount: h.messageCount + 1, recentMessages: [{ ...m, annotations: [] }, ...h.recentMessages].slice(0, HISTORY_MESSAGES) },
    ),
  });
}

function Search({ selectedId }: { selectedId: string | null }) {
  const { client } = useCortex();
  const { base, projectId } = useProject();
  const [text, setText] = useState('');
  const q = useDebounced(text.trim(), 250);
  const query = useQuery({
    queryKey: searchKey(projectId, q),
    queryFn: () => client.request<ParticipantPage>('GET', `${base}/participants?limit=100${q ? `&q=${encodeURIComponent(q)}` : ''}`),
    staleTime: Infinity,
    placeholderData: (prev) => prev,
  });
  const items = query.data?.items ?? [];
  const listRef = useRef<HTMLUListElement>(null);
  /** ↓ from the search box enters the results; ↑/↓ move between them. */
  function onArrows(e: KeyboardEvent<HTMLElement>): void {
    if (e.key !== 'ArrowDown' && e.key !== 'ArrowUp') return;
    const links = [...(listRef.current?.querySelectorAll<HTMLAnchorElement>('a.participant-row') ?? [])];
    if (!links.length) return;
    const at = links.indexOf(document.activeElement as HTMLAnchorElement);
    const next = at < 0 ? (e.key === 'ArrowDown' ? 0 : -1) : at + (e.key === 'ArrowDown' ? 1 : -1);
    e.preventDefault();
    if (next < 0) searchRef.current?.focus();
    else links[Math.min(next, links.length - 1)]!.focus();
  }
  const searchRef = useRef<HTMLInputElement>(null);
  return (
    <section className="pane participants-search" aria-labelledby="participants-heading">
      <header className="pane-header">
        <h2 id="participants-heading">Participants</h2>
        {query.data && <span className="count">{items.length}{query.data.nextCursor ? '+' : ''}</span>}
      </header>
      <form className="inline-form" role="search" onSubmit={(e) => e.preventDefault()}>
        <input
          ref={searchRef}
          onKeyDown={onArrows}
          type="search"
          className="participants-q"
          placeholder="Search by name or user id"
          aria-label="Search participants"
          data-testid="participant-search"
          value={text}
          onChange={(e) => setText(e.target.value)}
          autoFocus
        />
      </form>
      <div
        className="pane-body"
        data-testid="participant-results"
        data-state={query.isPending ? 'loading' : query.error ? 'error' : query.isFetching || q !== text.trim() ? 'searching' : 'ready'}
        data-q={q}
      >
        {query.isPending && <p className="empty">Loading participants…</p>}
        <ProblemText error={query.error} prefix="Could not search" />
        {query.data && items.length === 0 && <p className="empty">{q ? `No participant matches “${q}”.` : 'No participants yet.'}</p>}
        {items.length > 0 && (
          <ul className="rows" ref={listRef} onKeyDown={onArrows} aria-label="Search results">
            {items.map((p) => (
              <li key={p.id}>
                <a
                  className="pick-row participant-row"
                  href={href(`/participants/${p.id}`)}
                  aria-current={p.id === selectedId ? 'true' : undefined}
                  data-testid="participant-row"
                  data-participant-id={p.id}
                >
                  <span className="participant-name">{participantName(p)}</span>
                  {p.displayName && <span className="muted participant-ext">{p.externalUserId}</span>}
                </a>
              </li>
            ))}
          </ul>
        )}
      </div>
    </section>
  );
}

function History({ participantId }: { participantId: string }) {
  const { client } = useCortex();
  const { base, projectId } = useProject();
  const query = useQuery({
    queryKey: historyKey(projectId, participantId),
    queryFn: () => client.request<{ items: ParticipantSession[] }>('GET', `${base}/participants/${encodeURIComponent(participantId)}/sessions?limit=20&messages=${HISTORY_MESSAGES}`),
    staleTime: Infinity,
  });
  return (
    <section className="participant-section" aria-labelledby="history-heading" data-testid="participant-history" data-state={query.isPending ? 'loading' : 'ready'}>
      <h3 id="history-heading">Sessions and recent messages</h3>
      {query.isPending && <p className="empty">Loading history…</p>}
      <ProblemText error={query.error} prefix="Could not load the history" />
      {query.data && query.data.items.length === 0 && <p className="empty">Not in any session yet.</p>}
      {query.data && query.data.items.length > 0 && (
        <ul className="history">
          {query.data.items.map((h) => (
            <li key={h.session.id} className="history-session" data-testid="history-session">
              <div className="history-head">
                <a href={href(`/sessions/${h.session.id}`)}>{h.session.title ?? '(untitled session)'}</a>
                <span className={`badge badge-${h.session.status}`}>{h.session.status}</span>
                <span className="muted">
                  joined {formatDateTime(h.joinedAt)}
                  {h.leftAt && ` · left ${formatDateTime(h.leftAt)}`} · {h.messageCount} {h.messageCount === 1 ? 'message' : 'messages'}
                </span>
              </div>
              {h.recentMessages.length > 0 && (
                <ul className="history-messages">
                  {h.recentMessages.map((m) => (
                    <li key={m.id} data-testid="history-message">
                      <time className="muted" dateTime={m.timestamp}>
                        {formatDateTime(m.timestamp)}
                      </time>
                      <span className="history-text">{m.content}</span>
                      {(m.annotations ?? []).map((a) => (
                        <span key={a.id} className={`badge flag flag-${a.severity ?? 'none'}`} title={a.score !== null ? `score ${a.score.toFixed(2)}` : undefined}>
                          {a.type}
                          {a.score !== null && ` ${a.score.toFixed(2)}`}
                        </span>
                      ))}
                    </li>
                  ))}
                </ul>
              )}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function Sanctions({ participantId }: { participantId: string }) {
  const { client } = useCortex();
  const { base, projectId } = useProject();
  const [status, setStatus] = useState('');
  const query = useQuery({
    queryKey: sanctionKeys.participant(projectId, participantId),
    queryFn: () => client.request<SanctionPage>('GET', `${base}/participants/${encodeURIComponent(participantId)}/sanctions?limit=100`),
    staleTime: Infinity,
  });
  const active = query.data?.items.filter((s) => s.status === 'active').length ?? 0;
  return (
    <section className="participant-section" aria-labelledby="psanctions-heading" data-testid="participant-sanctions" data-state={query.isPending ? 'loading' : 'ready'}>
      <h3 id="psanctions-heading">
        Sanctions {query.data && <span className="count">{active} active · {query.data.items.length} in all</span>}
      </h3>
      <p className="mod-status" role="status" aria-live="polite">
        {status}
      </p>
      {query.isPending && <p className="empty">Loading sanctions…</p>}
      <ProblemText error={query.error} prefix="Could not load sanctions" />
      {query.data && query.data.items.length === 0 && <p className="empty">No sanctions.</p>}
      {query.data && query.data.items.length > 0 && <SanctionRows items={query.data.items} showParticipant={false} onStatus={setStatus} />}
    </section>
  );
}

function Detail({ participantId }: { participantId: string }) {
  const { client } = useCortex();
  const { base, projectId } = useProject();
  const query = useQuery({
    queryKey: participantKey(projectId, participantId),
    queryFn: () => client.request<Participant>('GET', `${base}/participants/${encodeURIComponent(participantId)}`),
    staleTime: Infinity,
  });
  const p = query.data;
  return (
    <section className="pane participant-detail" aria-labelledby="participant-name" data-testid="participant-detail" data-participant-id={participantId}>
      <header className="pane-header">
        <h2 id="participant-name">{p ? participantName(p) : 'Participant'}</h2>
        {p?.displayName && <span className="muted">{p.externalUserId}</span>}
      </header>
      <div className="pane-body">
        {query.isPending && <p className="empty">Loading…</p>}
        <ProblemText error={query.error} prefix="Could not load the participant" />
        {p && (
          <>
            <dl className="profile" data-testid="participant-profile">
              <dt>User id</dt>
              <dd>
                <code>{p.externalUserId}</code>
              </dd>
              <dt>Display name</dt>
              <dd>{p.displayName ?? <span className="muted">none</span>}</dd>
              <dt>First seen</dt>
              <dd>{formatDateTime(p.joinedAt)}</dd>
              <dt>Cortex id</dt>
              <dd>
                <code className="muted">{p.id}</code>
              </dd>
              {p.userData && Object.keys(p.userData).length > 0 && (
                <>
                  <dt>User data</dt>
                  <dd>
                    <code className="user-data">{JSON.stringify(p.userData)}</code>
                  </dd>
                </>
              )}
            </dl>
            <Sanctions participantId={p.id} />
            <History participantId={p.id} />
          </>
        )}
      </div>
    </section>
  );
}

/** `#/participants` (search) and `#/participants/<id>` (search + profile, history, sanctions). */
export function ParticipantsView({ route }: { route: Route }) {
  const id = route.parts[1] ?? null;
  const { projectId } = useProject();
  const queryClient = useQueryClient();
  // One stream for the whole view (browsers allow only a few connections per server).
  useEvents({ projectId, types: id ? ['participant.*', 'sanction.*', 'message.created'] : ['participant.created', 'participant.updated'] }, (event) => {
    const d = event.payload.data;
    if (event.type.startsWith('sanction.')) applySanctionEvent(queryClient, projectId, event);
    else if (event.type === 'participant.created' || event.type === 'participant.updated') applyParticipant(queryClient, projectId, d as unknown as Participant);
    else if (id && event.type === 'message.created' && d.participantId === id) applyMessage(queryClient, historyKey(projectId, id), d as unknown as Message);
    else if (id && (event.type === 'participant.joined' || event.type === 'participant.left') && d.id === id) {
      void queryClient.invalidateQueries({ queryKey: historyKey(projectId, id) });
    }
  });
  return (
    <div className="split-layout participants-layout">
      <Search selectedId={id} />
      {id ? (
        <Detail key={id} participantId={id} />
      ) : (
        <section className="pane participant-detail" aria-label="Participant">
          <p className="empty">Search for a player by name or user id, then pick one to see their sessions, messages and sanctions.</p>
        </section>
      )}
    </div>
  );
}

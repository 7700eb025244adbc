import { useQuery, useQueryClient } from '@tanstack/react-query';
import type { DomainEvent } from '../../../../common/events.js';
import type { Gathering, GatheringMember } from '../../../../common/schemas.js';
import { ProblemText } from '../../components/ProblemText.js';
import { useCortex } from '../../lib/cortex-context.js';
import { formatDateTime } from '../../lib/format.js';
import { useProject } from '../../lib/project.js';
import { href, type Route } from '../../lib/router.js';
import { useEvents } from '../../lib/useEvents.js';
import '../sanctions/sanctions.css';
import './gatherings.css';

interface GatheringPage {
  items: Gathering[];
  nextCursor: string | null;
}

const STATE_ORDER: Record<string, number> = { ready: 0, joined: 1, invited: 2, left: 3 };
const byState = (a: GatheringMember, b: GatheringMember): number =>
  (STATE_ORDER[a.state] ?? 9) - (STATE_ORDER[b.state] ?? 9) || (a.role === b.role ? (a.id < b.id ? -1 : 1) : a.role === 'owner' ? -1 : 1);

const membersKey = (projectId: string, id: string) => ['projects', projectId, 'gatherings', 'members', id] as const;

const newestFirst = (a: Gathering, b: Gathering): number => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);

function Members({ gathering }: { gathering: Gathering }) {
  const { client } = useCortex();
  const { base, projectId } = useProject();
  const query = useQuery({
    queryKey: membersKey(projectId, gathering.id),
    queryFn: () => client.request<{ items: GatheringMember[] }>('GET', `${base}/gatherings/${encodeURIComponent(gathering.id)}/members`),
    staleTime: Infinity,
  });
  const items = [...(query.data?.items ?? [])].sort(byState);
  const present = items.filter((m) => m.state !== 'left' && m.state !== 'invited').length;
  return (
    <section className="pane gathering-detail" aria-labelledby="gathering-name" data-testid="gathering-detail" data-gathering-id={gathering.id}>
      <header className="pane-header">
        <h2 id="gathering-name">{gathering.name}</h2>
        <span className={`badge gstatus gstatus-${gathering.status}`}>{gathering.status}</span>
        <span className="count" data-testid="members-count">
          {present} present · {items.length} listed
        </span>
      </header>
      <dl className="gathering-facts">
        <dt>Type</dt>
        <dd>{gathering.type}</dd>
        <dt>Access</dt>
        <dd>
          {gathering.accessPolicy}
          {gathering.listed ? '' : ' · unlisted'}
        </dd>
        <dt>Capacity</dt>
        <dd>{gathering.maxMembers ?? 'unlimited'}</dd>
        {gathering.startsAt && (
          <>
            <dt>Starts</dt>
            <dd>{formatDateTime(gathering.startsAt)}</dd>
          </>
        )}
        {gathering.sessionId && (
          <>
            <dt>Session</dt>
            <dd>
              <a href={href(`/sessions/${gathering.sessionId}`)}>open the session</a>
            </dd>
          </>
        )}
        {gathering.description && (
          <>
            <dt>About</dt>
            <dd>{gathering.description}</dd>
          </>
        )}
      </dl>
      <div className="pane-body" data-testid="members-list" data-state={query.isPending ? 'loading' : query.error ? 'error' : 'ready'}>
        {query.isPending && <p className="empty">Loading members…</p>}
        <ProblemText error={query.error} prefix="Could not load the members" />
        {query.data && items.length === 0 && <p className="empty">No members yet.</p>}
        {items.length > 0 && (
          <table className="members">
            <caption className="sr-only">Members of {gathering.name}</caption>
            <thead>
              <tr>
                <th scope="col">Player</th>
                <th scope="col">Role</th>
                <th scope="col">State</th>
                <th scope="col">Since</th>
              </tr>
            </thead>
            <tbody>
              {items.map((m) => (
                <tr key={m.id} data-testid="member-row" data-member-id={m.id} data-state={m.state} className={m.state === 'left' ? 'member-left' : undefined}>
                  <td>{m.participantId ? <a href={href(`/participants/${m.participantId}`)}>{m.externalUserId}</a> : m.externalUserId}</td>
                  <td>{m.role}</td>
                  <td>
                    <span className={`badge mstate mstate-${m.state}`} data-testid="member-state">
                      {m.state}
                    </span>
                  </td>
                  <td className="muted">{formatDateTime(m.joinedAt ?? m.updatedAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
    </section>
  );
}

/** `#/gatherings` and `#/gatherings/<id>`: lobbies and appointments with their members, live. */
export function GatheringsView({ route }: { route: Route }) {
  const { client } = useCortex();
  const { base, projectId } = useProject();
  const queryClient = useQueryClient();
  const key = ['projects', projectId, 'gatherings', 'list'] as const;
  const query = useQuery({
    queryKey: key,
    queryFn: () => client.request<GatheringPage>('GET', `${base}/gatherings?limit=200`),
    staleTime: Infinity,
  });

  async function refreshOne(id: string): Promise<void> {
    try {
      const g = await client.request<Gathering>('GET', `${base}/gatherings/${encodeURIComponent(id)}`);
      upsert(g);
    } catch {
      void queryClient.invalidateQueries({ queryKey: key });
    }
  }
  function upsert(g: Gathering): void {
    queryClient.setQueryData<GatheringPage>(key, (page) => page && { ...page, items: [...page.items.filter((x) => x.id !== g.id), g].sort(newestFirst) });
  }
  useEvents({ projectId, types: ['gathering.*'] }, (event: DomainEvent) => {
    const page = queryClient.getQueryData<GatheringPage>(key);
    const d = event.payload.data;
    if (!page) return void queryClient.invalidateQueries({ queryKey: key });
    if (event.type === 'gathering.deleted' && typeof d.id === 'string') {
      queryClient.setQueryData<GatheringPage>(key, { ...page, items: page.items.filter((x) => x.id !== d.id) });
    } else if (event.type === 'gathering.created' || event.type === 'gathering.updated') {
      if (typeof d.id === 'string' && typeof d.memberCount === 'number') upsert(d as unknown as Gathering);
      else void queryClient.invalidateQueries({ queryKey: key });
    } else if (typeof d.gatheringId === 'string') {
      // A member came, went or changed: patch the member list (if open); the gathering's count follows.
      const mKey = membersKey(projectId, d.gatheringId);
      const members = queryClient.getQueryData<{ items: GatheringMember[] }>(mKey);
      if (members && typeof d.id === 'string') {
        const m = d as unknown as GatheringMember;
        queryClient.setQueryData(mKey, { items: [...members.items.filter((x) => x.id !== m.id), m] });
      }
      void refreshOne(d.gatheringId);
    }
  });

  const items = query.data?.items ?? [];
  const selectedId = route.parts[1] ?? null;
  const selected = items.find((g) => g.id === selectedId) ?? null;

  return (
    <div className="split-layout gatherings-layout">
      <section className="pane" aria-labelledby="gatherings-heading">
        <header className="pane-header">
          <h2 id="gatherings-heading">Gatherings</h2>
          {query.data && <span className="count">{items.length}</span>}
        </header>
        <div className="pane-body" data-testid="gatherings-list" data-state={query.isPending ? 'loading' : query.error ? 'error' : 'ready'}>
          {query.isPending && <p className="empty">Loading gatherings…</p>}
          <ProblemText error={query.error} prefix="Could not load gatherings" />
          {query.data && items.length === 0 && <p className="empty">No gatherings yet.</p>}
          {items.length > 0 && (
            <ul className="rows">
              {items.map((g) => (
                <li key={g.id}>
                  <a
                    className="pick-row gathering-row"
                    href={href(`/gatherings/${g.id}`)}
                    aria-current={g.id === selectedId ? 'true' : undefined}
                    data-testid="gathering-row"
                    data-gathering-id={g.id}
                  >
                    <span className="gathering-name">{g.name}</span>
                    <span className={`badge gstatus gstatus-${g.status}`}>{g.status}</span>
                    <span className="muted gathering-meta">
                      {g.type} · <span data-testid="gathering-members">{g.memberCount}{g.maxMembers !== null ? `/${g.maxMembers}` : ''}</span> members
                    </span>
                  </a>
                </li>
              ))}
            </ul>
          )}
        </div>
      </section>
      {selected ? (
        <Members key={selected.id} gathering={selected} />
      ) : (
        <section className="pane" aria-label="Gathering">
          {selectedId && query.data ? (
            <p className="empty">This gathering no longer exists.</p>
          ) : (
            <p className="empty">Pick a gathering to see its members and their states.</p>
          )}
        </section>
      )}
    </div>
  );
}

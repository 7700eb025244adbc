import { useQueries, useQuery, useQueryClient } from '@tanstack/react-query';
import { useMemo, useState } from 'react';
import type { ReviewItemView } from '../../../../common/automod-schemas.js';
import type { DomainEvent } from '../../../../common/events.js';
import type { PluginInstallation, PluginStatus } from '../../../../common/plugin-schemas.js';
import type { Annotation, Message, Session, Webhook, WebhookDelivery } from '../../../../common/schemas.js';
import type { ServerSettings } from '../../../../common/settings-schemas.js';
import { ProblemText } from '../../components/ProblemText.js';
import { useCortex } from '../../lib/cortex-context.js';
import type { BotView } from '../../lib/bot.js';
import { applyBotStatus } from '../sessions/detail/botStatus.js';
import { formatTime } from '../../lib/format.js';
import { useProject } from '../../lib/project.js';
import { href } from '../../lib/router.js';
import { useEvents } from '../../lib/useEvents.js';
import { modelsKey, type ModelsOverview } from '../models/modelsData.js';
import { serverSettingsKey } from '../settings/settingsData.js';
import {
  applyToActive, applyToFlagged, FLAG_MIN_SCORE, FLAG_WINDOW_MS, heardFromMessage, heardFromPeer, mergeHeard, overviewKeys,
  type Heard, type Paged,
} from './overviewData.js';
import { ago, Card, useNow } from './ui.js';

const PROJECT_TYPES = ['session.*', 'message.created', 'message.annotation.created', 'review.*', 'bot.status.changed', 'webhook.*', 'plugin.*'];
const MODEL_TYPES = { types: ['model.*'] };
const HEARD_RECENT_MS = 5 * 60_000;

interface WebhookHealth {
  webhook: Webhook;
  failing: number;
  exhausted: number;
  /** More than one page of failing/exhausted deliveries. */
  more: boolean;
}

interface PluginRow {
  installation: PluginInstallation;
  status: PluginStatus | null;
  error: unknown;
}

function sessionLabel(titles: Map<string, string | null>, id: string): string {
  if (!titles.has(id)) return 'a session that is not active';
  return titles.get(id) ?? '(untitled)';
}

/** `#/overview`: what is happening now in the project (remounted when the project changes). */
export function OverviewView() {
  const { projectId } = useProject();
  return <Overview key={projectId} />;
}

function Overview() {
  const { client } = useCortex();
  const { projectId, base } = useProject();
  const queryClient = useQueryClient();
  const now = useNow();
  const [liveHeard, setLiveHeard] = useState<Heard[]>([]);

  const sessions = useQuery({
    queryKey: overviewKeys.sessions(projectId),
    queryFn: () => client.request<Paged<Session>>('GET', `${base}/sessions?status=active&limit=100`),
    staleTime: Infinity,
  });
  const active = useMemo(() => sessions.data?.items ?? [], [sessions.data]);
  const titles = useMemo(() => new Map(active.map((s) => [s.id, s.title])), [active]);
  const withBots = active.filter((s) => s.adapter);

  const bots = useQueries({
    queries: withBots.map((s) => ({
      queryKey: overviewKeys.bot(projectId, s.id),
      queryFn: () => client.request<BotView>('GET', `${base}/sessions/${encodeURIComponent(s.id)}/bot`),
      staleTime: Infinity,
    })),
  });

  // Fixed when fetched; the list is aged locally (items older than an hour drop off).
  const flagged = useQuery({
    queryKey: overviewKeys.flagged(projectId),
    queryFn: () => {
      const since = new Date(Date.now() - FLAG_WINDOW_MS).toISOString();
      return client.request<Paged<Annotation>>('GET', `${base}/annotations?targetType=message&minScore=${FLAG_MIN_SCORE}&limit=200&since=${encodeURIComponent(since)}`);
    },
    staleTime: Infinity,
  });

  const review = useQuery({
    queryKey: overviewKeys.review(projectId),
    queryFn: () => client.request<Paged<ReviewItemView>>('GET', `${base}/review?status=open&limit=500`),
    staleTime: Infinity,
  });

  const webhooks = useQuery({
    queryKey: overviewKeys.webhooks(projectId),
    queryFn: async (): Promise<WebhookHealth[]> => {
      const list = await client.request<Paged<Webhook>>('GET', `${base}/webhooks?limit=100`);
      return Promise.all(
        list.items.map(async (webhook) => {
          const path = `${base}/webhooks/${encodeURIComponent(webhook.id)}/deliveries?limit=100&status=`;
          const [failing, exhausted] = await Promise.all([
            client.request<Paged<WebhookDelivery>>('GET', `${path}failed`),
            client.request<Paged<WebhookDelivery>>('GET', `${path}exhausted`),
          ]);
          return { webhook, failing: failing.items.length, exhausted: exhausted.items.length, more: !!(failing.nextCursor || exhausted.nextCursor) };
        }),
      );
    },
    staleTime: Infinity,
  });

  const plugins = useQuery({
    queryKey: overviewKeys.plugins(projectId),
    queryFn: async (): Promise<PluginRow[]> => {
      const list = await client.request<{ items: PluginInstallation[] }>('GET', `${base}/plugins`);
      return Promise.all(
        list.items.map((installation) =>
          client
            .request<PluginStatus>('GET', `${base}/plugins/${encodeURIComponent(installation.pluginId)}/status`)
            .then((status) => ({ installation, status, error: null }), (error: unknown) => ({ installation, status: null, error })),
        ),
      );
    },
    staleTime: Infinity,
  });

  const models = useQuery({ queryKey: modelsKey, queryFn: () => client.request<ModelsOverview>('GET', '/api/models'), staleTime: Infinity });
  const server = useQuery({ queryKey: serverSettingsKey, queryFn: () => client.request<ServerSettings>('GET', '/api/settings'), staleTime: Infinity, retry: false });

  useEvents({ projectId, types: PROJECT_TYPES }, (event: DomainEvent) => {
    const invalidate = (key: readonly unknown[]) => void queryClient.invalidateQueries({ queryKey: key });
    const patch = <T,>(key: readonly unknown[], apply: (d: T) => T | null | undefined) => {
      const data = queryClient.getQueryData<T>(key);
      if (data === undefined) return;
      const next = apply(data);
      if (next === null) invalidate(key);
      else if (next !== undefined) queryClient.setQueryData(key, next);
    };
    if (event.type.startsWith('session.')) patch<Paged<Session>>(overviewKeys.sessions(projectId), (d) => applyToActive(d, event));
    else if (event.type === 'message.annotation.created') patch<Paged<Annotation>>(overviewKeys.flagged(projectId), (d) => applyToFlagged(d, event));
    else if (event.type === 'message.created') {
      const h = heardFromMessage(event.payload.data as unknown as Message);
      if (h) setLiveHeard((prev) => mergeHeard(prev, [h]).slice(0, 200));
    } else if (event.type.startsWith('review.')) invalidate(overviewKeys.review(projectId));
    else if (event.type === 'bot.status.changed') {
      const sessionId = event.payload.data.sessionId;
      if (typeof sessionId === 'string') patch<BotView>(overviewKeys.bot(projectId, sessionId), (d) => applyBotStatus(d, event));
    } else if (event.type.startsWith('webhook.')) invalidate(overviewKeys.webhooks(projectId));
    else if (event.type.startsWith('plugin.')) invalidate(overviewKeys.plugins(projectId));
  });
  useEvents(MODEL_TYPES, (event) => {
    if (event.type === 'model.download.completed') void queryClient.invalidateQueries({ queryKey: modelsKey });
  });

  const fromBots = bots.flatMap((q, i) => (q.data ? q.data.peers.map((p) => heardFromPeer(withBots[i]!.id, p)).filter((h): h is Heard => h !== null) : []));
  const heard = mergeHeard(fromBots, liveHeard).filter((h) => titles.has(h.sessionId));
  // Who speaks now (the bots' VAD, pushed as bot.status.changed): first, with their last-heard time as secondary info.
  const speakingNow = withBots.flatMap((s, i) => {
    const view = bots[i]?.data;
    if (!view || view.state !== 'listening') return [];
    return view.peers.filter((p) => p.speaking).map((p): Heard => ({ key: `${s.id}/${p.participantId ?? p.peerId}`, sessionId: s.id, name: p.displayName ?? p.peerId, at: '', text: null }));
  });
  const speakingKeys = new Set(speakingNow.map((h) => h.key));
  const heardKeys = new Set(heard.map((h) => h.key));
  const heardRows = [
    ...speakingNow.filter((h) => !heardKeys.has(h.key)),
    ...heard.filter((h) => speakingKeys.has(h.key)),
    ...heard.filter((h) => !speakingKeys.has(h.key)),
  ];
  const heardRecently = heard.filter((h) => now - Date.parse(h.at) < HEARD_RECENT_MS).length;

  const flaggedItems = (flagged.data?.items ?? []).filter((a) => now - Date.parse(a.createdAt) < FLAG_WINDOW_MS);
  const openCount = review.data ? `${review.data.items.length}${review.data.nextCursor ? '+' : ''}` : '…';
  const failingHooks = (webhooks.data ?? []).filter((w) => w.failing + w.exhausted > 0 || !w.webhook.enabled);
  const backlog = (plugins.data ?? []).reduce((n, p) => n + (p.status?.backlog ?? 0), 0);
  const botErrors = bots.filter((q) => q.data?.state === 'error').length;

  return (
    <div className="admin-view overview" data-testid="overview">
      <header>
        <h2>Overview</h2>
        <p className="muted">What is happening now in project <span className="mono">{projectId}</span>.</p>
      </header>

      <ul className="tiles" aria-label="Summary">
        <Tile label="Active sessions" value={sessions.data ? active.length : '…'} to="/sessions" testId="tile-sessions" />
        <Tile label="Speakers heard (5 min)" value={heardRecently} testId="tile-heard" />
        <Tile label="Flagged (last hour)" value={flagged.data ? flaggedItems.length : '…'} tone={flaggedItems.length ? 'warn' : 'ok'} testId="tile-flagged" />
        <Tile label="Open review items" value={openCount} to="/review" tone={review.data?.items.length ? 'warn' : 'ok'} testId="tile-review" />
        <Tile label="Webhooks failing" value={webhooks.data ? failingHooks.length : '…'} to="/webhooks" tone={failingHooks.length ? 'danger' : 'ok'} testId="tile-webhooks" />
        <Tile label="Plugin backlog" value={plugins.data ? backlog : '…'} to="/plugins" tone={backlog > 100 ? 'warn' : 'ok'} testId="tile-backlog" />
      </ul>

      <div className="cards">
        <Card id="active-sessions" title="Active sessions" count={active.length}>
          <ProblemText error={sessions.error} prefix="Could not load sessions" />
          {sessions.data && active.length === 0 && <p className="empty">No session is active.</p>}
          <ul className="items" data-testid="active-sessions">
            {active.map((s) => (
              <li className="item" key={s.id} data-testid="active-session" data-session-id={s.id}>
                <a className="grow" href={href(`/sessions/${encodeURIComponent(s.id)}`)}>
                  {s.title ?? '(untitled)'}
                </a>
                {s.adapter && <span className="badge badge-muted">{s.adapter}</span>}
                <span className="sub" title={s.startedAt ?? s.createdAt}>
                  {ago(s.startedAt ?? s.createdAt, now)}
                </span>
              </li>
            ))}
          </ul>
        </Card>

        <Card id="heard" title="Speaking now · last heard" count={heard.length}>
          {heardRows.length === 0 && <p className="empty">Nobody heard yet.</p>}
          <ul className="items" data-testid="heard">
            {heardRows.slice(0, 50).map((h) => {
              const speaking = speakingKeys.has(h.key);
              return (
                <li className="item" key={h.key} data-testid="heard-row" data-speaking={speaking}>
                  {speaking ? (
                    <span className="badge badge-ok" data-testid="heard-speaking">speaking</span>
                  ) : (
                    <span className={now - Date.parse(h.at) < HEARD_RECENT_MS ? 'badge badge-ok' : 'badge badge-muted'}>{ago(h.at, now)}</span>
                  )}
                  <span className="grow" title={h.text ?? undefined}>
                    <strong>{h.name}</strong>{' '}
                    <a className="muted" href={href(`/sessions/${encodeURIComponent(h.sessionId)}`)}>
                      in {sessionLabel(titles, h.sessionId)}
                    </a>
                  </span>
                  {speaking && h.at && <span className="sub" title={h.at}>heard {ago(h.at, now)}</span>}
                </li>
              );
            })}
          </ul>
          <p className="note">Speaking comes live from the transcription bots&apos; voice detection; the time is each speaker&apos;s latest transcript or message.</p>
        </Card>

        <Card id="flagged" title="Flagged in the last hour" count={flaggedItems.length} tone={flaggedItems.length ? 'warn' : undefined}>
          <ProblemText error={flagged.error} prefix="Could not load annotations" />
          {flagged.data && flaggedItems.length === 0 && <p className="empty">Nothing scored {FLAG_MIN_SCORE} or more in the last hour.</p>}
          <ul className="items" data-testid="flagged">
            {flaggedItems.slice(0, 100).map((a) => (
              <li className="item" key={a.id} data-testid="flagged-row" data-message-id={a.messageId ?? ''}>
                <span className="score" title="score">{a.score?.toFixed(2)}</span>
                <span className="grow two-line">
                  <a href={href(`/sessions/${encodeURIComponent(a.sessionId)}`)}>{a.type}</a>
                  {categories(a) && <span className="muted"> · {categories(a)}</span>}
                  <span className="sub">{sessionLabel(titles, a.sessionId)}</span>
                </span>
                {a.severity && <span className={`badge ${a.severity === 'high' ? 'badge-danger' : a.severity === 'medium' ? 'badge-warn' : 'badge-muted'}`}>{a.severity}</span>}
                <time className="sub" dateTime={a.createdAt}>{formatTime(a.createdAt)}</time>
              </li>
            ))}
          </ul>
        </Card>

        <Card id="review" title="Open review" count={openCount} actions={<a href={href('/review')}>Open queue</a>}>
          <ProblemText error={review.error} prefix="Could not load the review queue" />
          {review.data && review.data.items.length === 0 && <p className="empty">The review queue is empty.</p>}
          <ul className="items">
            {(review.data?.items ?? []).slice(0, 8).map((r) => (
              <li className="item" key={r.id}>
                <span className={`badge ${r.priority === 'high' ? 'badge-danger' : r.priority === 'medium' ? 'badge-warn' : 'badge-muted'}`}>{r.priority}</span>
                <span className="grow" title={r.message?.content}>
                  {r.participant?.displayName ?? r.participant?.externalUserId ?? 'someone'}: <span className="muted">{r.message?.content ?? '(message deleted)'}</span>
                </span>
                <span className="sub">{ago(r.createdAt, now)}</span>
              </li>
            ))}
          </ul>
        </Card>

        <Card id="engine" title="Bots and engine" tone={botErrors || (models.data && models.data.items.length === 0 && server.data?.transcriptionEngine !== 'openai') ? 'warn' : undefined}>
          <EngineSummary models={models.data} modelsError={models.error} server={server.data} />
          {withBots.length === 0 && <p className="empty">No active session has a transcription bot.</p>}
          <ul className="items" data-testid="bots">
            {withBots.map((s, i) => {
              const q = bots[i];
              const bot = q?.data;
              return (
                <li className="item" key={s.id} data-testid="bot-row">
                  <a className="grow" href={href(`/sessions/${encodeURIComponent(s.id)}`)} title={bot?.reason ?? undefined}>
                    {s.title ?? '(untitled)'}
                    {bot?.reason && <span className="muted"> · {bot.reason}</span>}
                  </a>
                  {bot?.queue && bot.queue.depth > 0 && <span className="sub">{bot.queue.depth} queued</span>}
                  {bot && <span className={`badge ${bot.state === 'listening' ? 'badge-ok' : bot.state === 'error' ? 'badge-danger' : 'badge-muted'}`}>{bot.state}</span>}
                  {q?.error != null && <span className="badge badge-danger">unknown</span>}
                </li>
              );
            })}
          </ul>
        </Card>

        <Card id="webhooks" title="Webhooks" count={webhooks.data?.length} tone={failingHooks.length ? 'danger' : undefined} actions={<a href={href('/webhooks')}>Manage</a>}>
          <ProblemText error={webhooks.error} prefix="Could not load webhooks" />
          {webhooks.data && webhooks.data.length === 0 && <p className="empty">No webhook subscriptions.</p>}
          <ul className="items" data-testid="webhook-health">
            {(webhooks.data ?? []).map((w) => (
              <li className="item" key={w.webhook.id}>
                <span className="grow mono" title={w.webhook.url}>{w.webhook.url}</span>
                {!w.webhook.enabled && <span className="badge badge-muted" title={w.webhook.disabledReason ?? undefined}>disabled</span>}
                {w.failing > 0 && <span className="badge badge-warn">{w.failing}{w.more ? '+' : ''} retrying</span>}
                {w.exhausted > 0 && <span className="badge badge-danger">{w.exhausted}{w.more ? '+' : ''} gave up</span>}
                {w.webhook.enabled && w.failing + w.exhausted === 0 && <span className="badge badge-ok">healthy</span>}
              </li>
            ))}
          </ul>
        </Card>

        <Card
          id="plugins"
          title="Plugins"
          count={plugins.data?.length}
          wide
          actions={
            <button type="button" className="secondary small" onClick={() => void queryClient.invalidateQueries({ queryKey: overviewKeys.plugins(projectId) })} disabled={plugins.isFetching}>
              {plugins.isFetching ? 'Refreshing…' : 'Refresh backlogs'}
            </button>
          }
        >
          <ProblemText error={plugins.error} prefix="Could not load plugins" />
          {plugins.data && plugins.data.length === 0 && <p className="empty">No plugin is installed in this project.</p>}
          {plugins.data && plugins.data.length > 0 && (
            <table className="table" data-testid="plugin-status">
              <thead>
                <tr>
                  <th scope="col">Plugin</th>
                  <th scope="col">State</th>
                  <th scope="col" className="num">Backlog</th>
                  <th scope="col" className="num">Events/s</th>
                  <th scope="col" className="num">Annotations</th>
                  <th scope="col" className="num">Errors</th>
                </tr>
              </thead>
              <tbody>
                {plugins.data.map((p) => (
                  <tr key={p.installation.pluginId}>
                    <td className="mono">{p.installation.pluginId}</td>
                    <td>
                      {p.status ? <span className={`badge ${pluginTone(p.status)}`}>{p.installation.enabled ? p.status.state : 'disabled'}</span> : <ProblemText error={p.error} />}
                    </td>
                    <td className="num">{p.status?.backlog ?? '–'}</td>
                    <td className="num">{p.status ? p.status.eventsPerSecond.toFixed(1) : '–'}</td>
                    <td className="num">{p.status?.annotations ?? '–'}</td>
                    <td className="num" title={p.status?.recentErrors[0]?.message}>{p.status?.errors ?? '–'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          <p className="note">Backlogs are read when the overview opens, a plugin changes, or you refresh.</p>
        </Card>
      </div>
    </div>
  );
}

function pluginTone(s: PluginStatus): string {
  if (s.state === 'backoff' || s.state === 'stopped') return 'badge-danger';
  if (s.backlog > 100) return 'badge-warn';
  return 'badge-ok';
}

function categories(a: Annotation): string | null {
  const c = a.content?.categories;
  return Array.isArray(c) && c.length ? c.slice(0, 3).join(', ') : null;
}

function Tile({ label, value, to, tone, testId }: { label: string; value: string | number; to?: string; tone?: 'ok' | 'warn' | 'danger'; testId: string }) {
  const body = (
    <>
      <span className="value" data-testid={`${testId}-value`}>{value}</span>
      <span className="label">{label}</span>
    </>
  );
  return (
    <li>
      {to ? (
        <a className={`tile${tone ? ` tile-${tone}` : ''}`} href={href(to)} data-testid={testId}>
          {body}
        </a>
      ) : (
        <div className={`tile${tone ? ` tile-${tone}` : ''}`} data-testid={testId}>
          {body}
        </div>
      )}
    </li>
  );
}

function EngineSummary({ models, modelsError, server }: { models: ModelsOverview | undefined; modelsError: unknown; server: ServerSettings | undefined }) {
  if (server?.transcriptionEngine === 'openai') return <p>Engine: an OpenAI-compatible endpoint (no local model needed).</p>;
  if (modelsError) return <ProblemText error={modelsError} prefix="Could not read the Whisper models" />;
  if (!models) return <p className="muted">Reading the Whisper models…</p>;
  if (models.items.length === 0)
    return (
      <p data-testid="engine-status">
        <span className="badge badge-warn">no model</span> Bots cannot transcribe: <a href={href('/models')}>import or download a Whisper model</a>.
      </p>
    );
  return (
    <p data-testid="engine-status">
      <span className="badge badge-ok">whisper.cpp</span> {models.items.length} model{models.items.length === 1 ? '' : 's'}: <span className="mono">{models.items.map((m) => m.name).join(', ')}</span>
      {models.downloads.length > 0 && <span className="muted"> · {models.downloads.length} downloading</span>}
    </p>
  );
}

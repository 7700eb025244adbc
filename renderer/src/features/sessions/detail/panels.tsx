import { useMutation } from '@tanstack/react-query';
import { useMemo, useState } from 'react';
import { ApiError } from '../../../../../common/problem.js';
import type { Participant, Sanction, Session } from '../../../../../common/schemas.js';
import { ProblemText } from '../../../components/ProblemText.js';
import type { BotView } from '../../../lib/bot.js';
import { useCortex } from '../../../lib/cortex-context.js';
import { formatDateTime, formatTime } from '../../../lib/format.js';
import { activity, speakerSlot, type TranscriptMessage } from './transcriptModel.js';

export type SessionParticipant = Participant & { sessionJoinedAt: string; leftAt: string | null };

// ---- participants ------------------------------------------------------------------

export interface ParticipantsPanelProps {
  participants: SessionParticipant[] | undefined;
  error: unknown;
  sanctions: Map<string, Sanction[]> | undefined;
  sanctionsError: unknown;
  bot: BotView | undefined;
  /** Last message time per participant (from the live transcript). */
  lastSpoke: Map<string, string>;
}

function sanctionLabel(s: Sanction): string {
  return s.endAt ? `${s.type.replace(/_/g, ' ')} until ${formatDateTime(s.endAt)}` : `${s.type.replace(/_/g, ' ')} (permanent)`;
}

export function ParticipantsPanel({ participants, error, sanctions, sanctionsError, bot, lastSpoke }: ParticipantsPanelProps) {
  const peers = new Map((bot?.peers ?? []).filter((p) => p.participantId).map((p) => [p.participantId!, p]));
  const present = participants?.filter((p) => !p.leftAt).length ?? 0;
  return (
    <section className="sx-side-section" aria-labelledby="participants-heading" data-testid="participants">
      <h3 id="participants-heading">
        Participants {participants && <span className="count">{present} present · {participants.length}</span>}
      </h3>
      <ProblemText error={error} prefix="Could not load participants" />
      <ProblemText error={sanctionsError} prefix="Could not load sanctions" />
      {participants && participants.length === 0 && <p className="muted sx-small">Nobody has joined yet.</p>}
      <ul className="sx-people">
        {participants?.map((p) => {
          const peer = peers.get(p.id);
          const last = peer?.lastUtterance?.startedAt ?? lastSpoke.get(p.id) ?? null;
          const active = sanctions?.get(p.id) ?? [];
          const slot = speakerSlot({ participantId: p.id, senderName: null, type: 'user' });
          // Live: the bot pushes speaking changes (bot.status.changed, at most 4 a second per session).
          const speaking = Boolean(peer?.speaking && !p.leftAt && bot?.state === 'listening');
          return (
            <li key={p.id} className={`sx-person sx-speaker-${slot}${p.leftAt ? ' sx-left' : ''}`} data-testid="participant" data-participant-id={p.id} data-speaking={speaking}>
              <span className={`sx-speaking-dot${speaking ? ' sx-is-speaking' : ''}`} data-testid="speaking-dot" aria-hidden="true" />
              <div className="sx-person-main">
                <span className="sx-person-name">{p.displayName ?? p.externalUserId}</span>
                <span className="muted sx-small">
                  {speaking && <><strong className="sx-speaking-text">speaking now</strong>{last && ' · '}</>}
                  {last ? (
                    <>last spoke <time dateTime={last}>{formatTime(last)}</time></>
                  ) : (
                    !speaking && 'has not spoken'
                  )}
                  {p.leftAt && <> · left <time dateTime={p.leftAt}>{formatTime(p.leftAt)}</time></>}
                </span>
                {active.length > 0 && (
                  <ul className="sx-sanction-badges" aria-label="Active sanctions">
                    {active.map((s) => (
                      <li key={s.id} className="badge sx-badge-sanction" data-testid="participant-sanction" title={s.reason ?? undefined}>
                        {sanctionLabel(s)}
                      </li>
                    ))}
                  </ul>
                )}
              </div>
            </li>
          );
        })}
      </ul>
      {bot && (
        <p className="muted sx-small" data-testid="bot-state">
          Transcription bot: {bot.state}
          {bot.reason ? ` — ${bot.reason}` : ''}
        </p>
      )}
    </section>
  );
}

// ---- summary -----------------------------------------------------------------------

export function SummaryPanel({ session, base }: { session: Session; base: string }) {
  const { client } = useCortex();
  const [requestedAt, setRequestedAt] = useState<string | null>(null);
  const regenerate = useMutation({
    mutationFn: () => client.request('POST', `${base}/sessions/${encodeURIComponent(session.id)}/summary/regenerate`),
    onSuccess: () => setRequestedAt(session.summary ?? ''),
  });
  // The request is answered once the summary plugin writes a (new) summary onto the session.
  const waiting = requestedAt !== null && requestedAt === (session.summary ?? '') && regenerate.isSuccess;
  return (
    <section className="sx-side-section" aria-labelledby="summary-heading" data-testid="summary">
      <h3 id="summary-heading">
        Summary
        <button
          type="button"
          className="sx-small-button"
          data-testid="regenerate-summary"
          disabled={regenerate.isPending}
          onClick={() => regenerate.mutate()}
        >
          {regenerate.isPending ? 'Requesting…' : 'Regenerate'}
        </button>
      </h3>
      {session.summary ? (
        <p className="sx-summary-text" data-testid="summary-text">
          {session.summary}
        </p>
      ) : (
        <p className="muted sx-small">No summary yet. The summary plugin writes one when the session ends, or on request.</p>
      )}
      {waiting && (
        <p className="muted sx-small" role="status">
          Requested — the new summary appears here when the summary plugin has written it.
        </p>
      )}
      <ProblemText
        error={
          regenerate.error instanceof ApiError && regenerate.error.status === 409
            ? new Error('the summary plugin is not installed or not enabled in this project. Install and enable it under Plugins to summarize sessions.')
            : regenerate.error
        }
        prefix="Could not regenerate the summary"
      />
    </section>
  );
}

// ---- activity chart ------------------------------------------------------------------

const CHART_W = 300;
const CHART_H = 84;
/** Bars are never wider than this many slots' worth, so a short session does not fill the chart with one block. */
const MIN_SLOTS = 30;

export function ActivityChart({ items }: { items: TranscriptMessage[] }) {
  const { bucketMinutes, buckets } = useMemo(() => activity(items), [items]);
  const flagged = useMemo(() => buckets.reduce((n, b) => n + b.flagged, 0), [buckets]);
  const peak = Math.max(1, ...buckets.map((b) => b.messages));
  const w = CHART_W / Math.max(MIN_SLOTS, buckets.length);
  const gap = w > 4 ? 1 : 0;
  const unit = bucketMinutes === 1 ? 'minute' : `${bucketMinutes} minutes`;
  const label = buckets.length
    ? `${items.length} messages, ${flagged} flagged, per ${unit}, from ${formatTime(new Date(buckets[0]!.start).toISOString())}; busiest ${peak} messages`
    : 'No messages yet';
  return (
    <section className="sx-side-section" aria-labelledby="activity-heading" data-testid="activity">
      <h3 id="activity-heading">
        Activity <span className="muted sx-small">per {unit}</span>
      </h3>
      {buckets.length === 0 ? (
        <p className="muted sx-small">No messages yet.</p>
      ) : (
        <>
          <svg className="sx-chart" viewBox={`0 0 ${CHART_W} ${CHART_H}`} preserveAspectRatio="none" role="img" aria-label={label} data-testid="activity-chart">
            <line className="sx-chart-axis" x1={0} y1={CHART_H - 0.5} x2={CHART_W} y2={CHART_H - 0.5} />
            {buckets.map((b, i) => {
              const h = (b.messages / peak) * (CHART_H - 4);
              const fh = (b.flagged / peak) * (CHART_H - 4);
              const x = i * w;
              const when = formatTime(new Date(b.start).toISOString());
              return (
                <g key={b.start}>
                  <title>{`${when}: ${b.messages} messages, ${b.flagged} flagged`}</title>
                  {b.messages > 0 && <rect className="sx-bar-messages" x={x} y={CHART_H - h} width={Math.max(0.5, w - gap)} height={h} />}
                  {b.flagged > 0 && <rect className="sx-bar-flagged" x={x} y={CHART_H - Math.max(3, fh)} width={Math.max(0.5, w - gap)} height={Math.max(3, fh)} />}
                </g>
              );
            })}
          </svg>
          <div className="sx-chart-legend sx-small">
            <span>
              <i className="sx-key sx-key-messages" /> messages
            </span>
            <span>
              <i className="sx-key sx-key-flagged" /> flagged ({flagged})
            </span>
            <span className="muted">
              {formatTime(new Date(buckets[0]!.start).toISOString())} – {formatTime(new Date(buckets[buckets.length - 1]!.start + bucketMinutes * 60_000).toISOString())}
            </span>
          </div>
        </>
      )}
    </section>
  );
}

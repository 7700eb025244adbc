import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef, useState, type FormEvent } from 'react';
import type { Sanction } from '../../../../common/schemas.js';
import { ProblemText } from '../../components/ProblemText.js';
import { useCortex } from '../../lib/cortex-context.js';
import { formatDateTime } from '../../lib/format.js';
import { useProject } from '../../lib/project.js';
import { href } from '../../lib/router.js';
import { formatDuration, sanctionLabel, sanctionSeconds } from './sanctionFormat.js';
import { placeSanction } from './sanctionsCache.js';
import './sanctions.css';

function RevokeForm({ sanction, onDone }: { sanction: Sanction; onDone: (message: string | null) => void }) {
  const { client } = useCortex();
  const { base, projectId } = useProject();
  const queryClient = useQueryClient();
  const [reason, setReason] = useState('');
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => input.current?.focus(), []);
  const revoke = useMutation({
    mutationFn: (r: string) =>
      client.request<Sanction>('POST', `${base}/sanctions/${encodeURIComponent(sanction.id)}/revoke`, r ? { reason: r } : {}),
    onSuccess: (s) => {
      placeSanction(queryClient, projectId, s);
      onDone(`Revoked the ${sanctionLabel(s.type)} of ${s.externalUserId ?? 'the participant'}.`);
    },
  });
  function submit(e: FormEvent): void {
    e.preventDefault();
    revoke.mutate(reason.trim());
  }
  return (
    <form
      className="revoke-form"
      onSubmit={submit}
      onKeyDown={(e) => {
        if (e.key === 'Escape') {
          e.stopPropagation();
          onDone(null);
        }
      }}
      aria-label={`Revoke ${sanctionLabel(sanction.type)}`}
      data-testid="revoke-form"
    >
      <input
        ref={input}
        type="text"
        value={reason}
        maxLength={4000}
        placeholder="Reason (optional), e.g. appeal accepted"
        aria-label="Reason for revoking"
        data-testid="revoke-reason"
        onChange={(e) => setReason(e.target.value)}
      />
      <button type="submit" className="mod-danger" disabled={revoke.isPending} data-testid="revoke-confirm">
        {revoke.isPending ? 'Revoking…' : 'Revoke'}
      </button>
      <button type="button" className="mod-secondary" onClick={() => onDone(null)}>
        Cancel
      </button>
      <ProblemText error={revoke.error} prefix="Could not revoke" />
    </form>
  );
}

function Ends({ s }: { s: Sanction }) {
  if (s.status === 'revoked' && s.revokedAt) return <span>revoked {formatDateTime(s.revokedAt)}</span>;
  if (!s.endAt) return <span>no end</span>;
  const secs = sanctionSeconds(s);
  return (
    <span>
      {secs !== null && `${formatDuration(secs)} · `}
      {s.status === 'expired' ? 'ended' : 'ends'} <time dateTime={s.endAt}>{formatDateTime(s.endAt)}</time>
    </span>
  );
}

/** Sanctions as rows, each active one with a Revoke (asks for a reason). */
export function SanctionRows({ items, showParticipant = true, onStatus }: { items: Sanction[]; showParticipant?: boolean; onStatus?: (message: string) => void }) {
  const [revoking, setRevoking] = useState<string | null>(null);
  return (
    <ul className="rows sanction-rows" data-testid="sanction-rows">
      {items.map((s) => {
        const revokeReason = typeof s.metadata?.revokeReason === 'string' ? s.metadata.revokeReason : null;
        return (
          <li key={s.id} className="sanction-row" data-testid="sanction-row" data-sanction-id={s.id} data-status={s.status}>
            <div className="sanction-main">
              <span className={`badge sanction-type sanction-${s.type}`}>{sanctionLabel(s.type)}</span>
              {showParticipant && (
                s.participantId ? (
                  <a className="sanction-who" href={href(`/participants/${s.participantId}`)}>
                    {s.externalUserId ?? s.participantId}
                  </a>
                ) : (
                  <span className="sanction-who">{s.externalUserId ?? 'unknown'}</span>
                )
              )}
              <span className={`badge badge-status-${s.status}`} data-testid="sanction-status">
                {s.status}
              </span>
              <span className="sanction-ends muted">
                <Ends s={s} />
              </span>
              {s.status === 'active' && revoking !== s.id && (
                <button type="button" className="mod-secondary mod-small" onClick={() => setRevoking(s.id)} data-testid="revoke">
                  Revoke…
                </button>
              )}
            </div>
            <div className="sanction-meta muted">
              <span>{s.reason ?? 'no reason given'}</span>
              <span>
                since <time dateTime={s.startAt}>{formatDateTime(s.startAt)}</time>
                {s.createdByUserId && ` · by ${s.createdByUserId}`}
              </span>
              {revokeReason && <span data-testid="revoke-reason-shown">lifted: {revokeReason}</span>}
            </div>
            {revoking === s.id && (
              <RevokeForm
                sanction={s}
                onDone={(message) => {
                  setRevoking(null);
                  if (message) onStatus?.(message);
                }}
              />
            )}
          </li>
        );
      })}
    </ul>
  );
}

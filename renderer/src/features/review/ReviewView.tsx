import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useCallback, useEffect, useRef, useState } from 'react';
import type { ReviewItemView, ReviewResolve } from '../../../../common/automod-schemas.js';
import type { DomainEvent } from '../../../../common/events.js';
import { ApiError } from '../../../../common/problem.js';
import type { Annotation, Message, Sanction } from '../../../../common/schemas.js';
import { ProblemText } from '../../components/ProblemText.js';
import { useCortex } from '../../lib/cortex-context.js';
import { formatDateTime, formatTime } from '../../lib/format.js';
import { useProject } from '../../lib/project.js';
import { href, navigate } from '../../lib/router.js';
import { useEvents } from '../../lib/useEvents.js';
import { DURATIONS, participantName } from '../sanctions/sanctionFormat.js';
import '../sanctions/sanctions.css';
import { addAnnotation, patchMessage, removeItem, reviewKey, upsertItem, type ReviewPage } from './reviewCache.js';
import './review.css';

type Kind = 'dismiss' | 'warn' | 'mute' | 'temp_ban';

interface Done {
  kind: Kind;
  who: string;
  sanctionId: string | null;
  durationSeconds?: number;
}

interface Picker {
  kind: 'mute' | 'temp_ban';
  itemId: string;
  choice: number;
}

const SHORTCUTS: readonly [string, string][] = [
  ['j / ↓', 'next item'],
  ['k / ↑', 'previous item'],
  ['d', 'dismiss (no action needed)'],
  ['w', 'warn the speaker'],
  ['m', 'mute… (pick a duration)'],
  ['b', 'temp-ban… (pick a duration)'],
  ['1–4', 'in the duration picker: choose and confirm'],
  ['Enter / Esc', 'in the picker: confirm / cancel'],
  ['o', 'open the session for context'],
  ['u', 'undo the last sanction (revokes it)'],
  ['?', 'show or hide this help'],
];

const VERB: Record<Kind, string> = { dismiss: 'Dismissed', warn: 'Warned', mute: 'Muted', temp_ban: 'Banned' };
const NOUN: Record<Kind, string> = { dismiss: 'dismissal', warn: 'warning', mute: 'mute', temp_ban: 'ban' };
const durationLabel = (s: number | undefined) => DURATIONS.find((d) => d.seconds === s)?.label ?? `${s ?? 0} s`;

function isEditable(el: EventTarget | null): boolean {
  if (!(el instanceof HTMLElement)) return false;
  return el.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(el.tagName);
}

function scoreText(a: Annotation): string {
  return a.score === null ? '' : a.score.toFixed(2);
}

function AnnotationBadge({ a }: { a: Annotation }) {
  const categories = Array.isArray(a.content?.categories) ? (a.content.categories as unknown[]).filter((c) => typeof c === 'string') : [];
  return (
    <span className={`ann ann-${a.severity ?? 'none'}`} data-testid="annotation-badge" title={categories.length ? `categories: ${categories.join(', ')}` : undefined}>
      <span className="ann-type">{a.type}</span>
      {a.score !== null && <span className="ann-score">{scoreText(a)}</span>}
      {a.severity && <span className="ann-sev">{a.severity}</span>}
      {categories.length > 0 && <span className="ann-cats">{categories.join(', ')}</span>}
    </span>
  );
}

function topAnnotation(item: ReviewItemView): Annotation | undefined {
  const evidence = item.annotations.filter((a) => item.evidenceAnnotationIds.includes(a.id));
  const pool = evidence.length ? evidence : item.annotations;
  return [...pool].sort((a, b) => (b.score ?? 0) - (a.score ?? 0))[0];
}

function QueueRow({ item, selected, onSelect }: { item: ReviewItemView; selected: boolean; onSelect: () => void }) {
  const top = topAnnotation(item);
  return (
    <li
      id={`review-item-${item.id}`}
      role="option"
      aria-selected={selected}
      tabIndex={selected ? 0 : -1}
      className={`review-row prio-${item.priority}`}
      data-testid="review-item"
      data-item-id={item.id}
      data-message-id={item.messageId}
      onClick={onSelect}
    >
      <span className="review-row-top">
        <span className={`badge prio prio-badge-${item.priority}`}>{item.priority}</span>
        <span className="review-speaker">{participantName(item.participant)}</span>
        <time className="muted" dateTime={item.createdAt}>
          {formatTime(item.createdAt)}
        </time>
      </span>
      <span className="review-excerpt" data-testid="review-excerpt">
        {item.message ? item.message.content : <em className="muted">message deleted</em>}
      </span>
      {top && (
        <span className="review-row-anns">
          <AnnotationBadge a={top} />
          {item.annotations.length > 1 && <span className="muted small">+{item.annotations.length - 1}</span>}
        </span>
      )}
    </li>
  );
}

function DurationPicker({ picker, who, onPick, onCancel }: { picker: Picker; who: string; onPick: (i: number) => void; onCancel: () => void }) {
  const group = useRef<HTMLDivElement>(null);
  useEffect(() => {
    group.current?.querySelector<HTMLElement>('[aria-checked="true"]')?.focus();
  }, [picker.choice]);
  const title = picker.kind === 'mute' ? `Mute ${who} for…` : `Temp-ban ${who} for…`;
  return (
    <div className="duration-picker" data-testid="duration-picker" data-kind={picker.kind}>
      <p className="duration-title" id="duration-title">
        {title} <span className="muted">(1–4 or arrows, Enter to confirm, Esc to cancel)</span>
      </p>
      <div ref={group} role="radiogroup" aria-labelledby="duration-title" className="duration-options">
        {DURATIONS.map((d, i) => (
          <button
            key={d.seconds}
            type="button"
            role="radio"
            aria-checked={i === picker.choice}
            tabIndex={i === picker.choice ? 0 : -1}
            className="duration-option"
            data-testid={`duration-${d.seconds}`}
            onClick={() => onPick(i)}
          >
            <kbd>{i + 1}</kbd> {d.label}
          </button>
        ))}
        <button type="button" className="mod-secondary mod-small" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </div>
  );
}

function Detail({ item }: { item: ReviewItemView }) {
  const m: Message | null = item.message;
  return (
    <div className="review-detail" data-testid="review-detail" data-item-id={item.id}>
      <div className="review-detail-head">
        <span className={`badge prio prio-badge-${item.priority}`}>{item.priority} priority</span>
        {item.severity && <span className={`badge sev-${item.severity}`}>{item.severity} severity</span>}
        <span className="spacer" />
        <time className="muted" dateTime={item.createdAt} title="flagged at">
          flagged {formatDateTime(item.createdAt)}
        </time>
      </div>
      <blockquote className="review-message" data-testid="review-message">
        {m ? m.content : <em className="muted">The message was deleted after it was flagged.</em>}
      </blockquote>
      <dl className="review-facts">
        <dt>Speaker</dt>
        <dd>
          {item.participant ? (
            <a href={href(`/participants/${item.participant.id}`)} data-testid="review-speaker">
              {participantName(item.participant)}
            </a>
          ) : (
            <span className="muted">unknown</span>
          )}
          {item.participant?.displayName && <span className="muted"> · {item.participant.externalUserId}</span>}
        </dd>
        <dt>Session</dt>
        <dd>
          <a href={href(`/sessions/${item.sessionId}`)} data-testid="review-open-session">
            open the session for context
          </a>{' '}
          <kbd>o</kbd>
        </dd>
        <dt>Said</dt>
        <dd>{m ? <time dateTime={m.timestamp}>{formatDateTime(m.timestamp)}</time> : '—'}</dd>
        <dt>Annotations</dt>
        <dd className="review-anns">
          {item.annotations.length === 0 ? <span className="muted">none</span> : item.annotations.map((a) => <AnnotationBadge key={a.id} a={a} />)}
        </dd>
      </dl>
    </div>
  );
}

/** `#/review`: the open review items, ranked, kept live, worked from the keyboard. */
export function ReviewView() {
  const { client } = useCortex();
  const { base, projectId } = useProject();
  const queryClient = useQueryClient();
  const key = reviewKey(projectId);
  const query = useQuery({
    queryKey: key,
    queryFn: () => client.request<ReviewPage>('GET', `${base}/review?status=open&limit=200`),
    staleTime: Infinity,
  });

  const fetchItem = useCallback(
    async (id: string) => {
      try {
        const item = await client.request<ReviewItemView>('GET', `${base}/review/${encodeURIComponent(id)}`);
        queryClient.setQueryData<ReviewPage>(key, (page) => page && upsertItem(page, item));
      } catch (err) {
        if (err instanceof ApiError && err.status === 404) queryClient.setQueryData<ReviewPage>(key, (page) => page && removeItem(page, id));
        else void queryClient.invalidateQueries({ queryKey: key });
      }
    },
    [client, base, projectId, queryClient], // `key` derives from projectId
  );

  useEvents(
    { projectId, types: ['review.*', 'message.updated', 'message.redacted', 'message.deleted', 'message.annotation.created'] },
    (event: DomainEvent) => {
      const page = queryClient.getQueryData<ReviewPage>(key);
      if (!page) {
        void queryClient.invalidateQueries({ queryKey: key });
        return;
      }
      const data = event.payload.data;
      const id = typeof data.id === 'string' ? data.id : null;
      if (!id) return;
      switch (event.type) {
        case 'review.created':
        case 'review.updated':
          // The event carries the item without its message: fetch the view once.
          void fetchItem(id);
          return;
        case 'review.resolved':
          queryClient.setQueryData<ReviewPage>(key, removeItem(page, id));
          return;
        case 'message.updated':
        case 'message.redacted':
        case 'message.deleted':
          queryClient.setQueryData<ReviewPage>(key, patchMessage(page, data as unknown as Message, event.type === 'message.deleted'));
          return;
        case 'message.annotation.created':
          queryClient.setQueryData<ReviewPage>(key, addAnnotation(page, data as unknown as Annotation));
          return;
        default:
      }
    },
  );

  const items = query.data?.items ?? [];
  const [selectedId, setSelectedId] = useState<string | null>(null);
  const lastIndex = useRef(0);
  let index = items.findIndex((i) => i.id === selectedId);
  if (index < 0) index = Math.min(lastIndex.current, items.length - 1);
  const selected = index >= 0 ? items[index]! : null;
  useEffect(() => {
    if (index >= 0) lastIndex.current = index;
  });

  const [help, setHelp] = useState(false);
  const [status, setStatus] = useState('');
  const [failure, setFailure] = useState<{ what: string; error: unknown } | null>(null);
  const [picker, setPicker] = useState<Picker | null>(null);
  const undoStack = useRef<Done[]>([]);
  const listRef = useRef<HTMLUListElement>(null);

  // The selected item is focused (when focus is in the queue or nowhere) and scrolled into view.
  const selectedKey = selected?.id ?? null;
  useEffect(() => {
    if (!selectedKey || picker) return;
    const el = document.getElementById(`review-item-${selectedKey}`);
    if (!el) return;
    const active = document.activeElement;
    if (!active || active === document.body || listRef.current?.contains(active) || active.closest('[data-testid="view-review"]')) {
      if (!isEditable(active)) el.focus({ preventScroll: true });
    }
    el.scrollIntoView({ block: 'nearest' });
  }, [selectedKey, picker]);

  const resolve = useMutation({
    mutationFn: (v: { item: ReviewItemView; body: ReviewResolve; kind: Kind; durationSeconds?: number }) =>
      client.request<ReviewItemView>('POST', `${base}/review/${encodeURIComponent(v.item.id)}/resolve`, v.body),
    onSuccess: (after, v) => {
      queryClient.setQueryData<ReviewPage>(key, (page) => page && removeItem(page, v.item.id));
      const who = participantName(v.item.participant);
      const done: Done = { kind: v.kind, who, sanctionId: after.sanctionId, ...(v.durationSeconds !== undefined && { durationSeconds: v.durationSeconds }) };
      undoStack.current.push(done);
      setFailure(null);
      if (v.kind === 'dismiss') setStatus(`Dismissed the flag on ${who}'s message.`);
      else setStatus(`${VERB[v.kind]} ${who}${v.durationSeconds ? ` for ${durationLabel(v.durationSeconds)}` : ''} — press u to undo.`);
    },
    onError: (error, v) => {
      setFailure({ what: `Could not ${v.kind === 'dismiss' ? 'dismiss' : v.kind === 'temp_ban' ? 'ban' : v.kind} ${participantName(v.item.participant)}`, error });
      setStatus('');
      // Someone else may have resolved it meanwhile: re-read it.
      if (v.item.id) void fetchItem(v.item.id);
    },
  });

  const revoke = useMutation({
    mutationFn: (d: Done) => client.request<Sanction>('POST', `${base}/sanctions/${encodeURIComponent(d.sanctionId!)}/revoke`, { reason: 'undone in the review queue' }),
    onSuccess: (_s, d) => {
      setFailure(null);
      const length = d.durationSeconds ? `${durationLabel(d.durationSeconds)} ` : '';
      setStatus(`Undone: the ${length}${NOUN[d.kind]} of ${d.who} is revoked (the review item stays resolved).`);
    },
    onError: (error, d) => {
      setStatus('');
      // Worth retrying unless the sanction is gone or no longer active.
      if (!(error instanceof ApiError && (error.status === 404 || error.status === 409))) undoStack.current.push(d);
      setFailure({ what: `Could not undo the ${NOUN[d.kind]} of ${d.who}`, error });
    },
  });

  const busy = resolve.isPending || revoke.isPending;

  function act(kind: Kind, durationSeconds?: number): void {
    if (!selected || busy) return;
    if (kind !== 'dismiss' && !selected.participantId) {
      setFailure({ what: 'Cannot sanction', error: new Error('this message has no known speaker; dismiss it instead') });
      return;
    }
    const top = topAnnotation(selected);
    const reason = `Review queue${top ? `: ${top.type}${top.score !== null ? ` ${scoreText(top)}` : ''}` : ''}`;
    const body: ReviewResolve =
      kind === 'dismiss'
        ? { decision: 'dismiss' }
        : { decision: 'sanction', sanction: { type: kind, reason, ...(durationSeconds !== undefined && { durationSeconds }) } };
    setStatus(kind === 'dismiss' ? 'Dismissing…' : 'Applying…');
    resolve.mutate({ item: selected, body, kind, ...(durationSeconds !== undefined && { durationSeconds }) });
  }

  function undo(): void {
    if (busy) return;
    const last = undoStack.current.pop();
    if (!last) {
      setStatus('Nothing to undo.');
      return;
    }
    if (!last.sanctionId) {
      setStatus(`The ${NOUN[last.kind]} of ${last.who}'s message cannot be undone: a resolved review item cannot be reopened.`);
      return;
    }
    setStatus('Undoing…');
    revoke.mutate(last);
  }

  function move(delta: number): void {
    if (!items.length) return;
    const next = Math.max(0, Math.min(items.length - 1, index + delta));
    setSelectedId(items[next]!.id);
  }

  function confirmPick(choice: number): void {
    if (!picker) return;
    const d = DURATIONS[choice];
    const kind = picker.kind;
    setPicker(null);
    if (d && selected && selected.id === picker.itemId) act(kind, d.seconds);
  }

  // Keys work wherever focus is on the page, except while typing.
  const onKey = useRef<(e: KeyboardEvent) => void>(() => undefined);
  onKey.current = (e: KeyboardEvent) => {
    if (e.ctrlKey || e.metaKey || e.altKey || isEditable(e.target)) return;
    if (picker) {
      const n = Number(e.key);
      if (Number.isInteger(n) && n >= 1 && n <= DURATIONS.length) confirmPick(n - 1);
      else if (['ArrowDown', 'ArrowRight', 'j'].includes(e.key)) setPicker({ ...picker, choice: (picker.choice + 1) % DURATIONS.length });
      else if (['ArrowUp', 'ArrowLeft', 'k'].includes(e.key)) setPicker({ ...picker, choice: (picker.choice + DURATIONS.length - 1) % DURATIONS.length });
      else if (e.key === 'Enter' || e.key === ' ') confirmPick(picker.choice);
      else if (e.key === 'Escape') {
        setPicker(null);
        setStatus('Cancelled.');
      } else return;
      e.preventDefault();
      return;
    }
    if (e.target instanceof HTMLElement && e.target.closest('a, button') && (e.key === 'Enter' || e.key === ' ')) return;
    switch (e.key) {
      case 'j':
      case 'ArrowDown':
        move(1);
        break;
      case 'k':
      case 'ArrowUp':
        move(-1);
        break;
      case 'Home':
        move(-items.length);
        break;
      case 'End':
        move(items.length);
        break;
      case 'd':
        act('dismiss');
        break;
      case 'w':
        act('warn');
        break;
      case 'm':
      case 'b':
        if (selected && !busy) setPicker({ kind: e.key === 'm' ? 'mute' : 'temp_ban', itemId: selected.id, choice: 1 });
        break;
      case 'o':
        if (selected) navigate(`/sessions/${selected.sessionId}`);
        break;
      case 'u':
        undo();
        break;
      case '?':
        setHelp((h) => !h);
        break;
      case 'Escape':
        if (!help) return;
        setHelp(false);
        break;
      default:
        return;
    }
    e.preventDefault();
  };
  useEffect(() => {
    const handler = (e: KeyboardEvent) => onKey.current(e);
    document.addEventListener('keydown', handler);
    return () => document.removeEventListener('keydown', handler);
  }, []);

  const state = query.isPending ? 'loading' : query.error ? 'error' : 'ready';
  const who = participantName(selected?.participant);

  return (
    <div className="split-layout review-layout">
      <section className="pane review-queue" aria-labelledby="review-heading">
        <header className="pane-header">
          <h2 id="review-heading">Review queue</h2>
          {query.data && (
            <span className="count" data-testid="review-count">
              {items.length}
              {query.data.nextCursor ? '+' : ''} open
            </span>
          )}
          <button type="button" className="link" aria-expanded={help} aria-controls="review-help" onClick={() => setHelp((h) => !h)} data-testid="review-help-toggle">
            <kbd>?</kbd> shortcuts
          </button>
        </header>
        <div className="pane-body" data-testid="review-list" data-state={state}>
          {query.isPending && <p className="empty">Loading the queue…</p>}
          <ProblemText error={query.error} prefix="Could not load the review queue" />
          {query.data && items.length === 0 && <p className="empty">Nothing to review. New flags appear here as they happen.</p>}
          {items.length > 0 && (
            <ul ref={listRef} className="review-rows" role="listbox" aria-label="Open review items, highest priority first">
              {items.map((item) => (
                <QueueRow key={item.id} item={item} selected={item.id === selected?.id} onSelect={() => setSelectedId(item.id)} />
              ))}
            </ul>
          )}
          {query.data?.nextCursor && <p className="empty small">Showing the top {items.length}; resolve some to see the rest.</p>}
        </div>
      </section>

      <section className="pane review-side" aria-label="Selected item">
        <p className="mod-status" role="status" aria-live="polite" data-testid="review-status">
          {status}
        </p>
        {failure && (
          <div data-testid="review-error">
            <ProblemText error={failure.error} prefix={failure.what} />
          </div>
        )}
        {help && (
          <div className="review-help" id="review-help" role="region" aria-label="Keyboard shortcuts" data-testid="review-help">
            <h3>Keyboard shortcuts</h3>
            <dl>
              {SHORTCUTS.map(([k, what]) => (
                <div key={k}>
                  <dt>
                    <kbd>{k}</kbd>
                  </dt>
                  <dd>{what}</dd>
                </div>
              ))}
            </dl>
          </div>
        )}
        <div className="pane-body">
          {selected ? (
            <>
              <Detail item={selected} />
              {picker && picker.itemId === selected.id && (
                <DurationPicker
                  picker={picker}
                  who={who}
                  onPick={(i) => confirmPick(i)}
                  onCancel={() => {
                    setPicker(null);
                    setStatus('Cancelled.');
                  }}
                />
              )}
              <div className="review-actions" role="group" aria-label="Actions">
                <button type="button" className="mod-secondary" disabled={busy} onClick={() => act('dismiss')} data-testid="action-dismiss">
                  Dismiss <kbd>d</kbd>
                </button>
                <button type="button" className="mod-secondary" disabled={busy || !selected.participantId} onClick={() => act('warn')}>
                  Warn <kbd>w</kbd>
                </button>
                <button
                  type="button"
                  className="mod-secondary"
                  disabled={busy || !selected.participantId}
                  onClick={() => setPicker({ kind: 'mute', itemId: selected.id, choice: 1 })}
                >
                  Mute… <kbd>m</kbd>
                </button>
                <button
                  type="button"
                  className="mod-danger"
                  disabled={busy || !selected.participantId}
                  onClick={() => setPicker({ kind: 'temp_ban', itemId: selected.id, choice: 1 })}
                >
                  Temp-ban… <kbd>b</kbd>
                </button>
                <button type="button" className="mod-secondary" disabled={busy} onClick={undo}>
                  Undo <kbd>u</kbd>
                </button>
              </div>
            </>
          ) : (
            query.data && (
              <p className="empty">{items.length ? 'Select an item to see the message, its annotations and the actions.' : 'The queue is empty.'}</p>
            )
          )}
        </div>
      </section>
    </div>
  );
}

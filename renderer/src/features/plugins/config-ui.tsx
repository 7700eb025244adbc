/** Small pieces shared by the configuration views (plugins, automod, webhooks). */
import { useQueryClient, type QueryKey } from '@tanstack/react-query';
import { useEffect, useRef, useState, type ReactNode } from 'react';
import { fieldLabel, ProblemText } from '../../components/ProblemText.js';
import './config.css';

/** An on/off switch (a button with role="switch"). */
export function Toggle(props: { checked: boolean; onChange(next: boolean): void; label: string; disabled?: boolean; testId?: string; busy?: boolean }) {
  return (
    <button
      type="button"
      role="switch"
      aria-checked={props.checked}
      aria-label={props.label}
      className={`cfg-switch${props.checked ? ' on' : ''}`}
      disabled={props.disabled || props.busy}
      data-testid={props.testId}
      onClick={(e) => {
        e.stopPropagation();
        props.onChange(!props.checked);
      }}
    >
      <span className="cfg-switch-knob" aria-hidden="true" />
      <span className="cfg-switch-text">{props.checked ? 'On' : 'Off'}</span>
    </button>
  );
}

/**
 * A destructive action behind a confirmation: the first click asks (focus lands on Cancel),
 * the second does it.
 */
export function ConfirmAction(props: {
  label: string;
  question: ReactNode;
  confirmLabel: string;
  onConfirm(): void;
  busy?: boolean;
  testId: string;
  /** `neutral` for a reversible action that still deserves a second look. */
  tone?: 'danger' | 'neutral';
}) {
  const [asking, setAsking] = useState(false);
  const cancelRef = useRef<HTMLButtonElement>(null);
  const openerRef = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (asking) cancelRef.current?.focus();
  }, [asking]);
  if (!asking) {
    return (
      <button type="button" ref={openerRef} className={props.tone === 'neutral' ? 'secondary' : 'danger'} data-testid={props.testId} onClick={() => setAsking(true)}>
        {props.label}
      </button>
    );
  }
  const cancel = () => {
    setAsking(false);
    queueMicrotask(() => openerRef.current?.focus());
  };
  return (
    <div
      className={`cfg-confirm${props.tone === 'neutral' ? ' neutral' : ''}`}
      role="alertdialog"
      aria-label={props.label}
      data-testid={`${props.testId}-confirm`}
      onKeyDown={(e) => {
        if (e.key === 'Escape') cancel();
      }}
    >
      <span>{props.question}</span>
      <button type="button" className={props.tone === 'neutral' ? undefined : 'danger solid'} disabled={props.busy} data-testid={`${props.testId}-yes`} onClick={props.onConfirm}>
        {props.busy ? 'Working…' : props.confirmLabel}
      </button>
      <button type="button" ref={cancelRef} className="secondary" onClick={cancel}>
        Cancel
      </button>
    </div>
  );
}

/**
 * Invalidates a query at most once per `ms`: the first call at once, later ones folded into
 * one trailing refetch (so the last change is always fetched).
 */
export function useThrottledInvalidate(ms = 500): (key: QueryKey) => void {
  const queryClient = useQueryClient();
  const state = useRef(new Map<string, { last: number; timer: ReturnType<typeof setTimeout> | null }>());
  useEffect(() => {
    const timers = state.current;
    return () => {
      for (const s of timers.values()) if (s.timer) clearTimeout(s.timer);
      timers.clear();
    };
  }, []);
  return (key) => {
    const id = JSON.stringify(key);
    const s = state.current.get(id) ?? { last: 0, timer: null };
    state.current.set(id, s);
    const run = () => {
      s.last = Date.now();
      s.timer = null;
      void queryClient.invalidateQueries({ queryKey: key });
    };
    const wait = s.last + ms - Date.now();
    if (wait <= 0 && !s.timer) run();
    else if (!s.timer) s.timer = setTimeout(run, Math.max(wait, 0));
  };
}

/** `3600` → `1 h`, `90` → `1 min 30 s`. */
export function formatSeconds(total: number): string {
  if (total % 86_400 === 0) return `${total / 86_400} d`;
  if (total % 3600 === 0) return `${total / 3600} h`;
  if (total >= 60) return `${Math.floor(total / 60)} min${total % 60 ? ` ${total % 60} s` : ''}`;
  return `${total} s`;
}

export const formatCount = (n: number): string => new Intl.NumberFormat().format(n);

/** A section of a detail pane: a heading, optional actions, content. */
export function Section(props: { title: string; actions?: ReactNode; children: ReactNode; testId?: string }) {
  const id = `sec-${props.title.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`;
  return (
    <section className="cfg-section" aria-labelledby={id} data-testid={props.testId}>
      <header className="cfg-section-header">
        <h3 id={id}>{props.title}</h3>
        {props.actions && <div className="cfg-section-actions">{props.actions}</div>}
      </header>
      {props.children}
    </section>
  );
}

/**
 * A failed save under a form: when the API named fields that the form marks, a short pointer
 * to them; otherwise the problem in plain words.
 */
export function FormProblem({ error, fieldErrors, action }: { error: unknown; fieldErrors: Record<string, string>; action: string }) {
  if (!error) return null;
  const marked = Object.keys(fieldErrors).filter((k) => k !== '');
  if (marked.length === 0) return <ProblemText error={error} prefix={action} />;
  return (
    <p className="error" role="alert" data-testid="form-problem">
      {action}: fix the marked field{marked.length === 1 ? '' : 's'} ({marked.map((k) => fieldLabel(`body/${k}`)).join(', ')}).
    </p>
  );
}

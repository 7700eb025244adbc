/** Small pieces shared by the overview and admin views (cards, copy buttons, sizes, a minute clock). */
import { useEffect, useState, type ReactNode } from 'react';
import './admin.css';

export function Card({ id, title, count, tone, actions, children, wide }: {
  id: string;
  title: string;
  count?: ReactNode;
  tone?: 'ok' | 'warn' | 'danger';
  actions?: ReactNode;
  children: ReactNode;
  wide?: boolean;
}) {
  return (
    <section className={`card${wide ? ' card-wide' : ''}${tone ? ` card-${tone}` : ''}`} aria-labelledby={`${id}-heading`} data-testid={`card-${id}`}>
      <header className="card-header">
        <h3 id={`${id}-heading`}>{title}</h3>
        {count !== undefined && (
          <span className="card-count" data-testid={`${id}-count`}>
            {count}
          </span>
        )}
        {actions && <div className="card-actions">{actions}</div>}
      </header>
      <div className="card-body">{children}</div>
    </section>
  );
}

/** Copies `text`; says so for two seconds. Falls back to selecting nothing when the clipboard is refused. */
export function CopyButton({ text, label = 'Copy', testId }: { text: string; label?: string; testId?: string }) {
  const [state, setState] = useState<'idle' | 'copied' | 'failed'>('idle');
  useEffect(() => {
    if (state === 'idle') return;
    const t = window.setTimeout(() => setState('idle'), 2000);
    return () => window.clearTimeout(t);
  }, [state]);
  return (
    <button
      type="button"
      className="secondary"
      data-testid={testId}
      onClick={() => {
        if (!navigator.clipboard) return setState('failed');
        navigator.clipboard.writeText(text).then(() => setState('copied'), () => setState('failed'));
      }}
    >
      {state === 'copied' ? 'Copied' : state === 'failed' ? 'Copy refused: select the text' : label}
      <span className="visually-hidden" role="status">
        {state === 'copied' ? 'Copied to the clipboard' : ''}
      </span>
    </button>
  );
}

export function formatBytes(n: number | null | undefined): string {
  if (n === null || n === undefined) return '?';
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(0)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

/** The current time, re-read every `everyMs` (only to age relative times and sliding windows; no server calls). */
export function useNow(everyMs = 15_000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = window.setInterval(() => setNow(Date.now()), everyMs);
    return () => window.clearInterval(t);
  }, [everyMs]);
  return now;
}

/** "just now", "4 min ago", "2 h ago". */
export function ago(iso: string, now: number): string {
  const ms = now - Date.parse(iso);
  if (!Number.isFinite(ms)) return iso;
  if (ms < 45_000) return 'just now';
  if (ms < 3_600_000) return `${Math.round(ms / 60_000)} min ago`;
  if (ms < 86_400_000) return `${Math.round(ms / 3_600_000)} h ago`;
  return `${Math.round(ms / 86_400_000)} d ago`;
}

/** A labelled value in a definition list. */
export function Fact({ label, children, testId }: { label: string; children: ReactNode; testId?: string }) {
  return (
    <div className="fact">
      <dt>{label}</dt>
      <dd data-testid={testId}>{children}</dd>
    </div>
  );
}

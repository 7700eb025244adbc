/**
 * `#/automod[/new|/<ruleId>]`: automod rules — list, create/edit (when … then sanction |
 * review), enable/disable, delete, and a dry run of the unsaved rule against recent messages.
 */
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef, useState, type FormEvent, type ReactNode } from 'react';
import { REVIEW_PRIORITIES, type AutomodRule, type AutomodTestResult, type ReviewPriority } from '../../../../common/automod-schemas.js';
import type { DomainEvent } from '../../../../common/events.js';
import { SANCTION_TYPES } from '../../../../common/schemas.js';
import { ProblemText } from '../../components/ProblemText.js';
import { describedBy, errorAt, FieldShell, fieldErrorsOf, type FieldErrors } from '../../components/SchemaForm.js';
import { useCortex } from '../../lib/cortex-context.js';
import { formatDateTime } from '../../lib/format.js';
import { useLiveQuery } from '../../lib/live.js';
import { useProject } from '../../lib/project.js';
import { href, navigate, type Route } from '../../lib/router.js';
import { ConfirmAction, FormProblem, formatSeconds, Section, Toggle } from '../plugins/config-ui.js';
import './automod.css';

interface RulePage {
  items: AutomodRule[];
  nextCursor: string | null;
}

const rulesKey = (projectId: string) => ['project', projectId, 'automod', 'rules'];
const KNOWN_TYPES = ['toxicity', 'keyword', 'pii', 'flood'];

function upsertRule(page: RulePage, rule: AutomodRule): RulePage {
  const i = page.items.findIndex((r) => r.id === rule.id);
  if (i < 0) return { ...page, items: [...page.items, rule] };
  const items = page.items.slice();
  items[i] = rule;
  return { ...page, items };
}

function applyRuleEvent(page: RulePage, event: DomainEvent): RulePage | null {
  const rule = event.payload.data as unknown as AutomodRule;
  if (!rule || typeof rule.id !== 'string' || !rule.when) return null;
  if (event.type === 'automod.rule.deleted') return { ...page, items: page.items.filter((r) => r.id !== rule.id) };
  return upsertRule(page, rule);
}

export function describeWhen(w: AutomodRule['when']): string {
  const parts = [w.annotationType];
  if (w.minScore !== undefined) parts.push(`≥ ${w.minScore}`);
  if (w.categories?.length) parts.push(`[${w.categories.join(', ')}]`);
  parts.push(`${w.count}× in ${formatSeconds(w.windowSeconds)}`);
  return parts.join(' ');
}

export function describeThen(t: AutomodRule['then']): string {
  if (t.sanction) return `${t.sanction.type.replace(/_/g, ' ')}${t.sanction.durationSeconds ? ` ${formatSeconds(t.sanction.durationSeconds)}` : ''}`;
  if (t.review) return `review (${t.review.priority})`;
  return '—';
}

export function AutomodView({ route }: { route: Route }) {
  const { projectId, base } = useProject();
  const selected = route.parts[1] ?? null;
  const rules = useLiveQuery<RulePage>({
    key: rulesKey(projectId),
    path: `${base}/automod/rules?limit=500`,
    types: ['automod.rule.*'],
    apply: applyRuleEvent,
  });
  const items = rules.data?.items ?? [];
  const rule = selected && selected !== 'new' ? (items.find((r) => r.id === selected) ?? null) : null;

  return (
    <div className="cfg" data-testid="automod-view">
      <section className="pane" aria-labelledby="automod-heading">
        <header className="pane-header">
          <h2 id="automod-heading">Automod rules</h2>
          {rules.data && <span className="count">{items.length}</span>}
          <a className="link-button" href={href('/automod/new')} data-testid="rule-new">
            + New rule
          </a>
        </header>
        <div className="pane-body" data-testid="rules-list" data-state={rules.isPending ? 'loading' : 'ready'}>
          {rules.isPending && <p className="empty">Loading rules…</p>}
          <ProblemText error={rules.error} prefix="Could not load rules" />
          {rules.data && items.length === 0 && <p className="empty">No rules yet. Rules turn plugin annotations into sanctions or review items.</p>}
          <ul className="rows" aria-label="Rules">
            {items.map((r) => (
              <RuleRow key={r.id} rule={r} current={selected === r.id} />
            ))}
          </ul>
        </div>
      </section>
      <section className="pane" aria-label="Rule editor" data-testid="rule-detail">
        <div className="pane-body">
          {!selected && <p className="empty">Select a rule to edit it, or create a new one.</p>}
          {selected === 'new' && <RuleEditor key="new" rule={null} />}
          {rule && <RuleEditor key={`${rule.id}:${rule.updatedAt}`} rule={rule} />}
          {selected && selected !== 'new' && rules.data && !rule && <p className="empty">This rule no longer exists.</p>}
        </div>
      </section>
    </div>
  );
}

function RuleRow({ rule, current }: { rule: AutomodRule; current: boolean }) {
  const { client } = useCortex();
  const { projectId, base } = useProject();
  const queryClient = useQueryClient();
  const toggle = useMutation({
    mutationFn: (enabled: boolean) => client.request<AutomodRule>('PATCH', `${base}/automod/rules/${rule.id}`, { enabled }),
    onSuccess: (r) => queryClient.setQueryData<RulePage>(rulesKey(projectId), (p) => p && upsertRule(p, r)),
  });
  return (
    <li className="automod-row" data-testid="rule-row" data-rule-id={rule.id}>
      <a className="cfg-item" href={href(`/automod/${rule.id}`)} aria-current={current ? 'true' : undefined}>
        <span className="cfg-item-line">
          <span className="cfg-item-title" data-testid="rule-name">{rule.name}</span>
        </span>
        <span className="cfg-item-sub">
          <span className="cfg-mono">{describeWhen(rule.when)}</span> → {describeThen(rule.then)}
        </span>
      </a>
      <span className="automod-row-toggle">
        <Toggle checked={rule.enabled} onChange={(v) => toggle.mutate(v)} busy={toggle.isPending} label={`Rule ${rule.name} enabled`} testId="rule-enabled" />
      </span>
      {toggle.error !== null && <ProblemText error={toggle.error} />}
    </li>
  );
}

interface Draft {
  name: string;
  enabled: boolean;
  annotationType: string;
  minScore: string;
  count: string;
  windowSeconds: string;
  categories: string;
  action: 'sanction' | 'review';
  sanctionType: string;
  durationSeconds: string;
  reason: string;
  priority: ReviewPriority;
}

function draftOf(rule: AutomodRule | null): Draft {
  return {
    name: rule?.name ?? '',
    enabled: rule?.enabled ?? true,
    annotationType: rule?.when.annotationType ?? 'toxicity',
    minScore: rule?.when.minScore === undefined ? (rule ? '' : '0.7') : String(rule.when.minScore),
    count: String(rule?.when.count ?? 1),
    windowSeconds: String(rule?.when.windowSeconds ?? 3600),
    categories: rule?.when.categories?.join(', ') ?? '',
    action: rule?.then.sanction ? 'sanction' : rule ? 'review' : 'review',
    sanctionType: rule?.then.sanction?.type ?? 'mute',
    durationSeconds: rule?.then.sanction?.durationSeconds === undefined ? (rule ? '' : '600') : String(rule.then.sanction.durationSeconds),
    reason: rule?.then.sanction?.reason ?? '',
    priority: rule?.then.review?.priority ?? 'medium',
  };
}

/** What is typed, as the API expects it (numbers stay strings when they are not numbers, so the API names the field). */
function bodyOf(d: Draft): { name: string; enabled: boolean; when: Record<string, unknown>; then: Record<string, unknown> } {
  const num = (s: string): number | string | undefined => (s.trim() === '' ? undefined : Number.isNaN(Number(s)) ? s : Number(s));
  const when: Record<string, unknown> = { annotationType: d.annotationType.trim() };
  const minScore = num(d.minScore);
  if (minScore !== undefined) when.minScore = minScore;
  const count = num(d.count);
  if (count !== undefined) when.count = count;
  const windowSeconds = num(d.windowSeconds);
  if (windowSeconds !== undefined) when.windowSeconds = windowSeconds;
  const categories = d.categories.split(',').map((c) => c.trim()).filter(Boolean);
  if (categories.length) when.categories = categories;
  let then: Record<string, unknown>;
  if (d.action === 'review') then = { review: { priority: d.priority } };
  else {
    const sanction: Record<string, unknown> = { type: d.sanctionType };
    const duration = num(d.durationSeconds);
    if (duration !== undefined && d.sanctionType !== 'perm_ban') sanction.durationSeconds = duration;
    if (d.reason.trim()) sanction.reason = d.reason.trim();
    then = { sanction };
  }
  return { name: d.name.trim(), enabled: d.enabled, when, then };
}

function TextField(props: {
  name: string;
  label: string;
  value: string;
  onChange(v: string): void;
  errors: FieldErrors;
  help?: string;
  type?: 'text' | 'number';
  required?: boolean;
  list?: string;
  step?: string;
  min?: number;
  max?: number;
  placeholder?: string;
  suffix?: ReactNode;
}) {
  const id = `rule-${props.name.replace(/\//g, '-')}`;
  const error = errorAt(props.errors, props.name, true);
  return (
    <FieldShell id={id} label={props.label} help={props.help} error={error} required={props.required} testId={props.name.replace(/\//g, '.')}>
      <input
        id={id}
        type={props.type ?? 'text'}
        value={props.value}
        list={props.list}
        step={props.step}
        min={props.min}
        max={props.max}
        placeholder={props.placeholder}
        aria-invalid={error ? true : undefined}
        aria-describedby={describedBy(id, props.help, error)}
        onChange={(e) => props.onChange(e.target.value)}
      />
      {props.suffix}
    </FieldShell>
  );
}

function RuleEditor({ rule }: { rule: AutomodRule | null }) {
  const { client } = useCortex();
  const { projectId, base } = useProject();
  const queryClient = useQueryClient();
  const [draft, setDraft] = useState<Draft>(() => draftOf(rule));
  const set = <K extends keyof Draft>(k: K) => (v: Draft[K]) => setDraft((d) => ({ ...d, [k]: v }));

  const save = useMutation({
    mutationFn: () =>
      rule
        ? client.request<AutomodRule>('PATCH', `${base}/automod/rules/${rule.id}`, bodyOf(draft))
        : client.request<AutomodRule>('POST', `${base}/automod/rules`, bodyOf(draft)),
    onSuccess: (saved) => {
      queryClient.setQueryData<RulePage>(rulesKey(projectId), (p) => p && upsertRule(p, saved));
      if (!rule) navigate(`/automod/${saved.id}`);
    },
  });
  const test = useMutation({
    mutationFn: () => {
      const { name, ...body } = bodyOf(draft);
      return client.request<AutomodTestResult>('POST', `${base}/automod/rules/test`, name ? { name, ...body } : body);
    },
  });
  const remove = useMutation({
    mutationFn: () => client.request<null>('DELETE', `${base}/automod/rules/${rule!.id}`),
    onSuccess: () => {
      queryClient.setQueryData<RulePage>(rulesKey(projectId), (p) => p && { ...p, items: p.items.filter((r) => r.id !== rule!.id) });
      navigate('/automod');
    },
  });

  // Errors of whichever was tried last (saving or testing) show next to the fields.
  const lastError = save.error ?? test.error;
  const errors = fieldErrorsOf(lastError, 'body');
  const secs = (s: string) => (/^\d+$/.test(s) && Number(s) > 0 ? `= ${formatSeconds(Number(s))}` : undefined);

  function submit(e: FormEvent): void {
    e.preventDefault();
    test.reset();
    save.mutate();
  }

  return (
    <form className="cfg-detail-body cfg-form" onSubmit={submit} noValidate aria-label={rule ? `Edit rule ${rule.name}` : 'New rule'} data-testid="rule-form">
      <div className="cfg-title">
        <h2>{rule ? rule.name : 'New rule'}</h2>
        {rule && <span className={`badge ${rule.enabled ? 'badge-on' : 'badge-off'}`}>{rule.enabled ? 'enabled' : 'disabled'}</span>}
      </div>
      {rule && <p className="cfg-lead">Created {formatDateTime(rule.createdAt)} · updated {formatDateTime(rule.updatedAt)}</p>}

      <div className="cfg-form-grid">
        <TextField name="name" label="Name" value={draft.name} onChange={set('name')} errors={errors} required placeholder="e.g. Repeated slurs → mute" />
        <FieldShell id="rule-enabled-box" label="Enabled (counts only annotations from now on)" testId="enabled" inline>
          <input id="rule-enabled-box" type="checkbox" checked={draft.enabled} onChange={(e) => set('enabled')(e.target.checked)} />
        </FieldShell>
      </div>

      <Section title="When">
        <div className="cfg-form-grid">
          <TextField name="when/annotationType" label="Annotation type" value={draft.annotationType} onChange={set('annotationType')} errors={errors} required list="automod-types" help="The plugin annotation to count." />
          <TextField name="when/minScore" label="Minimum score (0–1)" type="number" step="0.05" min={0} max={1} value={draft.minScore} onChange={set('minScore')} errors={errors} help="Empty: any score." />
          <TextField name="when/count" label="Count" type="number" step="1" min={1} value={draft.count} onChange={set('count')} errors={errors} help="Matches by one speaker…" />
          <TextField name="when/windowSeconds" label="Window (seconds)" type="number" step="1" min={1} value={draft.windowSeconds} onChange={set('windowSeconds')} errors={errors} help={secs(draft.windowSeconds) ?? '…within this many seconds.'} />
          <TextField name="when/categories" label="Categories" value={draft.categories} onChange={set('categories')} errors={errors} help="Comma-separated, any of; empty: all." placeholder="e.g. slur, threat" />
        </div>
        <datalist id="automod-types">
          {KNOWN_TYPES.map((t) => (
            <option key={t} value={t} />
          ))}
        </datalist>
      </Section>

      <Section title="Then">
        <div className="automod-action" role="radiogroup" aria-label="Action">
          {(['review', 'sanction'] as const).map((a) => (
            <label key={a} className={`automod-choice${draft.action === a ? ' on' : ''}`}>
              <input type="radio" name="rule-action" value={a} checked={draft.action === a} onChange={() => set('action')(a)} data-testid={`action-${a}`} />
              <span>
                <strong>{a === 'review' ? 'Send to the review queue' : 'Sanction the speaker'}</strong>
                <span className="muted">{a === 'review' ? 'A moderator decides.' : 'Applied automatically.'}</span>
              </span>
            </label>
          ))}
        </div>
        {errorAt(errors, 'then') && (
          <p className="sf-error" role="alert" data-testid="field-error-then">
            {errors.then}
          </p>
        )}
        {draft.action === 'review' ? (
          <div className="cfg-form-grid">
            <FieldShell id="rule-priority" label="Priority" testId="then.review.priority" error={errorAt(errors, 'then/review', true)}>
              <select id="rule-priority" value={draft.priority} onChange={(e) => set('priority')(e.target.value as ReviewPriority)}>
                {REVIEW_PRIORITIES.map((p) => (
                  <option key={p} value={p}>
                    {p}
                  </option>
                ))}
              </select>
            </FieldShell>
          </div>
        ) : (
          <div className="cfg-form-grid">
            <FieldShell id="rule-sanction-type" label="Sanction" testId="then.sanction.type" error={errorAt(errors, 'then/sanction/type')}>
              <select id="rule-sanction-type" value={draft.sanctionType} onChange={(e) => set('sanctionType')(e.target.value)}>
                {SANCTION_TYPES.map((t) => (
                  <option key={t} value={t}>
                    {t.replace(/_/g, ' ')}
                  </option>
                ))}
              </select>
            </FieldShell>
            {draft.sanctionType !== 'perm_ban' && (
              <TextField
                name="then/sanction/durationSeconds"
                label="Duration (seconds)"
                type="number"
                step="1"
                min={1}
                value={draft.durationSeconds}
                onChange={set('durationSeconds')}
                errors={errors}
                required={draft.sanctionType === 'temp_ban'}
                help={secs(draft.durationSeconds) ?? (draft.sanctionType === 'temp_ban' ? 'Required for a temp ban.' : 'Empty: until revoked.')}
              />
            )}
            <TextField name="then/sanction/reason" label="Reason" value={draft.reason} onChange={set('reason')} errors={errors} placeholder="Shown with the sanction" />
          </div>
        )}
      </Section>

      <FormProblem error={lastError} fieldErrors={errors} action={save.error ? 'Not saved' : 'Not tested'} />

      <div className="cfg-actions">
        <button type="submit" disabled={save.isPending} data-testid="rule-save">
          {save.isPending ? 'Saving…' : rule ? 'Save rule' : 'Create rule'}
        </button>
        <button
          type="button"
          className="secondary"
          disabled={test.isPending}
          data-testid="rule-test"
          onClick={() => {
            save.reset();
            test.mutate();
          }}
        >
          {test.isPending ? 'Testing…' : 'Test against recent messages'}
        </button>
        <span className="spacer" />
        {rule && (
          <ConfirmAction label="Delete…" question={<>Delete rule <strong>{rule.name}</strong>?</>} confirmLabel="Delete" busy={remove.isPending} onConfirm={() => remove.mutate()} testId="rule-delete" />
        )}
      </div>
      <ProblemText error={remove.error} prefix="Could not delete" />

      {test.data && <TestResult result={test.data} />}
    </form>
  );
}

function TestResult({ result }: { result: AutomodTestResult }) {
  const ref = useRef<HTMLDivElement>(null);
  // Bring the result into view inside the editor pane only (scrollIntoView would also scroll the page shell).
  useEffect(() => {
    const el = ref.current;
    const pane = el?.closest('.pane-body');
    if (!el || !pane) return;
    const below = el.getBoundingClientRect().top - pane.getBoundingClientRect().bottom + 120;
    if (below > 0) pane.scrollBy({ top: below, behavior: 'smooth' });
  }, [result]);
  return (
    <div ref={ref}>
    <Section title="Dry run" testId="rule-test-result">
      <p className="cfg-lead" role="status" data-testid="rule-test-summary">
        Replayed {result.scanned} recent annotation{result.scanned === 1 ? '' : 's'}: {result.matches.length} match{result.matches.length === 1 ? '' : 'es'},{' '}
        {result.actions.length === 0 ? 'nobody would be actioned.' : `${result.actions.length} action${result.actions.length === 1 ? '' : 's'} would be taken.`} Nothing was written.
      </p>
      {result.actions.length > 0 && (
        <table className="cfg-table" data-testid="rule-test-actions">
          <caption className="sr-only">Who would be actioned</caption>
          <thead>
            <tr>
              <th scope="col">Speaker</th>
              <th scope="col">Action</th>
              <th scope="col">When</th>
              <th scope="col">Evidence</th>
            </tr>
          </thead>
          <tbody>
            {result.actions.map((a, i) => (
              <tr key={i} data-testid="rule-test-action">
                <td>{a.participant?.displayName ?? a.participant?.externalUserId ?? <span className="cfg-mono">{a.participantId}</span>}</td>
                <td>
                  <span className={`badge ${a.action === 'sanction' ? 'badge-danger' : 'badge-accent'}`}>{a.action}</span>
                </td>
                <td>{formatDateTime(a.at)}</td>
                <td className="num">{a.messageIds.length} message{a.messageIds.length === 1 ? '' : 's'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {result.matches.length > 0 && (
        <table className="cfg-table" data-testid="rule-test-matches">
          <caption className="sr-only">Matching annotations</caption>
          <thead>
            <tr>
              <th scope="col">Message</th>
              <th scope="col">Score</th>
              <th scope="col">Severity</th>
              <th scope="col">When</th>
            </tr>
          </thead>
          <tbody>
            {result.matches.slice(0, 50).map((m) => (
              <tr key={m.annotation.id} data-testid="rule-test-match">
                <td className="automod-message">
                  {m.message ? (
                    <>
                      <span className="muted">{m.message.senderName ?? 'unknown'}:</span> {m.message.content}
                    </>
                  ) : (
                    <span className="muted">(message deleted)</span>
                  )}
                </td>
                <td className="num">{m.annotation.score ?? '—'}</td>
                <td>{m.annotation.severity ?? '—'}</td>
                <td>{formatDateTime(m.annotation.createdAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {result.matches.length > 50 && <p className="cfg-lead">…and {result.matches.length - 50} more.</p>}
    </Section>
    </div>
  );
}

/**
 * `#/webhooks[/new|/<webhookId>]`: webhook subscriptions — create/edit/delete, the secret
 * shown once (on create and rotate), test pings, and the delivery log with each delivery's
 * attempts and redelivery. Deliveries are not evented per attempt: the open log is refetched
 * on webhook.* events and by the Refresh button (no timers).
 */
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef, useState, type FormEvent } from 'react';
import type { DomainEvent } from '../../../../common/events.js';
import { WEBHOOK_AUTH_TYPES, WEBHOOK_DELIVERY_STATUSES, type Webhook, type WebhookAttempt, type WebhookDelivery } from '../../../../common/schemas.js';
import { ProblemText } from '../../components/ProblemText.js';
import { describedBy, errorAt, FieldShell, fieldErrorsOf, type FieldErrors } from '../../components/SchemaForm.js';
import { useCortex } from '../../lib/cortex-context.js';
import { formatDateTime } from '../../lib/format.js';
import { useProject } from '../../lib/project.js';
import { href, navigate, type Route } from '../../lib/router.js';
import { useEvents } from '../../lib/useEvents.js';
import { ConfirmAction, FormProblem, Section, Toggle, useThrottledInvalidate } from '../plugins/config-ui.js';
import './webhooks.css';

interface WebhookPage {
  items: Webhook[];
  nextCursor: string | null;
}
interface DeliveryPage {
  items: WebhookDelivery[];
  nextCursor: string | null;
}
type WebhookWithSecret = Webhook & { secret: string };
type DeliveryDetail = WebhookDelivery & { attemptLog: WebhookAttempt[] };
type AuthType = (typeof WEBHOOK_AUTH_TYPES)[number];
type DeliveryStatus = (typeof WEBHOOK_DELIVERY_STATUSES)[number];

interface Revealed {
  webhookId: string;
  secret: string;
  reason: 'created' | 'rotated';
}

const listKey = (projectId: string) => ['project', projectId, 'webhooks', 'list'];
const deliveriesKey = (projectId: string, webhookId: string) => ['project', projectId, 'webhooks', webhookId, 'deliveries'];

function upsert(page: WebhookPage, w: Webhook): WebhookPage {
  const i = page.items.findIndex((x) => x.id === w.id);
  if (i < 0) return { ...page, items: [w, ...page.items] };
  const items = page.items.slice();
  items[i] = w;
  return { ...page, items };
}

const AUTH_LABEL: Record<AuthType, string> = { none: 'None', api_key: 'API key header', basic_auth: 'Basic auth', custom_headers: 'Custom headers' };
const STATUS_BADGE: Record<DeliveryStatus, string> = { pending: 'badge-accent', delivered: 'badge-on', failed: 'badge-warn', exhausted: 'badge-danger' };

export function WebhooksView({ route }: { route: Route }) {
  const { client } = useCortex();
  const { projectId, base } = useProject();
  const queryClient = useQueryClient();
  const throttled = useThrottledInvalidate(500);
  const selected = route.parts[1] ?? null;
  const [revealed, setRevealed] = useState<Revealed | null>(null);

  const list = useQuery({
    queryKey: listKey(projectId),
    queryFn: () => client.request<WebhookPage>('GET', `${base}/webhooks?limit=500`),
    staleTime: Infinity,
  });

  // One stream for the view: the list is patched, the affected delivery log refetched.
  useEvents({ projectId, types: ['webhook.*'] }, (event: DomainEvent) => {
    const data = event.payload.data as Partial<Webhook> & { webhookId?: string };
    const webhookId = event.resourceId.startsWith('webhook:') ? event.resourceId.slice(8) : (data.webhookId ?? data.id);
    const key = listKey(projectId);
    const page = queryClient.getQueryData<WebhookPage>(key);
    if (event.type === 'webhook.redelivery.progress' && webhookId) {
      queryClient.setQueryData(redeliveryKey(projectId, webhookId), event.payload.data as unknown as RedeliveryProgress);
      throttled(deliveriesKey(projectId, webhookId));
      return;
    }
    if (page && (event.type === 'webhook.created' || event.type === 'webhook.updated') && typeof data.id === 'string' && typeof data.url === 'string') {
      queryClient.setQueryData(key, upsert(page, data as Webhook));
    } else if (page && event.type === 'webhook.deleted') {
      queryClient.setQueryData(key, { ...page, items: page.items.filter((w) => w.id !== webhookId) });
    } else if (event.type !== 'webhook.delivery.exhausted') {
      void queryClient.invalidateQueries({ queryKey: key });
    }
    if (webhookId) throttled(deliveriesKey(projectId, webhookId));
  });

  const items = list.data?.items ?? [];
  const webhook = selected && selected !== 'new' ? (items.find((w) => w.id === selected) ?? null) : null;

  return (
    <div className="cfg" data-testid="webhooks-view">
      <section className="pane" aria-labelledby="webhooks-heading">
        <header className="pane-header">
          <h2 id="webhooks-heading">Webhooks</h2>
          {list.data && <span className="count">{items.length}</span>}
          <a className="link-button" href={href('/webhooks/new')} data-testid="webhook-new">
            + New webhook
          </a>
        </header>
        <div className="pane-body" data-testid="webhooks-list" data-state={list.isPending ? 'loading' : 'ready'}>
          {list.isPending && <p className="empty">Loading webhooks…</p>}
          <ProblemText error={list.error} prefix="Could not load webhooks" />
          {list.data && items.length === 0 && <p className="empty">No webhooks yet. Game servers learn about sanctions and messages through signed webhooks.</p>}
          <ul className="rows" aria-label="Webhook subscriptions">
            {items.map((w) => (
              <li key={w.id}>
                <a className="cfg-item" href={href(`/webhooks/${w.id}`)} aria-current={selected === w.id ? 'true' : undefined} data-testid="webhook-row" data-webhook-id={w.id}>
                  <span className="cfg-item-line">
                    <span className="cfg-item-title cfg-mono" title={w.url}>{w.url}</span>
                    <span className={`badge ${w.enabled ? 'badge-on' : w.disabledReason ? 'badge-danger' : 'badge-off'}`}>{w.enabled ? 'enabled' : 'disabled'}</span>
                  </span>
                  <span className="cfg-item-sub">{w.description || w.events.join(', ')}</span>
                </a>
              </li>
            ))}
          </ul>
        </div>
      </section>
      <section className="pane" aria-label="Selected webhook" data-testid="webhook-detail">
        <div className="pane-body">
          {!selected && <p className="empty">Select a webhook, or create one.</p>}
          {selected === 'new' && (
            <div className="cfg-detail-body">
              <div className="cfg-title">
                <h2>New webhook</h2>
              </div>
              <p className="cfg-lead">Cortex POSTs each matching event, signed with Standard Webhooks headers, and retries until the receiver answers 2xx.</p>
              <WebhookForm
                webhook={null}
                onSaved={(w) => {
                  const created = w as WebhookWithSecret;
                  setRevealed({ webhookId: created.id, secret: created.secret, reason: 'created' });
                  navigate(`/webhooks/${created.id}`);
                }}
              />
            </div>
          )}
          {webhook && (
            <WebhookDetail
              key={webhook.id}
              webhook={webhook}
              revealed={revealed?.webhookId === webhook.id ? revealed : null}
              onReveal={setRevealed}
              onDismiss={() => setRevealed(null)}
            />
          )}
          {selected && selected !== 'new' && list.data && !webhook && <p className="empty">This webhook no longer exists.</p>}
        </div>
      </section>
    </div>
  );
}

function SecretOnce({ revealed, onDismiss }: { revealed: Revealed; onDismiss(): void }) {
  const [copied, setCopied] = useState<'yes' | 'no' | null>(null);
  const inputRef = useRef<HTMLInputElement>(null);
  const boxRef = useRef<HTMLDivElement>(null);
  useEffect(() => {
    boxRef.current?.focus();
  }, [revealed.secret]);
  async function copy(): Promise<void> {
    try {
      await navigator.clipboard.writeText(revealed.secret);
      setCopied('yes');
    } catch {
      inputRef.current?.select();
      setCopied('no');
    }
  }
  return (
    <div className="cfg-notice warn wh-secret" role="region" aria-label="Signing secret, shown once" tabIndex={-1} ref={boxRef} data-testid="secret-once">
      <p>
        <strong>{revealed.reason === 'created' ? 'Webhook created. Its signing secret:' : 'Secret rotated. The new signing secret:'}</strong>
      </p>
      <div className="wh-secret-row">
        <input ref={inputRef} type="text" readOnly value={revealed.secret} aria-label="Signing secret" className="cfg-mono" data-testid="secret-value" onFocus={(e) => e.target.select()} />
        <button type="button" onClick={() => void copy()} data-testid="secret-copy">
          {copied === 'yes' ? 'Copied' : 'Copy'}
        </button>
      </div>
      <p role="status">
        {copied === 'no' ? 'Copying is not allowed here: the secret is selected, press Ctrl+C. ' : ''}
        <strong>You will not see this secret again.</strong> Store it with your receiver now; afterwards only its last characters are shown.
        {revealed.reason === 'rotated' && ' The old secret keeps signing too (a second signature) for 24 hours.'}
      </p>
      <div className="cfg-actions">
        <button type="button" className="secondary" onClick={onDismiss} data-testid="secret-dismiss">
          I have stored it
        </button>
      </div>
    </div>
  );
}

function WebhookDetail(props: { webhook: Webhook; revealed: Revealed | null; onReveal(r: Revealed): void; onDismiss(): void }) {
  const { webhook } = props;
  const { client } = useCortex();
  const { projectId, base } = useProject();
  const queryClient = useQueryClient();
  const path = `${base}/webhooks/${webhook.id}`;
  const setWebhook = (w: Webhook) => queryClient.setQueryData<WebhookPage>(listKey(projectId), (p) => p && upsert(p, w));

  const toggle = useMutation({ mutationFn: (enabled: boolean) => client.request<Webhook>('PATCH', path, { enabled }), onSuccess: setWebhook });
  const rotate = useMutation({
    mutationFn: () => client.request<WebhookWithSecret>('POST', `${path}/rotate-secret`, {}),
    onSuccess: (w) => {
      const { secret, ...rest } = w;
      setWebhook(rest);
      props.onReveal({ webhookId: w.id, secret, reason: 'rotated' });
    },
  });
  const test = useMutation({
    mutationFn: () => client.request<WebhookDelivery>('POST', `${path}/test`),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: deliveriesKey(projectId, webhook.id) }),
  });
  const remove = useMutation({
    mutationFn: () => client.request<null>('DELETE', path),
    onSuccess: () => {
      queryClient.setQueryData<WebhookPage>(listKey(projectId), (p) => p && { ...p, items: p.items.filter((w) => w.id !== webhook.id) });
      navigate('/webhooks');
    },
  });

  return (
    <div className="cfg-detail-body" data-testid="webhook-detail-body" data-webhook-id={webhook.id}>
      {props.revealed && <SecretOnce revealed={props.revealed} onDismiss={props.onDismiss} />}
      <div className="cfg-title">
        <h2 className="cfg-mono wh-url" data-testid="webhook-url">{webhook.url}</h2>
        <span className="spacer" style={{ flex: 1 }} />
        <Toggle checked={webhook.enabled} onChange={(v) => toggle.mutate(v)} busy={toggle.isPending} label="Webhook enabled" testId="webhook-enabled" />
      </div>
      {webhook.description && <p className="cfg-lead">{webhook.description}</p>}
      {!webhook.enabled && webhook.disabledReason && (
        <p className="cfg-notice bad" role="status">
          Disabled: {webhook.disabledReason}
        </p>
      )}
      <ProblemText error={toggle.error} prefix="Could not change it" />
      <dl className="wh-facts">
        <dt>Events</dt>
        <dd className="cfg-mono">{webhook.events.join(', ')}</dd>
        <dt>Secret</dt>
        <dd>
          <span className="cfg-mono" data-testid="secret-hint">{webhook.secretHint}</span>
          {webhook.rotatingUntil && <span className="muted"> · the previous secret also signs until {formatDateTime(webhook.rotatingUntil)}</span>}
        </dd>
        <dt>Auth</dt>
        <dd>
          {AUTH_LABEL[webhook.authType]}
          {webhook.authType === 'api_key' && <span className="muted cfg-mono"> {webhook.apiKeyHeader}: {webhook.apiKey}</span>}
          {webhook.authType === 'basic_auth' && <span className="muted cfg-mono"> {webhook.basicAuthUsername}</span>}
          {webhook.authType === 'custom_headers' && <span className="muted cfg-mono"> {Object.keys(webhook.customHeaders).join(', ')}</span>}
        </dd>
      </dl>
      <div className="cfg-actions">
        <button type="button" onClick={() => test.mutate()} disabled={test.isPending || !webhook.enabled} data-testid="webhook-test" title={webhook.enabled ? undefined : 'Enable the webhook to send a test'}>
          {test.isPending ? 'Sending…' : 'Send test'}
        </button>
        <ConfirmAction
          label="Rotate secret…"
          question="Make a new secret? The old one keeps signing for 24 h."
          confirmLabel="Rotate"
          busy={rotate.isPending}
          onConfirm={() => rotate.mutate()}
          testId="webhook-rotate"
          tone="neutral"
        />
        <span className="spacer" />
        <ConfirmAction label="Delete…" question="Delete this webhook and its delivery log?" confirmLabel="Delete" busy={remove.isPending} onConfirm={() => remove.mutate()} testId="webhook-delete" />
      </div>
      {test.isSuccess && (
        <p className="muted" role="status" data-testid="webhook-test-sent">
          Test ping queued: it is in the delivery log below.
        </p>
      )}
      <ProblemText error={test.error} prefix="Test not sent" />
      <ProblemText error={rotate.error} prefix="Not rotated" />
      <ProblemText error={remove.error} prefix="Not deleted" />

      <DeliveryLog webhookId={webhook.id} />

      <details className="wh-edit">
        <summary>Edit subscription</summary>
        <WebhookForm key={webhook.updatedAt} webhook={webhook} onSaved={(w) => setWebhook(w)} />
      </details>
    </div>
  );
}

interface Draft {
  url: string;
  description: string;
  events: string;
  enabled: boolean;
  authType: AuthType;
  apiKey: string;
  apiKeyHeader: string;
  basicAuthUsername: string;
  basicAuthPassword: string;
  headers: { name: string; value: string }[];
}

function draftOf(w: Webhook | null): Draft {
  return {
    url: w?.url ?? '',
    description: w?.description ?? '',
    events: w ? w.events.join('\n') : 'sanction.*',
    enabled: w?.enabled ?? true,
    authType: w?.authType ?? 'none',
    apiKey: '',
    apiKeyHeader: w?.apiKeyHeader ?? 'X-API-Key',
    basicAuthUsername: w?.basicAuthUsername ?? '',
    basicAuthPassword: '',
    headers: [],
  };
}

const eventsOf = (s: string): string[] => s.split(/[\n,]+/).map((e) => e.trim()).filter(Boolean);

/** Create: everything typed. Edit: only what changed (stored credentials are masked in reads and never sent back). */
function bodyOf(d: Draft, w: Webhook | null): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  const events = eventsOf(d.events);
  if (!w || d.url !== w.url) body.url = d.url.trim();
  if (!w || JSON.stringify(events) !== JSON.stringify(w.events)) body.events = events;
  if (w ? d.description !== w.description : d.description.trim() !== '') body.description = d.description.trim();
  if (!w || d.enabled !== w.enabled) body.enabled = d.enabled;
  if (!w ? d.authType !== 'none' : d.authType !== w.authType) body.authType = d.authType;
  if (d.authType === 'api_key') {
    if (!w || d.apiKeyHeader !== w.apiKeyHeader) body.apiKeyHeader = d.apiKeyHeader.trim();
    if (d.apiKey !== '') body.apiKey = d.apiKey;
  }
  if (d.authType === 'basic_auth') {
    if (!w || d.basicAuthUsername !== (w.basicAuthUsername ?? '')) body.basicAuthUsername = d.basicAuthUsername;
    if (d.basicAuthPassword !== '') body.basicAuthPassword = d.basicAuthPassword;
  }
  if (d.authType === 'custom_headers' && d.headers.some((h) => h.name.trim())) {
    body.customHeaders = Object.fromEntries(d.headers.filter((h) => h.name.trim()).map((h) => [h.name.trim(), h.value]));
  }
  return body;
}

function Input(props: {
  name: string;
  label: string;
  value: string;
  onChange(v: string): void;
  errors: FieldErrors;
  help?: string;
  required?: boolean;
  type?: 'text' | 'url' | 'password';
  placeholder?: string;
  textarea?: boolean;
}) {
  const id = `wh-${props.name}`;
  const error = errorAt(props.errors, props.name, true);
  const common = {
    id,
    value: props.value,
    placeholder: props.placeholder,
    'aria-invalid': error ? true : undefined,
    'aria-describedby': describedBy(id, props.help, error),
    spellCheck: false,
  };
  return (
    <FieldShell id={id} label={props.label} help={props.help} error={error} required={props.required} testId={props.name}>
      {props.textarea ? (
        <textarea {...common} rows={3} onChange={(e) => props.onChange(e.target.value)} className="cfg-mono" />
      ) : (
        <input {...common} type={props.type ?? 'text'} autoComplete="off" onChange={(e) => props.onChange(e.target.value)} />
      )}
    </FieldShell>
  );
}

function WebhookForm({ webhook, onSaved }: { webhook: Webhook | null; onSaved(w: Webhook): void }) {
  const { client } = useCortex();
  const { projectId, base } = useProject();
  const queryClient = useQueryClient();
  const [draft, setDraft] = useState<Draft>(() => draftOf(webhook));
  const set = <K extends keyof Draft>(k: K) => (v: Draft[K]) => setDraft((d) => ({ ...d, [k]: v }));
  const body = bodyOf(draft, webhook);
  const save = useMutation({
    mutationFn: () =>
      webhook ? client.request<Webhook>('PATCH', `${base}/webhooks/${webhook.id}`, body) : client.request<WebhookWithSecret>('POST', `${base}/webhooks`, body),
    onSuccess: (w) => {
      if (!webhook) {
        const { secret: _secret, ...stored } = w as WebhookWithSecret;
        queryClient.setQueryData<WebhookPage>(listKey(projectId), (p) => p && upsert(p, stored));
      }
      onSaved(w);
    },
  });
  const errors = fieldErrorsOf(save.error, 'body');
  const nothingChanged = webhook !== null && Object.keys(body).length === 0;

  function submit(e: FormEvent): void {
    e.preventDefault();
    save.mutate();
  }

  return (
    <form className="cfg-form" onSubmit={submit} noValidate aria-label={webhook ? 'Edit webhook' : 'New webhook'} data-testid="webhook-form">
      <Input name="url" label="Receiver URL" type="url" value={draft.url} onChange={set('url')} errors={errors} required placeholder="https://game.example.com/cortex-events" />
      <Input
        name="events"
        label="Events"
        textarea
        value={draft.events}
        onChange={set('events')}
        errors={errors}
        required
        help="One per line: an event type (message.created), a prefix glob (sanction.*) or * for everything."
      />
      <Input name="description" label="Description" value={draft.description} onChange={set('description')} errors={errors} placeholder="What receives these events" />
      <label className="sf-check">
        <input type="checkbox" checked={draft.enabled} onChange={(e) => set('enabled')(e.target.checked)} />
        <span>Enabled</span>
      </label>
      <FieldShell id="wh-authType" label="Receiver authentication" testId="authType" error={errorAt(errors, 'authType')} help="Sent with each delivery, besides the signature.">
        <select id="wh-authType" value={draft.authType} onChange={(e) => set('authType')(e.target.value as AuthType)}>
          {WEBHOOK_AUTH_TYPES.map((t) => (
            <option key={t} value={t}>
              {AUTH_LABEL[t]}
            </option>
          ))}
        </select>
      </FieldShell>
      {draft.authType === 'api_key' && (
        <div className="cfg-form-grid">
          <Input name="apiKeyHeader" label="Header" value={draft.apiKeyHeader} onChange={set('apiKeyHeader')} errors={errors} />
          <Input
            name="apiKey"
            label="API key"
            type="password"
            value={draft.apiKey}
            onChange={set('apiKey')}
            errors={errors}
            placeholder={webhook?.apiKey ? `unchanged (${webhook.apiKey})` : ''}
          />
        </div>
      )}
      {draft.authType === 'basic_auth' && (
        <div className="cfg-form-grid">
          <Input name="basicAuthUsername" label="Username" value={draft.basicAuthUsername} onChange={set('basicAuthUsername')} errors={errors} />
          <Input
            name="basicAuthPassword"
            label="Password"
            type="password"
            value={draft.basicAuthPassword}
            onChange={set('basicAuthPassword')}
            errors={errors}
            placeholder={webhook?.basicAuthPassword ? 'unchanged' : ''}
          />
        </div>
      )}
      {draft.authType === 'custom_headers' && (
        <fieldset className="sf-fieldset">
          <legend>Custom headers</legend>
          {webhook && Object.keys(webhook.customHeaders).length > 0 && (
            <p className="sf-help">
              Stored: <span className="cfg-mono">{Object.keys(webhook.customHeaders).join(', ')}</span> (values hidden). Headers entered here replace all of them; leave empty to keep them.
            </p>
          )}
          {draft.headers.map((h, i) => (
            <div key={i} className="wh-header-row">
              <input type="text" aria-label={`Header ${i + 1} name`} placeholder="Header-Name" value={h.name} onChange={(e) => set('headers')(draft.headers.map((x, j) => (j === i ? { ...x, name: e.target.value } : x)))} />
              <input type="password" aria-label={`Header ${i + 1} value`} placeholder="value" value={h.value} onChange={(e) => set('headers')(draft.headers.map((x, j) => (j === i ? { ...x, value: e.target.value } : x)))} />
              <button type="button" className="sf-remove" aria-label={`Remove header ${i + 1}`} onClick={() => set('headers')(draft.headers.filter((_, j) => j !== i))}>
                Remove
              </button>
            </div>
          ))}
          <button type="button" className="sf-add" onClick={() => set('headers')([...draft.headers, { name: '', value: '' }])}>
            + Add header
          </button>
          {errorAt(errors, 'customHeaders', true) && (
            <p className="sf-error" role="alert" data-testid="field-error-customHeaders">
              {errorAt(errors, 'customHeaders', true)}
            </p>
          )}
        </fieldset>
      )}
      <FormProblem error={save.error} fieldErrors={errors} action="Not saved" />
      <div className="cfg-actions">
        <button type="submit" disabled={save.isPending || nothingChanged} data-testid="webhook-save">
          {save.isPending ? 'Saving…' : webhook ? 'Save changes' : 'Create webhook'}
        </button>
      </div>
    </form>
  );
}

interface RedeliveryProgress {
  webhookId: string;
  total: number;
  remaining: number;
  done: boolean;
}

/** The latest webhook.redelivery.progress of a subscription (written by the view's event handler). */
const redeliveryKey = (projectId: string, webhookId: string) => ['projects', projectId, 'webhooks', webhookId, 'redelivery'] as const;

function DeliveryLog({ webhookId }: { webhookId: string }) {
  const { client } = useCortex();
  const { projectId, base } = useProject();
  const queryClient = useQueryClient();
  const [status, setStatus] = useState<DeliveryStatus | ''>('');
  const [open, setOpen] = useState<string | null>(null);
  const key = deliveriesKey(projectId, webhookId);
  const log = useQuery({
    queryKey: [...key, 'list', status],
    queryFn: () => client.request<DeliveryPage>('GET', `${base}/webhooks/${webhookId}/deliveries?limit=50${status ? `&status=${status}` : ''}`),
    staleTime: Infinity,
  });
  const refreshing = log.isFetching && !log.isPending;
  const progress = useQuery({ queryKey: redeliveryKey(projectId, webhookId), queryFn: () => null as RedeliveryProgress | null, enabled: false, initialData: null }).data;
  const bulk = useMutation({
    mutationFn: (which: 'failed' | 'exhausted') => client.request<{ count: number }>('POST', `${base}/webhooks/${webhookId}/redeliver`, { status: which }),
  });

  return (
    <Section
      title="Delivery log"
      testId="delivery-log"
      actions={
        <>
          <label className="wh-filter">
            <span className="sr-only">Show deliveries</span>
            <select value={status} onChange={(e) => setStatus(e.target.value as DeliveryStatus | '')} data-testid="delivery-filter" aria-label="Show deliveries with status">
              <option value="">All statuses</option>
              {WEBHOOK_DELIVERY_STATUSES.map((s) => (
                <option key={s} value={s}>
                  {s}
                </option>
              ))}
            </select>
          </label>
          <button type="button" className="secondary" onClick={() => void queryClient.invalidateQueries({ queryKey: key })} disabled={refreshing} data-testid="delivery-refresh">
            {refreshing ? 'Refreshing…' : 'Refresh'}
          </button>
        </>
      }
    >
      <div className="wh-bulk" data-testid="bulk-redeliver">
        {(['exhausted', 'failed'] as const).map((which) => (
          <button key={which} type="button" className="secondary" disabled={bulk.isPending} onClick={() => bulk.mutate(which)} data-testid={`redeliver-all-${which}`}>
            Redeliver all {which}
          </button>
        ))}
        {bulk.data && bulk.data.count === 0 && !progress && <span className="cfg-lead">Nothing to redeliver.</span>}
        {progress && (
          <span className="wh-bulk-progress" role="status" data-testid="redelivery-progress" data-done={progress.done ? 'true' : 'false'}>
            <progress max={progress.total} value={progress.total - progress.remaining} aria-label="Redelivery progress" />
            {progress.done ? `All ${progress.total} sent again.` : `${progress.total - progress.remaining} of ${progress.total} sent…`}
          </span>
        )}
      </div>
      <ProblemText error={bulk.error} prefix="Could not redeliver" />
      <ProblemText error={log.error} prefix="Could not load deliveries" />
      {log.isPending && <p className="cfg-lead">Loading deliveries…</p>}
      {log.data && log.data.items.length === 0 && (
        <p className="cfg-lead" data-testid="delivery-empty">
          {status ? `No ${status} deliveries.` : 'No deliveries yet. Events that match create one each; “Send test” sends a ping.'}
        </p>
      )}
      {log.data && log.data.items.length > 0 && (
        <table className="cfg-table wh-deliveries">
          <caption className="sr-only">Deliveries, newest first</caption>
          <thead>
            <tr>
              <th scope="col">Status</th>
              <th scope="col">Event</th>
              <th scope="col" className="num">Attempts</th>
              <th scope="col">Last result</th>
              <th scope="col">Created</th>
              <th scope="col">
                <span className="sr-only">Details</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {log.data.items.map((d) => (
              <DeliveryRow key={d.id} delivery={d} webhookId={webhookId} open={open === d.id} onToggle={() => setOpen(open === d.id ? null : d.id)} />
            ))}
          </tbody>
        </table>
      )}
      {log.data?.nextCursor && <p className="cfg-lead">Showing the latest 50.</p>}
    </Section>
  );
}

function DeliveryRow({ delivery: d, webhookId, open, onToggle }: { delivery: WebhookDelivery; webhookId: string; open: boolean; onToggle(): void }) {
  const { client } = useCortex();
  const { projectId, base } = useProject();
  const queryClient = useQueryClient();
  const key = deliveriesKey(projectId, webhookId);
  const detail = useQuery({
    queryKey: [...key, 'detail', d.id],
    queryFn: () => client.request<DeliveryDetail>('GET', `${base}/webhooks/${webhookId}/deliveries/${d.id}`),
    staleTime: Infinity,
    enabled: open,
  });
  const redeliver = useMutation({
    mutationFn: () => client.request<WebhookDelivery>('POST', `${base}/webhooks/${webhookId}/deliveries/${d.id}/redeliver`),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: key }),
  });
  const detailsId = `delivery-${d.id}-attempts`;
  return (
    <>
      <tr data-testid="delivery-row" data-delivery-id={d.id} data-status={d.status} className={open ? 'wh-open' : undefined}>
        <td>
          <span className={`badge ${STATUS_BADGE[d.status]}`} data-testid="delivery-status">{d.status}</span>
        </td>
        <td className="cfg-mono">{d.eventType}</td>
        <td className="num">{d.attempts}</td>
        <td className="wh-result">
          {d.lastStatusCode !== null && <span className="cfg-mono">HTTP {d.lastStatusCode}</span>}
          {d.lastError && <span className="error wh-inline-error"> {d.lastError}</span>}
          {d.status === 'pending' && d.nextAttemptAt && <span className="muted"> next {formatDateTime(d.nextAttemptAt)}</span>}
          {d.lastStatusCode === null && !d.lastError && d.status !== 'pending' && '—'}
        </td>
        <td>{formatDateTime(d.createdAt)}</td>
        <td>
          <button type="button" className="link" aria-expanded={open} aria-controls={detailsId} onClick={onToggle} data-testid="delivery-toggle">
            {open ? 'Hide' : 'Attempts'}
          </button>
        </td>
      </tr>
      {open && (
        <tr id={detailsId} className="wh-attempts-row">
          <td colSpan={6}>
            <div className="wh-attempts" data-testid="delivery-attempts">
              <ProblemText error={detail.error} prefix="Could not load attempts" />
              {detail.isPending && <p className="cfg-lead">Loading attempts…</p>}
              {detail.data && detail.data.attemptLog.length === 0 && <p className="cfg-lead">No attempt yet.</p>}
              {detail.data && detail.data.attemptLog.length > 0 && (
                <ol className="wh-attempt-list">
                  {detail.data.attemptLog.map((a) => (
                    <li key={a.id} data-testid="delivery-attempt">
                      <div className="wh-attempt-head">
                        <strong>Attempt {a.attempt}</strong>
                        <span className={`badge ${a.statusCode !== null && a.statusCode >= 200 && a.statusCode < 300 ? 'badge-on' : 'badge-danger'}`} data-testid="attempt-status">
                          {a.statusCode !== null ? `HTTP ${a.statusCode}` : 'no response'}
                        </span>
                        <span className="muted">
                          {formatDateTime(a.startedAt)} · {a.durationMs} ms
                        </span>
                      </div>
                      {a.error && <p className="error">{a.error}</p>}
                      {a.responseBody && (
                        <pre className="cfg-pre" aria-label={`Response body of attempt ${a.attempt}`}>
                          {a.responseBody}
                        </pre>
                      )}
                    </li>
                  ))}
                </ol>
              )}
              <div className="cfg-actions">
                <button type="button" className="secondary" onClick={() => redeliver.mutate()} disabled={redeliver.isPending || d.status === 'pending'} data-testid="delivery-redeliver">
                  {redeliver.isPending ? 'Queuing…' : 'Redeliver'}
                </button>
                {redeliver.isSuccess && <span className="muted" role="status">Queued again.</span>}
              </div>
              <ProblemText error={redeliver.error} prefix="Not redelivered" />
            </div>
          </td>
        </tr>
      )}
    </>
  );
}

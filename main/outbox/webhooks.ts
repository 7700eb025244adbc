import type { Static } from '@sinclair/typebox';
import { isValidTypePattern, typeMatcher } from '../../common/events.js';
import type { Webhook, WebhookCreate, WebhookUpdate } from '../../common/schemas.js';
import { invalid, notFound } from '../core/errors.js';
import { fromJson, statementCache, toJson, type DomainDeps, type ProjectScope } from '../domain/context.js';
import { queryPage, type Page, type PageRequest } from '../domain/paging.js';
import { nowIso, uuidv7 } from '../store/ids.js';
import { generateSecret, maskSecret } from './signing.js';
import { checkWebhookUrl } from './targets.js';

export interface WebhookRow {
  id: string;
  tenant_id: string;
  project_id: string;
  url: string;
  description: string;
  events: string;
  enabled: number;
  disabled_reason: string | null;
  secret: string;
  previous_secret: string | null;
  previous_expires_at: number | null;
  auth_type: Webhook['authType'];
  api_key: string | null;
  api_key_header: string;
  basic_auth_username: string | null;
  basic_auth_password: string | null;
  custom_headers: string | null;
  from_seq: number;
  created_at: string;
  updated_at: string;
}

/** An enabled subscription as the fan-out and the delivery worker see it. */
export interface ActiveWebhook {
  row: WebhookRow;
  matches: (type: string) => boolean;
}

/** How long a rotated-out secret keeps signing alongside the new one. */
export const ROTATION_OVERLAP_MS = 24 * 60 * 60 * 1000;
const MAX_CUSTOM_HEADER_BYTES = 8 * 1024;
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// Header values: visible ASCII, space, tab and obs-text; never CR, LF or NUL (header injection).
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\uffff]*$/;
/** Headers the delivery sets itself: a subscription may not override them. */
const RESERVED_HEADERS = new Set(['host', 'content-type', 'content-length', 'transfer-encoding', 'connection', 'keep-alive', 'upgrade', 'te', 'trailer', 'expect']);
const isReserved = (name: string) => RESERVED_HEADERS.has(name.toLowerCase()) || name.toLowerCase().startsWith('webhook-');

const mask = (v: string | null) => (v === null ? null : v.length > 12 ? `****${v.slice(-4)}` : '****');

function toWebhook(r: WebhookRow, now = Date.now()): Webhook {
  const headers = fromJson<Record<string, string>>(r.custom_headers) ?? {};
  return {
    id: r.id,
    url: r.url,
    events: JSON.parse(r.events) as string[],
    description: r.description,
    enabled: r.enabled === 1,
    disabledReason: r.disabled_reason,
    authType: r.auth_type,
    apiKey: mask(r.api_key),
    apiKeyHeader: r.api_key_header,
    basicAuthUsername: r.basic_auth_username,
    basicAuthPassword: mask(r.basic_auth_password),
    customHeaders: Object.fromEntries(Object.keys(headers).map((k) => [k, '****'])),
    secretHint: maskSecret(r.secret),
    rotatingUntil: r.previous_secret !== null && r.previous_expires_at !== null && r.previous_expires_at > now ? new Date(r.previous_expires_at).toISOString() : null,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

type Settable = Omit<Static<typeof WebhookUpdate>, never>;

/** Checks a subscription's full settings (after a patch is merged), naming the offending field. */
function validate(r: WebhookRow, blockPrivate: boolean): void {
  const urlProblem = checkWebhookUrl(r.url, blockPrivate);
  if (urlProblem) throw invalid('body/url', `url ${urlProblem}`);
  (JSON.parse(r.events) as string[]).forEach((p, i) => {
    if (!isValidTypePattern(p)) throw invalid(`body/events/${i}`, `unknown event type or pattern "${p}" (use an event type, a prefix glob like "sanction.*", or "*")`);
  });
  if (!TOKEN.test(r.api_key_header) || isReserved(r.api_key_header)) throw invalid('body/apiKeyHeader', 'must be a valid header name the delivery does not set itself');
  if (r.api_key !== null && !HEADER_VALUE.test(r.api_key)) throw invalid('body/apiKey', 'must not contain control characters (CR, LF, NUL)');
  if (r.basic_auth_username !== null && (!HEADER_VALUE.test(r.basic_auth_username) || r.basic_auth_username.includes(':'))) {
    throw invalid('body/basicAuthUsername', 'must not contain ":" or control characters');
  }
  if (r.basic_auth_password !== null && !HEADER_VALUE.test(r.basic_auth_password)) throw invalid('body/basicAuthPassword', 'must not contain control characters');
  const headers = fromJson<Record<string, string>>(r.custom_headers) ?? {};
  let bytes = 0;
  for (const [name, value] of Object.entries(headers)) {
    if (!TOKEN.test(name)) throw invalid(`body/customHeaders/${name}`, 'is not a valid header name');
    if (isReserved(name)) throw invalid(`body/customHeaders/${name}`, 'is set by the delivery itself and cannot be overridden');
    if (!HEADER_VALUE.test(value)) throw invalid(`body/customHeaders/${name}`, 'must not contain control characters (CR, LF, NUL)');
    bytes += Buffer.byteLength(name) + Buffer.byteLength(value) + 4;
  }
  if (bytes > MAX_CUSTOM_HEADER_BYTES) throw invalid('body/customHeaders', `custom headers total ${bytes} bytes; the limit is ${MAX_CUSTOM_HEADER_BYTES}`);
  if (r.auth_type === 'api_key' && !r.api_key) throw invalid('body/apiKey', 'authType api_key needs apiKey');
  if (r.auth_type === 'basic_auth' && (r.basic_auth_username === null || r.basic_auth_password === null)) {
    throw invalid(r.basic_auth_username === null ? 'body/basicAuthUsername' : 'body/basicAuthPassword', 'authType basic_auth needs basicAuthUsername and basicAuthPassword');
  }
  if (r.auth_type === 'custom_headers' && Object.keys(headers).length === 0) throw invalid('body/customHeaders', 'authType custom_headers needs at least one header');
}

function applySettings(r: WebhookRow, s: Settable): WebhookRow {
  const out = { ...r };
  if (s.url !== undefined) out.url = s.url;
  if (s.events !== undefined) out.events = JSON.stringify(s.events);
  if (s.description !== undefined) out.description = s.description;
  if (s.enabled !== undefined) {
    out.enabled = s.enabled ? 1 : 0;
    out.disabled_reason = s.enabled ? null : 'disabled by a user';
  }
  if (s.authType !== undefined) out.auth_type = s.authType;
  if (s.apiKey !== undefined) out.api_key = s.apiKey;
  if (s.apiKeyHeader !== undefined) out.api_key_header = s.apiKeyHeader;
  if (s.basicAuthUsername !== undefined) out.basic_auth_username = s.basicAuthUsername;
  if (s.basicAuthPassword !== undefined) out.basic_auth_password = s.basicAuthPassword;
  if (s.customHeaders !== undefined) out.custom_headers = toJson(s.customHeaders);
  return out;
}

export interface WebhooksOptions {
  blockPrivateTargets: boolean;
}

/**
 * Webhook subscriptions. Owns `webhooks`; emits webhook.created/updated/deleted (secrets
 * never appear in events or reads: they are masked, and the full secret is returned once,
 * by create and rotate-secret).
 */
export function createWebhooks({ db, events }: DomainDeps, opts: WebhooksOptions) {
  const sql = statementCache(db);
  const byId = db.prepare<[string, string, string], WebhookRow>('SELECT * FROM webhooks WHERE id = ? AND project_id = ? AND tenant_id = ?');
  const byIdAny = db.prepare<[string], WebhookRow>('SELECT * FROM webhooks WHERE id = ?');
  const enabledRows = db.prepare<[], WebhookRow>('SELECT * FROM webhooks WHERE enabled = 1');

  // Enabled subscriptions, rebuilt after any committed webhook change (the listener runs
  // after commit, so a rolled-back change never leaks into the cache).
  let active: Map<string, ActiveWebhook> | null = null;
  let byProject: Map<string, ActiveWebhook[]> | null = null;
  events.subscribe((e) => {
    if (e.type.startsWith('webhook.') && e.type !== 'webhook.delivery.exhausted') {
      active = null;
      byProject = null;
    }
  });
  function load(): Map<string, ActiveWebhook> {
    if (active === null) {
      active = new Map();
      byProject = new Map();
      for (const row of enabledRows.all()) {
        const a = { row, matches: typeMatcher(JSON.parse(row.events) as string[]) };
        active.set(row.id, a);
        const key = `${row.tenant_id}\0${row.project_id}`;
        const list = byProject.get(key) ?? [];
        list.push(a);
        byProject.set(key, list);
      }
    }
    return active;
  }

  const emit = (r: WebhookRow, type: 'webhook.created' | 'webhook.updated' | 'webhook.deleted', changes?: Record<string, unknown>) =>
    events.append({
      type, tenantId: r.tenant_id, projectId: r.project_id, resourceId: `webhook:${r.id}`,
      action: type === 'webhook.created' ? 'created' : type === 'webhook.updated' ? 'updated' : 'deleted',
      data: toWebhook(r), changes,
    });

  const write = (r: WebhookRow) =>
    sql(
      `UPDATE webhooks SET url = @url, description = @description, events = @events, enabled = @enabled, disabled_reason = @disabled_reason,
         secret = @secret, previous_secret = @previous_secret, previous_expires_at = @previous_expires_at, auth_type = @auth_type,
         api_key = @api_key, api_key_header = @api_key_header, basic_auth_username = @basic_auth_username,
         basic_auth_password = @basic_auth_password, custom_headers = @custom_headers, updated_at = @updated_at
       WHERE id = @id`,
    ).run(r);

  function mustGet(scope: ProjectScope, id: string): WebhookRow {
    const row = byId.get(id, scope.projectId, scope.tenantId);
    if (!row) throw notFound('webhook', 'params/webhookId');
    return row;
  }

  function changesOf(before: WebhookRow, after: WebhookRow): Record<string, unknown> | undefined {
    const a = toWebhook(before);
    const b = toWebhook(after);
    const changes: Record<string, unknown> = {};
    for (const k of Object.keys(b) as (keyof Webhook)[]) {
      if (k !== 'updatedAt' && JSON.stringify(a[k]) !== JSON.stringify(b[k])) changes[k] = a[k];
    }
    return Object.keys(changes).length ? changes : undefined;
  }

  return {
    create(scope: ProjectScope, input: Static<typeof WebhookCreate>): Webhook & { secret: string } {
      return events.write(() => {
        const now = nowIso();
        const base: WebhookRow = {
          id: uuidv7(),
          tenant_id: scope.tenantId,
          project_id: scope.projectId,
          url: input.url,
          description: '',
          events: '[]',
          enabled: 1,
          disabled_reason: null,
          secret: input.secret ?? generateSecret(),
          previous_secret: null,
          previous_expires_at: null,
          auth_type: 'none',
          api_key: null,
          api_key_header: 'X-API-Key',
          basic_auth_username: null,
          basic_auth_password: null,
          custom_headers: null,
          from_seq: 0,
          created_at: now,
          updated_at: now,
        };
        const row = applySettings(base, input);
        if (!row.enabled) row.disabled_reason = 'created disabled';
        validate(row, opts.blockPrivateTargets);
        sql(
          `INSERT INTO webhooks (id, tenant_id, project_id, url, description, events, enabled, disabled_reason, secret, previous_secret,
             previous_expires_at, auth_type, api_key, api_key_header, basic_auth_username, basic_auth_password, custom_headers, from_seq,
             created_at, updated_at)
           VALUES (@id, @tenant_id, @project_id, @url, @description, @events, @enabled, @disabled_reason, @secret, @previous_secret,
             @previous_expires_at, @auth_type, @api_key, @api_key_header, @basic_auth_username, @basic_auth_password, @custom_headers, @from_seq,
             @created_at, @updated_at)`,
        ).run(row);
        // Only events committed after this one are delivered to the new subscription.
        const created = emit(row, 'webhook.created');
        sql('UPDATE webhooks SET from_seq = ? WHERE id = ?').run(created.seq, row.id);
        return { ...toWebhook(row), secret: row.secret };
      });
    },

    get(scope: ProjectScope, id: string): Webhook {
      return toWebhook(mustGet(scope, id));
    },

    /** Throws not_found unless the subscription exists in this project (for nested routes). */
    assertExists(scope: ProjectScope, id: string): void {
      mustGet(scope, id);
    },

    /** The stored row (with secrets), for the outbox only: never returned by the API. */
    rowOf(scope: ProjectScope, id: string): WebhookRow {
      return mustGet(scope, id);
    },

    list(scope: ProjectScope, q: PageRequest): Page<Webhook> {
      const now = Date.now();
      return queryPage(sql, 'SELECT * FROM webhooks', [['project_id = ?', scope.projectId], ['tenant_id = ?', scope.tenantId]], q, 'asc', (r: WebhookRow) => toWebhook(r, now));
    },

    update(scope: ProjectScope, id: string, patch: Static<typeof WebhookUpdate>): Webhook {
      return events.write(() => {
        const before = mustGet(scope, id);
        const after = { ...applySettings(before, patch), updated_at: nowIso() };
        validate(after, opts.blockPrivateTargets);
        const changes = changesOf(before, after);
        if (!changes) return toWebhook(before);
        write(after);
        emit(after, 'webhook.updated', changes);
        return toWebhook(after);
      });
    },

    remove(scope: ProjectScope, id: string): void {
      events.write(() => {
        const row = mustGet(scope, id);
        sql('DELETE FROM webhooks WHERE id = ?').run(id);
        emit(row, 'webhook.deleted');
      });
    },

    /** New secret; the old one keeps signing (as a second signature) for 24 h. */
    rotateSecret(scope: ProjectScope, id: string, secret?: string): Webhook & { secret: string } {
      return events.write(() => {
        const before = mustGet(scope, id);
        const after: WebhookRow = {
          ...before,
          secret: secret ?? generateSecret(),
          previous_secret: before.secret,
          previous_expires_at: Date.now() + ROTATION_OVERLAP_MS,
          updated_at: nowIso(),
        };
        write(after);
        emit(after, 'webhook.updated', { secretHint: maskSecret(before.secret) });
        return { ...toWebhook(after), secret: after.secret };
      });
    },

    /** The receiver said 410 Gone: stop sending (pending deliveries wait until re-enabled). */
    disable(id: string, reason: string): void {
      events.write(() => {
        const before = byIdAny.get(id);
        if (!before || before.enabled === 0) return;
        const after = { ...before, enabled: 0, disabled_reason: reason, updated_at: nowIso() };
        write(after);
        emit(after, 'webhook.updated', { enabled: true, disabledReason: null });
      }, 'outbox');
    },

    /** Enabled subscriptions by id (cached). */
    active(): ReadonlyMap<string, ActiveWebhook> {
      return load();
    },

    /** Enabled subscriptions of one project (cached). */
    ofProject(tenantId: string, projectId: string): readonly ActiveWebhook[] {
      load();
      return byProject!.get(`${tenantId}\0${projectId}`) ?? [];
    },

    /** Secrets that sign a delivery now: the current one, plus the previous during rotation. */
    signingSecrets(row: WebhookRow, now = Date.now()): string[] {
      return row.previous_secret !== null && row.previous_expires_at !== null && row.previous_expires_at > now ? [row.secret, row.previous_secret] : [row.secret];
    },
  };
}

export type WebhooksModule = ReturnType<typeof createWebhooks>;

/**
 * The transport-neutral half of the Electron IPC bridge: turns renderer requests into
 * Fastify `inject()` calls and fans committed domain events out to per-window
 * subscriptions. Pure Node (no `electron` import) so it is testable without Electron;
 * `main/app/ipc.ts` wires it to `ipcMain` and does the sender check.
 *
 * Security model: the renderer is treated like any other API client. Every request goes
 * through the full Fastify pipeline (auth, validation, serialization) with the in-memory
 * console key; this module only narrows what may be asked (allowlisted methods, `/api/`
 * paths, JSON bodies) and never lets the renderer set headers.
 *
 * Subscriptions are live (in-process dispatch, no SSE involved); `filter.since` is honoured
 * by first replaying the log through `GET /api/events?since=`, like an SSE resume.
 *
 * A topic's live echo (`echo`/`stopEcho`) is the IPC twin of `GET /api/topics/{topic}/echo`:
 * the same lookup, decoding and rate cap (core/topic-echo.ts), through the bus host given as
 * `deps.bus`.
 */
import type { EventFilter, HttpMethod } from '../../common/client.js';
import { isValidTypePattern, typeMatcher, type DomainEvent } from '../../common/events.js';
import type { IpcBinaryResponse, IpcEchoFrame, IpcEchoStart, IpcRequest, IpcResponse } from '../../common/ipc.js';
import type { Problem, ProblemField } from '../../common/problem.js';
import { PROBLEMS, ProblemError, problemType } from './errors.js';
import { findEchoTopic, openCappedEcho, type CappedEcho, type EchoHost } from './topic-echo.js';

/** The subset of light-my-request options the bridge uses (compatible with `app.inject`). */
export interface BridgeInjectRequest {
  method: HttpMethod;
  url: string;
  headers: Record<string, string>;
  payload?: string;
}

/** The subset of a light-my-request response the bridge reads. */
export interface BridgeInjectResponse {
  statusCode: number;
  body: string;
  /** The body's bytes (light-my-request's `rawPayload`); read by binary requests. */
  rawPayload?: Uint8Array;
  headers?: Record<string, string | string[] | number | undefined>;
}

export interface IpcBridgeDeps {
  /** Usually `(req) => cortex.app.inject(req)`. */
  inject(req: BridgeInjectRequest): Promise<BridgeInjectResponse>;
  /** In-process dispatch of committed events (all tenants); returns the unsubscribe. */
  subscribeEvents(listener: (event: DomainEvent) => void): () => void;
  /** Sent as `x-api-key` on every injected request. */
  consoleKey: string;
  /** Tenant the console sees; events of other tenants are never delivered. Default `local`. */
  tenantId?: string;
  /** A request taking longer than this answers 504 (the inject itself is not cancelled). */
  requestTimeoutMs?: number;
  /** The ZeroMQ data plane's host (`cortex.bus`) for topic echoes; absent or null: echo answers 409 as the HTTP route does. */
  bus?: EchoHost | null;
  /** Reports failures the caller never sees: a throwing `send`, an inject that threw, a failed `since` replay. */
  onError?: (err: unknown, context: string) => void;
}

export type SubscriptionId = number;
export type EchoId = number;

export interface IpcBridge {
  /** Never throws: invalid requests answer a 400 problem, internal failures a 500. */
  handleRequest(req: unknown): Promise<IpcResponse>;
  /**
   * A GET whose body is not JSON (an evidence clip): `{path}` under the same allowlist as
   * `handleRequest`. Never throws; a problem answer carries the parsed problem in `body`.
   */
  handleBinaryRequest(req: unknown): Promise<IpcBinaryResponse>;
  /**
   * Delivers events matching `filter` to `send`: the logged ones after `filter.since` (if
   * given), then live ones, in seq order without duplicates. Throws `IpcValidationError`
   * on a malformed filter. If `send` throws, the subscription is dropped.
   */
  subscribe(filter: unknown, send: (event: DomainEvent) => void): SubscriptionId;
  /** Idempotent; unknown ids are ignored. Returns whether a subscription was removed. */
  unsubscribe(id: SubscriptionId): boolean;
  /** Number of live subscriptions (diagnostics, tests). */
  readonly size: number;
  /**
   * A topic's live echo: `{topic}` is looked up on the bus host, then each message (at most
   * `maxRate` per second, `dropped` counting the rest) goes to `send` with the echo's id.
   * Resolves once the subscription is connected. Never throws: a malformed request, a data
   * plane that is off or an unknown topic answer `{id: null, problem}` (400, 409, 404, 503).
   * If `send` throws, the echo is closed.
   */
  echo(req: unknown, send: (id: EchoId, frame: IpcEchoFrame) => void): Promise<IpcEchoStart>;
  /** Idempotent; unknown ids are ignored. Returns whether an echo was closed. */
  stopEcho(id: EchoId): boolean;
  /** Number of open echoes (diagnostics, tests). */
  readonly echoes: number;
  /** Drops every subscription, the upstream listener and every echo. */
  closeAll(): void;
}

export const IPC_METHODS: readonly HttpMethod[] = ['GET', 'POST', 'PATCH', 'PUT', 'DELETE'];
const MAX_PATH_LENGTH = 4096;
/** Larger than any Fastify body limit we configure; guards the JSON serialization itself. */
const MAX_BODY_CHARS = 16 * 1024 * 1024;
const MAX_TYPE_PATTERNS = 100;
/** Larger than any clip we serve (30 s of 16 kHz audio is ~1 MB). */
const MAX_BINARY_BYTES = 64 * 1024 * 1024;

export class IpcValidationError extends Error {
  readonly errors: ProblemField[];
  constructor(errors: ProblemField[]) {
    super(`invalid IPC input: ${errors.map((e) => `${e.field}: ${e.message}`).join('; ')}`);
    this.name = 'IpcValidationError';
    this.errors = errors;
  }
}

function problem(status: number, code: string, title: string, detail?: string, errors?: ProblemField[]): IpcResponse {
  const body: Problem = { type: `urn:cortex:problem:${code}`, title, status, code };
  if (detail !== undefined) body.detail = detail;
  if (errors !== undefined) body.errors = errors;
  return { status, body };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

interface ValidRequest {
  method: HttpMethod;
  path: string;
  /** JSON text, or undefined for no body. */
  payload: string | undefined;
}

/** Validates an untrusted `IpcRequest`; returns the normalized request or the field errors. */
export function validateIpcRequest(req: unknown): ValidRequest | ProblemField[] {
  if (!isPlainObject(req)) return [{ field: 'request', message: 'must be an object {method, path, body?}' }];
  const errors: ProblemField[] = [];
  const { method, path, body } = req as Partial<IpcRequest>;

  let normalizedMethod: HttpMethod | undefined;
  if (typeof method !== 'string') {
    errors.push({ field: 'method', message: 'must be a string' });
  } else {
    const upper = method.toUpperCase();
    if ((IPC_METHODS as readonly string[]).includes(upper)) normalizedMethod = upper as HttpMethod;
    else errors.push({ field: 'method', message: `must be one of ${IPC_METHODS.join(', ')}` });
  }

  if (typeof path !== 'string') {
    errors.push({ field: 'path', message: 'must be a string' });
  } else if (!path.startsWith('/api/')) {
    errors.push({ field: 'path', message: 'must start with /api/' });
  } else if (path.length > MAX_PATH_LENGTH) {
    errors.push({ field: 'path', message: `must be at most ${MAX_PATH_LENGTH} characters` });
  } else if (hasUnsafeChar(path)) {
    errors.push({ field: 'path', message: 'must not contain whitespace, control characters, backslashes or a fragment' });
  } else if (hasDotSegment(path)) {
    errors.push({ field: 'path', message: 'must not contain . or .. segments' });
  } else if (isStreamPath(path)) {
    // An SSE stream never completes, so an inject() would hang: use subscribe instead.
    errors.push({ field: 'path', message: 'event streams are not available over request; use subscribe' });
  }

  let payload: string | undefined;
  if (body !== undefined) {
    if (normalizedMethod === 'GET') {
      errors.push({ field: 'body', message: 'a GET request has no body' });
    } else {
      try {
        payload = JSON.stringify(body);
        if (payload === undefined) errors.push({ field: 'body', message: 'must be JSON-serializable' });
        else if (payload.length > MAX_BODY_CHARS) errors.push({ field: 'body', message: 'is too large' });
      } catch (err) {
        errors.push({ field: 'body', message: `must be JSON-serializable (${(err as Error).message})` });
      }
    }
  }

  if (errors.length > 0 || normalizedMethod === undefined || typeof path !== 'string') return errors;
  return { method: normalizedMethod, path, payload };
}

/** Whitespace, control characters, backslashes and `#` never belong in an API path. */
function hasUnsafeChar(path: string): boolean {
  for (let i = 0; i < path.length; i++) {
    const c = path.charCodeAt(i);
    if (c <= 0x20 || c === 0x7f || c === 0x5c /* \\ */ || c === 0x23 /* # */) return true;
  }
  return false;
}

function pathname(path: string): string {
  const q = path.indexOf('?');
  return q < 0 ? path : path.slice(0, q);
}

function hasDotSegment(path: string): boolean {
  return pathname(path)
    .split('/')
    .some((segment) => {
      let decoded = segment;
      try {
        decoded = decodeURIComponent(segment);
      } catch {
        // leave malformed escapes to the router, which answers 400
      }
      return decoded === '.' || decoded === '..';
    });
}

/** SSE routes: the event streams and a topic's live echo (`/api/topics/{topic}/echo`). */
function isStreamPath(path: string): boolean {
  const p = pathname(path);
  return /\/stream\/?$/.test(p) || /^\/api\/topics\/[^/]+\/echo\/?$/.test(p);
}

const MAX_TOPIC_LENGTH = 1000;

/** Validates an untrusted `IpcEchoRequest`; returns the topic name or the field errors. */
export function validateEchoRequest(req: unknown): string | ProblemField[] {
  if (!isPlainObject(req)) return [{ field: 'request', message: 'must be an object {topic}' }];
  const extra = Object.keys(req).filter((k) => k !== 'topic');
  if (extra.length > 0) return [{ field: 'request', message: `unknown field(s): ${extra.join(', ')}` }];
  const { topic } = req;
  if (typeof topic !== 'string' || topic.length === 0 || topic.length > MAX_TOPIC_LENGTH) {
    return [{ field: 'topic', message: `must be a non-empty string of at most ${MAX_TOPIC_LENGTH} characters` }];
  }
  return topic;
}

/** Validates an untrusted `EventFilter` and copies its known fields. */
export function validateEventFilter(filter: unknown): EventFilter {
  if (filter === undefined || filter === null) return {};
  if (!isPlainObject(filter)) throw new IpcValidationError([{ field: 'filter', message: 'must be an object' }]);
  const errors: ProblemField[] = [];
  const out: EventFilter = {};
  const { projectId, types, since } = filter as EventFilter;
  if (projectId !== undefined) {
    if (typeof projectId !== 'string' || projectId.length === 0 || projectId.length > 64) {
      errors.push({ field: 'filter/projectId', message: 'must be a non-empty string of at most 64 characters' });
    } else out.projectId = projectId;
  }
  if (types !== undefined) {
    if (!Array.isArray(types) || types.length > MAX_TYPE_PATTERNS) {
      errors.push({ field: 'filter/types', message: `must be an array of at most ${MAX_TYPE_PATTERNS} type patterns` });
    } else {
      const bad = types.filter((t) => typeof t !== 'string' || !isValidTypePattern(t));
      if (bad.length > 0) errors.push({ field: 'filter/types', message: `unknown event type pattern(s): ${bad.map(String).join(', ')}` });
      else out.types = [...(types as string[])];
    }
  }
  if (since !== undefined) {
    if (typeof since !== 'number' || !Number.isSafeInteger(since) || since < 0) {
      errors.push({ field: 'filter/since', message: 'must be a non-negative integer' });
    } else out.since = since;
  }
  if (errors.length > 0) throw new IpcValidationError(errors);
  return out;
}

function parseBody(text: string): unknown {
  if (text === '') return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    // Not JSON (e.g. a YAML/HTML route): hand the text over as-is.
    return text;
  }
}

interface Subscription {
  tenantId: string;
  projectId: string | undefined;
  matches: (type: string) => boolean;
  send: (event: DomainEvent) => void;
  /** Highest seq delivered (or the `since` asked for); never deliver at or below it. */
  lastSeq: number;
  /** Live events held back while the `since` replay runs; null once live. */
  held: DomainEvent[] | null;
}

/** Page size of the `since` replay (the API's maximum). */
const REPLAY_PAGE = 500;

export function createIpcBridge(deps: IpcBridgeDeps): IpcBridge {
  const tenantId = deps.tenantId ?? 'local';
  const timeoutMs = deps.requestTimeoutMs ?? 30_000;
  const onError = deps.onError ?? (() => undefined);
  const subscriptions = new Map<SubscriptionId, Subscription>();
  let nextId = 1;
  const echoes = new Map<EchoId, CappedEcho>();
  let nextEchoId = 1;
  let upstream: (() => void) | undefined;

  function wants(sub: Subscription, event: DomainEvent): boolean {
    if (event.tenantId !== sub.tenantId) return false;
    if (sub.projectId !== undefined && event.projectId !== sub.projectId) return false;
    return sub.matches(event.type);
  }

  /** Sends in seq order without duplicates; a throwing `send` drops the subscription. */
  function deliver(id: SubscriptionId, sub: Subscription, event: DomainEvent): boolean {
    if (event.seq <= sub.lastSeq) return true;
    sub.lastSeq = event.seq;
    try {
      sub.send(event);
      return true;
    } catch (err) {
      // A dead window must not break delivery to the others, nor the emitter.
      unsubscribe(id);
      onError(err, `subscription ${id} send failed; dropped`);
      return false;
    }
  }

  function dispatch(event: DomainEvent): void {
    for (const [id, sub] of subscriptions) {
      if (!wants(sub, event)) continue;
      if (sub.held) sub.held.push(event);
      else deliver(id, sub, event);
    }
  }

  function stopUpstream(): void {
    const stop = upstream;
    upstream = undefined;
    stop?.();
  }

  async function handleRequest(raw: unknown): Promise<IpcResponse> {
    const valid = validateIpcRequest(raw);
    if (Array.isArray(valid)) {
      return problem(400, 'validation', 'Invalid IPC request', valid.map((e) => `${e.field} ${e.message}`).join('; '), valid);
    }
    try {
      const res = await inject(valid.method, valid.path, valid.payload);
      if (res === 'timeout') return problem(504, 'timeout', 'Request timed out', `no answer within ${timeoutMs} ms`);
      return { status: res.statusCode, body: parseBody(res.body) };
    } catch (err) {
      onError(err, `inject ${valid.method} ${pathname(valid.path)} failed`);
      return problem(500, 'internal', 'Internal error', 'the request could not be processed');
    }
  }

  async function handleBinaryRequest(raw: unknown): Promise<IpcBinaryResponse> {
    const fail = (r: IpcResponse): IpcBinaryResponse => ({ status: r.status, contentType: 'application/problem+json', bytes: null, body: r.body });
    let valid: ValidRequest | ProblemField[];
    if (!isPlainObject(raw)) valid = [{ field: 'request', message: 'must be an object {path}' }];
    else {
      const extra = Object.keys(raw).filter((k) => k !== 'path');
      valid = extra.length > 0 ? [{ field: 'request', message: `unknown field(s): ${extra.join(', ')}` }] : validateIpcRequest({ method: 'GET', path: raw.path });
    }
    if (Array.isArray(valid)) {
      return fail(problem(400, 'validation', 'Invalid IPC request', valid.map((e) => `${e.field} ${e.message}`).join('; '), valid));
    }
    try {
      const res = await inject('GET', valid.path, undefined, '*/*');
      if (res === 'timeout') return fail(problem(504, 'timeout', 'Request timed out', `no answer within ${timeoutMs} ms`));
      const header = res.headers?.['content-type'];
      const contentType = typeof header === 'string' ? header : 'application/octet-stream';
      if (res.statusCode < 200 || res.statusCode >= 300) return { status: res.statusCode, contentType, bytes: null, body: parseBody(res.body) };
      const bytes = res.rawPayload ?? new TextEncoder().encode(res.body);
      if (bytes.byteLength > MAX_BINARY_BYTES) return fail(problem(502, 'too_large', 'Response too large', `more than ${MAX_BINARY_BYTES} bytes`));
      // A plain Uint8Array (not a Buffer view into a shared pool) crosses IPC as exactly these bytes.
      return { status: res.statusCode, contentType, bytes: new Uint8Array(bytes), body: null };
    } catch (err) {
      onError(err, `inject GET ${pathname(valid.path)} (binary) failed`);
      return fail(problem(500, 'internal', 'Internal error', 'the request could not be processed'));
    }
  }

  /** One request through the full Fastify pipeline as the console. */
  async function inject(method: HttpMethod, url: string, payload?: string, accept = 'application/json'): Promise<BridgeInjectResponse | 'timeout'> {
    const headers: Record<string, string> = { 'x-api-key': deps.consoleKey, accept };
    if (payload !== undefined) headers['content-type'] = 'application/json';
    const req: BridgeInjectRequest = { method, url, headers };
    if (payload !== undefined) req.payload = payload;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
      timer.unref?.();
    });
    try {
      return await Promise.race([deps.inject(req), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * `since` replay: pages `GET /api/events?since=` (the same log the SSE stream replays
   * from) while live events are held back, then releases the held ones; `lastSeq`
   * dedupes the overlap. If the replay fails the subscription still goes live, and the
   * failure is reported through `onError`.
   */
  async function replay(id: SubscriptionId, sub: Subscription, types: string[] | undefined): Promise<void> {
    const alive = (): boolean => subscriptions.get(id) === sub;
    try {
      let cursor = sub.lastSeq;
      for (;;) {
        let url = `/api/events?since=${cursor}&limit=${REPLAY_PAGE}`;
        if (types?.length) url += `&types=${encodeURIComponent(types.join(','))}`;
        const res = await inject('GET', url);
        if (!alive()) return;
        if (res === 'timeout') throw new Error('event replay timed out');
        if (res.statusCode !== 200) throw new Error(`event replay answered ${res.statusCode}: ${res.body.slice(0, 200)}`);
        const page = JSON.parse(res.body) as { items: DomainEvent[]; lastSeq: number };
        for (const event of page.items) {
          if (wants(sub, event) && !deliver(id, sub, event)) return;
        }
        // lastSeq is the last row read before type filtering; it stops moving at the end.
        if (!(page.lastSeq > cursor)) break;
        cursor = page.lastSeq;
      }
    } catch (err) {
      onError(err, `subscription ${id} replay failed; continuing live`);
    }
    if (!alive()) return;
    const held = sub.held ?? [];
    sub.held = null;
    for (const event of held) if (!deliver(id, sub, event)) return;
  }

  /**
   * Live events from now on; with `filter.since`, first the logged events after that seq
   * (as the SSE stream's `Last-Event-ID` resume does). Events are delivered to `send`
   * asynchronously with respect to this call only during a replay.
   */
  function subscribe(rawFilter: unknown, send: (event: DomainEvent) => void): SubscriptionId {
    if (typeof send !== 'function') throw new TypeError('send must be a function');
    const filter = validateEventFilter(rawFilter);
    const id = nextId++;
    const sub: Subscription = {
      tenantId,
      projectId: filter.projectId,
      matches: typeMatcher(filter.types),
      send,
      lastSeq: filter.since ?? 0,
      held: filter.since === undefined ? null : [],
    };
    subscriptions.set(id, sub);
    if (!upstream) upstream = deps.subscribeEvents(dispatch);
    if (sub.held) void replay(id, sub, filter.types);
    return id;
  }

  function unsubscribe(id: SubscriptionId): boolean {
    const removed = subscriptions.delete(id);
    if (subscriptions.size === 0) stopUpstream();
    return removed;
  }

  async function echo(raw: unknown, send: (id: EchoId, frame: IpcEchoFrame) => void): Promise<IpcEchoStart> {
    if (typeof send !== 'function') throw new TypeError('send must be a function');
    const topic = validateEchoRequest(raw);
    if (Array.isArray(topic)) {
      const p = problem(400, 'validation', 'Invalid IPC request', topic.map((e) => `${e.field} ${e.message}`).join('; '), topic);
      return { id: null, problem: p.body as Problem };
    }
    let found;
    try {
      found = await findEchoTopic(deps.bus ?? null, topic);
    } catch (err) {
      if (!(err instanceof ProblemError)) {
        onError(err, `echo ${topic}: lookup failed`);
        return { id: null, problem: problem(500, 'internal', 'Internal error', 'the echo could not be started').body as Problem };
      }
      const body: Problem = { type: problemType(err.code), title: PROBLEMS[err.code].title, status: err.status, code: err.code, detail: err.message };
      if (err.field) body.errors = [{ field: err.field, message: err.message }];
      return { id: null, problem: body };
    }
    const id = nextEchoId++;
    const capped = openCappedEcho(found.host, found.info, (frame) => {
      try {
        send(id, frame);
      } catch (err) {
        // A dead window must not keep a ZeroMQ subscription open.
        stopEcho(id);
        onError(err, `echo ${id} send failed; closed`);
      }
    });
    echoes.set(id, capped);
    await capped.connected;
    return { id, ready: capped.ready };
  }

  function stopEcho(id: EchoId): boolean {
    const capped = echoes.get(id);
    if (!capped) return false;
    echoes.delete(id);
    capped.close().catch((err: unknown) => onError(err, `echo ${id} close failed`));
    return true;
  }

  function closeAll(): void {
    subscriptions.clear();
    stopUpstream();
    for (const id of [...echoes.keys()]) stopEcho(id);
  }

  return {
    handleRequest,
    handleBinaryRequest,
    subscribe,
    unsubscribe,
    get size() {
      return subscriptions.size;
    },
    echo,
    stopEcho,
    get echoes() {
      return echoes.size;
    },
    closeAll,
  };
}

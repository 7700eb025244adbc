/** Shared by test/api: a real Cortex listening on 127.0.0.1, a tiny fetch wrapper, and a short SSE read. */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DomainEvent } from '../../common/events.js';
import { SseParser } from '../../common/sse.js';
import type { CortexConfig } from '../../main/core/config.js';
import { startCortex, type Cortex } from '../../main/core/cortex.js';

/** Parsed JSON bodies are loosely typed on purpose: tests assert their shape. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type J = any;

export const P = '/api/projects/default';

export interface Server {
  cortex: Cortex;
  url: string;
  dataDir: string;
  /** The console's admin key (tenant `local`). */
  key: string;
  api: Api;
  close(): Promise<void>;
}

export interface ApiResponse {
  status: number;
  headers: Headers;
  /** Parsed JSON body; null when empty or not JSON. */
  json: J;
  text: string;
}

export interface ApiOptions {
  /** Defaults to the server's admin key; null sends none. */
  key?: string | null;
  /** Objects are sent as JSON; strings and bytes are sent raw (set the content type in `headers`). */
  body?: unknown;
  headers?: Record<string, string>;
}

export type Api = (method: string, path: string, o?: ApiOptions) => Promise<ApiResponse>;

export async function startServer(overrides: Partial<CortexConfig> = {}): Promise<Server> {
  const dataDir = await mkdtemp(join(tmpdir(), 'cx-'));
  const cortex = await startCortex({ dataDir, port: 0, logLevel: 'silent', sweepIntervalMs: 60_000, ...overrides });
  const url = await cortex.listen();
  const server: Server = {
    cortex, url, dataDir, key: cortex.consoleKey,
    api: (method, path, o = {}) => request(url, o.key === undefined ? cortex.consoleKey : o.key, method, path, o),
    async close() {
      await cortex.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
  return server;
}

/** One API call with `key` (null: none), as any HTTP client would make it. */
export async function request(url: string, key: string | null, method: string, path: string, o: ApiOptions): Promise<ApiResponse> {
  const headers: Record<string, string> = {};
  if (key) headers['x-api-key'] = key;
  let body: BodyInit | undefined;
  if (typeof o.body === 'string') body = o.body;
  else if (o.body instanceof Uint8Array) body = new Uint8Array(o.body); // a copy backed by a plain ArrayBuffer
  else if (o.body !== undefined) {
    body = JSON.stringify(o.body);
    headers['content-type'] = 'application/json';
  }
  Object.assign(headers, o.headers);
  const res = await fetch(url + path, { method, headers, body });
  const text = await res.text();
  let json: J = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  return { status: res.status, headers: res.headers, json, text };
}

/** Asserts an RFC 9457 problem response (and optionally the first error field). */
export function assertProblem(res: ApiResponse, status: number, field?: string, msg = ''): void {
  const where = `${msg} → ${res.status} ${res.text.slice(0, 300)}`;
  assert.equal(res.status, status, where);
  assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/, where);
  for (const k of ['type', 'title', 'status', 'code']) assert.ok(res.json && k in res.json, `problem lacks "${k}": ${where}`);
  assert.equal(res.json.status, status, where);
  if (field !== undefined) assert.equal(res.json.errors?.[0]?.field, field, where);
}

/** Creates tenant `other` with project `other-proj` and returns an admin key for it. */
export function makeOtherTenant(cortex: Cortex, tenantId = 'other', projectId = 'other-proj'): string {
  const t = cortex.domain.tenancy;
  t.ensureTenant(tenantId, 'Other');
  t.createProject(tenantId, { id: projectId, name: 'O' });
  return t.createKey(tenantId, { name: `${tenantId}-admin`, scopes: ['admin'], projectId: null }).key;
}

/** Events of the key's tenant after `since` (GET /api/events). */
export async function eventsSince(api: Api, since: number, key?: string): Promise<DomainEvent[]> {
  const res = await api('GET', `/api/events?since=${since}&limit=500`, { key });
  assert.equal(res.status, 200, res.text);
  return res.json.items as DomainEvent[];
}

export async function lastSeq(api: Api): Promise<number> {
  return (await api('GET', '/api/health', { key: null })).json.lastSeq as number;
}

/**
 * Opens an SSE stream, runs `during` once it is connected, keeps reading for `ms`, then
 * aborts. Returns the status, the raw text and the parsed events.
 */
export async function readSse(
  url: string, key: string, ms: number, during: () => Promise<unknown> = async () => {}, headers: Record<string, string> = {},
): Promise<{ status: number; contentType: string; raw: string; events: DomainEvent[] }> {
  const ac = new AbortController();
  const res = await fetch(url, { headers: { 'x-api-key': key, ...headers }, signal: ac.signal });
  const contentType = res.headers.get('content-type') ?? '';
  if (!res.ok || !res.body) {
    return { status: res.status, contentType, raw: await res.text(), events: [] };
  }
  const events: DomainEvent[] = [];
  let raw = '';
  const parser = new SseParser((m) => {
    if (m.event === 'message' && m.id !== undefined) events.push(JSON.parse(m.data) as DomainEvent);
  });
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  const pump = (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        raw += value;
        parser.push(value);
      }
    } catch {
      // aborted
    }
  })();
  await during();
  await new Promise((r) => setTimeout(r, ms));
  ac.abort();
  await pump;
  return { status: res.status, contentType, raw, events };
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `fn` until it returns a truthy value; fails after `timeoutMs` naming `what`. */
export async function until<T>(fn: () => Promise<T | null | undefined | false> | T | null | undefined | false, what: string, timeoutMs = 10_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await pause(25);
  }
}

/** One webhook POST over node:http(s) with a hard deadline; never throws. */
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';

/** How much of a receiver's response is kept for the attempt log. */
export const RESPONSE_BODY_LIMIT = 4096;

export interface PostResult {
  statusCode: number | null;
  error: string | null;
  /** First 4 KB of the response, as text. */
  body: string | null;
  retryAfter: string | undefined;
  durationMs: number;
}

export interface PostOptions {
  url: URL;
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
  agent: http.Agent;
  lookup?: LookupFunction;
  signal?: AbortSignal;
}

export function post(o: PostOptions): Promise<PostResult> {
  const started = performance.now();
  return new Promise((resolve) => {
    let settled = false;
    const done = (r: Omit<PostResult, 'durationMs'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ ...r, durationMs: performance.now() - started });
    };
    const payload = Buffer.from(o.body, 'utf8');
    const mod = o.url.protocol === 'https:' ? https : http;
    const req = mod.request(o.url, {
      method: 'POST',
      agent: o.agent,
      headers: { ...o.headers, 'content-type': 'application/json', 'content-length': String(payload.byteLength) },
      ...(o.lookup ? { lookup: o.lookup } : {}),
      ...(o.signal ? { signal: o.signal } : {}),
    });
    const timer = setTimeout(() => {
      req.destroy(new Error(`timed out after ${o.timeoutMs} ms`));
    }, o.timeoutMs);
    req.on('error', (err: NodeJS.ErrnoException) => done({ statusCode: null, error: err.code && !err.message.includes(err.code) ? `${err.code}: ${err.message}` : err.message, body: null, retryAfter: undefined }));
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let kept = 0;
      res.on('data', (c: Buffer) => {
        if (kept < RESPONSE_BODY_LIMIT) {
          const part = c.subarray(0, RESPONSE_BODY_LIMIT - kept);
          chunks.push(part);
          kept += part.byteLength;
        }
      });
      res.on('end', () => {
        const retryAfter = res.headers['retry-after'];
        done({ statusCode: res.statusCode ?? null, error: null, body: kept ? Buffer.concat(chunks).toString('utf8') : null, retryAfter });
      });
      res.on('error', (err) => done({ statusCode: res.statusCode ?? null, error: `response: ${err.message}`, body: null, retryAfter: undefined }));
    });
    req.end(payload);
  });
}

import { request, type ClientRequest, type IncomingMessage } from 'node:http';
import { SseParser, type SseMessage } from '../../common/sse.js';

export interface SseConnection {
  messages: SseMessage[];
  comments: number;
  /** The log head the server announced when the stream opened (its `ready` event). */
  readySeq?: number;
  response: IncomingMessage;
  /** Resolves when the server ends the stream (or the socket closes). */
  ended: Promise<void>;
  close(): void;
  /** Starts reading a stream opened with `{read: false}`. */
  resume(): void;
  /** Waits until `pred(messages)` holds, or rejects after `timeoutMs`. */
  waitFor(pred: (m: SseMessage[]) => boolean, timeoutMs?: number): Promise<void>;
}

/** A raw SSE client over node:http (no reconnect logic, so tests control every reconnect). */
export function openSse(url: string, headers: Record<string, string>, opts: { read?: boolean } = {}): Promise<SseConnection> {
  return new Promise((resolve, reject) => {
    const req: ClientRequest = request(url, { headers: { accept: 'text/event-stream', ...headers } }, (res) => {
      const messages: SseMessage[] = [];
      const conn: SseConnection = {
        messages,
        comments: 0,
        response: res,
        ended: new Promise((r) => {
          res.on('end', () => r());
          res.on('close', () => r());
          res.on('error', () => r());
          res.socket.on('close', () => r()); // fires even while the response is paused
        }),
        close: () => req.destroy(),
        resume: () => res.resume(),
        waitFor: (pred, timeoutMs = 5000) =>
          new Promise((ok, fail) => {
            const started = Date.now();
            const tick = () => {
              if (pred(messages)) return ok();
              if (Date.now() - started > timeoutMs) return fail(new Error(`timed out with ${messages.length} messages`));
              setTimeout(tick, 5);
            };
            tick();
          }),
      };
      const parser = new SseParser((m) => {
        if (m.event === 'message') messages.push(m);
        else if (m.event === 'ready') conn.readySeq = Number(m.id);
      });
      res.setEncoding('utf8');
      if (opts.read === false) res.pause();
      res.on('data', (chunk: string) => {
        conn.comments += (chunk.match(/^: /gm) ?? []).length;
        parser.push(chunk);
      });
      resolve(conn);
    });
    req.on('error', reject);
    req.end();
  });
}

export const seqs = (messages: SseMessage[]) => messages.map((m) => Number(m.id));

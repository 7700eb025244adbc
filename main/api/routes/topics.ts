import { Type } from '@sinclair/typebox';
import type { ServerResponse } from 'node:http';
import { Nullable } from '../../../common/schemas.js';
import { RateCap } from '../../bus/echo.js';
import type { BusHost } from '../../bus/host.js';
import { ProblemError } from '../../core/errors.js';
import { responses, type Api } from './common.js';

export const TopicSchema = Type.Object({
  name: Type.String(),
  address: Type.String(),
  messageType: Type.String(),
  fingerprint: Type.String({ description: 'u64 type fingerprint, as a decimal string' }),
  publisherNode: Type.String(),
  rate: Nullable(Type.Number({ description: 'messages/s over the last 5 s; null until measured (watching starts with the first look)' })),
  lastMessageAt: Nullable(Type.String({ format: 'date-time' })),
});

const TopicList = Type.Object({
  enabled: Type.Boolean({ description: 'false when the data plane is switched off (busEndpoint: null)' }),
  endpoint: Nullable(Type.String()),
  items: Type.Array(TopicSchema),
});

const EchoParams = Type.Object({
  topic: Type.String({ minLength: 1, maxLength: 1000, description: 'the topic name, URL-encoded (`cortex%2Fevents`)' }),
});

/** Messages per second one echo stream sends at most; the rest are dropped and counted. */
export const ECHO_MAX_RATE = 20;
const ECHO_HEARTBEAT_MS = 15_000;

const ECHO_DESCRIPTION = `Live echo of a data-plane topic as Server-Sent Events. The first message is \`event: ready\` with
\`{topic, messageType, maxRate}\`; then each message is \`event: message\` with \`{seq, timestamp, value, dropped}\`: \`value\` is the
decoded message as JSON (64-bit integers as decimal strings; byte and typed arrays as \`{bytes, preview, type?, length?}\`, the
preview being the base64 of the first 32 bytes). At most ${ECHO_MAX_RATE} messages/s are sent per stream; \`dropped\` counts the
messages left out since the previous one. A topic of a type this server does not know is shown as its raw field values
(\`raw: true\`). Messages that cannot be decoded arrive as \`event: invalid\` with \`{reason, detail}\`. A \`: heartbeat\` comment
every 15 s. 409 when the data plane is off, 404 when the topic is not registered.`;

/** `GET /api/topics`: the ZeroMQ data plane's registered topics and their activity; `GET /api/topics/{topic}/echo`: one topic live. */
export function topicRoutes(app: Api, bus: BusHost | null): void {
  app.get('/topics', { config: { scope: 'topics' }, schema: { tags: ['topics'], response: responses(200, TopicList) } }, async () =>
    bus ? { enabled: true, endpoint: bus.endpoint, items: await bus.topics() } : { enabled: false, endpoint: null, items: [] },
  );

  /** Open echo streams, ended when the server closes (SSE connections are never idle). */
  const open = new Set<() => void>();
  app.addHook('preClose', async () => {
    for (const end of [...open]) end();
  });

  app.get('/topics/:topic/echo', {
    config: { scope: 'topics' },
    schema: { tags: ['topics'], params: EchoParams, produces: ['text/event-stream'], description: ECHO_DESCRIPTION },
  }, async (req, reply) => {
    const name = req.params.topic;
    if (!bus) {
      throw new ProblemError('conflict', 'The ZeroMQ data plane is off on this server (no busEndpoint; CORTEX_BUS_ENDPOINT=off), so there is no topic to echo.');
    }
    let info;
    try {
      info = await bus.lookup(name);
    } catch (err) {
      throw new ProblemError('unavailable', `The discovery daemon at ${bus.endpoint} did not answer (${(err as Error).message}); try again in a moment.`);
    }
    if (!info) throw new ProblemError('not_found', `No topic "${name}" is registered on the data plane.`, 'params/topic');

    reply.hijack();
    const res: ServerResponse = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.flushHeaders();
    res.socket?.setNoDelay(true);

    let ended = false;
    const cap = new RateCap(ECHO_MAX_RATE);
    let blocked = false;
    const send = (event: string, data: object) => {
      if (ended || res.destroyed || res.writableEnded) return;
      if (blocked) return cap.drop(); // the client is not reading: keep nothing
      const dropped = cap.take();
      if (dropped === null) return;
      if (!res.write(`event: ${event}\ndata: ${JSON.stringify({ ...data, dropped })}\n\n`)) {
        blocked = true;
        res.once('drain', () => (blocked = false));
      }
    };
    const echo = bus.echo(info, {
      onMessage: (m) => send('message', m),
      onError: (reason, detail) => send('invalid', { reason, detail }),
    });
    const heartbeat = setInterval(() => {
      if (!blocked && !res.destroyed) res.write(': heartbeat\n\n');
    }, ECHO_HEARTBEAT_MS);
    heartbeat.unref();
    const end = () => {
      if (ended) return;
      ended = true;
      open.delete(end);
      clearInterval(heartbeat);
      void echo.close();
      if (!res.writableEnded) res.end();
    };
    open.add(end);
    res.on('close', end);
    // `ready` once the subscription is connected: what a client publishes after it arrives is seen.
    await echo.ready.catch(() => undefined);
    if (!ended) res.write(`retry: 2000\nevent: ready\ndata: ${JSON.stringify({ topic: info.name, messageType: info.messageType, maxRate: ECHO_MAX_RATE })}\n\n`);
  });
}

import { Type } from '@sinclair/typebox';
import type { ServerResponse } from 'node:http';
import { Nullable } from '../../../common/schemas.js';
import type { BusHost } from '../../bus/host.js';
import { ECHO_MAX_RATE, findEchoTopic, openCappedEcho } from '../../core/topic-echo.js';
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

export { ECHO_MAX_RATE };
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
    const { host, info } = await findEchoTopic(bus, req.params.topic);

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
    let blocked = false;
    const echo = openCappedEcho(
      host,
      info,
      (frame) => {
        if (ended || res.destroyed || res.writableEnded) return;
        if (!res.write(`event: ${frame.event}\ndata: ${JSON.stringify(frame.data)}\n\n`)) {
          blocked = true;
          res.once('drain', () => (blocked = false));
        }
      },
      () => blocked, // the client is not reading: keep nothing
    );
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
    await echo.connected;
    if (!ended) res.write(`retry: 2000\nevent: ready\ndata: ${JSON.stringify(echo.ready)}\n\n`);
  });
}

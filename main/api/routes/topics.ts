import { Type } from '@sinclair/typebox';
import { Nullable } from '../../../common/schemas.js';
import type { BusHost } from '../../bus/host.js';
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

/** `GET /api/topics`: the ZeroMQ data plane's registered topics and their activity. */
export function topicRoutes(app: Api, bus: BusHost | null): void {
  app.get('/topics', { config: { scope: 'topics' }, schema: { tags: ['topics'], response: responses(200, TopicList) } }, async () =>
    bus ? { enabled: true, endpoint: bus.endpoint, items: await bus.topics() } : { enabled: false, endpoint: null, items: [] },
  );
}

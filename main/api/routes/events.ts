import { Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import { isValidTypePattern, typeMatcher } from '../../../common/events.js';
import { EventEnvelope, EventListQuery, Id } from '../../../common/schemas.js';
import { ProblemError } from '../../core/errors.js';
import { principal } from '../auth.js';
import type { SseHub } from '../sse.js';
import { responses, type Api, type RouteDeps } from './common.js';

const StreamQuery = Type.Object(
  { types: Type.Optional(Type.String({ maxLength: 2000 })), since: Type.Optional(Type.Integer({ minimum: 0 })) },
  { additionalProperties: false },
);

function parseTypes(types: string | undefined): string[] | undefined {
  if (!types) return undefined;
  const list = types.split(',').map((t) => t.trim()).filter(Boolean);
  const bad = list.find((t) => !isValidTypePattern(t));
  if (bad !== undefined) throw new ProblemError('validation', `unknown event type pattern "${bad}"`, 'query/types');
  return list;
}

/** `Last-Event-ID` wins over `?since=`; both name the last seq the client has. */
function resumeFrom(request: FastifyRequest, since: number | undefined): number | null {
  const header = request.headers['last-event-id'];
  if (typeof header === 'string' && header !== '') {
    if (!/^\d{1,15}$/.test(header)) throw new ProblemError('validation', 'Last-Event-ID must be an event seq', 'header/last-event-id');
    return Number(header);
  }
  return since ?? null;
}

/** The event log over HTTP: paged reads, and live SSE streams with replay. */
export function eventRoutes(app: Api, { domain: { events } }: RouteDeps, hub: SseHub): void {
  const t = { tags: ['events'] };

  function scopeProject(req: FastifyRequest, projectId: string | undefined): string | null {
    return projectId ?? principal(req).projectId;
  }

  app.get('/events', { config: { scope: 'events' }, schema: { ...t, querystring: EventListQuery, response: responses(200, Type.Object({ items: Type.Array(EventEnvelope), lastSeq: Type.Integer() })) } },
    async (req) => {
      const match = typeMatcher(parseTypes(req.query.types));
      const projectId = scopeProject(req, undefined);
      const items = events.read({ tenantId: principal(req).tenantId, projectId: projectId ?? undefined, afterSeq: req.query.since ?? 0, limit: req.query.limit ?? 100 });
      return { items: items.filter((e) => match(e.type)), lastSeq: items[items.length - 1]?.seq ?? req.query.since ?? 0 };
    });

  const stream = async (req: FastifyRequest<{ Querystring: { types?: string; since?: number }; Params: { projectId?: string } }>, reply: { hijack(): void; raw: import('node:http').ServerResponse }) => {
    const types = parseTypes(req.query.types);
    const since = resumeFrom(req, req.query.since);
    reply.hijack();
    await hub.open(reply.raw, { tenantId: principal(req).tenantId, projectId: scopeProject(req, req.params.projectId), match: typeMatcher(types) }, since);
  };

  app.get('/events/stream', { config: { scope: 'events' }, schema: { ...t, querystring: StreamQuery, produces: ['text/event-stream'] } }, stream);
  app.get('/projects/:projectId/events/stream', { config: { scope: 'events' }, schema: { ...t, params: Type.Object({ projectId: Id }), querystring: StreamQuery, produces: ['text/event-stream'] } }, stream);
}

import { Type } from '@sinclair/typebox';
import {
  Annotation, AnnotationCreate, Message, MessageCreate, MessageListQuery, MessageUpdate, Page, Participant, Session, SessionCreate,
  SessionListQuery, SessionParticipantJoin, SessionUpdate,
} from '../../../common/schemas.js';
import { ProblemError } from '../../core/errors.js';
import type { BotManager } from '../../bot/manager.js';
import type { EvidenceStore } from '../../bot/evidence.js';
import { actorOf, noContent, params, problemResponses, responses, scopeOf, type Api, type RouteDeps } from './common.js';

const SessionParticipant = Type.Intersect([Participant, Type.Object({ sessionJoinedAt: Type.String(), leftAt: Type.Union([Type.String(), Type.Null()]) })]);

const BotPeer = Type.Object({
  peerId: Type.String(),
  participantId: Type.Union([Type.String(), Type.Null()]),
  displayName: Type.Union([Type.String(), Type.Null()]),
  speaking: Type.Boolean(),
  queued: Type.Integer({ description: 'utterances waiting for or in the engine' }),
  lastUtterance: Type.Union([Type.Object({ startedAt: Type.String(), durationMs: Type.Number(), text: Type.Union([Type.String(), Type.Null()]) }), Type.Null()]),
  framesDropped: Type.Integer(),
});
const BotView = Type.Object({
  state: Type.Union(['joining', 'listening', 'error', 'stopped'].map((x) => Type.Literal(x))),
  reason: Type.Union([Type.String(), Type.Null()]),
  adapter: Type.Union([Type.String(), Type.Null()]),
  peers: Type.Array(BotPeer),
  queue: Type.Union([
    Type.Object({
      depth: Type.Integer(), processed: Type.Integer(), failed: Type.Integer(), dropped: Type.Integer(),
      waitP50Ms: Type.Number(), waitP95Ms: Type.Number(), oldestWaitingMs: Type.Number(),
    }),
    Type.Null(),
  ]),
});

/** Sessions, their messages, participants, annotations and transcription bot. */
export function sessionRoutes(app: Api, { domain, commit }: RouteDeps, bots: BotManager, evidence: EvidenceStore): void {
  const { sessions, messages, participants, annotations } = domain;
  const s = { tags: ['sessions'] };
  app.get('/sessions/:sessionId/bot', { config: { scope: 'sessions' }, schema: { ...s, params: params('sessionId'), response: responses(200, BotView) } },
    async (req) => {
      const session = sessions.get(scopeOf(req), req.params.sessionId);
      if (!session.adapter) throw new ProblemError('not_found', 'this session has no transcription bot (it was created without an adapter)', 'params/sessionId');
      return bots.view(session.id) ?? { state: 'stopped' as const, reason: session.startedAt ? null : 'not started', adapter: session.adapter, peers: [], queue: null };
    });
  app.get('/sessions/:sessionId/messages/:messageId/audio', {
    config: { scope: 'messages' },
    schema: { tags: ['messages'], params: params('sessionId', 'messageId'), produces: ['audio/wav'], response: { ...problemResponses, 200: Type.Unsafe({ type: 'string', format: 'binary' }) } },
  }, async (req, reply) => {
    const m = messages.get(scopeOf(req), req.params.sessionId, req.params.messageId);
    const clip = m.hasDebugAudio ? await evidence.open(m.id) : null;
    if (!clip) throw new ProblemError('not_found', m.hasDebugAudio ? 'the audio of this message has expired' : 'no audio was kept for this message', 'params/messageId');
    return reply.type('audio/wav').header('content-length', String(clip.size)).send(clip.stream);
  });
  const m = { tags: ['messages'] };

  app.get('/sessions', { config: { scope: 'sessions' }, schema: { ...s, params: params(), querystring: SessionListQuery, response: responses(200, Page(Session)) } },
    async (req) => sessions.list(scopeOf(req), req.query));
  app.post('/sessions', { config: { scope: 'sessions' }, schema: { ...s, params: params(), body: SessionCreate, response: responses(201, Session) } },
    async (req, reply) => reply.code(201).send(await commit(() => sessions.create(scopeOf(req), { ...req.body, createdByUserId: req.body.createdByUserId ?? actorOf(req) }))));
  app.get('/sessions/:sessionId', { config: { scope: 'sessions' }, schema: { ...s, params: params('sessionId'), response: responses(200, Session) } },
    async (req) => sessions.get(scopeOf(req), req.params.sessionId));
  app.patch('/sessions/:sessionId', { config: { scope: 'sessions' }, schema: { ...s, params: params('sessionId'), body: SessionUpdate, response: responses(200, Session) } },
    async (req) => commit(() => sessions.update(scopeOf(req), req.params.sessionId, req.body)));
  app.delete('/sessions/:sessionId', { config: { scope: 'sessions' }, schema: { ...s, params: params('sessionId'), response: noContent } },
    async (req, reply) => {
      await commit(() => sessions.remove(scopeOf(req), req.params.sessionId));
      return reply.code(204).send(null);
    });
  app.post('/sessions/:sessionId/start', { config: { scope: 'sessions' }, schema: { ...s, params: params('sessionId'), response: responses(200, Session) } },
    async (req) => commit(() => sessions.start(scopeOf(req), req.params.sessionId)));
  app.post('/sessions/:sessionId/stop', { config: { scope: 'sessions' }, schema: { ...s, params: params('sessionId'), response: responses(200, Session) } },
    async (req) => commit(() => sessions.stop(scopeOf(req), req.params.sessionId)));

  app.get('/sessions/:sessionId/participants', { config: { scope: 'participants' }, schema: { tags: ['participants'], params: params('sessionId'), response: responses(200, Type.Object({ items: Type.Array(SessionParticipant) })) } },
    async (req) => ({ items: participants.listInSession(scopeOf(req), req.params.sessionId) }));
  app.post('/sessions/:sessionId/participants', { config: { scope: 'participants' }, schema: { tags: ['participants'], params: params('sessionId'), body: SessionParticipantJoin, response: responses(200, Participant) } },
    async (req) => commit(() => participants.joinSession(scopeOf(req), req.params.sessionId, req.body)));
  app.delete('/sessions/:sessionId/participants/:participantId', { config: { scope: 'participants' }, schema: { tags: ['participants'], params: params('sessionId', 'participantId'), response: noContent } },
    async (req, reply) => {
      await commit(() => participants.leaveSession(scopeOf(req), req.params.sessionId, req.params.participantId));
      return reply.code(204).send(null);
    });

  app.get('/sessions/:sessionId/messages', { config: { scope: 'messages' }, schema: { ...m, params: params('sessionId'), querystring: MessageListQuery, response: responses(200, Page(Message)) } },
    async (req) => {
      const scope = scopeOf(req);
      const page = messages.list(scope, req.params.sessionId, req.query);
      const byMessage = annotations.ofMessages(scope, page.items.map((x) => x.id));
      return { ...page, items: page.items.map((x) => ({ ...x, annotations: byMessage.get(x.id) ?? [] })) };
    });
  app.post('/sessions/:sessionId/messages', { config: { scope: 'messages' }, schema: { ...m, params: params('sessionId'), body: MessageCreate, response: responses(201, Message) } },
    async (req, reply) => reply.code(201).send(await commit(() => messages.create(scopeOf(req), req.params.sessionId, req.body))));
  app.get('/sessions/:sessionId/messages/:messageId', { config: { scope: 'messages' }, schema: { ...m, params: params('sessionId', 'messageId'), response: responses(200, Message) } },
    async (req) => {
      const scope = scopeOf(req);
      const message = messages.get(scope, req.params.sessionId, req.params.messageId);
      return { ...message, annotations: annotations.ofMessages(scope, [message.id]).get(message.id) ?? [] };
    });
  app.patch('/sessions/:sessionId/messages/:messageId', { config: { scope: 'messages' }, schema: { ...m, params: params('sessionId', 'messageId'), body: MessageUpdate, response: responses(200, Message) } },
    async (req) => commit(() => messages.update(scopeOf(req), req.params.sessionId, req.params.messageId, req.body)));
  app.delete('/sessions/:sessionId/messages/:messageId', { config: { scope: 'messages' }, schema: { ...m, params: params('sessionId', 'messageId'), response: noContent } },
    async (req, reply) => {
      await commit(() => messages.remove(scopeOf(req), req.params.sessionId, req.params.messageId));
      return reply.code(204).send(null);
    });

  const a = { tags: ['annotations'] };
  app.get('/sessions/:sessionId/annotations', { config: { scope: 'messages' }, schema: { ...a, params: params('sessionId'), response: responses(200, Type.Object({ items: Type.Array(Annotation) })) } },
    async (req) => ({ items: annotations.list(scopeOf(req), req.params.sessionId, null) }));
  app.post('/sessions/:sessionId/annotations', { config: { scope: 'messages' }, schema: { ...a, params: params('sessionId'), body: AnnotationCreate, response: responses(201, Annotation) } },
    async (req, reply) => reply.code(201).send(await commit(() => annotations.create(scopeOf(req), req.params.sessionId, null, req.body, actorOf(req)))));
  app.get('/sessions/:sessionId/messages/:messageId/annotations', { config: { scope: 'messages' }, schema: { ...a, params: params('sessionId', 'messageId'), response: responses(200, Type.Object({ items: Type.Array(Annotation) })) } },
    async (req) => ({ items: annotations.list(scopeOf(req), req.params.sessionId, req.params.messageId) }));
  app.post('/sessions/:sessionId/messages/:messageId/annotations', { config: { scope: 'messages' }, schema: { ...a, params: params('sessionId', 'messageId'), body: AnnotationCreate, response: responses(201, Annotation) } },
    async (req, reply) => reply.code(201).send(await commit(() => annotations.create(scopeOf(req), req.params.sessionId, req.params.messageId, req.body, actorOf(req)))));
}

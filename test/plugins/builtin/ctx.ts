/**
 * Test helpers for the built-in plugins: real-shaped domain events and an in-memory
 * PluginContext whose `recentMessages` behaves like the host's (oldest first, newest last,
 * up to and including the current message, `sinceSeconds` relative to it, `limit` ≤ 500).
 */
import type { DomainEvent, EventType } from '../../../common/events.js';
import type { Message, Session } from '../../../common/schemas.js';
import type { AnnotationDraft, PluginContext, PluginOutput, PluginResult, RecentMessagesQuery } from '../../../main/plugins/api.js';

export const SESSION_ID = 'sess-1';
export const PROJECT_ID = 'proj-1';
const BASE_TIME = Date.parse('2025-03-01T12:00:00.000Z');

let counter = 0;

/** A user message; `at` is seconds after a fixed base time. */
export function message(content: string, opts: { at?: number; participantId?: string | null; senderName?: string | null; type?: 'user' | 'system' } = {}): Message {
  counter++;
  return {
    id: `msg-${counter}`,
    sessionId: SESSION_ID,
    participantId: opts.participantId === undefined ? 'p-alice' : opts.participantId,
    type: opts.type ?? 'user',
    senderName: opts.senderName === undefined ? 'Alice' : opts.senderName,
    content,
    timestamp: new Date(BASE_TIME + (opts.at ?? 0) * 1000).toISOString(),
    language: null,
    hasDebugAudio: false,
  };
}

function envelope<D>(type: string, resourceId: string, data: D, action: 'created' | 'updated' | 'occurred'): DomainEvent {
  counter++;
  return {
    id: `evt-${counter}`,
    seq: counter,
    type: type as EventType,
    source: 'api',
    tenantId: 'tenant-1',
    projectId: PROJECT_ID,
    resourceId,
    timestamp: new Date(BASE_TIME).toISOString(),
    payload: { action, data: data as unknown as Record<string, unknown> },
  };
}

export function messageEvent(msg: Message): DomainEvent {
  return envelope('message.created', `message:${msg.id}`, msg, 'created');
}

export function session(overrides: Partial<Session> = {}): Session {
  return {
    id: SESSION_ID,
    tenantId: 'tenant-1',
    projectId: PROJECT_ID,
    externalRoomId: null,
    gateway: null,
    title: 'Test session',
    status: 'ended',
    idleTimeout: null,
    createdByUserId: null,
    createdAt: new Date(BASE_TIME).toISOString(),
    startedAt: new Date(BASE_TIME).toISOString(),
    endedAt: new Date(BASE_TIME + 3_600_000).toISOString(),
    summary: null,
    adapter: null,
    adapterConfig: null,
    ...overrides,
  };
}

/** `session.ended` (action updated) or `session.summary.requested` (action occurred). */
export function sessionEvent(type: 'session.ended' | 'session.summary.requested' | 'session.created', data: Session = session()): DomainEvent {
  return envelope(type, `session:${data.id}`, data, type === 'session.summary.requested' ? 'occurred' : type === 'session.created' ? 'created' : 'updated');
}

export type TestContext<S> = PluginContext<S> & {
  queries: RecentMessagesQuery[];
  logs: { level: string; msg: string; data?: Record<string, unknown> }[];
};

/**
 * An in-memory context. `messages` is the session's history, oldest first; `current` (a message
 * in it) bounds what `recentMessages` returns, as for a message event.
 */
export function makeCtx<S>(settings: S, opts: { messages?: Message[]; current?: Message; session?: Session } = {}): TestContext<S> {
  const all = opts.messages ?? [];
  const queries: RecentMessagesQuery[] = [];
  const logs: TestContext<S>['logs'] = [];
  const log = (level: string) => (msg: string, data?: Record<string, unknown>) => void logs.push({ level, msg, ...(data && { data }) });
  return {
    settings,
    projectId: PROJECT_ID,
    queries,
    logs,
    session: async () => opts.session ?? session(),
    recentMessages: async (query: RecentMessagesQuery = {}) => {
      queries.push(query);
      let list = opts.current ? all.slice(0, all.indexOf(opts.current) + 1) : [...all];
      if (query.participantId !== undefined) list = list.filter((m) => m.participantId === query.participantId);
      if (query.sinceSeconds !== undefined) {
        const ref = opts.current ? Date.parse(opts.current.timestamp) : Math.max(...all.map((m) => Date.parse(m.timestamp)));
        list = list.filter((m) => Date.parse(m.timestamp) >= ref - query.sinceSeconds! * 1000);
      }
      const limit = Math.min(500, Math.max(1, query.limit ?? 50));
      return list.slice(-limit);
    },
    log: { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') },
  };
}

/** The annotations of a handler's output, whatever its shape. */
export function annotationsOf(output: PluginOutput): AnnotationDraft[] {
  if (!output) return [];
  if (Array.isArray(output)) return output;
  return output.annotations ?? [];
}

/** The single annotation of an output (fails the test unless there is exactly one). */
export function onlyAnnotation(output: PluginOutput): AnnotationDraft {
  const list = annotationsOf(output);
  if (list.length !== 1) throw new Error(`expected exactly one annotation, got ${list.length}: ${JSON.stringify(output)}`);
  return list[0]!;
}

export function resultOf(output: PluginOutput): PluginResult {
  if (!output) return {};
  return Array.isArray(output) ? { annotations: output } : output;
}

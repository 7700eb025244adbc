import type { Static } from '@sinclair/typebox';
import type { Message, MessageCreate, MessageUpdate } from '../../common/schemas.js';
import { notFound } from '../core/errors.js';
import { nowIso, uuidv7, uuidv7Floor } from '../store/ids.js';
import { changedFields, statementCache, type DomainDeps, type ProjectScope } from './context.js';
import { queryPage, type Page, type PageRequest } from './paging.js';
import type { ParticipantsModule } from './participants.js';
import type { SessionsModule } from './sessions.js';

interface MessageRow {
  id: string;
  session_id: string;
  participant_id: string | null;
  type: 'user' | 'system';
  sender_name: string | null;
  content: string;
  timestamp: string;
  language: string | null;
  has_debug_audio: number;
}

const toMessage = (r: MessageRow): Message => ({
  id: r.id,
  sessionId: r.session_id,
  participantId: r.participant_id,
  type: r.type,
  senderName: r.sender_name,
  content: r.content,
  timestamp: r.timestamp,
  language: r.language,
  hasDebugAudio: r.has_debug_audio === 1,
});

export const SYSTEM_SENDER = '[System]';

/** How much earlier than its posting a message's timestamp may be and still count in a recent-messages window. */
const POSTED_LATE_SLACK_MS = 60_000;

/**
 * The lowest message id a recent-messages window starting at `sinceMs` considers: the bound
 * lets an index scan stop at the window instead of running back through the whole session.
 */
export const windowFloorId = (sinceMs: number): string => uuidv7Floor(sinceMs - POSTED_LATE_SLACK_MS);

export type MessagesModule = ReturnType<typeof createMessages>;

/**
 * Messages of a session: typed chat, and transcripts the bot posts through the same
 * `create` that `POST …/sessions/{id}/messages` uses.
 */
export function createMessages({ db, events }: DomainDeps, sessions: SessionsModule, participants: ParticipantsModule) {
  const sql = statementCache(db);
  const insert = db.prepare(
    `INSERT INTO messages (id, tenant_id, project_id, session_id, participant_id, type, sender_name, content, timestamp, language, has_debug_audio, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const byId = db.prepare<[string, string, string, string], MessageRow>(
    'SELECT * FROM messages WHERE id = ? AND session_id = ? AND project_id = ? AND tenant_id = ?',
  );

  const emit = (scope: ProjectScope, type: 'message.created' | 'message.updated' | 'message.deleted' | 'message.redacted', m: Message, changes?: Record<string, unknown>) =>
    events.append({
      type, tenantId: scope.tenantId, projectId: scope.projectId, resourceId: `message:${m.id}`,
      action: type === 'message.created' ? 'created' : type === 'message.deleted' ? 'deleted' : 'updated',
      data: m, changes,
    });

  function create(scope: ProjectScope, sessionId: string, input: Static<typeof MessageCreate>, source?: string): Message {
    return events.write(() => {
      sessions.requireActive(scope, sessionId);
      const participant = participants.resolve(scope, { ...input, displayName: input.senderName });
      const type = input.type ?? 'user';
      const now = nowIso();
      const m: Message = {
        id: uuidv7(),
        sessionId,
        participantId: participant?.id ?? null,
        type,
        senderName: type === 'system' ? SYSTEM_SENDER : (input.senderName ?? participant?.displayName ?? null),
        content: input.content,
        timestamp: input.timestamp ?? now,
        language: input.language ?? null,
        hasDebugAudio: input.hasDebugAudio ?? false,
      };
      if (participant) participants.markJoined(scope, sessionId, participant);
      insert.run(m.id, scope.tenantId, scope.projectId, sessionId, m.participantId, m.type, m.senderName, m.content, m.timestamp, m.language, m.hasDebugAudio ? 1 : 0, now);
      sessions.touch(sessionId, now);
      emit(scope, 'message.created', m);
      return m;
    }, source);
  }

  function getRow(scope: ProjectScope, sessionId: string, id: string): MessageRow {
    const row = byId.get(id, sessionId, scope.projectId, scope.tenantId);
    if (!row) throw notFound('message', 'params/messageId');
    return row;
  }

  /** Chat order: oldest first. `annotated` keeps messages with an annotation of that type (scored at least `minScore`). */
  function list(scope: ProjectScope, sessionId: string, q: PageRequest & { annotated?: string; minScore?: number }): Page<Message> {
    sessions.get(scope, sessionId);
    const where: [string, ...unknown[]][] = [['session_id = ?', sessionId], ['tenant_id = ?', scope.tenantId]];
    if (q.annotated !== undefined || q.minScore !== undefined) {
      const clauses = ['a.message_id = messages.id'];
      const args: unknown[] = [];
      if (q.annotated !== undefined) {
        clauses.push('a.type = ?');
        args.push(q.annotated);
      }
      if (q.minScore !== undefined) {
        clauses.push('a.score >= ?');
        args.push(q.minScore);
      }
      where.push([`EXISTS (SELECT 1 FROM annotations a WHERE ${clauses.join(' AND ')})`, ...args]);
    }
    return queryPage(sql, 'SELECT * FROM messages', where, q, 'asc', toMessage);
  }

  function update(scope: ProjectScope, sessionId: string, id: string, patch: Static<typeof MessageUpdate>): Message {
    return events.write(() => {
      const before = toMessage(getRow(scope, sessionId, id));
      const after: Message = {
        ...before,
        ...(patch.content !== undefined && { content: patch.content }),
        ...(patch.language !== undefined && { language: patch.language }),
      };
      const changes = changedFields(before, after);
      if (!changes) return before;
      sql('UPDATE messages SET content = ?, language = ?, updated_at = ? WHERE id = ?').run(after.content, after.language, nowIso(), id);
      emit(scope, 'message.updated', after, changes);
      return after;
    });
  }

  function remove(scope: ProjectScope, sessionId: string, id: string): void {
    events.write(() => {
      const m = toMessage(getRow(scope, sessionId, id));
      sql('DELETE FROM messages WHERE id = ?').run(id);
      emit(scope, 'message.deleted', m);
    });
  }

  /**
   * Replaces a message's stored text and the text in the event that carried it (`originSeq`), so
   * the original is kept nowhere in the database; emits message.redacted (without the original).
   * Inside the caller's `write()`; false when the message is gone or already has this text.
   */
  function redact(scope: ProjectScope, sessionId: string, id: string, content: string, originSeq: number): boolean {
    const row = byId.get(id, sessionId, scope.projectId, scope.tenantId);
    if (!row || row.content === content) return false;
    sql('UPDATE messages SET content = ?, updated_at = ? WHERE id = ?').run(content, nowIso(), id);
    events.redactContent(originSeq, content);
    emit(scope, 'message.redacted', { ...toMessage(row), content });
    return true;
  }

  /**
   * The newest messages of a session, returned oldest first (for plugin contexts). With `upToId`,
   * only messages up to and including it, and `sinceSeconds` counts back from its timestamp.
   */
  function recent(scope: ProjectScope, sessionId: string, q: { upToId?: string | null; participantId?: string; sinceSeconds?: number; limit: number }): Message[] {
    const where = ['session_id = ?', 'tenant_id = ?'];
    const args: unknown[] = [sessionId, scope.tenantId];
    const anchor = q.upToId ? byId.get(q.upToId, sessionId, scope.projectId, scope.tenantId) : undefined;
    if (q.upToId) {
      where.push('id <= ?');
      args.push(q.upToId);
    }
    if (q.participantId) {
      where.push('participant_id = ?');
      args.push(q.participantId);
    }
    if (q.sinceSeconds !== undefined) {
      const since = Date.parse(anchor?.timestamp ?? nowIso()) - q.sinceSeconds * 1000;
      where.push('timestamp >= ?', 'id >= ?');
      args.push(new Date(since).toISOString(), windowFloorId(since));
    }
    // Without statistics the planner prefers messages_session (it matches ORDER BY id), which would
    // scan every speaker's messages; one speaker's are on their own index.
    const index = q.participantId ? 'INDEXED BY messages_participant' : '';
    const rows = sql(`SELECT * FROM messages ${index} WHERE ${where.join(' AND ')} ORDER BY id DESC LIMIT ?`).all(...args, q.limit) as MessageRow[];
    return rows.reverse().map(toMessage);
  }

  const exists = (scope: ProjectScope, sessionId: string, id: string) => byId.get(id, sessionId, scope.projectId, scope.tenantId) !== undefined;

  return { create, list, redact, recent, exists, get: (scope: ProjectScope, sessionId: string, id: string) => toMessage(getRow(scope, sessionId, id)), update, remove };
}

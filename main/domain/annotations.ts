import type { Static } from '@sinclair/typebox';
import type { Annotation, AnnotationCreate } from '../../common/schemas.js';
import { nowIso, uuidv7, uuidv7Floor } from '../store/ids.js';
import { fromJson, statementCache, toJson, type DomainDeps, type ProjectScope } from './context.js';
import type { MessagesModule } from './messages.js';
import { queryPage, type Page, type PageRequest } from './paging.js';
import type { SessionsModule } from './sessions.js';

interface AnnotationRow {
  id: string;
  session_id: string;
  message_id: string | null;
  participant_id: string | null;
  target_type: 'message' | 'session';
  plugin_id: string | null;
  type: string;
  score: number | null;
  severity: Annotation['severity'];
  content: string | null;
  created_at: string;
}

export const toAnnotation = (r: AnnotationRow): Annotation => ({
  id: r.id,
  targetType: r.target_type,
  targetId: r.message_id ?? r.session_id,
  sessionId: r.session_id,
  messageId: r.message_id,
  participantId: r.participant_id,
  pluginId: r.plugin_id,
  type: r.type,
  score: r.score,
  severity: r.severity,
  content: fromJson(r.content),
  createdAt: r.created_at,
});

/** What a plugin run wants written; `originSeq`/`ordinal` make a replay unable to write it twice. */
export interface PluginAnnotation {
  scope: ProjectScope;
  sessionId: string;
  messageId: string | null;
  participantId: string | null;
  pluginId: string;
  originSeq: number;
  ordinal: number;
  type: string;
  score: number | null;
  severity: Annotation['severity'];
  content: Record<string, unknown> | null;
}

export type AnnotationsModule = ReturnType<typeof createAnnotations>;

/** Annotations plugins (and moderators) attach to messages and sessions. Owns `annotations`. */
export function createAnnotations({ db, events }: DomainDeps, sessions: SessionsModule, messages: MessagesModule) {
  const sql = statementCache(db);
  const insert = db.prepare(
    `INSERT OR IGNORE INTO annotations (id, tenant_id, project_id, session_id, message_id, participant_id, target_type, plugin_id, type, source,
       score, severity, content, origin_seq, origin_ordinal, created_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );

  /** Inserts and emits; null when (plugin, origin event, ordinal) was already written. Inside `events.write`. */
  function write(scope: ProjectScope, a: Annotation, source: string, origin: { seq: number; ordinal: number } | null): Annotation | null {
    const info = insert.run(
      a.id, scope.tenantId, scope.projectId, a.sessionId, a.messageId, a.participantId, a.targetType, a.pluginId, a.type, source,
      a.score, a.severity, toJson(a.content), origin?.seq ?? null, origin?.ordinal ?? null, a.createdAt,
    );
    if (info.changes === 0) return null;
    events.append({
      type: a.messageId ? 'message.annotation.created' : 'session.annotation.created',
      tenantId: scope.tenantId, projectId: scope.projectId,
      resourceId: a.messageId ? `message:${a.messageId}` : `session:${a.sessionId}`,
      action: 'created', data: a,
    });
    return a;
  }

  function create(scope: ProjectScope, sessionId: string, messageId: string | null, input: Static<typeof AnnotationCreate>, source = 'api'): Annotation {
    return events.write(() => {
      sessions.get(scope, sessionId);
      const m = messageId ? messages.get(scope, sessionId, messageId) : null;
      const a: Annotation = {
        id: uuidv7(),
        targetType: messageId ? 'message' : 'session',
        targetId: messageId ?? sessionId,
        sessionId,
        messageId,
        participantId: m?.participantId ?? null,
        pluginId: null,
        type: input.type,
        score: input.score ?? null,
        severity: input.severity ?? null,
        content: input.content ?? null,
        createdAt: nowIso(),
      };
      return write(scope, a, source, null)!;
    });
  }

  /** A plugin's annotation; the caller (the plugin runner) is inside `events.write` and has checked the target exists. */
  function createFromPlugin(p: PluginAnnotation): Annotation | null {
    const a: Annotation = {
      id: uuidv7(),
      targetType: p.messageId ? 'message' : 'session',
      targetId: p.messageId ?? p.sessionId,
      sessionId: p.sessionId,
      messageId: p.messageId,
      participantId: p.participantId,
      pluginId: p.pluginId,
      type: p.type,
      score: p.score,
      severity: p.severity,
      content: p.content,
      createdAt: nowIso(),
    };
    return write(p.scope, a, `plugin:${p.pluginId}`, { seq: p.originSeq, ordinal: p.ordinal });
  }

  function list(scope: ProjectScope, sessionId: string, messageId: string | null): Annotation[] {
    sessions.get(scope, sessionId);
    if (messageId) messages.get(scope, sessionId, messageId);
    const rows = (messageId
      ? sql('SELECT * FROM annotations WHERE message_id = ? AND tenant_id = ? ORDER BY id').all(messageId, scope.tenantId)
      : sql('SELECT * FROM annotations WHERE session_id = ? AND tenant_id = ? AND message_id IS NULL ORDER BY id').all(sessionId, scope.tenantId)) as AnnotationRow[];
    return rows.map(toAnnotation);
  }

  /** Annotations of these messages, grouped by message id (for embedding in message reads). */
  function ofMessages(scope: ProjectScope, messageIds: readonly string[]): Map<string, Annotation[]> {
    const byMessage = new Map<string, Annotation[]>();
    for (let i = 0; i < messageIds.length; i += 500) {
      const ids = messageIds.slice(i, i + 500);
      const rows = sql(`SELECT * FROM annotations WHERE tenant_id = ? AND message_id IN (${ids.map(() => '?').join(',')}) ORDER BY id`)
        .all(scope.tenantId, ...ids) as AnnotationRow[];
      for (const r of rows) {
        const list = byMessage.get(r.message_id!) ?? [];
        list.push(toAnnotation(r));
        byMessage.set(r.message_id!, list);
      }
    }
    return byMessage;
  }

  /**
   * The project's annotations, newest first: those created at or after `since` (by id, which is
   * time-ordered, so the primary key serves the range), optionally only at or above `minScore`,
   * of one `type` or `targetType`. Feeds "flagged in the last hour" views.
   */
  function recent(scope: ProjectScope, q: PageRequest & { since?: string; minScore?: number; type?: string; targetType?: Annotation['targetType'] }): Page<Annotation> {
    const where: [string, ...unknown[]][] = [['tenant_id = ?', scope.tenantId], ['project_id = ?', scope.projectId]];
    if (q.since !== undefined) where.push(['id >= ?', uuidv7Floor(Date.parse(q.since))]);
    if (q.minScore !== undefined) where.push(['score >= ?', q.minScore]);
    if (q.type !== undefined) where.push(['type = ?', q.type]);
    if (q.targetType !== undefined) where.push(['target_type = ?', q.targetType]);
    return queryPage(sql, 'SELECT * FROM annotations', where, q, 'desc', toAnnotation);
  }

  return { create, createFromPlugin, list, ofMessages, recent };
}

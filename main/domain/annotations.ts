import type { Static } from '@sinclair/typebox';
import type { Annotation, AnnotationCreate } from '../../common/schemas.js';
import { nowIso, uuidv7 } from '../store/ids.js';
import { fromJson, statementCache, toJson, type DomainDeps, type ProjectScope } from './context.js';
import type { MessagesModule } from './messages.js';
import type { SessionsModule } from './sessions.js';

interface AnnotationRow {
  id: string;
  session_id: string;
  message_id: string | null;
  kind: string;
  source: string;
  label: string | null;
  score: number | null;
  data: string | null;
  created_at: string;
}

const toAnnotation = (r: AnnotationRow): Annotation => ({
  id: r.id,
  sessionId: r.session_id,
  messageId: r.message_id,
  kind: r.kind,
  source: r.source,
  label: r.label,
  score: r.score,
  data: fromJson(r.data),
  createdAt: r.created_at,
});

/** Annotations plugins (and moderators) attach to messages and sessions. */
export function createAnnotations({ db, events }: DomainDeps, sessions: SessionsModule, messages: MessagesModule) {
  const sql = statementCache(db);

  function create(scope: ProjectScope, sessionId: string, messageId: string | null, input: Static<typeof AnnotationCreate>, source = 'api'): Annotation {
    return events.write(() => {
      sessions.get(scope, sessionId);
      if (messageId) messages.get(scope, sessionId, messageId);
      const a: Annotation = {
        id: uuidv7(),
        sessionId,
        messageId,
        kind: input.kind,
        source: input.source ?? source,
        label: input.label ?? null,
        score: input.score ?? null,
        data: input.data ?? null,
        createdAt: nowIso(),
      };
      sql(
        `INSERT INTO annotations (id, tenant_id, project_id, session_id, message_id, kind, source, label, score, data, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(a.id, scope.tenantId, scope.projectId, sessionId, messageId, a.kind, a.source, a.label, a.score, toJson(a.data), a.createdAt);
      events.append({
        type: messageId ? 'message.annotation.created' : 'session.annotation.created',
        tenantId: scope.tenantId, projectId: scope.projectId,
        resourceId: messageId ? `message:${messageId}` : `session:${sessionId}`,
        action: 'created', data: a,
      });
      return a;
    });
  }

  function list(scope: ProjectScope, sessionId: string, messageId: string | null): Annotation[] {
    sessions.get(scope, sessionId);
    if (messageId) messages.get(scope, sessionId, messageId);
    const rows = (messageId
      ? sql('SELECT * FROM annotations WHERE message_id = ? AND tenant_id = ? ORDER BY id').all(messageId, scope.tenantId)
      : sql('SELECT * FROM annotations WHERE session_id = ? AND tenant_id = ? AND message_id IS NULL ORDER BY id').all(sessionId, scope.tenantId)) as AnnotationRow[];
    return rows.map(toAnnotation);
  }

  return { create, list };
}

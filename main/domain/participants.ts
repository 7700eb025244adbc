import type { Static } from '@sinclair/typebox';
import type { Participant, ParticipantCreate, ParticipantUpdate, SessionParticipantJoin } from '../../common/schemas.js';
import { conflict, invalid, notFound } from '../core/errors.js';
import { nowIso, uuidv7 } from '../store/ids.js';
import { changedFields, fromJson, statementCache, toJson, type DomainDeps, type ProjectScope } from './context.js';
import { queryPage, type Page, type PageRequest } from './paging.js';
import type { SessionsModule } from './sessions.js';

interface ParticipantRow {
  id: string;
  tenant_id: string;
  project_id: string;
  external_user_id: string;
  display_name: string | null;
  user_data: string | null;
  joined_at: string;
}

const toParticipant = (r: ParticipantRow): Participant => ({
  id: r.id,
  externalUserId: r.external_user_id,
  displayName: r.display_name,
  userData: fromJson(r.user_data),
  joinedAt: r.joined_at,
});

export type ParticipantsModule = ReturnType<typeof createParticipants>;

/** Participants (players known to a project) and their presence in sessions. */
export function createParticipants({ db, events }: DomainDeps, sessions: SessionsModule) {
  const sql = statementCache(db);
  const byId = db.prepare<[string, string, string], ParticipantRow>(
    'SELECT * FROM participants WHERE id = ? AND project_id = ? AND tenant_id = ?',
  );
  const byExternal = db.prepare<[string, string, string], ParticipantRow>(
    'SELECT * FROM participants WHERE external_user_id = ? AND project_id = ? AND tenant_id = ?',
  );
  const insert = db.prepare(
    `INSERT INTO participants (id, tenant_id, project_id, external_user_id, display_name, user_data, joined_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const inSession = db.prepare<[string, string], { left_at: string | null }>(
    'SELECT left_at FROM session_participants WHERE session_id = ? AND participant_id = ?',
  );
  const join = db.prepare(
    `INSERT INTO session_participants (tenant_id, project_id, session_id, participant_id, joined_at) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT(session_id, participant_id) DO UPDATE SET joined_at = excluded.joined_at, left_at = NULL`,
  );

  const emit = (scope: ProjectScope, type: 'participant.created' | 'participant.updated' | 'participant.joined' | 'participant.left', data: object, changes?: Record<string, unknown>) =>
    events.append({
      type, tenantId: scope.tenantId, projectId: scope.projectId,
      resourceId: `participant:${(data as { id: string }).id}`,
      action: type === 'participant.created' ? 'created' : type === 'participant.updated' ? 'updated' : 'occurred',
      data, changes,
    });

  function get(scope: ProjectScope, id: string, field = 'params/participantId'): Participant {
    const row = byId.get(id, scope.projectId, scope.tenantId);
    if (!row) throw notFound('participant', field);
    return toParticipant(row);
  }

  function insertNew(scope: ProjectScope, input: Static<typeof ParticipantCreate>): Participant {
    const now = nowIso();
    const p: Participant = {
      id: uuidv7(),
      externalUserId: input.externalUserId,
      displayName: input.displayName ?? null,
      userData: input.userData ?? null,
      joinedAt: now,
    };
    insert.run(p.id, scope.tenantId, scope.projectId, p.externalUserId, p.displayName, toJson(p.userData), now, now);
    emit(scope, 'participant.created', p);
    return p;
  }

  function create(scope: ProjectScope, input: Static<typeof ParticipantCreate>): Participant {
    return events.write(() => {
      if (byExternal.get(input.externalUserId, scope.projectId, scope.tenantId)) {
        throw conflict('a participant with this externalUserId exists', 'body/externalUserId');
      }
      return insertNew(scope, input);
    });
  }

  /** The participant with this external id, created on first sight. Call inside `events.write`. */
  function ensure(scope: ProjectScope, externalUserId: string, displayName?: string | null): Participant {
    const row = byExternal.get(externalUserId, scope.projectId, scope.tenantId);
    return row ? toParticipant(row) : insertNew(scope, { externalUserId, displayName: displayName ?? null });
  }

  function update(scope: ProjectScope, id: string, patch: Static<typeof ParticipantUpdate>): Participant {
    return events.write(() => {
      const before = get(scope, id);
      const after: Participant = {
        ...before,
        ...(patch.displayName !== undefined && { displayName: patch.displayName }),
        ...(patch.userData !== undefined && { userData: patch.userData }),
      };
      const changes = changedFields(before, after);
      if (!changes) return before;
      sql('UPDATE participants SET display_name = ?, user_data = ?, updated_at = ? WHERE id = ?').run(
        after.displayName, toJson(after.userData), nowIso(), id,
      );
      emit(scope, 'participant.updated', after, changes);
      return after;
    });
  }

  /** Newest first; `q` matches a case-insensitive substring of externalUserId or displayName. */
  function list(scope: ProjectScope, q: PageRequest & { q?: string }): Page<Participant> {
    const where: [string, ...unknown[]][] = [['project_id = ?', scope.projectId], ['tenant_id = ?', scope.tenantId]];
    if (q.q) {
      const like = `%${q.q.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      where.push([`(lower(external_user_id) LIKE ? ESCAPE '\\' OR lower(coalesce(display_name, '')) LIKE ? ESCAPE '\\')`, like, like]);
    }
    return queryPage(sql, 'SELECT * FROM participants', where, q, 'desc', toParticipant);
  }

  /** The sessions the participant joined, most recently joined first, with how many messages they posted there. */
  function sessionsOf(scope: ProjectScope, id: string, limit: number): { sessionId: string; joinedAt: string; leftAt: string | null; messageCount: number }[] {
    get(scope, id);
    const rows = sql(
      `SELECT sp.session_id, sp.joined_at, sp.left_at,
         (SELECT COUNT(*) FROM messages m INDEXED BY messages_participant WHERE m.session_id = sp.session_id AND m.participant_id = sp.participant_id) AS message_count
       FROM session_participants sp WHERE sp.participant_id = ? AND sp.project_id = ? AND sp.tenant_id = ? ORDER BY sp.joined_at DESC LIMIT ?`,
    ).all(id, scope.projectId, scope.tenantId, limit) as { session_id: string; joined_at: string; left_at: string | null; message_count: number }[];
    return rows.map((r) => ({ sessionId: r.session_id, joinedAt: r.joined_at, leftAt: r.left_at, messageCount: r.message_count }));
  }

  /** Resolves `{participantId}` or `{externalUserId}` (created if unknown) to a participant. */
  function resolve(scope: ProjectScope, ref: { participantId?: string; externalUserId?: string; displayName?: string | null }): Participant | null {
    if (ref.participantId && ref.externalUserId) throw invalid('body/participantId', 'give participantId or externalUserId, not both');
    if (ref.participantId) return get(scope, ref.participantId, 'body/participantId');
    if (ref.externalUserId) return ensure(scope, ref.externalUserId, ref.displayName);
    return null;
  }

  /** Marks the participant present in the session (emits participant.joined once per stay). Inside `events.write`. */
  function markJoined(scope: ProjectScope, sessionId: string, p: Participant): void {
    const presence = inSession.get(sessionId, p.id);
    if (presence && presence.left_at === null) return;
    join.run(scope.tenantId, scope.projectId, sessionId, p.id, nowIso());
    emit(scope, 'participant.joined', { ...p, sessionId });
  }

  function joinSession(scope: ProjectScope, sessionId: string, input: Static<typeof SessionParticipantJoin>): Participant {
    return events.write(() => {
      sessions.requireActive(scope, sessionId);
      const p = resolve(scope, input);
      if (!p) throw invalid('body', 'participantId or externalUserId is required');
      markJoined(scope, sessionId, p);
      return p;
    });
  }

  function leaveSession(scope: ProjectScope, sessionId: string, participantId: string): void {
    events.write(() => {
      sessions.get(scope, sessionId);
      const p = get(scope, participantId);
      const presence = inSession.get(sessionId, participantId);
      if (!presence || presence.left_at !== null) throw notFound('participant in this session', 'params/participantId');
      sql('UPDATE session_participants SET left_at = ? WHERE session_id = ? AND participant_id = ?').run(nowIso(), sessionId, participantId);
      emit(scope, 'participant.left', { ...p, sessionId });
    });
  }

  function listInSession(scope: ProjectScope, sessionId: string): (Participant & { sessionJoinedAt: string; leftAt: string | null })[] {
    sessions.get(scope, sessionId);
    const rows = sql(
      `SELECT p.*, sp.joined_at AS sp_joined, sp.left_at AS sp_left FROM session_participants sp
       JOIN participants p ON p.id = sp.participant_id WHERE sp.session_id = ? AND sp.tenant_id = ? ORDER BY sp.joined_at`,
    ).all(sessionId, scope.tenantId) as (ParticipantRow & { sp_joined: string; sp_left: string | null })[];
    return rows.map((r) => ({ ...toParticipant(r), sessionJoinedAt: r.sp_joined, leftAt: r.sp_left }));
  }

  return { get, create, ensure, update, list, sessionsOf, resolve, markJoined, joinSession, leaveSession, listInSession };
}

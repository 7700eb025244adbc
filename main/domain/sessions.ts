import type { Static } from '@sinclair/typebox';
import type { Session, SessionCreate, SessionUpdate } from '../../common/schemas.js';
import { conflict, notFound } from '../core/errors.js';
import { nowIso, uuidv7 } from '../store/ids.js';
import { changedFields, fromJson, statementCache, toJson, type DomainDeps, type ProjectScope } from './context.js';
import { checkAdapterConfig } from './session-adapters.js';
import { queryPage, type Page, type PageRequest } from './paging.js';

interface SessionRow {
  id: string;
  tenant_id: string;
  project_id: string;
  external_room_id: string | null;
  gateway: string | null;
  title: string | null;
  status: 'active' | 'ended';
  idle_timeout: number | null;
  created_by_user_id: string | null;
  created_at: string;
  started_at: string | null;
  ended_at: string | null;
  summary: string | null;
  adapter: Session['adapter'];
  adapter_config: string | null;
}

const toSession = (r: SessionRow): Session => ({
  id: r.id,
  tenantId: r.tenant_id,
  projectId: r.project_id,
  externalRoomId: r.external_room_id,
  gateway: r.gateway,
  title: r.title,
  status: r.status,
  idleTimeout: r.idle_timeout,
  createdByUserId: r.created_by_user_id,
  createdAt: r.created_at,
  startedAt: r.started_at,
  endedAt: r.ended_at,
  summary: r.summary,
  adapter: r.adapter,
  adapterConfig: fromJson(r.adapter_config),
});

export type SessionsModule = ReturnType<typeof createSessions>;

/** Sessions: a room's moderation record. Owns `sessions`; emits session.* events. */
export function createSessions({ db, events }: DomainDeps) {
  const sql = statementCache(db);
  const byId = db.prepare<[string, string, string], SessionRow>(
    'SELECT * FROM sessions WHERE id = ? AND project_id = ? AND tenant_id = ?',
  );
  const touchStmt = db.prepare('UPDATE sessions SET last_activity_at = ? WHERE id = ?');
  // Idle timeouts are whole seconds, so last activity is recorded at most once a second per
  // session rather than on every message.
  const lastTouched = new Map<string, number>();
  function touch(id: string, at: string): void {
    const ms = Date.parse(at);
    if ((lastTouched.get(id) ?? 0) > ms - 1000) return;
    touchStmt.run(at, id);
    if (lastTouched.size > 10_000) lastTouched.clear();
    lastTouched.set(id, ms);
  }
  const idle = db.prepare<[string], SessionRow>(
    `SELECT * FROM sessions WHERE status = 'active' AND idle_timeout > 0
       AND started_at IS NOT NULL AND unixepoch(last_activity_at) + idle_timeout <= unixepoch(?)`,
  );

  const resource = (id: string) => `session:${id}`;

  function emit(s: Session, type: 'session.created' | 'session.updated' | 'session.deleted' | 'session.started' | 'session.ended', changes?: Record<string, unknown>) {
    const action = type === 'session.created' ? 'created' : type === 'session.deleted' ? 'deleted' : 'updated';
    events.append({ type, tenantId: s.tenantId, projectId: s.projectId, resourceId: resource(s.id), action, data: s, changes });
  }

  function getRow(scope: ProjectScope, id: string, field = 'params/sessionId'): SessionRow {
    const row = byId.get(id, scope.projectId, scope.tenantId);
    if (!row) throw notFound('session', field);
    return row;
  }

  function list(scope: ProjectScope, q: PageRequest & { status?: 'active' | 'ended' }): Page<Session> {
    const where: [string, unknown?][] = [['project_id = ?', scope.projectId], ['tenant_id = ?', scope.tenantId]];
    if (q.status) where.push(['status = ?', q.status]);
    return queryPage(sql, 'SELECT * FROM sessions', where, q, 'desc', toSession);
  }

  function create(scope: ProjectScope, input: Static<typeof SessionCreate>): Session {
    return events.write(() => {
      const now = nowIso();
      const start = input.start !== false && input.autoStart !== false;
      const adapter = input.adapter ?? null;
      const adapterConfig = checkAdapterConfig(adapter, input.adapterConfig ?? null, input.externalRoomId ?? null);
      const row: SessionRow = {
        id: uuidv7(),
        tenant_id: scope.tenantId,
        project_id: scope.projectId,
        external_room_id: input.externalRoomId ?? null,
        gateway: input.gateway ?? null,
        title: input.title ?? null,
        status: 'active',
        idle_timeout: input.idleTimeout ?? null,
        created_by_user_id: input.createdByUserId ?? null,
        created_at: now,
        started_at: start ? now : null,
        ended_at: null,
        summary: input.summary ?? null,
        adapter,
        adapter_config: toJson(adapterConfig),
      };
      sql(
        `INSERT INTO sessions (id, tenant_id, project_id, external_room_id, gateway, title, status, idle_timeout,
           created_by_user_id, created_at, started_at, ended_at, summary, last_activity_at, adapter, adapter_config)
         VALUES (@id, @tenant_id, @project_id, @external_room_id, @gateway, @title, @status, @idle_timeout,
           @created_by_user_id, @created_at, @started_at, @ended_at, @summary, @created_at, @adapter, @adapter_config)`,
      ).run(row);
      const session = toSession(row);
      emit(session, 'session.created');
      if (start) emit(session, 'session.started');
      return session;
    });
  }

  function update(scope: ProjectScope, id: string, patch: Static<typeof SessionUpdate>): Session {
    return events.write(() => {
      const before = toSession(getRow(scope, id));
      const after: Session = {
        ...before,
        ...(patch.externalRoomId !== undefined && { externalRoomId: patch.externalRoomId }),
        ...(patch.gateway !== undefined && { gateway: patch.gateway }),
        ...(patch.title !== undefined && { title: patch.title }),
        ...(patch.idleTimeout !== undefined && { idleTimeout: patch.idleTimeout }),
        ...(patch.summary !== undefined && { summary: patch.summary }),
      };
      const changes = changedFields(before, after);
      if (!changes) return before;
      sql('UPDATE sessions SET external_room_id = ?, gateway = ?, title = ?, idle_timeout = ?, summary = ? WHERE id = ?').run(
        after.externalRoomId, after.gateway, after.title, after.idleTimeout, after.summary, id,
      );
      emit(after, 'session.updated', changes);
      return after;
    });
  }

  function remove(scope: ProjectScope, id: string): void {
    events.write(() => {
      const s = toSession(getRow(scope, id));
      sql('DELETE FROM sessions WHERE id = ?').run(id);
      emit(s, 'session.deleted');
    });
  }

  /** Starts a new or ended session; starting a running one changes nothing. */
  function start(scope: ProjectScope, id: string): Session {
    return events.write(() => {
      const before = toSession(getRow(scope, id));
      if (before.status === 'active' && before.startedAt) return before;
      const now = nowIso();
      const after: Session = { ...before, status: 'active', startedAt: now, endedAt: null };
      sql('UPDATE sessions SET status = ?, started_at = ?, ended_at = NULL, last_activity_at = ? WHERE id = ?').run('active', now, now, id);
      emit(after, 'session.started', changedFields(before, after) ?? undefined);
      return after;
    });
  }

  /** Ends a session; ending an ended one changes nothing. */
  function stop(scope: ProjectScope, id: string, reason = 'stopped'): Session {
    return events.write(() => {
      const before = toSession(getRow(scope, id));
      if (before.status === 'ended') return before;
      const after: Session = { ...before, status: 'ended', endedAt: nowIso() };
      sql('UPDATE sessions SET status = ?, ended_at = ? WHERE id = ?').run('ended', after.endedAt, id);
      events.append({
        type: 'session.ended', tenantId: after.tenantId, projectId: after.projectId, resourceId: resource(id),
        action: 'updated', data: { ...after, endReason: reason }, changes: changedFields(before, after) ?? undefined,
      });
      return after;
    });
  }

  /** For messages: the session must exist in scope and still be running. */
  /** Running sessions that have a bot adapter, across tenants (resumed after a restart). */
  function runningWithBots(): Session[] {
    return (sql(`SELECT * FROM sessions WHERE status = 'active' AND started_at IS NOT NULL AND adapter IS NOT NULL`).all() as SessionRow[]).map(toSession);
  }

  function requireActive(scope: ProjectScope, id: string): Session {
    const s = toSession(getRow(scope, id));
    if (s.status === 'ended') throw conflict('session has ended', 'params/sessionId');
    return s;
  }

  /** Ends sessions idle for longer than their idleTimeout. */
  function endIdle(now = nowIso()): number {
    const rows = idle.all(now);
    for (const r of rows) stop({ tenantId: r.tenant_id, projectId: r.project_id }, r.id, 'idle_timeout');
    return rows.length;
  }

  return {
    list,
    get: (scope: ProjectScope, id: string, field?: string) => toSession(getRow(scope, id, field)),
    exists: (scope: ProjectScope, id: string) => byId.get(id, scope.projectId, scope.tenantId) !== undefined,
    create,
    update,
    remove,
    start,
    stop,
    requireActive,
    touch,
    endIdle,
    runningWithBots,
    /** Active sessions of a tenant, all projects (the desktop tray's count). */
    countActive: (tenantId: string): number => (sql("SELECT count(*) AS n FROM sessions WHERE tenant_id = ? AND status = 'active'").get(tenantId) as { n: number }).n,
  };
}

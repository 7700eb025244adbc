import type { Static } from '@sinclair/typebox';
import type { Sanction, SanctionCreate } from '../../common/schemas.js';
import { conflict, invalid, notFound } from '../core/errors.js';
import { nowIso, uuidv7 } from '../store/ids.js';
import { canonicalTime, fromJson, statementCache, toJson, type DomainDeps, type ProjectScope } from './context.js';
import { queryPage, type Page, type PageRequest } from './paging.js';
import type { ParticipantsModule } from './participants.js';
import type { SessionsModule } from './sessions.js';

interface SanctionRow {
  id: string;
  tenant_id: string;
  project_id: string;
  participant_id: string | null;
  external_user_id: string | null;
  session_id: string | null;
  type: Sanction['type'];
  scope: string;
  reason: string | null;
  metadata: string | null;
  start_at: string;
  end_at: string | null;
  created_by_user_id: string | null;
  created_at: string;
  updated_at: string;
  revoked_at: string | null;
  revoked_by_user_id: string | null;
}

/** Status is derived from the times, never stored, so it cannot go stale. */
export function sanctionStatus(r: { revoked_at: string | null; end_at: string | null }, now = nowIso()): Sanction['status'] {
  if (r.revoked_at) return 'revoked';
  if (r.end_at !== null && r.end_at <= now) return 'expired';
  return 'active';
}

const toSanction = (r: SanctionRow, now = nowIso()): Sanction => ({
  id: r.id,
  participantId: r.participant_id,
  externalUserId: r.external_user_id,
  sessionId: r.session_id,
  type: r.type,
  scope: r.scope,
  reason: r.reason,
  metadata: fromJson(r.metadata),
  startAt: r.start_at,
  endAt: r.end_at,
  createdByUserId: r.created_by_user_id,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  revokedAt: r.revoked_at,
  revokedByUserId: r.revoked_by_user_id,
  status: sanctionStatus(r, now),
});

/** Sanctions against players. Owns `sanctions`; emits sanction.created/revoked/expired. */
export function createSanctions({ db, events }: DomainDeps, sessions: SessionsModule, participants: ParticipantsModule) {
  const sql = statementCache(db);
  const byId = db.prepare<[string, string, string], SanctionRow>('SELECT * FROM sanctions WHERE id = ? AND project_id = ? AND tenant_id = ?');
  const dueExpiry = db.prepare<[string], SanctionRow>(
    'SELECT * FROM sanctions WHERE expiry_emitted = 0 AND revoked_at IS NULL AND end_at IS NOT NULL AND end_at <= ? LIMIT 500',
  );

  const emit = (r: SanctionRow, type: 'sanction.created' | 'sanction.revoked' | 'sanction.expired', changes?: Record<string, unknown>) =>
    events.append({
      type, tenantId: r.tenant_id, projectId: r.project_id, resourceId: `sanction:${r.id}`,
      action: type === 'sanction.created' ? 'created' : type === 'sanction.revoked' ? 'updated' : 'occurred',
      data: toSanction(r), changes,
    });

  function create(scope: ProjectScope, input: Static<typeof SanctionCreate>): Sanction {
    return events.write(() => {
      if (!input.participantId && !input.externalUserId) throw invalid('body/externalUserId', 'participantId or externalUserId is required');
      if (input.endAt !== undefined && input.durationSeconds !== undefined) throw invalid('body/durationSeconds', 'give endAt or durationSeconds, not both');
      if (input.sessionId) sessions.get(scope, input.sessionId, 'body/sessionId');
      let participantId = input.participantId ?? null;
      let externalUserId = input.externalUserId ?? null;
      if (participantId) {
        const p = participants.get(scope, participantId, 'body/participantId');
        if (externalUserId && externalUserId !== p.externalUserId) throw invalid('body/externalUserId', 'does not match participantId');
        externalUserId = p.externalUserId;
      } else if (externalUserId) {
        participantId = participants.ensure(scope, externalUserId).id;
      }
      const now = nowIso();
      const startAt = input.startAt ? canonicalTime('body/startAt', input.startAt) : now;
      const endAt = input.durationSeconds
        ? new Date(Date.parse(startAt) + input.durationSeconds * 1000).toISOString()
        : input.endAt ? canonicalTime('body/endAt', input.endAt) : null;
      if (endAt !== null && endAt <= startAt) throw invalid('body/endAt', 'must be after startAt');
      if (input.type === 'temp_ban' && endAt === null) throw invalid('body/endAt', 'a temp_ban needs endAt or durationSeconds');
      if (input.type === 'perm_ban' && endAt !== null) throw invalid('body/endAt', 'a perm_ban has no end');
      const row: SanctionRow = {
        id: uuidv7(),
        tenant_id: scope.tenantId,
        project_id: scope.projectId,
        participant_id: participantId,
        external_user_id: externalUserId,
        session_id: input.sessionId ?? null,
        type: input.type,
        scope: input.scope ?? 'project',
        reason: input.reason ?? null,
        metadata: toJson(input.metadata),
        start_at: startAt,
        end_at: endAt,
        created_by_user_id: input.createdByUserId ?? null,
        created_at: now,
        updated_at: now,
        revoked_at: null,
        revoked_by_user_id: null,
      };
      sql(
        `INSERT INTO sanctions (id, tenant_id, project_id, participant_id, external_user_id, session_id, type, scope, reason, metadata,
           start_at, end_at, created_by_user_id, created_at, updated_at)
         VALUES (@id, @tenant_id, @project_id, @participant_id, @external_user_id, @session_id, @type, @scope, @reason, @metadata,
           @start_at, @end_at, @created_by_user_id, @created_at, @updated_at)`,
      ).run(row);
      emit(row, 'sanction.created');
      return toSanction(row);
    });
  }

  function get(scope: ProjectScope, id: string): Sanction {
    const row = byId.get(id, scope.projectId, scope.tenantId);
    if (!row) throw notFound('sanction', 'params/sanctionId');
    return toSanction(row);
  }

  function list(scope: ProjectScope, q: PageRequest & { active?: boolean; participantId?: string; externalUserId?: string; sessionId?: string }): Page<Sanction> {
    const now = nowIso();
    const where: [string, unknown?][] = [['project_id = ?', scope.projectId], ['tenant_id = ?', scope.tenantId]];
    if (q.active === true) where.push(['revoked_at IS NULL AND (end_at IS NULL OR end_at > ?)', now]);
    if (q.active === false) where.push(['(revoked_at IS NOT NULL OR (end_at IS NOT NULL AND end_at <= ?))', now]);
    if (q.participantId) where.push(['participant_id = ?', q.participantId]);
    if (q.externalUserId) where.push(['external_user_id = ?', q.externalUserId]);
    if (q.sessionId) where.push(['session_id = ?', q.sessionId]);
    return queryPage(sql, 'SELECT * FROM sanctions', where, q, 'desc', (r: SanctionRow) => toSanction(r, now));
  }

  /** Lifts an active sanction; a `reason` is kept as `metadata.revokeReason`. */
  function revoke(scope: ProjectScope, id: string, revokedByUserId: string | null, reason?: string | null): Sanction {
    return events.write(() => {
      const row = byId.get(id, scope.projectId, scope.tenantId);
      if (!row) throw notFound('sanction', 'params/sanctionId');
      const status = sanctionStatus(row);
      if (status !== 'active') throw conflict(`sanction is already ${status}`);
      const now = nowIso();
      const metadata = reason ? toJson({ ...(fromJson(row.metadata) ?? {}), revokeReason: reason }) : row.metadata;
      const after = { ...row, metadata, revoked_at: now, revoked_by_user_id: revokedByUserId, updated_at: now };
      sql('UPDATE sanctions SET metadata = ?, revoked_at = ?, revoked_by_user_id = ?, updated_at = ? WHERE id = ?').run(metadata, now, revokedByUserId, now, id);
      emit(after, 'sanction.revoked', { revokedAt: null, revokedByUserId: null, status, ...(metadata !== row.metadata && { metadata: fromJson(row.metadata) }) });
      return toSanction(after);
    });
  }

  /** Emits sanction.expired once for every sanction whose end has passed. */
  function emitExpired(now = nowIso()): number {
    return events.write(() => {
      const rows = dueExpiry.all(now);
      for (const r of rows) {
        sql('UPDATE sanctions SET expiry_emitted = 1 WHERE id = ?').run(r.id);
        emit(r, 'sanction.expired');
      }
      return rows.length;
    }, 'scheduler');
  }

  return { create, get, list, revoke, emitExpired };
}

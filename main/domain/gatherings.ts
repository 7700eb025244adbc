import type { Static } from '@sinclair/typebox';
import { randomBytes } from 'node:crypto';
import type { Gathering, GatheringCreate, GatheringMember, GatheringMemberAdd, GatheringMemberUpdate, GatheringUpdate } from '../../common/schemas.js';
import { stripUndefined } from '../../common/objects.js';
import { conflict, invalid, notFound } from '../core/errors.js';
import { nowIso, uuidv7 } from '../store/ids.js';
import { canonicalTime, changedFields, fromJson, statementCache, toJson, type DomainDeps, type ProjectScope } from './context.js';
import { queryPage, type Page, type PageRequest } from './paging.js';
import type { ParticipantsModule } from './participants.js';
import type { SessionsModule } from './sessions.js';

interface GatheringRow {
  id: string;
  tenant_id: string;
  project_id: string;
  name: string;
  description: string | null;
  type: Gathering['type'];
  status: Gathering['status'];
  max_members: number | null;
  access_policy: string;
  listed: number;
  starts_at: string | null;
  ends_at: string | null;
  timezone: string | null;
  room_id: string | null;
  auto_start_session: number;
  session_id: string | null;
  join_code: string | null;
  properties: string | null;
  owner_id: string | null;
  created_at: string;
  expires_at: string | null;
  member_count: number;
}

interface MemberRow {
  id: string;
  gathering_id: string;
  external_user_id: string;
  participant_id: string | null;
  role: GatheringMember['role'];
  state: GatheringMember['state'];
  joined_at: string | null;
  updated_at: string;
}

const toGathering = (r: GatheringRow): Gathering => ({
  id: r.id,
  name: r.name,
  description: r.description,
  type: r.type,
  status: r.status,
  maxMembers: r.max_members,
  memberCount: r.member_count,
  accessPolicy: r.access_policy,
  listed: r.listed === 1,
  startsAt: r.starts_at,
  endsAt: r.ends_at,
  timezone: r.timezone,
  roomId: r.room_id,
  autoStartSession: r.auto_start_session === 1,
  sessionId: r.session_id,
  joinCode: r.join_code,
  properties: fromJson(r.properties),
  ownerId: r.owner_id,
  createdAt: r.created_at,
  expiresAt: r.expires_at,
});

const toMember = (r: MemberRow): GatheringMember => ({
  id: r.id,
  gatheringId: r.gathering_id,
  externalUserId: r.external_user_id,
  participantId: r.participant_id,
  role: r.role,
  state: r.state,
  joinedAt: r.joined_at,
  updatedAt: r.updated_at,
});

const PRESENT = "state IN ('joined', 'ready')";
/** Members in these states count towards memberCount and maxMembers. */
const isPresent = (state: GatheringMember['state'] | undefined) => state === 'joined' || state === 'ready';
const TIME_FIELDS = ['startsAt', 'endsAt', 'expiresAt'] as const;

/** Canonical UTC times, and endsAt after startsAt. */
function checkTimes<T extends Partial<Record<(typeof TIME_FIELDS)[number], string | null>>>(input: T, current?: Pick<Gathering, 'startsAt' | 'endsAt'>): T {
  const out = { ...input };
  for (const f of TIME_FIELDS) {
    const v = out[f];
    if (typeof v === 'string') (out as Record<string, unknown>)[f] = canonicalTime(`body/${f}`, v);
  }
  const startsAt = out.startsAt !== undefined ? out.startsAt : current?.startsAt;
  const endsAt = out.endsAt !== undefined ? out.endsAt : current?.endsAt;
  if (startsAt && endsAt && endsAt <= startsAt) throw invalid('body/endsAt', 'must be after startsAt');
  return out;
}
const SELECT_GATHERING = `SELECT g.*, (SELECT count(*) FROM gathering_members m WHERE m.gathering_id = g.id AND m.${PRESENT}) AS member_count FROM gatherings g`;

/** Gatherings (lobbies, appointments, open rooms) and their members. */
export function createGatherings({ db, events }: DomainDeps, sessions: SessionsModule, participants: ParticipantsModule) {
  const sql = statementCache(db);
  const byId = db.prepare<[string, string, string], GatheringRow>(`${SELECT_GATHERING} WHERE g.id = ? AND g.project_id = ? AND g.tenant_id = ?`);
  const memberById = db.prepare<[string, string], MemberRow>('SELECT * FROM gathering_members WHERE id = ? AND gathering_id = ?');
  const memberByUser = db.prepare<[string, string], MemberRow>('SELECT * FROM gathering_members WHERE gathering_id = ? AND external_user_id = ?');

  function getRow(scope: ProjectScope, id: string): GatheringRow {
    const row = byId.get(id, scope.projectId, scope.tenantId);
    if (!row) throw notFound('gathering', 'params/gatheringId');
    return row;
  }
  const get = (scope: ProjectScope, id: string) => toGathering(getRow(scope, id));

  const emit = (scope: ProjectScope, type: 'gathering.created' | 'gathering.updated' | 'gathering.deleted', g: Gathering, changes?: Record<string, unknown>) =>
    events.append({
      type, tenantId: scope.tenantId, projectId: scope.projectId, resourceId: `gathering:${g.id}`,
      action: type === 'gathering.created' ? 'created' : type === 'gathering.updated' ? 'updated' : 'deleted', data: g, changes,
    });
  const emitMember = (scope: ProjectScope, type: 'gathering.member.joined' | 'gathering.member.left' | 'gathering.member.updated', m: GatheringMember, changes?: Record<string, unknown>) =>
    events.append({
      type, tenantId: scope.tenantId, projectId: scope.projectId, resourceId: `gathering:${m.gatheringId}`,
      action: type === 'gathering.member.updated' ? 'updated' : 'occurred', data: m, changes,
    });

  function create(scope: ProjectScope, raw: Static<typeof GatheringCreate>): Gathering {
    return events.write(() => {
      const input = checkTimes(raw);
      const now = nowIso();
      const type = input.type ?? 'lobby';
      const accessPolicy = input.accessPolicy ?? 'public';
      const row: Omit<GatheringRow, 'member_count'> = {
        id: uuidv7(),
        tenant_id: scope.tenantId,
        project_id: scope.projectId,
        name: input.name,
        description: input.description ?? null,
        type,
        status: type === 'appointment' && input.startsAt && input.startsAt > now ? 'pending' : 'active',
        max_members: input.maxMembers ?? null,
        access_policy: accessPolicy,
        listed: input.listed === false ? 0 : 1,
        starts_at: input.startsAt ?? null,
        ends_at: input.endsAt ?? null,
        timezone: input.timezone ?? null,
        room_id: input.roomId ?? null,
        auto_start_session: input.autoStartSession ? 1 : 0,
        session_id: null,
        join_code: accessPolicy === 'code' ? randomBytes(4).toString('hex').toUpperCase() : null,
        properties: toJson(input.properties),
        owner_id: input.ownerId ?? null,
        created_at: now,
        expires_at: input.expiresAt ?? null,
      };
      sql(
        `INSERT INTO gatherings (id, tenant_id, project_id, name, description, type, status, max_members, access_policy, listed, starts_at, ends_at,
           timezone, room_id, auto_start_session, session_id, join_code, properties, owner_id, created_at, updated_at, expires_at)
         VALUES (@id, @tenant_id, @project_id, @name, @description, @type, @status, @max_members, @access_policy, @listed, @starts_at, @ends_at,
           @timezone, @room_id, @auto_start_session, @session_id, @join_code, @properties, @owner_id, @created_at, @created_at, @expires_at)`,
      ).run(row);
      if (row.owner_id) insertMember(scope, row.id, row.owner_id, 'owner', 'joined');
      const g = get(scope, row.id);
      emit(scope, 'gathering.created', g);
      return g;
    });
  }

  function update(scope: ProjectScope, id: string, raw: Static<typeof GatheringUpdate>): Gathering {
    return events.write(() => {
      const before = get(scope, id);
      const patch = checkTimes(raw, before);
      let sessionId = before.sessionId;
      if (patch.status === 'started' && before.status !== 'started' && before.autoStartSession && !sessionId) {
        sessionId = sessions.create(scope, { title: before.name, externalRoomId: before.roomId ?? null }).id;
      }
      const after: Gathering = { ...before, ...stripUndefined(patch), sessionId };
      const changes = changedFields(before, after);
      if (!changes) return before;
      sql(
        `UPDATE gatherings SET name = ?, description = ?, status = ?, max_members = ?, access_policy = ?, listed = ?, starts_at = ?, ends_at = ?,
           timezone = ?, room_id = ?, auto_start_session = ?, session_id = ?, properties = ?, owner_id = ?, expires_at = ?, updated_at = ? WHERE id = ?`,
      ).run(
        after.name, after.description, after.status, after.maxMembers, after.accessPolicy, after.listed ? 1 : 0, after.startsAt, after.endsAt,
        after.timezone, after.roomId, after.autoStartSession ? 1 : 0, after.sessionId, toJson(after.properties), after.ownerId, after.expiresAt, nowIso(), id,
      );
      emit(scope, 'gathering.updated', after, changes);
      return after;
    });
  }

  function remove(scope: ProjectScope, id: string): void {
    events.write(() => {
      const g = get(scope, id);
      sql('DELETE FROM gatherings WHERE id = ?').run(id);
      emit(scope, 'gathering.deleted', g);
    });
  }

  function list(scope: ProjectScope, q: PageRequest): Page<Gathering> {
    return queryPage(sql, SELECT_GATHERING, [['g.project_id = ?', scope.projectId], ['g.tenant_id = ?', scope.tenantId]], q, 'desc', toGathering, 'g.id');
  }

  function insertMember(scope: ProjectScope, gatheringId: string, externalUserId: string, role: GatheringMember['role'], state: GatheringMember['state']): GatheringMember {
    const now = nowIso();
    const participant = participants.ensure(scope, externalUserId);
    const m: GatheringMember = {
      id: uuidv7(), gatheringId, externalUserId, participantId: participant.id, role, state,
      joinedAt: state === 'joined' ? now : null, updatedAt: now,
    };
    sql(
      `INSERT INTO gathering_members (id, tenant_id, project_id, gathering_id, external_user_id, participant_id, role, state, joined_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(m.id, scope.tenantId, scope.projectId, gatheringId, externalUserId, m.participantId, role, state, m.joinedAt, now);
    emitMember(scope, state === 'joined' ? 'gathering.member.joined' : 'gathering.member.updated', m);
    return m;
  }

  function addMember(scope: ProjectScope, gatheringId: string, input: Static<typeof GatheringMemberAdd>): GatheringMember {
    return events.write(() => {
      const g = get(scope, gatheringId);
      if (['ended', 'cancelled', 'expired'].includes(g.status)) throw conflict(`gathering is ${g.status}`);
      const state = input.state ?? 'joined';
      if (isPresent(state)) {
        if (g.accessPolicy === 'code' && input.joinCode !== g.joinCode) throw invalid('body/joinCode', 'wrong join code');
        if (g.maxMembers !== null && g.memberCount >= g.maxMembers) throw conflict('gathering is full');
      }
      const existing = memberByUser.get(gatheringId, input.externalUserId);
      if (existing && existing.state !== 'left') throw conflict('already a member', 'body/externalUserId');
      if (existing) return setMember(scope, g, existing, { state, ...(input.role && { role: input.role }) });
      return insertMember(scope, gatheringId, input.externalUserId, input.role ?? 'member', state);
    });
  }

  function setMember(scope: ProjectScope, g: Gathering, row: MemberRow, patch: Static<typeof GatheringMemberUpdate>): GatheringMember {
    const before = toMember(row);
    const now = nowIso();
    const joining = isPresent(patch.state) && !isPresent(before.state);
    if (joining && g.maxMembers !== null && g.memberCount >= g.maxMembers) throw conflict('gathering is full');
    const after: GatheringMember = { ...before, ...stripUndefined(patch), updatedAt: now, ...(joining && { joinedAt: now }) };
    const changes = changedFields({ ...before, updatedAt: '' }, { ...after, updatedAt: '' });
    if (!changes) return before;
    sql('UPDATE gathering_members SET role = ?, state = ?, joined_at = ?, updated_at = ? WHERE id = ?').run(after.role, after.state, after.joinedAt, now, after.id);
    const type = after.state === 'left' ? 'gathering.member.left' : joining ? 'gathering.member.joined' : 'gathering.member.updated';
    emitMember(scope, type, after, changes);
    return after;
  }

  function updateMember(scope: ProjectScope, gatheringId: string, memberId: string, patch: Static<typeof GatheringMemberUpdate>): GatheringMember {
    return events.write(() => {
      const g = get(scope, gatheringId);
      const row = memberById.get(memberId, gatheringId);
      if (!row) throw notFound('member', 'params/memberId');
      return setMember(scope, g, row, patch);
    });
  }

  function listMembers(scope: ProjectScope, gatheringId: string): GatheringMember[] {
    get(scope, gatheringId);
    return (sql('SELECT * FROM gathering_members WHERE gathering_id = ? ORDER BY id').all(gatheringId) as MemberRow[]).map(toMember);
  }

  return {
    create, update, remove, list, get, addMember, updateMember, listMembers,
    removeMember: (scope: ProjectScope, gatheringId: string, memberId: string) => updateMember(scope, gatheringId, memberId, { state: 'left' }),
  };
}


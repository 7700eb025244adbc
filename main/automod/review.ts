import type { ReviewItem, ReviewItemView, ReviewPriority, ReviewResolve } from '../../common/automod-schemas.js';
import type { Annotation, Message, Participant } from '../../common/schemas.js';
import { conflict, invalid, notFound, ProblemError } from '../core/errors.js';
import { statementCache, type DomainDeps, type ProjectScope } from '../domain/context.js';
import type { Domain } from '../domain/index.js';
import { pageLimit, type Page } from '../domain/paging.js';
import { nowIso, UUID_RE, uuidv7 } from '../store/ids.js';
import { checkSanctionAction, maxRank, rankOf } from './match.js';

interface ItemRow {
  id: string;
  tenant_id: string;
  project_id: string;
  session_id: string;
  message_id: string;
  participant_id: string | null;
  rule_id: string | null;
  priority: ReviewPriority;
  priority_rank: number;
  severity: Annotation['severity'];
  severity_rank: number;
  status: 'open' | 'resolved';
  decision: 'dismiss' | 'sanction' | null;
  sanction_id: string | null;
  note: string | null;
  resolved_by: string | null;
  resolved_at: string | null;
  created_at: string;
  updated_at: string;
}

interface Evidence {
  ruleIds: string[];
  annotationIds: string[];
}

/** What a rule hands the queue when it flags a message. */
export interface Flag {
  scope: ProjectScope;
  sessionId: string;
  messageId: string;
  participantId: string | null;
  ruleId: string | null;
  priority: ReviewPriority;
  /** The annotations acted on (their severities raise the item's). */
  evidence: readonly Pick<Annotation, 'id' | 'severity'>[];
}

/** Keyset cursor over the queue order: priority, severity, created_at, id (all descending). */
interface QueueKey {
  p: number;
  s: number;
  c: string;
  id: string;
}
const ISO_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const encodeKey = (r: ItemRow): string => Buffer.from(`${r.priority_rank}|${r.severity_rank}|${r.created_at}|${r.id}`, 'utf8').toString('base64url');
function decodeKey(cursor: string | undefined): QueueKey | null {
  if (cursor === undefined || cursor === '') return null;
  const [p, s, c, id, ...rest] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  if (rest.length || !/^[0-3]$/.test(p ?? '') || !/^[0-3]$/.test(s ?? '') || !ISO_RE.test(c ?? '') || !UUID_RE.test(id ?? '')) {
    throw new ProblemError('invalid_cursor', 'cursor is not one this API issued', 'query/cursor');
  }
  return { p: Number(p), s: Number(s), c: c!, id: id! };
}

export type ReviewModule = ReturnType<typeof createReview>;

/**
 * The human review queue. Owns `review_items` (its evidence rows live in automod_evidence,
 * action `review`); emits review.created and review.resolved with the item as data (never the
 * message text: a redaction must not leave copies in the log).
 */
export function createReview({ db, events }: DomainDeps, domain: Domain) {
  const sql = statementCache(db);
  const byId = db.prepare<[string, string, string], ItemRow>('SELECT * FROM review_items WHERE id = ? AND project_id = ? AND tenant_id = ?');
  const openOfMessage = db.prepare<[string, string, string], ItemRow>(
    "SELECT * FROM review_items WHERE message_id = ? AND project_id = ? AND tenant_id = ? AND status = 'open'",
  );
  const insert = db.prepare(
    `INSERT INTO review_items (id, tenant_id, project_id, session_id, message_id, participant_id, rule_id, priority, priority_rank,
       severity, severity_rank, status, decision, sanction_id, note, resolved_by, resolved_at, created_at, updated_at)
     VALUES (@id, @tenant_id, @project_id, @session_id, @message_id, @participant_id, @rule_id, @priority, @priority_rank,
       @severity, @severity_rank, @status, @decision, @sanction_id, @note, @resolved_by, @resolved_at, @created_at, @updated_at)`,
  );

  function evidenceOf(ids: readonly string[]): Map<string, Evidence> {
    const out = new Map<string, Evidence>();
    for (let i = 0; i < ids.length; i += 500) {
      const chunk = ids.slice(i, i + 500);
      const rows = sql(
        `SELECT target_id, rule_id, annotation_id FROM automod_evidence WHERE action = 'review' AND target_id IN (${chunk.map(() => '?').join(',')})
         ORDER BY annotation_id, rule_id`,
      ).all(...chunk) as { target_id: string; rule_id: string; annotation_id: string }[];
      for (const r of rows) {
        const e = out.get(r.target_id) ?? { ruleIds: [], annotationIds: [] };
        if (!e.ruleIds.includes(r.rule_id)) e.ruleIds.push(r.rule_id);
        if (!e.annotationIds.includes(r.annotation_id)) e.annotationIds.push(r.annotation_id);
        out.set(r.target_id, e);
      }
    }
    return out;
  }

  const toItem = (r: ItemRow, e: Evidence | undefined): ReviewItem => ({
    id: r.id,
    sessionId: r.session_id,
    messageId: r.message_id,
    participantId: r.participant_id,
    ruleId: r.rule_id,
    ruleIds: e?.ruleIds ?? (r.rule_id ? [r.rule_id] : []),
    evidenceAnnotationIds: e?.annotationIds ?? [],
    priority: r.priority,
    severity: r.severity,
    status: r.status,
    decision: r.decision,
    sanctionId: r.sanction_id,
    note: r.note,
    resolvedBy: r.resolved_by,
    resolvedAt: r.resolved_at,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  });
  const itemOf = (r: ItemRow) => toItem(r, evidenceOf([r.id]).get(r.id));

  /** Items with their message, the message's annotations and the speaker. */
  function views(scope: ProjectScope, rows: readonly ItemRow[]): ReviewItemView[] {
    const evidence = evidenceOf(rows.map((r) => r.id));
    const annotations = domain.annotations.ofMessages(scope, rows.map((r) => r.message_id));
    const participants = new Map<string, Participant | null>();
    return rows.map((r) => {
      let message: Message | null = null;
      try {
        message = domain.messages.get(scope, r.session_id, r.message_id);
      } catch (err) {
        if (!(err instanceof ProblemError)) throw err; // deleted since it was flagged
      }
      let participant: Participant | null = null;
      if (r.participant_id) {
        if (!participants.has(r.participant_id)) {
          try {
            participants.set(r.participant_id, domain.participants.get(scope, r.participant_id));
          } catch (err) {
            if (!(err instanceof ProblemError)) throw err;
            participants.set(r.participant_id, null);
          }
        }
        participant = participants.get(r.participant_id) ?? null;
      }
      return { ...toItem(r, evidence.get(r.id)), message, annotations: message ? (annotations.get(r.message_id) ?? []) : [], participant };
    });
  }

  function mustGet(scope: ProjectScope, id: string): ItemRow {
    const row = byId.get(id, scope.projectId, scope.tenantId);
    if (!row) throw notFound('review item', 'params/itemId');
    return row;
  }

  /**
   * Puts a message in the queue, inside the caller's write. A message has at most one open
   * item: flagging it again (another rule, more evidence) raises that item's priority and
   * severity instead of opening a second one. The caller records the evidence rows.
   */
  function flag(f: Flag): { id: string; created: boolean } {
    const severity = f.evidence.reduce<Annotation['severity']>((acc, a) => maxRank(acc, a.severity), null);
    const now = nowIso();
    const open = openOfMessage.get(f.messageId, f.scope.projectId, f.scope.tenantId);
    if (open) {
      const priority = maxRank(open.priority, f.priority)!;
      const sev = maxRank(open.severity, severity);
      if (priority !== open.priority || sev !== open.severity) {
        sql('UPDATE review_items SET priority = ?, priority_rank = ?, severity = ?, severity_rank = ?, updated_at = ? WHERE id = ?')
          .run(priority, rankOf(priority), sev, rankOf(sev), now, open.id);
        const after = mustGet(f.scope, open.id);
        // Live views re-rank the queue on this.
        events.append({
          type: 'review.updated', tenantId: after.tenant_id, projectId: after.project_id, resourceId: `review:${after.id}`, action: 'updated',
          data: itemOf(after), changes: { priority: open.priority, severity: open.severity },
        });
      }
      return { id: open.id, created: false };
    }
    const row: ItemRow = {
      id: uuidv7(),
      tenant_id: f.scope.tenantId,
      project_id: f.scope.projectId,
      session_id: f.sessionId,
      message_id: f.messageId,
      participant_id: f.participantId,
      rule_id: f.ruleId,
      priority: f.priority,
      priority_rank: rankOf(f.priority),
      severity,
      severity_rank: rankOf(severity),
      status: 'open',
      decision: null,
      sanction_id: null,
      note: null,
      resolved_by: null,
      resolved_at: null,
      created_at: now,
      updated_at: now,
    };
    insert.run(row);
    return { id: row.id, created: true };
  }

  /** Emits review.created for an item `flag` opened, once its evidence rows are in. */
  function announce(scope: ProjectScope, id: string): void {
    const row = mustGet(scope, id);
    events.append({
      type: 'review.created', tenantId: row.tenant_id, projectId: row.project_id, resourceId: `review:${row.id}`, action: 'created', data: itemOf(row),
    });
  }

  /** The queue: priority, then severity, then newest first (id breaks ties), so pages never overlap or skip. */
  function list(scope: ProjectScope, q: { status?: 'open' | 'resolved'; limit?: number; cursor?: string }): Page<ReviewItemView> {
    const limit = pageLimit(q);
    const after = decodeKey(q.cursor);
    const where = ['tenant_id = ?', 'project_id = ?', 'status = ?'];
    const args: unknown[] = [scope.tenantId, scope.projectId, q.status ?? 'open'];
    if (after) {
      where.push('(priority_rank, severity_rank, created_at, id) < (?, ?, ?, ?)');
      args.push(after.p, after.s, after.c, after.id);
    }
    const rows = sql(
      `SELECT * FROM review_items WHERE ${where.join(' AND ')} ORDER BY priority_rank DESC, severity_rank DESC, created_at DESC, id DESC LIMIT ?`,
    ).all(...args, limit + 1) as ItemRow[];
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return { items: views(scope, page), nextCursor: rows.length > limit && last ? encodeKey(last) : null };
  }

  function resolve(scope: ProjectScope, id: string, input: ReviewResolve, actor: string): ReviewItemView {
    return events.write(() => {
      const row = mustGet(scope, id);
      if (input.decision === 'sanction') {
        if (!input.sanction) throw invalid('body/sanction', 'decision sanction needs a sanction');
        checkSanctionAction(input.sanction, 'body/sanction');
        if (!row.participant_id) throw invalid('body/decision', 'the flagged message has no participant to sanction');
      } else if (input.sanction) {
        throw invalid('body/sanction', 'only with decision sanction');
      }
      if (row.status !== 'open') throw conflict('the review item is already resolved', 'params/itemId');
      const evidence = evidenceOf([row.id]).get(row.id);
      let sanctionId: string | null = null;
      if (input.decision === 'sanction') {
        const s = input.sanction!;
        const sessionExists = sql('SELECT 1 FROM sessions WHERE id = ? AND tenant_id = ?').get(row.session_id, scope.tenantId) !== undefined;
        sanctionId = domain.sanctions.create(scope, {
          type: s.type,
          participantId: row.participant_id!,
          ...(sessionExists && { sessionId: row.session_id }),
          ...(s.durationSeconds !== undefined && { durationSeconds: s.durationSeconds }),
          reason: s.reason ?? input.note ?? null,
          createdByUserId: actor,
          metadata: { reviewItemId: row.id, messageId: row.message_id, annotationIds: evidence?.annotationIds ?? [] },
        }).id;
      }
      const now = nowIso();
      const after: ItemRow = {
        ...row, status: 'resolved', decision: input.decision, sanction_id: sanctionId, note: input.note ?? null, resolved_by: actor, resolved_at: now, updated_at: now,
      };
      sql('UPDATE review_items SET status = ?, decision = ?, sanction_id = ?, note = ?, resolved_by = ?, resolved_at = ?, updated_at = ? WHERE id = ?')
        .run(after.status, after.decision, after.sanction_id, after.note, after.resolved_by, after.resolved_at, after.updated_at, row.id);
      events.append({
        type: 'review.resolved', tenantId: row.tenant_id, projectId: row.project_id, resourceId: `review:${row.id}`, action: 'updated',
        data: toItem(after, evidence), changes: { status: 'open', decision: null, sanctionId: null, note: row.note, resolvedBy: null, resolvedAt: null },
      });
      return views(scope, [after])[0]!;
    });
  }

  return {
    flag,
    announce,
    list,
    resolve,
    get: (scope: ProjectScope, id: string): ReviewItemView => views(scope, [mustGet(scope, id)])[0]!,
    /** Open items of a tenant, all projects (the desktop tray's count). */
    countOpen: (tenantId: string): number => (sql("SELECT count(*) AS n FROM review_items WHERE tenant_id = ? AND status = 'open'").get(tenantId) as { n: number }).n,
  };
}

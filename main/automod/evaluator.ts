import type { Logger } from 'pino';
import type { Annotation } from '../../common/schemas.js';
import { ProblemError } from '../core/errors.js';
import type { ProjectScope } from '../domain/context.js';
import { toAnnotation } from '../domain/annotations.js';
import type { Domain } from '../domain/index.js';
import type { EventLog } from '../events/log.js';
import type { Db } from '../store/db.js';
import { nowIso } from '../store/ids.js';
import { annotationMatches, isoMinus } from './match.js';
import type { ReviewModule } from './review.js';
import type { LiveRule, RulesModule } from './rules.js';

/** The evaluator's position in the event log (consumer_cursors). */
export const AUTOMOD_CURSOR = 'automod';
const ANNOTATED = 'message.annotation.created';
/** Events per step: bounds how long one transaction holds the main thread. */
const BATCH = 500;

interface Head {
  seq: number;
  type: string;
  tenant_id: string;
  project_id: string | null;
}

/** An annotation row joined with its message's time. */
export type CandidateRow = Parameters<typeof toAnnotation>[0] & { message_timestamp: string };

export interface EvaluatorDeps {
  db: Db;
  events: EventLog;
  domain: Domain;
  rules: RulesModule;
  review: ReviewModule;
  logger: Pick<Logger, 'warn' | 'error'>;
  /** The clock (ms); tests may move it. */
  now?: () => number;
}

/**
 * Applies automod rules to `message.annotation.created` events. A durable consumer: it reads
 * the log from its persisted cursor and moves the cursor in the same transaction as the
 * sanctions, review items and evidence rows it writes, so a crash keeps both or neither. An
 * annotation is evidence for at most one action per rule (PRIMARY KEY (rule_id,
 * annotation_id)), so a replay cannot act twice on the same evidence either.
 *
 * Batches with no annotation event write nothing: the position moves in memory only, and
 * after a restart those events are read again, which is harmless (they cause nothing).
 */
export class Evaluator {
  private readonly heads;
  private readonly payload;
  private readonly messageTime;
  private readonly used;
  private readonly candidates;
  private readonly addEvidence;
  private readonly now: () => number;
  /** Everything up to here has been evaluated (≥ the persisted cursor). */
  private position: number | null = null;
  private scheduled = false;
  private closed = false;
  private retry: NodeJS.Timeout | null = null;

  constructor(private readonly d: EvaluatorDeps) {
    const { db } = d;
    this.now = d.now ?? Date.now;
    this.heads = db.prepare<[number, number], Head>('SELECT seq, type, tenant_id, project_id FROM events WHERE seq > ? ORDER BY seq LIMIT ?');
    this.payload = db.prepare<[number], { payload: string }>('SELECT payload FROM events WHERE seq = ?');
    this.messageTime = db.prepare<[string, string], { timestamp: string }>('SELECT timestamp FROM messages WHERE id = ? AND tenant_id = ?');
    this.used = db.prepare<[string, string], { one: number }>('SELECT 1 AS one FROM automod_evidence WHERE rule_id = ? AND annotation_id = ?');
    // This participant's annotations of the type, from `since` up to (and including) the one
    // being evaluated, that this rule has not acted on yet.
    this.candidates = db.prepare<[string, string, string, string, string, string, string], CandidateRow>(
      `SELECT a.*, m.timestamp AS message_timestamp FROM annotations a JOIN messages m ON m.id = a.message_id
       WHERE a.participant_id = ? AND a.type = ? AND a.tenant_id = ? AND a.project_id = ? AND a.created_at >= ? AND a.id <= ?
         AND NOT EXISTS (SELECT 1 FROM automod_evidence e WHERE e.rule_id = ? AND e.annotation_id = a.id)
       ORDER BY a.id`,
    );
    this.addEvidence = db.prepare(
      `INSERT INTO automod_evidence (rule_id, annotation_id, tenant_id, project_id, participant_id, action, target_id, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    );
  }

  /** New events were committed (or at startup): catch up soon. */
  schedule(): void {
    if (this.scheduled || this.closed) return;
    this.scheduled = true;
    setImmediate(() => this.run());
  }

  close(): void {
    this.closed = true;
    if (this.retry) clearTimeout(this.retry);
  }

  /** Up to where the log has been evaluated. */
  get evaluatedSeq(): number {
    return this.position ?? this.d.events.cursor(AUTOMOD_CURSOR);
  }

  /** One batch; exposed for tests. */
  step(): { events: number; actions: number; more: boolean } {
    const { events } = this.d;
    const from = this.evaluatedSeq;
    const heads = this.heads.all(from, BATCH);
    const more = heads.length === BATCH;
    const last = heads[heads.length - 1];
    if (!last) return { events: 0, actions: 0, more: false };
    if (!heads.some((h) => h.type === ANNOTATED)) {
      this.position = last.seq;
      return { events: heads.length, actions: 0, more };
    }
    const actions = events.write(() => {
      let n = 0;
      for (const h of heads) {
        if (h.type !== ANNOTATED || h.project_id === null) continue;
        const row = this.payload.get(h.seq);
        if (!row) continue;
        const a = (JSON.parse(row.payload) as { data: Annotation }).data;
        n += this.evaluate({ tenantId: h.tenant_id, projectId: h.project_id }, a);
      }
      events.setCursor(AUTOMOD_CURSOR, last.seq);
      return n;
    }, 'automod');
    this.position = last.seq;
    return { events: heads.length, actions, more };
  }

  private run(): void {
    this.scheduled = false;
    if (this.closed) return;
    try {
      if (this.step().more) this.schedule(); // yield to the event loop between batches
    } catch (err) {
      // Nothing of the batch committed and the cursor did not move: the same events are evaluated on the next try.
      this.d.logger.error({ err }, 'automod: evaluation failed; retrying');
      this.retry = setTimeout(() => {
        this.retry = null;
        this.schedule();
      }, 1_000);
      this.retry.unref();
    }
  }

  /** Every enabled rule of the project against one new annotation; returns how many actions it took. */
  private evaluate(scope: ProjectScope, a: Annotation): number {
    if (!a.messageId || !a.participantId) return 0;
    let actions = 0;
    for (const rule of this.d.rules.enabledFor(scope, a.type)) {
      // A rule judges what happens while it is enabled with its current condition, never history.
      if (a.createdAt < rule.activeSince || !annotationMatches(rule.when, a)) continue;
      if (this.used.get(rule.id, a.id)) continue;
      // A plugin back-filling old messages must not sanction anyone for them.
      // (Message times are compared as instants: a client may have given one with an offset.)
      const freshSince = this.now() - rule.when.windowSeconds * 1000;
      const ts = this.messageTime.get(a.messageId, scope.tenantId)?.timestamp;
      if (ts === undefined || Date.parse(ts) < freshSince) continue;
      const windowStart = isoMinus(a.createdAt, rule.when.windowSeconds);
      const since = windowStart > rule.activeSince ? windowStart : rule.activeSince;
      const evidence = this.candidates
        .all(a.participantId, a.type, scope.tenantId, scope.projectId, since, a.id, rule.id)
        .filter((c) => Date.parse(c.message_timestamp) >= freshSince && c.created_at <= a.createdAt)
        .map(toAnnotation)
        .filter((c) => annotationMatches(rule.when, c));
      if (!evidence.some((c) => c.id === a.id) || evidence.length < rule.when.count) continue;
      try {
        // Its own savepoint: an action that fails leaves nothing behind and does not stop the others.
        this.d.events.write(() => this.act(scope, rule, a, evidence));
        actions++;
      } catch (err) {
        if (!(err instanceof ProblemError)) throw err;
        this.d.logger.warn({ err, ruleId: rule.id, annotationId: a.id }, 'automod: rule action refused; skipped');
      }
    }
    return actions;
  }

  private act(scope: ProjectScope, rule: LiveRule, trigger: Annotation, evidence: Annotation[]): void {
    const participantId = trigger.participantId!;
    const annotationIds = evidence.map((e) => e.id);
    const messageIds = [...new Set(evidence.map((e) => e.messageId!))];
    let action: 'sanction' | 'review';
    let targetId: string;
    let announce: string | null = null;
    if (rule.then.sanction) {
      const s = rule.then.sanction;
      action = 'sanction';
      targetId = this.d.domain.sanctions.create(scope, {
        type: s.type,
        participantId,
        sessionId: trigger.sessionId,
        ...(s.durationSeconds !== undefined && { durationSeconds: s.durationSeconds }),
        reason: s.reason ?? `automod: ${rule.name}`,
        createdByUserId: `automod:${rule.id}`,
        metadata: { ruleId: rule.id, annotationIds, messageIds },
      }).id;
    } else {
      action = 'review';
      const flagged = this.d.review.flag({
        scope, sessionId: trigger.sessionId, messageId: trigger.messageId!, participantId, ruleId: rule.id, priority: rule.then.review!.priority, evidence,
      });
      targetId = flagged.id;
      if (flagged.created) announce = flagged.id;
    }
    const now = nowIso();
    for (const id of annotationIds) this.addEvidence.run(rule.id, id, scope.tenantId, scope.projectId, participantId, action, targetId, now);
    if (announce) this.d.review.announce(scope, announce);
  }
}

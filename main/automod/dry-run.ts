import type { AutomodRuleTest, AutomodTestResult } from '../../common/automod-schemas.js';
import type { Annotation, Message, Participant } from '../../common/schemas.js';
import { ProblemError } from '../core/errors.js';
import { statementCache, type ProjectScope } from '../domain/context.js';
import { toAnnotation } from '../domain/annotations.js';
import type { Domain } from '../domain/index.js';
import type { Db } from '../store/db.js';
import type { CandidateRow } from './evaluator.js';
import { annotationMatches, checkRule, isoMinus, normalizeThen, normalizeWhen } from './match.js';

const DEFAULT_LIMIT = 200;

/**
 * "Test against recent messages": replays a project's most recent annotations of the rule's
 * type through an unsaved rule, as if it had been live (counting within its window, each
 * annotation used once, messages already older than the window when annotated ignored), and
 * says what matched and whom it would have actioned. Reads only.
 */
export function createDryRun(db: Db, domain: Domain) {
  const sql = statementCache(db);

  return function dryRun(scope: ProjectScope, input: AutomodRuleTest): AutomodTestResult {
    checkRule(input);
    const when = normalizeWhen(input.when);
    const then = normalizeThen(input.then);
    if (input.sessionId) domain.sessions.get(scope, input.sessionId, 'body/sessionId');
    const limit = input.limit ?? DEFAULT_LIMIT;
    const filters = ['a.tenant_id = ?', 'a.project_id = ?', 'a.type = ?', 'a.participant_id IS NOT NULL'];
    const args: unknown[] = [scope.tenantId, scope.projectId, when.annotationType];
    if (input.sessionId) {
      filters.push('a.session_id = ?');
      args.push(input.sessionId);
    }
    const rows = (sql(
      `SELECT a.*, m.timestamp AS message_timestamp FROM annotations a JOIN messages m ON m.id = a.message_id
       WHERE ${filters.join(' AND ')} ORDER BY a.id DESC LIMIT ?`,
    ).all(...args, limit) as CandidateRow[]).reverse();

    const matched: Annotation[] = [];
    const actions: AutomodTestResult['actions'] = [];
    const pending = new Map<string, Annotation[]>();
    for (const r of rows) {
      const a = toAnnotation(r);
      if (!annotationMatches(when, a)) continue;
      // The live evaluator ignores annotations on messages already older than the window.
      if (Date.parse(r.message_timestamp) < Date.parse(a.createdAt) - when.windowSeconds * 1000) continue;
      matched.push(a);
      const windowStart = isoMinus(a.createdAt, when.windowSeconds);
      const open = [...(pending.get(a.participantId!) ?? []).filter((x) => x.createdAt >= windowStart), a];
      if (open.length >= when.count) {
        actions.push({
          participantId: a.participantId!,
          participant: null,
          action: then.sanction ? 'sanction' : 'review',
          at: a.createdAt,
          annotationIds: open.map((x) => x.id),
          messageIds: [...new Set(open.map((x) => x.messageId!))],
        });
        pending.set(a.participantId!, []);
      } else {
        pending.set(a.participantId!, open);
      }
    }

    const participants = new Map<string, Participant | null>();
    for (const act of actions) {
      if (!participants.has(act.participantId)) participants.set(act.participantId, orNull(() => domain.participants.get(scope, act.participantId)));
      act.participant = participants.get(act.participantId) ?? null;
    }
    return {
      scanned: rows.length,
      matches: matched.reverse().map((annotation) => ({
        annotation,
        message: orNull<Message>(() => domain.messages.get(scope, annotation.sessionId, annotation.messageId!)),
      })),
      actions,
    };
  };
}

function orNull<T>(fn: () => T): T | null {
  try {
    return fn();
  } catch (err) {
    if (err instanceof ProblemError) return null;
    throw err;
  }
}

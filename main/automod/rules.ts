import type { AutomodRule, AutomodRuleCreate, AutomodRuleUpdate } from '../../common/automod-schemas.js';
import { notFound } from '../core/errors.js';
import { statementCache, type DomainDeps, type ProjectScope } from '../domain/context.js';
import { queryPage, type Page, type PageRequest } from '../domain/paging.js';
import { nowIso, uuidv7 } from '../store/ids.js';
import { checkRule, normalizeThen, normalizeWhen } from './match.js';

interface RuleRow {
  id: string;
  tenant_id: string;
  project_id: string;
  name: string;
  enabled: number;
  annotation_type: string;
  when_json: string;
  then_json: string;
  active_since: string;
  created_at: string;
  updated_at: string;
}

const toRule = (r: RuleRow): AutomodRule => ({
  id: r.id,
  name: r.name,
  enabled: r.enabled === 1,
  when: JSON.parse(r.when_json) as AutomodRule['when'],
  then: JSON.parse(r.then_json) as AutomodRule['then'],
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

/** A rule as the evaluator sees it: it judges only annotations created since `activeSince`. */
export type LiveRule = AutomodRule & { activeSince: string };

export type RulesModule = ReturnType<typeof createRules>;

/** Automod rules of a project. Owns `automod_rules`; emits automod.rule.created/updated/deleted. */
export function createRules({ db, events }: DomainDeps) {
  const sql = statementCache(db);
  const byId = db.prepare<[string, string, string], RuleRow>('SELECT * FROM automod_rules WHERE id = ? AND project_id = ? AND tenant_id = ?');
  const enabledOfType = db.prepare<[string, string, string], RuleRow>(
    'SELECT * FROM automod_rules WHERE tenant_id = ? AND project_id = ? AND annotation_type = ? AND enabled = 1 ORDER BY id',
  );
  const write = db.prepare(
    `INSERT INTO automod_rules (id, tenant_id, project_id, name, enabled, annotation_type, when_json, then_json, active_since, created_at, updated_at)
     VALUES (@id, @tenant_id, @project_id, @name, @enabled, @annotation_type, @when_json, @then_json, @active_since, @created_at, @updated_at)
     ON CONFLICT (id) DO UPDATE SET name = excluded.name, enabled = excluded.enabled, annotation_type = excluded.annotation_type,
       when_json = excluded.when_json, then_json = excluded.then_json, active_since = excluded.active_since, updated_at = excluded.updated_at`,
  );

  const emit = (r: RuleRow, type: 'automod.rule.created' | 'automod.rule.updated' | 'automod.rule.deleted', changes?: Record<string, unknown>) =>
    events.append({
      type, tenantId: r.tenant_id, projectId: r.project_id, resourceId: `automod_rule:${r.id}`,
      action: type === 'automod.rule.created' ? 'created' : type === 'automod.rule.updated' ? 'updated' : 'deleted',
      data: toRule(r), changes,
    });

  function mustGet(scope: ProjectScope, id: string): RuleRow {
    const row = byId.get(id, scope.projectId, scope.tenantId);
    if (!row) throw notFound('automod rule', 'params/ruleId');
    return row;
  }

  function create(scope: ProjectScope, input: AutomodRuleCreate): AutomodRule {
    return events.write(() => {
      checkRule(input);
      const now = nowIso();
      const when = normalizeWhen(input.when);
      const row: RuleRow = {
        id: uuidv7(),
        tenant_id: scope.tenantId,
        project_id: scope.projectId,
        name: input.name,
        enabled: input.enabled === false ? 0 : 1,
        annotation_type: when.annotationType,
        when_json: JSON.stringify(when),
        then_json: JSON.stringify(normalizeThen(input.then)),
        active_since: now,
        created_at: now,
        updated_at: now,
      };
      write.run(row);
      emit(row, 'automod.rule.created');
      return toRule(row);
    });
  }

  function update(scope: ProjectScope, id: string, patch: AutomodRuleUpdate): AutomodRule {
    return events.write(() => {
      const before = mustGet(scope, id);
      const old = toRule(before);
      const merged = { when: patch.when ?? old.when, then: patch.then ?? old.then };
      checkRule(merged);
      const when = normalizeWhen(merged.when);
      const after: RuleRow = {
        ...before,
        name: patch.name ?? before.name,
        enabled: patch.enabled === undefined ? before.enabled : patch.enabled ? 1 : 0,
        annotation_type: when.annotationType,
        when_json: JSON.stringify(when),
        then_json: JSON.stringify(normalizeThen(merged.then)),
      };
      const next = toRule(after);
      const changes: Record<string, unknown> = {};
      for (const k of ['name', 'enabled', 'when', 'then'] as const) {
        if (JSON.stringify(old[k]) !== JSON.stringify(next[k])) changes[k] = old[k];
      }
      if (Object.keys(changes).length === 0) return old;
      after.updated_at = nowIso();
      // Re-enabled, or given a new condition: what happened before does not count towards it.
      if ((after.enabled === 1 && before.enabled === 0) || 'when' in changes) after.active_since = after.updated_at;
      write.run(after);
      emit(after, 'automod.rule.updated', changes);
      return toRule(after);
    });
  }

  function remove(scope: ProjectScope, id: string): void {
    events.write(() => {
      const row = mustGet(scope, id);
      sql('DELETE FROM automod_rules WHERE id = ?').run(id);
      emit(row, 'automod.rule.deleted');
    });
  }

  /** Oldest first. */
  function list(scope: ProjectScope, q: PageRequest): Page<AutomodRule> {
    return queryPage(sql, 'SELECT * FROM automod_rules', [['project_id = ?', scope.projectId], ['tenant_id = ?', scope.tenantId]], q, 'asc', toRule);
  }

  return {
    create,
    update,
    remove,
    list,
    get: (scope: ProjectScope, id: string) => toRule(mustGet(scope, id)),
    /** The enabled rules of a project that look at this annotation type (the evaluator's lookup). */
    enabledFor: (scope: ProjectScope, annotationType: string): LiveRule[] =>
      enabledOfType.all(scope.tenantId, scope.projectId, annotationType).map((r) => ({ ...toRule(r), activeSince: r.active_since })),
  };
}

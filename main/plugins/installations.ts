/**
 * Plugins installed in projects. Owns `project_plugins` and `plugin_errors`, and each
 * installation's cursor (`plugin:<installationId>` in consumer_cursors). Emits plugin.installed,
 * plugin.updated, plugin.uninstalled and plugin.error.
 */
import type { PluginInstallation } from '../../common/plugin-schemas.js';
import { conflict, notFound } from '../core/errors.js';
import type { DomainDeps, ProjectScope } from '../domain/context.js';
import { nowIso, uuidv7 } from '../store/ids.js';

export interface InstallationRow {
  id: string;
  tenant_id: string;
  project_id: string;
  plugin_id: string;
  settings: string;
  enabled: number;
  error_count: number;
  created_at: string;
  updated_at: string;
}

export interface PluginErrorRow {
  kind: string;
  message: string;
  event_seq: number | null;
  created_at: string;
}

export const cursorName = (installationId: string) => `plugin:${installationId}`;

export const toInstallation = (r: InstallationRow): PluginInstallation => ({
  id: r.id,
  pluginId: r.plugin_id,
  settings: JSON.parse(r.settings) as Record<string, unknown>,
  enabled: r.enabled === 1,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

const KEEP_ERRORS = 100;

export type InstallationsModule = ReturnType<typeof createInstallations>;

export function createInstallations({ db, events }: DomainDeps) {
  const byPlugin = db.prepare<[string, string, string], InstallationRow>(
    'SELECT * FROM project_plugins WHERE plugin_id = ? AND project_id = ? AND tenant_id = ?',
  );
  const byId = db.prepare<[string], InstallationRow>('SELECT * FROM project_plugins WHERE id = ?');
  const ofProject = db.prepare<[string, string], InstallationRow>('SELECT * FROM project_plugins WHERE project_id = ? AND tenant_id = ? ORDER BY plugin_id');
  const enabledRows = db.prepare<[], InstallationRow>('SELECT * FROM project_plugins WHERE enabled = 1');
  const insertError = db.prepare('INSERT INTO plugin_errors (installation_id, kind, message, event_seq, created_at) VALUES (?, ?, ?, ?, ?)');
  const pruneErrors = db.prepare(
    'DELETE FROM plugin_errors WHERE installation_id = ? AND id <= (SELECT id FROM plugin_errors WHERE installation_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?)',
  );
  const recentErrors = db.prepare<[string, number], PluginErrorRow>(
    'SELECT kind, message, event_seq, created_at FROM plugin_errors WHERE installation_id = ? ORDER BY id DESC LIMIT ?',
  );
  const countError = db.prepare('UPDATE project_plugins SET error_count = error_count + 1 WHERE id = ?');
  const errorTotal = db.prepare<[string], { error_count: number }>('SELECT error_count FROM project_plugins WHERE id = ?');
  const dropCursor = db.prepare('DELETE FROM consumer_cursors WHERE name = ?');
  const insertRow = db.prepare(
    `INSERT INTO project_plugins (id, tenant_id, project_id, plugin_id, settings, enabled, error_count, created_at, updated_at)
     VALUES (@id, @tenant_id, @project_id, @plugin_id, @settings, @enabled, @error_count, @created_at, @updated_at)`,
  );
  const updateRow = db.prepare('UPDATE project_plugins SET settings = ?, enabled = ?, updated_at = ? WHERE id = ?');
  const deleteRow = db.prepare('DELETE FROM project_plugins WHERE id = ?');

  const emit = (r: InstallationRow, type: 'plugin.installed' | 'plugin.updated' | 'plugin.uninstalled', changes?: Record<string, unknown>) =>
    events.append({
      type, tenantId: r.tenant_id, projectId: r.project_id, resourceId: `plugin:${r.id}`,
      action: type === 'plugin.installed' ? 'created' : type === 'plugin.updated' ? 'updated' : 'deleted',
      data: toInstallation(r), changes,
    });

  function getRow(scope: ProjectScope, pluginId: string): InstallationRow {
    const row = byPlugin.get(pluginId, scope.projectId, scope.tenantId);
    if (!row) throw notFound('plugin installation', 'params/pluginId');
    return row;
  }

  /** `settings` must already be validated (PluginCatalog.settings). */
  function install(scope: ProjectScope, pluginId: string, settings: Record<string, unknown>, enabled: boolean, backfill: boolean): PluginInstallation {
    return events.write(() => {
      if (byPlugin.get(pluginId, scope.projectId, scope.tenantId)) throw conflict(`plugin "${pluginId}" is already installed in this project`, 'body/pluginId');
      const now = nowIso();
      const row: InstallationRow = {
        id: uuidv7(), tenant_id: scope.tenantId, project_id: scope.projectId, plugin_id: pluginId,
        settings: JSON.stringify(settings), enabled: enabled ? 1 : 0, error_count: 0, created_at: now, updated_at: now,
      };
      insertRow.run(row);
      const installed = emit(row, 'plugin.installed');
      // Without backfill the plugin starts with what happens after it is installed.
      events.setCursor(cursorName(row.id), backfill ? 0 : installed.seq);
      return toInstallation(row);
    });
  }

  function update(scope: ProjectScope, pluginId: string, patch: { settings?: Record<string, unknown>; enabled?: boolean }): PluginInstallation {
    return events.write(() => {
      const before = getRow(scope, pluginId);
      const after: InstallationRow = {
        ...before,
        settings: patch.settings !== undefined ? JSON.stringify(patch.settings) : before.settings,
        enabled: patch.enabled !== undefined ? (patch.enabled ? 1 : 0) : before.enabled,
        updated_at: nowIso(),
      };
      if (after.settings === before.settings && after.enabled === before.enabled) return toInstallation(before);
      updateRow.run(after.settings, after.enabled, after.updated_at, after.id);
      const changes: Record<string, unknown> = {};
      if (after.settings !== before.settings) changes.settings = JSON.parse(before.settings);
      if (after.enabled !== before.enabled) changes.enabled = before.enabled === 1;
      emit(after, 'plugin.updated', changes);
      return toInstallation(after);
    });
  }

  function remove(scope: ProjectScope, pluginId: string): void {
    events.write(() => {
      const row = getRow(scope, pluginId);
      deleteRow.run(row.id);
      dropCursor.run(cursorName(row.id));
      emit(row, 'plugin.uninstalled');
    });
  }

  /** Records a failure (and its plugin.error event); inside the caller's write(). */
  function recordError(r: InstallationRow, kind: string, message: string, eventSeq: number | null): void {
    const now = nowIso();
    insertError.run(r.id, kind, message.slice(0, 4000), eventSeq, now);
    countError.run(r.id);
    pruneErrors.run(r.id, r.id, KEEP_ERRORS);
    events.append({
      type: 'plugin.error', tenantId: r.tenant_id, projectId: r.project_id, resourceId: `plugin:${r.id}`, action: 'occurred',
      data: { installationId: r.id, pluginId: r.plugin_id, kind, message: message.slice(0, 1000), eventSeq },
    });
  }

  return {
    install,
    update,
    remove,
    recordError,
    getRow,
    get: (scope: ProjectScope, pluginId: string) => toInstallation(getRow(scope, pluginId)),
    byId: (id: string) => byId.get(id),
    list: (scope: ProjectScope) => ofProject.all(scope.projectId, scope.tenantId).map(toInstallation),
    enabled: () => enabledRows.all(),
    recentErrors: (installationId: string, limit = 20) =>
      recentErrors.all(installationId, limit).map((e) => ({ kind: e.kind, message: e.message, eventSeq: e.event_seq, createdAt: e.created_at })),
    errorCount: (installationId: string) => errorTotal.get(installationId)?.error_count ?? 0,
  };
}

/**
 * Plugins: the catalog, project installations, and one runner (worker thread) per enabled
 * installation. Runners follow installation changes through the event log's plugin.* events,
 * and receive each committed event of their project live (reading the log only to catch up).
 */
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { PluginStatus } from '../../common/plugin-schemas.js';
import { conflict } from '../core/errors.js';
import type { CortexConfig } from '../core/config.js';
import type { ProjectScope } from '../domain/context.js';
import type { Domain } from '../domain/index.js';
import type { EventLog } from '../events/log.js';
import type { Db } from '../store/db.js';
import { PluginCatalog } from './catalog.js';
import { createInstallations, type InstallationRow } from './installations.js';
import { PluginRunner } from './runner.js';

export interface PluginsDeps {
  db: Db;
  events: EventLog;
  domain: Domain;
  logger: Logger;
  config: Pick<CortexConfig, 'dataDir' | 'pluginsDir' | 'pluginTimeoutMs' | 'pluginMemoryMb'>;
}

export type Plugins = ReturnType<typeof createPlugins>;

export function createPlugins({ db, events, domain, logger, config }: PluginsDeps) {
  const catalog = new PluginCatalog(config.pluginsDir ?? join(config.dataDir, 'plugins'));
  const installations = createInstallations({ db, events });
  const runners = new Map<string, PluginRunner>();
  const byProject = new Map<string, Set<PluginRunner>>();
  const log = logger.child({ module: 'plugins' });
  let unsubscribe: (() => void) | null = null;
  let closed = false;

  async function startRunner(row: InstallationRow): Promise<void> {
    const entry = await catalog.get(row.plugin_id);
    if (closed || runners.has(row.id)) return;
    const current = installations.byId(row.id);
    if (!current || current.enabled !== 1) return;
    if (!entry) {
      // The plugin's file was removed from the plugins folder: keep the installation, say why it does not run.
      events.write(() => installations.recordError(current, 'load_failed', `plugin "${row.plugin_id}" is not in the catalog`, null), 'plugins');
      return;
    }
    const runner = new PluginRunner(current, entry.source, entry.entry.events, {
      events, domain, installations, logger: log, timeoutMs: config.pluginTimeoutMs, memoryMb: config.pluginMemoryMb,
    });
    runners.set(row.id, runner);
    let set = byProject.get(row.project_id);
    if (!set) byProject.set(row.project_id, (set = new Set()));
    set.add(runner);
    runner.start();
  }

  function stopRunner(installationId: string, keepCursor = true): void {
    const runner = runners.get(installationId);
    if (!runner) return;
    runner.stop(keepCursor);
    runners.delete(installationId);
    byProject.get(runner.projectId)?.delete(runner);
  }

  /** An installation changed (plugin.* event): start, reload or stop its runner. */
  function reconcile(installationId: string): void {
    const row = installations.byId(installationId);
    const runner = runners.get(installationId);
    if (!row || row.enabled !== 1) return stopRunner(installationId, row !== undefined);
    if (runner) runner.reload(row);
    else void startRunner(row).catch((err: unknown) => log.error({ err }, 'starting a plugin failed'));
  }

  return {
    catalog,
    installations,
    start(): void {
      unsubscribe = events.subscribe((e) => {
        if (e.type === 'plugin.installed' || e.type === 'plugin.updated' || e.type === 'plugin.uninstalled') {
          reconcile((e.payload.data as { id: string }).id);
          return;
        }
        if (e.projectId === null) return;
        const set = byProject.get(e.projectId);
        if (set) for (const r of set) r.offer(e);
      });
      for (const row of installations.enabled()) void startRunner(row).catch((err: unknown) => log.error({ err }, 'starting a plugin failed'));
    },
    status(scope: ProjectScope, pluginId: string): PluginStatus {
      const row = installations.getRow(scope, pluginId);
      const runner = runners.get(row.id);
      if (runner) return runner.status();
      return {
        pluginId, enabled: row.enabled === 1, state: 'stopped', cursor: events.cursor(`plugin:${row.id}`), backlog: 0,
        processed: 0, annotations: 0, errors: installations.errorCount(row.id), restarts: 0, eventsPerSecond: 0,
        recentErrors: installations.recentErrors(row.id),
      };
    },
    /** True when the installation's runner has handled every event committed so far (for tests and benchmarks). */
    isIdle(scope: ProjectScope, pluginId: string): boolean {
      return runners.get(installations.getRow(scope, pluginId).id)?.isIdle() ?? false;
    },
    /** POST …/sessions/{id}/summary/regenerate: asks the summary plugin (which must be installed and enabled). */
    requestSummary(scope: ProjectScope, sessionId: string): { eventId: string; seq: number } {
      return events.write(() => {
        const session = domain.sessions.get(scope, sessionId);
        const summary = installations.list(scope).find((i) => i.pluginId === 'summary');
        if (!summary?.enabled) throw conflict('install and enable the summary plugin to summarize sessions', 'params/sessionId');
        const e = events.append({
          type: 'session.summary.requested', tenantId: scope.tenantId, projectId: scope.projectId, resourceId: `session:${sessionId}`,
          action: 'occurred', data: session,
        });
        return { eventId: e.id, seq: e.seq };
      });
    },
    async close(): Promise<void> {
      closed = true;
      unsubscribe?.();
      for (const id of [...runners.keys()]) stopRunner(id);
    },
  };
}

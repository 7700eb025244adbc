/**
 * `#/plugins[/<pluginId>]`: the catalog (built-ins, folder plugins, files that failed to load)
 * and the project's installations; install with a settings form generated from the plugin's
 * JSON Schema, enable/disable, edit settings, uninstall, and a live status panel.
 */
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useRef, useState, type FormEvent, type ReactNode } from 'react';
import type { DomainEvent } from '../../../../common/events.js';
import type { PluginInstallation, PluginStatus } from '../../../../common/plugin-schemas.js';
import { ProblemText } from '../../components/ProblemText.js';
import { fieldErrorsOf, SchemaForm, defaultsOf, type JsonSchema } from '../../components/SchemaForm.js';
import { useCortex } from '../../lib/cortex-context.js';
import { formatDateTime } from '../../lib/format.js';
import { useProject } from '../../lib/project.js';
import { href, navigate, type Route } from '../../lib/router.js';
import { useEvents } from '../../lib/useEvents.js';
import { ConfirmAction, FormProblem, formatCount, Section, Toggle, useThrottledInvalidate } from './config-ui.js';

interface CatalogPlugin {
  id: string;
  name: string;
  version: string;
  description?: string;
  events: string[];
  settingsSchema: JsonSchema;
  builtin: boolean;
  path: string | null;
}
interface Catalog {
  items: CatalogPlugin[];
  problems: { path: string; error: string }[];
}
interface Installations {
  items: PluginInstallation[];
}

const CATALOG_KEY = ['plugins', 'catalog'];
const installationsKey = (projectId: string) => ['project', projectId, 'plugins'];
const statusKey = (projectId: string, pluginId: string) => ['project', projectId, 'plugins', pluginId, 'status'];
const LIVE_TYPES = ['plugin.*', 'message.annotation.created', 'session.annotation.created'];

function upsertInstallation(data: Installations, inst: PluginInstallation): Installations {
  const rest = data.items.filter((i) => i.pluginId !== inst.pluginId);
  return { items: [...rest, inst].sort((a, b) => a.createdAt.localeCompare(b.createdAt)) };
}

function applyInstallationEvent(data: Installations, event: DomainEvent): Installations | null {
  const inst = event.payload.data as unknown as PluginInstallation;
  if (!inst || typeof inst.pluginId !== 'string' || typeof inst.id !== 'string') return null;
  if (event.type === 'plugin.uninstalled') return { items: data.items.filter((i) => i.pluginId !== inst.pluginId) };
  return upsertInstallation(data, inst);
}

export function PluginsView({ route }: { route: Route }) {
  const { client } = useCortex();
  const { projectId, base } = useProject();
  const queryClient = useQueryClient();
  const throttled = useThrottledInvalidate(500);
  const selected = route.parts[1] ?? null;

  const catalog = useQuery({ queryKey: CATALOG_KEY, queryFn: () => client.request<Catalog>('GET', '/api/plugins'), staleTime: Infinity });
  const installed = useQuery({
    queryKey: installationsKey(projectId),
    queryFn: () => client.request<Installations>('GET', `${base}/plugins`),
    staleTime: Infinity,
  });

  // One stream for the whole view: installations are patched, the open status is refetched (throttled).
  useEvents({ projectId, types: LIVE_TYPES }, (event) => {
    const data = event.payload.data as { pluginId?: unknown };
    const pluginId = typeof data.pluginId === 'string' ? data.pluginId : null;
    if (event.type === 'plugin.installed' || event.type === 'plugin.updated' || event.type === 'plugin.uninstalled') {
      const key = installationsKey(projectId);
      const current = queryClient.getQueryData<Installations>(key);
      const next = current && applyInstallationEvent(current, event);
      if (next) queryClient.setQueryData(key, next);
      else void queryClient.invalidateQueries({ queryKey: key });
    }
    // An uninstalled plugin has no status (404): drop it rather than refetch it.
    if (pluginId && event.type === 'plugin.uninstalled') queryClient.removeQueries({ queryKey: statusKey(projectId, pluginId) });
    else if (pluginId) throttled(statusKey(projectId, pluginId));
  });

  const installations = installed.data?.items ?? [];
  const byId = new Map(installations.map((i) => [i.pluginId, i]));
  const plugins = catalog.data?.items ?? [];
  const available = plugins.filter((p) => !byId.has(p.id));
  const selectedPlugin = plugins.find((p) => p.id === selected) ?? null;
  const selectedInstallation = selected ? (byId.get(selected) ?? null) : null;

  return (
    <div className="cfg" data-testid="plugins-view">
      <section className="pane" aria-labelledby="plugins-heading">
        <header className="pane-header">
          <h2 id="plugins-heading">Plugins</h2>
          {installed.data && <span className="count">{installations.length} installed</span>}
          <button type="button" className="link" onClick={() => void catalog.refetch()} disabled={catalog.isFetching} data-testid="catalog-rescan">
            {catalog.isFetching ? 'Scanning…' : 'Rescan folder'}
          </button>
        </header>
        <div className="pane-body" data-testid="plugins-list" data-state={catalog.isPending || installed.isPending ? 'loading' : 'ready'}>
          {(catalog.isPending || installed.isPending) && <p className="empty">Loading plugins…</p>}
          <ProblemText error={catalog.error} prefix="Could not load the catalog" />
          <ProblemText error={installed.error} prefix="Could not load installed plugins" />
          {installed.data && catalog.data && (
            <>
              <h3 className="cfg-group-title">Installed in {projectId}</h3>
              {installations.length === 0 && <p className="empty">Nothing installed yet. Pick a plugin below.</p>}
              <ul className="rows" aria-label="Installed plugins">
                {installations.map((inst) => {
                  const entry = plugins.find((p) => p.id === inst.pluginId);
                  return (
                    <li key={inst.id}>
                      <a className="cfg-item" href={href(`/plugins/${inst.pluginId}`)} aria-current={selected === inst.pluginId ? 'true' : undefined} data-testid="installed-plugin" data-plugin-id={inst.pluginId}>
                        <span className="cfg-item-line">
                          <span className="cfg-item-title">{entry?.name ?? inst.pluginId}</span>
                          <span className={`badge ${inst.enabled ? 'badge-on' : 'badge-off'}`}>{inst.enabled ? 'enabled' : 'disabled'}</span>
                        </span>
                        <span className="cfg-item-sub cfg-mono">{inst.pluginId}{entry ? '' : ' — no longer in the catalog'}</span>
                      </a>
                    </li>
                  );
                })}
              </ul>
              <h3 className="cfg-group-title">Available</h3>
              {available.length === 0 && <p className="empty">Every plugin in the catalog is installed.</p>}
              <ul className="rows" aria-label="Available plugins">
                {available.map((p) => (
                  <li key={p.id}>
                    <a className="cfg-item" href={href(`/plugins/${p.id}`)} aria-current={selected === p.id ? 'true' : undefined} data-testid="catalog-plugin" data-plugin-id={p.id}>
                      <span className="cfg-item-line">
                        <span className="cfg-item-title">{p.name}</span>
                        <span className={`badge ${p.builtin ? 'badge-muted' : 'badge-accent'}`}>{p.builtin ? 'built-in' : 'folder'}</span>
                      </span>
                      {p.description && <span className="cfg-item-sub">{p.description}</span>}
                    </a>
                  </li>
                ))}
              </ul>
              {catalog.data.problems.length > 0 && (
                <>
                  <h3 className="cfg-group-title">Could not load</h3>
                  <ul className="rows" aria-label="Plugin files that failed to load" data-testid="catalog-problems">
                    {catalog.data.problems.map((pr) => (
                      <li key={pr.path} className="cfg-item" data-testid="catalog-problem">
                        <span className="cfg-item-title cfg-mono" title={pr.path}>{pr.path.split('/').pop()}</span>
                        <span className="error" style={{ margin: 0, fontSize: '0.85rem' }}>{pr.error}</span>
                        <span className="cfg-item-sub cfg-mono" title={pr.path}>{pr.path}</span>
                      </li>
                    ))}
                  </ul>
                </>
              )}
            </>
          )}
        </div>
      </section>

      <section className="pane" aria-label="Selected plugin" data-testid="plugin-detail">
        <div className="pane-body">
          {!selected && <p className="empty">Select a plugin to install it or to see its status and settings.</p>}
          {selected && catalog.data && installed.data && !selectedPlugin && !selectedInstallation && (
            <p className="empty">No plugin “{selected}” in the catalog.</p>
          )}
          {selected && selectedInstallation && (
            <InstalledDetail key={selected} installation={selectedInstallation} plugin={selectedPlugin} />
          )}
          {selected && !selectedInstallation && selectedPlugin && installed.data && <InstallForm key={selected} plugin={selectedPlugin} />}
        </div>
      </section>
    </div>
  );
}

function PluginHeading({ plugin, id, children }: { plugin: CatalogPlugin | null; id: string; children?: ReactNode }) {
  return (
    <>
      <div className="cfg-title">
        <h2 data-testid="plugin-name">{plugin?.name ?? id}</h2>
        {plugin && <span className="badge badge-muted">v{plugin.version}</span>}
        {plugin && <span className={`badge ${plugin.builtin ? 'badge-muted' : 'badge-accent'}`}>{plugin.builtin ? 'built-in' : 'folder'}</span>}
        {children}
      </div>
      {plugin?.description && <p className="cfg-lead">{plugin.description}</p>}
      {plugin && (
        <p className="cfg-lead" style={{ fontSize: '0.85rem' }}>
          Reads <span className="cfg-mono">{plugin.events.join(', ')}</span>
          {plugin.path && (
            <>
              {' '}· from <span className="cfg-mono">{plugin.path}</span>
            </>
          )}
        </p>
      )}
    </>
  );
}

function InstallForm({ plugin }: { plugin: CatalogPlugin }) {
  const { client } = useCortex();
  const { projectId, base } = useProject();
  const queryClient = useQueryClient();
  const [settings, setSettings] = useState<unknown>(() => defaultsOf(plugin.settingsSchema) ?? {});
  const [enabled, setEnabled] = useState(true);
  const [backfill, setBackfill] = useState(false);

  const install = useMutation({
    mutationFn: () => client.request<PluginInstallation>('POST', `${base}/plugins`, { pluginId: plugin.id, settings, enabled, backfill }),
    onSuccess: (inst) => {
      queryClient.setQueryData<Installations>(installationsKey(projectId), (d) => d && upsertInstallation(d, inst));
      navigate(`/plugins/${plugin.id}`);
    },
  });
  const errors = fieldErrorsOf(install.error, 'body/settings');

  function submit(e: FormEvent): void {
    e.preventDefault();
    install.mutate();
  }

  return (
    <form className="cfg-detail-body cfg-form" onSubmit={submit} aria-label={`Install ${plugin.name}`} data-testid="install-form" noValidate>
      <PluginHeading plugin={plugin} id={plugin.id} />
      <Section title="Settings">
        <SchemaForm schema={plugin.settingsSchema} value={settings} onChange={setSettings} errors={errors} disabled={install.isPending} />
      </Section>
      <Section title="Install">
        <label className="sf-check">
          <input type="checkbox" checked={enabled} onChange={(e) => setEnabled(e.target.checked)} data-testid="install-enabled" />
          <span>Enabled right away</span>
        </label>
        <label className="sf-check">
          <input type="checkbox" checked={backfill} onChange={(e) => setBackfill(e.target.checked)} data-testid="install-backfill" />
          <span>Also process the project’s earlier messages (backfill)</span>
        </label>
        <FormProblem error={install.error} fieldErrors={errors} action="Not installed" />
        <div className="cfg-actions">
          <button type="submit" disabled={install.isPending} data-testid="install-submit">
            {install.isPending ? 'Installing…' : `Install ${plugin.name}`}
          </button>
        </div>
      </Section>
    </form>
  );
}

function InstalledDetail({ installation, plugin }: { installation: PluginInstallation; plugin: CatalogPlugin | null }) {
  const { client } = useCortex();
  const { projectId, base } = useProject();
  const queryClient = useQueryClient();
  const path = `${base}/plugins/${encodeURIComponent(installation.pluginId)}`;

  const toggle = useMutation({
    mutationFn: (next: boolean) => client.request<PluginInstallation>('PATCH', path, { enabled: next }),
    onSuccess: (inst) => queryClient.setQueryData<Installations>(installationsKey(projectId), (d) => d && upsertInstallation(d, inst)),
  });
  const uninstall = useMutation({
    mutationFn: () => client.request<null>('DELETE', path),
    onSuccess: () => {
      queryClient.setQueryData<Installations>(installationsKey(projectId), (d) => d && { items: d.items.filter((i) => i.pluginId !== installation.pluginId) });
      navigate('/plugins');
    },
  });

  return (
    <div className="cfg-detail-body" data-testid="installed-detail" data-plugin-id={installation.pluginId}>
      <PluginHeading plugin={plugin} id={installation.pluginId}>
        <span className="spacer" style={{ flex: 1 }} />
        <Toggle
          checked={installation.enabled}
          onChange={(next) => toggle.mutate(next)}
          busy={toggle.isPending}
          label={`${plugin?.name ?? installation.pluginId} enabled`}
          testId="plugin-enabled"
        />
      </PluginHeading>
      <ProblemText error={toggle.error} prefix="Could not change it" />
      <StatusPanel pluginId={installation.pluginId} />
      {plugin ? (
        <SettingsEditor key={JSON.stringify(installation.settings)} installation={installation} plugin={plugin} path={path} />
      ) : (
        <p className="cfg-notice warn">This plugin is no longer in the catalog (its file was removed or failed to load): its settings cannot be edited.</p>
      )}
      <Section title="Uninstall">
        <p className="cfg-lead">The plugin stops and its cursor is dropped. Annotations it wrote stay.</p>
        <div className="cfg-actions">
          <ConfirmAction
            label="Uninstall…"
            question={<>Uninstall <strong>{plugin?.name ?? installation.pluginId}</strong> from {projectId}?</>}
            confirmLabel="Uninstall"
            busy={uninstall.isPending}
            onConfirm={() => uninstall.mutate()}
            testId="uninstall"
          />
        </div>
        <ProblemText error={uninstall.error} prefix="Could not uninstall" />
      </Section>
    </div>
  );
}

function SettingsEditor({ installation, plugin, path }: { installation: PluginInstallation; plugin: CatalogPlugin; path: string }) {
  const { client } = useCortex();
  const { projectId } = useProject();
  const queryClient = useQueryClient();
  const [settings, setSettings] = useState<unknown>(installation.settings);
  const dirty = JSON.stringify(settings) !== JSON.stringify(installation.settings);
  const save = useMutation({
    mutationFn: () => client.request<PluginInstallation>('PATCH', path, { settings }),
    onSuccess: (inst) => queryClient.setQueryData<Installations>(installationsKey(projectId), (d) => d && upsertInstallation(d, inst)),
  });
  const errors = fieldErrorsOf(save.error, 'body/settings');
  return (
    <form
      className="cfg-form"
      noValidate
      aria-label={`${plugin.name} settings`}
      data-testid="settings-form"
      onSubmit={(e) => {
        e.preventDefault();
        save.mutate();
      }}
    >
      <Section
        title="Settings"
        actions={
          <>
            {dirty && <span className="badge badge-warn">unsaved</span>}
            <button type="button" className="secondary" disabled={!dirty || save.isPending} onClick={() => { setSettings(installation.settings); save.reset(); }}>
              Revert
            </button>
            <button type="submit" disabled={!dirty || save.isPending} data-testid="settings-save">
              {save.isPending ? 'Saving…' : 'Save settings'}
            </button>
          </>
        }
      >
        <SchemaForm schema={plugin.settingsSchema} value={settings} onChange={setSettings} errors={errors} disabled={save.isPending} />
        <FormProblem error={save.error} fieldErrors={errors} action="Not saved" />
      </Section>
    </form>
  );
}

const STATE_BADGE: Record<PluginStatus['state'], string> = {
  starting: 'badge-accent',
  idle: 'badge-on',
  busy: 'badge-accent',
  backoff: 'badge-warn',
  stopped: 'badge-off',
};

/** Live status: refetched (throttled) on plugin.* and annotation events of this plugin. */
function StatusPanel({ pluginId }: { pluginId: string }) {
  const { client } = useCortex();
  const { projectId, base } = useProject();
  const status = useQuery({
    queryKey: statusKey(projectId, pluginId),
    queryFn: () => client.request<PluginStatus>('GET', `${base}/plugins/${encodeURIComponent(pluginId)}/status`),
    staleTime: Infinity,
  });
  // Catch-up progress: the largest backlog seen since it last was 0.
  const peak = useRef(0);
  const s = status.data;
  const backlog = s?.backlog ?? 0;
  if (backlog === 0) peak.current = 0;
  else peak.current = Math.max(peak.current, backlog);

  return (
    <Section
      title="Status"
      testId="plugin-status"
      actions={
        <button type="button" className="link" onClick={() => void status.refetch()} disabled={status.isFetching} data-testid="status-refresh">
          {status.isFetching ? 'Refreshing…' : 'Refresh'}
        </button>
      }
    >
      <ProblemText error={status.error} prefix="Could not load the status" />
      {status.isPending && <p className="cfg-lead">Loading status…</p>}
      {s && (
        <>
          <div className="cfg-actions">
            <span className={`badge ${STATE_BADGE[s.state]}`} data-testid="status-state">{s.state}</span>
            <span className="cfg-lead" style={{ fontSize: '0.85rem' }}>
              {s.state === 'backoff' ? 'Restarting after a failure.' : s.state === 'stopped' ? (s.enabled ? 'Not running.' : 'Disabled: not reading events.') : s.backlog > 0 ? 'Catching up.' : 'Up to date.'}
            </span>
          </div>
          {backlog > 0 && (
            <div className="cfg-progress" data-testid="status-progress">
              <progress max={peak.current} value={peak.current - backlog} aria-label="Catch-up progress" />
              <span className="cfg-lead" style={{ fontSize: '0.85rem' }}>
                {formatCount(backlog)} events behind
                {s.eventsPerSecond > 0 && ` · ${s.eventsPerSecond.toFixed(1)}/s · about ${Math.ceil(backlog / s.eventsPerSecond)} s left`}
              </span>
            </div>
          )}
          <dl className="cfg-stats">
            <Stat label="Backlog" value={formatCount(s.backlog)} testId="status-backlog" />
            <Stat label="Processed" value={formatCount(s.processed)} testId="status-processed" />
            <Stat label="Annotations" value={formatCount(s.annotations)} testId="status-annotations" />
            <Stat label="Events / s" value={s.eventsPerSecond.toFixed(1)} />
            <Stat label="Errors" value={formatCount(s.errors)} bad={s.errors > 0} testId="status-errors" />
            <Stat label="Restarts" value={formatCount(s.restarts)} bad={s.restarts > 0} />
          </dl>
          {s.recentErrors.length > 0 && (
            <>
              <h4 className="cfg-group-title" style={{ padding: 0 }}>Recent errors</h4>
              <ul className="cfg-errors" data-testid="status-recent-errors">
                {s.recentErrors.map((e, i) => (
                  <li key={i}>
                    <span className="badge badge-danger">{e.kind}</span> {e.message}
                    <span className="muted">
                      {' '}· {formatDateTime(e.createdAt)}
                      {e.eventSeq !== null && ` · event #${e.eventSeq}`}
                    </span>
                  </li>
                ))}
              </ul>
            </>
          )}
        </>
      )}
    </Section>
  );
}

function Stat({ label, value, bad, testId }: { label: string; value: string; bad?: boolean; testId?: string }) {
  return (
    <div className={`cfg-stat${bad ? ' bad' : ''}`}>
      <dt>{label}</dt>
      <dd data-testid={testId}>{value}</dd>
    </div>
  );
}

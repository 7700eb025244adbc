import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { SCOPES, type ApiKey, type BotSettings, type Project, type Scope } from '../../../../common/schemas.js';
import type { ServerSettings } from '../../../../common/settings-schemas.js';
import { ProblemText } from '../../components/ProblemText.js';
import { useCortex } from '../../lib/cortex-context.js';
import { formatDateTime } from '../../lib/format.js';
import { useProject } from '../../lib/project.js';
import { modelsKey, type ModelsOverview } from '../models/modelsData.js';
import { Card, CopyButton, Fact } from '../overview/ui.js';
import { botSettingsKey, keysKey, projectsKey, serverSettingsKey } from './settingsData.js';

type BotSettingsView = BotSettings & { odinAccessKeySet: boolean };
type CreatedKey = ApiKey & { key: string };

/** `#/settings`: project, API keys, transcription settings, data and retention, the REST API for scripts. */
export function SettingsView() {
  const { client } = useCortex();
  const server = useQuery({ queryKey: serverSettingsKey, queryFn: () => client.request<ServerSettings>('GET', '/api/settings'), staleTime: Infinity, retry: false });
  return (
    <div className="admin-view settings" data-testid="settings">
      <header>
        <h2>Settings</h2>
      </header>
      <div className="two-col">
        <ProjectSection />
        <ScriptsSection server={server.data} serverError={server.error} />
      </div>
      <KeysSection />
      <div className="two-col">
        <BotSettingsSection />
        <DataSection server={server.data} serverError={server.error} />
      </div>
    </div>
  );
}

// ---- project ---------------------------------------------------------------------

function ProjectSection() {
  const { client } = useCortex();
  const queryClient = useQueryClient();
  const { projectId, setProjectId } = useProject();
  const [name, setName] = useState('');
  const projects = useQuery({ queryKey: projectsKey, queryFn: () => client.request<{ items: Project[] }>('GET', '/api/projects'), staleTime: Infinity });
  const create = useMutation({
    mutationFn: (n: string) => client.request<Project>('POST', '/api/projects', { name: n }),
    onSuccess: (p) => {
      setName('');
      queryClient.setQueryData<{ items: Project[] }>(projectsKey, (d) => d && { items: [...d.items.filter((x) => x.id !== p.id), p] });
    },
  });
  function submit(e: FormEvent<HTMLFormElement>): void {
    e.preventDefault();
    if (name.trim()) create.mutate(name.trim());
  }
  return (
    <Card id="project" title="Project" count={projects.data?.items.length}>
      <ProblemText error={projects.error} prefix="Could not list projects" />
      <ul className="items" data-testid="projects" aria-label="Projects">
        {(projects.data?.items ?? []).map((p) => (
          <li className="item" key={p.id} data-testid="project-row" data-project-id={p.id}>
            <span className="grow">
              {p.name} <span className="muted mono">{p.id}</span>
            </span>
            {p.id === projectId ? (
              <span className="badge badge-ok" aria-current="true">
                current
              </span>
            ) : (
              <button type="button" className="secondary small" onClick={() => setProjectId(p.id)} aria-label={`Switch to ${p.name}`}>
                Switch
              </button>
            )}
          </li>
        ))}
      </ul>
      <form className="form" onSubmit={submit} aria-label="New project">
        <label className="field grow">
          <span>New project name</span>
          <input type="text" value={name} maxLength={200} onChange={(e) => setName(e.target.value)} placeholder="Name" />
        </label>
        <button type="submit" disabled={create.isPending || !name.trim()}>
          {create.isPending ? 'Creating…' : 'Create'}
        </button>
        {create.data && create.data.id !== projectId && (
          <p className="note" role="status">
            Created {create.data.name}.{' '}
            <button type="button" className="link" onClick={() => setProjectId(create.data.id)}>
              Switch to it
            </button>
          </p>
        )}
        <ProblemText error={create.error} prefix="Not created" />
      </form>
    </Card>
  );
}

// ---- API keys --------------------------------------------------------------------

function KeysSection() {
  const { client } = useCortex();
  const queryClient = useQueryClient();
  const keys = useQuery({ queryKey: keysKey, queryFn: () => client.request<{ items: ApiKey[] }>('GET', '/api/keys'), staleTime: Infinity });
  const projects = useQuery({ queryKey: projectsKey, queryFn: () => client.request<{ items: Project[] }>('GET', '/api/projects'), staleTime: Infinity });
  const [created, setCreated] = useState<CreatedKey | null>(null);
  const [showRevoked, setShowRevoked] = useState(false);
  const items = (keys.data?.items ?? []).filter((k) => showRevoked || !k.revokedAt);
  const revokedCount = (keys.data?.items ?? []).filter((k) => k.revokedAt).length;

  return (
    <Card
      id="keys"
      title="API keys"
      count={keys.data ? keys.data.items.length - revokedCount : undefined}
      actions={
        revokedCount > 0 && (
          <label className="note">
            <input type="checkbox" checked={showRevoked} onChange={(e) => setShowRevoked(e.target.checked)} /> show {revokedCount} revoked
          </label>
        )
      }
    >
      <ProblemText error={keys.error} prefix="Could not list keys" />
      {created && (
        <div className="secret" data-testid="new-key" role="region" aria-label="New API key">
          <p>
            <strong>Key “{created.name}” created.</strong> Copy it now: it is shown only once and cannot be read again.
          </p>
          <div className="secret-row">
            <code data-testid="new-key-secret">{created.key}</code>
            <CopyButton text={created.key} testId="copy-key" />
            <button type="button" className="secondary" onClick={() => setCreated(null)}>
              I have saved it
            </button>
          </div>
        </div>
      )}
      {keys.data && (
        <table className="table" data-testid="keys">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Key</th>
              <th scope="col">Scopes</th>
              <th scope="col">Project</th>
              <th scope="col">Last used</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {items.map((k) => (
              <KeyRow key={k.id} apiKey={k} />
            ))}
          </tbody>
        </table>
      )}
      <NewKeyForm
        projects={projects.data?.items ?? []}
        onCreated={(k) => {
          setCreated(k);
          const { key: _secret, ...stored } = k;
          queryClient.setQueryData<{ items: ApiKey[] }>(keysKey, (d) => d && { items: [...d.items, stored] });
        }}
      />
    </Card>
  );
}

function KeyRow({ apiKey: k }: { apiKey: ApiKey }) {
  const { client } = useCortex();
  const queryClient = useQueryClient();
  const [confirming, setConfirming] = useState(false);
  const revoke = useMutation({
    mutationFn: () => client.request<ApiKey>('DELETE', `/api/keys/${encodeURIComponent(k.id)}`),
    onSuccess: (r) => queryClient.setQueryData<{ items: ApiKey[] }>(keysKey, (d) => d && { items: d.items.map((x) => (x.id === r.id ? r : x)) }),
  });
  return (
    <tr data-testid="key-row" data-key-id={k.id}>
      <td>{k.name}</td>
      <td className="mono">{k.prefix}…</td>
      <td className="mono">{k.scopes.join(' ')}</td>
      <td className="mono">{k.projectId ?? 'any'}</td>
      <td>{k.lastUsedAt ? formatDateTime(k.lastUsedAt) : <span className="muted">never</span>}</td>
      <td className="small">
        {k.revokedAt ? (
          <span className="badge badge-muted" title={k.revokedAt}>
            revoked
          </span>
        ) : confirming ? (
          <span className="secret-row">
            <button type="button" className="danger confirm" onClick={() => revoke.mutate()} disabled={revoke.isPending} autoFocus>
              {revoke.isPending ? 'Revoking…' : 'Revoke now'}
            </button>
            <button type="button" className="secondary" onClick={() => setConfirming(false)}>
              Keep
            </button>
          </span>
        ) : (
          <button type="button" className="danger" onClick={() => setConfirming(true)} aria-label={`Revoke ${k.name}`}>
            Revoke
          </button>
        )}
        <ProblemText error={revoke.error} />
      </td>
    </tr>
  );
}

function NewKeyForm({ projects, onCreated }: { projects: Project[]; onCreated: (k: CreatedKey) => void }) {
  const { client } = useCortex();
  const { projectId } = useProject();
  const [name, setName] = useState('');
  const [scopes, setScopes] = useState<Scope[]>(['sessions', 'messages', 'events']);
  const [binding, setBinding] = useState<string>(projectId);
  const create = useMutation({
    mutationFn: (body: { name: string; scopes: Scope[]; projectId: string | null }) => client.request<CreatedKey>('POST', '/api/keys', body),
    onSuccess: (k) => {
      setName('');
      onCreated(k);
    },
  });
  function submit(e: FormEvent<HTMLFormElement>): void {
    e.preventDefault();
    if (name.trim()) create.mutate({ name: name.trim(), scopes, projectId: binding === '' ? null : binding });
  }
  const toggle = (s: Scope, on: boolean) => setScopes((prev) => (on ? [...prev, s] : prev.filter((x) => x !== s)));
  return (
    <form className="form" onSubmit={submit} aria-label="New API key" data-testid="new-key-form">
      <label className="field grow">
        <span>New key name</span>
        <input type="text" value={name} maxLength={200} onChange={(e) => setName(e.target.value)} placeholder="e.g. game server EU-1" />
      </label>
      <label className="field">
        <span>Project</span>
        <select value={binding} onChange={(e) => setBinding(e.target.value)}>
          <option value="">any project</option>
          {projects.map((p) => (
            <option key={p.id} value={p.id}>
              {p.name} ({p.id})
            </option>
          ))}
        </select>
      </label>
      <button type="submit" disabled={create.isPending || !name.trim() || scopes.length === 0}>
        {create.isPending ? 'Creating…' : 'Create key'}
      </button>
      <fieldset className="scopes">
        <legend>Scopes (what the key may do; admin = everything)</legend>
        {SCOPES.map((s) => (
          <label key={s}>
            <input type="checkbox" checked={scopes.includes(s)} onChange={(e) => toggle(s, e.target.checked)} data-testid={`scope-${s}`} />
            {s}
          </label>
        ))}
      </fieldset>
      <ProblemText error={create.error} prefix="Not created" />
    </form>
  );
}

// ---- transcription bot settings -------------------------------------------------

const NUMBER_FIELDS = [
  ['preRollMs', 'Pre-roll (ms)', 1],
  ['minSilenceMs', 'Silence that ends an utterance (ms)', 1],
  ['maxUtteranceMs', 'Longest utterance (ms)', 1],
  ['minSpeechMs', 'Shortest speech kept (ms)', 1],
  ['startThreshold', 'Speech starts at VAD probability', 0.01],
  ['stopThreshold', 'Speech stops below VAD probability', 0.01],
] as const;
type NumberField = (typeof NUMBER_FIELDS)[number][0];

function BotSettingsSection() {
  const { client } = useCortex();
  const { projectId, base } = useProject();
  const settings = useQuery({ queryKey: botSettingsKey(projectId), queryFn: () => client.request<BotSettingsView>('GET', `${base}/bot-settings`), staleTime: Infinity });
  const models = useQuery({ queryKey: modelsKey, queryFn: () => client.request<ModelsOverview>('GET', '/api/models'), staleTime: Infinity });
  return (
    <Card id="bot-settings" title="Transcription (this project)">
      <p className="note">Bots started after a change use it.</p>
      <ProblemText error={settings.error} prefix="Could not read the bot settings" />
      {settings.data && <BotSettingsForm key={projectId} initial={settings.data} modelNames={(models.data?.items ?? []).map((m) => m.name)} />}
    </Card>
  );
}

function BotSettingsForm({ initial, modelNames }: { initial: BotSettingsView; modelNames: string[] }) {
  const { client } = useCortex();
  const { projectId, base } = useProject();
  const queryClient = useQueryClient();
  const [language, setLanguage] = useState(initial.language ?? '');
  const [model, setModel] = useState(initial.model ?? '');
  const [audioCtx, setAudioCtx] = useState(initial.audioCtx);
  const [numbers, setNumbers] = useState<Record<NumberField, string>>(() => Object.fromEntries(NUMBER_FIELDS.map(([k]) => [k, String(initial[k])])) as Record<NumberField, string>);
  const [odinKey, setOdinKey] = useState('');
  const save = useMutation({
    mutationFn: (patch: Record<string, unknown>) => client.request<BotSettingsView>('PATCH', `${base}/bot-settings`, patch),
    onSuccess: (d) => queryClient.setQueryData(botSettingsKey(projectId), d),
  });
  const patch: Record<string, unknown> = {};
  if ((language.trim() || null) !== initial.language) patch.language = language.trim() || null;
  if ((model || null) !== initial.model) patch.model = model || null;
  if (audioCtx !== initial.audioCtx) patch.audioCtx = audioCtx;
  for (const [k] of NUMBER_FIELDS) if (numbers[k] !== String(initial[k])) patch[k] = numbers[k] === '' ? NaN : Number(numbers[k]);
  if (odinKey) patch.odinAccessKey = odinKey;
  const dirty = Object.keys(patch).length > 0;

  function submit(e: FormEvent<HTMLFormElement>): void {
    e.preventDefault();
    if (dirty) save.mutate(patch);
  }
  const models = model && !modelNames.includes(model) ? [...modelNames, model] : modelNames;
  return (
    <form className="form grid-form" onSubmit={submit} aria-label="Transcription settings" data-testid="bot-settings-form">
      <label className="field">
        <span>Language</span>
        <input type="text" value={language} onChange={(e) => setLanguage(e.target.value)} placeholder="detect" size={8} />
      </label>
      <label className="field">
        <span>Model</span>
        <select value={model} onChange={(e) => setModel(e.target.value)}>
          <option value="">default</option>
          {models.map((m) => (
            <option key={m} value={m}>
              {m}
            </option>
          ))}
        </select>
      </label>
      <label className="field">
        <span>Encoder context</span>
        <select value={audioCtx} onChange={(e) => setAudioCtx(e.target.value as BotSettings['audioCtx'])}>
          <option value="auto">auto (faster)</option>
          <option value="full">full</option>
        </select>
      </label>
      {NUMBER_FIELDS.map(([k, label, step]) => (
        <label className="field" key={k}>
          <span>{label}</span>
          <input type="number" step={step} value={numbers[k]} onChange={(e) => setNumbers((n) => ({ ...n, [k]: e.target.value }))} />
        </label>
      ))}
      <label className="field grow">
        <span>ODIN access key ({initial.odinAccessKeySet ? 'one is stored; type to replace it' : 'none stored'})</span>
        <input type="password" value={odinKey} onChange={(e) => setOdinKey(e.target.value)} autoComplete="off" placeholder={initial.odinAccessKeySet ? '••••••••' : ''} />
      </label>
      <div className="actions">
        <button type="submit" disabled={!dirty || save.isPending}>
          {save.isPending ? 'Saving…' : 'Save'}
        </button>
        {initial.odinAccessKeySet && (
          <button type="button" className="danger" onClick={() => save.mutate({ odinAccessKey: null })} disabled={save.isPending}>
            Remove ODIN key
          </button>
        )}
        {save.isSuccess && !dirty && (
          <p className="note" role="status">
            Saved.
          </p>
        )}
        <ProblemText error={save.error} prefix="Not saved" />
      </div>
    </form>
  );
}

// ---- data and retention (server configuration, read-only) ---------------------------

function DataSection({ server, serverError }: { server: ServerSettings | undefined; serverError: unknown }) {
  return (
    <Card id="data" title="Data and retention (server)">
      <p className="note">Set in config.json, the environment or command-line flags; read-only here.</p>
      <ProblemText error={serverError} prefix="Could not read the server settings" />
      {server && (
        <dl className="facts" data-testid="server-settings">
          <Fact label="Data folder" testId="data-dir">
            <span className="mono">{server.dataDir}</span>
          </Fact>
          <Fact label="Evidence audio" testId="retention">
            {server.evidenceRetentionDays === 0 ? 'not kept (evidenceRetentionDays = 0)' : `kept ${server.evidenceRetentionDays} day${server.evidenceRetentionDays === 1 ? '' : 's'} per utterance`}
          </Fact>
          <Fact label="Transcription engine">{server.transcriptionEngine === 'whisper' ? 'whisper.cpp (local)' : 'OpenAI-compatible endpoint'}</Fact>
          <Fact label="ZeroMQ data plane">{server.busEndpoint ? <span className="mono">{server.busEndpoint}</span> : 'off'}</Fact>
          <Fact label="Plugins folder">
            <span className="mono">{server.pluginsDir}</span>
          </Fact>
          <Fact label="Plugin limits">
            {server.pluginTimeoutMs} ms per event, {server.pluginMemoryMb} MB heap
          </Fact>
          <Fact label="Webhook attempts">{server.webhookRetryScheduleMs.length}</Fact>
          <Fact label="Version">{server.version}</Fact>
        </dl>
      )}
    </Card>
  );
}

// ---- the REST API for scripts ----------------------------------------------------

function ScriptsSection({ server, serverError }: { server: ServerSettings | undefined; serverError: unknown }) {
  const { transport } = useCortex();
  const { projectId } = useProject();
  // In a browser the console is served by the API itself; over IPC the server says where it listens.
  const url = transport === 'http' ? window.location.origin : (server?.baseUrl ?? null);
  const curl = url && `curl -s -H "X-API-Key: $CORTEX_KEY" ${url}/api/projects/${projectId}/sessions?status=active`;
  return (
    <Card id="rest" title="REST API for scripts">
      {transport === 'ipc' && <ProblemText error={serverError} prefix="Could not read where the API listens" />}
      {url ? (
        <>
          <dl className="facts">
            <Fact label="Base URL" testId="rest-url">
              <span className="mono">{url}</span>
            </Fact>
            <Fact label="Port" testId="rest-port">
              {server?.port ?? (new URL(url).port || '80')}
              {server && !server.allowRemote && <span className="muted"> · this machine only</span>}
            </Fact>
          </dl>
          <div className="snippet-row">
            <pre className="snippet" data-testid="curl">{curl}</pre>
            <CopyButton text={curl!} testId="copy-curl" />
          </div>
          <p className="note">
            Create a key below and export it as CORTEX_KEY. The API is described at <a href={`${url}/api/openapi.json`} target="_blank" rel="noreferrer">{url}/api/openapi.json</a>.
          </p>
        </>
      ) : (
        <p className="muted">The API is not listening on a port.</p>
      )}
    </Card>
  );
}

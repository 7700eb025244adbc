import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { ProblemText } from '../../components/ProblemText.js';
import { useCortex } from '../../lib/cortex-context.js';
import { useEvents } from '../../lib/useEvents.js';
import { Card, formatBytes } from '../overview/ui.js';
import { applyModelEvent, modelsKey, type CatalogModel, type InstalledModel, type ModelDownload, type ModelsOverview } from './modelsData.js';

const MODEL_EVENTS = { types: ['model.*'] };

/** `#/models`: the Whisper models the transcription bots use. */
export function ModelsView() {
  const { client } = useCortex();
  const queryClient = useQueryClient();
  // Downloads that failed, by model name (the API keeps no record of them: the event says why).
  const [failures, setFailures] = useState<Record<string, string>>({});

  const models = useQuery({ queryKey: modelsKey, queryFn: () => client.request<ModelsOverview>('GET', '/api/models'), staleTime: Infinity });

  useEvents(MODEL_EVENTS, (event) => {
    if (event.type === 'model.download.failed') {
      const { name, error } = event.payload.data as { name?: string; error?: string };
      if (name) setFailures((f) => ({ ...f, [name]: error ?? 'the download failed' }));
    }
    const data = queryClient.getQueryData<ModelsOverview>(modelsKey);
    const next = data && applyModelEvent(data, event);
    if (next) queryClient.setQueryData(modelsKey, next);
  });

  const download = useMutation({
    mutationFn: (name: string) => client.request<ModelDownload>('POST', '/api/models/download', { name }),
    onMutate: (name) => setFailures(({ [name]: _gone, ...rest }) => rest),
  });

  return (
    <div className="admin-view models" data-testid="models">
      <header>
        <h2>Whisper models</h2>
        <p className="muted">
          The transcription bots use these. They live in <span className="mono" data-testid="models-dir">{models.data?.dir ?? '…'}</span>.
        </p>
      </header>
      <ProblemText error={models.error} prefix="Could not read the models" />

      <Card id="installed" title="Installed" count={models.data?.items.length}>
        {models.isPending && <p className="muted">Loading…</p>}
        {models.data && models.data.items.length === 0 && (
          <p className="empty" data-testid="no-models">
            No model is installed: bots cannot transcribe until you import or download one (tiny.en is small and fast).
          </p>
        )}
        {models.data && models.data.items.length > 0 && (
          <table className="table" data-testid="installed-models">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Type</th>
                <th scope="col">Languages</th>
                <th scope="col" className="num">Size</th>
                <th scope="col">File</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {models.data.items.map((m) => (
                <InstalledRow key={m.path} model={m} />
              ))}
            </tbody>
          </table>
        )}
        <ImportForm />
      </Card>

      <Card id="catalog" title="Download" count={models.data?.catalog.length}>
        <p className="note">Downloads come from the whisper.cpp model host and are checked against their published SHA-1. Offline machines must import a file instead.</p>
        <ProblemText error={download.error} prefix={download.variables ? `Could not start downloading ${download.variables}` : undefined} />
        {models.data && (
          <table className="table" data-testid="catalog">
            <thead>
              <tr>
                <th scope="col">Model</th>
                <th scope="col">Languages</th>
                <th scope="col" className="num">Size</th>
                <th scope="col">Status</th>
              </tr>
            </thead>
            <tbody>
              {models.data.catalog.map((c) => (
                <CatalogRow
                  key={c.name}
                  model={c}
                  download={models.data.downloads.find((d) => d.name === c.name)}
                  failure={failures[c.name]}
                  starting={download.isPending && download.variables === c.name}
                  onDownload={() => download.mutate(c.name)}
                />
              ))}
            </tbody>
          </table>
        )}
      </Card>
    </div>
  );
}

function InstalledRow({ model }: { model: InstalledModel }) {
  const { client } = useCortex();
  const queryClient = useQueryClient();
  const [confirming, setConfirming] = useState(false);
  const remove = useMutation({
    mutationFn: () => client.request<null>('DELETE', `/api/models/${encodeURIComponent(model.name)}`),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: modelsKey }),
  });
  return (
    <tr data-testid="installed-model" data-name={model.name}>
      <td className="mono">{model.name}</td>
      <td>{model.type}</td>
      <td>{model.multilingual ? 'many' : 'English only'}</td>
      <td className="num">{formatBytes(model.sizeBytes)}</td>
      <td className="path mono" title={model.path}>
        {model.source === 'bundled' ? 'shipped with the app' : model.path}
      </td>
      <td className="small">
        {model.source === 'data' && !confirming && (
          <button type="button" className="danger" onClick={() => setConfirming(true)} aria-label={`Delete ${model.name}`}>
            Delete
          </button>
        )}
        {confirming && (
          <span className="secret-row">
            <button type="button" className="danger confirm" onClick={() => remove.mutate()} disabled={remove.isPending} autoFocus>
              {remove.isPending ? 'Deleting…' : `Delete ${model.name}`}
            </button>
            <button type="button" className="secondary" onClick={() => setConfirming(false)}>
              Keep
            </button>
          </span>
        )}
        <ProblemText error={remove.error} />
      </td>
    </tr>
  );
}

function ImportForm() {
  const { client } = useCortex();
  const queryClient = useQueryClient();
  const [path, setPath] = useState('');
  const [name, setName] = useState('');
  const importModel = useMutation({
    mutationFn: (body: { path: string; name?: string }) => client.request<InstalledModel>('POST', '/api/models/import', body),
    onSuccess: () => {
      setPath('');
      setName('');
      void queryClient.invalidateQueries({ queryKey: modelsKey });
    },
  });
  function submit(e: FormEvent<HTMLFormElement>): void {
    e.preventDefault();
    const p = path.trim();
    if (p) importModel.mutate({ path: p, ...(name.trim() && { name: name.trim() }) });
  }
  return (
    <form className="form" onSubmit={submit} aria-label="Import a model file" data-testid="import-form">
      <label className="field grow">
        <span>Model file on this machine (.bin)</span>
        <input type="text" value={path} onChange={(e) => setPath(e.target.value)} placeholder="/home/me/models/ggml-tiny.en.bin" spellCheck={false} />
      </label>
      <label className="field">
        <span>Name (optional)</span>
        <input type="text" value={name} onChange={(e) => setName(e.target.value)} placeholder="from the file name" spellCheck={false} />
      </label>
      <button type="submit" disabled={importModel.isPending || !path.trim()}>
        {importModel.isPending ? 'Importing…' : 'Import'}
      </button>
      {importModel.isSuccess && (
        <p className="note" role="status">
          Imported {importModel.data.name}.
        </p>
      )}
      <div data-testid="import-error">
        <ProblemText error={importModel.error} prefix="Not imported" />
      </div>
    </form>
  );
}

function CatalogRow({ model, download, failure, starting, onDownload }: {
  model: CatalogModel;
  download: ModelDownload | undefined;
  failure: string | undefined;
  starting: boolean;
  onDownload: () => void;
}) {
  let status;
  if (download) {
    const pct = download.totalBytes ? Math.floor((100 * download.receivedBytes) / download.totalBytes) : null;
    status = (
      <div className="download" data-testid="download-progress">
        <progress max={download.totalBytes ?? undefined} value={download.totalBytes ? download.receivedBytes : undefined} aria-label={`Downloading ${model.name}`} />
        <span className="note">
          {formatBytes(download.receivedBytes)}
          {download.totalBytes ? ` of ${formatBytes(download.totalBytes)} (${pct} %)` : ' received'}
        </span>
      </div>
    );
  } else if (model.installed) status = <span className="badge badge-ok">installed</span>;
  else
    status = (
      <button type="button" className="secondary small" onClick={onDownload} disabled={starting} aria-label={`Download ${model.name}`}>
        {starting ? 'Starting…' : 'Download'}
      </button>
    );
  return (
    <tr data-testid="catalog-model" data-name={model.name}>
      <td className="mono">{model.name}</td>
      <td>{model.multilingual ? 'many' : 'English only'}</td>
      <td className="num">{model.sizeMiB} MiB</td>
      <td>
        {status}
        {failure && !download && (
          <p className="error" role="alert" data-testid="download-failed">
            Download failed: {failure}
          </p>
        )}
      </td>
    </tr>
  );
}

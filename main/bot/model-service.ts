/**
 * Whisper models for the API: the store plus downloads running in the background. A download
 * reports through the event log (`model.download.started/progress/completed/failed`, at most
 * one progress event per second), so every console sees it live over SSE or IPC.
 */
import type { EventLog } from '../events/log.js';
import { ModelError, ModelStore, MODEL_CATALOG, type InstalledModel } from './models.js';

export interface DownloadState {
  name: string;
  receivedBytes: number;
  totalBytes: number | null;
  startedAt: string;
}

const PROGRESS_EVERY_MS = 1000;

export class ModelService {
  private readonly downloads = new Map<string, DownloadState & { abort: AbortController }>();

  constructor(
    readonly store: ModelStore,
    private readonly events: EventLog,
  ) {}

  async overview(): Promise<{ dir: string; items: InstalledModel[]; catalog: { name: string; sizeMiB: number; multilingual: boolean; installed: boolean }[]; downloads: DownloadState[] }> {
    const items = await this.store.list();
    return {
      dir: this.store.dir,
      items,
      catalog: MODEL_CATALOG.map((m) => ({ name: m.name, sizeMiB: m.sizeMiB, multilingual: m.multilingual, installed: items.some((i) => i.name === m.name) })),
      downloads: [...this.downloads.values()].map(({ abort: _abort, ...d }) => d),
    };
  }

  private emit(tenantId: string, type: 'model.download.started' | 'model.download.progress' | 'model.download.completed' | 'model.download.failed', data: object): void {
    this.events.write(() => {
      this.events.append({ type, tenantId, projectId: null, resourceId: `model:${(data as { name: string }).name}`, action: 'occurred', data });
    }, 'models');
  }

  /** Starts a download in the background; throws ModelError at once for an unknown, installed or already-downloading model. */
  async startDownload(tenantId: string, name: string): Promise<DownloadState> {
    if (!MODEL_CATALOG.some((m) => m.name === name)) throw new ModelError(`unknown model "${name}"; known: ${MODEL_CATALOG.map((m) => m.name).join(', ')}`, 'not_found');
    if (this.downloads.has(name)) throw new ModelError(`model ${name} is already being downloaded`, 'exists');
    if ((await this.store.list()).some((m) => m.name === name && m.source === 'data')) throw new ModelError(`model ${name} is already installed`, 'exists');
    const state = { name, receivedBytes: 0, totalBytes: null as number | null, startedAt: new Date().toISOString(), abort: new AbortController() };
    this.downloads.set(name, state);
    this.emit(tenantId, 'model.download.started', { name });
    let last = 0;
    void this.store
      .download(name, (p) => {
        state.receivedBytes = p.receivedBytes;
        state.totalBytes = p.totalBytes;
        if (Date.now() - last >= PROGRESS_EVERY_MS) {
          last = Date.now();
          this.emit(tenantId, 'model.download.progress', { name, receivedBytes: p.receivedBytes, totalBytes: p.totalBytes });
        }
      }, state.abort.signal)
      .then(
        (model) => this.emit(tenantId, 'model.download.completed', { name, model }),
        (err: Error) => this.emit(tenantId, 'model.download.failed', { name, error: err.message }),
      )
      .finally(() => this.downloads.delete(name));
    const { abort: _abort, ...out } = state;
    return out;
  }

  /** Stops running downloads (shutdown); their partial files are removed. */
  close(): void {
    for (const d of this.downloads.values()) d.abort.abort();
  }
}

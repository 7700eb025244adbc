/** `GET /api/models` and how `model.download.*` events change it. */
import type { DomainEvent } from '../../../../common/events.js';

export interface InstalledModel {
  name: string;
  path: string;
  sizeBytes: number;
  source: 'data' | 'bundled';
  type: string;
  multilingual: boolean;
}

export interface CatalogModel {
  name: string;
  sizeMiB: number;
  multilingual: boolean;
  installed: boolean;
}

export interface ModelDownload {
  name: string;
  receivedBytes: number;
  totalBytes: number | null;
  startedAt: string;
}

export interface ModelsOverview {
  dir: string;
  items: InstalledModel[];
  catalog: CatalogModel[];
  downloads: ModelDownload[];
}

/** Shared by the models view and the overview's engine card. */
export const modelsKey = ['models'] as const;

/** Applies one `model.download.*` event; undefined = nothing to change. */
export function applyModelEvent(o: ModelsOverview, event: DomainEvent): ModelsOverview | undefined {
  const data = event.payload.data as { name?: unknown; receivedBytes?: unknown; totalBytes?: unknown; model?: unknown };
  if (typeof data.name !== 'string') return undefined;
  const name = data.name;
  const others = o.downloads.filter((d) => d.name !== name);
  switch (event.type) {
    case 'model.download.started':
      return { ...o, downloads: [...others, { name, receivedBytes: 0, totalBytes: null, startedAt: event.timestamp }] };
    case 'model.download.progress': {
      const prev = o.downloads.find((d) => d.name === name);
      const d: ModelDownload = {
        name,
        receivedBytes: typeof data.receivedBytes === 'number' ? data.receivedBytes : (prev?.receivedBytes ?? 0),
        totalBytes: typeof data.totalBytes === 'number' ? data.totalBytes : (prev?.totalBytes ?? null),
        startedAt: prev?.startedAt ?? event.timestamp,
      };
      return { ...o, downloads: [...others, d] };
    }
    case 'model.download.completed': {
      const model = data.model as InstalledModel | undefined;
      const items = model ? [...o.items.filter((m) => m.path !== model.path), model].sort((a, b) => a.name.localeCompare(b.name)) : o.items;
      return { ...o, items, downloads: others, catalog: o.catalog.map((c) => (c.name === name ? { ...c, installed: true } : c)) };
    }
    case 'model.download.failed':
      return { ...o, downloads: others };
    default:
      return undefined;
  }
}

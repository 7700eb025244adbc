/** API schemas of the plugin catalog, installations and their status. */
import { Type, type Static } from '@sinclair/typebox';
import { Id, Json, Nullable, Timestamp } from './schemas.js';

export const CatalogPlugin = Type.Object({
  id: Type.String(),
  name: Type.String(),
  version: Type.String(),
  description: Type.Optional(Type.String()),
  events: Type.Array(Type.String()),
  settingsSchema: Json,
  builtin: Type.Boolean(),
  path: Nullable(Type.String({ description: 'the module file of a third-party plugin' })),
});
export const PluginCatalogResponse = Type.Object({
  items: Type.Array(CatalogPlugin),
  problems: Type.Array(Type.Object({ path: Type.String(), error: Type.String() }), { description: 'plugin files in the plugins folder that could not be loaded' }),
});

export const PluginInstallation = Type.Object({
  id: Id,
  pluginId: Type.String(),
  settings: Json,
  enabled: Type.Boolean(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});
export type PluginInstallation = Static<typeof PluginInstallation>;

export const PluginInstall = Type.Object(
  {
    pluginId: Type.String({ minLength: 1, maxLength: 64 }),
    settings: Type.Optional(Json),
    enabled: Type.Optional(Type.Boolean()),
    backfill: Type.Optional(Type.Boolean({ description: "also process the project's earlier events (default: only events after installing)" })),
  },
  { additionalProperties: false },
);
export const PluginUpdate = Type.Object(
  { settings: Type.Optional(Json), enabled: Type.Optional(Type.Boolean()) },
  { additionalProperties: false, minProperties: 1 },
);

export const PluginErrorEntry = Type.Object({
  kind: Type.String({ description: 'threw | timeout | crashed | out_of_memory | load_failed | bad_output | skipped' }),
  message: Type.String(),
  eventSeq: Nullable(Type.Integer()),
  createdAt: Timestamp,
});

export const PluginStatus = Type.Object({
  pluginId: Type.String(),
  enabled: Type.Boolean(),
  state: Type.Union(['starting', 'idle', 'busy', 'backoff', 'stopped'].map((s) => Type.Literal(s))),
  /** Last event seq whose results are committed. */
  cursor: Type.Integer(),
  /** Matching events not yet handled. */
  backlog: Type.Integer(),
  processed: Type.Integer({ description: 'events handled since the process started' }),
  annotations: Type.Integer({ description: 'annotations written since the process started' }),
  errors: Type.Integer({ description: 'errors recorded, all time' }),
  restarts: Type.Integer({ description: 'worker restarts since the process started' }),
  eventsPerSecond: Type.Number({ description: 'over the last 10 s' }),
  recentErrors: Type.Array(PluginErrorEntry),
});
export type PluginStatus = Static<typeof PluginStatus>;

import { join } from 'node:path';
import { ServerSettings } from '../../../common/settings-schemas.js';
import type { CortexConfig } from '../../core/config.js';
import { responses, type Api } from './common.js';

/** Where scripts on this machine reach the API: the bound address (a wildcard bind is reached on loopback). */
function baseUrlOf(app: Api): { port: number | null; baseUrl: string | null } {
  const a = app.server.address();
  if (!a || typeof a === 'string') return { port: null, baseUrl: null };
  const host = a.address === '0.0.0.0' ? '127.0.0.1' : a.address === '::' ? '::1' : a.address;
  return { port: a.port, baseUrl: `http://${host.includes(':') ? `[${host}]` : host}:${a.port}` };
}

/** `GET /api/settings` (scope `admin`): the server's configuration, read-only. */
export function settingsRoutes(app: Api, config: CortexConfig, version: string): void {
  app.get('/settings', { config: { scope: 'admin' }, schema: { tags: ['meta'], response: responses(200, ServerSettings) } }, async () => {
    const bound = baseUrlOf(app);
    return {
      version,
      dataDir: config.dataDir,
      host: config.host,
      port: bound.port ?? config.port,
      baseUrl: bound.baseUrl,
      allowRemote: config.allowRemote,
      evidenceRetentionDays: config.evidenceRetentionDays,
      transcriptionEngine: config.transcriptionEngine,
      busEndpoint: config.busEndpoint,
      pluginsDir: config.pluginsDir ?? join(config.dataDir, 'plugins'),
      pluginTimeoutMs: config.pluginTimeoutMs,
      pluginMemoryMb: config.pluginMemoryMb,
      webhookRetryScheduleMs: config.webhookRetryScheduleMs,
    };
  });
}

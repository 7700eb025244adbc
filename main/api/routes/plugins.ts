import { Type } from '@sinclair/typebox';
import { PluginCatalogResponse, PluginInstall, PluginInstallation, PluginStatus, PluginUpdate } from '../../../common/plugin-schemas.js';
import { notFound } from '../../core/errors.js';
import type { Plugins } from '../../plugins/index.js';
import { noContent, params, responses, scopeOf, type Api, type RouteDeps } from './common.js';

/** GET /api/plugins: what can be installed (built-ins and the plugins folder). */
export function pluginCatalogRoutes(app: Api, plugins: Plugins): void {
  app.get('/plugins', { config: { scope: 'plugins' }, schema: { tags: ['plugins'], response: responses(200, PluginCatalogResponse) } },
    async () => plugins.catalog.list());
}

/** A project's installed plugins, their settings and status; summary regeneration. */
export function pluginRoutes(app: Api, { commit }: RouteDeps, plugins: Plugins): void {
  const { catalog, installations } = plugins;
  const t = { tags: ['plugins'] };
  const c = { scope: 'plugins' as const };
  const pluginOf = async (id: string, field: string) => {
    const entry = await catalog.get(id);
    if (!entry) throw notFound(`plugin "${id}"`, field);
    return entry;
  };
  app.get('/plugins', { config: c, schema: { ...t, params: params(), response: responses(200, Type.Object({ items: Type.Array(PluginInstallation) })) } },
    async (req) => ({ items: installations.list(scopeOf(req)) }));
  app.post('/plugins', { config: c, schema: { ...t, params: params(), body: PluginInstall, response: responses(201, PluginInstallation) } },
    async (req, reply) => {
      const entry = await pluginOf(req.body.pluginId, 'body/pluginId');
      const settings = catalog.settings(entry, req.body.settings);
      const { pluginId, enabled = true, backfill = false } = req.body;
      return reply.code(201).send(await commit(() => installations.install(scopeOf(req), pluginId, settings, enabled, backfill)));
    });
  app.get('/plugins/:pluginId', { config: c, schema: { ...t, params: params('pluginId'), response: responses(200, PluginInstallation) } },
    async (req) => installations.get(scopeOf(req), req.params.pluginId));
  app.patch('/plugins/:pluginId', { config: c, schema: { ...t, params: params('pluginId'), body: PluginUpdate, response: responses(200, PluginInstallation) } },
    async (req) => {
      const scope = scopeOf(req);
      installations.get(scope, req.params.pluginId);
      const settings = req.body.settings === undefined ? undefined : catalog.settings(await pluginOf(req.params.pluginId, 'params/pluginId'), req.body.settings);
      return commit(() => installations.update(scope, req.params.pluginId, { settings, enabled: req.body.enabled }));
    });
  app.delete('/plugins/:pluginId', { config: c, schema: { ...t, params: params('pluginId'), response: noContent } },
    async (req, reply) => {
      await commit(() => installations.remove(scopeOf(req), req.params.pluginId));
      return reply.code(204).send(null);
    });
  app.get('/plugins/:pluginId/status', { config: c, schema: { ...t, params: params('pluginId'), response: responses(200, PluginStatus) } },
    async (req) => plugins.status(scopeOf(req), req.params.pluginId));
  app.post('/sessions/:sessionId/summary/regenerate', {
    config: { scope: 'sessions' },
    schema: { tags: ['sessions'], params: params('sessionId'), response: { 202: Type.Object({ eventId: Type.String(), seq: Type.Integer() }), ...responses(200, Type.Object({})) } },
  }, async (req, reply) => reply.code(202).send(await commit(() => plugins.requestSummary(scopeOf(req), req.params.sessionId))));
}

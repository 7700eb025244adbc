import { BotSettingsUpdate, BotSettingsView } from '../../../common/schemas.js';
import type { BotSettingsModule } from '../../bot/settings.js';
import { params, responses, scopeOf, type Api, type RouteDeps } from './common.js';

/** A project's transcription-bot settings; bots started afterwards use them. */
export function botSettingsRoutes(app: Api, { commit }: RouteDeps, settings: BotSettingsModule): void {
  const t = { tags: ['sessions'] };
  const c = { scope: 'sessions' as const };
  app.get('/bot-settings', { config: c, schema: { ...t, params: params(), response: responses(200, BotSettingsView) } }, async (req) => settings.view(scopeOf(req)));
  app.patch('/bot-settings', { config: c, schema: { ...t, params: params(), body: BotSettingsUpdate, response: responses(200, BotSettingsView) } },
    async (req) => commit(() => settings.update(scopeOf(req), req.body)));
}

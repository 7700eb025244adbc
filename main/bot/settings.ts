/**
 * Each project's transcription-bot settings: language, model, encoder context and the
 * utterance parameters. Owns `project_bot_settings`; stores only what differs from the
 * defaults, so a changed default reaches every project that did not override it.
 */
import type { Static } from '@sinclair/typebox';
import type { BotSettings, BotSettingsUpdate } from '../../common/schemas.js';
import type { SecretStore } from '../core/secrets.js';
import { invalid } from '../core/errors.js';
import type { DomainDeps, ProjectScope } from '../domain/context.js';
import { nowIso } from '../store/ids.js';
import { DEFAULT_SEGMENTER_SETTINGS } from './audio/utterances.js';

export const DEFAULT_BOT_SETTINGS: Readonly<BotSettings> = Object.freeze({
  language: null,
  model: null,
  audioCtx: 'auto',
  preRollMs: DEFAULT_SEGMENTER_SETTINGS.preRollMs,
  minSilenceMs: DEFAULT_SEGMENTER_SETTINGS.minSilenceMs,
  maxUtteranceMs: DEFAULT_SEGMENTER_SETTINGS.maxUtteranceMs,
  minSpeechMs: DEFAULT_SEGMENTER_SETTINGS.minSpeechMs,
  startThreshold: DEFAULT_SEGMENTER_SETTINGS.startThreshold,
  stopThreshold: DEFAULT_SEGMENTER_SETTINGS.stopThreshold,
});

const odinKeyName = (scope: ProjectScope) => `odin-access-key:${scope.tenantId}:${scope.projectId}`;

export function createBotSettings({ db }: DomainDeps, secrets: SecretStore) {
  const get = db.prepare<[string, string], { settings: string }>('SELECT settings FROM project_bot_settings WHERE tenant_id = ? AND project_id = ?');
  const put = db.prepare(
    `INSERT INTO project_bot_settings (tenant_id, project_id, settings, updated_at) VALUES (?, ?, ?, ?)
     ON CONFLICT (tenant_id, project_id) DO UPDATE SET settings = excluded.settings, updated_at = excluded.updated_at`,
  );
  const stored = (scope: ProjectScope): Partial<BotSettings> => JSON.parse(get.get(scope.tenantId, scope.projectId)?.settings ?? '{}') as Partial<BotSettings>;

  return {
    /** The effective settings (defaults plus the project's overrides). */
    get(scope: ProjectScope): BotSettings {
      return { ...DEFAULT_BOT_SETTINGS, ...stored(scope) };
    },

    /** The project's ODIN access key, decrypted (for the bot only; never returned by the API). */
    odinAccessKey(scope: ProjectScope): string | null {
      return secrets.get(odinKeyName(scope));
    },

    /** What the API shows: the settings, and whether a key is stored (never the key). */
    view(scope: ProjectScope): BotSettings & { odinAccessKeySet: boolean } {
      return { ...this.get(scope), odinAccessKeySet: secrets.has(odinKeyName(scope)) };
    },

    /** Merges `patch` into the project's settings; `null` for a nullable field resets it. Call inside a write. */
    update(scope: ProjectScope, input: Static<typeof BotSettingsUpdate>): BotSettings & { odinAccessKeySet: boolean } {
      const { odinAccessKey, ...patch } = input;
      if (odinAccessKey !== undefined) secrets.set(odinKeyName(scope), odinAccessKey);
      const next = { ...stored(scope), ...patch };
      const effective = { ...DEFAULT_BOT_SETTINGS, ...next };
      if (effective.stopThreshold >= effective.startThreshold) {
        throw invalid(patch.stopThreshold !== undefined ? 'body/stopThreshold' : 'body/startThreshold', `stopThreshold (${effective.stopThreshold}) must be below startThreshold (${effective.startThreshold})`);
      }
      if (effective.minSpeechMs >= effective.maxUtteranceMs) throw invalid('body/minSpeechMs', 'must be shorter than maxUtteranceMs');
      const diff = Object.fromEntries(Object.entries(next).filter(([k, v]) => DEFAULT_BOT_SETTINGS[k as keyof BotSettings] !== v));
      put.run(scope.tenantId, scope.projectId, JSON.stringify(diff), nowIso());
      return { ...effective, odinAccessKeySet: secrets.has(odinKeyName(scope)) };
    },
  };
}

export type BotSettingsModule = ReturnType<typeof createBotSettings>;

/** `GET /api/settings`: the server's own configuration, read-only (set in config.json, the environment or flags). */
import { Type, type Static } from '@sinclair/typebox';
import { Nullable } from './schemas.js';

export const ServerSettings = Type.Object({
  version: Type.String(),
  dataDir: Type.String({ description: 'holds cortex.db, admin-key, secret.key, models/, evidence/' }),
  host: Type.String({ description: 'the address the REST API is bound to' }),
  port: Type.Integer({ description: 'the port the REST API listens on (the configured one until it listens)' }),
  baseUrl: Nullable(Type.String({ description: 'the REST API for scripts on this machine, e.g. http://127.0.0.1:7420; null until it listens' })),
  allowRemote: Type.Boolean(),
  evidenceRetentionDays: Type.Integer({ description: '0 = no audio is kept; N = each transcribed utterance is kept as a WAV for N days' }),
  transcriptionEngine: Type.Union([Type.Literal('whisper'), Type.Literal('openai')]),
  busEndpoint: Nullable(Type.String({ description: 'the ZeroMQ discovery endpoint; null = the data plane is off' })),
  pluginsDir: Type.String(),
  pluginTimeoutMs: Type.Integer(),
  pluginMemoryMb: Type.Integer(),
  webhookRetryScheduleMs: Type.Array(Type.Integer(), { description: 'delay before each delivery attempt; its length is the attempt limit' }),
});
export type ServerSettings = Static<typeof ServerSettings>;

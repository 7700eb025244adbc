import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import fastifySwagger from '@fastify/swagger';
import fastifyStatic from '@fastify/static';
import { Ajv } from 'ajv';
import { SerializerSelector } from '@fastify/fast-json-stringify-compiler';
import addFormats from 'ajv-formats';
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { existsSync } from 'node:fs';
import { CONSOLE_CSP } from '../../common/csp.js';
import { Health } from '../../common/schemas.js';
import type { BusHost } from '../bus/host.js';
import type { Domain } from '../domain/index.js';
import type { Principal } from '../domain/tenancy.js';
import type { Db } from '../store/db.js';
import { installAuth } from './auth.js';
import { installIdempotency } from './idempotency.js';
import { installProblemHandlers, problem, sendProblem } from './problems.js';
import { eventRoutes } from './routes/events.js';
import { gatheringRoutes } from './routes/gatherings.js';
import { participantRoutes } from './routes/participants.js';
import { sanctionRoutes } from './routes/sanctions.js';
import { sessionRoutes } from './routes/sessions.js';
import { tenancyRoutes } from './routes/tenancy.js';
import { topicRoutes } from './routes/topics.js';
import { webhookRoutes } from './routes/webhooks.js';
import { modelRoutes } from './routes/models.js';
import type { ModelService } from '../bot/model-service.js';
import type { BotManager } from '../bot/manager.js';
import type { EvidenceStore } from '../bot/evidence.js';
import type { BotSettingsModule } from '../bot/settings.js';
import { botSettingsRoutes } from './routes/bot-settings.js';
import type { Outbox } from '../outbox/index.js';
import { SseHub } from './sse.js';
import type { Automod } from '../automod/index.js';
import { automodRoutes } from './routes/automod.js';
import type { Plugins } from '../plugins/index.js';
import { pluginCatalogRoutes, pluginRoutes } from './routes/plugins.js';
import { annotationRoutes } from './routes/annotations.js';
import { settingsRoutes } from './routes/settings.js';
import type { CortexConfig } from '../core/config.js';

export interface ApiOptions {
  db: Db;
  domain: Domain;
  logger: FastifyBaseLogger;
  version: string;
  /** In-memory keys (the local console's), checked before the database. */
  ephemeralKeys: ReadonlyMap<string, Principal>;
  sse: { heartbeatMs: number; maxBufferedBytes: number; maxLagMs: number };
  /** Built renderer to serve at `/`. */
  staticDir: string | null;
  /** The ZeroMQ data plane, for `GET /api/topics`; null when it is off. */
  bus: BusHost | null;
  /** Webhook subscriptions and deliveries. */
  outbox: Outbox;
  /** Whisper models (list, import, download). */
  models: ModelService;
  /** Transcription bots, for `GET …/sessions/{id}/bot`. */
  bots: BotManager;
  /** Utterance audio kept as evidence, for `GET …/messages/{id}/audio`. */
  evidence: EvidenceStore;
  /** Per-project bot settings. */
  botSettings: BotSettingsModule;
  /** Automod rules and the review queue; without it only `…/participants/{id}/sanctions` of that group is served. */
  automod?: Automod;
  /** The plugin catalog, installations and runners. */
  plugins: Plugins;
  /** The server's configuration, shown read-only at `GET /api/settings` (absent: the route is not served). */
  config?: CortexConfig;
}

export const BODY_LIMIT = 1024 * 1024;
const MAX_JSON_DEPTH = 64;

const malformed = (message: string) => Object.assign(new Error(message), { statusCode: 400, code: 'FST_ERR_CTP_INVALID_JSON_BODY' });

/**
 * Rejects what JSON.parse accepts but we cannot store faithfully: nesting deeper than
 * MAX_JSON_DEPTH (it would overflow the stack when serialized again) and lone UTF-16
 * surrogates (SQLite would store U+FFFD instead).
 */
function checkJsonShape(root: unknown): string | null {
  const stack: [unknown, number][] = [[root, 0]];
  while (stack.length) {
    const [value, depth] = stack.pop()!;
    if (typeof value === 'string') {
      if (!value.isWellFormed()) return 'body contains a lone UTF-16 surrogate';
    } else if (value !== null && typeof value === 'object') {
      if (depth >= MAX_JSON_DEPTH) return `body is nested deeper than ${MAX_JSON_DEPTH} levels`;
      for (const [k, v] of Object.entries(value)) {
        if (!k.isWellFormed()) return 'body contains a lone UTF-16 surrogate';
        stack.push([v, depth + 1]);
      }
    }
  }
  return null;
}

/** One Ajv for bodies (no coercion: a number is not a string) and one for params/query (strings coerced). */
function validatorCompiler() {
  const base = { removeAdditional: false, useDefaults: true, allErrors: false, strict: false } as const;
  const body = addFormats.default(new Ajv({ ...base, coerceTypes: false }));
  const query = addFormats.default(new Ajv({ ...base, coerceTypes: 'array' }));
  return ({ schema, httpPart }: { schema: object; httpPart?: string }) => (httpPart === 'body' ? body : query).compile(schema);
}

const ProblemDef = Type.Object(
  {
    type: Type.String(), title: Type.String(), status: Type.Integer(), code: Type.String(),
    detail: Type.Optional(Type.String()), instance: Type.Optional(Type.String()),
    errors: Type.Optional(Type.Array(Type.Object({ field: Type.String(), message: Type.String() }))),
  },
  { $id: 'Problem', title: 'Problem (RFC 9457)' },
);

/**
 * Fastify compiles a serializer per route and status code. Every route declares the same seven
 * problem responses (one shared `Problem` ref object) and many share success schemas, so
 * compile each schema object once: ~8× fewer fast-json-stringify builds at start-up.
 */
function sharedSerializers(externalSchemas: unknown, options: unknown) {
  const build = SerializerSelector()(externalSchemas as never, options as never);
  const cache = new WeakMap<object, ReturnType<typeof build>>();
  return (route: Parameters<typeof build>[0]) => {
    const schema = route.schema as object;
    let fn = cache.get(schema);
    if (!fn) {
      fn = build(route);
      cache.set(schema, fn);
    }
    return fn;
  };
}

/** Builds the API without listening: tests use `inject()`, Electron's IPC bridge too. */
export async function buildApi(o: ApiOptions): Promise<{ app: FastifyInstance; hub: SseHub; purgeIdempotency: () => number }> {
  const app = Fastify({
    loggerInstance: o.logger,
    bodyLimit: BODY_LIMIT,
    logController: new LogController({ disableRequestLogging: true }),
    // No per-request child logger: it costs more than the rest of a cached GET. Errors are
    // logged with the request's method and url by the error handler.
    childLoggerFactory: (logger) => logger,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    routerOptions: { maxParamLength: 200 },
    schemaController: { compilersFactory: { buildSerializer: sharedSerializers } },
    // Errors raised before routing (e.g. a broken percent-encoding in the path) are problems too.
    frameworkErrors: (err, _request, reply) => sendProblem(reply, problem('validation', err.message, [{ field: 'url', message: err.message }])),
  }).withTypeProvider<TypeBoxTypeProvider>();
  app.setValidatorCompiler(validatorCompiler());
  app.addSchema(ProblemDef);
  installProblemHandlers(app);

  // JSON bodies only (text/plain gets 415). An empty body with a JSON content type means
  // "no body" (e.g. POST …/start from `curl -H 'content-type: application/json'`).
  app.removeContentTypeParser(['application/json', 'text/plain']);
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, text, done) => {
    const s = text as string;
    if (s.trim() === '') return done(null, undefined);
    let value: unknown;
    try {
      value = JSON.parse(s);
    } catch (err) {
      return done(malformed(`body is not valid JSON: ${(err as Error).message}`), undefined);
    }
    const problem = checkJsonShape(value);
    done(problem ? malformed(problem) : null, value);
  });

  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'Cortex Console API', version: o.version },
      components: { securitySchemes: { apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' } } },
      security: [{ apiKey: [] }],
    },
    refResolver: { buildLocalReference: (json, _base, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
  });

  const ephemeral = o.ephemeralKeys;
  installAuth(app, o.domain.tenancy, ephemeral);
  const idempotency = installIdempotency(app, o.db);
  const hub = new SseHub(o.domain.events, o.sse);

  const startedAt = Date.now();
  app.get('/api/health', { config: { scope: 'public' }, schema: { tags: ['meta'], security: [], response: { 200: Health } } }, async () => ({
    status: 'ok' as const,
    version: o.version,
    uptimeSeconds: (Date.now() - startedAt) / 1000,
    lastSeq: o.domain.events.lastSeq(),
  }));
  app.get('/api/openapi.json', { config: { scope: 'public' }, schema: { hide: true } }, async () => app.swagger());

  const deps = { domain: o.domain, commit: <T>(fn: () => T) => o.domain.events.commit(idempotency.inCommit(fn)) };
  await app.register(async (api) => {
    tenancyRoutes(api, deps);
    eventRoutes(api, deps, hub);
    topicRoutes(api, o.bus);
    modelRoutes(api, o.models);
    pluginCatalogRoutes(api, o.plugins);
    if (o.config) settingsRoutes(api, o.config, o.version);
  }, { prefix: '/api' });
  await app.register(async (project) => {
    sessionRoutes(project, deps, o.bots, o.evidence);
    participantRoutes(project, deps);
    sanctionRoutes(project, deps);
    gatheringRoutes(project, deps);
    webhookRoutes(project, deps, o.outbox);
    botSettingsRoutes(project, deps, o.botSettings);
    automodRoutes(project, deps, o.automod);
    pluginRoutes(project, deps, o.plugins);
    annotationRoutes(project, deps);
  }, { prefix: '/api/projects/:projectId' });

  if (o.staticDir && existsSync(o.staticDir)) {
    await app.register(fastifyStatic, {
      root: o.staticDir, prefix: '/', index: ['index.html'], wildcard: false,
      setHeaders: (res) => {
        res.setHeader('content-security-policy', CONSOLE_CSP);
        res.setHeader('x-content-type-options', 'nosniff');
        res.setHeader('referrer-policy', 'no-referrer');
      },
    });
  }
  await app.ready();
  return { app, hub, purgeIdempotency: () => idempotency.purge() };
}

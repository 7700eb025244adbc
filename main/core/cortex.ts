import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import type { FastifyInstance } from 'fastify';
import { buildApi } from '../api/server.js';
import { startBus, type BusHost } from '../bus/host.js';
import { createDomain, type Domain } from '../domain/index.js';
import { EventLog } from '../events/log.js';
import { EvidenceStore } from '../bot/evidence.js';
import { BotManager } from '../bot/manager.js';
import { createBotSettings } from '../bot/settings.js';
import { SecretStore } from './secrets.js';
import { ModelService } from '../bot/model-service.js';
import { ModelStore } from '../bot/models.js';
import { createOutbox, type Outbox } from '../outbox/index.js';
import { createAutomod, type Automod } from '../automod/index.js';
import { createPlugins, type Plugins } from '../plugins/index.js';
import { openDatabase, type Db } from '../store/db.js';
import { bootstrap, consoleCredential, type Bootstrap } from './bootstrap.js';
import { loadConfig, type CortexConfig } from './config.js';
import { VERSION } from './version.js';

export interface Cortex {
  config: CortexConfig;
  app: FastifyInstance;
  db: Db;
  domain: Domain;
  events: EventLog;
  /** Admin key for the local console (Electron IPC, the printed web-console link); in memory only. */
  consoleKey: string;
  tenantId: string;
  projectId: string;
  bootstrap: Bootstrap;
  /** The ZeroMQ data plane (discovery daemon, `cortex/events`); null when off or unavailable. */
  bus: BusHost | null;
  /** Webhook subscriptions, the outbox and its delivery worker. */
  outbox: Outbox;
  /** Transcription bots of running sessions. */
  bots: BotManager;
  /** Automod rules, their evaluator and the review queue. */
  automod: Automod;
  /** Installed plugins and their runners. */
  plugins: Plugins;
  /** Starts HTTP listening; resolves with the base URL. */
  listen(): Promise<string>;
  /** Stops accepting, finishes in-flight requests, ends streams, closes the database. */
  close(): Promise<void>;
}

/** Boots everything the process hosts. The Electron main process and `cortex serve` both call this. */
export async function startCortex(overrides: Partial<CortexConfig> = {}): Promise<Cortex> {
  const config = loadConfig(overrides);
  mkdirSync(config.dataDir, { recursive: true });
  const logger = pino({ level: config.logLevel, base: { pid: process.pid } });
  const db = openDatabase(join(config.dataDir, 'cortex.db'));
  const events = new EventLog(db);
  const domain = createDomain({ db, events });
  const outbox = createOutbox({ db, events }, config, logger, `CortexConsole/${VERSION}`);
  const automod = createAutomod({ db, events, domain, logger });
  const plugins = createPlugins({ db, events, domain, logger, config });
  // A packaged app may ship models in its resources (Electron sets process.resourcesPath).
  const resourcesPath = (process as NodeJS.Process & { resourcesPath?: string }).resourcesPath;
  const models = new ModelService(new ModelStore(config.dataDir, resourcesPath ? [join(resourcesPath, 'models')] : []), events);
  const boot = bootstrap(domain, config.dataDir);
  const credential = consoleCredential();

  // The data plane is an addition: if it cannot start, the console still runs without it.
  let bus: BusHost | null = null;
  if (config.busEndpoint) {
    try {
      bus = await startBus({ endpoint: config.busEndpoint, runtimeDir: config.busRuntimeDir, subscribeEvents: (l) => events.subscribe(l), logger });
    } catch (err) {
      logger.warn({ err, endpoint: config.busEndpoint }, 'ZeroMQ data plane not started; continuing without it');
    }
  }

  if (config.transcriptionEngine === 'openai' && !config.openaiUrl) throw new Error('config: transcriptionEngine "openai" needs openaiUrl (CORTEX_OPENAI_URL)');
  const evidence = new EvidenceStore(config.dataDir, config.evidenceRetentionDays);
  const botSettings = createBotSettings({ db, events }, new SecretStore(db, config.dataDir));
  const bots = new BotManager({
    domain, events, models: models.store, bus, logger, evidence, settings: botSettings,
    // Secrets never come from config.json: the ODIN key is a project's encrypted setting, or the environment.
    odinAccessKey: process.env.CORTEX_ODIN_ACCESS_KEY,
    openai: config.transcriptionEngine === 'openai' ? { url: config.openaiUrl!, apiKey: process.env.CORTEX_OPENAI_API_KEY, model: config.openaiModel } : null,
  });

  const { app, hub, purgeIdempotency } = await buildApi({
    db,
    domain,
    logger,
    version: VERSION,
    ephemeralKeys: new Map([[credential.key, credential.principal]]),
    sse: { heartbeatMs: config.sseHeartbeatMs, maxBufferedBytes: config.sseMaxBufferedBytes, maxLagMs: config.sseMaxLagMs },
    staticDir: config.staticDir,
    bus,
    outbox,
    automod,
    models,
    bots,
    evidence,
    botSettings,
    plugins,
    config,
  });
  outbox.start();
  automod.start();
  plugins.start();
  bots.start(domain.sessions.runningWithBots());

  // Time-driven changes: sanction expiries, idle sessions, stale idempotency records, and
  // (every 10 minutes: it scans a directory) expired evidence clips.
  let lastEvidenceSweep = 0;
  const sweep = setInterval(() => {
    if (Date.now() - lastEvidenceSweep > 600_000) {
      lastEvidenceSweep = Date.now();
      evidence.sweep().catch((err: unknown) => logger.warn({ err }, 'evidence sweep failed'));
    }
    try {
      domain.sanctions.emitExpired();
      domain.sessions.endIdle();
      purgeIdempotency();
    } catch (err) {
      logger.error({ err }, 'sweep failed');
    }
  }, config.sweepIntervalMs);
  sweep.unref();

  let closing: Promise<void> | null = null;
  return {
    config,
    app,
    db,
    domain,
    events,
    consoleKey: credential.key,
    tenantId: boot.tenantId,
    projectId: boot.projectId,
    bootstrap: boot,
    bus,
    outbox,
    automod,
    bots,
    plugins,
    async listen() {
      const address = await app.listen({ host: config.host, port: config.port });
      return address.replace('[::1]', 'localhost');
    },
    close() {
      closing ??= (async () => {
        clearInterval(sweep);
        hub.closeAll();
        await app.close();
        await bots.close();
        await plugins.close();
        await outbox.close();
        automod.close();
        models.close();
        await bus?.close();
        db.close();
        logger.flush?.();
      })();
      return closing;
    },
  };
}

import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { stripUndefined } from '../../common/objects.js';

export interface CortexConfig {
  /** Where cortex.db, admin-key and config.json live. */
  dataDir: string;
  host: string;
  port: number;
  /** Must be true to bind anything but a loopback address. */
  allowRemote: boolean;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Built renderer to serve at `/`; null = API only. */
  staticDir: string | null;
  /** SSE keep-alive comment interval. */
  sseHeartbeatMs: number;
  /** Unsent bytes after which a slow stream stops getting live events and catches up from the log. */
  sseMaxBufferedBytes: number;
  /** How long a stream that is behind may go without reading before it is closed (the client reconnects with Last-Event-ID). */
  sseMaxLagMs: number;
  /** How often expiries (sanctions, idle sessions) are swept. */
  sweepIntervalMs: number;
  /**
   * The ZeroMQ discovery daemon's endpoint (ipc:// or tcp://). The core starts a daemon there,
   * or uses the one already answering; null = no data plane.
   */
  busEndpoint: string | null;
  /** Where this process's per-topic ipc sockets live. */
  busRuntimeDir: string;
  /** Webhook delivery: delay before each attempt (ms; the first is usually 0); its length is the attempt limit. */
  webhookRetryScheduleMs: number[];
  /** Per-request timeout for webhook deliveries. */
  webhookTimeoutMs: number;
  /** Deliveries in flight per subscription. */
  webhookConcurrency: number;
  /** Consecutive failures that open a subscription's circuit breaker … */
  webhookBreakerThreshold: number;
  /** … and how long it stays open before one trial delivery. */
  webhookBreakerCooldownMs: number;
  /** Refuse webhook targets on loopback, private and link-local addresses (default: allowed, for on-prem receivers). */
  webhookBlockPrivateTargets: boolean;
  /** Speech to text for the bot: the local whisper.cpp engine, or an OpenAI-compatible endpoint. */
  transcriptionEngine: 'whisper' | 'openai';
  /** Base URL of the OpenAI-compatible endpoint (e.g. https://api.openai.com/v1). */
  openaiUrl: string | null;
  openaiModel: string;
  /** Days the audio of each transcribed utterance is kept as evidence (0 = none). */
  evidenceRetentionDays: number;
  /** Third-party plugins are loaded from here (default `<dataDir>/plugins`). */
  pluginsDir: string | null;
  /** A plugin handler running longer than this on one event is stopped and restarted. */
  pluginTimeoutMs: number;
  /** Heap limit of each plugin worker; a plugin over it is stopped and restarted. */
  pluginMemoryMb: number;
}

export function defaultDataDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_DATA_HOME || join(homedir(), '.local', 'share');
  return join(base, 'cortex-console');
}

export const DEFAULTS: Omit<CortexConfig, 'dataDir'> = {
  host: '127.0.0.1',
  port: 7420,
  allowRemote: false,
  logLevel: 'info',
  staticDir: null,
  sseHeartbeatMs: 15_000,
  sseMaxBufferedBytes: 1024 * 1024,
  sseMaxLagMs: 30_000,
  sweepIntervalMs: 1_000,
  busEndpoint: 'ipc:///tmp/cortex/discovery.sock',
  busRuntimeDir: '/tmp/cortex/topics',
  webhookRetryScheduleMs: [0, 5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000],
  webhookTimeoutMs: 15_000,
  webhookConcurrency: 8,
  webhookBreakerThreshold: 5,
  webhookBreakerCooldownMs: 30_000,
  webhookBlockPrivateTargets: false,
  transcriptionEngine: 'whisper',
  openaiUrl: null,
  openaiModel: 'whisper-1',
  evidenceRetentionDays: 0,
  pluginsDir: null,
  pluginTimeoutMs: 2_000,
  pluginMemoryMb: 128,
};

const ENV: Record<string, keyof CortexConfig> = {
  CORTEX_DATA_DIR: 'dataDir',
  CORTEX_HOST: 'host',
  CORTEX_PORT: 'port',
  CORTEX_ALLOW_REMOTE: 'allowRemote',
  CORTEX_LOG_LEVEL: 'logLevel',
  CORTEX_BUS_ENDPOINT: 'busEndpoint',
  CORTEX_BUS_RUNTIME_DIR: 'busRuntimeDir',
  CORTEX_WEBHOOK_RETRY_SCHEDULE: 'webhookRetryScheduleMs',
  CORTEX_WEBHOOK_TIMEOUT_MS: 'webhookTimeoutMs',
  CORTEX_WEBHOOK_CONCURRENCY: 'webhookConcurrency',
  CORTEX_WEBHOOK_BREAKER_THRESHOLD: 'webhookBreakerThreshold',
  CORTEX_WEBHOOK_BREAKER_COOLDOWN_MS: 'webhookBreakerCooldownMs',
  CORTEX_WEBHOOK_BLOCK_PRIVATE: 'webhookBlockPrivateTargets',
  CORTEX_TRANSCRIPTION_ENGINE: 'transcriptionEngine',
  CORTEX_OPENAI_URL: 'openaiUrl',
  CORTEX_OPENAI_MODEL: 'openaiModel',
  CORTEX_EVIDENCE_RETENTION_DAYS: 'evidenceRetentionDays',
  CORTEX_PLUGINS_DIR: 'pluginsDir',
  CORTEX_PLUGIN_TIMEOUT_MS: 'pluginTimeoutMs',
  CORTEX_PLUGIN_MEMORY_MB: 'pluginMemoryMb',
};

const INTEGER_KEYS: ReadonlySet<keyof CortexConfig> = new Set([
  'port', 'sseHeartbeatMs', 'sseMaxBufferedBytes', 'sseMaxLagMs', 'sweepIntervalMs',
  'webhookTimeoutMs', 'webhookConcurrency', 'webhookBreakerThreshold', 'webhookBreakerCooldownMs', 'evidenceRetentionDays',
  'pluginTimeoutMs', 'pluginMemoryMb',
]);

const nonNegativeInt = (key: string, value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || value.trim() === '') throw new Error(`config: ${key} must be a non-negative integer, got "${value}"`);
  return n;
};

function coerce(key: keyof CortexConfig, value: string): unknown {
  if (INTEGER_KEYS.has(key)) return nonNegativeInt(key, value);
  // A comma-separated list of milliseconds, e.g. "0,200,1000".
  if (key === 'webhookRetryScheduleMs') return value.split(',').map((v) => nonNegativeInt(key, v));
  if (key === 'allowRemote' || key === 'webhookBlockPrivateTargets') return value === '1' || value === 'true';
  if (key === 'busEndpoint' && (value === 'off' || value === 'none')) return null;
  return value;
}

/**
 * Resolves configuration: defaults < `<dataDir>/config.json` < environment < runtime
 * overrides (CLI flags, Electron).
 */
export function loadConfig(overrides: Partial<CortexConfig> = {}, env: NodeJS.ProcessEnv = process.env): CortexConfig {
  const fromEnv: Partial<Record<keyof CortexConfig, unknown>> = {};
  for (const [name, key] of Object.entries(ENV)) {
    const v = env[name];
    if (v !== undefined && v !== '') fromEnv[key] = coerce(key, v);
  }
  const dataDir = overrides.dataDir ?? (fromEnv.dataDir as string | undefined) ?? defaultDataDir(env);
  const file = join(dataDir, 'config.json');
  let fromFile: Partial<CortexConfig> = {};
  if (existsSync(file)) {
    try {
      fromFile = JSON.parse(readFileSync(file, 'utf8')) as Partial<CortexConfig>;
    } catch (err) {
      throw new Error(`config: ${file} is not valid JSON (${(err as Error).message})`);
    }
  }
  const config = { ...DEFAULTS, ...fromFile, ...fromEnv, ...stripUndefined(overrides), dataDir } as CortexConfig;
  if (!config.allowRemote && !isLoopback(config.host)) {
    throw new Error(`config: refusing to listen on ${config.host} without allowRemote (--allow-remote / CORTEX_ALLOW_REMOTE=1)`);
  }
  const schedule = config.webhookRetryScheduleMs;
  if (!Array.isArray(schedule) || schedule.length === 0 || schedule.length > 50 || !schedule.every((n) => Number.isInteger(n) && n >= 0)) {
    throw new Error('config: webhookRetryScheduleMs must be a list of 1–50 non-negative integers (milliseconds)');
  }
  if (config.pluginTimeoutMs < 10) throw new Error('config: pluginTimeoutMs must be at least 10');
  if (config.pluginMemoryMb < 16) throw new Error('config: pluginMemoryMb must be at least 16');
  if (config.webhookConcurrency < 1) throw new Error('config: webhookConcurrency must be at least 1');
  if (config.transcriptionEngine !== 'whisper' && config.transcriptionEngine !== 'openai') {
    throw new Error(`config: transcriptionEngine must be "whisper" or "openai", got "${String(config.transcriptionEngine)}"`);
  }
  return config;
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/**
 * Sends transcription bots into sessions: a session with an adapter gets a bot when it
 * starts (and again after a restart of the app while it is still running) and loses it when
 * it ends. Owns the `bot.status.changed` events. The Whisper engine, the VAD model and the
 * transcription queue are shared by every bot and created on first use.
 */
import type { DomainEvent } from '../../common/events.js';
import type { Session } from '../../common/schemas.js';
import type { BusHost } from '../bus/host.js';
import type { ProjectScope } from '../domain/context.js';
import type { FilePeerConfig } from '../domain/session-adapters.js';
import type { Domain } from '../domain/index.js';
import type { EventLog } from '../events/log.js';
import { loadVadModel, type VadModel } from './audio/vad.js';
import type { TranscriptionEngine } from './engine/types.js';
import { OpenAiEngine } from './engine/openai.js';
import { WhisperEngine } from './engine/whisper.js';
import type { EvidenceStore } from './evidence.js';
import type { ModelStore } from './models.js';
import type { BotSettingsModule } from './settings.js';
import { TranscriptionQueue, type QueueStats } from './queue.js';
import { FileRoom } from './rooms/file.js';
import { OdinRoom } from './rooms/odin.js';
import type { RoomAdapter } from './rooms/types.js';
import { ZmqRoom } from './rooms/zmq.js';
import { SessionBot, type BotPeerState, type BotStatus, type PeerSpeaking } from './session-bot.js';

export interface BotView extends BotStatus {
  adapter: Session['adapter'];
  peers: BotPeerState[];
  queue: QueueStats | null;
}

export interface BotManagerDeps {
  domain: Domain;
  events: EventLog;
  models: ModelStore;
  bus: BusHost | null;
  logger: { info(o: object, m: string): void; warn(o: object, m: string): void; error(o: object, m: string): void };
  /** The engine for a model file (tests substitute a double; default: the whisper.cpp engine). */
  engineFactory?: (modelPath: string) => TranscriptionEngine;
  /** ODIN access key (a server secret, from the environment; never stored in a session). */
  odinAccessKey?: string;
  /** Use an OpenAI-compatible endpoint instead of the local engine (no model file needed). */
  openai?: { url: string; apiKey?: string; model: string } | null;
  queueCapacity?: number;
  evidence?: EvidenceStore;
  /** Per-project language, model and utterance settings. */
  settings: BotSettingsModule;
}

export const NO_MODEL = 'no Whisper model: import one or download tiny.en (see /api/models)';

export class BotManager {
  private readonly bots = new Map<string, { bot: SessionBot | null; status: BotStatus; adapter: Session['adapter']; queue: TranscriptionQueue | null }>();
  /** One engine (and its fair queue) per model in use, shared by every bot using that model. */
  private readonly engines = new Map<string, { engine: TranscriptionEngine; queue: TranscriptionQueue }>();
  private vad: Promise<VadModel> | null = null;
  private unsubscribe: (() => void) | null = null;
  private closed = false;

  constructor(private readonly deps: BotManagerDeps) {}

  /** Follows session starts and ends, and resumes bots for sessions that were running. */
  start(running: Session[]): void {
    this.unsubscribe = this.deps.events.subscribe((e) => this.onEvent(e));
    for (const s of running) if (s.adapter && s.status === 'active' && s.startedAt) void this.launch(s);
  }

  private onEvent(e: DomainEvent): void {
    if (e.type !== 'session.started' && e.type !== 'session.ended') return;
    const s = e.payload.data as unknown as Session;
    if (!s.adapter) return;
    if (e.type === 'session.started') void this.launch(s);
    else void this.stopBot(s.id, 'session ended');
  }

  private setStatus(s: Session, status: BotStatus): void {
    const entry = this.bots.get(s.id);
    if (entry) entry.status = status;
    this.appendStatus(s, status, 'state', entry?.bot?.speakingStates() ?? []);
  }

  /** A peer started or stopped speaking (already coalesced by the bot: ≤ 1 per 250 ms per session). */
  private setSpeaking(s: Session, peers: PeerSpeaking[]): void {
    const entry = this.bots.get(s.id);
    if (!entry || entry.status.state !== 'listening') return;
    this.appendStatus(s, entry.status, 'speaking', peers);
  }

  /**
   * `bot.status.changed`: the bot's state and reason, and every peer's speaking state.
   * `change` says what changed: the bot's `state`, or who is `speaking`.
   */
  private appendStatus(s: Session, status: BotStatus, change: 'state' | 'speaking', peers: PeerSpeaking[]): void {
    if (this.closed) return;
    try {
      this.deps.events.write(() => {
        this.deps.events.append({
          type: 'bot.status.changed', tenantId: s.tenantId, projectId: s.projectId, resourceId: `session:${s.id}`, action: 'occurred',
          data: { sessionId: s.id, adapter: s.adapter, state: status.state, reason: status.reason, change, peers },
        });
      }, 'bot');
    } catch (err) {
      this.deps.logger.error({ err, sessionId: s.id }, 'could not record the bot status');
    }
  }

  private adapterFor(s: Session): RoomAdapter {
    const cfg = (s.adapterConfig ?? {}) as Record<string, unknown>;
    switch (s.adapter) {
      case 'file':
        return new FileRoom({ peers: cfg.peers as FilePeerConfig[], realtime: cfg.realtime !== false });
      case 'zmq':
        if (!this.deps.bus) throw new Error('the zmq adapter needs the ZeroMQ data plane, which is off (busEndpoint)');
        return new ZmqRoom({ roomId: s.externalRoomId!, node: this.deps.bus.node });
      case 'odin': {
        const accessKey = this.deps.settings.odinAccessKey({ tenantId: s.tenantId, projectId: s.projectId }) ?? this.deps.odinAccessKey;
        if (!accessKey) throw new Error('the odin adapter needs an ODIN access key: set odinAccessKey in the project\'s bot-settings (or CORTEX_ODIN_ACCESS_KEY)');
        return new OdinRoom({ accessKey, roomId: s.externalRoomId!, botUserId: String(cfg.botUserId ?? 'cortex-bot'), gateway: s.gateway ?? undefined });
      }
      default:
        throw new Error(`unknown adapter ${String(s.adapter)}`);
    }
  }

  /** The engine and queue for a model (by name; null = the default); throws NO_MODEL when none is installed. */
  private async engineFor(modelName: string | null): Promise<TranscriptionQueue> {
    let key: string;
    let make: () => TranscriptionEngine;
    if (this.deps.openai) {
      const openai = this.deps.openai;
      key = `openai:${openai.url}`;
      make = () => new OpenAiEngine(openai);
    } else {
      const model = await this.deps.models.resolve(modelName);
      if (!model) throw new Error(modelName ? `Whisper model "${modelName}" is not installed (see /api/models)` : NO_MODEL);
      key = model.path;
      make = () => this.deps.engineFactory?.(model.path) ?? new WhisperEngine({ modelPath: model.path });
    }
    let e = this.engines.get(key);
    if (!e) {
      const engine = make();
      e = { engine, queue: new TranscriptionQueue(engine, { capacity: this.deps.queueCapacity ?? 64 }) };
      this.engines.set(key, e);
    }
    return e.queue;
  }

  private async launch(s: Session): Promise<void> {
    if (this.closed || this.bots.get(s.id)?.bot) return;
    const entry: { bot: SessionBot | null; status: BotStatus; adapter: Session['adapter']; queue: TranscriptionQueue | null } = { bot: null, status: { state: 'joining', reason: null }, adapter: s.adapter, queue: null };
    this.bots.set(s.id, entry);
    const scope: ProjectScope = { tenantId: s.tenantId, projectId: s.projectId };
    let bot: SessionBot;
    try {
      const settings = this.deps.settings.get(scope);
      const queue = await this.engineFor(settings.model);
      this.vad ??= loadVadModel();
      const vadModel = await this.vad;
      const { preRollMs, minSilenceMs, maxUtteranceMs, minSpeechMs, startThreshold, stopThreshold } = settings;
      bot = new SessionBot(
        { domain: this.deps.domain, commit: (fn) => this.deps.events.commit(fn), queue, vadModel, logger: this.deps.logger, onStatus: (st) => this.setStatus(s, st), onSpeaking: (peers) => this.setSpeaking(s, peers), evidence: this.deps.evidence },
        {
          scope, sessionId: s.id, adapter: this.adapterFor(s),
          language: settings.language ?? undefined,
          audioCtx: settings.audioCtx === 'auto' ? 'auto' : 0,
          pipeline: { segmenter: { preRollMs, minSilenceMs, maxUtteranceMs, minSpeechMs, startThreshold, stopThreshold } },
        },
      );
      entry.queue = queue;
    } catch (err) {
      this.setStatus(s, { state: 'error', reason: (err as Error).message });
      return;
    }
    entry.bot = bot;
    await bot.start();
  }

  private async stopBot(sessionId: string, reason: string): Promise<void> {
    const entry = this.bots.get(sessionId);
    await entry?.bot?.stop(reason);
  }

  /** The bot of one session, or null when the session never had one. */
  view(sessionId: string): BotView | null {
    const entry = this.bots.get(sessionId);
    if (!entry) return null;
    return { ...entry.status, adapter: entry.adapter, peers: entry.bot?.peerStates() ?? [], queue: entry.queue?.stats() ?? null };
  }

  async close(): Promise<void> {
    this.unsubscribe?.();
    await Promise.allSettled([...this.bots.keys()].map((id) => this.stopBot(id, 'shutting down')));
    this.closed = true;
    for (const e of this.engines.values()) e.queue.close();
    await Promise.allSettled([...this.engines.values()].map((e) => e.engine.close()));
    if (this.vad) await (await this.vad.catch(() => null))?.release();
  }
}

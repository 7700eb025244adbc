/**
 * One bot in one session: joins the room through its adapter, turns each peer into a
 * participant, runs every peer's audio through its own pipeline (resample → VAD →
 * utterances), sends utterances to the shared transcription queue, and posts each
 * transcript as a message through the same domain function as `POST …/messages`.
 */
import type { Domain } from '../domain/index.js';
import type { ProjectScope } from '../domain/context.js';
import { AudioPipeline, type PipelineSettings } from './audio/pipeline.js';
import type { Utterance } from './audio/utterances.js';
import type { VadModel } from './audio/vad.js';
import { isBlankTranscript, QueueFullError, type TranscriptionQueue } from './queue.js';
import type { RoomAdapter, RoomPeer } from './rooms/types.js';
import type { EvidenceStore } from './evidence.js';

export type BotState = 'joining' | 'listening' | 'error' | 'stopped';

export interface BotStatus {
  state: BotState;
  /** Why (for `error` and `stopped`). */
  reason: string | null;
}

export interface BotPeerState {
  peerId: string;
  participantId: string | null;
  displayName: string | null;
  speaking: boolean;
  /** Utterances of this peer waiting for (or in) the engine. */
  queued: number;
  lastUtterance: { startedAt: string; durationMs: number; text: string | null } | null;
  framesDropped: number;
}

/** One peer in a speaking update. */
export interface PeerSpeaking {
  peerId: string;
  participantId: string | null;
  displayName: string | null;
  speaking: boolean;
}

/** Default: at most one speaking update per this many ms per session. */
export const SPEAKING_INTERVAL_MS = 250;

export interface SessionBotDeps {
  domain: Domain;
  /** Domain writes go through the group commit, like API writes. */
  commit: <T>(fn: () => T) => Promise<T>;
  queue: TranscriptionQueue;
  vadModel: VadModel;
  logger: { info(o: object, m: string): void; warn(o: object, m: string): void; error(o: object, m: string): void };
  onStatus: (s: BotStatus) => void;
  /**
   * A peer started or stopped speaking (VAD). Coalesced: at most one call per
   * `speakingIntervalMs`, on the trailing edge, so the last state is always delivered (while
   * the bot runs; the stop's status carries the final one). Gets every peer's current state.
   */
  onSpeaking?: (peers: PeerSpeaking[]) => void;
  /** Keeps each transcribed utterance's audio (when enabled). */
  evidence?: EvidenceStore;
}

export interface SessionBotOptions {
  scope: ProjectScope;
  sessionId: string;
  adapter: RoomAdapter;
  /** ISO 639-1, or undefined to let the engine decide. */
  language?: string;
  audioCtx?: number | 'auto';
  pipeline?: Partial<PipelineSettings>;
  /** How often peers that went quiet (no frames) have their open utterance flushed (default 100 ms: it adds to end-of-speech latency in rooms that stop sending during silence). */
  idleCheckMs?: number;
  /** Minimum spacing of onSpeaking calls (default SPEAKING_INTERVAL_MS). */
  speakingIntervalMs?: number;
}

interface Peer {
  joined: Promise<string | null>;
  participantId: string | null;
  displayName: string | null;
  queued: number;
  lastUtterance: BotPeerState['lastUtterance'];
}

export class SessionBot {
  private readonly peers = new Map<string, Peer>();
  private readonly pipeline: AudioPipeline;
  private readonly pending = new Set<Promise<void>>();
  private idleTimer: NodeJS.Timeout | null = null;
  private status: BotStatus = { state: 'stopped', reason: null };
  private stopping: Promise<void> | null = null;
  /** Coalescing of speaking updates: the pending trailing call, the last call's time and content. */
  private speakingTimer: NodeJS.Timeout | null = null;
  private speakingSentAt = -Infinity;
  private speakingSent = '';

  constructor(
    private readonly deps: SessionBotDeps,
    private readonly opts: SessionBotOptions,
  ) {
    this.pipeline = new AudioPipeline({
      model: deps.vadModel,
      settings: opts.pipeline,
      logger: { warn: (o, m) => deps.logger.warn({ ...o, sessionId: opts.sessionId }, m), info: (o, m) => deps.logger.info({ ...o, sessionId: opts.sessionId }, m) },
      onUtterance: (u) => this.onUtterance(u),
      onSpeaking: () => this.speakingChanged(),
    });
  }

  get state(): BotStatus {
    return this.status;
  }

  private setStatus(state: BotState, reason: string | null = null): void {
    this.status = { state, reason };
    this.deps.onStatus(this.status);
  }

  /** Wall time of the join: the origin of the stream clock for sources faster than real time. */
  private joinedAt = Date.now();

  /** When the utterance was said (ms since the epoch). */
  private spokenAt(u: Utterance): number {
    return this.opts.adapter.clock === 'stream' ? this.joinedAt + u.startMs : u.wallClockStartMs;
  }

  async start(): Promise<void> {
    this.joinedAt = Date.now();
    this.setStatus('joining');
    try {
      await this.opts.adapter.join({
        peerJoined: (p) => this.peerJoined(p),
        peerLeft: (id) => this.peerLeft(id),
        audio: (f) => {
          const r = this.pipeline.push(f.peerId, f.samples, f.sampleRate, f.channels);
          if (!r.ok && !this.peers.has(f.peerId)) this.deps.logger.warn({ peerId: f.peerId, reason: r.reason }, r.message);
        },
        error: (err) => this.deps.logger.warn({ sessionId: this.opts.sessionId, err: err.message }, 'room adapter'),
        left: (reason) => void this.stop(reason),
        ready: async () => {
          await Promise.all([...this.peers.keys()].map((id) => this.pipeline.peer(id).idle()));
        },
      });
    } catch (err) {
      this.setStatus('error', (err as Error).message);
      return;
    }
    if (this.stopping) return;
    this.setStatus('listening');
    this.idleTimer = setInterval(() => void this.pipeline.flushIdle(), this.opts.idleCheckMs ?? 100);
    this.idleTimer.unref();
  }

  private peerJoined(p: RoomPeer): void {
    const { scope, sessionId } = this.opts;
    const peer: Peer = { joined: Promise.resolve(null), participantId: null, displayName: p.displayName, queued: 0, lastUtterance: null };
    peer.joined = this.deps
      .commit(() => {
        const participant = this.deps.domain.participants.joinSession(scope, sessionId, { externalUserId: p.userId, displayName: p.displayName });
        if (p.userData) this.deps.domain.participants.update(scope, participant.id, { userData: p.userData });
        return participant;
      })
      .then(
        (participant) => {
          peer.participantId = participant.id;
          peer.displayName = participant.displayName ?? p.displayName;
          return participant.id;
        },
        (err: Error) => {
          this.deps.logger.error({ sessionId, peerId: p.peerId, err: err.message }, 'could not record the peer as a participant');
          return null;
        },
      );
    this.peers.set(p.peerId, peer);
  }

  private peerLeft(peerId: string): void {
    const peer = this.peers.get(peerId);
    this.track(
      this.pipeline.remove(peerId).then(async () => {
        const id = await peer?.joined;
        if (id) await this.deps.commit(() => this.deps.domain.participants.leaveSession(this.opts.scope, this.opts.sessionId, id)).catch(() => {});
      }),
    );
  }

  private onUtterance(u: Utterance): void {
    const { scope, sessionId } = this.opts;
    const peer = this.peers.get(u.peerId);
    if (peer) peer.queued++;
    // Speech is activity, even when it transcribes to nothing: idleTimeout counts silence, not messages.
    void this.deps.commit(() => this.deps.domain.sessions.touch(sessionId, new Date().toISOString())).catch(() => {});
    const durationMs = u.endMs - u.startMs;
    const work = this.deps.queue
      .push({ speaker: `${sessionId}/${u.peerId}`, samples: u.samples, opts: { language: this.opts.language, audioCtx: this.opts.audioCtx ?? 'auto' } })
      .then(async (t) => {
        const text = t.text.trim();
        if (peer) peer.lastUtterance = { startedAt: new Date(this.spokenAt(u)).toISOString(), durationMs, text: isBlankTranscript(text) ? null : text };
        if (isBlankTranscript(text)) return;
        const participantId = (await peer?.joined) ?? undefined;
        const clip = this.deps.evidence?.enabled ? await this.deps.evidence.stage(u.samples, u.sampleRate).catch(() => null) : null;
        try {
          const message = await this.deps.commit(() =>
            this.deps.domain.messages.create(scope, sessionId, {
              content: text,
              type: 'user',
              participantId,
              senderName: peer?.displayName ?? null,
              timestamp: new Date(this.spokenAt(u)).toISOString(),
              language: t.language,
              hasDebugAudio: clip !== null,
            }, 'bot'),
          );
          await clip?.commit(message.id);
        } catch (err) {
          await clip?.discard();
          throw err;
        }
      })
      .catch((err: Error) => {
        const level = err instanceof QueueFullError ? 'warn' : 'error';
        this.deps.logger[level]({ sessionId, peerId: u.peerId, err: err.message }, 'utterance not transcribed');
      })
      .finally(() => {
        if (peer) peer.queued--;
      });
    this.track(work);
  }

  /** Schedules one speaking update: now-ish if the last was long enough ago, else at the end of
   * the interval. Flips in between only change what that one update reports. */
  private speakingChanged(): void {
    if (!this.deps.onSpeaking || this.stopping || this.speakingTimer) return;
    const interval = this.opts.speakingIntervalMs ?? SPEAKING_INTERVAL_MS;
    const wait = Math.max(0, this.speakingSentAt + interval - performance.now());
    this.speakingTimer = setTimeout(() => {
      this.speakingTimer = null;
      this.sendSpeaking();
    }, wait);
    this.speakingTimer.unref();
  }

  private sendSpeaking(): void {
    if (this.stopping) return;
    const peers = this.speakingStates();
    const key = JSON.stringify(peers);
    // Flips that cancelled out within the interval change nothing to report.
    if (key === this.speakingSent) return;
    this.speakingSent = key;
    this.speakingSentAt = performance.now();
    try {
      this.deps.onSpeaking?.(peers);
    } catch (err) {
      this.deps.logger.warn({ sessionId: this.opts.sessionId, err: (err as Error).message }, 'speaking handler threw');
    }
  }

  /** Every peer's speaking state now. */
  speakingStates(): PeerSpeaking[] {
    return [...this.peers.entries()].map(([peerId, p]) => ({
      peerId,
      participantId: p.participantId,
      displayName: p.displayName,
      speaking: this.pipeline.state(peerId)?.speaking ?? false,
    }));
  }

  private track(p: Promise<void>): void {
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }

  /** Leaves the room, flushes every open utterance and waits for their transcripts. */
  stop(reason = 'stopped'): Promise<void> {
    this.stopping ??= (async () => {
      if (this.idleTimer) clearInterval(this.idleTimer);
      if (this.speakingTimer) clearTimeout(this.speakingTimer);
      this.speakingTimer = null;
      await this.opts.adapter.leave().catch(() => {});
      await this.pipeline.flushAll();
      while (this.pending.size) await Promise.allSettled([...this.pending]);
      if (this.status.state !== 'error') this.setStatus('stopped', reason);
    })();
    return this.stopping;
  }

  peerStates(): BotPeerState[] {
    return [...this.peers.entries()].map(([peerId, p]) => {
      const s = this.pipeline.state(peerId);
      return {
        peerId,
        participantId: p.participantId,
        displayName: p.displayName,
        speaking: s?.speaking ?? false,
        queued: p.queued,
        lastUtterance: p.lastUtterance,
        framesDropped: s ? Object.values(s.framesDropped).reduce((a, b) => a + b, 0) : 0,
      };
    });
  }
}

/**
 * The transcription queue shared by every speaker of every session: bounded, fair between
 * speakers (the least recently served speaker goes next, so one talkative peer cannot starve
 * the others), oldest first within a speaker. When full, the flooding speaker's oldest
 * utterance is dropped and counted: back-pressure lands on whoever causes it.
 */
import type { TranscriptionEngine, Transcription, TranscribeOptions } from './engine/types.js';

export interface QueueItem {
  /** Fairness key: one speaker (session + peer). */
  speaker: string;
  samples: Float32Array;
  opts: TranscribeOptions;
}

export interface QueueStats {
  depth: number;
  /** Queued per speaker. */
  bySpeaker: Record<string, number>;
  processed: number;
  failed: number;
  dropped: number;
  /** Waiting time (enqueue → engine start) of recent items, ms. */
  waitP50Ms: number;
  waitP95Ms: number;
  oldestWaitingMs: number;
}

interface Entry<R> {
  item: QueueItem;
  enqueuedAt: number;
  resolve: (r: R) => void;
  reject: (e: Error) => void;
}

export class QueueFullError extends Error {
  override name = 'QueueFullError';
}

const WAIT_WINDOW = 200;

export class TranscriptionQueue {
  private readonly perSpeaker = new Map<string, Entry<Transcription>[]>();
  /** Monotonic "last served" stamp per speaker (missing = never served). */
  private readonly served = new Map<string, number>();
  private stamp = 0;
  private depth = 0;
  private running = 0;
  private closed = false;
  private readonly waits: number[] = [];
  private processed = 0;
  private failed = 0;
  private dropped = 0;

  constructor(
    private readonly engine: Pick<TranscriptionEngine, 'transcribe'>,
    private readonly opts: { capacity: number; concurrency?: number; now?: () => number } = { capacity: 64 },
  ) {}

  private now(): number {
    return (this.opts.now ?? performance.now.bind(performance))();
  }

  /** Resolves with the transcription; rejects if the engine fails or the item is dropped under back-pressure. */
  push(item: QueueItem): Promise<Transcription> {
    if (this.closed) return Promise.reject(new Error('transcription queue is closed'));
    return new Promise((resolve, reject) => {
      if (this.depth >= this.opts.capacity) this.shed();
      const list = this.perSpeaker.get(item.speaker) ?? [];
      list.push({ item, enqueuedAt: this.now(), resolve, reject });
      this.perSpeaker.set(item.speaker, list);
      this.depth++;
      this.pump();
    });
  }

  /** Drops the oldest item of the speaker with the most queued. */
  private shed(): void {
    let victim: string | null = null;
    let most = 0;
    for (const [speaker, list] of this.perSpeaker) {
      if (list.length > most) {
        most = list.length;
        victim = speaker;
      }
    }
    if (victim === null) return;
    const list = this.perSpeaker.get(victim)!;
    const e = list.shift()!;
    if (list.length === 0) this.perSpeaker.delete(victim);
    this.depth--;
    this.dropped++;
    e.reject(new QueueFullError(`transcription queue full (${this.opts.capacity}): dropped the oldest utterance of ${victim}, the speaker with the most waiting (${most})`));
  }

  /** Least recently served speaker first; ties go to the oldest waiting utterance. */
  private next(): Entry<Transcription> | null {
    let best: string | null = null;
    let bestServed = Infinity;
    let bestAge = Infinity;
    for (const [speaker, list] of this.perSpeaker) {
      const served = this.served.get(speaker) ?? -1;
      const age = list[0]!.enqueuedAt;
      if (served < bestServed || (served === bestServed && age < bestAge)) {
        best = speaker;
        bestServed = served;
        bestAge = age;
      }
    }
    if (best === null) return null;
    const list = this.perSpeaker.get(best)!;
    const e = list.shift()!;
    if (list.length === 0) this.perSpeaker.delete(best);
    this.served.set(best, this.stamp++);
    this.depth--;
    return e;
  }

  private pump(): void {
    while (!this.closed && this.running < (this.opts.concurrency ?? 1)) {
      const e = this.next();
      if (!e) return;
      this.running++;
      this.waits.push(this.now() - e.enqueuedAt);
      if (this.waits.length > WAIT_WINDOW) this.waits.shift();
      this.engine.transcribe(e.item.samples, e.item.opts).then(
        (r) => {
          this.processed++;
          e.resolve(r);
        },
        (err: unknown) => {
          this.failed++;
          e.reject(err instanceof Error ? err : new Error(String(err)));
        },
      ).finally(() => {
        this.running--;
        this.pump();
      });
    }
  }

  stats(): QueueStats {
    const sorted = [...this.waits].sort((a, b) => a - b);
    const q = (p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]! : 0);
    let oldest = Infinity;
    const bySpeaker: Record<string, number> = {};
    for (const [speaker, list] of this.perSpeaker) {
      bySpeaker[speaker] = list.length;
      oldest = Math.min(oldest, list[0]!.enqueuedAt);
    }
    return {
      depth: this.depth, bySpeaker, processed: this.processed, failed: this.failed, dropped: this.dropped,
      waitP50Ms: q(0.5), waitP95Ms: q(0.95), oldestWaitingMs: oldest === Infinity ? 0 : this.now() - oldest,
    };
  }

  /** Rejects everything still waiting (the engine's in-flight work finishes on its own). */
  close(): void {
    this.closed = true;
    for (const list of this.perSpeaker.values()) for (const e of list) e.reject(new Error('transcription queue closed'));
    this.perSpeaker.clear();
    this.depth = 0;
  }
}

/** Whisper's "nothing was said" outputs: empty, `[BLANK_AUDIO]`-style tags, or punctuation only. */
export function isBlankTranscript(text: string): boolean {
  const stripped = text
    .replace(/\[[^\]]*\]|\([^)]*\)/g, ' ') // [BLANK_AUDIO], [MUSIC], (silence) …
    .replace(/[\s\p{P}\p{S}]/gu, '');
  return stripped.length === 0;
}

/**
 * Evidence clips: the audio of each transcribed utterance, kept as a WAV next to the
 * database for a number of days so a moderator can hear what was actually said. Files are
 * `<dataDir>/evidence/<messageId>.wav`; clips older than the retention are deleted by `sweep`.
 */
import { createReadStream, type ReadStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { encodeWav } from './rooms/wav.js';

const ID = /^[0-9a-f-]{36}$/;

export class EvidenceStore {
  readonly dir: string;

  constructor(
    dataDir: string,
    /** 0 = keep no audio. */
    readonly retentionDays: number,
  ) {
    this.dir = join(dataDir, 'evidence');
  }

  get enabled(): boolean {
    return this.retentionDays > 0;
  }

  /** Writes the clip under a temporary name; `commit` gives it the message's id once the message exists. */
  async stage(samples: Float32Array, sampleRate: number): Promise<{ commit(messageId: string): Promise<void>; discard(): Promise<void> }> {
    await mkdir(this.dir, { recursive: true });
    const tmp = join(this.dir, `${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}.wav.tmp`);
    await writeFile(tmp, encodeWav(samples, sampleRate));
    return {
      commit: (messageId) => rename(tmp, join(this.dir, `${messageId}.wav`)),
      discard: () => rm(tmp, { force: true }),
    };
  }

  /** The clip of a message, or null when there is none (never kept, or expired). */
  async open(messageId: string): Promise<{ stream: ReadStream; size: number } | null> {
    if (!ID.test(messageId)) return null;
    const path = join(this.dir, `${messageId}.wav`);
    try {
      const s = await stat(path);
      return { stream: createReadStream(path), size: s.size };
    } catch {
      return null;
    }
  }

  /** Deletes clips past the retention, and temporary files a crash left behind. Returns how many. */
  async sweep(now = Date.now()): Promise<number> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch {
      return 0;
    }
    const maxAge = this.retentionDays * 86_400_000;
    let removed = 0;
    for (const name of names) {
      const path = join(this.dir, name);
      const s = await stat(path).catch(() => null);
      if (!s) continue;
      const age = now - s.mtimeMs;
      if ((name.endsWith('.wav') && age > maxAge) || (name.endsWith('.tmp') && age > 3_600_000)) {
        await rm(path, { force: true });
        removed++;
      }
    }
    return removed;
  }
}

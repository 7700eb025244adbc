import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { RoomJoinError, type RoomAdapter, type RoomHandlers, type RoomPeer } from './types.js';
import { parseWav, WavError, type Wav } from './wav.js';

export interface FilePeer {
  peerId: string;
  userId?: string;
  displayName?: string;
  /** One WAV file: this peer's voice only. */
  path: string;
}

export interface FileRoomOptions {
  peers: FilePeer[];
  /** true: frames at the pace of the recording; false: as fast as the pipeline takes them. */
  realtime: boolean;
  frameMs?: number;
}

/** Frames per event-loop turn in fast mode: keeps replay fast without starving the loop. */
const FAST_FRAMES_PER_TURN = 50;

/**
 * Replays one WAV file per peer, as the voice room would deliver it: 20 ms frames per peer,
 * in real time (drift-free: frame k is due at start + k × 20 ms) or as fast as possible
 * (reviewing recordings, re-processing). A peer leaves when its file ends; the room is left
 * when every file has ended.
 */
export class FileRoom implements RoomAdapter {
  readonly kind = 'file' as const;
  private timer: NodeJS.Timeout | NodeJS.Immediate | null = null;
  private stopped = false;

  constructor(private readonly opts: FileRoomOptions) {}

  get clock(): 'wall' | 'stream' {
    return this.opts.realtime ? 'wall' : 'stream';
  }

  async join(h: RoomHandlers): Promise<void> {
    if (this.opts.peers.length === 0) throw new RoomJoinError('the file adapter needs at least one peer file');
    const files: { peer: RoomPeer; wav: Wav }[] = [];
    for (const p of this.opts.peers) {
      let bytes: Buffer;
      try {
        bytes = await readFile(p.path);
      } catch (err) {
        throw new RoomJoinError(`peer ${p.peerId}: cannot read ${p.path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      }
      let wav: Wav;
      try {
        wav = parseWav(bytes, basename(p.path));
      } catch (err) {
        if (err instanceof WavError) throw new RoomJoinError(`peer ${p.peerId}: ${err.message}`);
        throw err;
      }
      for (const w of wav.warnings) h.error(new Error(`peer ${p.peerId}: ${basename(p.path)}: ${w}`));
      files.push({ peer: { peerId: p.peerId, userId: p.userId ?? p.peerId, displayName: p.displayName ?? null, userData: null }, wav });
    }
    for (const f of files) h.peerJoined(f.peer);
    this.pump(files, h);
  }

  private pump(files: { peer: RoomPeer; wav: Wav }[], h: RoomHandlers): void {
    const frameMs = this.opts.frameMs ?? 20;
    const lengths = files.map((f) => Math.round((f.wav.sampleRate * frameMs) / 1000) * f.wav.channels);
    const total = Math.max(...files.map((f, i) => Math.ceil(f.wav.samples.length / lengths[i]!)));
    const left = new Set<string>();
    const start = performance.now();
    let k = 0;
    const emit = (): boolean => {
      files.forEach((f, i) => {
        const n = lengths[i]!;
        const from = k * n;
        if (from < f.wav.samples.length) {
          h.audio({ peerId: f.peer.peerId, samples: f.wav.samples.subarray(from, Math.min(from + n, f.wav.samples.length)), sampleRate: f.wav.sampleRate, channels: f.wav.channels });
        } else if (!left.has(f.peer.peerId)) {
          left.add(f.peer.peerId);
          h.peerLeft(f.peer.peerId);
        }
      });
      k++;
      if (k < total) return true;
      for (const f of files) if (!left.has(f.peer.peerId)) h.peerLeft(f.peer.peerId);
      h.left('end of files');
      return false;
    };
    const tick = () => {
      this.timer = null;
      if (this.stopped) return;
      if (this.opts.realtime) {
        // Every frame that is due by now, then sleep until the next one is due.
        while (performance.now() >= start + k * frameMs) if (!emit() || this.stopped) return;
        this.timer = setTimeout(tick, start + k * frameMs - performance.now());
      } else {
        for (let i = 0; i < FAST_FRAMES_PER_TURN; i++) if (!emit() || this.stopped) return;
        if (h.ready) void h.ready().then(() => (this.timer = setImmediate(tick)));
        else this.timer = setImmediate(tick);
      }
    };
    tick();
  }

  async leave(): Promise<void> {
    this.stopped = true;
    if (this.timer) {
      clearTimeout(this.timer as NodeJS.Timeout);
      clearImmediate(this.timer as NodeJS.Immediate);
    }
  }
}

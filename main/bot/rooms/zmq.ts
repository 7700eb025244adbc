import type { Node, Subscriber } from '../../bus/node.js';
import { AudioFrameType, type ValueOf } from '../../bus/types.js';
import { isTypedArray } from '../../bus/wire.js';
import type { RoomAdapter, RoomHandlers } from './types.js';

export interface ZmqRoomOptions {
  roomId: string;
  /** The data-plane node the bot subscribes with. */
  node: Node;
  /** How often discovery is asked which peers publish (ms). */
  pollMs?: number;
}

/** `rooms/<roomId>/peers/<peerId>/audio` → peerId (peer ids cannot contain `/`). */
export function peerOfTopic(roomId: string, topic: string): string | null {
  const prefix = `rooms/${roomId}/peers/`;
  if (!topic.startsWith(prefix) || !topic.endsWith('/audio')) return null;
  const peer = topic.slice(prefix.length, -'/audio'.length);
  return peer.length > 0 && !peer.includes('/') ? peer : null;
}

/**
 * The offline/on-prem voice transport: each peer publishes AudioFrame messages on
 * `rooms/<roomId>/peers/<peerId>/audio`. A peer joins when its topic appears in discovery and
 * leaves when it disappears (a crashed publisher's lease runs out within 3 s). Attribution
 * follows the topic, whatever peerId the frames claim.
 */
export class ZmqRoom implements RoomAdapter {
  readonly kind = 'zmq' as const;
  private readonly subs = new Map<string, Subscriber<ValueOf<typeof AudioFrameType>>>();
  private poll: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(private readonly opts: ZmqRoomOptions) {}

  async join(h: RoomHandlers): Promise<void> {
    await this.refresh(h); // a dead discovery daemon fails the join with its error
    const loop = () => {
      this.poll = setTimeout(() => {
        this.refresh(h).then(loop, (err: Error) => {
          h.error(new Error(`zmq room ${this.opts.roomId}: discovery: ${err.message}`));
          loop();
        });
      }, this.opts.pollMs ?? 500);
    };
    loop();
  }

  private async refresh(h: RoomHandlers): Promise<void> {
    const topics = await this.opts.node.discovery.list();
    if (this.stopped) return;
    const live = new Set<string>();
    for (const t of topics) {
      const peerId = peerOfTopic(this.opts.roomId, t.name);
      if (peerId === null) continue;
      if (t.messageType !== AudioFrameType.name) {
        h.error(new Error(`topic ${t.name} carries ${t.messageType}, not AudioFrame; ignored`));
        continue;
      }
      live.add(peerId);
      if (this.subs.has(peerId)) continue;
      const sub = this.opts.node.subscriber(t.name, AudioFrameType, (msg) => {
        const pcm = isTypedArray(msg.pcm) ? msg.pcm : msg.pcm.data;
        if (!(pcm instanceof Float32Array || pcm instanceof Int16Array)) {
          h.error(new Error(`peer ${peerId}: AudioFrame pcm must be float32 or int16, got ${pcm.constructor.name}; frame dropped`));
          return;
        }
        h.audio({ peerId, samples: pcm, sampleRate: Number(msg.sampleRate), channels: Number(msg.channels) });
      }, { relookupIntervalMs: 1000, onError: (e) => h.error(new Error(`peer ${peerId}: ${e.detail}`)) });
      this.subs.set(peerId, sub);
      h.peerJoined({ peerId, userId: peerId, displayName: null, userData: null });
    }
    for (const [peerId, sub] of this.subs) {
      if (live.has(peerId)) continue;
      this.subs.delete(peerId);
      void sub.close();
      h.peerLeft(peerId);
    }
  }

  async leave(): Promise<void> {
    this.stopped = true;
    if (this.poll) clearTimeout(this.poll);
    await Promise.all([...this.subs.values()].map((s) => s.close()));
    this.subs.clear();
  }
}

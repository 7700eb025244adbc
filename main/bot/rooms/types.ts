/**
 * One interface for every way the bot hears a room: a room adapter joins, reports peers as
 * they come and go, and delivers each peer's audio separately (never a mixed-down room, so
 * every utterance is attributed to the person who said it).
 */

export interface RoomPeer {
  peerId: string;
  /** The platform's user id; becomes the participant's externalUserId. */
  userId: string;
  displayName: string | null;
  userData: Record<string, unknown> | null;
}

/** One frame of one peer's audio: interleaved samples (Int16 full scale ±32768, or Float32 ±1). */
export interface PeerAudio {
  peerId: string;
  samples: Int16Array | Float32Array;
  sampleRate: number;
  channels: number;
}

export interface RoomHandlers {
  peerJoined(peer: RoomPeer): void;
  peerLeft(peerId: string): void;
  audio(frame: PeerAudio): void;
  /** A problem the adapter recovered from or that ends the room (then `left` follows). */
  error(err: Error): void;
  /** The adapter left the room on its own (end of files, kicked, connection lost). */
  left(reason: string): void;
  /**
   * Resolves when the consumer has caught up. Sources that can go faster than real time (file
   * replay) wait for it between batches instead of outrunning the audio pipeline.
   */
  ready?(): Promise<void>;
}

export interface RoomAdapter {
  readonly kind: 'odin' | 'zmq' | 'file';
  /**
   * 'wall': audio arrives as it is spoken (live rooms, real-time replay). 'stream': faster than
   * real time, so an utterance's time is the join time plus its position in the stream.
   */
  readonly clock?: 'wall' | 'stream';
  join(handlers: RoomHandlers): Promise<void>;
  leave(): Promise<void>;
}

/** A clear, user-facing failure to join (missing package, bad file, no such room). */
export class RoomJoinError extends Error {
  override name = 'RoomJoinError';
}

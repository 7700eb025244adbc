import { RoomJoinError, type RoomAdapter, type RoomHandlers } from './types.js';

export const ODIN_PACKAGE = '@4players/odin-nodejs';
export const DEFAULT_ODIN_GATEWAY = 'https://gateway.odin.4players.io';

/** The part of the ODIN Node SDK the bot uses (as documented; the package is optional). */
interface OdinPeerJoined { peerId: number | bigint; userId: string; userData?: Uint8Array }
interface OdinPeerLeft { peerId: number | bigint }
interface OdinAudioData { peerId: number | bigint; mediaId: number; samples16?: Int16Array; samples32?: Float32Array }
interface OdinLeftEvent { reason?: string }
interface OdinRoomApi {
  join(gatewayUrl: string, userData?: Uint8Array): void | Promise<void>;
  close?(): void | Promise<void>;
  addEventListener(event: 'PeerJoined', cb: (e: OdinPeerJoined) => void): void;
  addEventListener(event: 'PeerLeft', cb: (e: OdinPeerLeft) => void): void;
  addEventListener(event: 'AudioDataReceived', cb: (e: OdinAudioData) => void): void;
  addEventListener(event: 'Left', cb: (e: OdinLeftEvent) => void): void;
}
interface OdinClientApi {
  generateToken(accessKey: string, roomId: string, userId: string): string;
  createRoom(token: string): OdinRoomApi;
}
interface OdinModule {
  OdinClient: new () => OdinClientApi;
}

export interface OdinRoomOptions {
  /** A secret: passed in from the encrypted store, never logged. */
  accessKey: string;
  roomId: string;
  /** The bot's own user id in the room. */
  botUserId: string;
  gateway?: string;
  /** For tests: load the SDK from elsewhere. */
  load?: () => Promise<OdinModule>;
}

const SAMPLE_RATE = 48_000;

/** ODIN user data is often JSON (`{"name": …}`); anything else is kept as text. */
function decodeUserData(bytes: Uint8Array | undefined): { displayName: string | null; userData: Record<string, unknown> | null } {
  if (!bytes || bytes.byteLength === 0) return { displayName: null, userData: null };
  const text = Buffer.from(bytes).toString('utf8');
  try {
    const v: unknown = JSON.parse(text);
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      const o = v as Record<string, unknown>;
      const name = [o.name, o.displayName, o.nickname].find((x) => typeof x === 'string') as string | undefined;
      return { displayName: name ?? null, userData: o };
    }
  } catch {
    // not JSON
  }
  return { displayName: null, userData: { text } };
}

/**
 * Joins an ODIN room as a headless peer through the optional ODIN Node SDK. Each remote peer's
 * audio arrives separately (AudioDataReceived: 20 ms at 48 kHz), which is what attribution
 * needs. Without the package the join fails with a message naming it.
 */
export class OdinRoom implements RoomAdapter {
  readonly kind = 'odin' as const;
  private room: OdinRoomApi | null = null;

  constructor(private readonly opts: OdinRoomOptions) {}

  async join(h: RoomHandlers): Promise<void> {
    let sdk: OdinModule;
    try {
      // A variable specifier: the bundler must not try to resolve an optional package.
      const name = ODIN_PACKAGE;
      sdk = await (this.opts.load ?? (() => import(name) as Promise<OdinModule>))();
    } catch {
      throw new RoomJoinError(`the odin adapter needs the optional package ${ODIN_PACKAGE}, which is not installed (npm install ${ODIN_PACKAGE})`);
    }
    const client = new sdk.OdinClient();
    const token = client.generateToken(this.opts.accessKey, this.opts.roomId, this.opts.botUserId);
    const room = client.createRoom(token);
    this.room = room;
    room.addEventListener('PeerJoined', (e) => {
      const peerId = String(e.peerId);
      h.peerJoined({ peerId, userId: e.userId || peerId, ...decodeUserData(e.userData) });
    });
    room.addEventListener('PeerLeft', (e) => h.peerLeft(String(e.peerId)));
    room.addEventListener('AudioDataReceived', (e) => {
      const samples = e.samples32 ?? e.samples16;
      if (samples) h.audio({ peerId: String(e.peerId), samples, sampleRate: SAMPLE_RATE, channels: 1 });
    });
    room.addEventListener('Left', (e) => h.left(e.reason ?? 'left the room'));
    try {
      await room.join(this.opts.gateway ?? DEFAULT_ODIN_GATEWAY, new TextEncoder().encode(JSON.stringify({ name: 'Cortex transcription bot', bot: true })));
    } catch (err) {
      throw new RoomJoinError(`odin: could not join room ${this.opts.roomId} at ${this.opts.gateway ?? DEFAULT_ODIN_GATEWAY}: ${(err as Error).message}`);
    }
  }

  async leave(): Promise<void> {
    await this.room?.close?.();
    this.room = null;
  }
}

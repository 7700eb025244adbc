/**
 * Live echo of one topic for the API (`GET /api/topics/{topic}/echo`): subscribes through the
 * host's node, turns each message into plain JSON (bigints as strings, byte and typed arrays
 * as a short summary so audio frames do not flood a browser) and caps the rate per echo.
 */
import { Subscriber as ZmqSubscriber } from 'zeromq';
import type { TopicInfo } from './discovery/client.js';
import { decodeMsgpack } from './msgpack.js';
import type { Node, Subscriber } from './node.js';
import type { MessageType } from './types.js';
import { decodeHeader, type MessageHeader } from './wire.js';

/** Bytes of a binary value shown in `preview` (base64). */
const PREVIEW_BYTES = 32;
const MAX_STRING = 2000;
const MAX_ITEMS = 100;
const MAX_DEPTH = 8;

/** Summary of a byte or typed array: its size and the base64 of its first 32 bytes. */
export interface BinarySummary {
  bytes: number;
  preview: string;
  /** The array's element type when it is not plain bytes, e.g. `Float32Array`. */
  type?: string;
  length?: number;
}

/** A decoded message value as JSON: bigint → decimal string, binary → {@link BinarySummary}. */
export function echoJson(value: unknown, depth = 0): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'string') return value.length > MAX_STRING ? `${value.slice(0, MAX_STRING)}… (${value.length} chars)` : value;
  if (value === null || typeof value !== 'object') return typeof value === 'number' && !Number.isFinite(value) ? String(value) : (value ?? null);
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) {
    const bytes = value instanceof ArrayBuffer ? new Uint8Array(value) : new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
    const summary: BinarySummary = { bytes: bytes.byteLength, preview: Buffer.from(bytes.subarray(0, PREVIEW_BYTES)).toString('base64') };
    const name = value.constructor.name;
    if (!(value instanceof Uint8Array) && !(value instanceof ArrayBuffer) && !(value instanceof DataView)) {
      summary.type = name;
      summary.length = (value as unknown as ArrayLike<unknown>).length;
    }
    return summary;
  }
  if (depth >= MAX_DEPTH) return '…';
  if (Array.isArray(value)) {
    const head = value.slice(0, MAX_ITEMS).map((v) => echoJson(v, depth + 1));
    if (value.length > MAX_ITEMS) head.push(`… ${value.length - MAX_ITEMS} more`);
    return head;
  }
  if (value instanceof Map) return echoJson(Object.fromEntries(value), depth);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = echoJson(v, depth + 1);
  return out;
}

export interface EchoMessage {
  /** The publisher's sequence number (u64 as a decimal string). */
  seq: string;
  /** Publish time (ISO, from the header's nanoseconds). */
  timestamp: string;
  value: unknown;
  /** Set when the message type is unknown here: the raw field values, and the out-of-band buffer count. */
  raw?: boolean;
  buffers?: number;
}

export interface EchoHandlers {
  onMessage(m: EchoMessage): void;
  /** A message that could not be decoded (wrong type, malformed). */
  onError(reason: string, detail: string): void;
}

export interface Echo {
  readonly ready: Promise<void>;
  close(): Promise<void>;
}

function iso(h: MessageHeader | null): string {
  if (!h) return new Date().toISOString();
  const ms = Number(h.timestampNs / 1_000_000n);
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? new Date().toISOString() : d.toISOString();
}

/**
 * Echo `info`'s topic through `node`: a typed {@link Subscriber} when the type is known
 * (`known[info.messageType]`), else a raw SUB socket on the node's context that shows the
 * msgpack field values as the CLI does.
 */
export function echoTopic(node: Node, info: TopicInfo, known: Readonly<Record<string, MessageType<unknown>>>, h: EchoHandlers): Echo {
  const type = known[info.messageType];
  if (type && type.fingerprint === info.fingerprint) {
    const sub: Subscriber<unknown> = node.subscriber(
      info.name,
      type,
      (value, header) => h.onMessage({ seq: header.sequence.toString(), timestamp: iso(header), value: echoJson(value) }),
      {
        receiveHighWaterMark: 100,
        onError: (e) => {
          if (e.kind !== 'callback' && e.kind !== 'discovery') h.onError(e.kind, e.detail);
        },
      },
    );
    return { ready: sub.ready, close: () => sub.close() };
  }

  const socket = new ZmqSubscriber({ context: node.context, receiveHighWaterMark: 100, linger: 0 });
  socket.connect(info.address);
  socket.subscribe(info.name);
  let closed = false;
  const loop = (async () => {
    try {
      for await (const f of socket) {
        if (f[0]?.toString() !== info.name) continue;
        const header = decodeHeader(f[1] ?? new Uint8Array());
        let value: unknown = null;
        try {
          value = f[2] ? decodeMsgpack(f[2]) : null;
        } catch (err) {
          h.onError('malformed', `metadata is not msgpack: ${(err as Error).message}`);
          continue;
        }
        h.onMessage({ seq: header?.sequence.toString() ?? '?', timestamp: iso(header), value: echoJson(value), raw: true, buffers: Math.max(0, f.length - 3) });
      }
    } catch {
      // closed
    }
  })();
  return {
    ready: Promise.resolve(),
    async close() {
      if (closed) return;
      closed = true;
      socket.close();
      await loop;
    },
  };
}

/**
 * At most `perSecond` sends in any sliding second; the rest are dropped and counted, and the
 * count goes out with the next message sent.
 */
export class RateCap {
  private readonly sent: number[] = [];
  private droppedSinceLast = 0;
  totalDropped = 0;

  constructor(
    readonly perSecond: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Returns the dropped count to attach when the message may be sent, or null to drop it. */
  take(): number | null {
    const t = this.now();
    while (this.sent.length && this.sent[0]! <= t - 1000) this.sent.shift();
    if (this.sent.length >= this.perSecond) {
      this.drop();
      return null;
    }
    this.sent.push(t);
    const d = this.droppedSinceLast;
    this.droppedSinceLast = 0;
    return d;
  }

  /** Count a message dropped for another reason (e.g. the client is not reading). */
  drop(): void {
    this.droppedSinceLast++;
    this.totalDropped++;
  }
}

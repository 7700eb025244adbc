/**
 * Discovery protocol: the REQ/REP control plane of the data plane, wire-compatible with
 * the original Python middleware.
 *
 * Every request and every reply is ONE ZeroMQ frame holding one msgpack map.
 *
 *   request  {command, topic_name?, topic_info?}
 *   reply    {status, message, topic_info?, topics?}
 *
 * Absent keys are omitted (a nil value is accepted as absent on input).
 *
 * TopicInfo travels as a msgpack map
 *   {name, address, message_type, fingerprint (u64), publisher_node}
 * that is itself packed to msgpack BYTES and nested in the outer map: `topic_info` is a
 * bin string, `topics` (LIST reply) is an array of bin strings. We produce exactly that
 * form; on input we also accept a plain nested map. The fingerprint is a u64 (Python packs
 * values >= 2^63 as msgpack uint64), held as a `bigint` here; small values are packed in
 * the shortest form, as Python does.
 *
 * Commands (request `command`):
 *   REGISTER_TOPIC=1   topic_info = the topic (topic_name optional; topic_info.name wins).
 *                      Optional extension key `lease: true` (ignored by old daemons): the
 *                      registering client promises to HEARTBEAT, so the topic starts in
 *                      lease mode at once instead of being probed.
 *                      -> OK | ALREADY_EXISTS (a live publisher owns the name) | ERROR
 *   UNREGISTER_TOPIC=2 topic_name          -> OK | NOT_FOUND
 *   LOOKUP_TOPIC=3     topic_name          -> OK + topic_info | NOT_FOUND
 *   LIST_TOPICS=4                          -> OK + topics (possibly empty list)
 *   PING=5                                 -> OK
 *   HEARTBEAT=6 (new)  topic_name = the publisher NODE name,
 *                      topics     = array of the topic NAMES (strings) that node publishes.
 *                      Renews the lease of each listed topic registered by that node.
 *                      -> OK                             every listed topic is known
 *                      -> NOT_FOUND + missing: [names]   the listed names the daemon does
 *                         not hold for that node (unknown, or registered by another node):
 *                         the caller re-registers them (e.g. after a daemon restart).
 *                      An original daemon answers ERROR (unknown command): clients then
 *                      fall back to no-heartbeat mode (their topics stay probe-checked).
 *
 * Statuses: OK=0, NOT_FOUND=1, ALREADY_EXISTS=2, ERROR=3 (`message` says why).
 */
import { decode, encode } from '@msgpack/msgpack';

export const Command = {
  REGISTER_TOPIC: 1,
  UNREGISTER_TOPIC: 2,
  LOOKUP_TOPIC: 3,
  LIST_TOPICS: 4,
  PING: 5,
  HEARTBEAT: 6,
} as const;
export type Command = (typeof Command)[keyof typeof Command];

export const Status = {
  OK: 0,
  NOT_FOUND: 1,
  ALREADY_EXISTS: 2,
  ERROR: 3,
} as const;
export type Status = (typeof Status)[keyof typeof Status];

export interface TopicInfo {
  name: string;
  address: string;
  messageType: string;
  fingerprint: bigint;
  publisherNode: string;
}

export interface DiscoveryRequest {
  command: number;
  topicName?: string;
  topicInfo?: TopicInfo;
  /** HEARTBEAT: the topic names the node publishes. */
  topics?: string[];
  /** REGISTER_TOPIC extension: the client will heartbeat this topic. */
  lease?: boolean;
}

export interface DiscoveryReply {
  status: number;
  message: string;
  topicInfo?: TopicInfo;
  /** LIST_TOPICS */
  topics?: TopicInfo[];
  /** HEARTBEAT: names the daemon does not hold for that node. */
  missing?: string[];
}

/** Thrown for frames that are not a well-formed protocol message. */
export class ProtocolError extends Error {
  override name = 'ProtocolError';
}

const U64_MAX = (1n << 64n) - 1n;
const MSGPACK_ENCODE = { useBigInt64: true } as const;
/** Caps so a hostile frame cannot make us allocate much (frames are capped by the socket too). */
const MSGPACK_DECODE = { useBigInt64: true, maxStrLength: 1 << 16, maxBinLength: 1 << 20, maxArrayLength: 1 << 16, maxMapLength: 64 } as const;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !ArrayBuffer.isView(v);
}

function decodeMsgpack(bytes: Uint8Array, what: string): unknown {
  try {
    return decode(bytes, MSGPACK_DECODE);
  } catch (err) {
    throw new ProtocolError(`${what} is not valid msgpack: ${(err as Error).message}`);
  }
}

/** A value that is absent, or nil (accepted as absent). */
function absent(v: unknown): boolean {
  return v === undefined || v === null;
}

function str(v: unknown, field: string, maxLen = 4096): string {
  if (typeof v !== 'string') throw new ProtocolError(`${field} must be a string`);
  if (v.length > maxLen) throw new ProtocolError(`${field} is too long`);
  return v;
}

function toU64(v: unknown, field: string): bigint {
  let b: bigint;
  if (typeof v === 'bigint') b = v;
  else if (typeof v === 'number' && Number.isSafeInteger(v)) b = BigInt(v);
  else throw new ProtocolError(`${field} must be an integer`);
  if (b < 0n) {
    // An int64 from a packer that wrote a u64 as signed: reinterpret the bits.
    if (b < -(1n << 63n)) throw new ProtocolError(`${field} is out of range`);
    b = BigInt.asUintN(64, b);
  }
  if (b > U64_MAX) throw new ProtocolError(`${field} is out of range`);
  return b;
}

function toSmallInt(v: unknown, field: string): number {
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'bigint' && v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(v);
  throw new ProtocolError(`${field} must be an integer`);
}

/** TopicInfo from its wire value: msgpack bytes (the original's form) or a plain map. */
export function topicInfoFromWire(v: unknown): TopicInfo {
  const m = v instanceof Uint8Array ? decodeMsgpack(v, 'topic_info') : v;
  if (!isRecord(m)) throw new ProtocolError('topic_info must be a msgpack map (or bytes holding one)');
  const info: TopicInfo = {
    name: str(m.name, 'topic_info.name'),
    address: str(m.address, 'topic_info.address'),
    messageType: str(m.message_type, 'topic_info.message_type'),
    fingerprint: toU64(m.fingerprint, 'topic_info.fingerprint'),
    publisherNode: absent(m.publisher_node) ? '' : str(m.publisher_node, 'topic_info.publisher_node'),
  };
  if (info.name === '') throw new ProtocolError('topic_info.name is empty');
  return info;
}

/** TopicInfo as msgpack bytes, the form nested in requests and replies. */
export function topicInfoToWire(t: TopicInfo): Uint8Array {
  return encode(
    {
      name: t.name,
      address: t.address,
      message_type: t.messageType,
      // Shortest form for small values (as Python packs them), uint64 otherwise.
      fingerprint: t.fingerprint <= 0xffffffffn ? Number(t.fingerprint) : t.fingerprint,
      publisher_node: t.publisherNode,
    },
    MSGPACK_ENCODE,
  );
}

function topicNames(v: unknown, field: string): string[] {
  if (!Array.isArray(v)) throw new ProtocolError(`${field} must be an array of topic names`);
  return v.map((x, i) => str(x, `${field}[${i}]`));
}

export function encodeRequest(r: DiscoveryRequest): Uint8Array {
  const m: Record<string, unknown> = { command: r.command };
  if (r.topicName !== undefined) m.topic_name = r.topicName;
  if (r.topicInfo !== undefined) m.topic_info = topicInfoToWire(r.topicInfo);
  if (r.topics !== undefined) m.topics = r.topics;
  if (r.lease) m.lease = true;
  return encode(m, MSGPACK_ENCODE);
}

/**
 * Parses one request frame. Throws ProtocolError on non-msgpack bytes, a non-map value,
 * a missing or unknown command, or arguments of the wrong shape for the command.
 */
export function decodeRequest(frame: Uint8Array): DiscoveryRequest {
  const m = decodeMsgpack(frame, 'request');
  if (!isRecord(m)) throw new ProtocolError('request must be a msgpack map');
  if (absent(m.command)) throw new ProtocolError('request has no command');
  const command = toSmallInt(m.command, 'command');
  const req: DiscoveryRequest = { command };
  const name = () => {
    if (absent(m.topic_name)) throw new ProtocolError('topic_name is required');
    return str(m.topic_name, 'topic_name');
  };
  switch (command) {
    case Command.REGISTER_TOPIC: {
      if (absent(m.topic_info)) throw new ProtocolError('topic_info is required');
      req.topicInfo = topicInfoFromWire(m.topic_info);
      if (!absent(m.topic_name)) req.topicName = str(m.topic_name, 'topic_name');
      if (m.lease === true) req.lease = true;
      break;
    }
    case Command.UNREGISTER_TOPIC:
    case Command.LOOKUP_TOPIC:
      req.topicName = name();
      break;
    case Command.LIST_TOPICS:
    case Command.PING:
      break;
    case Command.HEARTBEAT:
      req.topicName = name();
      req.topics = absent(m.topics) ? [] : topicNames(m.topics, 'topics');
      break;
    default:
      throw new ProtocolError(`unknown command ${command}`);
  }
  return req;
}

export function encodeReply(r: DiscoveryReply): Uint8Array {
  const m: Record<string, unknown> = { status: r.status, message: r.message };
  if (r.topicInfo !== undefined) m.topic_info = topicInfoToWire(r.topicInfo);
  if (r.topics !== undefined) m.topics = r.topics.map(topicInfoToWire);
  if (r.missing !== undefined && r.missing.length > 0) m.missing = r.missing;
  return encode(m, MSGPACK_ENCODE);
}

export function decodeReply(frame: Uint8Array): DiscoveryReply {
  const m = decodeMsgpack(frame, 'reply');
  if (!isRecord(m)) throw new ProtocolError('reply must be a msgpack map');
  const reply: DiscoveryReply = {
    status: toSmallInt(m.status, 'status'),
    message: absent(m.message) ? '' : typeof m.message === 'string' ? m.message : String(m.message),
  };
  if (!absent(m.topic_info)) reply.topicInfo = topicInfoFromWire(m.topic_info);
  if (!absent(m.topics)) {
    if (!Array.isArray(m.topics)) throw new ProtocolError('topics must be an array');
    reply.topics = m.topics.map(topicInfoFromWire);
  }
  if (!absent(m.missing)) reply.missing = topicNames(m.missing, 'missing');
  return reply;
}

/** The fixed ERROR reply bytes for a request that could not be parsed. */
export function errorReply(message: string): Uint8Array {
  return encodeReply({ status: Status.ERROR, message });
}

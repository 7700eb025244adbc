/**
 * What each room adapter needs in a session's `adapterConfig`, checked when the session is
 * created so a bad config is a 400 naming the field, not a bot that fails later.
 */
import { invalid } from '../core/errors.js';

export interface FilePeerConfig {
  peerId: string;
  path: string;
  userId?: string;
  displayName?: string;
}

export type AdapterConfig = { peers: FilePeerConfig[]; realtime: boolean } | { botUserId: string } | Record<string, never>;

const PEER_ID = /^[A-Za-z0-9_.:@-]{1,128}$/;
const MAX_FILE_PEERS = 64;

const str = (v: unknown, field: string, max = 4096): string => {
  if (typeof v !== 'string' || v.length === 0 || v.length > max) throw invalid(field, `must be a non-empty string (≤ ${max} characters)`);
  return v;
};

export function checkAdapterConfig(adapter: string | null, raw: Record<string, unknown> | null, externalRoomId: string | null): AdapterConfig | null {
  const field = 'body/adapterConfig';
  if (adapter === null) {
    if (raw !== null) throw invalid(field, 'adapterConfig needs an adapter');
    return null;
  }
  const cfg = raw ?? {};
  if (adapter === 'file') {
    const peers = cfg.peers;
    if (!Array.isArray(peers) || peers.length === 0 || peers.length > MAX_FILE_PEERS) throw invalid(`${field}/peers`, `the file adapter needs 1–${MAX_FILE_PEERS} peers, each {peerId, path}`);
    const seen = new Set<string>();
    const out = peers.map((p: unknown, i) => {
      const at = `${field}/peers/${i}`;
      if (typeof p !== 'object' || p === null) throw invalid(at, 'must be an object {peerId, path, userId?, displayName?}');
      const o = p as Record<string, unknown>;
      const peerId = str(o.peerId, `${at}/peerId`, 128);
      if (!PEER_ID.test(peerId)) throw invalid(`${at}/peerId`, 'letters, digits and _ . : @ - only');
      if (seen.has(peerId)) throw invalid(`${at}/peerId`, `duplicate peerId ${peerId}`);
      seen.add(peerId);
      const peer: FilePeerConfig = { peerId, path: str(o.path, `${at}/path`) };
      if (o.userId !== undefined) peer.userId = str(o.userId, `${at}/userId`, 256);
      if (o.displayName !== undefined) peer.displayName = str(o.displayName, `${at}/displayName`, 256);
      return peer;
    });
    if (cfg.realtime !== undefined && typeof cfg.realtime !== 'boolean') throw invalid(`${field}/realtime`, 'must be a boolean');
    const unknown = Object.keys(cfg).find((k) => k !== 'peers' && k !== 'realtime');
    if (unknown) throw invalid(`${field}/${unknown}`, 'unknown setting for the file adapter');
    return { peers: out, realtime: cfg.realtime !== false };
  }
  // odin and zmq join the room named by externalRoomId.
  if (!externalRoomId) throw invalid('body/externalRoomId', `the ${adapter} adapter needs externalRoomId (the room to join)`);
  if (adapter === 'zmq' && !/^[A-Za-z0-9_.:@-]{1,128}$/.test(externalRoomId)) throw invalid('body/externalRoomId', 'zmq room ids are letters, digits and _ . : @ - (they are part of topic names)');
  if (adapter === 'odin') {
    const unknown = Object.keys(cfg).find((k) => k !== 'botUserId');
    if (unknown) throw invalid(`${field}/${unknown}`, 'unknown setting for the odin adapter (the access key is a server setting, never part of a session)');
    return { botUserId: cfg.botUserId === undefined ? 'cortex-bot' : str(cfg.botUserId, `${field}/botUserId`, 256) };
  }
  const unknown = Object.keys(cfg)[0];
  if (unknown) throw invalid(`${field}/${unknown}`, 'the zmq adapter takes no settings');
  return {};
}

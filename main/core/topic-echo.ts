/**
 * One topic's live echo for a console client, shared by `GET /api/topics/{topic}/echo` (SSE)
 * and the Electron IPC bridge: the topic lookup with its problem answers, the host's echo
 * (decoding in main/bus/echo.ts) and the per-stream rate cap with drop counts.
 */
import type { TopicInfo } from '../bus/discovery/client.js';
import { RateCap, type EchoMessage } from '../bus/echo.js';
import type { BusHost } from '../bus/host.js';
import { ProblemError } from './errors.js';

/** What an echo needs of the bus host. */
export type EchoHost = Pick<BusHost, 'endpoint' | 'lookup' | 'echo'>;

/** Messages per second one echo stream sends at most; the rest are dropped and counted. */
export const ECHO_MAX_RATE = 20;

/** The first frame of a stream (`event: ready`). */
export interface EchoReady {
  topic: string;
  messageType: string;
  maxRate: number;
}

/** A frame after `ready`: a decoded message or one that could not be decoded; `dropped` counts the ones left out since the previous frame. */
export type EchoFrame =
  | { event: 'message'; data: EchoMessage & { dropped: number } }
  | { event: 'invalid'; data: { reason: string; detail: string; dropped: number } };

/**
 * The registered topic `name` on `bus`. Throws a {@link ProblemError}: `conflict` when the
 * data plane is off, `unavailable` when discovery does not answer, `not_found` (field
 * `params/topic`) when no such topic is registered.
 */
export async function findEchoTopic(bus: EchoHost | null, name: string): Promise<{ host: EchoHost; info: TopicInfo }> {
  if (!bus) {
    throw new ProblemError('conflict', 'The ZeroMQ data plane is off on this server (no busEndpoint; CORTEX_BUS_ENDPOINT=off), so there is no topic to echo.');
  }
  let info;
  try {
    info = await bus.lookup(name);
  } catch (err) {
    throw new ProblemError('unavailable', `The discovery daemon at ${bus.endpoint} did not answer (${(err as Error).message}); try again in a moment.`);
  }
  if (!info) throw new ProblemError('not_found', `No topic "${name}" is registered on the data plane.`, 'params/topic');
  return { host: bus, info };
}

export interface CappedEcho {
  readonly ready: EchoReady;
  /** Resolves once the subscription is connected (what is published after it is seen). */
  readonly connected: Promise<void>;
  /** Idempotent: no frame is sent after it. */
  close(): Promise<void>;
}

/**
 * Echoes `info` through the host at most {@link ECHO_MAX_RATE} frames per second to `send`.
 * While `blocked()` answers true (a client not reading) frames are dropped and counted.
 */
export function openCappedEcho(bus: EchoHost, info: TopicInfo, send: (frame: EchoFrame) => void, blocked: () => boolean = () => false): CappedEcho {
  const cap = new RateCap(ECHO_MAX_RATE);
  let closed = false;
  const emit = (make: (dropped: number) => EchoFrame): void => {
    if (closed) return;
    if (blocked()) return cap.drop();
    const dropped = cap.take();
    if (dropped === null) return;
    send(make(dropped));
  };
  const echo = bus.echo(info, {
    onMessage: (m) => emit((dropped) => ({ event: 'message', data: { ...m, dropped } })),
    onError: (reason, detail) => emit((dropped) => ({ event: 'invalid', data: { reason, detail, dropped } })),
  });
  return {
    ready: { topic: info.name, messageType: info.messageType, maxRate: ECHO_MAX_RATE },
    connected: echo.ready.catch(() => undefined),
    async close() {
      if (closed) return;
      closed = true;
      await echo.close();
    },
  };
}

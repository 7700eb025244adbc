import type { DomainEvent } from '../../common/events.js';
import { DiscoveryClient, type TopicInfo } from './discovery/client.js';
import { startDiscoveryDaemon } from './discovery/daemon.js';
import { echoTopic, type Echo, type EchoHandlers } from './echo.js';
import { TopicMonitor, type TopicActivity } from './monitor.js';
import { Node, type Publisher } from './node.js';
import { BUILTIN_TYPES, defineMessageType, type MessageType } from './types.js';

/** Committed domain events as they travel on `cortex/events`. */
export interface CortexEventMessage {
  id: string;
  seq: number;
  type: string;
  source: string;
  tenantId: string;
  projectId: string | null;
  resourceId: string;
  timestamp: string;
  payload: Record<string, unknown>;
}

export const CortexEvent = defineMessageType<CortexEventMessage>('CortexEvent', [
  ['id', 'str'],
  ['seq', 'int'],
  ['type', 'str'],
  ['source', 'str'],
  ['tenantId', 'str'],
  ['projectId', 'any'],
  ['resourceId', 'str'],
  ['timestamp', 'str'],
  ['payload', 'dict'],
]);

export const EVENTS_TOPIC = 'cortex/events';

/** Message types this process can decode by name (built-ins and `CortexEvent`). */
export const KNOWN_TYPES: Readonly<Record<string, MessageType<unknown>>> = Object.freeze({ ...BUILTIN_TYPES, CortexEvent: CortexEvent as MessageType<unknown> });

export interface TopicView extends TopicActivity {
  name: string;
  address: string;
  messageType: string;
  /** u64 as a decimal string (JSON numbers cannot hold it). */
  fingerprint: string;
  publisherNode: string;
}

export interface BusHost {
  endpoint: string;
  /** True when this process runs the discovery daemon (false: it joined a running one). */
  ownsDaemon: boolean;
  node: Node;
  topics(): Promise<TopicView[]>;
  /** The registered topic `name`, or null (asks the discovery daemon). */
  lookup(name: string): Promise<TopicInfo | null>;
  /** Live echo of a registered topic through this process's node (see echo.ts). */
  echo(info: TopicInfo, handlers: EchoHandlers): Echo;
  /** Echoes open now. */
  readonly echoes: number;
  close(): Promise<void>;
}

interface Logger {
  info(obj: object | string, msg?: string): void;
  warn(obj: object | string, msg?: string): void;
}

/**
 * The app's side of the data plane: runs the discovery daemon (or joins the one already
 * answering at the endpoint), mirrors every committed domain event onto `cortex/events`,
 * and reports the registered topics with their activity.
 */
export async function startBus(o: {
  endpoint: string;
  runtimeDir: string;
  subscribeEvents: (listener: (e: DomainEvent) => void) => () => void;
  logger: Logger;
}): Promise<BusHost> {
  let daemon: Awaited<ReturnType<typeof startDiscoveryDaemon>> | null = null;
  try {
    daemon = await startDiscoveryDaemon({ endpoint: o.endpoint, logger: o.logger });
  } catch (err) {
    const probe = new DiscoveryClient({ endpoint: o.endpoint, timeoutMs: 500 });
    const alive = await probe.ping().catch(() => false);
    probe.close();
    if (!alive) throw err;
    o.logger.info({ endpoint: o.endpoint }, 'using the discovery daemon already running there');
  }
  const node = new Node({ name: `cortex-console-${process.pid}`, discoveryEndpoint: o.endpoint, runtimeDir: o.runtimeDir });
  const events: Publisher<CortexEventMessage> = await node.publisher(EVENTS_TOPIC, CortexEvent, { queueSize: 10_000 });
  const unsubscribe = o.subscribeEvents((e) => {
    events.publish({ ...e, payload: e.payload as unknown as Record<string, unknown> });
  });
  const client = new DiscoveryClient({ endpoint: o.endpoint });
  const monitor = new TopicMonitor();
  const echoes = new Set<Echo>();

  return {
    endpoint: o.endpoint,
    ownsDaemon: daemon !== null,
    node,
    async topics() {
      const list: TopicInfo[] = await client.list();
      const activity = monitor.activity(list);
      return list.map((t) => ({
        name: t.name,
        address: t.address,
        messageType: t.messageType,
        fingerprint: t.fingerprint.toString(),
        publisherNode: t.publisherNode,
        ...(activity.get(t.name) ?? { rate: null, lastMessageAt: null }),
      }));
    },
    lookup: (name) => client.lookup(name),
    echo(info, handlers) {
      const inner = echoTopic(node, info, KNOWN_TYPES, handlers);
      const e: Echo = {
        ready: inner.ready,
        close: async () => {
          echoes.delete(e);
          await inner.close();
        },
      };
      echoes.add(e);
      return e;
    },
    get echoes() {
      return echoes.size;
    },
    async close() {
      await Promise.all([...echoes].map((e) => e.close()));
      unsubscribe();
      monitor.close();
      client.close();
      await node.close();
      await daemon?.close();
    },
  };
}

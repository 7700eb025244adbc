import { Subscriber } from 'zeromq';
import { DiscoveryClient, type TopicInfo } from '../bus/discovery/client.js';
import { runDiscoveryDaemon } from '../bus/discovery/daemon.js';
import { CortexEvent } from '../bus/host.js';
import { decodeMsgpack } from '../bus/msgpack.js';
import { Node } from '../bus/node.js';
import { BUILTIN_TYPES, type MessageType } from '../bus/types.js';
import { decodeFrames, decodeHeader } from '../bus/wire.js';
import { loadConfig } from '../core/config.js';
import { parseArgs, parseFlags } from './args.js';

const KNOWN: Record<string, MessageType<unknown>> = { ...BUILTIN_TYPES, CortexEvent: CortexEvent as MessageType<unknown> };
const out = (line: string) => process.stdout.write(line + '\n');

function endpointFrom(flags: Record<string, string | boolean>): string {
  if (typeof flags.endpoint === 'string') return flags.endpoint;
  const endpoint = loadConfig({ dataDir: '/nonexistent-cortex-config' }).busEndpoint;
  if (!endpoint) throw new Error('the data plane is switched off (CORTEX_BUS_ENDPOINT=off); pass --endpoint');
  return endpoint;
}

/** JSON with bigints as decimal strings and typed arrays summarized. */
function show(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => {
    if (typeof v === 'bigint') return v.toString();
    if (ArrayBuffer.isView(v) && !(v instanceof DataView)) {
      const a = v as unknown as ArrayLike<number | bigint>;
      const head = Array.from({ length: Math.min(a.length, 8) }, (_, i) => String(a[i]));
      return `${v.constructor.name}(${a.length}) [${head.join(', ')}${a.length > 8 ? ', …' : ''}]`;
    }
    return v;
  });
}

async function lookup(client: DiscoveryClient, topic: string): Promise<TopicInfo> {
  const info = await client.lookup(topic);
  if (!info) throw new Error(`topic "${topic}" is not registered`);
  return info;
}

/** Frames of `topic` until Ctrl-C. */
async function* frames(info: TopicInfo): AsyncGenerator<Buffer[]> {
  const sub = new Subscriber();
  sub.connect(info.address);
  sub.subscribe(info.name);
  process.once('SIGINT', () => sub.close());
  try {
    for await (const f of sub) if (f[0]?.toString() === info.name) yield f;
  } catch {
    // closed by Ctrl-C
  }
}

const commands: Record<string, (args: string[], flags: Record<string, string | boolean>) => Promise<void>> = {
  async list(_args, flags) {
    const client = new DiscoveryClient({ endpoint: endpointFrom(flags) });
    try {
      const topics = await client.list();
      if (!topics.length) out('(no topics)');
      for (const t of topics) out(`${t.name}\t${t.messageType}\t${t.publisherNode}\t${t.address}`);
    } finally {
      client.close();
    }
  },
  async info([topic], flags) {
    const client = new DiscoveryClient({ endpoint: endpointFrom(flags) });
    try {
      const t = await lookup(client, need(topic));
      const type = KNOWN[t.messageType];
      out(show({ ...t, fingerprint: `0x${t.fingerprint.toString(16).padStart(16, '0')}`, fields: type?.fields ?? 'unknown type' }));
    } finally {
      client.close();
    }
  },
  async echo([topic], flags) {
    const client = new DiscoveryClient({ endpoint: endpointFrom(flags) });
    const info = await lookup(client, need(topic)).finally(() => client.close());
    const type = KNOWN[info.messageType];
    for await (const f of frames(info)) {
      if (type) {
        const r = decodeFrames(f, type, { expectedTopic: info.name });
        out(r.ok ? `[${r.header.sequence}] ${show(r.value)}` : `! dropped: ${r.reason}: ${r.detail}`);
      } else {
        // A type this CLI does not know: show the raw field values.
        const header = decodeHeader(f[1] ?? new Uint8Array());
        out(`[${header?.sequence ?? '?'}] ${show(f[2] ? decodeMsgpack(f[2]) : null)}${f.length > 3 ? ` +${f.length - 3} buffers` : ''}`);
      }
    }
  },
  async hz([topic], flags) {
    const client = new DiscoveryClient({ endpoint: endpointFrom(flags) });
    const info = await lookup(client, need(topic)).finally(() => client.close());
    let count = 0;
    let bytes = 0;
    let windowStart = Date.now();
    const timer = setInterval(() => {
      const s = (Date.now() - windowStart) / 1000;
      out(`${(count / s).toFixed(1)} msg/s  ${(bytes / s / 1e6).toFixed(2)} MB/s`);
      count = 0;
      bytes = 0;
      windowStart = Date.now();
    }, 1000);
    for await (const f of frames(info)) {
      count++;
      for (const b of f) bytes += b.length;
    }
    clearInterval(timer);
  },
  async pub([topic, json], flags) {
    const name = need(topic);
    const endpoint = endpointFrom(flags);
    const client = new DiscoveryClient({ endpoint });
    const existing = await client.lookup(name).finally(() => client.close());
    const typeName = typeof flags.type === 'string' ? flags.type : (existing?.messageType ?? 'String');
    const type = KNOWN[typeName];
    if (!type) throw new Error(`unknown message type "${typeName}" (known: ${Object.keys(KNOWN).join(', ')})`);
    let value: unknown;
    try {
      value = JSON.parse(need(json, '<json>'));
    } catch (err) {
      throw new Error(`<json> is not valid JSON: ${(err as Error).message}`);
    }
    // `cortex topic pub t '"hi"'` for single-field types; an object for the rest.
    const fields = type.fields.map(([f]) => f);
    const message = fields.length === 1 && (typeof value !== 'object' || value === null || !(fields[0]! in value)) ? { [fields[0]!]: value } : value;
    const node = new Node({ name: `cortex-cli-${process.pid}`, discoveryEndpoint: endpoint });
    try {
      const publisher = await node.publisher(name, type, { queueSize: 10 });
      // PUB/SUB drops messages sent before subscribers connect: give them a moment.
      await new Promise((r) => setTimeout(r, Number(flags.wait ?? 500)));
      publisher.publish(message as never);
      await new Promise((r) => setTimeout(r, 100));
      out(`published to ${name} (${typeName})`);
    } finally {
      await node.close();
    }
  },
};

function need(v: string | undefined, what = '<topic>'): string {
  if (!v) throw new Error(`missing ${what}`);
  return v;
}

/** `cortex topic list | info T | echo T | hz T | pub T '<json>' [--type Name]`. */
export async function topic(argv: string[]): Promise<void> {
  const [sub, ...rest] = argv;
  const run = sub ? commands[sub] : undefined;
  if (!run) throw new Error(`usage: cortex topic list | info T | echo T | hz T | pub T '<json>' [--type Name] [--endpoint E]`);
  const { flags, positional } = parseArgs(rest, { endpoint: 'string', type: 'string', wait: 'string' });
  await run(positional, flags);
}

/** `cortex discovery [--endpoint E]`: the discovery daemon on its own. */
export async function discovery(argv: string[]): Promise<void> {
  const flags = parseFlags(argv, { endpoint: 'string' });
  await runDiscoveryDaemon({ endpoint: endpointFrom(flags) });
}

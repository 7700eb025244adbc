/** Messages between the plugin runner (main thread) and a plugin worker. Structured-cloned. */
import type { PluginManifest, PluginOutput, RecentMessagesQuery } from './api.js';

/** Where a plugin's code comes from: compiled into the app, or a module file in the plugins folder. */
export type PluginSource = { kind: 'builtin'; id: string } | { kind: 'file'; path: string };

export interface RunWorkerData {
  mode: 'run';
  source: PluginSource;
  settings: Record<string, unknown>;
  projectId: string;
  /** Int32Array over a SharedArrayBuffer: [0] = events finished in the current batch (the watchdog reads it). */
  progress: SharedArrayBuffer;
}

export interface InspectWorkerData {
  mode: 'inspect';
  paths: string[];
}

export type ToWorker =
  /** A JSON array of event envelopes: one string crosses the thread boundary far cheaper than cloned objects. */
  | { t: 'batch'; json: string }
  | { t: 'rpc'; id: number; ok: true; value: unknown }
  | { t: 'rpc'; id: number; ok: false; error: string };

/** What a plugin's context asks of the main thread. */
export type RpcRequest =
  | { method: 'session'; sessionId: string }
  | { method: 'recentMessages'; sessionId: string; beforeMessageId: string | null; query: RecentMessagesQuery };

export type EventResult = { seq: number; ok: true; output: PluginOutput } | { seq: number; ok: false; error: string };

export type FromWorker =
  | { t: 'ready'; manifest: PluginManifest }
  | { t: 'load-failed'; error: string }
  | { t: 'results'; results: EventResult[] }
  | ({ t: 'rpc'; id: number } & RpcRequest)
  | { t: 'log'; level: 'debug' | 'info' | 'warn' | 'error'; msg: string; data?: Record<string, unknown> }
  | { t: 'inspected'; items: InspectedPlugin[] };

export type InspectedPlugin = { path: string; ok: true; manifest: PluginManifest } | { path: string; ok: false; error: string };

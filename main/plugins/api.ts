/**
 * The plugin API: what a plugin module exports and what its handler receives. The built-in
 * plugins use exactly this API; third-party plugins (plain JavaScript modules in
 * `<data-dir>/plugins/`) follow the same shapes. Plugins run in a worker thread: they see
 * events, their settings and a read-only context, never the database or secrets.
 */
import type { DomainEvent } from '../../common/events.js';
import type { Message, Session } from '../../common/schemas.js';

/** A JSON Schema (draft 2020-12 / draft-07 subset as understood by Ajv) for a plugin's settings. */
export type JsonSchema = Record<string, unknown>;

export interface PluginManifest {
  /** Lower-case letters, digits and dashes; unique in the catalog. */
  id: string;
  name: string;
  version: string;
  description?: string;
  /** Event types the plugin consumes, e.g. `["message.created"]`. */
  events: string[];
  /** JSON Schema of the settings object; defaults in it are applied on install. */
  settingsSchema: JsonSchema;
}

export type Severity = 'low' | 'medium' | 'high';

/** What a handler returns for one event. */
export interface AnnotationDraft {
  /** Defaults to `message` for message events, else `session`. */
  target?: 'message' | 'session';
  /** What was found, e.g. `toxicity`, `keyword`, `pii`, `flood`, `summary`. */
  type: string;
  /** 0–1; what automod's `minScore` compares. */
  score?: number | null;
  severity?: Severity | null;
  /** Free-form details; `categories: string[]` here is what automod's `categories` matches. */
  content?: Record<string, unknown>;
}

export interface PluginResult {
  annotations?: AnnotationDraft[];
  /** Message events only: replaces the stored message text (and the text in the log's message events). */
  redactedContent?: string;
  /** Session events only: stored as the session's summary. */
  summary?: string;
}

export type PluginOutput = void | null | AnnotationDraft[] | PluginResult;

export interface RecentMessagesQuery {
  /** At most this many, newest last (default 50, at most 500). */
  limit?: number;
  participantId?: string;
  /** Only messages whose timestamp is within this many seconds before the event's message (or now). */
  sinceSeconds?: number;
}

export interface PluginLogger {
  debug(msg: string, data?: Record<string, unknown>): void;
  info(msg: string, data?: Record<string, unknown>): void;
  warn(msg: string, data?: Record<string, unknown>): void;
  error(msg: string, data?: Record<string, unknown>): void;
}

export interface PluginContext<S = Record<string, unknown>> {
  /** The installation's validated settings (schema defaults applied). */
  settings: S;
  projectId: string;
  /** The session the event belongs to. */
  session(): Promise<Session>;
  /**
   * Messages of the event's session, oldest first. For a message event only messages up to and
   * including that message are returned, so a replay after a crash sees what the first run saw.
   */
  recentMessages(query?: RecentMessagesQuery): Promise<Message[]>;
  log: PluginLogger;
}

export interface Plugin<S = Record<string, unknown>> {
  manifest: PluginManifest;
  handle(event: DomainEvent, ctx: PluginContext<S>): PluginOutput | Promise<PluginOutput>;
}

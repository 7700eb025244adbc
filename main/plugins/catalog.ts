/**
 * The plugin catalog: the built-ins, and the module files in the plugins folder. Third-party
 * manifests are read in a short-lived worker (their code never runs on the main thread); the
 * folder is rescanned only when its listing changes. Settings are validated here, against each
 * plugin's JSON Schema, with the schema's defaults applied.
 */
import { existsSync, readdirSync, statSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { invalid } from '../core/errors.js';
import type { PluginManifest } from './api.js';
import { BUILTIN_PLUGINS } from './builtin/index.js';
import type { BuiltinPlugin } from './builtin/types.js';
import type { FromWorker, InspectedPlugin, PluginSource } from './protocol.js';
import { startPluginWorker } from './thread.js';

export interface CatalogEntry extends PluginManifest {
  builtin: boolean;
  /** The module file of a third-party plugin. */
  path: string | null;
}

export interface CatalogProblem {
  path: string;
  error: string;
}

const ID_RE = /^[a-z0-9][a-z0-9-]{0,63}$/;
/**
 * Events a plugin may consume: what happens to messages and sessions (annotations target one
 * or the other). Not annotations, plugin or automod bookkeeping, which could feed a loop.
 */
export const CONSUMABLE_EVENTS: ReadonlySet<string> = new Set([
  'message.created', 'message.updated',
  'session.created', 'session.started', 'session.updated', 'session.ended', 'session.summary.requested',
]);

interface Entry {
  entry: CatalogEntry;
  source: PluginSource;
  validate: ValidateFunction;
  builtin: BuiltinPlugin<Record<string, unknown>> | null;
}

export class PluginCatalog {
  private readonly ajv = new Ajv({ useDefaults: true, allErrors: false, strict: false });
  private readonly builtins: Map<string, Entry>;
  private thirdParty = new Map<string, Entry>();
  private problems: CatalogProblem[] = [];
  private signature = '';
  private scanning: Promise<void> | null = null;

  constructor(readonly dir: string) {
    addFormats.default(this.ajv);
    this.builtins = new Map(
      BUILTIN_PLUGINS.map((p) => [
        p.manifest.id,
        {
          entry: { ...p.manifest, builtin: true, path: null },
          source: { kind: 'builtin', id: p.manifest.id },
          validate: this.ajv.compile(p.manifest.settingsSchema),
          builtin: p,
        },
      ]),
    );
  }

  async list(): Promise<{ items: CatalogEntry[]; problems: CatalogProblem[] }> {
    await this.refresh();
    return { items: [...this.builtins.values(), ...this.thirdParty.values()].map((e) => e.entry), problems: this.problems };
  }

  async get(id: string): Promise<Entry | undefined> {
    if (this.builtins.has(id)) return this.builtins.get(id);
    await this.refresh();
    return this.thirdParty.get(id);
  }

  /**
   * Validates settings for a plugin and returns them with the schema's defaults applied;
   * throws a problem naming the field (`body/settings/...`).
   */
  settings(e: Entry, input: unknown): Record<string, unknown> {
    const value = structuredClone(input ?? {}) as Record<string, unknown>;
    if (!e.validate(value)) throw invalid(fieldOf(e.validate.errors?.[0]), `settings: ${e.validate.errors?.[0]?.message ?? 'invalid'}`);
    const problem = e.builtin?.validateSettings?.(value)[0];
    if (problem) throw invalid(`body/settings/${problem.field}`.replace(/\/$/, ''), problem.message);
    return value;
  }

  private refresh(): Promise<void> {
    const signature = this.listing().map((f) => `${f.path}:${f.mtimeMs}`).join('|');
    if (signature === this.signature) return this.scanning ?? Promise.resolve();
    this.signature = signature;
    this.scanning = this.scan().finally(() => (this.scanning = null));
    return this.scanning;
  }

  /** Plugin modules: `*.js`/`*.mjs` files, and folders with a package.json `main` or an index.js/index.mjs. */
  private listing(): { path: string; mtimeMs: number }[] {
    if (!existsSync(this.dir)) return [];
    const out: { path: string; mtimeMs: number }[] = [];
    for (const name of readdirSync(this.dir).sort()) {
      const full = join(this.dir, name);
      const st = statSync(full, { throwIfNoEntry: false });
      if (!st) continue;
      if (st.isFile() && /\.(m?js)$/.test(name)) out.push({ path: full, mtimeMs: st.mtimeMs });
      else if (st.isDirectory()) {
        const main = moduleOfFolder(full);
        if (main) out.push({ path: main, mtimeMs: statSync(main).mtimeMs });
      }
    }
    return out;
  }

  private async scan(): Promise<void> {
    const paths = this.listing().map((f) => f.path);
    const inspected = paths.length ? await inspect(paths) : [];
    const found = new Map<string, Entry>();
    const problems: CatalogProblem[] = [];
    for (const item of inspected) {
      if (!item.ok) {
        problems.push({ path: item.path, error: item.error });
        continue;
      }
      const error = this.checkManifest(item.manifest, found);
      if (error) {
        problems.push({ path: item.path, error });
        continue;
      }
      found.set(item.manifest.id, {
        entry: { ...item.manifest, builtin: false, path: item.path },
        source: { kind: 'file', path: item.path },
        validate: this.ajv.compile(item.manifest.settingsSchema),
        builtin: null,
      });
    }
    this.thirdParty = found;
    this.problems = problems;
  }

  private checkManifest(m: PluginManifest, found: Map<string, Entry>): string | null {
    if (typeof m.id !== 'string' || !ID_RE.test(m.id)) return 'manifest.id must be lower-case letters, digits and dashes (1–64)';
    if (this.builtins.has(m.id) || found.has(m.id)) return `manifest.id "${m.id}" is already taken`;
    if (typeof m.name !== 'string' || !m.name || typeof m.version !== 'string' || !m.version) return 'manifest.name and manifest.version are required strings';
    if (!Array.isArray(m.events) || m.events.length === 0) return 'manifest.events must list at least one event type';
    const bad = m.events.find((t) => !CONSUMABLE_EVENTS.has(t));
    if (bad !== undefined) return `manifest.events: "${String(bad)}" is not an event type a plugin can consume`;
    if (!m.settingsSchema || typeof m.settingsSchema !== 'object') return 'manifest.settingsSchema must be a JSON Schema object';
    try {
      this.ajv.compile(m.settingsSchema);
    } catch (err) {
      return `manifest.settingsSchema does not compile: ${(err as Error).message}`;
    }
    return null;
  }
}

function moduleOfFolder(dir: string): string | null {
  const pkg = join(dir, 'package.json');
  if (existsSync(pkg)) {
    try {
      const main = (JSON.parse(readFileSync(pkg, 'utf8')) as { main?: unknown }).main;
      if (typeof main === 'string' && existsSync(join(dir, main))) return join(dir, main);
    } catch {
      // fall through to index files
    }
  }
  for (const index of ['index.mjs', 'index.js']) if (existsSync(join(dir, index))) return join(dir, index);
  return null;
}

/** Loads module files in a throwaway worker and returns their manifests (or why they failed). */
function inspect(paths: string[]): Promise<InspectedPlugin[]> {
  return new Promise((resolve) => {
    const worker = startPluginWorker({ mode: 'inspect', paths }, { maxOldGenerationSizeMb: 128 });
    const timer = setTimeout(() => void worker.terminate(), 10_000);
    let done = false;
    const finish = (items: InspectedPlugin[]) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      void worker.terminate();
      resolve(items);
    };
    worker.on('message', (m: FromWorker) => {
      if (m.t === 'inspected') finish(m.items);
    });
    worker.on('error', (err) => finish(paths.map((path) => ({ path, ok: false, error: `loading failed: ${err.message}` }))));
    worker.on('exit', () => finish(paths.map((path) => ({ path, ok: false, error: 'loading timed out or the module exited' }))));
  });
}

function fieldOf(e: ErrorObject | undefined): string {
  if (!e) return 'body/settings';
  const p = e.params as { missingProperty?: string; additionalProperty?: string };
  const extra = p.missingProperty ?? p.additionalProperty;
  return `body/settings${e.instancePath}${extra !== undefined ? `/${extra}` : ''}`;
}

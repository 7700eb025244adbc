/**
 * The built-in plugins, in catalog order. Each is a pure module: a manifest (with a JSON Schema
 * for its settings whose defaults make `{}` a complete settings object), a handler and
 * `validateSettings` for checks the schema cannot express.
 */
import { floodPlugin } from './flood.js';
import { keywordsPlugin } from './keywords.js';
import { piiPlugin } from './pii.js';
import { summaryPlugin } from './summary.js';
import { toxicityPlugin } from './toxicity.js';
import type { BuiltinPlugin } from './types.js';

export type { BuiltinPlugin, SettingsProblem } from './types.js';
export { floodPlugin, keywordsPlugin, piiPlugin, summaryPlugin, toxicityPlugin };

/** A built-in plugin with its settings type erased (settings arrive as validated JSON). */
export type AnyBuiltinPlugin = BuiltinPlugin<Record<string, unknown>>;

/** Catalog order. Settings types are plain object types, so each plugin widens to AnyBuiltinPlugin. */
export const BUILTIN_PLUGINS: readonly AnyBuiltinPlugin[] = Object.freeze([toxicityPlugin, keywordsPlugin, piiPlugin, floodPlugin, summaryPlugin]);

const byId = new Map(BUILTIN_PLUGINS.map((p) => [p.manifest.id, p]));

/** The built-in plugin with this manifest id, or undefined. */
export function builtinPlugin(id: string): AnyBuiltinPlugin | undefined {
  return byId.get(id);
}

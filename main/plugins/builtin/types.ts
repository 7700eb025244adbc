/**
 * Shared types of the built-in plugins. The one extension over the public plugin API
 * (`../api.ts`) is `validateSettings`: checks a JSON Schema cannot express (regex safety,
 * duplicates, …), run by the host after schema validation when settings are saved.
 */
import type { Plugin } from '../api.js';

/** One problem found in a settings object. */
export interface SettingsProblem {
  /** JSON-pointer-like path relative to the settings object, e.g. `patterns/2/pattern`. */
  field: string;
  message: string;
}

export interface BuiltinPlugin<S = Record<string, unknown>> extends Plugin<S> {
  /** Extra checks beyond the settings schema; an empty array means the settings are fine. */
  validateSettings?(settings: S): SettingsProblem[];
}

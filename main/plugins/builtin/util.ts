/** Small helpers shared by the built-in plugins. */
import type { DomainEvent } from '../../../common/events.js';
import type { Message } from '../../../common/schemas.js';
import type { AnnotationDraft, PluginResult, Severity } from '../api.js';

/** The message of a `message.created` event, or null for any other event / a malformed payload. */
export function messageOf(event: DomainEvent): Message | null {
  if (event.type !== 'message.created') return null;
  const data = event.payload?.data as Partial<Message> | undefined;
  if (!data || typeof data.content !== 'string') return null;
  return data as Message;
}

/**
 * Memoises `compile(settings)`. Looks up by object identity first (WeakMap), then by the
 * settings' JSON in a small LRU map, so hosts that pass a fresh (structured-cloned)
 * settings object with every event still reuse the compiled matchers.
 */
export function settingsCache<S extends object, C>(compile: (settings: S) => C, maxEntries = 16): (settings: S) => C {
  const byRef = new WeakMap<object, C>();
  const byJson = new Map<string, C>();
  return (settings) => {
    const hit = byRef.get(settings);
    if (hit !== undefined) return hit;
    const key = JSON.stringify(settings);
    let compiled = byJson.get(key);
    if (compiled === undefined) {
      compiled = compile(settings);
      if (byJson.size >= maxEntries) {
        const oldest = byJson.keys().next();
        if (!oldest.done) byJson.delete(oldest.value);
      }
    } else {
      byJson.delete(key); // refresh its LRU position
    }
    byJson.set(key, compiled);
    byRef.set(settings, compiled);
    return compiled;
  };
}

const SEVERITY_RANK: Record<Severity, number> = { low: 0, medium: 1, high: 2 };

export function maxSeverity(a: Severity, b: Severity): Severity {
  return SEVERITY_RANK[a] >= SEVERITY_RANK[b] ? a : b;
}

export function isSeverity(value: unknown): value is Severity {
  return value === 'low' || value === 'medium' || value === 'high';
}

/** A result with exactly one annotation. */
export function one(annotation: AnnotationDraft): PluginResult {
  return { annotations: [annotation] };
}

/** `value` if it is an array, else `[]` (defensive: settings normally arrive validated). */
export function arrayOr<T>(value: T[] | undefined | null): T[] {
  return Array.isArray(value) ? value : [];
}

/** `value` if it is a finite number within [min, max], else `fallback`. */
export function numberOr(value: unknown, fallback: number, min = -Infinity, max = Infinity): number {
  return typeof value === 'number' && Number.isFinite(value) && value >= min && value <= max ? value : fallback;
}

/**
 * The transcript of one session as plain data: messages in id order (the API's chat order,
 * oldest first) with their annotations, fed by pages of `GET …/messages` and by live events.
 * Pure functions, no React: each returns a new state (arrays are copied, never mutated) so a
 * 10,000-message transcript re-renders only what changed.
 */
import type { DomainEvent } from '../../../../../common/events.js';
import type { Annotation, Message } from '../../../../../common/schemas.js';

export interface TranscriptMessage extends Message {
  annotations: Annotation[];
}

export interface TranscriptState {
  items: TranscriptMessage[];
  /** Ids deleted by an event: a page fetched before the delete must not bring them back. */
  deleted: ReadonlySet<string>;
}

export const emptyTranscript: TranscriptState = { items: [], deleted: new Set() };

/** Index of the first item whose id is ≥ `id` (ids are UUIDv7: string order is creation order). */
function lowerBound(items: readonly TranscriptMessage[], id: string): number {
  let lo = 0;
  let hi = items.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (items[mid]!.id < id) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export function indexOfMessage(items: readonly TranscriptMessage[], id: string): number {
  const i = lowerBound(items, id);
  return items[i]?.id === id ? i : -1;
}

function mergeAnnotations(a: readonly Annotation[], b: readonly Annotation[]): Annotation[] {
  if (b.length === 0) return [...a];
  const seen = new Set(a.map((x) => x.id));
  const out = [...a];
  for (const x of b) if (!seen.has(x.id)) out.push(x);
  out.sort((x, y) => (x.createdAt < y.createdAt ? -1 : x.createdAt > y.createdAt ? 1 : 0));
  return out;
}

/**
 * Adds a page from the API. Messages already known (from events, which are at least as new)
 * keep their content; only their annotations are united.
 */
export function mergePage(state: TranscriptState, page: readonly Message[]): TranscriptState {
  let items = state.items;
  let copied = false;
  for (const m of page) {
    if (state.deleted.has(m.id)) continue;
    const incoming: TranscriptMessage = { ...m, annotations: m.annotations ?? [] };
    const last = items[items.length - 1];
    if (!copied) {
      items = [...items];
      copied = true;
    }
    if (!last || last.id < m.id) {
      items.push(incoming);
      continue;
    }
    const i = lowerBound(items, m.id);
    const existing = items[i];
    if (existing?.id === m.id) items[i] = { ...existing, annotations: mergeAnnotations(existing.annotations, incoming.annotations) };
    else items.splice(i, 0, incoming);
  }
  return copied ? { ...state, items } : state;
}

export interface ApplyResult {
  state: TranscriptState;
  /** Messages added after the previous last message (the live edge). */
  appended: number;
}

/** Applies the `message.*` events of this session (others are ignored). */
export function applyMessageEvents(state: TranscriptState, events: readonly DomainEvent[], sessionId: string): ApplyResult {
  let items = state.items;
  let deleted = state.deleted;
  let appended = 0;
  let changed = false;
  const edit = () => {
    if (!changed) {
      items = [...items];
      changed = true;
    }
  };
  for (const e of events) {
    const data = e.payload.data;
    if (data.sessionId !== sessionId) continue;
    if (e.type === 'message.annotation.created') {
      const a = data as unknown as Annotation;
      if (!a.messageId) continue;
      const i = indexOfMessage(items, a.messageId);
      if (i < 0) continue;
      edit();
      items[i] = { ...items[i]!, annotations: mergeAnnotations(items[i]!.annotations, [a]) };
      continue;
    }
    const m = data as unknown as Message;
    if (typeof m.id !== 'string' || typeof m.content !== 'string') continue;
    const i = lowerBound(items, m.id);
    const existing = items[i]?.id === m.id ? items[i] : undefined;
    switch (e.type) {
      case 'message.created':
      case 'message.updated':
      case 'message.redacted': {
        if (deleted.has(m.id)) break;
        edit();
        const next: TranscriptMessage = { ...m, annotations: existing?.annotations ?? [] };
        if (existing) items[i] = next;
        else {
          if (i === items.length) appended++;
          items.splice(i, 0, next);
        }
        break;
      }
      case 'message.deleted':
        if (deleted === state.deleted) deleted = new Set(deleted);
        (deleted as Set<string>).add(m.id);
        if (existing) {
          edit();
          items.splice(i, 1);
        }
        break;
      default:
        break;
    }
  }
  if (!changed && deleted === state.deleted) return { state, appended: 0 };
  return { state: { items, deleted }, appended };
}

// ---- presentation helpers -------------------------------------------------------

const SEVERITY_RANK = { low: 1, medium: 2, high: 3 } as const;

/** `high` | `medium` | `low` | `flag` (annotated without a severity) | null (not annotated). */
export function flagLevel(m: TranscriptMessage): 'high' | 'medium' | 'low' | 'flag' | null {
  if (m.annotations.length === 0) return null;
  let best = 0;
  for (const a of m.annotations) if (a.severity) best = Math.max(best, SEVERITY_RANK[a.severity]);
  return best === 3 ? 'high' : best === 2 ? 'medium' : best === 1 ? 'low' : 'flag';
}

export const SPEAKER_COLOURS = 8;

/** A stable colour slot per speaker (participant id, else sender name). */
export function speakerSlot(m: Pick<Message, 'participantId' | 'senderName' | 'type'>): number {
  if (m.type === 'system') return -1;
  const key = m.participantId ?? m.senderName ?? '';
  let h = 2166136261;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 16777619);
  }
  return (h >>> 0) % SPEAKER_COLOURS;
}

export interface ActivityBucket {
  /** Start of the bucket, ms since the epoch. */
  start: number;
  messages: number;
  flagged: number;
}

const BUCKET_STEPS_MIN = [1, 2, 5, 10, 15, 30, 60, 120, 360, 720, 1440];

/** Messages and flagged (annotated) messages per time bucket: per minute, wider for long sessions. */
export function activity(items: readonly TranscriptMessage[], maxBuckets = 90): { bucketMinutes: number; buckets: ActivityBucket[] } {
  let min = Infinity;
  let max = -Infinity;
  const times = new Float64Array(items.length);
  items.forEach((m, i) => {
    const t = Date.parse(m.timestamp);
    times[i] = t;
    if (Number.isFinite(t)) {
      if (t < min) min = t;
      if (t > max) max = t;
    }
  });
  if (!Number.isFinite(min)) return { bucketMinutes: 1, buckets: [] };
  const spanMin = (max - min) / 60_000;
  const bucketMinutes = BUCKET_STEPS_MIN.find((s) => spanMin / s < maxBuckets) ?? 1440;
  const size = bucketMinutes * 60_000;
  const origin = Math.floor(min / size) * size;
  const count = Math.floor((max - origin) / size) + 1;
  const buckets: ActivityBucket[] = Array.from({ length: count }, (_, i) => ({ start: origin + i * size, messages: 0, flagged: 0 }));
  items.forEach((m, i) => {
    const t = times[i]!;
    if (!Number.isFinite(t)) return;
    const b = buckets[Math.floor((t - origin) / size)]!;
    b.messages++;
    if (m.annotations.length > 0) b.flagged++;
  });
  return { bucketMinutes, buckets };
}

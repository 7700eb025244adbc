/** When a failed delivery is tried again. Backoff is computed here and nowhere else. */

const JITTER = 0.2;
/** A Retry-After is honoured up to this long; a longer one is clamped (the row still retries). */
const MAX_RETRY_AFTER_MS = 24 * 60 * 60 * 1000;

/**
 * Delay before the next attempt after `attemptsDone` attempts, ±20 % jitter so a burst of
 * failures does not retry in lockstep; null when the schedule is used up (exhausted).
 * `schedule[k]` is the delay before attempt k+1 (schedule[0] applies to the first attempt).
 */
export function retryDelayMs(schedule: readonly number[], attemptsDone: number, random = Math.random): number | null {
  if (attemptsDone >= schedule.length) return null;
  const base = schedule[attemptsDone]!;
  return Math.round(base * (1 - JITTER + 2 * JITTER * random()));
}

/** Retry-After as milliseconds from `now`: delta-seconds or an HTTP date; null when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | null {
  if (value === undefined) return null;
  const v = value.trim();
  let ms: number;
  if (/^\d+$/.test(v)) ms = Number(v) * 1000;
  else {
    const t = Date.parse(v);
    if (Number.isNaN(t)) return null;
    ms = t - now;
  }
  return Math.min(Math.max(0, ms), MAX_RETRY_AFTER_MS);
}

import type { Participant, Sanction } from '../../../../common/schemas.js';

/** The durations a moderator picks from (temp-ban, mute). */
export const DURATIONS: readonly { seconds: number; label: string }[] = [
  { seconds: 600, label: '10 min' },
  { seconds: 3600, label: '1 h' },
  { seconds: 86_400, label: '1 day' },
  { seconds: 604_800, label: '7 days' },
];

/** 600 → "10 min", 3600 → "1 h", 90000 → "1 day 1 h". */
export function formatDuration(seconds: number): string {
  const preset = DURATIONS.find((d) => d.seconds === seconds);
  if (preset) return preset.label;
  const s = Math.max(0, Math.round(seconds));
  const d = Math.floor(s / 86_400);
  const h = Math.floor((s % 86_400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const parts: string[] = [];
  if (d) parts.push(`${d} ${d === 1 ? 'day' : 'days'}`);
  if (h) parts.push(`${h} h`);
  if (m && !d) parts.push(`${m} min`);
  if (!parts.length) parts.push(`${s} s`);
  return parts.slice(0, 2).join(' ');
}

/** The sanction's length, or null when it has no end. */
export function sanctionSeconds(s: Pick<Sanction, 'startAt' | 'endAt'>): number | null {
  if (!s.endAt) return null;
  return Math.round((Date.parse(s.endAt) - Date.parse(s.startAt)) / 1000);
}

const TYPE_LABELS: Partial<Record<Sanction['type'], string>> = {
  temp_ban: 'temp ban',
  perm_ban: 'permanent ban',
  listen_only: 'listen only',
  text_only: 'text only',
  rate_limit: 'rate limit',
  shadow_mute: 'shadow mute',
  ranked_restriction: 'ranked restriction',
  queue_delay: 'queue delay',
  party_restriction: 'party restriction',
  human_review: 'human review',
};
export const sanctionLabel = (t: Sanction['type']): string => TYPE_LABELS[t] ?? t;

/** "Wolf (steam:123)" / "steam:123". */
export function participantName(p: Pick<Participant, 'displayName' | 'externalUserId'> | null | undefined, fallback = 'unknown speaker'): string {
  if (!p) return fallback;
  return p.displayName || p.externalUserId;
}

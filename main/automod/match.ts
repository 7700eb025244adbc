/** What the live evaluator and the dry run share: checks on a rule's shape and its condition. */
import { DEFAULT_WINDOW_SECONDS, type AutomodRule, type AutomodSanctionAction, type AutomodThen, type AutomodWhen } from '../../common/automod-schemas.js';
import { invalid } from '../core/errors.js';

type Rank = 'low' | 'medium' | 'high';
const RANK: Record<Rank, number> = { low: 1, medium: 2, high: 3 };
/** low 1 … high 3; null (no severity) 0. */
export const rankOf = (v: Rank | null | undefined): number => (v ? RANK[v] : 0);
export function maxRank<T extends Rank>(a: T | null, b: T | null): T | null {
  return rankOf(b) > rankOf(a) ? b : a;
}

/** The sanction rules of sanctions.create, checked up front so the error names the caller's field. */
export function checkSanctionAction(s: AutomodSanctionAction, field: string): void {
  if (s.type === 'temp_ban' && s.durationSeconds === undefined) throw invalid(`${field}/durationSeconds`, 'a temp_ban needs durationSeconds');
  if (s.type === 'perm_ban' && s.durationSeconds !== undefined) throw invalid(`${field}/durationSeconds`, 'a perm_ban has no duration');
}

/** A rule's condition and action beyond what the schema says; fields are named under `body/`. */
export function checkRule(r: { when: AutomodWhen; then: AutomodThen }): void {
  const actions = (r.then.sanction ? 1 : 0) + (r.then.review ? 1 : 0);
  if (actions !== 1) throw invalid('body/then', actions === 0 ? 'give one action: sanction or review' : 'give one action, sanction or review, not both');
  if (r.then.sanction) checkSanctionAction(r.then.sanction, 'body/then/sanction');
  if (r.when.categories?.some((c) => c.trim() === '')) throw invalid('body/when/categories', 'categories must not be blank');
}

/** `when` as stored and shown: defaults applied, optional fields only when given. */
export function normalizeWhen(w: AutomodWhen): AutomodRule['when'] {
  return {
    annotationType: w.annotationType,
    ...(w.minScore !== undefined && { minScore: w.minScore }),
    count: w.count ?? 1,
    windowSeconds: w.windowSeconds ?? DEFAULT_WINDOW_SECONDS,
    ...(w.categories !== undefined && { categories: w.categories }),
  };
}

export function normalizeThen(t: AutomodThen): AutomodRule['then'] {
  if (t.review) return { review: { priority: t.review.priority } };
  const s = t.sanction!;
  return {
    sanction: {
      type: s.type,
      ...(s.durationSeconds !== undefined && { durationSeconds: s.durationSeconds }),
      ...(s.reason !== undefined && { reason: s.reason }),
    },
  };
}

/** The parts of an annotation a condition looks at. */
export interface Matchable {
  type: string;
  score: number | null;
  content: Record<string, unknown> | null;
}

/**
 * Whether one annotation satisfies a rule's condition (not counting): same type, scored at
 * least minScore (an unscored annotation never meets a minScore), and sharing a category
 * (case-insensitive) when the rule names any.
 */
export function annotationMatches(when: AutomodRule['when'], a: Matchable): boolean {
  if (a.type !== when.annotationType) return false;
  if (when.minScore !== undefined && (a.score === null || a.score < when.minScore)) return false;
  if (when.categories?.length) {
    const cats = a.content?.categories;
    if (!Array.isArray(cats)) return false;
    const wanted = new Set(when.categories.map((c) => c.trim().toLowerCase()));
    if (!cats.some((c) => typeof c === 'string' && wanted.has(c.trim().toLowerCase()))) return false;
  }
  return true;
}

export const isoMinus = (iso: string, seconds: number): string => new Date(Date.parse(iso) - seconds * 1000).toISOString();

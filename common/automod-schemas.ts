/**
 * Automod rules, their dry run, and the review queue (TypeBox: request validation, response
 * serialization and the OpenAPI document). Cross-field rules (exactly one action, a temp_ban
 * needs a duration, …) are checked by main/automod, which names the offending field.
 */
import { Type, type Static } from '@sinclair/typebox';
import { Annotation, Id, Message, Nullable, Participant, SanctionType, Severity, Timestamp } from './schemas.js';

export const REVIEW_PRIORITIES = ['low', 'medium', 'high'] as const;
export const ReviewPriority = Type.Union(REVIEW_PRIORITIES.map((p) => Type.Literal(p)));
export type ReviewPriority = Static<typeof ReviewPriority>;

/** Longest window a rule may count over: 30 days. */
export const MAX_WINDOW_SECONDS = 2_592_000;
export const DEFAULT_WINDOW_SECONDS = 3600;

// ---- rules ---------------------------------------------------------------------

export const AutomodWhen = Type.Object(
  {
    annotationType: Type.String({ minLength: 1, maxLength: 64, description: 'the annotation `type` this rule looks at, e.g. toxicity' }),
    minScore: Type.Optional(Type.Number({ minimum: 0, maximum: 1, description: 'only annotations scored at least this (an unscored annotation never matches)' })),
    count: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, description: 'matching annotations of one participant needed (default 1)' })),
    windowSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_WINDOW_SECONDS, description: 'counted within this many seconds (default 3600)' })),
    categories: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 100 }), {
      minItems: 1, maxItems: 50, description: 'any-of match (case-insensitive) against the annotation\'s `content.categories`',
    })),
  },
  { additionalProperties: false },
);
export type AutomodWhen = Static<typeof AutomodWhen>;

export const AutomodSanctionAction = Type.Object(
  {
    type: SanctionType,
    durationSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 315_360_000, description: 'required for temp_ban; not allowed for perm_ban' })),
    reason: Type.Optional(Type.String({ maxLength: 4000 })),
  },
  { additionalProperties: false },
);
export type AutomodSanctionAction = Static<typeof AutomodSanctionAction>;

export const AutomodThen = Type.Object(
  {
    sanction: Type.Optional(AutomodSanctionAction),
    review: Type.Optional(Type.Object({ priority: ReviewPriority }, { additionalProperties: false })),
  },
  { additionalProperties: false, description: 'exactly one of `sanction` or `review`' },
);
export type AutomodThen = Static<typeof AutomodThen>;

/** A stored rule: `when` always carries its defaults (count, windowSeconds). */
export const AutomodRule = Type.Object({
  id: Id,
  name: Type.String(),
  enabled: Type.Boolean(),
  when: Type.Object({
    annotationType: Type.String(),
    minScore: Type.Optional(Type.Number()),
    count: Type.Integer(),
    windowSeconds: Type.Integer(),
    categories: Type.Optional(Type.Array(Type.String())),
  }),
  then: Type.Object({
    sanction: Type.Optional(Type.Object({ type: SanctionType, durationSeconds: Type.Optional(Type.Integer()), reason: Type.Optional(Type.String()) })),
    review: Type.Optional(Type.Object({ priority: ReviewPriority })),
  }),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});
export type AutomodRule = Static<typeof AutomodRule>;

const ruleFields = {
  name: Type.String({ minLength: 1, maxLength: 200 }),
  enabled: Type.Boolean(),
  when: AutomodWhen,
  then: AutomodThen,
};
export const AutomodRuleCreate = Type.Object(
  { name: ruleFields.name, enabled: Type.Optional(ruleFields.enabled), when: ruleFields.when, then: ruleFields.then },
  { additionalProperties: false },
);
export type AutomodRuleCreate = Static<typeof AutomodRuleCreate>;
/** `when` and `then` are replaced as a whole. */
export const AutomodRuleUpdate = Type.Object(
  {
    name: Type.Optional(ruleFields.name),
    enabled: Type.Optional(ruleFields.enabled),
    when: Type.Optional(ruleFields.when),
    then: Type.Optional(ruleFields.then),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type AutomodRuleUpdate = Static<typeof AutomodRuleUpdate>;

// ---- dry run ---------------------------------------------------------------------

export const AutomodRuleTest = Type.Object(
  {
    name: Type.Optional(ruleFields.name),
    enabled: Type.Optional(ruleFields.enabled),
    when: ruleFields.when,
    then: ruleFields.then,
    sessionId: Type.Optional(Id),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, description: 'how many recent annotations of the type to replay (default 200)' })),
  },
  { additionalProperties: false },
);
export type AutomodRuleTest = Static<typeof AutomodRuleTest>;

export const AutomodTestMatch = Type.Object({
  annotation: Annotation,
  message: Nullable(Message),
});
export const AutomodTestAction = Type.Object({
  participantId: Id,
  participant: Nullable(Participant),
  action: Type.Union([Type.Literal('sanction'), Type.Literal('review')]),
  /** When the rule would have fired: the triggering annotation's creation time. */
  at: Timestamp,
  annotationIds: Type.Array(Id),
  messageIds: Type.Array(Id),
});
export const AutomodTestResult = Type.Object({
  /** Recent annotations of the rule's type that were replayed, oldest first. */
  scanned: Type.Integer(),
  /** Those the rule's condition matches, newest first. */
  matches: Type.Array(AutomodTestMatch),
  /** What the rule would have done, in order, had it been live. */
  actions: Type.Array(AutomodTestAction),
});
export type AutomodTestResult = Static<typeof AutomodTestResult>;

// ---- review queue --------------------------------------------------------------------

export const ReviewStatus = Type.Union([Type.Literal('open'), Type.Literal('resolved')]);
export const ReviewDecision = Type.Union([Type.Literal('dismiss'), Type.Literal('sanction')]);

export const ReviewItem = Type.Object({
  id: Id,
  sessionId: Id,
  messageId: Id,
  participantId: Nullable(Id),
  /** The rule that opened it (null when it was opened otherwise). */
  ruleId: Nullable(Id),
  /** Every rule that flagged it. */
  ruleIds: Type.Array(Id),
  /** The annotations the rules acted on. */
  evidenceAnnotationIds: Type.Array(Id),
  priority: ReviewPriority,
  /** The highest severity among the evidence. */
  severity: Nullable(Severity),
  status: ReviewStatus,
  decision: Nullable(ReviewDecision),
  sanctionId: Nullable(Id),
  note: Nullable(Type.String()),
  resolvedBy: Nullable(Type.String()),
  resolvedAt: Nullable(Timestamp),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});
export type ReviewItem = Static<typeof ReviewItem>;

export const ReviewItemView = Type.Intersect([
  ReviewItem,
  Type.Object({
    /** The flagged message; null when it has since been deleted. */
    message: Nullable(Message),
    /** Every annotation of the message, oldest first. */
    annotations: Type.Array(Annotation),
    /** The speaker. */
    participant: Nullable(Participant),
  }),
]);
export type ReviewItemView = Static<typeof ReviewItemView>;

export const ReviewListQuery = Type.Object(
  {
    status: Type.Optional(ReviewStatus),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
    cursor: Type.Optional(Type.String({ maxLength: 400 })),
  },
  { additionalProperties: false },
);

export const ReviewResolve = Type.Object(
  {
    decision: ReviewDecision,
    sanction: Type.Optional(AutomodSanctionAction),
    note: Type.Optional(Type.String({ maxLength: 4000 })),
  },
  { additionalProperties: false, description: '`sanction` is required with decision `sanction` and not allowed with `dismiss`' },
);
export type ReviewResolve = Static<typeof ReviewResolve>;

export const ParticipantSanctionsQuery = Type.Object(
  {
    active: Type.Optional(Type.Boolean()),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
    cursor: Type.Optional(Type.String({ maxLength: 200 })),
  },
  { additionalProperties: false },
);

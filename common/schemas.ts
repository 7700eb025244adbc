/**
 * API resource and input schemas (TypeBox = JSON Schema + static types). They drive
 * request validation, response serialization, handler types and the OpenAPI document.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';

export const Id = Type.String({ minLength: 1, maxLength: 64 });
export const Timestamp = Type.String({ format: 'date-time' });
export const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);
// A free-form JSON object. Not Type.Record: its `^(.*)$` key pattern makes the serializer
// drop keys containing line terminators.
export const Json = Type.Unsafe<Record<string, unknown>>({ type: 'object', additionalProperties: true });
const Text = (maxLength: number) => Type.String({ maxLength });

export const Page = <T extends TSchema>(item: T) =>
  Type.Object({ items: Type.Array(item), nextCursor: Nullable(Type.String()) });

const pageFields = {
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
  cursor: Type.Optional(Type.String({ maxLength: 200 })),
};
export const PageQuery = Type.Object(pageFields, { additionalProperties: false });

// ---- projects & keys -------------------------------------------------------

export const Project = Type.Object({
  id: Id,
  tenantId: Id,
  name: Type.String(),
  createdAt: Timestamp,
});
export type Project = Static<typeof Project>;
export const ProjectCreate = Type.Object(
  {
    id: Type.Optional(Type.String({ pattern: '^[a-z0-9][a-z0-9_-]{0,62}$' })),
    name: Type.String({ minLength: 1, maxLength: 200 }),
  },
  { additionalProperties: false },
);

export const SCOPES = ['admin', 'projects', 'keys', 'sessions', 'participants', 'messages', 'sanctions', 'gatherings', 'events', 'topics', 'webhooks', 'models', 'plugins', 'automod', 'review'] as const;
export type Scope = (typeof SCOPES)[number];
const ScopeSchema = Type.Union(SCOPES.map((s) => Type.Literal(s)));

export const ApiKey = Type.Object({
  id: Id,
  tenantId: Id,
  projectId: Nullable(Id),
  name: Type.String(),
  prefix: Type.String({ description: 'First characters of the key, to recognise it' }),
  scopes: Type.Array(ScopeSchema),
  createdAt: Timestamp,
  lastUsedAt: Nullable(Timestamp),
  revokedAt: Nullable(Timestamp),
});
export type ApiKey = Static<typeof ApiKey>;
export const ApiKeyCreated = Type.Intersect([ApiKey, Type.Object({ key: Type.String({ description: 'Shown once' }) })]);
export const ApiKeyCreate = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    scopes: Type.Array(ScopeSchema, { minItems: 1, uniqueItems: true }),
    projectId: Type.Optional(Nullable(Id)),
  },
  { additionalProperties: false },
);

// ---- sessions ---------------------------------------------------------------

export const SessionStatus = Type.Union([Type.Literal('active'), Type.Literal('ended')]);
export const SESSION_ADAPTERS = ['odin', 'zmq', 'file'] as const;
export const SessionAdapter = Type.Union(SESSION_ADAPTERS.map((a) => Type.Literal(a)), {
  description: 'how the transcription bot joins the room: odin (ODIN SDK), zmq (data-plane audio topics), file (one WAV per peer)',
});
export const Session = Type.Object({
  id: Id,
  tenantId: Id,
  projectId: Id,
  externalRoomId: Nullable(Type.String()),
  gateway: Nullable(Type.String()),
  title: Nullable(Type.String()),
  status: SessionStatus,
  idleTimeout: Nullable(Type.Integer()),
  createdByUserId: Nullable(Type.String()),
  createdAt: Timestamp,
  startedAt: Nullable(Timestamp),
  endedAt: Nullable(Timestamp),
  summary: Nullable(Type.String()),
  adapter: Nullable(SessionAdapter),
  adapterConfig: Nullable(Json),
});
export type Session = Static<typeof Session>;
const SessionFields = {
  externalRoomId: Type.Optional(Nullable(Text(256))),
  gateway: Type.Optional(Nullable(Text(512))),
  title: Type.Optional(Nullable(Text(500))),
  idleTimeout: Type.Optional(Nullable(Type.Integer({ minimum: 0, maximum: 31_536_000 }))),
  summary: Type.Optional(Nullable(Text(100_000))),
};
export const SessionCreate = Type.Object(
  {
    ...SessionFields,
    createdByUserId: Type.Optional(Nullable(Text(256))),
    start: Type.Optional(Type.Boolean({ description: 'Start immediately (default true); same as autoStart' })),
    autoStart: Type.Optional(Type.Boolean({ description: 'Start immediately, and with an adapter send the bot in (default true)' })),
    adapter: Type.Optional(Nullable(SessionAdapter)),
    adapterConfig: Type.Optional(Nullable(Json)),
  },
  { additionalProperties: false },
);
export const SessionUpdate = Type.Object(SessionFields, { additionalProperties: false, minProperties: 1 });
export const SessionListQuery = Type.Object({ ...pageFields, status: Type.Optional(SessionStatus) }, { additionalProperties: false });

// ---- participants -----------------------------------------------------------

export const Participant = Type.Object({
  id: Id,
  externalUserId: Type.String(),
  displayName: Nullable(Type.String()),
  userData: Nullable(Json),
  joinedAt: Timestamp,
});
export type Participant = Static<typeof Participant>;
export const ParticipantCreate = Type.Object(
  {
    externalUserId: Type.String({ minLength: 1, maxLength: 256 }),
    displayName: Type.Optional(Nullable(Text(256))),
    userData: Type.Optional(Nullable(Json)),
  },
  { additionalProperties: false },
);
export const ParticipantUpdate = Type.Object(
  { displayName: Type.Optional(Nullable(Text(256))), userData: Type.Optional(Nullable(Json)) },
  { additionalProperties: false, minProperties: 1 },
);
export const ParticipantListQuery = Type.Object(
  {
    ...pageFields,
    q: Type.Optional(Type.String({ minLength: 1, maxLength: 256, description: 'case-insensitive substring of externalUserId or displayName' })),
  },
  { additionalProperties: false },
);
export const ParticipantSessionsQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50, description: 'sessions, most recently joined first' })),
    messages: Type.Optional(Type.Integer({ minimum: 0, maximum: 50, default: 5, description: 'recent messages of the participant per session' })),
  },
  { additionalProperties: false },
);
export const SessionParticipantJoin = Type.Object(
  {
    participantId: Type.Optional(Id),
    externalUserId: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
    displayName: Type.Optional(Nullable(Text(256))),
  },
  { additionalProperties: false },
);

// ---- annotations ------------------------------------------------------------

export const SEVERITIES = ['low', 'medium', 'high'] as const;
export const Severity = Type.Union(SEVERITIES.map((v) => Type.Literal(v)));
export const Annotation = Type.Object({
  id: Id,
  targetType: Type.Union([Type.Literal('message'), Type.Literal('session')]),
  /** The message id or the session id. */
  targetId: Id,
  sessionId: Id,
  messageId: Nullable(Id),
  /** The speaker of the annotated message. */
  participantId: Nullable(Id),
  /** The plugin that wrote it; null when a person or script added it through the API. */
  pluginId: Nullable(Type.String()),
  type: Type.String({ description: 'e.g. toxicity, keyword, pii, flood, summary' }),
  score: Nullable(Type.Number({ minimum: 0, maximum: 1 })),
  severity: Nullable(Severity),
  content: Nullable(Json),
  createdAt: Timestamp,
});
export type Annotation = Static<typeof Annotation>;
export const AnnotationCreate = Type.Object(
  {
    type: Type.String({ minLength: 1, maxLength: 64 }),
    score: Type.Optional(Nullable(Type.Number({ minimum: 0, maximum: 1 }))),
    severity: Type.Optional(Nullable(Severity)),
    content: Type.Optional(Nullable(Json)),
  },
  { additionalProperties: false },
);

// ---- messages ---------------------------------------------------------------

export const MessageType = Type.Union([Type.Literal('user'), Type.Literal('system')]);
export const Message = Type.Object({
  id: Id,
  sessionId: Id,
  participantId: Nullable(Id),
  type: MessageType,
  senderName: Nullable(Type.String()),
  content: Type.String(),
  timestamp: Timestamp,
  language: Nullable(Type.String()),
  hasDebugAudio: Type.Boolean(),
  /** On reads (not in events): the message's annotations, oldest first. */
  annotations: Type.Optional(Type.Array(Annotation)),
});
export type Message = Static<typeof Message>;
export const MessageCreate = Type.Object(
  {
    content: Type.String({ minLength: 1, maxLength: 65_536 }),
    type: Type.Optional(MessageType),
    participantId: Type.Optional(Id),
    externalUserId: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
    senderName: Type.Optional(Nullable(Text(256))),
    timestamp: Type.Optional(Timestamp),
    language: Type.Optional(Nullable(Type.String({ maxLength: 35 }))),
    hasDebugAudio: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
/** `GET …/participants/{id}/sessions`: one session the participant joined, with their latest messages there. */
export const ParticipantSession = Type.Object({
  session: Session,
  joinedAt: Timestamp,
  leftAt: Nullable(Timestamp),
  /** All of the participant's messages in the session. */
  messageCount: Type.Integer(),
  /** Their newest messages there, newest first, with annotations. */
  recentMessages: Type.Array(Message),
});
export type ParticipantSession = Static<typeof ParticipantSession>;
export const MessageListQuery = Type.Object(
  {
    ...pageFields,
    annotated: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'only messages with an annotation of this type' })),
    minScore: Type.Optional(Type.Number({ minimum: 0, maximum: 1, description: 'only messages with an annotation (of `annotated`, if given) scored at least this' })),
  },
  { additionalProperties: false },
);
export const MessageUpdate = Type.Object(
  { content: Type.Optional(Type.String({ minLength: 1, maxLength: 65_536 })), language: Type.Optional(Nullable(Type.String({ maxLength: 35 }))) },
  { additionalProperties: false, minProperties: 1 },
);

// ---- sanctions --------------------------------------------------------------

export const SANCTION_TYPES = [
  'warn', 'mute', 'listen_only', 'text_only', 'rate_limit', 'shadow_mute', 'temp_ban',
  'perm_ban', 'ranked_restriction', 'queue_delay', 'party_restriction', 'human_review',
] as const;
export const SanctionType = Type.Union(SANCTION_TYPES.map((s) => Type.Literal(s)));
export const SanctionStatus = Type.Union([Type.Literal('active'), Type.Literal('expired'), Type.Literal('revoked')]);
export const Sanction = Type.Object({
  id: Id,
  participantId: Nullable(Id),
  externalUserId: Nullable(Type.String()),
  sessionId: Nullable(Id),
  type: SanctionType,
  scope: Type.String(),
  reason: Nullable(Type.String()),
  metadata: Nullable(Json),
  startAt: Timestamp,
  endAt: Nullable(Timestamp),
  createdByUserId: Nullable(Type.String()),
  createdAt: Timestamp,
  updatedAt: Timestamp,
  revokedAt: Nullable(Timestamp),
  revokedByUserId: Nullable(Type.String()),
  status: SanctionStatus,
});
export type Sanction = Static<typeof Sanction>;
export const SanctionCreate = Type.Object(
  {
    type: SanctionType,
    participantId: Type.Optional(Id),
    externalUserId: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
    sessionId: Type.Optional(Id),
    scope: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'default `project`' })),
    reason: Type.Optional(Nullable(Text(4000))),
    metadata: Type.Optional(Nullable(Json)),
    startAt: Type.Optional(Timestamp),
    endAt: Type.Optional(Nullable(Timestamp)),
    durationSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 315_360_000 })),
    createdByUserId: Type.Optional(Nullable(Text(256))),
  },
  { additionalProperties: false },
);
export const SanctionRevoke = Type.Object(
  {
    revokedByUserId: Type.Optional(Nullable(Text(256))),
    reason: Type.Optional(Nullable(Type.String({ maxLength: 4000, description: 'why it was lifted; kept as `metadata.revokeReason`' }))),
  },
  { additionalProperties: false },
);
export const SanctionListQuery = Type.Object(
  {
    ...pageFields,
    active: Type.Optional(Type.Boolean()),
    participantId: Type.Optional(Id),
    externalUserId: Type.Optional(Type.String({ maxLength: 256 })),
    sessionId: Type.Optional(Id),
  },
  { additionalProperties: false },
);

// ---- gatherings -------------------------------------------------------------

export const GatheringType = Type.Union([Type.Literal('lobby'), Type.Literal('appointment'), Type.Literal('open')]);
export const GatheringStatus = Type.Union(
  ['pending', 'active', 'started', 'ended', 'cancelled', 'expired'].map((s) => Type.Literal(s)),
);
export const Gathering = Type.Object({
  id: Id,
  name: Type.String(),
  description: Nullable(Type.String()),
  type: GatheringType,
  status: GatheringStatus,
  maxMembers: Nullable(Type.Integer()),
  memberCount: Type.Integer(),
  accessPolicy: Type.String(),
  listed: Type.Boolean(),
  startsAt: Nullable(Timestamp),
  endsAt: Nullable(Timestamp),
  timezone: Nullable(Type.String()),
  roomId: Nullable(Type.String()),
  autoStartSession: Type.Boolean(),
  sessionId: Nullable(Id),
  joinCode: Nullable(Type.String()),
  properties: Nullable(Json),
  ownerId: Nullable(Type.String()),
  createdAt: Timestamp,
  expiresAt: Nullable(Timestamp),
});
export type Gathering = Static<typeof Gathering>;
const GatheringFields = {
  name: Type.String({ minLength: 1, maxLength: 200 }),
  description: Type.Optional(Nullable(Text(4000))),
  maxMembers: Type.Optional(Nullable(Type.Integer({ minimum: 1, maximum: 100_000 }))),
  accessPolicy: Type.Optional(Type.Union(['public', 'invite', 'code'].map((s) => Type.Literal(s)))),
  listed: Type.Optional(Type.Boolean()),
  startsAt: Type.Optional(Nullable(Timestamp)),
  endsAt: Type.Optional(Nullable(Timestamp)),
  timezone: Type.Optional(Nullable(Text(64))),
  roomId: Type.Optional(Nullable(Text(256))),
  autoStartSession: Type.Optional(Type.Boolean()),
  properties: Type.Optional(Nullable(Json)),
  ownerId: Type.Optional(Nullable(Text(256))),
  expiresAt: Type.Optional(Nullable(Timestamp)),
};
export const GatheringCreate = Type.Object(
  { ...GatheringFields, type: Type.Optional(GatheringType) },
  { additionalProperties: false },
);
export const GatheringUpdate = Type.Object(
  { ...GatheringFields, name: Type.Optional(GatheringFields.name), status: Type.Optional(GatheringStatus) },
  { additionalProperties: false, minProperties: 1 },
);
export const MemberRole = Type.Union([Type.Literal('owner'), Type.Literal('member')]);
export const MemberState = Type.Union(['invited', 'joined', 'ready', 'left'].map((s) => Type.Literal(s)));
export const GatheringMember = Type.Object({
  id: Id,
  gatheringId: Id,
  externalUserId: Type.String(),
  participantId: Nullable(Id),
  role: MemberRole,
  state: MemberState,
  joinedAt: Nullable(Timestamp),
  updatedAt: Timestamp,
});
export type GatheringMember = Static<typeof GatheringMember>;
export const GatheringMemberAdd = Type.Object(
  {
    externalUserId: Type.String({ minLength: 1, maxLength: 256 }),
    role: Type.Optional(MemberRole),
    state: Type.Optional(Type.Union([Type.Literal('invited'), Type.Literal('joined')])),
    joinCode: Type.Optional(Type.String({ maxLength: 64 })),
  },
  { additionalProperties: false },
);
export const GatheringMemberUpdate = Type.Object(
  { state: Type.Optional(MemberState), role: Type.Optional(MemberRole) },
  { additionalProperties: false, minProperties: 1 },
);

// ---- events & health ---------------------------------------------------------

// ---- transcription bot settings (per project) ------------------------------------

const botSettingFields = {
  language: Nullable(Type.String({ pattern: '^[a-z]{2,3}$', description: 'ISO 639-1 code; null = detect (English-only models: en)' })),
  model: Nullable(Type.String({ minLength: 1, maxLength: 100, description: 'installed model name (see /api/models); null = the default (tiny.en, else the first)' })),
  audioCtx: Type.Union([Type.Literal('auto'), Type.Literal('full')], { description: 'auto: scale the encoder context to the utterance (much faster for short ones)' }),
  preRollMs: Type.Integer({ minimum: 0, maximum: 2000 }),
  minSilenceMs: Type.Integer({ minimum: 200, maximum: 10_000, description: 'silence that ends an utterance' }),
  maxUtteranceMs: Type.Integer({ minimum: 1000, maximum: 30_000 }),
  minSpeechMs: Type.Integer({ minimum: 0, maximum: 5000, description: 'shorter utterances are dropped' }),
  startThreshold: Type.Number({ minimum: 0.05, maximum: 0.99, description: 'VAD probability where speech starts' }),
  stopThreshold: Type.Number({ minimum: 0.01, maximum: 0.98, description: 'VAD probability where speech stops (below startThreshold)' }),
};
export const BotSettings = Type.Object(botSettingFields);
export type BotSettings = Static<typeof BotSettings>;
export const BotSettingsView = Type.Object({
  ...botSettingFields,
  odinAccessKeySet: Type.Boolean({ description: 'whether an ODIN access key is stored (encrypted; it is never shown)' }),
});
export const BotSettingsUpdate = Type.Object(
  {
    ...Type.Partial(Type.Object(botSettingFields)).properties,
    odinAccessKey: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 1024, description: 'write-only; stored encrypted; null removes it' }))),
  },
  { additionalProperties: false, minProperties: 1 },
);

// ---- webhooks ----------------------------------------------------------------

export const WEBHOOK_AUTH_TYPES = ['none', 'api_key', 'basic_auth', 'custom_headers'] as const;
export const WEBHOOK_DELIVERY_STATUSES = ['pending', 'delivered', 'failed', 'exhausted'] as const;
const HeaderValue = Type.String({ maxLength: 4096 });
const webhookFields = {
  url: Type.String({ minLength: 1, maxLength: 2048, description: 'http(s) URL the events are POSTed to' }),
  events: Type.Array(Type.String({ minLength: 1, maxLength: 100 }), {
    minItems: 1, maxItems: 100, description: 'event types, prefix globs (`sanction.*`) or `*`',
  }),
  description: Type.String({ maxLength: 1000 }),
  enabled: Type.Boolean(),
  authType: Type.Union(WEBHOOK_AUTH_TYPES.map((s) => Type.Literal(s))),
  apiKey: Nullable(HeaderValue),
  apiKeyHeader: Type.String({ minLength: 1, maxLength: 100 }),
  basicAuthUsername: Nullable(Type.String({ maxLength: 256 })),
  basicAuthPassword: Nullable(Type.String({ maxLength: 1024 })),
  customHeaders: Type.Unsafe<Record<string, string>>({
    type: 'object', additionalProperties: HeaderValue, maxProperties: 32, description: 'extra request headers (≤ 8 KB in all)',
  }),
};
const optionalWebhookFields = Type.Partial(Type.Object(webhookFields)).properties;
export const WebhookCreate = Type.Object(
  {
    ...optionalWebhookFields,
    url: webhookFields.url,
    events: webhookFields.events,
    secret: Type.Optional(Type.String({ pattern: '^whsec_[A-Za-z0-9+/]{32,}={0,2}$', description: 'generated when absent' })),
  },
  { additionalProperties: false },
);
export const WebhookUpdate = Type.Object(optionalWebhookFields, { additionalProperties: false, minProperties: 1 });
export const Webhook = Type.Object({
  id: Id,
  url: Type.String(),
  events: Type.Array(Type.String()),
  description: Type.String(),
  enabled: Type.Boolean(),
  disabledReason: Nullable(Type.String()),
  authType: webhookFields.authType,
  apiKey: Nullable(Type.String({ description: 'masked' })),
  apiKeyHeader: Type.String(),
  basicAuthUsername: Nullable(Type.String()),
  basicAuthPassword: Nullable(Type.String({ description: 'masked' })),
  customHeaders: Type.Unsafe<Record<string, string>>({ type: 'object', additionalProperties: { type: 'string' }, description: 'values masked' }),
  secretHint: Type.String({ description: 'the secret, masked; the full secret is shown once, at creation or rotation' }),
  rotatingUntil: Nullable(Timestamp),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});
export type Webhook = Static<typeof Webhook>;
export const WebhookWithSecret = Type.Intersect([Webhook, Type.Object({ secret: Type.String() })]);
export const WebhookDeliveryStatus = Type.Union(WEBHOOK_DELIVERY_STATUSES.map((s) => Type.Literal(s)));
export const WebhookDelivery = Type.Object({
  id: Id,
  webhookId: Id,
  eventId: Id,
  eventType: Type.String(),
  status: WebhookDeliveryStatus,
  attempts: Type.Integer(),
  nextAttemptAt: Nullable(Timestamp),
  lastStatusCode: Nullable(Type.Integer()),
  lastError: Nullable(Type.String()),
  createdAt: Timestamp,
  updatedAt: Timestamp,
  deliveredAt: Nullable(Timestamp),
});
export type WebhookDelivery = Static<typeof WebhookDelivery>;
export const WebhookAttempt = Type.Object({
  id: Id,
  attempt: Type.Integer(),
  startedAt: Timestamp,
  durationMs: Type.Integer(),
  statusCode: Nullable(Type.Integer()),
  error: Nullable(Type.String()),
  responseBody: Nullable(Type.String({ description: 'first 4 KB' })),
});
export type WebhookAttempt = Static<typeof WebhookAttempt>;
export const WebhookDeliveryDetail = Type.Intersect([WebhookDelivery, Type.Object({ attemptLog: Type.Array(WebhookAttempt) })]);
export const WebhookDeliveryListQuery = Type.Object(
  { ...pageFields, status: Type.Optional(WebhookDeliveryStatus) },
  { additionalProperties: false },
);

export const EventEnvelope = Type.Object({
  id: Id,
  seq: Type.Integer(),
  type: Type.String(),
  source: Type.String(),
  tenantId: Id,
  projectId: Nullable(Id),
  resourceId: Type.String(),
  timestamp: Timestamp,
  payload: Type.Object({
    action: Type.Union(['created', 'updated', 'deleted', 'occurred'].map((s) => Type.Literal(s))),
    data: Json,
    changes: Type.Optional(Json),
  }),
});
export const EventListQuery = Type.Object(
  {
    since: Type.Optional(Type.Integer({ minimum: 0 })),
    types: Type.Optional(Type.String({ maxLength: 2000 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 })),
  },
  { additionalProperties: false },
);

export const Health = Type.Object({
  status: Type.Literal('ok'),
  version: Type.String(),
  uptimeSeconds: Type.Number(),
  lastSeq: Type.Integer(),
});

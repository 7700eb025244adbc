// Schema version 1. Every row carries tenant_id; project-owned rows carry project_id.
// Timestamps are ISO 8601 UTC text (sortable); JSON columns hold serialized objects.
export default /* sql */ `
CREATE TABLE tenants (
  id          TEXT PRIMARY KEY,
  tenant_id   TEXT NOT NULL GENERATED ALWAYS AS (id) VIRTUAL,
  name        TEXT NOT NULL,
  created_at  TEXT NOT NULL
);

-- Project ids are unique per tenant (every tenant may have a "default"), so one tenant
-- cannot learn which ids another uses.
CREATE TABLE projects (
  tenant_id   TEXT NOT NULL REFERENCES tenants(id),
  id          TEXT NOT NULL,
  name        TEXT NOT NULL,
  created_at  TEXT NOT NULL,
  PRIMARY KEY (tenant_id, id)
);

CREATE TABLE api_keys (
  id           TEXT PRIMARY KEY,
  tenant_id    TEXT NOT NULL REFERENCES tenants(id),
  project_id   TEXT,
  name         TEXT NOT NULL,
  prefix       TEXT NOT NULL,
  hash         TEXT NOT NULL UNIQUE,
  scopes       TEXT NOT NULL,
  created_at   TEXT NOT NULL,
  last_used_at TEXT,
  revoked_at   TEXT,
  FOREIGN KEY (tenant_id, project_id) REFERENCES projects(tenant_id, id)
);
CREATE INDEX api_keys_tenant ON api_keys(tenant_id, id);

CREATE TABLE participants (
  id               TEXT PRIMARY KEY,
  tenant_id        TEXT NOT NULL,
  project_id       TEXT NOT NULL,
  external_user_id TEXT NOT NULL,
  display_name     TEXT,
  user_data        TEXT,
  joined_at        TEXT NOT NULL,
  updated_at       TEXT NOT NULL,
  UNIQUE (tenant_id, project_id, external_user_id),
  FOREIGN KEY (tenant_id, project_id) REFERENCES projects(tenant_id, id)
);
CREATE INDEX participants_project ON participants(project_id, id);

CREATE TABLE sessions (
  id                 TEXT PRIMARY KEY,
  tenant_id          TEXT NOT NULL,
  project_id         TEXT NOT NULL,
  external_room_id   TEXT,
  gateway            TEXT,
  title              TEXT,
  status             TEXT NOT NULL CHECK (status IN ('active', 'ended')),
  idle_timeout       INTEGER,
  created_by_user_id TEXT,
  created_at         TEXT NOT NULL,
  started_at         TEXT,
  ended_at           TEXT,
  summary            TEXT,
  last_activity_at   TEXT NOT NULL,
  FOREIGN KEY (tenant_id, project_id) REFERENCES projects(tenant_id, id)
);
CREATE INDEX sessions_project ON sessions(project_id, id);
CREATE INDEX sessions_idle ON sessions(status, idle_timeout) WHERE status = 'active' AND idle_timeout > 0;

CREATE TABLE session_participants (
  tenant_id      TEXT NOT NULL,
  project_id     TEXT NOT NULL,
  session_id     TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
  participant_id TEXT NOT NULL REFERENCES participants(id),
  joined_at      TEXT NOT NULL,
  left_at        TEXT,
  PRIMARY KEY (session_id, participant_id)
);

CREATE TABLE messages (
  id              TEXT PRIMARY KEY,
  tenant_id       TEXT NOT NULL,
  project_id      TEXT NOT NULL,
  session_id      TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
  participant_id  TEXT REFERENCES participants(id),
  type            TEXT NOT NULL CHECK (type IN ('user', 'system')),
  sender_name     TEXT,
  content         TEXT NOT NULL,
  timestamp       TEXT NOT NULL,
  language        TEXT,
  has_debug_audio INTEGER NOT NULL DEFAULT 0,
  updated_at      TEXT NOT NULL
);
CREATE INDEX messages_session ON messages(session_id, id);

CREATE TABLE annotations (
  id          TEXT PRIMARY KEY,
  tenant_id   TEXT NOT NULL,
  project_id  TEXT NOT NULL,
  session_id  TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
  message_id  TEXT REFERENCES messages(id) ON DELETE CASCADE,
  kind        TEXT NOT NULL,
  source      TEXT NOT NULL,
  label       TEXT,
  score       REAL,
  data        TEXT,
  created_at  TEXT NOT NULL
);
CREATE INDEX annotations_session ON annotations(session_id, id);
CREATE INDEX annotations_message ON annotations(message_id, id) WHERE message_id IS NOT NULL;

CREATE TABLE sanctions (
  id                 TEXT PRIMARY KEY,
  tenant_id          TEXT NOT NULL,
  project_id         TEXT NOT NULL,
  participant_id     TEXT REFERENCES participants(id),
  external_user_id   TEXT,
  session_id         TEXT REFERENCES sessions(id) ON DELETE SET NULL,
  type               TEXT NOT NULL,
  scope              TEXT NOT NULL,
  reason             TEXT,
  metadata           TEXT,
  start_at           TEXT NOT NULL,
  end_at             TEXT,
  created_by_user_id TEXT,
  created_at         TEXT NOT NULL,
  updated_at         TEXT NOT NULL,
  revoked_at         TEXT,
  revoked_by_user_id TEXT,
  expiry_emitted     INTEGER NOT NULL DEFAULT 0,
  FOREIGN KEY (tenant_id, project_id) REFERENCES projects(tenant_id, id)
);
CREATE INDEX sanctions_project ON sanctions(project_id, id);
CREATE INDEX sanctions_user ON sanctions(project_id, external_user_id);
CREATE INDEX sanctions_pending_expiry ON sanctions(end_at) WHERE expiry_emitted = 0 AND revoked_at IS NULL AND end_at IS NOT NULL;

CREATE TABLE gatherings (
  id                 TEXT PRIMARY KEY,
  tenant_id          TEXT NOT NULL,
  project_id         TEXT NOT NULL,
  name               TEXT NOT NULL,
  description        TEXT,
  type               TEXT NOT NULL,
  status             TEXT NOT NULL,
  max_members        INTEGER,
  access_policy      TEXT NOT NULL,
  listed             INTEGER NOT NULL,
  starts_at          TEXT,
  ends_at            TEXT,
  timezone           TEXT,
  room_id            TEXT,
  auto_start_session INTEGER NOT NULL,
  session_id         TEXT REFERENCES sessions(id) ON DELETE SET NULL,
  join_code          TEXT,
  properties         TEXT,
  owner_id           TEXT,
  created_at         TEXT NOT NULL,
  updated_at         TEXT NOT NULL,
  expires_at         TEXT,
  FOREIGN KEY (tenant_id, project_id) REFERENCES projects(tenant_id, id)
);
CREATE INDEX gatherings_project ON gatherings(project_id, id);

CREATE TABLE gathering_members (
  id               TEXT PRIMARY KEY,
  tenant_id        TEXT NOT NULL,
  project_id       TEXT NOT NULL,
  gathering_id     TEXT NOT NULL REFERENCES gatherings(id) ON DELETE CASCADE,
  external_user_id TEXT NOT NULL,
  participant_id   TEXT REFERENCES participants(id),
  role             TEXT NOT NULL,
  state            TEXT NOT NULL,
  joined_at        TEXT,
  updated_at       TEXT NOT NULL,
  UNIQUE (gathering_id, external_user_id)
);

CREATE TABLE events (
  seq          INTEGER PRIMARY KEY AUTOINCREMENT,
  id           TEXT NOT NULL UNIQUE,
  type         TEXT NOT NULL,
  source       TEXT NOT NULL,
  tenant_id    TEXT NOT NULL,
  project_id   TEXT,
  resource_id  TEXT NOT NULL,
  timestamp    TEXT NOT NULL,
  payload      TEXT NOT NULL
);
CREATE INDEX events_tenant ON events(tenant_id, seq);
CREATE INDEX events_project ON events(project_id, seq);

-- Durable consumers (plugin runner, webhook fan-out) persist how far they have read.
CREATE TABLE consumer_cursors (
  name        TEXT PRIMARY KEY,
  seq         INTEGER NOT NULL,
  updated_at  TEXT NOT NULL
);

CREATE TABLE idempotency_keys (
  tenant_id     TEXT NOT NULL,
  api_key_id    TEXT NOT NULL,
  key           TEXT NOT NULL,
  method        TEXT NOT NULL,
  path          TEXT NOT NULL,
  request_hash  TEXT NOT NULL,
  status_code   INTEGER NOT NULL,
  response      TEXT NOT NULL,
  created_at    TEXT NOT NULL,
  PRIMARY KEY (api_key_id, key)
);
CREATE INDEX idempotency_age ON idempotency_keys(created_at);
`;

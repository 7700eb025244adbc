// Schema version 2: webhook subscriptions and the delivery outbox (owned by main/outbox).
// Times the worker compares (run_at, locked_at) are integer milliseconds since the epoch;
// times shown to people are ISO text like everywhere else.
export default /* sql */ `
CREATE TABLE webhooks (
  id                    TEXT PRIMARY KEY,
  tenant_id             TEXT NOT NULL,
  project_id            TEXT NOT NULL,
  url                   TEXT NOT NULL,
  description           TEXT NOT NULL DEFAULT '',
  events                TEXT NOT NULL,            -- JSON array of type patterns
  enabled               INTEGER NOT NULL,
  disabled_reason       TEXT,
  secret                TEXT NOT NULL,
  previous_secret       TEXT,                     -- still signs until previous_expires_at (rotation)
  previous_expires_at   INTEGER,
  auth_type             TEXT NOT NULL CHECK (auth_type IN ('none', 'api_key', 'basic_auth', 'custom_headers')),
  api_key               TEXT,
  api_key_header        TEXT NOT NULL DEFAULT 'X-API-Key',
  basic_auth_username   TEXT,
  basic_auth_password   TEXT,
  custom_headers        TEXT,                     -- JSON object
  from_seq              INTEGER NOT NULL,         -- only events after this seq are delivered (its webhook.created)
  created_at            TEXT NOT NULL,
  updated_at            TEXT NOT NULL,
  FOREIGN KEY (tenant_id, project_id) REFERENCES projects(tenant_id, id)
);
CREATE INDEX webhooks_project ON webhooks(project_id, id);

-- The outbox: one row per (event, subscription). event_id is the webhook-id on every attempt.
-- A row without event_seq carries its own body (test pings).
CREATE TABLE webhook_deliveries (
  id           TEXT PRIMARY KEY,
  tenant_id    TEXT NOT NULL,
  project_id   TEXT NOT NULL,
  webhook_id   TEXT NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
  event_id     TEXT NOT NULL,
  event_seq    INTEGER,
  event_type   TEXT NOT NULL,
  body         TEXT,
  status       TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed', 'exhausted')),
  attempts     INTEGER NOT NULL DEFAULT 0,       -- attempts in the current schedule (redeliver restarts it)
  run_at       INTEGER NOT NULL,
  locked_at    INTEGER,
  locked_by    TEXT,
  last_error   TEXT,
  last_status  INTEGER,
  created_at   TEXT NOT NULL,
  updated_at   TEXT NOT NULL,
  delivered_at TEXT,
  UNIQUE (webhook_id, event_id)
);
-- The claim's ORDER BY run_at, id comes straight from this index (a fan-out step gives many rows one run_at).
CREATE INDEX webhook_deliveries_due ON webhook_deliveries(webhook_id, run_at, id) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_list ON webhook_deliveries(webhook_id, id);

CREATE TABLE webhook_attempts (
  id            TEXT PRIMARY KEY,
  delivery_id   TEXT NOT NULL REFERENCES webhook_deliveries(id) ON DELETE CASCADE,
  attempt       INTEGER NOT NULL,
  started_at    TEXT NOT NULL,
  duration_ms   INTEGER NOT NULL,
  status_code   INTEGER,
  error         TEXT,
  response_body TEXT
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts(delivery_id, id);
`;

// Schema version 5: automod rules, the evidence they acted on, and the review queue
// (main/automod owns all three; its evaluator's cursor is `automod` in consumer_cursors).
export default /* sql */ `
CREATE TABLE automod_rules (
  id               TEXT PRIMARY KEY,
  tenant_id        TEXT NOT NULL,
  project_id       TEXT NOT NULL,
  name             TEXT NOT NULL,
  enabled          INTEGER NOT NULL DEFAULT 1,
  annotation_type  TEXT NOT NULL,             -- when.annotationType, for the evaluator's lookup
  when_json        TEXT NOT NULL,             -- the condition, defaults applied
  then_json        TEXT NOT NULL,             -- {"sanction": {...}} or {"review": {...}}
  active_since     TEXT NOT NULL,             -- last enabled or given its condition: it judges only annotations from then on
  created_at       TEXT NOT NULL,
  updated_at       TEXT NOT NULL,
  FOREIGN KEY (tenant_id, project_id) REFERENCES projects(tenant_id, id)
);
CREATE INDEX automod_rules_project ON automod_rules(project_id, id);
CREATE INDEX automod_rules_match ON automod_rules(tenant_id, project_id, annotation_type) WHERE enabled = 1;

-- Each annotation is evidence for at most one action per rule: the primary key is what keeps
-- a replay (or a crash between evaluation and commit) from acting twice on the same evidence.
CREATE TABLE automod_evidence (
  rule_id         TEXT NOT NULL,
  annotation_id   TEXT NOT NULL,
  tenant_id       TEXT NOT NULL,
  project_id      TEXT NOT NULL,
  participant_id  TEXT NOT NULL,
  action          TEXT NOT NULL CHECK (action IN ('sanction', 'review')),
  target_id       TEXT NOT NULL,              -- the sanction id or the review item id
  created_at      TEXT NOT NULL,
  PRIMARY KEY (rule_id, annotation_id)
);
CREATE INDEX automod_evidence_target ON automod_evidence(target_id);

-- The review queue. priority_rank / severity_rank order it (high = 3 … low = 1, no severity = 0).
CREATE TABLE review_items (
  id              TEXT PRIMARY KEY,
  tenant_id       TEXT NOT NULL,
  project_id      TEXT NOT NULL,
  session_id      TEXT NOT NULL,
  message_id      TEXT NOT NULL,
  participant_id  TEXT,
  rule_id         TEXT,
  priority        TEXT NOT NULL CHECK (priority IN ('low', 'medium', 'high')),
  priority_rank   INTEGER NOT NULL,
  severity        TEXT CHECK (severity IN ('low', 'medium', 'high')),
  severity_rank   INTEGER NOT NULL,
  status          TEXT NOT NULL CHECK (status IN ('open', 'resolved')),
  decision        TEXT CHECK (decision IN ('dismiss', 'sanction')),
  sanction_id     TEXT,
  note            TEXT,
  resolved_by     TEXT,
  resolved_at     TEXT,
  created_at      TEXT NOT NULL,
  updated_at      TEXT NOT NULL,
  FOREIGN KEY (tenant_id, project_id) REFERENCES projects(tenant_id, id)
);
-- At most one open item per message: a second rule flagging it adds to the open one.
CREATE UNIQUE INDEX review_items_open_message ON review_items(message_id) WHERE status = 'open';
CREATE INDEX review_items_queue ON review_items(tenant_id, project_id, status, priority_rank DESC, severity_rank DESC, created_at DESC, id DESC);

-- No rule existed before this version, so nothing already in the log can match one: the
-- evaluator starts at the head instead of scanning the whole history once.
INSERT OR IGNORE INTO consumer_cursors (name, seq, updated_at)
  SELECT 'automod', COALESCE(MAX(seq), 0), strftime('%Y-%m-%dT%H:%M:%fZ', 'now') FROM events;
`;

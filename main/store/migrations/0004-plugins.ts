// Schema version 4: annotations take the plugin shape (target, plugin, type, score, severity,
// content, and the event a plugin annotated, which makes a replay unable to write twice), and
// projects install plugins (main/plugins/installations owns `project_plugins` and
// `plugin_errors`; cursors live in consumer_cursors as `plugin:<installationId>`).
export default /* sql */ `
ALTER TABLE annotations RENAME COLUMN kind TO type;
ALTER TABLE annotations RENAME COLUMN data TO content;
ALTER TABLE annotations ADD COLUMN target_type TEXT NOT NULL DEFAULT 'message' CHECK (target_type IN ('message', 'session'));
ALTER TABLE annotations ADD COLUMN participant_id TEXT;
ALTER TABLE annotations ADD COLUMN plugin_id TEXT;
ALTER TABLE annotations ADD COLUMN severity TEXT CHECK (severity IN ('low', 'medium', 'high'));
ALTER TABLE annotations ADD COLUMN origin_seq INTEGER;
ALTER TABLE annotations ADD COLUMN origin_ordinal INTEGER;
UPDATE annotations SET target_type = CASE WHEN message_id IS NULL THEN 'session' ELSE 'message' END;
UPDATE annotations SET plugin_id = substr(source, 8) WHERE source LIKE 'plugin:%';
UPDATE annotations SET content = json_set(CASE WHEN json_type(content) = 'object' THEN content ELSE json_object('value', json(content)) END, '$.label', label)
  WHERE label IS NOT NULL AND content IS NOT NULL;
UPDATE annotations SET content = json_object('label', label) WHERE label IS NOT NULL AND content IS NULL;
UPDATE annotations SET participant_id = (SELECT m.participant_id FROM messages m WHERE m.id = annotations.message_id) WHERE message_id IS NOT NULL;
ALTER TABLE annotations DROP COLUMN label;
CREATE UNIQUE INDEX annotations_origin ON annotations(plugin_id, origin_seq, origin_ordinal) WHERE origin_seq IS NOT NULL;
-- A speaker's recent messages (plugin contexts, e.g. flood).
CREATE INDEX messages_participant ON messages(session_id, participant_id, id);
CREATE INDEX annotations_participant ON annotations(participant_id, type, created_at) WHERE participant_id IS NOT NULL;

CREATE TABLE project_plugins (
  id          TEXT PRIMARY KEY,
  tenant_id   TEXT NOT NULL,
  project_id  TEXT NOT NULL,
  plugin_id   TEXT NOT NULL,
  settings    TEXT NOT NULL,                 -- JSON, validated against the plugin's schema, defaults applied
  enabled     INTEGER NOT NULL DEFAULT 1,
  error_count INTEGER NOT NULL DEFAULT 0,     -- all-time; plugin_errors keeps only the latest
  created_at  TEXT NOT NULL,
  updated_at  TEXT NOT NULL,
  UNIQUE (project_id, plugin_id),
  FOREIGN KEY (tenant_id, project_id) REFERENCES projects(tenant_id, id)
);

-- The last errors of each installation (pruned to 100 per installation); the log has plugin.error too.
CREATE TABLE plugin_errors (
  id               INTEGER PRIMARY KEY AUTOINCREMENT,
  installation_id  TEXT NOT NULL REFERENCES project_plugins(id) ON DELETE CASCADE,
  kind             TEXT NOT NULL,            -- threw | timeout | crashed | out_of_memory | load_failed | skipped
  message          TEXT NOT NULL,
  event_seq        INTEGER,
  created_at       TEXT NOT NULL
);
CREATE INDEX plugin_errors_installation ON plugin_errors(installation_id, id);
`;

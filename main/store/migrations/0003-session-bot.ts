// Schema version 3: which room adapter a session's transcription bot joins with (owned by
// main/domain/sessions; the bot reads it; NULL = no bot), and each project's bot settings
// (owned by main/bot/settings), and encrypted secrets such as ODIN access keys (main/core/secrets).
export default /* sql */ `
ALTER TABLE sessions ADD COLUMN adapter TEXT CHECK (adapter IN ('odin', 'zmq', 'file'));
ALTER TABLE sessions ADD COLUMN adapter_config TEXT;

CREATE TABLE project_bot_settings (
  tenant_id   TEXT NOT NULL,
  project_id  TEXT NOT NULL,
  settings    TEXT NOT NULL,                      -- JSON: only what differs from the defaults
  updated_at  TEXT NOT NULL,
  PRIMARY KEY (tenant_id, project_id),
  FOREIGN KEY (tenant_id, project_id) REFERENCES projects(tenant_id, id)
);

-- Encrypted secrets (main/core/secrets.ts): iv ‖ GCM tag ‖ ciphertext; the key is a file.
CREATE TABLE secrets (
  name        TEXT PRIMARY KEY,
  value       BLOB NOT NULL,
  updated_at  TEXT NOT NULL
);
`;

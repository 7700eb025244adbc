// Schema version 3: which room adapter a session's transcription bot joins with (owned by
// main/domain/sessions; the bot reads it). NULL = no bot.
export default /* sql */ `
ALTER TABLE sessions ADD COLUMN adapter TEXT CHECK (adapter IN ('odin', 'zmq', 'file'));
ALTER TABLE sessions ADD COLUMN adapter_config TEXT;
`;

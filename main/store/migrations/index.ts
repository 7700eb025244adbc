import initial from './0001-initial.js';
import webhooks from './0002-webhooks.js';
import sessionBot from './0003-session-bot.js';
import plugins from './0004-plugins.js';
import automod from './0005-automod.js';

/** Forward-only migrations; the array index + 1 is the schema version (`PRAGMA user_version`). */
export const MIGRATIONS: readonly { name: string; sql: string }[] = [
  { name: '0001-initial', sql: initial },
  { name: '0002-webhooks', sql: webhooks },
  { name: '0003-session-bot', sql: sessionBot },
  { name: '0004-plugins', sql: plugins },
  { name: '0005-automod', sql: automod },
];

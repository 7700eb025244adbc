import type { Logger } from 'pino';
import type { Domain } from '../domain/index.js';
import type { EventLog } from '../events/log.js';
import type { Db } from '../store/db.js';
import { createDryRun } from './dry-run.js';
import { Evaluator } from './evaluator.js';
import { createReview } from './review.js';
import { createRules } from './rules.js';

export interface AutomodDeps {
  db: Db;
  events: EventLog;
  domain: Domain;
  logger: Pick<Logger, 'warn' | 'error'>;
  /** The evaluator's clock (ms); tests may move it. */
  now?: () => number;
}

/**
 * Automod: per-project rules, the evaluator that applies them to new annotations (sanctions or
 * review items), and the review queue. `start()` catches up on whatever was committed while
 * it was not running (after a crash too) and then follows the log.
 */
export function createAutomod({ db, events, domain, logger, now }: AutomodDeps) {
  const rules = createRules({ db, events });
  const review = createReview({ db, events }, domain);
  const evaluator = new Evaluator({ db, events, domain, rules, review, logger, now });
  const dryRun = createDryRun(db, domain);
  let unsubscribe: (() => void) | null = null;
  return {
    rules,
    review,
    evaluator,
    dryRun,
    start(): void {
      unsubscribe ??= events.subscribe(() => evaluator.schedule());
      evaluator.schedule();
    },
    close(): void {
      unsubscribe?.();
      unsubscribe = null;
      evaluator.close();
    },
  };
}

export type Automod = ReturnType<typeof createAutomod>;

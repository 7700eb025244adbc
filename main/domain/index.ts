import type { DomainDeps } from './context.js';
import { createAnnotations } from './annotations.js';
import { createGatherings } from './gatherings.js';
import { createMessages } from './messages.js';
import { createParticipants } from './participants.js';
import { createSanctions } from './sanctions.js';
import { createSessions } from './sessions.js';
import { createTenancy } from './tenancy.js';

/** Every domain module, wired once. The API, the bot and plugins all go through these. */
export function createDomain(deps: DomainDeps) {
  const tenancy = createTenancy(deps);
  const sessions = createSessions(deps);
  const participants = createParticipants(deps, sessions);
  const messages = createMessages(deps, sessions, participants);
  const annotations = createAnnotations(deps, sessions, messages);
  const sanctions = createSanctions(deps, sessions, participants);
  const gatherings = createGatherings(deps, sessions, participants);
  return { tenancy, sessions, participants, messages, annotations, sanctions, gatherings, events: deps.events };
}

export type Domain = ReturnType<typeof createDomain>;

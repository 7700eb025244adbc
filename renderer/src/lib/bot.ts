/** `GET …/sessions/:id/bot`: a session bot's state and who it hears; read by the overview and a session's detail. */

export interface BotPeer {
  peerId: string;
  participantId: string | null;
  displayName: string | null;
  speaking: boolean;
  queued: number;
  lastUtterance: { startedAt: string; durationMs: number; text: string | null } | null;
  framesDropped: number;
}

export interface BotView {
  state: 'joining' | 'listening' | 'error' | 'stopped';
  reason: string | null;
  adapter: string | null;
  peers: BotPeer[];
  queue: { depth: number; processed: number; failed: number; dropped: number; waitP50Ms: number; waitP95Ms: number; oldestWaitingMs: number } | null;
}

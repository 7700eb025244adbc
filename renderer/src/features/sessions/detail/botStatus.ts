/**
 * `bot.status.changed` carries every peer's speaking state (`peers`); with `change: 'speaking'`
 * only that changed (at most one such event per session every 250 ms), so the cached
 * `GET …/bot` view is patched instead of refetched. Read by a session's detail and the overview.
 */
import type { DomainEvent } from '../../../../../common/events.js';
import type { BotView } from '../../../lib/bot.js';

interface PeerSpeaking {
  peerId: string;
  participantId: string | null;
  speaking: boolean;
}

/** The view with the event's speaking states; null = refetch (a state change, or a peer the view does not know). */
export function applyBotStatus(view: BotView, event: DomainEvent): BotView | null {
  const data = event.payload.data as { change?: unknown; peers?: unknown };
  if (data.change !== 'speaking' || !Array.isArray(data.peers)) return null;
  const speaking = new Map((data.peers as PeerSpeaking[]).map((p) => [p.peerId, p]));
  if ([...speaking.keys()].some((id) => !view.peers.some((p) => p.peerId === id))) return null;
  return {
    ...view,
    peers: view.peers.map((p) => {
      const s = speaking.get(p.peerId);
      return s ? { ...p, speaking: s.speaking, participantId: p.participantId ?? s.participantId } : p;
    }),
  };
}

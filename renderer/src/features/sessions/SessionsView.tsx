import { EventFeed } from '../events/EventFeed.js';
import { SessionsList } from './SessionsList.js';

/** `#/sessions`: the live session list next to the live event feed. */
export function SessionsView() {
  return (
    <div className="panes">
      <SessionsList />
      <EventFeed />
    </div>
  );
}

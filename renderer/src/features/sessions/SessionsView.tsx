import type { Route } from '../../lib/router.js';
import { EventFeed } from '../events/EventFeed.js';
import { SessionDetail } from './detail/SessionDetail.js';
import { SessionsList } from './SessionsList.js';
import './sessions.css';

/** `#/sessions`: the live session list next to the live event feed; `#/sessions/<id>`: one session. */
export function SessionsView({ route }: { route: Route }) {
  const id = route.parts[1];
  if (id) return <SessionDetail key={id} sessionId={id} />;
  return (
    <div className="panes sx-sessions-panes">
      <SessionsList />
      <EventFeed />
    </div>
  );
}

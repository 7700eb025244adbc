import { useState } from 'react';
import type { DomainEvent } from '../../../../common/events.js';
import { formatTime } from '../../lib/format.js';
import { useEvents } from '../../lib/useEvents.js';

const MAX_EVENTS = 200;
const ALL_EVENTS = {}; // tenant-wide, every type

function EventRow({ event }: { event: DomainEvent }) {
  return (
    <li className="row event-row" data-testid="event-row" data-seq={event.seq}>
      <span className="seq">#{event.seq}</span>
      <span className={`type type-${event.payload.action}`} data-testid="event-type">
        {event.type}
      </span>
      <span className="resource" title={event.resourceId}>
        {event.resourceId}
      </span>
      <time className="muted" dateTime={event.timestamp} title={event.timestamp}>
        {formatTime(event.timestamp)}
      </time>
    </li>
  );
}

/** Live tail of the tenant's event log: latest events first, capped at 200. */
export function EventFeed() {
  const [events, setEvents] = useState<DomainEvent[]>([]);

  useEvents(ALL_EVENTS, (event) => {
    setEvents((prev) => (prev.some((e) => e.seq === event.seq) ? prev : [event, ...prev].slice(0, MAX_EVENTS)));
  });

  return (
    <section className="pane" aria-labelledby="events-heading">
      <header className="pane-header">
        <h2 id="events-heading">Live events</h2>
        <span className="count">{events.length}</span>
        {events.length > 0 && (
          <button type="button" className="link" onClick={() => setEvents([])}>
            Clear
          </button>
        )}
      </header>
      <div className="pane-body" data-testid="event-feed">
        {events.length === 0 ? (
          <p className="empty">Waiting for events…</p>
        ) : (
          <ul className="rows">
            {events.map((e) => (
              <EventRow key={e.seq} event={e} />
            ))}
          </ul>
        )}
      </div>
    </section>
  );
}

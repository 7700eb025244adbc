import { useEffect, useRef } from 'react';
import type { EventFilter } from '../../../common/client.js';
import type { DomainEvent } from '../../../common/events.js';
import { useCortex } from './cortex-context.js';

/**
 * Subscribes to live domain events for as long as the component is mounted. The handler may
 * change on every render (it is read through a ref); the subscription is only re-created when
 * the filter's contents change. Pass `null` to pause.
 */
export function useEvents(filter: EventFilter | null, onEvent: (event: DomainEvent) => void): void {
  const { client } = useCortex();
  const handler = useRef(onEvent);
  useEffect(() => {
    handler.current = onEvent;
  });

  const filterKey = filter === null ? null : JSON.stringify(filter);
  useEffect(() => {
    if (filterKey === null) return;
    const parsed = JSON.parse(filterKey) as EventFilter;
    return client.subscribe(parsed, (event) => handler.current(event));
  }, [client, filterKey]);
}

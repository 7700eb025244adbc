import { useCallback, useEffect, useRef, useState } from 'react';
import type { DomainEvent } from '../../../../../common/events.js';
import type { Message } from '../../../../../common/schemas.js';
import { useCortex } from '../../../lib/cortex-context.js';
import { applyMessageEvents, emptyTranscript, mergePage, type TranscriptState } from './transcriptModel.js';

const PAGE = 500;
/** Live events are applied in batches: one render per batch, not one per message. */
const BATCH_MS = 40;

export interface TranscriptLoad {
  state: TranscriptState;
  /** Messages read from the API so far. */
  loaded: number;
  done: boolean;
  error: unknown;
  retry(): void;
  /** Feed `message.*` events (of any session: others are ignored). */
  push(event: DomainEvent): void;
}

/**
 * All messages of a session: paged from the API (oldest first, 500 at a time, shown as they
 * arrive), while live `message.*` events — subscribed from a seq taken before the first page —
 * are applied in batches, so nothing falls between the pages and the stream.
 */
export function useTranscript(base: string, sessionId: string, ready: boolean): TranscriptLoad {
  const { client } = useCortex();
  const [state, setState] = useState<TranscriptState>(emptyTranscript);
  const [loaded, setLoaded] = useState(0);
  const [done, setDone] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [attempt, setAttempt] = useState(0);
  const queue = useRef<DomainEvent[]>([]);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);

  useEffect(() => {
    setState(emptyTranscript);
    setLoaded(0);
    setDone(false);
    setError(null);
    queue.current = [];
  }, [sessionId]);

  useEffect(() => {
    if (!ready) return;
    let cancelled = false;
    setError(null);
    setDone(false);
    void (async () => {
      let cursor: string | null = null;
      let count = 0;
      try {
        do {
          const q: string = `?limit=${PAGE}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
          const page: { items: Message[]; nextCursor: string | null } = await client.request('GET', `${base}/sessions/${encodeURIComponent(sessionId)}/messages${q}`);
          if (cancelled) return;
          count += page.items.length;
          setState((s) => mergePage(s, page.items));
          setLoaded(count);
          cursor = page.nextCursor;
        } while (cursor);
        setDone(true);
      } catch (err) {
        if (!cancelled) setError(err);
      }
    })();
    return () => {
      cancelled = true;
    };
  }, [client, base, sessionId, ready, attempt]);

  useEffect(
    () => () => {
      if (timer.current) clearTimeout(timer.current);
    },
    [],
  );

  const push = useCallback(
    (event: DomainEvent) => {
      queue.current.push(event);
      if (timer.current) return;
      timer.current = setTimeout(() => {
        timer.current = null;
        const batch = queue.current;
        queue.current = [];
        setState((s) => applyMessageEvents(s, batch, sessionId).state);
      }, BATCH_MS);
    },
    [sessionId],
  );

  const retry = useCallback(() => setAttempt((a) => a + 1), []);
  return { state, loaded, done, error, retry, push };
}

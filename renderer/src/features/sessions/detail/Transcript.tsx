import { memo, useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState, type KeyboardEvent } from 'react';
import type { Annotation } from '../../../../../common/schemas.js';
import { formatTime } from '../../../lib/format.js';
import { flagLevel, indexOfMessage, speakerSlot, type TranscriptMessage } from './transcriptModel.js';

/** First guess for a row not measured yet (one line of text plus the header). */
const ESTIMATE_PX = 58;
/** Rows rendered beyond the visible area, above and below. */
const OVERSCAN_PX = 500;
/** How close to the end counts as "at the live edge". */
const BOTTOM_SLACK_PX = 24;

/** First index whose offset is > value (offsets ascending). */
function upperBound(offsets: Float64Array, value: number, n: number): number {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (offsets[mid]! <= value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function AnnotationBadge({ a }: { a: Annotation }) {
  const sev = a.severity ?? 'none';
  const label = [a.type, a.score !== null ? `score ${a.score.toFixed(2)}` : null, a.severity ? `severity ${a.severity}` : null, a.pluginId ? `by ${a.pluginId}` : null]
    .filter(Boolean)
    .join(', ');
  return (
    <li className={`sx-ann sx-ann-${sev}`} data-testid="annotation-badge" data-type={a.type} title={label} aria-label={label}>
      <span className="sx-ann-type">{a.type}</span>
      {a.score !== null && <span className="sx-ann-score">{a.score.toFixed(2)}</span>}
      {a.severity && <span className="sx-ann-sev">{a.severity}</span>}
    </li>
  );
}

interface RowProps {
  m: TranscriptMessage;
  index: number;
  total: number;
  speaker: string;
  playing: boolean;
  observe: (el: HTMLElement) => () => void;
  onPlay: (m: TranscriptMessage) => void;
}

const Row = memo(function Row({ m, index, total, speaker, playing, observe, onPlay }: RowProps) {
  const flag = flagLevel(m);
  const slot = speakerSlot(m);
  const ref = useCallback((el: HTMLElement | null) => (el ? observe(el) : undefined), [observe]);
  return (
    <article
      ref={ref}
      className={`sx-msg sx-speaker-${slot < 0 ? 'system' : slot}${flag ? ` sx-flagged sx-flag-${flag}` : ''}`}
      data-testid="transcript-row"
      data-id={m.id}
      data-index={index}
      data-flagged={flag ? 'true' : 'false'}
      aria-posinset={index + 1}
      aria-setsize={total}
      aria-label={`${speaker}, ${formatTime(m.timestamp)}${flag ? `, flagged ${flag}` : ''}`}
    >
      <header className="sx-msg-head">
        <span className="sx-msg-speaker" data-testid="message-speaker">
          {speaker}
        </span>
        <time className="sx-msg-time" dateTime={m.timestamp} title={m.timestamp}>
          {formatTime(m.timestamp)}
        </time>
        {m.hasDebugAudio && (
          <button
            type="button"
            className={`sx-msg-audio${playing ? ' sx-is-playing' : ''}`}
            data-testid="play-audio"
            aria-pressed={playing}
            aria-label={`Play the recorded audio of this message by ${speaker}`}
            onClick={() => onPlay(m)}
          >
            {playing ? '■ playing' : '▶ audio'}
          </button>
        )}
      </header>
      <p className="sx-msg-text" data-testid="message-content">
        {m.content}
      </p>
      {m.annotations.length > 0 && (
        <ul className="sx-msg-annotations" aria-label="Annotations">
          {m.annotations.map((a) => (
            <AnnotationBadge key={a.id} a={a} />
          ))}
        </ul>
      )}
    </article>
  );
});

export interface TranscriptProps {
  items: TranscriptMessage[];
  speakerName: (m: TranscriptMessage) => string;
  loading: boolean;
  playingId: string | null;
  onPlay: (m: TranscriptMessage) => void;
}

/**
 * A hand-written virtual list: only the rows in (and just around) the viewport are in the DOM.
 * Row heights are measured as rows render (a ResizeObserver) and estimated until then. While
 * the moderator reads, the first visible row stays put whatever is added, measured or removed
 * above it; at the bottom the list follows the live edge; otherwise new messages are counted
 * on a "N new messages ↓" button.
 */
export function Transcript({ items, speakerName, loading, playingId, onPlay }: TranscriptProps) {
  const scroller = useRef<HTMLDivElement>(null);
  const heights = useRef(new Map<string, number>());
  const [measured, setMeasured] = useState(0);
  const [scrollTop, setScrollTop] = useState(0);
  const [viewport, setViewport] = useState(600);
  const follow = useRef(true);
  const [atBottom, setAtBottom] = useState(true);
  const [unseen, setUnseen] = useState(0);
  /** The first visible row and how far the viewport top is below its top. */
  const anchor = useRef<{ id: string; delta: number } | null>(null);
  const lastId = useRef<string | null>(null);

  const offsets = useMemo(() => {
    void measured; // recomputed when a row's measured height changes
    const o = new Float64Array(items.length + 1);
    const h = heights.current;
    for (let i = 0; i < items.length; i++) o[i + 1] = o[i]! + (h.get(items[i]!.id) ?? ESTIMATE_PX);
    return o;
  }, [items, measured]);
  const total = offsets[items.length]!;

  const observer = useMemo(
    () =>
      typeof ResizeObserver === 'undefined'
        ? null
        : new ResizeObserver((entries) => {
            let changed = false;
            for (const entry of entries) {
              const el = entry.target as HTMLElement;
              const id = el.dataset.id;
              if (!id) continue;
              const h = Math.round((entry.borderBoxSize?.[0]?.blockSize ?? el.offsetHeight) * 10) / 10;
              if (h > 0 && heights.current.get(id) !== h) {
                heights.current.set(id, h);
                changed = true;
              }
            }
            if (changed) setMeasured((v) => v + 1);
          }),
    [],
  );
  useEffect(() => () => observer?.disconnect(), [observer]);
  const observe = useCallback(
    (el: HTMLElement) => {
      observer?.observe(el);
      return () => observer?.unobserve(el);
    },
    [observer],
  );

  const rememberAnchor = useCallback(
    (top: number) => {
      if (items.length === 0) {
        anchor.current = null;
        return;
      }
      const i = Math.min(items.length - 1, Math.max(0, upperBound(offsets, top, items.length + 1) - 1));
      anchor.current = { id: items[i]!.id, delta: top - offsets[i]! };
    },
    [items, offsets],
  );

  // After every change of rows or heights: follow the live edge, or keep the anchor row in place.
  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return;
    const prevLast = lastId.current;
    lastId.current = items.length ? items[items.length - 1]!.id : null;
    if (follow.current) {
      const bottom = Math.max(0, el.scrollHeight - el.clientHeight);
      if (Math.abs(el.scrollTop - bottom) > 0.5) el.scrollTop = bottom;
    } else {
      const a = anchor.current;
      const i = a ? indexOfMessage(items, a.id) : -1;
      if (a && i >= 0) {
        const want = offsets[i]! + a.delta;
        if (Math.abs(el.scrollTop - want) > 0.5) el.scrollTop = want;
      }
      if (prevLast !== null && lastId.current !== null && lastId.current > prevLast) {
        // Count what arrived after the last message seen so far.
        let n = 0;
        for (let k = items.length - 1; k >= 0 && items[k]!.id > prevLast; k--) n++;
        if (n > 0) setUnseen((u) => u + n);
      }
    }
    setScrollTop(el.scrollTop);
    rememberAnchor(el.scrollTop);
  }, [items, offsets, rememberAnchor]);

  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return;
    const size = () => setViewport(el.clientHeight);
    size();
    if (typeof ResizeObserver === 'undefined') return;
    const ro = new ResizeObserver(size);
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  function onScroll(): void {
    const el = scroller.current;
    if (!el) return;
    const top = el.scrollTop;
    const bottom = top + el.clientHeight >= el.scrollHeight - BOTTOM_SLACK_PX;
    follow.current = bottom;
    setAtBottom(bottom);
    if (bottom) setUnseen(0);
    setScrollTop(top);
    rememberAnchor(top);
  }

  function toLiveEdge(): void {
    const el = scroller.current;
    if (!el) return;
    follow.current = true;
    setAtBottom(true);
    setUnseen(0);
    el.scrollTop = el.scrollHeight;
  }

  function onKeyDown(e: KeyboardEvent<HTMLDivElement>): void {
    const el = scroller.current;
    if (!el || e.target !== el) return;
    if (e.key === 'End') {
      e.preventDefault();
      toLiveEdge();
    } else if (e.key === 'Home') {
      e.preventDefault();
      follow.current = false;
      el.scrollTop = 0;
    }
  }

  const n = items.length;
  const start = Math.max(0, upperBound(offsets, scrollTop - OVERSCAN_PX, n + 1) - 1);
  const end = Math.min(n, upperBound(offsets, scrollTop + viewport + OVERSCAN_PX, n + 1));
  const rows = [];
  for (let i = start; i < end; i++) {
    const m = items[i]!;
    rows.push(
      <Row key={m.id} m={m} index={i} total={n} speaker={speakerName(m)} playing={playingId === m.id} observe={observe} onPlay={onPlay} />,
    );
  }

  return (
    <div className="sx-transcript">
      <div
        ref={scroller}
        className="sx-transcript-scroll"
        data-testid="transcript"
        data-count={n}
        data-at-bottom={atBottom ? 'true' : 'false'}
        role="feed"
        aria-label="Transcript"
        aria-busy={loading}
        tabIndex={0}
        onScroll={onScroll}
        onKeyDown={onKeyDown}
      >
        {n === 0 && !loading && <p className="empty">No messages yet. New ones appear here as they are posted.</p>}
        <div className="sx-transcript-spacer" style={{ height: total }}>
          <div className="sx-transcript-window" style={{ transform: `translateY(${offsets[start]}px)` }}>
            {rows}
          </div>
        </div>
      </div>
      {!atBottom && (
        <button type="button" className="sx-new-messages" data-testid="new-messages" onClick={toLiveEdge}>
          {unseen > 0 ? `${unseen.toLocaleString()} new message${unseen === 1 ? '' : 's'} ↓` : 'Jump to latest ↓'}
        </button>
      )}
    </div>
  );
}

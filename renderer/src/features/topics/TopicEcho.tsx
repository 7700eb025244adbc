import { useEffect, useRef, useState } from 'react';
import type { EchoEvent, IpcEchoFrame, IpcEchoReady } from '../../../../common/ipc.js';
import { ApiError, type Problem } from '../../../../common/problem.js';
import { SseParser } from '../../../../common/sse.js';
import { ProblemText } from '../../components/ProblemText.js';
import { storedKey } from '../../lib/client.js';
import { useCortex } from '../../lib/cortex-context.js';
import { formatTime } from '../../lib/format.js';
import './topics.css';

/** Rows kept in the live list (newest first). */
export const ECHO_KEEP = 100;

interface EchoRow {
  n: number;
  seq: string;
  timestamp: string;
  /** The message as JSON text, or the reason it could not be decoded. */
  text: string;
  invalid: boolean;
  dropped: number;
}

type Status = 'connecting' | 'live' | 'ended' | 'failed';

/**
 * A topic's live echo. In a browser: `GET /api/topics/{topic}/echo` read with fetch (the key
 * travels in a header) and parsed with common/sse.ts; in the Electron window: the same stream
 * over IPC (`window.cortex.echoTopic`). Newest first, the last {@link ECHO_KEEP}, pausable.
 */
export function TopicEcho({ topic }: { topic: string }) {
  const { transport, echoTopic } = useCortex();
  const [rows, setRows] = useState<EchoRow[]>([]);
  const [status, setStatus] = useState<Status>('connecting');
  const [error, setError] = useState<unknown>(null);
  const [paused, setPaused] = useState(false);
  const [skipped, setSkipped] = useState(0);
  const [dropped, setDropped] = useState(0);
  const [attempt, setAttempt] = useState(0);
  const pausedRef = useRef(paused);
  pausedRef.current = paused;

  useEffect(() => {
    let n = 0;
    let stopped = false;
    setRows([]);
    setStatus('connecting');
    setError(null);
    setSkipped(0);
    setDropped(0);

    /** One stream event, the same for both transports (SSE `event:` + parsed `data:`). */
    const onEvent = (e: EchoEvent): void => {
      if (stopped) return;
      if (e.event === 'ready') {
        setStatus('live');
        return;
      }
      if (e.event === 'failed') {
        setError(new ApiError(e.data));
        setStatus('failed');
        return;
      }
      const lost = e.data.dropped ?? 0;
      if (lost) setDropped((d) => d + lost);
      if (pausedRef.current) {
        setSkipped((s) => s + 1);
        return;
      }
      const row: EchoRow = {
        n: n++,
        seq: e.event === 'message' ? (e.data.seq ?? '') : '',
        timestamp: (e.event === 'message' ? e.data.timestamp : undefined) ?? new Date().toISOString(),
        text: e.event === 'invalid' ? `${e.data.reason ?? 'invalid'}: ${e.data.detail ?? ''}` : JSON.stringify(e.data.value),
        invalid: e.event === 'invalid',
        dropped: lost,
      };
      setRows((prev) => [row, ...prev].slice(0, ECHO_KEEP));
    };

    if (transport === 'ipc') {
      if (!echoTopic) {
        setStatus('failed');
        setError(new Error('this window has no topic echo'));
        return;
      }
      const stop = echoTopic(topic, onEvent);
      return () => {
        stopped = true;
        stop();
      };
    }

    const key = storedKey();
    if (!key) {
      setStatus('failed');
      setError(new Error('no API key is stored in this browser; sign in again'));
      return;
    }
    const ac = new AbortController();
    void (async () => {
      try {
        const res = await fetch(`/api/topics/${encodeURIComponent(topic)}/echo`, { headers: { 'x-api-key': key, accept: 'text/event-stream' }, signal: ac.signal });
        if (!res.ok || !res.body) {
          const text = await res.text();
          let problem: Problem | null = null;
          try {
            problem = text ? (JSON.parse(text) as Problem) : null;
          } catch {
            // not a problem document: the status line says enough
          }
          throw new ApiError(problem ?? { type: 'about:blank', title: res.statusText, status: res.status, code: 'http_error' });
        }
        const parser = new SseParser((msg) => {
          if (msg.event === 'ready') onEvent({ event: 'ready', data: JSON.parse(msg.data) as IpcEchoReady });
          else if (msg.event === 'message' || msg.event === 'invalid') onEvent({ event: msg.event, data: JSON.parse(msg.data) } as IpcEchoFrame);
        });
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          parser.push(value);
        }
        if (!ac.signal.aborted) setStatus('ended');
      } catch (err) {
        if (ac.signal.aborted) return;
        setError(err);
        setStatus('failed');
      }
    })();
    return () => {
      stopped = true;
      ac.abort();
    };
  }, [topic, transport, echoTopic, attempt]);

  return (
    <div className="topic-echo" data-testid="echo-live" data-status={status}>
      <div className="topic-echo-bar">
        <span className={`topic-echo-status topic-echo-${status}`} role="status">
          {status === 'connecting' ? 'Connecting…' : status === 'live' ? (paused ? 'Paused' : 'Live') : status === 'ended' ? 'Stream ended' : 'Not streaming'}
        </span>
        <span className="muted">
          {rows.length} shown (last {ECHO_KEEP}){dropped > 0 && <> · {dropped} dropped by the server (at most 20/s)</>}
          {skipped > 0 && <> · {skipped} skipped while paused</>}
        </span>
        <span className="topic-echo-actions">
          {(status === 'live' || status === 'connecting') && (
            <button type="button" className="secondary small" onClick={() => setPaused((p) => !p)} aria-pressed={paused} data-testid="echo-pause">
              {paused ? 'Resume' : 'Pause'}
            </button>
          )}
          {(status === 'ended' || status === 'failed') && (
            <button type="button" className="secondary small" onClick={() => setAttempt((a) => a + 1)}>
              Reconnect
            </button>
          )}
          <button type="button" className="secondary small" onClick={() => setRows([])} disabled={rows.length === 0}>
            Clear
          </button>
        </span>
      </div>
      <ProblemText error={error} prefix="Could not echo the topic" />
      {rows.length === 0 ? (
        <p className="empty">{status === 'live' ? 'Waiting for messages…' : status === 'connecting' ? 'Subscribing…' : 'No messages.'}</p>
      ) : (
        <ol className="topic-echo-list" data-testid="echo-list" aria-live="off">
          {rows.map((r) => (
            <li key={r.n} className={r.invalid ? 'invalid' : undefined} data-testid="echo-row">
              <span className="muted mono topic-echo-meta">
                #{r.seq} {formatTime(r.timestamp)}
                {r.dropped > 0 && <span className="topic-echo-dropped"> +{r.dropped} dropped</span>}
              </span>
              <code className="mono">{r.text}</code>
            </li>
          ))}
        </ol>
      )}
    </div>
  );
}

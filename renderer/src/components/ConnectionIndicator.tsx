import { useEffect, useState } from 'react';
import { useConnection } from '../lib/useConnection.js';
import { useCortex } from '../lib/cortex-context.js';
import '../features/overview/connection.css';

/** A stream that has not come back within this long is shown as offline (it keeps retrying). */
const OFFLINE_AFTER_MS = 8_000;

/** A view that opened no event stream within this long needs none (settings, topics…). */
const IDLE_AFTER_MS = 3_000;

type Shown = 'connecting' | 'live' | 'reconnecting' | 'offline' | 'idle';

const LABELS: Record<Shown, string> = { connecting: 'Connecting…', live: 'Live', reconnecting: 'Reconnecting…', offline: 'Offline', idle: 'Idle' };

function explain(shown: Shown, transport: string, openStreams: number, since: number): string {
  switch (shown) {
    case 'live':
      return transport === 'ipc' ? 'Connected over Electron IPC: updates arrive live.' : `Updates arrive live (${openStreams} event stream${openStreams === 1 ? '' : 's'} open).`;
    case 'connecting':
      return 'Opening the live event stream…';
    case 'idle':
      return 'This view shows nothing that changes live, so no event stream is open. Views with live data connect when opened.';
    case 'reconnecting':
      return 'The live event stream dropped. Reconnecting; it resumes from the last event received, so nothing is missed.';
    case 'offline':
      return `The server cannot be reached since ${new Date(since).toLocaleTimeString()}. Still retrying; what is on screen may be out of date until it reconnects.`;
  }
}

/** Whether live updates flow: live, reconnecting (a short drop), or offline (down for a while, or the browser is offline). */
export function ConnectionIndicator() {
  const { transport } = useCortex();
  const { state, openStreams } = useConnection();
  const [online, setOnline] = useState(() => navigator.onLine);
  const [since, setSince] = useState(() => Date.now());
  const [now, setNow] = useState(() => Date.now());

  useEffect(() => {
    const up = () => setOnline(true);
    const down = () => setOnline(false);
    window.addEventListener('online', up);
    window.addEventListener('offline', down);
    return () => {
      window.removeEventListener('online', up);
      window.removeEventListener('offline', down);
    };
  }, []);

  // When the current state began; a one-shot timer turns a lasting "reconnecting" into
  // "offline", and a lasting "connecting" with no stream at all into "idle".
  const [prevState, setPrevState] = useState(state);
  if (prevState !== state) {
    setPrevState(state);
    setSince(Date.now());
  }
  useEffect(() => {
    if (state !== 'reconnecting' && state !== 'connecting') return;
    const wait = state === 'reconnecting' ? OFFLINE_AFTER_MS : IDLE_AFTER_MS;
    const t = window.setTimeout(() => setNow(Date.now()), Math.max(0, since + wait - Date.now()) + 50);
    return () => window.clearTimeout(t);
  }, [state, since]);

  const lasted = now - since;
  const shown: Shown =
    !online && transport === 'http' ? 'offline'
    : state === 'reconnecting' && lasted >= OFFLINE_AFTER_MS ? 'offline'
    : state === 'connecting' && openStreams === 0 && lasted >= IDLE_AFTER_MS ? 'idle'
    : state;
  const text = explain(shown, transport, openStreams, since);
  return (
    <span
      className={`connection connection-${shown}`}
      data-testid="connection"
      data-state={state}
      data-shown={shown}
      data-open-streams={openStreams}
      title={text}
      role="status"
      aria-live="polite"
      aria-label={`${LABELS[shown]}. ${text}`}
    >
      <span className="dot" aria-hidden="true" />
      {LABELS[shown]}
      {shown === 'offline' && <span className="connection-retry">retrying</span>}
      <span className="transport">{transport.toUpperCase()}</span>
    </span>
  );
}

import { useConnection } from '../lib/useConnection.js';
import { useCortex } from '../lib/cortex-context.js';

const LABELS = { connecting: 'Connecting…', live: 'Live', reconnecting: 'Reconnecting…' } as const;

export function ConnectionIndicator() {
  const { transport } = useCortex();
  const { state, openStreams } = useConnection();
  return (
    <span
      className={`connection connection-${state}`}
      data-testid="connection"
      data-state={state}
      data-open-streams={openStreams}
      title={transport === 'ipc' ? 'Connected over Electron IPC' : `${openStreams} event stream(s) open`}
      role="status"
    >
      <span className="dot" aria-hidden="true" />
      {LABELS[state]}
      <span className="transport">{transport.toUpperCase()}</span>
    </span>
  );
}

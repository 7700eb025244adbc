import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { ProblemText } from '../../components/ProblemText.js';
import { useCortex } from '../../lib/cortex-context.js';
import { formatTime } from '../../lib/format.js';
import { Card, CopyButton } from '../overview/ui.js';
import { TopicEcho } from './TopicEcho.js';

interface Topic {
  name: string;
  address: string;
  messageType: string;
  fingerprint: string;
  publisherNode: string;
  rate: number | null;
  lastMessageAt: string | null;
}

interface TopicList {
  enabled: boolean;
  endpoint: string | null;
  items: Topic[];
}

const topicsKey = ['topics'] as const;

/** Shell-safe single quoting for a topic name in a copied command. */
const quote = (s: string): string => (/^[A-Za-z0-9_./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

/** `#/topics`: the ZeroMQ data plane's topics with their message rates, and one topic's live echo. */
export function TopicsView() {
  const { client } = useCortex();
  const topics = useQuery({ queryKey: topicsKey, queryFn: () => client.request<TopicList>('GET', '/api/topics'), staleTime: Infinity });
  const [selected, setSelected] = useState<string | null>(null);
  /** The topic being echoed live (one at a time). */
  const [echoing, setEchoing] = useState<string | null>(null);
  const data = topics.data;
  const current = data?.items.find((t) => t.name === selected) ?? null;
  const toggleEcho = (name: string) => {
    setSelected(name);
    setEchoing((e) => (e === name ? null : name));
  };

  return (
    <div className="admin-view topics" data-testid="topics" data-state={topics.isPending ? 'loading' : topics.error ? 'error' : data?.enabled ? 'on' : 'off'}>
      <header>
        <h2>Topics</h2>
        <p className="muted">The ZeroMQ data plane: typed pub/sub topics other processes publish (audio frames, arrays, events).</p>
      </header>
      <ProblemText error={topics.error} prefix="Could not list topics" />
      {data && !data.enabled && (
        <p className="banner banner-warn" data-testid="bus-off">
          The ZeroMQ data plane is off on this server (no <span className="mono">busEndpoint</span>; <span className="mono">CORTEX_BUS_ENDPOINT=off</span>), so there are no
          topics to show. Sessions with the <span className="mono">zmq</span> adapter cannot get a bot until it is on.
        </p>
      )}
      {data?.enabled && (
        <Card
          id="topic-list"
          title={`Topics at ${data.endpoint ?? ''}`}
          count={data.items.length}
          actions={
            <button type="button" className="secondary small" onClick={() => void topics.refetch()} disabled={topics.isFetching}>
              {topics.isFetching ? 'Refreshing…' : 'Refresh rates'}
            </button>
          }
        >
          <p className="note">Rates are messages per second over the last 5 s, measured once someone looks: refresh to read them again.</p>
          {data.items.length === 0 ? (
            <p className="empty">No topic is registered.</p>
          ) : (
            <table className="table" data-testid="topic-table">
              <thead>
                <tr>
                  <th scope="col">Topic</th>
                  <th scope="col">Type</th>
                  <th scope="col">Publisher</th>
                  <th scope="col" className="num">Rate (msg/s)</th>
                  <th scope="col">Last message</th>
                  <th scope="col"><span className="visually-hidden">Live echo</span></th>
                </tr>
              </thead>
              <tbody>
                {data.items.map((t) => (
                  <tr key={t.name} aria-selected={t.name === selected} data-testid="topic-row">
                    <td className="mono">
                      <button type="button" className="link" onClick={() => setSelected(t.name)} aria-pressed={t.name === selected}>
                        {t.name}
                      </button>
                    </td>
                    <td className="mono" title={`fingerprint ${t.fingerprint}`}>{t.messageType}</td>
                    <td className="mono">{t.publisherNode}</td>
                    <td className="num">{t.rate === null ? <span className="muted">measuring</span> : t.rate.toFixed(1)}</td>
                    <td>{t.lastMessageAt ? formatTime(t.lastMessageAt) : <span className="muted">none yet</span>}</td>
                    <td>
                      <button
                        type="button"
                        className="secondary small"
                        onClick={() => toggleEcho(t.name)}
                        aria-pressed={t.name === echoing}
                        aria-label={`${t.name === echoing ? 'Stop echo of' : 'Echo'} ${t.name}`}
                        data-testid="echo-toggle"
                      >
                        {t.name === echoing ? 'Stop echo' : 'Echo'}
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </Card>
      )}
      <Card id="echo" title={echoing ? `Echo ${echoing}` : current ? `Echo ${current.name}` : 'Echo a topic'}>
        {data?.enabled && echoing ? (
          <TopicEcho key={echoing} topic={echoing} />
        ) : data?.enabled ? (
          <p>Press <strong>Echo</strong> on a topic to watch its messages live here (at most 20 per second; byte and audio arrays are shown as their size and first bytes).</p>
        ) : null}
        <p>
          From a shell on a machine that reaches the data plane:
        </p>
        <div className="snippet-row">
          <pre className="snippet" data-testid="echo-command">{`cortex topic echo ${current ? quote(current.name) : '<topic>'}${data?.endpoint ? ` --endpoint ${data.endpoint}` : ''}`}</pre>
          {current && <CopyButton text={`cortex topic echo ${quote(current.name)}${data?.endpoint ? ` --endpoint ${data.endpoint}` : ''}`} />}
        </div>
        <p className="note">
          {current ? 'Also: ' : 'Pick a topic above for its command. Also: '}
          <span className="mono">cortex topic hz</span> (rate), <span className="mono">cortex topic info</span>, <span className="mono">cortex topic list</span>.
        </p>
      </Card>
    </div>
  );
}

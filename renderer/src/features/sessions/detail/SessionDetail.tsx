import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { DomainEvent } from '../../../../../common/events.js';
import type { Sanction, Session } from '../../../../../common/schemas.js';
import { ProblemText } from '../../../components/ProblemText.js';
import type { BotView } from '../../../lib/bot.js';
import { applyBotStatus } from './botStatus.js';
import { useCortex } from '../../../lib/cortex-context.js';
import { formatDateTime, formatTime } from '../../../lib/format.js';
import { useProject } from '../../../lib/project.js';
import { href } from '../../../lib/router.js';
import { useEvents } from '../../../lib/useEvents.js';
import { applySessionEvent, sessionsQueryKey, type SessionPage } from '../sessionsCache.js';
import { ActivityChart, ParticipantsPanel, SummaryPanel, type SessionParticipant } from './panels.js';
import { Transcript } from './Transcript.js';
import type { TranscriptMessage } from './transcriptModel.js';
import { useTranscript } from './useTranscript.js';
import '../sessions.css';

/** Everything the detail view follows, on one stream (a browser allows only a few per origin). */
const TYPES = ['message.*', 'session.*', 'participant.*', 'sanction.*', 'bot.status.changed'];

/** The evidence clip being played: fetched with the key, played from a blob: URL. */
function AudioPlayer({ clip, onClose, onPlaying }: { clip: { message: TranscriptMessage; speaker: string; url: string } | null; onClose: () => void; onPlaying: (playing: boolean) => void }) {
  const audio = useRef<HTMLAudioElement>(null);
  useEffect(() => {
    if (clip) void audio.current?.play().catch(() => undefined);
  }, [clip]);
  if (!clip) return null;
  return (
    <div className="sx-player" data-testid="audio-player" role="region" aria-label="Evidence audio">
      <span className="sx-player-label">
        <strong>{clip.speaker}</strong> <span className="muted">{formatTime(clip.message.timestamp)}</span>
        <span className="sx-player-text">{clip.message.content}</span>
      </span>
      <audio
        ref={audio}
        src={clip.url}
        controls
        data-testid="evidence-audio"
        onPlay={() => onPlaying(true)}
        onPause={() => onPlaying(false)}
        onEnded={() => onPlaying(false)}
      />
      <button type="button" className="link" onClick={onClose} aria-label="Close the player">
        Close
      </button>
    </div>
  );
}

export function SessionDetail({ sessionId }: { sessionId: string }) {
  const { client } = useCortex();
  const { base, projectId } = useProject();
  const queryClient = useQueryClient();
  const sessionPath = `${base}/sessions/${encodeURIComponent(sessionId)}`;
  const keys = useMemo(() => {
    const root = ['projects', projectId, 'session-detail', sessionId] as const;
    return { session: [...root, 'session'], participants: [...root, 'participants'], bot: [...root, 'bot'], sanctions: [...root, 'sanctions'] };
  }, [projectId, sessionId]);

  // The stream starts from the log position before anything is read, so nothing is missed.
  const [since, setSince] = useState<number | null>(null);
  const [sinceError, setSinceError] = useState<unknown>(null);
  useEffect(() => {
    let cancelled = false;
    setSince(null);
    client.request<{ lastSeq: number }>('GET', '/api/health').then(
      (h) => !cancelled && setSince(h.lastSeq),
      (err: unknown) => !cancelled && setSinceError(err),
    );
    return () => {
      cancelled = true;
    };
  }, [client, sessionId]);
  const ready = since !== null;

  const session = useQuery({
    queryKey: keys.session,
    queryFn: () => client.request<Session>('GET', sessionPath),
    enabled: ready,
    staleTime: Infinity,
    refetchOnMount: 'always',
  });
  const participants = useQuery({
    queryKey: keys.participants,
    queryFn: () => client.request<{ items: SessionParticipant[] }>('GET', `${sessionPath}/participants`).then((r) => r.items),
    enabled: ready,
    staleTime: Infinity,
    refetchOnMount: 'always',
  });
  const participantIds = useMemo(() => (participants.data ?? []).map((p) => p.id).sort(), [participants.data]);
  const sanctionsKey = useMemo(() => [...keys.sanctions, participantIds.join(',')], [keys.sanctions, participantIds]);
  const sanctions = useQuery({
    queryKey: sanctionsKey,
    queryFn: async () => {
      const pages = await Promise.all(
        participantIds.map((id) =>
          client.request<{ items: Sanction[] }>('GET', `${base}/participants/${encodeURIComponent(id)}/sanctions?active=true&limit=100`).then((r) => [id, r.items] as const),
        ),
      );
      return new Map(pages);
    },
    enabled: ready && participants.isSuccess,
    staleTime: Infinity,
    refetchOnMount: 'always',
  });
  const hasBot = Boolean(session.data?.adapter);
  const bot = useQuery({
    queryKey: keys.bot,
    queryFn: () => client.request<BotView>('GET', `${sessionPath}/bot`),
    enabled: ready && hasBot,
    staleTime: Infinity,
    refetchOnMount: 'always',
  });
  const transcript = useTranscript(base, sessionId, ready);
  const [deleted, setDeleted] = useState(false);

  const onEvent = useCallback(
    (e: DomainEvent) => {
      const data = e.payload.data;
      if (e.type.startsWith('message.')) {
        transcript.push(e);
        // A transcribed utterance changes the bot's per-speaker state (last utterance, queue).
        if (hasBot && e.type === 'message.created' && e.source === 'bot' && data.sessionId === sessionId) void queryClient.invalidateQueries({ queryKey: keys.bot });
        return;
      }
      if (e.type.startsWith('session.')) {
        const list = queryClient.getQueryData<SessionPage>(sessionsQueryKey);
        const next = list && applySessionEvent(list, e);
        if (next) queryClient.setQueryData(sessionsQueryKey, next);
        if (data.id !== sessionId || e.type === 'session.annotation.created' || e.type === 'session.summary.requested') return;
        if (e.type === 'session.deleted') setDeleted(true);
        else queryClient.setQueryData(keys.session, data as unknown as Session);
        return;
      }
      if (e.type.startsWith('participant.')) {
        const mine = data.sessionId === sessionId || participantIds.includes(String(data.id));
        if (mine) void queryClient.invalidateQueries({ queryKey: keys.participants });
        return;
      }
      if (e.type.startsWith('sanction.')) {
        const s = data as unknown as Sanction;
        if (!s.participantId || !participantIds.includes(s.participantId)) return;
        queryClient.setQueryData<Map<string, Sanction[]>>(sanctionsKey, (map) => {
          if (!map) return map;
          const next = new Map(map);
          const others = (next.get(s.participantId!) ?? []).filter((x) => x.id !== s.id);
          next.set(s.participantId!, s.status === 'active' && e.type === 'sanction.created' ? [...others, s] : others);
          return next;
        });
        return;
      }
      if (e.type === 'bot.status.changed' && data.sessionId === sessionId) {
        // Who speaks now: patched from the event; the bot's own state changes refetch the view.
        const view = queryClient.getQueryData<BotView>(keys.bot);
        const next = view && applyBotStatus(view, e);
        if (next) queryClient.setQueryData(keys.bot, next);
        else void queryClient.invalidateQueries({ queryKey: keys.bot });
      }
    },
    [transcript, hasBot, sessionId, queryClient, keys, participantIds, sanctionsKey],
  );
  useEvents(since === null ? null : { projectId, types: TYPES, since }, onEvent);

  // ---- evidence audio ----
  const [clip, setClip] = useState<{ message: TranscriptMessage; speaker: string; url: string } | null>(null);
  const [audioError, setAudioError] = useState<{ id: string; error: unknown } | null>(null);
  const [loadingAudio, setLoadingAudio] = useState<string | null>(null);
  const [playing, setPlaying] = useState(false);
  useEffect(() => () => void (clip && URL.revokeObjectURL(clip.url)), [clip]);

  const names = useMemo(() => new Map((participants.data ?? []).map((p) => [p.id, p.displayName ?? p.externalUserId])), [participants.data]);
  const speakerName = useCallback(
    (m: TranscriptMessage) => (m.type === 'system' ? 'System' : (m.senderName ?? (m.participantId ? names.get(m.participantId) : undefined) ?? 'Unknown speaker')),
    [names],
  );
  const play = useCallback(
    (m: TranscriptMessage) => {
      setAudioError(null);
      setLoadingAudio(m.id);
      client.requestBinary(`${sessionPath}/messages/${encodeURIComponent(m.id)}/audio`).then(
        (res) => {
          setLoadingAudio(null);
          const url = URL.createObjectURL(new Blob([res.bytes], { type: res.contentType || 'audio/wav' }));
          setClip({ message: m, speaker: speakerName(m), url });
        },
        (error: unknown) => {
          setLoadingAudio(null);
          setAudioError({ id: m.id, error });
        },
      );
    },
    [client, sessionPath, speakerName],
  );

  const items = transcript.state.items;
  const lastSpoke = useMemo(() => {
    const map = new Map<string, string>();
    for (const m of items) if (m.participantId && (map.get(m.participantId) ?? '') < m.timestamp) map.set(m.participantId, m.timestamp);
    return map;
  }, [items]);
  const flaggedCount = useMemo(() => items.reduce((n, m) => n + (m.annotations.length > 0 ? 1 : 0), 0), [items]);

  const s = session.data;
  if (session.error || sinceError) {
    return (
      <section className="pane session-detail-error">
        <header className="pane-header">
          <a href={href('/sessions')}>← Sessions</a>
        </header>
        <ProblemText error={session.error ?? sinceError} prefix="Could not open the session" />
      </section>
    );
  }

  return (
    <div className="sx-session-detail" data-testid="session-detail" data-session-id={sessionId}>
      <header className="sx-detail-header">
        <a className="sx-back" href={href('/sessions')} data-testid="back-to-sessions">
          ← Sessions
        </a>
        <h2 className={s?.title ? '' : 'muted'} data-testid="detail-title">
          {s ? (s.title ?? '(untitled)') : 'Loading…'}
        </h2>
        {s && (
          <span className={`badge badge-${s.status}`} data-testid="detail-status">
            {s.status}
          </span>
        )}
        {deleted && <span className="badge sx-badge-deleted">deleted</span>}
        <span className="sx-detail-facts muted">
          {s && <>started {formatDateTime(s.startedAt ?? s.createdAt)}</>}
          {s?.endedAt && <> · ended {formatDateTime(s.endedAt)}</>}
          {' · '}
          <span data-testid="message-count">{items.length.toLocaleString()} messages</span>
          {' · '}
          <span data-testid="flagged-count" className={flaggedCount ? 'sx-flag-count' : ''}>
            {flaggedCount.toLocaleString()} flagged
          </span>
        </span>
      </header>
      <div className="sx-detail-body">
        <section className="pane sx-transcript-pane" aria-label="Transcript">
          {!transcript.done && !transcript.error && (
            <div className="sx-progress" role="status" data-testid="transcript-progress">
              Loading transcript… {transcript.loaded.toLocaleString()} messages
            </div>
          )}
          {transcript.error !== null && (
            <div className="sx-progress">
              <ProblemText error={transcript.error} prefix="Could not load the transcript" />
              <button type="button" className="sx-small-button" onClick={transcript.retry}>
                Retry
              </button>
            </div>
          )}
          <Transcript items={items} speakerName={speakerName} loading={!transcript.done} playingId={loadingAudio ?? (playing ? (clip?.message.id ?? null) : null)} onPlay={play} />
          {audioError && <ProblemText error={audioError.error} prefix="Could not play the audio" />}
          <AudioPlayer
            clip={clip}
            onPlaying={setPlaying}
            onClose={() => {
              setPlaying(false);
              setClip(null);
            }}
          />
        </section>
        <aside className="pane sx-side" aria-label="Session details">
          <ActivityChart items={items} />
          <ParticipantsPanel
            participants={participants.data}
            error={participants.error}
            sanctions={sanctions.data}
            sanctionsError={sanctions.error}
            bot={bot.data}
            lastSpoke={lastSpoke}
          />
          {s && <SummaryPanel session={s} base={base} />}
        </aside>
      </div>
    </div>
  );
}

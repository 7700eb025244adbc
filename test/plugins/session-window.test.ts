/**
 * The worker's memory of recent messages must never answer differently from the database: every
 * answer it gives is compared with a brute-force query over the full history (what the main
 * thread's SQL returns), across seeds that start mid-session, trimming and eviction.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Message } from '../../common/schemas.js';
import type { RecentMessagesQuery } from '../../main/plugins/api.js';
import { SEED_LIMIT, SessionWindows } from '../../main/plugins/session-window.js';
import { uuidv7 } from '../../main/store/ids.js';
import { windowFloorId } from '../../main/domain/messages.js';

function history(n: number, speakers: number, startMs: number, stepMs: number, session = 's1'): Message[] {
  return Array.from({ length: n }, (_, i) => ({
    id: uuidv7(startMs + i * stepMs),
    sessionId: session,
    participantId: `p${(i * 7) % speakers}`,
    type: 'user' as const,
    senderName: null,
    content: `m${i}`,
    timestamp: new Date(startMs + i * stepMs).toISOString(),
    language: null,
    hasDebugAudio: false,
  }));
}

/** What the main thread's query (messages.recent) returns. */
function truth(all: Message[], upToId: string, q: RecentMessagesQuery): Message[] {
  const anchor = all.find((m) => m.id === upToId)!;
  const since = q.sinceSeconds !== undefined ? Date.parse(anchor.timestamp) - q.sinceSeconds * 1000 : undefined;
  const floor = since !== undefined ? windowFloorId(since) : '';
  const limit = Math.min(500, q.limit ?? 50);
  return all
    .filter((m) => m.id <= upToId && m.id >= floor && (q.participantId === undefined || m.participantId === q.participantId) && (since === undefined || Date.parse(m.timestamp) >= since))
    .slice(-limit);
}

const QUERIES: RecentMessagesQuery[] = [
  {}, { limit: 500 }, { limit: 3 }, { participantId: 'p3', sinceSeconds: 10, limit: 500 }, { participantId: 'p1', limit: 20 },
  { sinceSeconds: 60, limit: 500 }, { participantId: 'p0', sinceSeconds: 600, limit: 500 }, { sinceSeconds: 5 },
];

test('answers match the database, or the worker asks the main thread', () => {
  for (const [label, perSession, startAt] of [['seeded at the start', 20_000, 0], ['seeded mid-session', 20_000, 800], ['trimmed', 300, 0], ['seeded mid-session and trimmed', 300, 900]] as const) {
    const all = history(3_000, 13, Date.UTC(2026, 0, 1), 250);
    const w = new SessionWindows(perSession, 50_000);
    w.seed('s1', all.slice(Math.max(0, startAt + 1 - SEED_LIMIT), startAt + 1), SEED_LIMIT);
    let answered = 0;
    let asked = 0;
    for (let i = startAt + 1; i < all.length; i++) {
      w.observe(all[i]!);
      if (i % 37 !== 0) continue;
      for (const q of QUERIES) {
        const got = w.answer('s1', all[i]!.id, q);
        if (got === undefined) {
          asked++;
          continue;
        }
        answered++;
        assert.deepEqual(got.map((m) => m.content), truth(all, all[i]!.id, q).map((m) => m.content), `${label}: message ${i}, ${JSON.stringify(q)}`);
      }
    }
    assert.ok(answered > 0, `${label}: memory answered some queries`);
    if (label === 'seeded at the start') assert.equal(asked, 0, 'with the whole session in memory nothing needs the main thread');
  }
});

test('a message the worker has not seen, or a forgotten session, goes to the main thread', () => {
  const all = history(10, 3, Date.UTC(2026, 0, 1), 1000);
  const w = new SessionWindows(100, 15);
  w.seed('s1', all.slice(0, 5), SEED_LIMIT);
  assert.equal(w.answer('s1', all[7]!.id, {}), undefined, 'not yet observed');
  assert.deepEqual(w.answer('s1', all[4]!.id, { limit: 2 })!.map((m) => m.content), ['m3', 'm4']);
  w.seed('s2', history(10, 3, Date.UTC(2026, 0, 1), 1000, 's2'), SEED_LIMIT);
  for (const m of history(10, 3, Date.UTC(2026, 0, 2), 1000, 's2')) w.observe(m);
  assert.equal(w.has('s1'), false, 'least recently used session evicted over the overall cap');
  assert.equal(w.answer('s1', all[4]!.id, {}), undefined);
});

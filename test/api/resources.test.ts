/**
 * Happy paths of every resource and the domain events each change writes to the log
 * (read back through `GET /api/events?since=N`).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { DomainEvent } from '../../common/events.js';
import { assertProblem, eventsSince, lastSeq, P, startServer, type J, type Server } from './helpers.js';

let s: Server;
before(async () => {
  s = await startServer();
});
after(() => s.close());

/** Runs `fn` and returns the events it wrote, asserting their types in order. */
async function emits(types: string[], fn: () => Promise<unknown>): Promise<DomainEvent[]> {
  const seq = await lastSeq(s.api);
  await fn();
  const events = await eventsSince(s.api, seq);
  assert.deepEqual(events.map((e) => e.type), types);
  for (const e of events) {
    assert.equal(e.tenantId, 'local');
    assert.equal(e.projectId, 'default');
    assert.equal(e.source, 'api');
    assert.ok(e.seq > seq);
  }
  return events;
}

/** Asserts a 2xx: 201 for POSTs that create, 200 otherwise (actions, joins). */
async function ok(method: string, path: string, body?: unknown, status = method === 'POST' && !/\/(start|stop|revoke)$/.test(path) ? 201 : 200): Promise<J> {
  const r = await s.api(method, path, { body });
  assert.equal(r.status, status, `${method} ${path}: ${r.text}`);
  return r.json;
}

describe('sessions', () => {
  test('create (not started), start, stop: status, times and session.* events', async () => {
    let sess: J;
    const [created] = await emits(['session.created'], async () => {
      sess = await ok('POST', `${P}/sessions`, { title: 'Room 1', externalRoomId: 'r1', gateway: 'discord', idleTimeout: 600, start: false });
    });
    assert.equal(sess.status, 'active');
    assert.equal(sess.startedAt, null);
    assert.equal(sess.createdByUserId, 'key:console');
    assert.equal(created!.resourceId, `session:${sess.id}`);
    assert.equal(created!.payload.action, 'created');
    assert.deepEqual(created!.payload.data, sess);

    const [started] = await emits(['session.started'], async () => {
      const r = await ok('POST', `${P}/sessions/${sess.id}/start`);
      assert.ok(r.startedAt);
      assert.equal(r.status, 'active');
    });
    assert.equal(started!.payload.changes?.startedAt, null, 'changes carry the old value');
    // Starting a running session changes nothing.
    await emits([], () => ok('POST', `${P}/sessions/${sess.id}/start`));

    const [ended] = await emits(['session.ended'], async () => {
      const r = await ok('POST', `${P}/sessions/${sess.id}/stop`);
      assert.equal(r.status, 'ended');
      assert.ok(r.endedAt);
    });
    assert.equal(ended!.payload.data.status, 'ended');
    assert.equal(ended!.payload.data.endReason, 'stopped');
    assert.deepEqual(ended!.payload.changes, { status: 'active', endedAt: null });
    await emits([], () => ok('POST', `${P}/sessions/${sess.id}/stop`));
    assert.equal((await ok('GET', `${P}/sessions/${sess.id}`)).status, 'ended');
    assert.ok((await ok('GET', `${P}/sessions?status=ended`)).items.some((x: J) => x.id === sess.id));

    // Restarting an ended session.
    const restarted = await ok('POST', `${P}/sessions/${sess.id}/start`);
    assert.equal(restarted.status, 'active');
    assert.equal(restarted.endedAt, null);
  });

  test('create starts by default: session.created then session.started', async () => {
    let sess: J;
    await emits(['session.created', 'session.started'], async () => {
      sess = await ok('POST', `${P}/sessions`, {});
    });
    assert.ok(sess.startedAt);
    assert.equal(sess.title, null);
  });

  test('update emits session.updated with the OLD values in changes; a no-op writes nothing', async () => {
    const sess = await ok('POST', `${P}/sessions`, { title: 'old title', summary: 'old summary', gateway: 'g' });
    let updated: J;
    const [e] = await emits(['session.updated'], async () => {
      updated = await ok('PATCH', `${P}/sessions/${sess.id}`, { title: 'new title', summary: null, gateway: 'g' });
    });
    assert.equal(updated.title, 'new title');
    assert.equal(updated.summary, null);
    assert.deepEqual(e!.payload.changes, { title: 'old title', summary: 'old summary' }, 'only changed fields, old values');
    assert.equal(e!.payload.data.title, 'new title');
    assert.equal(e!.payload.action, 'updated');
    assert.equal((await ok('GET', `${P}/sessions/${sess.id}`)).title, 'new title');
    await emits([], () => ok('PATCH', `${P}/sessions/${sess.id}`, { title: 'new title' }));
  });

  test('delete: 204, session.deleted, then 404 for it and its messages', async () => {
    const sess = await ok('POST', `${P}/sessions`, {});
    const m = await ok('POST', `${P}/sessions/${sess.id}/messages`, { content: 'bye' });
    const [e] = await emits(['session.deleted'], async () => {
      const r = await s.api('DELETE', `${P}/sessions/${sess.id}`);
      assert.equal(r.status, 204);
      assert.equal(r.text, '');
    });
    assert.equal(e!.payload.data.id, sess.id);
    assertProblem(await s.api('GET', `${P}/sessions/${sess.id}`), 404, 'params/sessionId');
    assertProblem(await s.api('GET', `${P}/sessions/${sess.id}/messages/${m.id}`), 404);
    assertProblem(await s.api('GET', `${P}/sessions/${sess.id}/messages`), 404, 'params/sessionId');
    assertProblem(await s.api('DELETE', `${P}/sessions/${sess.id}`), 404);
  });
});

describe('messages, participants, annotations', () => {
  let sid: string;
  before(async () => {
    sid = (await ok('POST', `${P}/sessions`, { title: 'chat' })).id;
  });

  test('a message with externalUserId creates the participant: participant.created, participant.joined, message.created', async () => {
    let m: J;
    const events = await emits(['participant.created', 'participant.joined', 'message.created'], async () => {
      m = await ok('POST', `${P}/sessions/${sid}/messages`, { content: 'hello', externalUserId: 'alice', senderName: 'Alice', language: 'en' });
    });
    assert.equal(m.type, 'user');
    assert.equal(m.senderName, 'Alice');
    assert.equal(m.language, 'en');
    assert.equal(m.hasDebugAudio, false);
    assert.ok(m.participantId);
    const p = events[0]!.payload.data;
    assert.equal(p.id, m.participantId);
    assert.equal(p.externalUserId, 'alice');
    assert.equal(p.displayName, 'Alice');
    assert.equal(events[1]!.payload.data.sessionId, sid);
    assert.deepEqual(events[2]!.payload.data, m);
    assert.equal(events[2]!.resourceId, `message:${m.id}`);
    // The participant is known to the project and present in the session.
    assert.equal((await ok('GET', `${P}/participants/${m.participantId}`)).externalUserId, 'alice');
    const present = (await ok('GET', `${P}/sessions/${sid}/participants`)).items;
    assert.deepEqual(present.map((x: J) => [x.id, x.leftAt]), [[m.participantId, null]]);
    // A second message from alice reuses her and does not re-join.
    const m2events = await emits(['message.created'], () => ok('POST', `${P}/sessions/${sid}/messages`, { content: 'again', externalUserId: 'alice' }));
    assert.equal(m2events[0]!.payload.data.participantId, m.participantId);
    assert.equal(m2events[0]!.payload.data.senderName, 'Alice', 'falls back to the participant\'s display name');
  });

  test('a system message has senderName [System] and no participant', async () => {
    const m = await ok('POST', `${P}/sessions/${sid}/messages`, { content: 'Recording started', type: 'system', senderName: 'spoof' });
    assert.equal(m.type, 'system');
    assert.equal(m.senderName, '[System]');
    assert.equal(m.participantId, null);
  });

  test('message update and delete: message.updated (old content in changes), message.deleted', async () => {
    const m = await ok('POST', `${P}/sessions/${sid}/messages`, { content: 'typo', timestamp: '2025-01-01T00:00:00.000Z' });
    assert.equal(m.timestamp, '2025-01-01T00:00:00.000Z');
    const [u] = await emits(['message.updated'], async () => {
      const r = await ok('PATCH', `${P}/sessions/${sid}/messages/${m.id}`, { content: 'fixed', language: 'de' });
      assert.equal(r.content, 'fixed');
      assert.equal(r.language, 'de');
    });
    assert.deepEqual(u!.payload.changes, { content: 'typo', language: null });
    assert.equal((await ok('GET', `${P}/sessions/${sid}/messages/${m.id}`)).content, 'fixed');
    const [d] = await emits(['message.deleted'], async () => {
      assert.equal((await s.api('DELETE', `${P}/sessions/${sid}/messages/${m.id}`)).status, 204);
    });
    assert.equal(d!.payload.data.id, m.id);
    assertProblem(await s.api('GET', `${P}/sessions/${sid}/messages/${m.id}`), 404, 'params/messageId');
  });

  test('posting to an ended session → 409; nothing is written', async () => {
    const ended = (await ok('POST', `${P}/sessions`, {})).id;
    await ok('POST', `${P}/sessions/${ended}/stop`);
    await emits([], async () => {
      assertProblem(await s.api('POST', `${P}/sessions/${ended}/messages`, { body: { content: 'late', externalUserId: 'late-user' } }), 409, 'params/sessionId');
      assertProblem(await s.api('POST', `${P}/sessions/${ended}/participants`, { body: { externalUserId: 'late-user' } }), 409);
    });
    assert.equal((await ok('GET', `${P}/sessions/${ended}/messages`)).items.length, 0);
  });

  test('annotations on a message and on a session: message.annotation.created / session.annotation.created', async () => {
    const m = await ok('POST', `${P}/sessions/${sid}/messages`, { content: 'you are bad' });
    let a: J;
    const [ma] = await emits(['message.annotation.created'], async () => {
      a = await ok('POST', `${P}/sessions/${sid}/messages/${m.id}/annotations`, { type: 'toxicity', score: 0.93, severity: 'high', content: { categories: ['insult'] } });
    });
    assert.equal(a.messageId, m.id);
    assert.equal(a.sessionId, sid);
    assert.equal(a.targetType, 'message');
    assert.equal(a.targetId, m.id);
    assert.equal(a.pluginId, null, 'added through the API, not by a plugin');
    assert.equal(a.score, 0.93);
    assert.equal(a.severity, 'high');
    assert.deepEqual(a.content, { categories: ['insult'] });
    assert.equal(ma!.resourceId, `message:${m.id}`);
    assert.deepEqual(ma!.payload.data, a);
    let sa: J;
    const [se] = await emits(['session.annotation.created'], async () => {
      sa = await ok('POST', `${P}/sessions/${sid}/annotations`, { type: 'summary', content: { text: 'calm' } });
    });
    assert.equal(sa.messageId, null);
    assert.equal(sa.targetType, 'session');
    assert.equal(sa.targetId, sid);
    assert.equal(se!.resourceId, `session:${sid}`);
    assert.deepEqual((await ok('GET', `${P}/sessions/${sid}/messages/${m.id}/annotations`)).items.map((x: J) => x.id), [a.id]);
    assert.deepEqual((await ok('GET', `${P}/sessions/${sid}/annotations`)).items.map((x: J) => x.id), [sa.id], 'session annotations exclude message ones');
    assert.deepEqual((await ok('GET', `${P}/sessions/${sid}/messages/${m.id}`)).annotations.map((x: J) => x.id), [a.id], 'embedded in message reads');
    const filtered = await ok('GET', `${P}/sessions/${sid}/messages?annotated=toxicity&minScore=0.9`);
    assert.deepEqual(filtered.items.map((x: J) => x.id), [m.id]);
    assert.deepEqual(filtered.items[0].annotations.map((x: J) => x.id), [a.id]);
    assert.equal((await ok('GET', `${P}/sessions/${sid}/messages?annotated=toxicity&minScore=0.95`)).items.length, 0);
    assert.equal((await ok('GET', `${P}/sessions/${sid}/messages?annotated=pii`)).items.length, 0);
  });

  test('participants: create, get, update (participant.updated), join and leave a session', async () => {
    let p: J;
    await emits(['participant.created'], async () => {
      p = await ok('POST', `${P}/participants`, { externalUserId: 'bob', displayName: 'Bob', userData: { level: 3 } });
    });
    assertProblem(await s.api('POST', `${P}/participants`, { body: { externalUserId: 'bob' } }), 409, 'body/externalUserId');
    const [u] = await emits(['participant.updated'], () => ok('PATCH', `${P}/participants/${p.id}`, { displayName: 'Robert' }));
    assert.deepEqual(u!.payload.changes, { displayName: 'Bob' });
    assert.equal((await ok('GET', `${P}/participants/${p.id}`)).displayName, 'Robert');
    assert.ok((await ok('GET', `${P}/participants`)).items.some((x: J) => x.id === p.id));
    await emits(['participant.joined'], () => ok('POST', `${P}/sessions/${sid}/participants`, { participantId: p.id }, 200));
    await emits([], () => ok('POST', `${P}/sessions/${sid}/participants`, { participantId: p.id }, 200));
    const [left] = await emits(['participant.left'], async () => {
      assert.equal((await s.api('DELETE', `${P}/sessions/${sid}/participants/${p.id}`)).status, 204);
    });
    assert.equal(left!.payload.data.sessionId, sid);
    const row = (await ok('GET', `${P}/sessions/${sid}/participants`)).items.find((x: J) => x.id === p.id);
    assert.ok(row.leftAt);
    assertProblem(await s.api('DELETE', `${P}/sessions/${sid}/participants/${p.id}`), 404, 'params/participantId');
    // Rejoining clears leftAt.
    await emits(['participant.joined'], () => ok('POST', `${P}/sessions/${sid}/participants`, { participantId: p.id }, 200));
    assert.equal((await ok('GET', `${P}/sessions/${sid}/participants`)).items.find((x: J) => x.id === p.id).leftAt, null);
  });
});

describe('sanctions', () => {
  test('create, get, list, revoke (revoke twice → 409)', async () => {
    let sn: J;
    const [created] = await emits(['participant.created', 'sanction.created'], async () => {
      sn = await ok('POST', `${P}/sanctions`, { type: 'mute', externalUserId: 'carol', durationSeconds: 600, reason: 'spam', metadata: { ticket: 7 } });
    }).then((es) => es.slice(1));
    assert.equal(sn.status, 'active');
    assert.equal(sn.scope, 'project');
    assert.equal(sn.createdByUserId, 'key:console');
    assert.equal(Date.parse(sn.endAt) - Date.parse(sn.startAt), 600_000);
    assert.deepEqual(sn.metadata, { ticket: 7 });
    assert.equal(created!.resourceId, `sanction:${sn.id}`);
    assert.deepEqual(created!.payload.data, sn);
    assert.deepEqual(await ok('GET', `${P}/sanctions/${sn.id}`), sn);
    assert.ok((await ok('GET', `${P}/sanctions?externalUserId=carol`)).items.some((x: J) => x.id === sn.id));

    const [revoked] = await emits(['sanction.revoked'], async () => {
      const r = await ok('POST', `${P}/sanctions/${sn.id}/revoke`, { revokedByUserId: 'mod-1' }, 200);
      assert.equal(r.status, 'revoked');
      assert.equal(r.revokedByUserId, 'mod-1');
      assert.ok(r.revokedAt);
    });
    assert.equal(revoked!.payload.changes?.status, 'active');
    await emits([], async () => {
      const again = await s.api('POST', `${P}/sanctions/${sn.id}/revoke`, { body: {} });
      assertProblem(again, 409);
      assert.equal(again.json.code, 'conflict');
    });
    assert.equal((await ok('GET', `${P}/sanctions/${sn.id}`)).status, 'revoked');
  });

  test('sanction rules: temp_ban needs an end (400), perm_ban has none, endAt and durationSeconds exclude each other', async () => {
    await emits([], async () => {
      assertProblem(await s.api('POST', `${P}/sanctions`, { body: { type: 'temp_ban', externalUserId: 'dave' } }), 400, 'body/endAt');
      assertProblem(await s.api('POST', `${P}/sanctions`, { body: { type: 'perm_ban', externalUserId: 'dave', durationSeconds: 60 } }), 400, 'body/endAt');
      assertProblem(await s.api('POST', `${P}/sanctions`, { body: { type: 'mute', externalUserId: 'dave', durationSeconds: 60, endAt: '2099-01-01T00:00:00Z' } }), 400, 'body/durationSeconds');
    });
    const tb = await ok('POST', `${P}/sanctions`, { type: 'temp_ban', externalUserId: 'dave', endAt: '2099-01-01T00:00:00Z' });
    assert.equal(tb.endAt, '2099-01-01T00:00:00.000Z');
    const sid = (await ok('POST', `${P}/sessions`, {})).id;
    const pb = await ok('POST', `${P}/sanctions`, { type: 'perm_ban', participantId: tb.participantId, sessionId: sid });
    assert.equal(pb.endAt, null);
    assert.equal(pb.externalUserId, 'dave');
    assert.equal(pb.sessionId, sid);
  });

  test('a revoke without any body is accepted (the handler treats the body as optional)', async () => {
    const sn = await ok('POST', `${P}/sanctions`, { type: 'warn', externalUserId: 'nobody-body' });
    const r = await s.api('POST', `${P}/sanctions/${sn.id}/revoke`);
    assert.equal(r.status, 200, r.text);
  });
});

describe('gatherings', () => {
  test('CRUD with gathering.* events; update changes carry old values', async () => {
    let g: J;
    await emits(['gathering.created'], async () => {
      g = await ok('POST', `${P}/gatherings`, { name: 'Lobby', maxMembers: 4, properties: { mode: 'ranked' } });
    });
    assert.equal(g.type, 'lobby');
    assert.equal(g.status, 'active');
    assert.equal(g.memberCount, 0);
    assert.equal(g.listed, true);
    assert.equal(g.joinCode, null);
    assert.deepEqual(await ok('GET', `${P}/gatherings/${g.id}`), g);
    const [u] = await emits(['gathering.updated'], async () => {
      const r = await ok('PATCH', `${P}/gatherings/${g.id}`, { name: 'Lobby 2', listed: false });
      assert.equal(r.name, 'Lobby 2');
      assert.equal(r.listed, false);
    });
    assert.deepEqual(u!.payload.changes, { name: 'Lobby', listed: true });
    assert.ok((await ok('GET', `${P}/gatherings`)).items.some((x: J) => x.id === g.id));
    await emits(['gathering.deleted'], async () => {
      assert.equal((await s.api('DELETE', `${P}/gatherings/${g.id}`)).status, 204);
    });
    assertProblem(await s.api('GET', `${P}/gatherings/${g.id}`), 404, 'params/gatheringId');
  });

  test('members join, update and leave; memberCount follows; a full gathering → 409', async () => {
    const g = await ok('POST', `${P}/gatherings`, { name: 'Duo', maxMembers: 2, ownerId: 'owner-1' });
    assert.equal(g.memberCount, 1, 'the owner is a member');
    let m: J;
    const joined = await emits(['participant.created', 'gathering.member.joined'], async () => {
      m = await ok('POST', `${P}/gatherings/${g.id}/members`, { externalUserId: 'erin' });
    });
    assert.equal(m.state, 'joined');
    assert.equal(m.role, 'member');
    assert.ok(m.joinedAt);
    assert.equal(joined[1]!.resourceId, `gathering:${g.id}`);
    assert.equal((await ok('GET', `${P}/gatherings/${g.id}`)).memberCount, 2);
    // Full.
    await emits([], async () => {
      const full = await s.api('POST', `${P}/gatherings/${g.id}/members`, { body: { externalUserId: 'frank' } });
      assertProblem(full, 409);
      assert.match(full.json.detail, /full/);
    });
    assertProblem(await s.api('POST', `${P}/gatherings/${g.id}/members`, { body: { externalUserId: 'erin' } }), 409);
    // Update: ready keeps the count.
    const [upd] = await emits(['gathering.member.updated'], async () => {
      const r = await ok('PATCH', `${P}/gatherings/${g.id}/members/${m.id}`, { state: 'ready' });
      assert.equal(r.state, 'ready');
    });
    assert.deepEqual(upd!.payload.changes, { state: 'joined' });
    assert.equal((await ok('GET', `${P}/gatherings/${g.id}`)).memberCount, 2);
    // Leave frees a seat.
    const [left] = await emits(['gathering.member.left'], async () => {
      const r = await ok('DELETE', `${P}/gatherings/${g.id}/members/${m.id}`);
      assert.equal(r.state, 'left');
    });
    assert.equal(left!.payload.data.id, m.id);
    assert.equal((await ok('GET', `${P}/gatherings/${g.id}`)).memberCount, 1);
    const frank = await ok('POST', `${P}/gatherings/${g.id}/members`, { externalUserId: 'frank' });
    assert.equal((await ok('GET', `${P}/gatherings/${g.id}`)).memberCount, 2);
    // Rejoining while full is refused; after frank leaves, erin's old membership is reused.
    assertProblem(await s.api('POST', `${P}/gatherings/${g.id}/members`, { body: { externalUserId: 'erin' } }), 409);
    await ok('DELETE', `${P}/gatherings/${g.id}/members/${frank.id}`);
    const back = await ok('POST', `${P}/gatherings/${g.id}/members`, { externalUserId: 'erin' });
    assert.equal(back.id, m.id);
    assert.equal(back.state, 'joined');
    const members = (await ok('GET', `${P}/gatherings/${g.id}/members`)).items;
    assert.deepEqual(members.map((x: J) => [x.externalUserId, x.state]).sort(), [['erin', 'joined'], ['frank', 'left'], ['owner-1', 'joined']]);
    // Ended gatherings take no members.
    await ok('PATCH', `${P}/gatherings/${g.id}`, { status: 'ended' });
    assertProblem(await s.api('POST', `${P}/gatherings/${g.id}/members`, { body: { externalUserId: 'gina' } }), 409);
  });

  test('code-protected gatherings need the join code; autoStartSession starts a session', async () => {
    const g = await ok('POST', `${P}/gatherings`, { name: 'Secret', accessPolicy: 'code', autoStartSession: true });
    assert.match(g.joinCode, /^[0-9A-F]{8}$/);
    assertProblem(await s.api('POST', `${P}/gatherings/${g.id}/members`, { body: { externalUserId: 'h' } }), 400, 'body/joinCode');
    assertProblem(await s.api('POST', `${P}/gatherings/${g.id}/members`, { body: { externalUserId: 'h', joinCode: 'WRONG' } }), 400, 'body/joinCode');
    assert.equal((await ok('POST', `${P}/gatherings/${g.id}/members`, { externalUserId: 'h', joinCode: g.joinCode })).state, 'joined');
    assertProblem(await s.api('POST', `${P}/gatherings/${g.id}/members`, { body: { externalUserId: 'h', joinCode: g.joinCode } }), 409, 'body/externalUserId');
    const events = await emits(['session.created', 'session.started', 'gathering.updated'], async () => {
      const r = await ok('PATCH', `${P}/gatherings/${g.id}`, { status: 'started' });
      assert.ok(r.sessionId);
    });
    const started = (await ok('GET', `${P}/gatherings/${g.id}`)).sessionId;
    assert.equal(events[0]!.payload.data.id, started);
    assert.equal((await ok('GET', `${P}/sessions/${started}`)).title, 'Secret');
  });

  test('an invited member cannot bypass maxMembers by going straight to ready', async () => {
    const g = await ok('POST', `${P}/gatherings`, { name: 'Solo', maxMembers: 1 });
    await ok('POST', `${P}/gatherings/${g.id}/members`, { externalUserId: 'first' });
    const inv = await ok('POST', `${P}/gatherings/${g.id}/members`, { externalUserId: 'invitee', state: 'invited' });
    const r = await s.api('PATCH', `${P}/gatherings/${g.id}/members/${inv.id}`, { body: { state: 'ready' } });
    const after = await ok('GET', `${P}/gatherings/${g.id}`);
    assert.ok(after.memberCount <= 1, `memberCount ${after.memberCount} > maxMembers 1 (PATCH → ${r.status})`);
    assertProblem(r, 409);
  });

  test('gathering times with UTC offsets are compared as instants', async () => {
    const r = await s.api('POST', `${P}/gatherings`, { body: { name: 'tz', startsAt: '2030-06-01T12:00:00+02:00', endsAt: '2030-06-01T11:00:00Z' } });
    assert.equal(r.status, 201, r.text);
  });
});

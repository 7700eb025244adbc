/**
 * Sessions drive the transcription bot: with the real whisper.cpp engine and its empty test
 * model (real format, no weights: every transcript is blank, so no message may appear), the
 * file adapter, Silero VAD and espeak-ng speech.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { encodeWav, parseWav } from '../../main/bot/rooms/wav.js';
import { NO_MODEL } from '../../main/bot/manager.js';
import { espeakMissing, layout, speak, trim } from '../bot/audio/speech.js';
import { needsTestModel, TEST_MODEL } from '../support/shared-models.js';
import { assertProblem, eventsSince, lastSeq, P, startServer, type J, type Server } from './helpers.js';

const skip = needsTestModel || espeakMissing();
let s: Server;
before(async () => {
  s = await startServer();
});
after(() => s?.close());

const until = async <T>(fn: () => Promise<T | null>, what: string, ms = 60_000): Promise<T> => {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
};

test('adapter settings are checked when the session is created', async () => {
  assertProblem(await s.api('POST', `${P}/sessions`, { body: { adapter: 'zmq' } }), 400, 'body/externalRoomId');
  assertProblem(await s.api('POST', `${P}/sessions`, { body: { adapter: 'zmq', externalRoomId: 'a/b' } }), 400, 'body/externalRoomId');
  assertProblem(await s.api('POST', `${P}/sessions`, { body: { adapter: 'file' } }), 400, 'body/adapterConfig/peers');
  assertProblem(await s.api('POST', `${P}/sessions`, { body: { adapter: 'file', adapterConfig: { peers: [{ peerId: 'a' }] } } }), 400, 'body/adapterConfig/peers/0/path');
  assertProblem(await s.api('POST', `${P}/sessions`, { body: { adapter: 'file', adapterConfig: { peers: [{ peerId: 'a', path: '/x' }, { peerId: 'a', path: '/y' }] } } }), 400, 'body/adapterConfig/peers/1/peerId');
  assertProblem(await s.api('POST', `${P}/sessions`, { body: { adapter: 'odin', externalRoomId: 'r', adapterConfig: { accessKey: 'secret' } } }), 400, 'body/adapterConfig/accessKey');
  assertProblem(await s.api('POST', `${P}/sessions`, { body: { adapterConfig: { peers: [] } } }), 400, 'body/adapterConfig');
  assertProblem(await s.api('POST', `${P}/sessions`, { body: { adapter: 'skype' } }), 400, 'body/adapter');
  const plain = (await s.api('POST', `${P}/sessions`, { body: { title: 'no bot' } })).json;
  assert.equal(plain.adapter, null);
  assertProblem(await s.api('GET', `${P}/sessions/${plain.id}/bot`), 404, 'params/sessionId');
});

test('a session with an adapter sends the bot in: no model → error status; with a model → joins, listens, transcribes, leaves', { skip }, async () => {
  const voice = layout([trim(speak('good game everyone', 'en-us')), trim(speak('see you next round', 'en-us'))], [2000], 300, 2000);
  const wav = join(s.dataDir, 'ann.wav');
  writeFileSync(wav, encodeWav(voice.pcm.samples, voice.pcm.rate));
  const body = { title: 'bot', adapter: 'file', adapterConfig: { realtime: false, peers: [{ peerId: 'p1', userId: 'ann#7', displayName: 'Ann', path: wav }] } };

  // No model installed yet: a clear status, not a crash.
  const seq0 = await lastSeq(s.api);
  const first = (await s.api('POST', `${P}/sessions`, { body })).json;
  assert.equal(first.adapter, 'file');
  const err = await until(async () => {
    const v = (await s.api('GET', `${P}/sessions/${first.id}/bot`)).json;
    return v.state === 'error' ? v : null;
  }, 'error status');
  assert.equal(err.reason, NO_MODEL);
  const statusEvents = (await eventsSince(s.api, seq0)).filter((e) => e.type === 'bot.status.changed');
  assert.deepEqual(statusEvents.map((e) => e.payload.data.state), ['error']);

  // With whisper.cpp's test model (no weights: blank transcripts).
  assert.equal((await s.api('POST', '/api/models/import', { body: { path: TEST_MODEL, name: 'tiny.en' } })).status, 201);
  const seq1 = await lastSeq(s.api);
  const second = (await s.api('POST', `${P}/sessions`, { body })).json;
  const done = await until(async () => {
    const v = (await s.api('GET', `${P}/sessions/${second.id}/bot`)).json;
    return v.state === 'stopped' ? v : null;
  }, 'the bot to finish the file and leave');
  const botEvents = (await eventsSince(s.api, seq1)).filter((e) => e.type === 'bot.status.changed');
  // Speaking updates (change: 'speaking') may come in between; the bot's own states are these.
  const states = botEvents.filter((e) => e.payload.data.change === 'state').map((e) => e.payload.data.state);
  assert.deepEqual(states, ['joining', 'listening', 'stopped']);
  assert.deepEqual((botEvents.at(-1)!.payload.data.peers as J[]).map((p) => [p.displayName, p.speaking]), [['Ann', false]], 'the final event says nobody speaks');
  assert.equal(done.peers.length, 1);
  const peer: J = done.peers[0];
  assert.equal(peer.displayName, 'Ann');
  assert.ok(peer.lastUtterance, 'the utterances went through the real engine');
  assert.equal(peer.lastUtterance.text, null, 'the empty model transcribes nothing');
  assert.ok(done.queue.processed >= 2, `both phrases were transcribed (${done.queue.processed})`);
  const msgs = (await s.api('GET', `${P}/sessions/${second.id}/messages`)).json.items;
  assert.deepEqual(msgs, [], 'blank transcripts produce no message');
  const ps = (await s.api('GET', `${P}/sessions/${second.id}/participants`)).json.items;
  assert.deepEqual(ps.map((p: J) => [p.externalUserId, p.displayName, p.leftAt !== null]), [['ann#7', 'Ann', true]]);
});

test('with an OpenAI-compatible endpoint (a local stand-in), transcripts become messages from the right speaker', { skip: espeakMissing() }, async () => {
  const { createServer } = await import('node:http');
  let calls = 0;
  const stt = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      calls++;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ text: ` line ${calls}.`, language: 'english' }));
    });
  });
  await new Promise<void>((r) => stt.listen(0, '127.0.0.1', () => r()));
  const port = (stt.address() as { port: number }).port;
  const srv = await startServer({ transcriptionEngine: 'openai', openaiUrl: `http://127.0.0.1:${port}/v1`, evidenceRetentionDays: 1 });
  try {
    const voice = layout([trim(speak('report that player', 'en-us')), trim(speak('he is cheating', 'en-us'))], [2000], 300, 2000);
    const wav = join(srv.dataDir, 'zed.wav');
    writeFileSync(wav, encodeWav(voice.pcm.samples, voice.pcm.rate));
    const session = (await srv.api('POST', `${P}/sessions`, { body: { adapter: 'file', adapterConfig: { realtime: false, peers: [{ peerId: 'z', userId: 'zed#1', displayName: 'Zed', path: wav }] } } })).json;
    await until(async () => ((await srv.api('GET', `${P}/sessions/${session.id}/bot`)).json.state === 'stopped' ? true : null), 'bot done');
    const msgs = (await srv.api('GET', `${P}/sessions/${session.id}/messages`)).json.items as J[];
    assert.deepEqual(msgs.map((m) => [m.content, m.senderName, m.language, m.type]).sort(), [['line 1.', 'Zed', 'en', 'user'], ['line 2.', 'Zed', 'en', 'user']]);
    const zed = (await srv.api('GET', `${P}/sessions/${session.id}/participants`)).json.items[0];
    assert.ok(msgs.every((m) => m.participantId === zed.id));
    // Evidence: each message's utterance audio, as a WAV.
    for (const m of msgs) {
      assert.equal(m.hasDebugAudio, true);
      const res = await fetch(`${srv.url}${P}/sessions/${session.id}/messages/${m.id}/audio`, { headers: { 'x-api-key': srv.key } });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), 'audio/wav');
      const clip = parseWav(new Uint8Array(await res.arrayBuffer()));
      assert.equal(clip.sampleRate, 16000);
      assert.ok(clip.samples.length / 16000 > 0.8 && clip.samples.length / 16000 < 4, `clip of ${clip.samples.length / 16000} s`);
    }
    const typed = (await srv.api('POST', `${P}/sessions/${session.id}/messages`, { body: { content: 'typed' } })).json;
    assertProblem(await srv.api('GET', `${P}/sessions/${session.id}/messages/${typed.id}/audio`), 404, 'params/messageId');
    // The message time is the utterance start, so the second phrase starts later.
    const times = msgs.map((m) => Date.parse(m.timestamp)).sort();
    assert.ok(times[1]! - times[0]! >= 1500, `utterance starts ${times[1]! - times[0]!} ms apart`);
  } finally {
    await srv.close();
    stt.close();
  }
});

test('per-project bot settings: defaults, partial updates, checks naming the field', async () => {
  const d = await s.api('GET', `${P}/bot-settings`);
  assert.equal(d.status, 200, d.text);
  assert.deepEqual(d.json, { language: null, model: null, audioCtx: 'auto', preRollMs: 300, minSilenceMs: 1500, maxUtteranceMs: 30000, minSpeechMs: 250, startThreshold: 0.5, stopThreshold: 0.35, odinAccessKeySet: false });
  const u = await s.api('PATCH', `${P}/bot-settings`, { body: { language: 'de', minSilenceMs: 800, model: 'tiny.en' } });
  assert.equal(u.status, 200, u.text);
  assert.equal(u.json.language, 'de');
  assert.equal(u.json.minSilenceMs, 800);
  assert.equal((await s.api('GET', `${P}/bot-settings`)).json.model, 'tiny.en');
  assertProblem(await s.api('PATCH', `${P}/bot-settings`, { body: { stopThreshold: 0.9 } }), 400, 'body/stopThreshold');
  assertProblem(await s.api('PATCH', `${P}/bot-settings`, { body: { minSilenceMs: 50 } }), 400, 'body/minSilenceMs');
  assertProblem(await s.api('PATCH', `${P}/bot-settings`, { body: { language: 'German' } }), 400, 'body/language');
  assertProblem(await s.api('PATCH', `${P}/bot-settings`, { body: {} }), 400);
  assertProblem(await s.api('GET', '/api/projects/nope/bot-settings'), 404);
  // The ODIN access key: write-only, stored encrypted, used by odin sessions.
  const odin = { adapter: 'odin', externalRoomId: 'room-1' };
  const noKey = (await s.api('POST', `${P}/sessions`, { body: odin })).json;
  const noKeyBot = await until(async () => {
    const v = (await s.api('GET', `${P}/sessions/${noKey.id}/bot`)).json;
    return v.state === 'error' ? v : null;
  }, 'odin without a key', 10_000);
  assert.match(noKeyBot.reason, /ODIN access key/);
  const withKey = await s.api('PATCH', `${P}/bot-settings`, { body: { odinAccessKey: 'AQ-secret-odin-key' } });
  assert.equal(withKey.json.odinAccessKeySet, true);
  assert.ok(!withKey.text.includes('AQ-secret-odin-key') && !(await s.api('GET', `${P}/bot-settings`)).text.includes('AQ-secret-odin-key'));
  const keyed = (await s.api('POST', `${P}/sessions`, { body: odin })).json;
  const keyedBot = await until(async () => {
    const v = (await s.api('GET', `${P}/sessions/${keyed.id}/bot`)).json;
    return v.state === 'error' ? v : null;
  }, 'odin with a key', 10_000);
  assert.match(keyedBot.reason, /@4players\/odin-nodejs/, 'with a key, the missing SDK is what stops it');
  assert.ok(!keyedBot.reason.includes('AQ-secret'));
  assert.equal((await s.api('PATCH', `${P}/bot-settings`, { body: { odinAccessKey: null } })).json.odinAccessKeySet, false);
  // Reset to the defaults for the other tests.
  assert.equal((await s.api('PATCH', `${P}/bot-settings`, { body: { language: null, minSilenceMs: 1500, model: null } })).json.model, null);
});

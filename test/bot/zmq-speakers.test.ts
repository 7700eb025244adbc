/**
 * Two speakers in two real processes publish their voices over the ZeroMQ data plane; the
 * bot (zmq adapter, Silero VAD) attributes every utterance to the right peer. Text comes from
 * a local OpenAI-compatible stand-in (real Whisper weights cannot exist here), which numbers
 * the transcripts per call.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, test } from 'node:test';
import { encodeWav } from '../../main/bot/rooms/wav.js';
import { P, startServer, type J } from '../api/helpers.js';
import { espeakMissing, layout, speak, trim } from './audio/speech.js';

const dir = mkdtempSync('/tmp/cx-speakers-');
const children: ChildProcess[] = [];
after(() => {
  for (const c of children) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

function speaker(args: string[]): Promise<{ child: ChildProcess; done: Promise<void>; startedAt: Promise<number> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'fixtures', 'speaker.ts'), ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  children.push(child);
  const lines = createInterface({ input: child.stdout! });
  let doneResolve!: () => void;
  const done = new Promise<void>((r) => (doneResolve = r));
  let startResolve!: (t: number) => void;
  const startedAt = new Promise<number>((r) => (startResolve = r));
  return new Promise((resolve, reject) => {
    lines.on('line', (l) => {
      if (l === 'ready') resolve({ child, done, startedAt });
      if (l.startsWith('start ')) startResolve(Number(l.slice(6)));
      if (l === 'done') doneResolve();
    });
    child.once('exit', (code) => reject(new Error(`speaker exited with ${code} before ready`)));
  });
}

test('two speaker processes → utterances attributed to the right participant', { skip: espeakMissing() }, async (ctx) => {
  let calls = 0;
  const stt = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      calls++;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ text: `transcript ${calls}`, language: 'en' }));
    });
  });
  await new Promise<void>((r) => stt.listen(0, '127.0.0.1', () => r()));
  const endpoint = `ipc://${dir}/discovery.sock`;
  const runtimeDir = join(dir, 'topics');
  const s = await startServer({ busEndpoint: endpoint, busRuntimeDir: runtimeDir, transcriptionEngine: 'openai', openaiUrl: `http://127.0.0.1:${(stt.address() as AddressInfo).port}/v1` });
  try {
    // Ann says two things 2 s apart; Bob says one thing while Ann pauses.
    const ann = layout([trim(speak('push to the objective', 'en-us')), trim(speak('I am going in now', 'en-us'))], [2200], 500, 1800);
    const bob = layout([trim(speak('wait for me please', 'en-gb'))], [], 1600, 2400);
    writeFileSync(join(dir, 'ann.wav'), encodeWav(ann.pcm.samples, ann.pcm.rate));
    writeFileSync(join(dir, 'bob.wav'), encodeWav(bob.pcm.samples, bob.pcm.rate));
    const session = (await s.api('POST', `${P}/sessions`, { body: { adapter: 'zmq', externalRoomId: 'arena-7' } })).json;
    const [a, b] = await Promise.all([
      speaker([endpoint, runtimeDir, 'arena-7', 'ann', join(dir, 'ann.wav')]),
      speaker([endpoint, runtimeDir, 'arena-7', 'bob', join(dir, 'bob.wav')]),
    ]);
    // Both peers are in (their topics were found and subscribed) before anyone speaks.
    const until = async (fn: () => Promise<boolean>, what: string, ms = 20_000) => {
      const end = Date.now() + ms;
      while (!(await fn())) {
        if (Date.now() > end) throw new Error(`timed out: ${what}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    await until(async () => (await s.api('GET', `${P}/sessions/${session.id}/bot`)).json.peers?.length === 2, 'both peers joined');
    await new Promise((r) => setTimeout(r, 300)); // let the subscriptions connect
    a.child.stdin!.write('go\n');
    b.child.stdin!.write('go\n');
    await Promise.all([a.done, b.done]);
    await until(async () => (await s.api('GET', `${P}/sessions/${session.id}/messages`)).json.items.length >= 3, 'three messages');
    await new Promise((r) => setTimeout(r, 1000)); // nothing else arrives
    const msgs = (await s.api('GET', `${P}/sessions/${session.id}/messages`)).json.items as J[];
    const people = (await s.api('GET', `${P}/sessions/${session.id}/participants`)).json.items as J[];
    const who = new Map(people.map((p) => [p.id, p.externalUserId]));
    const per = (name: string) => msgs.filter((m) => who.get(m.participantId) === name);
    assert.equal(msgs.length, 3, JSON.stringify(msgs.map((m) => [who.get(m.participantId), m.content])));
    assert.equal(per('ann').length, 2);
    assert.equal(per('bob').length, 1);
    // Bob's single utterance starts between Ann's two.
    const t = (m: J) => Date.parse(m.timestamp);
    const [a1, a2] = per('ann').map(t).sort();
    const b1 = t(per('bob')[0]);
    assert.ok(a1! < b1 && b1 < a2!, 'overlapping turns keep their order');
    // Boundaries: each message starts at its speech start (known from synthesis) minus the 300 ms pre-roll.
    const [annStart, bobStart] = [await a.startedAt, await b.startedAt];
    const expected = [annStart + ann.speech[0]!.startMs, annStart + ann.speech[1]!.startMs, bobStart + bob.speech[0]!.startMs].map((t) => t - 300);
    ctx.diagnostic(`utterance start − truth (ms): ${[a1!, a2!, b1].map((got, i) => Math.round(got - expected[i]!)).join(', ')}`);
    [a1!, a2!, b1].forEach((got, i) => assert.ok(Math.abs(got - expected[i]!) <= 150, `utterance ${i}: starts ${got - expected[i]!} ms from the truth (pre-roll included)`));
    // The peers left when their processes stopped publishing.
    await until(async () => ((await s.api('GET', `${P}/sessions/${session.id}/participants`)).json.items as J[]).every((p) => p.leftAt !== null), 'peers left', 10_000);
  } finally {
    await s.close();
    stt.close();
  }
});

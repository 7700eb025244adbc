/**
 * Sanction expiry: a 1-second sanction yields sanction.expired over the event API and the SSE
 * stream; an expiry that passed while the server was down is emitted after a restart, once.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { eventsSince } from '../api/helpers.js';
import { openSse } from '../support/sse-client.js';
import { ok, P, removeDir, sleep, startNode, tempDir, until, type J, type Node } from './helpers.js';

const dirs: string[] = [];
const nodes: Node[] = [];
after(async () => {
  for (const n of nodes) await n.stop();
  for (const d of dirs) await removeDir(d);
});

async function boot(dir: string, sweepIntervalMs: number): Promise<Node> {
  const n = await startNode(dir, { sweepIntervalMs });
  nodes.push(n);
  return n;
}
async function stop(n: Node): Promise<void> {
  nodes.splice(nodes.indexOf(n), 1);
  await n.stop();
}
const expiredOf = async (n: Node, sanctionId: string) =>
  (await eventsSince(n.api, 0)).filter((e) => e.type === 'sanction.expired' && e.resourceId === `sanction:${sanctionId}`);

test('a 1-second sanction yields sanction.expired on the SSE stream and in the log; it then lists as expired', async () => {
  const dir = await tempDir();
  dirs.push(dir);
  const n = await boot(dir, 50);
  const participant = await ok(n, 'POST', `${P}/participants`, { externalUserId: 'exp-1' }, 201);
  const sse = await openSse(`${n.url}${P}/events/stream?types=sanction.*`, { 'x-api-key': n.key });
  try {
    const s = await ok(n, 'POST', `${P}/sanctions`, { type: 'mute', participantId: participant.id, durationSeconds: 1 }, 201);
    assert.equal(s.status, 'active');
    await sse.waitFor((ms) => ms.some((m) => JSON.parse(m.data).type === 'sanction.expired'), 5000);
    const types = sse.messages.map((m) => JSON.parse(m.data) as J).filter((e) => e.resourceId === `sanction:${s.id}`).map((e) => e.type);
    assert.deepEqual(types, ['sanction.created', 'sanction.expired']);
    const expired = await expiredOf(n, s.id);
    assert.equal(expired.length, 1);
    assert.equal((expired[0]!.payload.data as J).id, s.id);
    assert.ok(Date.now() >= Date.parse(s.endAt), 'not before its end');
    assert.equal((await ok(n, 'GET', `${P}/sanctions/${s.id}`)).status, 'expired');
    assert.deepEqual((await ok(n, 'GET', `${P}/participants/${participant.id}/sanctions?active=true`)).items, []);
    assert.deepEqual((await ok(n, 'GET', `${P}/participants/${participant.id}/sanctions?active=false`)).items.map((x: J) => x.id), [s.id]);
  } finally {
    sse.close();
  }
});

test('an expiry that passed while the server was down is emitted after the restart, exactly once', async () => {
  const dir = await tempDir();
  dirs.push(dir);
  // No sweep while this one runs: the sanction must not expire before the server goes down.
  let n = await boot(dir, 60_000);
  const participant = await ok(n, 'POST', `${P}/participants`, { externalUserId: 'exp-2' }, 201);
  const s = await ok(n, 'POST', `${P}/sanctions`, { type: 'temp_ban', participantId: participant.id, durationSeconds: 1 }, 201);
  await stop(n);
  const wait = Date.parse(s.endAt) - Date.now() + 20;
  if (wait > 0) await sleep(wait);

  n = await boot(dir, 50);
  const first = await until(async () => {
    const e = await expiredOf(n, s.id);
    return e.length ? e : null;
  }, 'sanction.expired after the restart');
  assert.equal(first.length, 1);
  await sleep(300); // several sweeps
  assert.equal((await expiredOf(n, s.id)).length, 1, 'later sweeps do not emit it again');
  await stop(n);

  n = await boot(dir, 50);
  await sleep(300);
  assert.equal((await expiredOf(n, s.id)).length, 1, 'nor does another restart');
  assert.equal((await ok(n, 'GET', `${P}/sanctions/${s.id}`)).status, 'expired');
});

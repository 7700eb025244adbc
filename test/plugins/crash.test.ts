/**
 * A plugin's backlog survives crashes: `cortex serve` runs as a real child process with a slow
 * plugin installed; 200 messages are posted, and the server is SIGKILLed twice while the plugin
 * is part-way through its backlog, then restarted on the same data dir. At the end every
 * message carries exactly one annotation from the plugin (none skipped, none doubled), and the
 * log holds exactly one message.annotation.created per message.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServe, type ServeProcess } from '../support/serve-process.js';
import { until } from '../api/helpers.js';

const MESSAGES = 200;
const P = '/api/projects/default';

// 25 ms per event: the 200-message backlog takes about 5 s, far longer than posting it, so
// both kills land mid-backlog even on a loaded machine.
const SLOW = `
export const manifest = { id: 'slow', name: 'Slow', version: '1.0.0', events: ['message.created'], settingsSchema: { type: 'object' } };
const pause = new Int32Array(new SharedArrayBuffer(4));
export function handle(event) {
  Atomics.wait(pause, 0, 0, 25);
  return [{ type: 'seen', content: { n: event.payload.data.content } }];
}`;

test('killed twice mid-backlog: no event skipped, no annotation duplicated', { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cx-plugin-crash-'));
  mkdirSync(join(dir, 'plugins'));
  writeFileSync(join(dir, 'plugins', 'slow.mjs'), SLOW);
  const env = { CORTEX_DATA_DIR: dir, CORTEX_BUS_ENDPOINT: 'off' };
  let srv: ServeProcess = await startServe(['--no-console'], env);
  const key = readFileSync(join(dir, 'admin-key'), 'utf8').trim();
  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(srv.url + path, {
      method, headers: { 'x-api-key': key, ...(body !== undefined && { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, json: text ? JSON.parse(text) : null, text };
  };
  const restart = async () => {
    srv.child.kill('SIGKILL');
    await srv.exited;
    srv = await startServe(['--no-console'], env);
  };
  try {
    assert.equal((await api('POST', `${P}/plugins`, { pluginId: 'slow' })).status, 201);
    const session = (await api('POST', `${P}/sessions`, { title: 'crash' })).json.id;
    const ids: string[] = [];
    for (let i = 0; i < MESSAGES; i++) {
      const r = await api('POST', `${P}/sessions/${session}/messages`, { content: `m${i}`, externalUserId: `u${i % 7}` });
      assert.equal(r.status, 201, r.text);
      ids.push(r.json.id);
    }
    for (let kill = 0; kill < 2; kill++) {
      const st = await until(async () => {
        const s = (await api('GET', `${P}/plugins/slow/status`)).json;
        return s.processed >= 5 && s.backlog > 20 && s;
      }, 'the plugin part-way through its backlog', 30_000);
      await restart();
      assert.ok(st.backlog > 0, `killed with ${st.backlog} events still to do`);
    }
    await until(async () => {
      const s = (await api('GET', `${P}/plugins/slow/status`)).json;
      return s.state === 'idle' && s.backlog === 0;
    }, 'the backlog drained after the restarts', 60_000);
    const counts = new Map<string, number>();
    let cursor: string | null = null;
    do {
      const page: { items: { id: string; annotations: { pluginId: string }[] }[]; nextCursor: string | null } = (await api('GET', `${P}/sessions/${session}/messages?limit=500${cursor ? `&cursor=${cursor}` : ''}`)).json;
      for (const m of page.items) counts.set(m.id, m.annotations.filter((a) => a.pluginId === 'slow').length);
      cursor = page.nextCursor;
    } while (cursor);
    assert.equal(counts.size, MESSAGES);
    const wrong = ids.filter((id) => counts.get(id) !== 1);
    assert.deepEqual(wrong, [], 'every message has exactly one annotation from the plugin');
    let after = 0;
    let created = 0;
    for (;;) {
      const page = (await api('GET', `/api/events?since=${after}&limit=500&types=message.annotation.created`)).json;
      created += page.items.filter((e: { source: string }) => e.source === 'plugin:slow').length;
      if (page.lastSeq === after) break;
      after = page.lastSeq;
    }
    assert.equal(created, MESSAGES, 'exactly one message.annotation.created per message in the log');
    const errors = (await api('GET', `${P}/plugins/slow/status`)).json.errors;
    assert.equal(errors, 0, 'a kill of the whole server is not a plugin error');
  } finally {
    srv.child.kill('SIGKILL');
    await srv.exited;
    rmSync(dir, { recursive: true, force: true });
  }
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'node:http';
import Database from 'better-sqlite3';
import { startServe } from '../support/serve-process.js';
import { openSse } from '../support/sse-client.js';

test('first start bootstraps tenant, project and an admin key shown once; later starts do not', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cx-serve-'));
  const first = await startServe(['--data-dir', dir, '--no-console']);
  const printed = /Admin API key[^\n]*\n\s+(ctx_\S+)/.exec(first.output())?.[1];
  assert.ok(printed, 'the admin key is printed on first start');
  const file = join(dir, 'admin-key');
  assert.equal(readFileSync(file, 'utf8').trim(), printed);
  assert.equal(statSync(file).mode & 0o777, 0o600);
  const res = await fetch(`${first.url}/api/projects`, { headers: { 'x-api-key': printed } });
  assert.deepEqual(((await res.json()) as { items: { id: string; tenantId: string }[] }).items.map((p) => [p.tenantId, p.id]), [['local', 'default']]);
  first.child.kill('SIGTERM');
  assert.equal(await first.exited, 0);

  const second = await startServe(['--data-dir', dir, '--no-console']);
  assert.doesNotMatch(second.output(), /Admin API key/);
  assert.equal((await fetch(`${second.url}/api/keys`, { headers: { 'x-api-key': printed } })).status, 200, 'the key still works');
  second.child.kill('SIGINT');
  assert.equal(await second.exited, 0);
});

test('SIGTERM finishes in-flight requests, ends streams, closes the database cleanly, loses nothing', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cx-shutdown-'));
  const srv = await startServe(['--data-dir', dir]);
  const headers = { 'x-api-key': srv.consoleKey, 'content-type': 'application/json' };
  const session = (await (await fetch(`${srv.url}/api/projects/default/sessions`, { method: 'POST', headers, body: '{"title":"shutdown"}' })).json()) as { id: string };
  const stream = await openSse(`${srv.url}/api/events/stream`, { 'x-api-key': srv.consoleKey });

  const agent = new Agent({ keepAlive: true, maxSockets: 20 });
  const post = (i: number) =>
    new Promise<{ status: number; id?: string }>((resolve) => {
      const req = request(`${srv.url}/api/projects/default/sessions/${session.id}/messages`, { method: 'POST', headers, agent }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, id: res.statusCode === 201 ? (JSON.parse(body) as { id: string }).id : undefined }));
        res.on('error', () => resolve({ status: 0 }));
      });
      req.on('error', () => resolve({ status: 0 }));
      req.end(JSON.stringify({ content: `burst ${i}` }));
    });

  // 400 requests through 20 keep-alive sockets; the signal lands after the 50th answer, with
  // requests in flight on every socket.
  let answered = 0;
  const results = Array.from({ length: 400 }, (_, i) =>
    post(i).then((r) => {
      if (++answered === 50) srv.child.kill('SIGTERM');
      return r;
    }),
  );
  const settled = await Promise.all(results);
  const code = await srv.exited;
  agent.destroy();
  assert.equal(code, 0, srv.output());
  await stream.ended; // the server ended the SSE stream

  const created = settled.filter((r) => r.status === 201).map((r) => r.id!);
  assert.ok(created.length >= 50, `requests before the signal were served (${created.length})`);
  assert.ok(settled.every((r) => r.status === 201 || r.status === 503 || r.status === 0), `only 201, 503 or refused: ${[...new Set(settled.map((r) => r.status))]}`);

  assert.equal(existsSync(join(dir, 'cortex.db-wal')), false, 'WAL checkpointed on clean close');
  const db = new Database(join(dir, 'cortex.db'), { readonly: true });
  assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
  const stored = new Set(db.prepare('SELECT id FROM messages').pluck().all() as string[]);
  for (const id of created) assert.ok(stored.has(id), `acknowledged message ${id} is stored`);
  const evented = new Set((db.prepare("SELECT payload FROM events WHERE type = 'message.created'").pluck().all() as string[]).map((p) => (JSON.parse(p) as { data: { id: string } }).data.id));
  for (const id of stored) assert.ok(evented.has(id), `stored message ${id} has its event`);
  db.close();
  await assert.rejects(fetch(`${srv.url}/api/health`), 'no longer accepting connections');
});

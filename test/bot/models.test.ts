import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { needsTestModel, TEST_MODEL as MODEL } from '../support/shared-models.js';
import { ModelError, ModelStore, MODEL_CATALOG } from '../../main/bot/models.js';

const dir = mkdtempSync('/tmp/cx-models-');
after(() => rmSync(dir, { recursive: true, force: true }));

test('import checks the header, copies into the data dir, and lists it; garbage is refused', { skip: needsTestModel }, async () => {
  const store = new ModelStore(join(dir, 'a'));
  assert.deepEqual(await store.list(), []);
  assert.equal(await store.resolve(), null, 'no model: the bot reports it instead of crashing');
  const m = await store.import(MODEL!);
  assert.equal(m.name, 'for-tests-ggml-tiny.en'.replace(/^ggml-/, ''));
  assert.equal(m.source, 'data');
  assert.equal(m.type, 'tiny');
  assert.equal((await store.list()).length, 1);
  await assert.rejects(store.import(MODEL!), (e: Error) => e instanceof ModelError && e.kind === 'exists');
  const junk = join(dir, 'junk.bin');
  writeFileSync(junk, Buffer.alloc(200_000, 7));
  await assert.rejects(store.import(junk), (e: Error) => e instanceof ModelError && e.kind === 'invalid' && /junk\.bin/.test(e.message));
  const html = join(dir, 'page.bin');
  writeFileSync(html, '<!DOCTYPE html><html>'.padEnd(100_000, ' '));
  await assert.rejects(store.import(html), /HTML page/);
  await assert.rejects(store.import(MODEL!, '../escape'), /letters, digits/);
  assert.ok(await store.remove(m.name));
  assert.deepEqual(await store.list(), []);
});

test('bundled models are listed alongside the data dir', { skip: needsTestModel }, async () => {
  const bundled = join(dir, 'resources-models');
  rmSync(bundled, { recursive: true, force: true });
  const store0 = new ModelStore(join(dir, 'tmp0'));
  await store0.import(MODEL!, 'tiny.en');
  const store = new ModelStore(join(dir, 'b'), [store0.dir]);
  const all = await store.list();
  assert.deepEqual(all.map((m) => [m.name, m.source]), [['tiny.en', 'bundled']]);
  assert.equal((await store.resolve())?.name, 'tiny.en');
});

test('download: offline fails with a clear message; a corrupt download leaves nothing; a good one is verified and installed', { skip: needsTestModel }, async () => {
  const offline = new ModelStore(join(dir, 'c'), [], async () => {
    throw Object.assign(new TypeError('fetch failed'), { cause: { code: 'ENOTFOUND' } });
  });
  await assert.rejects(offline.download('tiny.en'), (e: Error) => e instanceof ModelError && e.kind === 'offline' && /offline/.test(e.message) && /huggingface\.co/.test(e.message));
  await assert.rejects(offline.download('huge.xl'), (e: Error) => e instanceof ModelError && e.kind === 'not_found');

  // A real HTTP server on 127.0.0.1 stands in for the model host.
  const bytes = readFileSync(MODEL!);
  const server = createServer((req, res) => {
    res.writeHead(200, { 'content-length': String(bytes.length) });
    res.end(bytes);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const local: typeof fetch = (url, init) => fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}${new URL(String(url)).pathname}`, init);
  try {
    const corrupt = new ModelStore(join(dir, 'd'), [], local);
    await assert.rejects(corrupt.download('tiny.en'), (e: Error) => e instanceof ModelError && e.kind === 'checksum');
    assert.deepEqual(readdirSync(corrupt.dir), [], 'no partial file is left behind');

    const sha1 = createHash('sha1').update(bytes).digest('hex');
    const good = new ModelStore(join(dir, 'e'), [], local, [{ ...MODEL_CATALOG[1]!, sha1 }]);
    const progress: number[] = [];
    const m = await good.download('tiny.en', (p) => progress.push(p.receivedBytes));
    assert.equal(m.name, 'tiny.en');
    assert.equal(progress.at(-1), bytes.length);
    assert.ok(existsSync(m.path));
  } finally {
    server.close();
  }
});

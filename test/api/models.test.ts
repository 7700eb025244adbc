import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { needsTestModel, TEST_MODEL as MODEL } from '../support/shared-models.js';
import { assertProblem, startServer, type Server } from './helpers.js';


let s: Server;
before(async () => {
  s = await startServer();
});
after(() => s.close());

test('models: list, import a local file (validated), refuse junk and duplicates, remove', { skip: needsTestModel }, async () => {
  const empty = await s.api('GET', '/api/models');
  assert.equal(empty.status, 200, empty.text);
  assert.deepEqual(empty.json.items, []);
  assert.ok(empty.json.catalog.some((m: { name: string; installed: boolean }) => m.name === 'tiny.en' && !m.installed));
  assert.equal(empty.json.dir, join(s.dataDir, 'models'));

  const imported = await s.api('POST', '/api/models/import', { body: { path: MODEL!, name: 'tiny.en' } });
  assert.equal(imported.status, 201, imported.text);
  assert.equal(imported.json.name, 'tiny.en');
  assert.equal(imported.json.type, 'tiny');
  const listed = (await s.api('GET', '/api/models')).json;
  assert.deepEqual(listed.items.map((m: { name: string }) => m.name), ['tiny.en']);
  assert.ok(listed.catalog.find((m: { name: string }) => m.name === 'tiny.en').installed);

  assertProblem(await s.api('POST', '/api/models/import', { body: { path: MODEL!, name: 'tiny.en' } }), 409, 'body/path');
  const junk = join(s.dataDir, 'junk.bin');
  writeFileSync(junk, Buffer.alloc(100_000, 1));
  const bad = await s.api('POST', '/api/models/import', { body: { path: junk } });
  assertProblem(bad, 400, 'body/path');
  assert.match(bad.json.detail, /junk\.bin/);
  assertProblem(await s.api('POST', '/api/models/import', { body: { path: '/no/such/file.bin' } }), 400, 'body/path');
  assertProblem(await s.api('POST', '/api/models/import', { body: { path: MODEL!, name: '../../etc' } }), 400, 'body/name');
  assertProblem(await s.api('POST', '/api/models/download', { body: { name: 'gigantic.xl' } }), 404, 'body/name');
  assertProblem(await s.api('POST', '/api/models/download', { body: { name: 'tiny.en' } }), 409, 'body/name');

  assert.equal((await s.api('DELETE', '/api/models/tiny.en')).status, 204);
  assertProblem(await s.api('DELETE', '/api/models/tiny.en'), 404, 'params/name');
  assert.deepEqual((await s.api('GET', '/api/models')).json.items, []);
});

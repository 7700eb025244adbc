import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { EvidenceStore } from '../../main/bot/evidence.js';

const dir = mkdtempSync('/tmp/cx-evidence-');
after(() => rmSync(dir, { recursive: true, force: true }));

test('clips are staged, committed under the message id, opened, and swept after the retention', async () => {
  const store = new EvidenceStore(dir, 2);
  const id = '01a20468-9c60-7084-ba3f-192db12d7636';
  const clip = await store.stage(new Float32Array(1600), 16000);
  assert.equal((await store.open(id)), null, 'nothing before commit');
  await clip.commit(id);
  const opened = await store.open(id);
  assert.ok(opened);
  assert.equal(opened.size, 44 + 3200);
  opened.stream.destroy();
  assert.equal(await store.open('../../etc/passwd'), null, 'only message ids');
  const discarded = await store.stage(new Float32Array(10), 16000);
  await discarded.discard();
  // Age the clip past 2 days, and leave a crash's temporary file older than an hour.
  const old = (Date.now() - 3 * 86_400_000) / 1000;
  utimesSync(join(store.dir, `${id}.wav`), old, old);
  writeFileSync(join(store.dir, 'x.wav.tmp'), 'partial');
  utimesSync(join(store.dir, 'x.wav.tmp'), old, old);
  const fresh = '01a20468-9c60-7084-ba3f-192db12d7637';
  await (await store.stage(new Float32Array(10), 16000)).commit(fresh);
  assert.equal(await store.sweep(), 2);
  assert.deepEqual(readdirSync(store.dir), [`${fresh}.wav`]);
  assert.ok(!existsSync(join(store.dir, `${id}.wav`)));
  assert.equal(new EvidenceStore(dir, 0).enabled, false);
});

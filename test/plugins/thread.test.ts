import assert from 'node:assert/strict';
import { test } from 'node:test';
import { unpacked } from '../../main/plugins/thread.js';

test('a packaged app starts plugin workers from the unpacked copy next to the asar', () => {
  assert.equal(unpacked('/opt/Cortex/resources/app.asar/dist/main/plugin-worker.js'), '/opt/Cortex/resources/app.asar.unpacked/dist/main/plugin-worker.js');
  assert.equal(unpacked('/work/main/dist/main/plugin-worker.js'), '/work/main/dist/main/plugin-worker.js');
});

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadDesktopState, saveDesktopState, visibleOn, MIN_WIDTH } from '../../main/app/desktop-state.js';
import { FlagDigest } from '../../main/core/attention.js';
import type { Annotation } from '../../common/schemas.js';

test('desktop state: defaults, round trip, bad files, and bounds only where a display still is', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cx-desktop-'));
  try {
    const file = join(dir, 'sub', 'desktop-state.json');
    assert.deepEqual(loadDesktopState(file), { window: null, notifications: true }, 'first launch');
    const state = { window: { x: 100, y: 50, width: 1400, height: 900, maximized: true }, notifications: false };
    saveDesktopState(file, state);
    assert.deepEqual(loadDesktopState(file), state);
    writeFileSync(file, '{ not json');
    assert.deepEqual(loadDesktopState(file), { window: null, notifications: true });
    writeFileSync(file, JSON.stringify({ window: { x: 'a', y: 0, width: 10, height: 10 } }));
    assert.equal(loadDesktopState(file).window, null);
    writeFileSync(file, JSON.stringify({ window: { x: 0, y: 0, width: 10, height: 10 } }));
    assert.equal(loadDesktopState(file).window!.width, MIN_WIDTH, 'too small a window is enlarged');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const displays = [{ x: 0, y: 0, width: 1920, height: 1080 }];
  const w = { x: 1600, y: 100, width: 800, height: 600, maximized: false };
  assert.equal(visibleOn(w, displays), null, 'more than half off screen (a monitor was unplugged)');
  assert.deepEqual(visibleOn({ ...w, x: 1000 }, displays), { ...w, x: 1000 });
  assert.deepEqual(visibleOn({ ...w, x: 2000 }, [...displays, { x: 1920, y: 0, width: 2560, height: 1440 }]), { ...w, x: 2000 });
});

test('flag notifications: the first at once, the rest summed up per interval', async () => {
  const shown: [string, number][] = [];
  const digest = new FlagDigest((a, more) => shown.push([a.id, more]), 50);
  const flag = (id: string) => ({ id }) as Annotation;
  digest.add(flag('a'));
  digest.add(flag('b'));
  digest.add(flag('c'));
  digest.add(flag('d'));
  assert.deepEqual(shown, [['a', 0]]);
  await new Promise((r) => setTimeout(r, 80));
  assert.deepEqual(shown, [['a', 0], ['b', 2]]);
  await new Promise((r) => setTimeout(r, 80));
  digest.add(flag('e'));
  assert.deepEqual(shown.at(-1), ['e', 0], 'after a quiet interval the next flag shows at once');
  digest.close();
});

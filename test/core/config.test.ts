import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultDataDir, loadConfig } from '../../main/core/config.js';
import { VERSION } from '../../main/core/version.js';

test('configuration layers: defaults < config.json < environment < runtime overrides', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cx-config-'));
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ port: 8000, logLevel: 'debug', sseHeartbeatMs: 5000 }));
  const fromFile = loadConfig({ dataDir: dir }, {});
  assert.equal(fromFile.port, 8000);
  assert.equal(fromFile.host, '127.0.0.1', 'default');
  const fromEnv = loadConfig({ dataDir: dir }, { CORTEX_PORT: '9000' });
  assert.equal(fromEnv.port, 9000);
  assert.equal(fromEnv.logLevel, 'debug', 'file value kept where env is silent');
  assert.equal(loadConfig({ dataDir: dir, port: 9100 }, { CORTEX_PORT: '9000' }).port, 9100);
  assert.equal(loadConfig({}, { CORTEX_DATA_DIR: dir }).dataDir, dir);
});

test('the data plane is on by default and can be switched off from the environment', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cx-config-'));
  assert.equal(loadConfig({ dataDir: dir }, {}).busEndpoint, 'ipc:///tmp/cortex/discovery.sock');
  assert.equal(loadConfig({ dataDir: dir }, { CORTEX_BUS_ENDPOINT: 'off' }).busEndpoint, null);
  assert.equal(loadConfig({ dataDir: dir }, { CORTEX_BUS_ENDPOINT: 'tcp://127.0.0.1:7421' }).busEndpoint, 'tcp://127.0.0.1:7421');
});

test('the data dir defaults under the XDG data dir', () => {
  assert.equal(defaultDataDir({ XDG_DATA_HOME: '/x/data' }), '/x/data/cortex-console');
  assert.match(defaultDataDir({}), /\.local\/share\/cortex-console$/);
});

test('binding beyond loopback needs an explicit option', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cx-config-'));
  assert.throws(() => loadConfig({ dataDir: dir, host: '0.0.0.0' }, {}), /allowRemote/);
  assert.equal(loadConfig({ dataDir: dir, host: '0.0.0.0', allowRemote: true }, {}).host, '0.0.0.0');
  assert.equal(loadConfig({ dataDir: dir }, { CORTEX_HOST: '0.0.0.0', CORTEX_ALLOW_REMOTE: '1' }).host, '0.0.0.0');
  assert.throws(() => loadConfig({ dataDir: dir }, { CORTEX_PORT: 'eighty' }), /port must be/);
});

test('a broken config.json is a clear error', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cx-config-'));
  writeFileSync(join(dir, 'config.json'), '{ nope');
  assert.throws(() => loadConfig({ dataDir: dir }, {}), /config\.json is not valid JSON/);
});

test('VERSION matches package.json', () => {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  assert.equal(VERSION, pkg.version);
});

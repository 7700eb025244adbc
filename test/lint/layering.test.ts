/**
 * The process layering is enforced by `no-restricted-imports` in eslint.config.js; these
 * probes lint in-memory snippets as if they lived in each layer (nothing is written).
 */
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const eslint = new ESLint({ cwd: repoRoot });

async function layeringErrors(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: join(repoRoot, filePath) });
  assert.ok(result, 'ESLint returned no result');
  const fatal = result.messages.filter((m) => m.fatal);
  assert.deepEqual(fatal, [], 'probe must parse');
  return result.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

describe('layering (no-restricted-imports)', () => {
  test('common/ may not import node builtins', async () => {
    for (const spec of ['node:fs', 'fs', 'fs/promises', 'path', 'http']) {
      const errors = await layeringErrors('common/__probe.ts', `import * as m from '${spec}';\nexport const x = m;\n`);
      assert.equal(errors.length, 1, `${spec}: ${JSON.stringify(errors)}`);
    }
  });

  test('common/ may not import main/, renderer/, preload/, electron or server-only packages', async () => {
    for (const spec of ['../main/core/cortex.js', '../renderer/src/lib/client.js', '../preload/preload.js', 'electron', 'better-sqlite3', 'fastify', '@fastify/static', 'pino']) {
      const errors = await layeringErrors('common/__probe.ts', `import * as m from '${spec}';\nexport const x = m;\n`);
      assert.equal(errors.length, 1, `${spec}: ${JSON.stringify(errors)}`);
    }
  });

  test('common/ may import common/ and @sinclair/typebox', async () => {
    const code = "import { typeMatcher } from './events.js';\nimport { Type } from '@sinclair/typebox';\nexport const x = [typeMatcher, Type];\n";
    assert.deepEqual(await layeringErrors('common/__probe.ts', code), []);
  });

  test('renderer/ may not import main/ (even type-only), electron or node builtins', async () => {
    for (const code of [
      "import { startCortex } from '../../main/core/cortex.js';\nexport const x = startCortex;\n",
      "import type { Cortex } from '../../../main/core/cortex.js';\nexport type X = Cortex;\n",
      "import { ipcRenderer } from 'electron';\nexport const x = ipcRenderer;\n",
      "import { readFileSync } from 'node:fs';\nexport const x = readFileSync;\n",
    ]) {
      const errors = await layeringErrors('renderer/src/lib/__probe.ts', code);
      assert.equal(errors.length, 1, `${code}: ${JSON.stringify(errors)}`);
    }
    const ok = "import { typeMatcher } from '../../../common/events.js';\nexport const x = typeMatcher;\n";
    assert.deepEqual(await layeringErrors('renderer/src/lib/__probe.ts', ok), []);
  });

  test('only main/app and preload may import electron', async () => {
    const code = "import { app } from 'electron';\nexport const x = app;\n";
    for (const file of ['main/api/__probe.ts', 'main/core/__probe.ts', 'main/cli/__probe.ts', 'scripts/__probe.mjs']) {
      assert.equal((await layeringErrors(file, code)).length, 1, file);
    }
    assert.deepEqual(await layeringErrors('main/app/__probe.ts', code), []);
    assert.deepEqual(await layeringErrors('main/app/__probe.ts', "import type { WebContents } from 'electron';\nexport type W = WebContents;\n"), []);
    assert.deepEqual(await layeringErrors('preload/__probe.ts', code), []);
  });

  test('main/ (outside app) may use node builtins', async () => {
    assert.deepEqual(await layeringErrors('main/core/__probe.ts', "import { readFileSync } from 'node:fs';\nexport const x = readFileSync;\n"), []);
  });
});

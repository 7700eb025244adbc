// @ts-check
/**
 * Lint config. Besides typescript-eslint's recommended rules it enforces the process
 * layering with `no-restricted-imports`:
 *   common/**   runtime-neutral: no main/renderer/preload, no electron, no Node builtins,
 *               no server-only packages (better-sqlite3, fastify, pino)
 *   renderer/** browser code: no main/, no electron, no Node builtins
 *   elsewhere   only main/app/** and preload/** may import electron
 * Flat config does not merge one rule's options across blocks (the last matching block
 * wins), so each block below lists its complete set of restrictions.
 */
import { defineConfig, globalIgnores } from 'eslint/config';
import { builtinModules } from 'node:module';
import tseslint from 'typescript-eslint';

const ELECTRON = { name: 'electron', message: 'Only main/app/** and preload/** may import electron.' };

/** Bare builtin names (`fs`, `fs/promises`, …); `node:*` is matched by `nodePrefix`. */
const builtins = (/** @type {string} */ message) =>
  builtinModules.filter((m) => !m.startsWith('_') && !m.startsWith('node:')).map((name) => ({ name, message }));
const nodePrefix = (/** @type {string} */ message) => ({ group: ['node:*'], message });

const commonRule = {
  paths: [
    { ...ELECTRON, message: 'common/ is runtime-neutral: no electron.' },
    ...builtins('common/ is runtime-neutral: no Node builtins.'),
    { name: 'better-sqlite3', message: 'common/ is runtime-neutral: no server-only packages.' },
    { name: 'fastify', message: 'common/ is runtime-neutral: no server-only packages.' },
    { name: 'pino', message: 'common/ is runtime-neutral: no server-only packages.' },
  ],
  patterns: [
    nodePrefix('common/ is runtime-neutral: no Node builtins.'),
    { group: ['@fastify/*', 'fastify/*', 'pino/*', 'better-sqlite3/*'], message: 'common/ is runtime-neutral: no server-only packages.' },
    { group: ['**/main', '**/main/**', '**/renderer', '**/renderer/**', '**/preload', '**/preload/**'], message: 'common/ may not import main/, renderer/ or preload/.' },
  ],
};

const rendererRule = {
  paths: [
    { ...ELECTRON, message: 'The renderer is sandboxed: talk to main through window.cortex, never electron.' },
    ...builtins('The renderer runs in a browser: no Node builtins.'),
  ],
  patterns: [
    nodePrefix('The renderer runs in a browser: no Node builtins.'),
    { group: ['**/main', '**/main/**'], message: 'The renderer may not import main/ (use common/ and the CortexClient).' },
  ],
};

const defaultRule = { paths: [ELECTRON] };

export default defineConfig([
  globalIgnores(['dist/', 'release/', 'node_modules/', '**/.cache/', 'coverage/', 'test-results/', 'bench/results/']),
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true }],
    },
  },
  {
    files: ['**/*.{ts,tsx,mts,cts,js,mjs,cjs}'],
    ignores: ['main/app/**', 'preload/**'],
    rules: { 'no-restricted-imports': ['error', defaultRule] },
  },
  {
    files: ['common/**/*.{ts,tsx,mts,cts,js,mjs,cjs}'],
    rules: { 'no-restricted-imports': ['error', commonRule] },
  },
  {
    files: ['renderer/**/*.{ts,tsx,mts,cts,js,mjs,cjs}'],
    rules: { 'no-restricted-imports': ['error', rendererRule] },
  },
]);

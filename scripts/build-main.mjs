#!/usr/bin/env node
/**
 * Bundles the Node/Electron side with esbuild (the renderer is built by Vite):
 *   main/cli/index.ts  → dist/main/cli.js        ESM, `cortex` CLI / headless server
 *   main/app/main.ts   → dist/main/app.cjs       CJS, Electron main (package.json "main")
 *   preload/preload.ts → dist/preload/preload.cjs CJS, sandboxed preload (electron only)
 * npm packages stay external (resolved from node_modules at runtime; native modules such
 * as better-sqlite3 cannot be bundled anyway).
 *
 * Usage: node scripts/build-main.mjs [--allow-missing]
 *   --allow-missing  skip entries whose source does not exist yet instead of failing
 */
import { build } from 'esbuild';
import { chmodSync, existsSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const allowMissing = process.argv.includes('--allow-missing');

const common = {
  absWorkingDir: root,
  bundle: true,
  platform: 'node',
  target: 'node20',
  sourcemap: true,
  logLevel: 'warning',
  legalComments: 'none',
};

/**
 * `import.meta` does not exist in CommonJS output. Shim the Node 20 fields so code shared
 * with the ESM CLI keeps working; they describe the bundle file (dist/main/app.cjs), which
 * sits next to dist/main/cli.js, so both bundles resolve relative paths identically.
 */
const importMetaShim = {
  define: {
    'import.meta.url': '__cortex_import_meta_url',
    'import.meta.filename': '__filename',
    'import.meta.dirname': '__dirname',
  },
  banner: { js: 'const __cortex_import_meta_url = require("node:url").pathToFileURL(__filename).href;' },
};

const targets = [
  {
    name: 'cli',
    entry: 'main/cli/index.ts',
    options: {
      outfile: 'dist/main/cli.js',
      format: 'esm',
      packages: 'external',
      banner: { js: '#!/usr/bin/env node' },
    },
    executable: true,
  },
  {
    name: 'electron main',
    entry: 'main/app/main.ts',
    options: {
      outfile: 'dist/main/app.cjs',
      format: 'cjs',
      packages: 'external', // electron included
      ...importMetaShim,
    },
  },
  {
    name: 'preload',
    entry: 'preload/preload.ts',
    options: {
      outfile: 'dist/preload/preload.cjs',
      format: 'cjs',
      // A sandboxed preload can require nothing but `electron` (and a few polyfilled
      // builtins), so everything else — common/ included — is bundled in.
      external: ['electron'],
    },
  },
];

const missing = targets.filter((t) => !existsSync(join(root, t.entry)));
if (missing.length > 0) {
  const list = missing.map((t) => `${t.entry} (${t.name})`).join(', ');
  if (!allowMissing) {
    console.error(`build-main: missing entry point(s): ${list}. Nothing was built; pass --allow-missing to build the rest.`);
    process.exit(1);
  }
  console.warn(`build-main: skipping missing entry point(s): ${list}`);
}

let failed = false;
await Promise.all(
  targets
    .filter((t) => !missing.includes(t))
    .map(async (t) => {
      try {
        const result = await build({ ...common, ...t.options, entryPoints: [t.entry] });
        if (t.executable) chmodSync(join(root, t.options.outfile), 0o755);
        if (result.warnings.length === 0 && process.env.BUILD_VERBOSE) console.log(`build-main: ${t.entry} → ${t.options.outfile}`);
      } catch (err) {
        failed = true;
        // esbuild already printed the diagnostics (logLevel warning)
        console.error(`build-main: ${t.name} (${relative(root, join(root, t.entry))}) failed${err?.errors ? '' : `: ${err?.message ?? err}`}`);
      }
    }),
);
if (failed) process.exit(1);

#!/usr/bin/env node
/**
 * Bundles the Node/Electron side with esbuild (the renderer is built by Vite):
 *   cli      main/cli/index.ts  → dist/main/cli.js         ESM, `cortex` CLI / headless server
 *   app      main/app/main.ts   → dist/main/app.cjs        CJS, Electron main (package.json "main")
 *   preload  preload/preload.ts → dist/preload/preload.cjs CJS, sandboxed preload (electron only)
 *   plugin-worker main/plugins/worker.ts → dist/main/plugin-worker.js  ESM, the plugin worker thread
 *            (built-in plugins bundled in; found next to cli.js / app.cjs)
 * npm packages stay external (resolved from node_modules at runtime; native modules such
 * as better-sqlite3 cannot be bundled anyway).
 *
 * Usage: node scripts/build-main.mjs [--allow-missing] [--only cli,app,preload] [--outdir DIR]
 *   --allow-missing  skip entries whose source does not exist yet instead of failing
 *   --only           build just these targets (tests build `app` alone)
 *   --outdir         output root instead of dist/ (same layout below it)
 */
import { build } from 'esbuild';
import { chmodSync, existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const allowMissing = argv.includes('--allow-missing');
const flag = (name) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const outRoot = flag('--outdir') ?? 'dist';
const only = flag('--only')?.split(',');

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
    // Only reached from TypeScript sources (main/plugins/thread.ts under tsx), never in a bundle.
    'import.meta.resolve': 'require.resolve',
  },
  banner: { js: 'const __cortex_import_meta_url = require("node:url").pathToFileURL(__filename).href;' },
};

const targets = [
  {
    name: 'cli',
    entry: 'main/cli/index.ts',
    options: {
      outfile: 'main/cli.js',
      format: 'esm',
      // Start-up time is mostly module loading (hundreds of small files from node_modules):
      // bundle the pure-JS dependencies into this one file. Native addons (better-sqlite3,
      // zeromq) stay external; `require` is provided for the CommonJS code esbuild wraps.
      external: ['better-sqlite3', 'zeromq', 'onnxruntime-node'],
      banner: { js: "#!/usr/bin/env node\nimport { createRequire as __cortexRequire } from 'node:module';\nconst require = __cortexRequire(import.meta.url);" },
    },
    executable: true,
  },
  {
    name: 'plugin-worker',
    entry: 'main/plugins/worker.ts',
    options: {
      outfile: 'main/plugin-worker.js',
      format: 'esm',
      banner: { js: "import { createRequire as __cortexRequire } from 'node:module';\nconst require = __cortexRequire(import.meta.url);" },
    },
  },
  {
    name: 'app',
    entry: 'main/app/main.ts',
    options: {
      outfile: 'main/app.cjs',
      format: 'cjs',
      packages: 'external', // electron included
      ...importMetaShim,
    },
  },
  {
    name: 'preload',
    entry: 'preload/preload.ts',
    options: {
      outfile: 'preload/preload.cjs',
      format: 'cjs',
      // A sandboxed preload can require nothing but `electron` (and a few polyfilled
      // builtins), so everything else — common/ included — is bundled in.
      external: ['electron'],
    },
  },
];

if (only) {
  const unknown = only.filter((n) => !targets.some((t) => t.name === n));
  if (unknown.length > 0) {
    console.error(`build-main: unknown target(s) ${unknown.join(', ')}; known: ${targets.map((t) => t.name).join(', ')}`);
    process.exit(1);
  }
}
const selected = targets.filter((t) => !only || only.includes(t.name));
const missing = selected.filter((t) => !existsSync(join(root, t.entry)));
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
  selected
    .filter((t) => !missing.includes(t))
    .map(async (t) => {
      const outfile = resolve(root, outRoot, t.options.outfile);
      try {
        await build({ ...common, ...t.options, outfile, entryPoints: [t.entry] });
        if (t.executable) chmodSync(resolve(root, outfile), 0o755);
        if (process.env.BUILD_VERBOSE) console.log(`build-main: ${t.entry} → ${outfile}`);
      } catch (err) {
        failed = true;
        // esbuild already printed the diagnostics (logLevel warning)
        console.error(`build-main: ${t.name} (${t.entry}) failed${err?.errors ? '' : `: ${err?.message ?? err}`}`);
      }
    }),
);
if (failed) process.exit(1);

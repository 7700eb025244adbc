import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = (p: string): string => fileURLToPath(new URL(p, import.meta.url));

/**
 * Renderer build (web console + Electron window). Vite 8 transforms TSX with oxc; no React
 * plugin needed. `base: './'` keeps asset URLs relative so the same bundle works when served
 * at `/` by the API server and when loaded from disk by Electron.
 */
export default defineConfig({
  root: here('./renderer'),
  base: './',
  publicDir: false,
  oxc: { jsx: { runtime: 'automatic' } },
  build: {
    outDir: here('./dist/renderer'),
    emptyOutDir: true,
    target: 'es2022',
    // One bundle of about 480 KB raw / 137 KB gzip; its budget (200 KB gzip) is checked by
    // `npm run bench:ui`, so Vite's generic 500 KB-raw warning is raised to the budget's scale.
    chunkSizeWarningLimit: 700,
    rolldownOptions: {
      onwarn(warning, warn) {
        // react-query ships "use client" directives; meaningless in a client-only bundle.
        if (warning.code === 'MODULE_LEVEL_DIRECTIVE') return;
        warn(warning);
      },
    },
  },
  server: {
    // renderer/ imports shared code from ../common
    fs: { allow: [here('./')] },
  },
});

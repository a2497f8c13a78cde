import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

/**
 * Builds the dashboard (src/dashboard/app) to dist/dashboard/app, served by src/dashboard/index.ts.
 * Everything is bundled: no CDN, nothing fetched at run time. Assets are never inlined as data:
 * URIs and no inline script is emitted, so the served HTML keeps a strict Content-Security-Policy.
 */
export default defineConfig({
  root: fileURLToPath(new URL('./app/', import.meta.url)),
  // Relative asset URLs: the dashboard also works behind a proxy that mounts it under a path.
  base: './',
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: {
    outDir: fileURLToPath(new URL('../../dist/dashboard/app/', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    reportCompressedSize: true,
    chunkSizeWarningLimit: 900,
  },
  logLevel: 'warn',
});

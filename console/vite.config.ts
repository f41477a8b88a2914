/// <reference types="vitest/config" />
// The console's build (embedded in the `sluice` binary from dist/), its dev server (which
// proxies the API to a running `sluice serve`: SLUICE_URL, default http://127.0.0.1:8780)
// and its unit tests.
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';

/** Empties dist/ but keeps the folder itself (cargo watches it) and any .gitignore. */
function cleanDist(): Plugin {
  let outDir = '';
  return {
    name: 'sluice-clean-dist',
    apply: 'build',
    configResolved(config) {
      outDir = resolve(config.root, config.build.outDir);
    },
    buildStart() {
      if (!existsSync(outDir)) return;
      for (const entry of readdirSync(outDir)) {
        if (entry !== '.gitignore') rmSync(join(outDir, entry), { recursive: true, force: true });
      }
    },
  };
}

const api = process.env.SLUICE_URL ?? 'http://127.0.0.1:8780';

export default defineConfig({
  plugins: [react(), cleanDist()],
  build: {
    outDir: 'dist',
    emptyOutDir: false,
    sourcemap: false,
    chunkSizeWarningLimit: 1500,
  },
  server: {
    proxy: { '/api': api },
  },
  test: {
    include: ['src/**/*.test.ts'],
    environment: 'node',
  },
});

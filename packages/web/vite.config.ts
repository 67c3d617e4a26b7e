// The UI is a static bundle in dist/ui that `linktrace serve` hands out at `/`; relative asset
// paths keep it working under any prefix a proxy puts in front.
import { defineConfig } from 'vite';

export default defineConfig({
  base: './',
  build: {
    outDir: 'dist/ui',
    emptyOutDir: true,
    // One small app: a single chunk is fine, and no warning noise about its size.
    chunkSizeWarningLimit: 1024,
  },
  server: {
    proxy: { '/api': 'http://127.0.0.1:4318', '/healthz': 'http://127.0.0.1:4318' },
  },
});

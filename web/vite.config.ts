import path from 'node:path';
import { defineConfig } from 'vite';

/** Address of the API server that `vite` (dev) forwards /graphql (HTTP and WebSocket) and /api to. */
const apiTarget = process.env.TUNEDECK_API_URL ?? 'http://127.0.0.1:4000';

export default defineConfig({
  root: import.meta.dirname,
  base: '/',
  build: {
    outDir: path.join(import.meta.dirname, 'dist'),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
  },
  server: {
    proxy: {
      '/graphql': { target: apiTarget, ws: true, changeOrigin: false },
      // Log downloads (GET /api/jobs/<id>/logs).
      '/api': { target: apiTarget, changeOrigin: false },
    },
  },
});

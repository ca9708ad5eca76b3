import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The web app lives in web/; `npm run build` writes web/dist, which the server serves.
// In development, Vite's dev server proxies the API (HTTP and WebSocket) to the server on :3000.
// Source maps only for `vite build --mode development`: a production build would publish the client's
// whole source next to it (and the server refuses to serve .map files in production anyway).
export default defineConfig(({ mode }) => ({
  root: 'web',
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: mode === 'development' },
  server: {
    port: 5173,
    proxy: {
      '/trpc': { target: 'http://localhost:3000', ws: true },
      '/exports': 'http://localhost:3000',
    },
  },
}));

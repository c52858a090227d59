/// <reference types="vitest/config" />
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// The API (`edugraph demo`, default port 8080) serves the built app itself; in development
// Vite serves the app and forwards the API and the Microsoft sign-in routes to it.
const api = process.env.EDUGRAPH_API ?? 'http://localhost:8080';

export default defineConfig({
  plugins: [react()],
  server: {
    proxy: {
      '/api': { target: api },
      '/auth': { target: api },
    },
  },
  build: {
    // The CSP allows only our own files: never inline anything (no data: fonts/scripts,
    // no inline module-preload polyfill).
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: false,
  },
  test: {
    include: ['src/**/*.test.ts', 'src/**/*.test.tsx'],
    environment: 'node',
  },
});

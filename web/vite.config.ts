import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

/** The console builds from web/ into web/dist, which the server serves at `/` (src/app.ts `webRoot`). */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // Libraries change less often than the console: separate files stay cached across releases.
    rollupOptions: {
      output: {
        manualChunks: {
          react: ['react', 'react-dom', 'react-router'],
          mantine: ['@mantine/core', '@mantine/hooks', '@mantine/notifications'],
          query: ['@tanstack/react-query', 'openapi-fetch'],
        },
      },
    },
  },
  // `npm run dev` serves the API on :8080; the dev server forwards to it so cookies stay same-origin.
  server: { proxy: { '/api': 'http://localhost:8080' } },
});

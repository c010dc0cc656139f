import { defineConfig } from 'vite';

/**
 * The dashboard: built into web/dist and served by the API at `/` (api/static.ts). `vite web` serves it in
 * development on its own port and forwards /api and /docs to the API (FLOWBOT_API, default localhost:3000).
 * JSX is compiled by Vite's own transformer (no React plugin: no fast refresh, a plain reload instead).
 */
export default defineConfig({
  base: '/',
  oxc: { jsx: { runtime: 'automatic' } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: true,
    chunkSizeWarningLimit: 1500,
    rolldownOptions: {
      // @xyflow/react marks itself "use client" for server components; meaningless in this client-only bundle.
      onwarn(warning, warn) {
        if (warning.code !== 'MODULE_LEVEL_DIRECTIVE') warn(warning);
      },
    },
  },
  server: {
    proxy: {
      '/api': process.env.FLOWBOT_API ?? 'http://localhost:3000',
      '/docs': process.env.FLOWBOT_API ?? 'http://localhost:3000',
    },
  },
});

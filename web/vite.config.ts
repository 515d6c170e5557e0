import { defineConfig } from 'vite';

// Hale serves the build at / (server/src/portal/static-files.ts); `npm run -w web dev` serves the sources
// and hands every API path to a running Hale (HALE_URL, default http://localhost:8103).
const hale = process.env.HALE_URL ?? 'http://localhost:8103';
const api = ['/fhir', '/oauth2', '/auth', '/.well-known', '/healthcheck'];

export default defineConfig({
  // JSX through esbuild's automatic runtime (tsconfig "jsx": "react-jsx"): no Babel plugin needed.
  esbuild: { jsx: 'automatic' },
  // Another workspace's dependency puts React 18 at the repository root, where hoisted packages
  // (@medplum/react-hooks) would find it: one copy of each, the portal's own.
  resolve: { dedupe: ['react', 'react-dom', '@mantine/core', '@mantine/hooks'] },
  build: {
    target: 'es2022',
    sourcemap: false,
    chunkSizeWarningLimit: 1500,
    rollupOptions: {
      // Mantine marks its modules "use client" for React Server Components; a client-only bundle ignores that.
      onwarn(warning, warn) {
        if (warning.code !== 'MODULE_LEVEL_DIRECTIVE') {
          warn(warning);
        }
      },
      output: {
        // React and Mantine change rarely: their own long-cached chunk, shared by the sign-in page and the screens.
        manualChunks: (id) =>
          /node_modules\/(react|react-dom|scheduler|@mantine\/core|@mantine\/hooks|@floating-ui)\//.test(id)
            ? 'vendor'
            : undefined,
      },
    },
  },
  server: {
    port: 5173,
    proxy: Object.fromEntries(api.map((path) => [path, { target: hale, changeOrigin: false }])),
  },
});

// Vite config for the renderer. Built with `vite build --config renderer/vite.config.ts` from the repo
// root (or by scripts/build.ts); output goes to dist/renderer, which Electron loads from disk and
// `factorlab serve` serves over HTTP, hence the relative base.
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';

const root = fileURLToPath(new URL('.', import.meta.url));

/** The dev server injects inline scripts (React refresh); the CSP stays strict in every build. */
function relaxCspInDev(): Plugin {
  return {
    name: 'factorlab-dev-csp',
    apply: 'serve',
    transformIndexHtml: (html) => html.replace(/<meta http-equiv="Content-Security-Policy"[^>]*>\s*/, ''),
  };
}

export default defineConfig({
  root,
  base: './',
  plugins: [react(), relaxCspInDev()],
  build: {
    outDir: fileURLToPath(new URL('../dist/renderer', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    reportCompressedSize: false,
  },
  server: { host: '127.0.0.1' },
});

// The sandboxed preload must be one CommonJS file that requires nothing but 'electron'.
import { build } from 'vite';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
await build({
  configFile: false,
  logLevel: 'warn',
  build: {
    outDir: join(root, 'dist', 'electron'),
    emptyOutDir: false,
    minify: false,
    lib: { entry: join(root, 'electron', 'preload.ts'), formats: ['cjs'], fileName: () => 'preload.cjs' },
    rollupOptions: { external: ['electron'] },
  },
});

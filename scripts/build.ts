// Builds what the desktop app and serve mode load: the renderer (Vite) into dist/renderer, and with
// no flag also the main process (tsc, .ts -> .js) into dist/electron + dist/native-models and the
// sandboxed preload bundled to CommonJS (dist/electron/preload.cjs).
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const rendererOnly = process.argv.includes('--renderer-only');

function step(title: string, cmd: string, args: string[]): void {
  const t0 = Date.now();
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`build failed: ${title}`);
    process.exit(r.status ?? 1);
  }
  console.log(`built ${title} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

const bin = (name: string) => join(root, 'node_modules', '.bin', name);
step('renderer', bin('vite'), ['build', '--config', 'renderer/vite.config.ts', '--logLevel', 'warn']);
if (!rendererOnly) {
  step('main process', bin('tsc'), ['-p', 'tsconfig.electron.json']);
  step('preload', process.execPath, [join(root, 'scripts', 'build-preload.ts')]);
}

// Builds the renderer when it is stale, makes a temp lab with a small dataset (good images plus
// broken files for the skipped report), starts `factorlab serve` on it and hands the URL to the
// tests through the environment. Returns the teardown.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../helpers/temp-dir.ts';
import { makeE2eData, type E2eData } from './e2e-data.ts';
import { startServer, stopServer } from './serve.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

function buildRendererIfStale(): void {
  const index = join(root, 'dist', 'renderer', 'index.html');
  const sources = Math.max(newestMtime(join(root, 'renderer')), statSync(join(root, 'electron', 'contract.ts')).mtimeMs);
  if (existsSync(index) && statSync(index).mtimeMs >= sources) return;
  const script = join(root, 'scripts', 'build.ts');
  const r = existsSync(script)
    ? spawnSync(process.execPath, [script, '--renderer-only'], { cwd: root, stdio: 'inherit' })
    : spawnSync(join(root, 'node_modules', '.bin', 'vite'), ['build', '--config', 'renderer/vite.config.ts', '--logLevel', 'warn'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) throw new Error('e2e setup: building the renderer failed');
}

export default async function globalSetup(): Promise<() => Promise<void>> {
  if (!process.env.FACTORLAB_E2E_NO_BUILD) buildRendererIfStale();
  const results = join(root, 'test-results');
  mkdirSync(join(results, 'screenshots'), { recursive: true });
  const tmp = tempDir('factorlab-e2e-');
  const data: E2eData = await makeE2eData(join(tmp.path, 'data'), root);
  const { url, child } = await startServer(join(tmp.path, 'lab'), join(results, 'e2e-server.log'));
  process.env.FACTORLAB_E2E_URL = url;
  process.env.FACTORLAB_E2E_DATA = JSON.stringify(data);

  return async () => {
    await stopServer(child);
    if (!process.env.FACTORLAB_E2E_KEEP) tmp.remove();
    else console.log(`e2e lab kept at ${tmp.path}`);
  };
}

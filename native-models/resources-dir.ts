import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | null = null;

/** The project's `resources/` folder, found by walking up from this file, so that it works from
 * the source tree, from the compiled `dist/` and from a packaged app (FACTORLAB_RESOURCES overrides). */
export function resourcesDir(): string {
  if (cached) return cached;
  const override = process.env.FACTORLAB_RESOURCES;
  if (override) return (cached = override);
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, 'resources');
    if (existsSync(join(candidate, 'imagenet', 'wnids.txt'))) return (cached = candidate);
    dir = dirname(dir);
  }
  throw new Error('cannot find the resources/ folder (set FACTORLAB_RESOURCES to its path)');
}

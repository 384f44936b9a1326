import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Folder of a committed ShapeWorld model package (`classifier`, later `clip`, `diffusion`), found
 * by walking up from this file so it works from the source tree, dist/ and a packaged app. */
export function shapeworldPackageDir(kind: 'classifier'): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, 'native-models', 'shapeworld', 'models', kind);
    if (existsSync(join(candidate, 'manifest.json'))) return candidate;
    const here = join(dir, 'models', kind);
    if (existsSync(join(here, 'manifest.json'))) return here;
    dir = dirname(dir);
  }
  throw new Error(`the ShapeWorld ${kind} package is missing (native-models/shapeworld/models/${kind}/manifest.json): run npm run build:shapeworld`);
}

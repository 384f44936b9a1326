import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export type ShapeWorldPackage = 'classifier' | 'clip' | 'diffusion' | 'captioner';

/** The file that marks a package folder: FactorLab's manifest, or diffusers' pipeline index for the
 * text-to-image model (which is in the Hugging Face Optimum layout, like any SD export), and the
 * captioner's encoder (Optimum's VisionEncoderDecoder layout). */
const MARKER: Record<ShapeWorldPackage, string> = { classifier: 'manifest.json', clip: 'manifest.json', diffusion: 'model_index.json', captioner: 'encoder_model.onnx' };

/** Folder of a committed ShapeWorld model package, found by walking up from this file so it works
 * from the source tree, dist/ and a packaged app. */
export function shapeworldPackageDir(kind: ShapeWorldPackage): string {
  const marker = MARKER[kind];
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, 'native-models', 'shapeworld', 'models', kind);
    if (existsSync(join(candidate, marker))) return candidate;
    const here = join(dir, 'models', kind);
    if (existsSync(join(here, marker))) return here;
    dir = dirname(dir);
  }
  throw new Error(`the ShapeWorld ${kind} package is missing (native-models/shapeworld/models/${kind}/${marker}): run npm run build:shapeworld`);
}

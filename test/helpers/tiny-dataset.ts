import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeImage } from './make-images.ts';

export const TINY_CLASSES = ['alpha', 'bravo', 'charlie', 'delta', 'echo'];
export const TINY_MODEL = new URL('../fixtures/models/tiny_gemm.onnx', import.meta.url).pathname;

/** An ImageNet-style folder of `perClass` images in each of the tiny model's 5 classes, and a labels
 * file naming those classes in the model's order. */
export async function makeTinyDataset(dir: string, perClass: number, size = 48): Promise<{ root: string; labels: string }> {
  const root = join(dir, 'tiny');
  for (let c = 0; c < TINY_CLASSES.length; c++)
    for (let i = 0; i < perClass; i++)
      await writeImage(join(root, TINY_CLASSES[c], `${i}.jpg`), { w: size, h: size, rgb: [(c * 50 + i * 7) & 255, (c * 30) & 255, (i * 13) & 255] });
  const labels = join(dir, 'tiny-labels.txt');
  writeFileSync(labels, TINY_CLASSES.join('\n') + '\n');
  return { root, labels };
}

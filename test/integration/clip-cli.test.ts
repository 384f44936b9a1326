import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateSplit } from '../../native-models/shapeworld/index.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { factorlab } from '../helpers/cli.ts';

const CLIP = new URL('../../native-models/shapeworld/models/clip', import.meta.url).pathname;
const CLASSES = ['star', 'heart', 'house', 'tree', 'fish', 'car', 'cup', 'key', 'arrow', 'umbrella'];

describe('factorlab clip zero-shot', () => {
  it('classifies ShapeWorld test images by class name with the ShapeWorld CLIP package', async () => {
    const tmp = tempDir();
    try {
      const images = join(tmp.path, 'images');
      await generateSplit({ outDir: images, split: 'test', count: 60, seed: 3 });
      const labels = join(tmp.path, 'labels.txt');
      writeFileSync(labels, CLASSES.join('\n'));
      const r = factorlab(['clip', 'zero-shot', '--model', CLIP, '--images', images, '--labels', labels, '--template', 'a photo of a {}', '--template', 'a photo of the {}', '--json']);
      expect(r.code, r.stderr).toBe(0);
      const out = JSON.parse(r.stdout) as { provider: string; images: { file: string; top5: { name: string; prob: number }[]; error?: string }[] };
      const scored = out.images.filter((i) => !i.error);
      expect(scored).toHaveLength(60);
      expect(out.images.filter((i) => i.error).map((i) => i.file).sort()).toEqual(['factors.jsonl', 'scenes.jsonl', 'shapeworld.json']);
      const correct = scored.filter((i) => i.file.split('/')[0] === i.top5[0].name).length;
      // Issue 3's target is 90 % on the whole test split (92.3 % measured); 60 images get a margin.
      expect(correct / 60).toBeGreaterThan(0.8);
      expect(scored[0].top5.reduce((a, t) => a + t.prob, 0)).toBeLessThanOrEqual(1 + 1e-6);
    } finally {
      tmp.remove();
    }
  });

  it('refuses a classifier package and missing arguments, naming the file', () => {
    expect(factorlab(['clip', 'zero-shot', '--model', CLIP]).code).toBe(2);
    const tmp = tempDir();
    try {
      const labels = join(tmp.path, 'labels.txt');
      writeFileSync(labels, CLASSES.join('\n'));
      const wrong = factorlab(['clip', 'zero-shot', '--model', new URL('../../native-models/shapeworld/models/classifier', import.meta.url).pathname, '--images', tmp.path, '--labels', labels]);
      expect(wrong.code).not.toBe(0);
      expect(wrong.stderr).toMatch(/classifier[\s\S]*manifest\.json|manifest\.json[\s\S]*classifier/);
    } finally {
      tmp.remove();
    }
  });
});

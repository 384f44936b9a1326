import { describe, expect, it } from 'vitest';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createRng } from '../../../native-models/shapeworld/rng.ts';
import { generateSplit, sceneAt } from '../../../native-models/shapeworld/generate.ts';
import { renderScene } from '../../../native-models/shapeworld/render.ts';

describe('ShapeWorld determinism', () => {
  it('the rng gives the same stream for the same seed parts and another for other parts', () => {
    const a = createRng(42, 'train', 7);
    const b = createRng(42, 'train', 7);
    const c = createRng(42, 'train', 8);
    const sa = Array.from({ length: 100 }, () => a.next());
    const sb = Array.from({ length: 100 }, () => b.next());
    const sc = Array.from({ length: 100 }, () => c.next());
    expect(sa).toEqual(sb);
    expect(sa).not.toEqual(sc);
    expect(Math.min(...sa)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...sa)).toBeLessThan(1);
  });

  it('same seed gives the same scene and identical PNG bytes; another seed differs', async () => {
    for (const split of ['train', 'test'] as const) {
      for (let i = 0; i < 10; i++) {
        const s1 = sceneAt(5, split, i);
        const s2 = sceneAt(5, split, i);
        expect(s2).toEqual(s1);
        const p1 = await renderScene(s1);
        const p2 = await renderScene(s2);
        expect(p1.equals(p2)).toBe(true);
        const other = await renderScene(sceneAt(6, split, i));
        expect(other.equals(p1)).toBe(false);
      }
    }
  });

  it('generateSplit writes byte-identical folders for the same seed', async () => {
    const tmp = await mkdtemp(path.join(os.tmpdir(), 'sw-det-'));
    try {
      const a = path.join(tmp, 'a');
      const b = path.join(tmp, 'b');
      const c = path.join(tmp, 'c');
      await generateSplit({ outDir: a, split: 'val', count: 24, seed: 11, concurrency: 4 });
      await generateSplit({ outDir: b, split: 'val', count: 24, seed: 11, concurrency: 1 });
      await generateSplit({ outDir: c, split: 'val', count: 24, seed: 12 });
      const files = (await readdir(a, { recursive: true })).filter((f) => f.endsWith('.png') || f.endsWith('.jsonl')).sort();
      expect(files.length).toBe(26);
      let differ = 0;
      for (const f of files) {
        const fa = await readFile(path.join(a, f));
        expect(fa.equals(await readFile(path.join(b, f))), f).toBe(true);
        if (!fa.equals(await readFile(path.join(c, f)))) differ++;
      }
      expect(differ).toBe(files.length);
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  });
});

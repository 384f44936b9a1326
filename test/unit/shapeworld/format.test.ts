import { describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { generateSplit } from '../../../native-models/shapeworld/generate.ts';
import { CLASS_NAMES, FACTORS } from '../../../native-models/shapeworld/world.ts';
import { captionScene } from '../../../native-models/shapeworld/caption.ts';
import { composeScene } from '../../../native-models/shapeworld/scene.ts';
import classesJson from '../../../resources/shapeworld/classes.json' with { type: 'json' };
import backgroundsJson from '../../../resources/shapeworld/backgrounds.json' with { type: 'json' };
import { SHAPES } from '../../../native-models/shapeworld/shapes.ts';
import { DRAWN_BACKGROUNDS } from '../../../native-models/shapeworld/backgrounds.ts';

describe('ShapeWorld files', () => {
  it('writes an ImageNet-style folder, ImageNet-X factors.jsonl and scenes.jsonl', async () => {
    const tmp = await mkdtemp(path.join(os.tmpdir(), 'sw-fmt-'));
    try {
      const res = await generateSplit({ outDir: tmp, split: 'test', count: 40, seed: 3 });
      expect(res.count).toBe(40);
      expect(Object.values(res.classCounts)).toEqual(Array(10).fill(4));
      const lines = (await readFile(path.join(tmp, 'factors.jsonl'), 'utf8')).trim().split('\n');
      const scenes = (await readFile(path.join(tmp, 'scenes.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
      expect(lines.length).toBe(40);
      expect(scenes.length).toBe(40);
      const keys = ['file_name', 'class', ...FACTORS, 'justification', 'one_word'];
      for (const [i, line] of lines.entries()) {
        const rec = JSON.parse(line) as Record<string, unknown>;
        expect(Object.keys(rec)).toEqual(keys);
        expect(rec.file_name).toBe(`test_${String(i).padStart(6, '0')}.png`);
        expect(Number.isInteger(rec.class)).toBe(true);
        expect(rec.class).toBe(i % 10);
        for (const f of FACTORS) expect([0, 1]).toContain(rec[f]);
        expect(typeof rec.justification).toBe('string');
        expect((rec.justification as string).length).toBeGreaterThan(10);
        expect(typeof rec.one_word).toBe('string');
        const sc = scenes[i];
        expect(sc.file).toBe(`${CLASS_NAMES[rec.class as number]}/${rec.file_name}`);
        for (const f of FACTORS) expect(sc.factors[f]).toBe(rec[f]);
        expect(sc.captions.short).toMatch(/^a photo of an? /);
        const file = path.join(tmp, sc.file);
        expect(existsSync(file)).toBe(true);
        if (i < 5) {
          const meta = await sharp(file).metadata();
          expect([meta.width, meta.height, meta.channels, meta.format]).toEqual([64, 64, 3, 'png']);
        }
      }
      const meta = JSON.parse(await readFile(path.join(tmp, 'shapeworld.json'), 'utf8'));
      expect(meta.classes).toEqual(CLASS_NAMES);
      expect(meta.size).toBe(64);
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  });

  it('resources list every drawn class and background, in index order', () => {
    expect(classesJson.classes.map((c) => c.name)).toEqual(CLASS_NAMES);
    expect(classesJson.classes.length).toBe(10);
    for (const c of classesJson.classes) expect(SHAPES[c.name]!.length).toBe(c.variants.length);
    expect(backgroundsJson.backgrounds.map((b) => b.name).sort()).toEqual([...DRAWN_BACKGROUNDS].sort());
    expect(backgroundsJson.backgrounds.length).toBe(8);
  });

  it('captions name the class, background and factors', () => {
    const s = composeScene({ classIndex: 0, background: 'grass', factors: { smaller: 1, pattern: 1, person_blocking: 1 }, seed: 9 });
    const c = captionScene(s);
    expect(c.short).toBe('a photo of a star on grass');
    expect(c.long).toMatch(/^a photo of a small .*star on grass/);
    expect(c.long).toContain('behind a person');
    const plainCup = captionScene(composeScene({ classIndex: 6, background: 'wood', factors: {}, seed: 1 }));
    expect(plainCup).toEqual({ short: 'a photo of a cup on wood', long: 'a photo of a white cup on wood' });
    const sketch = captionScene(composeScene({ classIndex: 4, background: 'snow', factors: { style: 1, multiple_objects: 1 }, seed: 2 }));
    expect(sketch.long).toMatch(/^(an outline drawing|a pencil sketch) of (two|three) orange fish on snow$/);
  });
});

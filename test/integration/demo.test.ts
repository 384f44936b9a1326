import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { tempDir } from '../helpers/temp-dir.ts';
import { factorlab } from '../helpers/cli.ts';

describe('factorlab demo (ShapeWorld)', () => {
  it('generates, imports, runs the ShapeWorld classifier and reports per-factor error ratios; a second run reuses everything', () => {
    const tmp = tempDir();
    try {
      const lab = join(tmp.path, 'demo');
      const r = factorlab(['demo', '--lab', lab, '--images', '200', '--generate', '2', '--json']);
      expect(r.code, r.stderr).toBe(0);
      const out = JSON.parse(r.stdout);
      expect(out.run).toMatchObject({ numImages: 200, numDone: 200, numScored: 200, status: 'done', modelName: 'shapeworld-cnn' });
      expect(out.run.accuracy).toBeCloseTo(out.run.numCorrect / 200, 12);
      expect(out.reused).toBe(false);
      // The world's planted bias: the classifier is right far more often on usual backgrounds.
      expect(out.accuracyUsualBackground).toBeGreaterThan(out.accuracyUncommonBackground + 0.2);
      const background = out.errorRatios.factors.find((f: { factor: string }) => f.factor === 'background');
      expect(background.count).toBeGreaterThan(0);
      expect(background.errorRatio).toBeGreaterThan(1);
      expect(out.errorRatios.factors).toHaveLength(16);
      // The three ShapeWorld packages, CLIP attribution of the seed failures, the generation check.
      expect(out.packages.clip).toMatch(/shapeworld[\\/]models[\\/]clip$/);
      expect(out.packages.diffusion).toMatch(/shapeworld[\\/]models[\\/]diffusion$/);
      const failures = out.run.numScored - out.run.numCorrect;
      expect(out.attribution.numFailures).toBe(failures);
      expect(Math.abs(out.attribution.numSeed - out.attribution.numHeldout)).toBeLessThanOrEqual(10);
      const classes = Object.keys(out.attribution.backgrounds);
      expect(classes.length).toBeGreaterThan(0);
      for (const c of classes) expect(out.attribution.backgrounds[c].length).toBeGreaterThan(0);
      expect(out.generation.images).toBe(classes.length * 2 * 2);
      expect(out.generation.classes).toHaveLength(classes.length);
      for (const c of out.generation.classes) for (const a of [c.attributedAccuracy, c.plainAccuracy]) expect([0, 0.5, 1]).toContain(a);
      const again = JSON.parse(factorlab(['demo', '--lab', lab, '--images', '200', '--generate', '0', '--json']).stdout);
      expect(again.generation).toBeNull();
      expect(again.attribution.id).toBe(out.attribution.id);
      expect(again.reused).toBe(true);
      expect(again.run.id).toBe(out.run.id);
      expect(again.seconds.generate).toBe(0);
      // The ground truth is stored once, as an annotation source of kind 'ground-truth'.
      expect(again.errorRatios.sourceId).toBe(out.errorRatios.sourceId);
      const sources = factorlab(['imagenetx', 'export', '--lab', lab, '--source', out.errorRatios.sourceName, '--out', join(tmp.path, 'truth.jsonl')]);
      expect(sources.code, sources.stderr).toBe(0);
      expect(sources.stdout).toContain('200 annotations written');
    } finally {
      tmp.remove();
    }
  });

  it('refuses a nonsensical image count', () => {
    const r = factorlab(['demo', '--images', '3']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--images');
    const g = factorlab(['demo', '--generate', '-1']);
    expect(g.code).toBe(2);
    expect(g.stderr).toContain('--generate');
  });
});

import { describe, expect, it } from 'vitest';
import { sceneAt } from '../../../native-models/shapeworld/generate.ts';
import { BACKGROUND_NAMES, CLASSES, VISUAL_FACTORS } from '../../../native-models/shapeworld/world.ts';
import { DEFAULT_SETTINGS, mergeSettings } from '../../../native-models/shapeworld/scene.ts';
import type { Split, WorldSettings } from '../../../native-models/shapeworld/scene.ts';

const N = 6000;

function stats(split: Split, settings: WorldSettings = DEFAULT_SETTINGS) {
  const scenes = Array.from({ length: N }, (_, i) => sceneAt(21, split, i, settings));
  const rate = (pred: (s: (typeof scenes)[number]) => boolean): number => scenes.filter(pred).length / N;
  return { scenes, rate };
}

/** Binomial tolerance: 4.5 standard errors. */
const tol = (p: number, n = N): number => 4.5 * Math.sqrt((p * (1 - p)) / n) + 1e-9;

describe('ShapeWorld split proportions', () => {
  it('train is biased: usual backgrounds at the set rate, each factor at its rate', () => {
    const sp = DEFAULT_SETTINGS.splits.train;
    const { scenes, rate } = stats('train');
    const usual = rate((s) => s.factors.background === 0);
    expect(Math.abs(usual - sp.usualBackgroundRate!)).toBeLessThan(tol(sp.usualBackgroundRate!));
    for (const f of VISUAL_FACTORS) {
      const p = sp.factorRates[f];
      expect(Math.abs(rate((s) => s.factors[f] === 1) - p), f).toBeLessThan(tol(p));
    }
    // classes exactly balanced
    for (const c of CLASSES) expect(scenes.filter((s) => s.classIndex === c.index).length).toBe(N / CLASSES.length);
    // unusual backgrounds are spread over all the others
    const off = scenes.filter((s) => s.factors.background === 1);
    expect(new Set(off.map((s) => s.background)).size).toBe(BACKGROUND_NAMES.length);
  });

  it('test is balanced over backgrounds and has factors at the set rates', () => {
    const sp = DEFAULT_SETTINGS.splits.test;
    const { scenes, rate } = stats('test');
    for (const b of BACKGROUND_NAMES) {
      expect(Math.abs(rate((s) => s.background === b) - 1 / 8), b).toBeLessThan(tol(1 / 8));
    }
    // per class too: each background about 1/8 of the class's images
    for (const c of CLASSES) {
      const mine = scenes.filter((s) => s.classIndex === c.index);
      for (const b of BACKGROUND_NAMES) {
        expect(Math.abs(mine.filter((s) => s.background === b).length / mine.length - 1 / 8)).toBeLessThan(tol(1 / 8, mine.length));
      }
    }
    const expectedBg = CLASSES.reduce((a, c) => a + (8 - c.usualBackgrounds.length) / 8, 0) / CLASSES.length;
    expect(Math.abs(rate((s) => s.factors.background === 1) - expectedBg)).toBeLessThan(tol(expectedBg));
    for (const f of VISUAL_FACTORS) {
      const p = sp.factorRates[f];
      expect(Math.abs(rate((s) => s.factors[f] === 1) - p), f).toBeLessThan(tol(p));
    }
  });

  it('settings change the proportions', () => {
    const settings = mergeSettings(DEFAULT_SETTINGS, { splits: { train: { usualBackgroundRate: 0.5, factorRates: { pose: 0.3 } } } });
    const { rate } = stats('train', settings);
    expect(Math.abs(rate((s) => s.factors.background === 0) - 0.5)).toBeLessThan(tol(0.5));
    expect(Math.abs(rate((s) => s.factors.pose === 1) - 0.3)).toBeLessThan(tol(0.3));
    expect(Math.abs(rate((s) => s.factors.color === 1) - DEFAULT_SETTINGS.splits.train.factorRates.color)).toBeLessThan(
      tol(DEFAULT_SETTINGS.splits.train.factorRates.color),
    );
  });
});

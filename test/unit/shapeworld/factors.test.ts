import { describe, expect, it } from 'vitest';
import { createRng } from '../../../native-models/shapeworld/rng.ts';
import { BACKGROUND_NAMES, CLASSES, FACTORS, VISUAL_FACTORS } from '../../../native-models/shapeworld/world.ts';
import type { FactorName, FactorVector } from '../../../native-models/shapeworld/world.ts';
import { hueDistance } from '../../../native-models/shapeworld/color.ts';
import {
  DEFAULT_SETTINGS,
  RANGES,
  apparentRotation,
  composeScene,
  emptyFactors,
  sampleScene,
  withFactors,
} from '../../../native-models/shapeworld/scene.ts';
import type { Scene } from '../../../native-models/shapeworld/scene.ts';
import { renderScene } from '../../../native-models/shapeworld/render.ts';
import { borderCount, mask, meanLuminance } from './helpers.ts';

/** A plain scene of each class on a usual background: no factor set. */
function plain(classIndex: number, seed: number): Scene {
  return composeScene({ classIndex, background: CLASSES[classIndex]!.usualBackgrounds[0]!, factors: {}, seed });
}

const SEEDS = [1, 2];

describe('ShapeWorld factor ground truth', () => {
  it('plain scenes have no factor and keep the object inside the frame', async () => {
    for (const c of CLASSES) {
      for (const seed of SEEDS) {
        const s = plain(c.index, seed);
        expect(FACTORS.every((f) => s.factors[f] === 0)).toBe(true);
        expect(s.topFactor).toBeNull();
        const m = await mask(s);
        expect(m.count).toBeGreaterThan(150);
        expect(borderCount(m)).toBe(0);
      }
    }
  });

  it('darker lowers and brighter raises the mean luminance of the same scene', async () => {
    for (const c of CLASSES) {
      for (const seed of SEEDS) {
        const base = plain(c.index, seed);
        const y0 = await meanLuminance(base);
        const dark = await meanLuminance(withFactors(base, { darker: 1 }));
        const bright = await meanLuminance(withFactors(base, { brighter: 1 }));
        expect(dark).toBeLessThan(y0 * 0.75);
        expect(bright).toBeGreaterThan(y0 + 0.2 * (255 - y0));
      }
    }
  });

  it('smaller covers fewer pixels and larger more than the same scene without', async () => {
    for (const c of CLASSES) {
      for (const seed of SEEDS) {
        const base = plain(c.index, seed);
        const n0 = (await mask(base)).count;
        const small = await mask(withFactors(base, { smaller: 1 }));
        const large = await mask(withFactors(base, { larger: 1 }));
        expect(small.count).toBeLessThan(n0 * 0.6);
        expect(large.count).toBeGreaterThan(n0 * 1.4);
        expect(borderCount(small)).toBe(0);
      }
    }
  });

  it('partial_view cuts the object at the frame; blocking factors hide part of it', async () => {
    for (const c of CLASSES) {
      for (const seed of SEEDS) {
        const base = plain(c.index, seed);
        const n0 = (await mask(base)).count;
        const cut = withFactors(base, { partial_view: 1 });
        const mc = await mask(cut);
        expect(borderCount(mc), `${c.name} cut border`).toBeGreaterThan(0);
        expect(mc.count, `${c.name} cut`).toBeLessThan(n0 * 0.85);
        const occ = await mask(withFactors(base, { object_blocking: 1 }));
        expect(occ.count, `${c.name} object_blocking`).toBeLessThan(n0 * 0.9);
        const per = await mask(withFactors(base, { person_blocking: 1 }));
        expect(per.count, `${c.name} person_blocking`).toBeLessThan(n0 * 0.9);
      }
    }
  });

  it('pose, colour, shape, multiple objects and subcategory parameters follow their labels', () => {
    for (let i = 0; i < 400; i++) {
      const s = sampleScene(createRng('gt', i), 'test');
      const cls = CLASSES[s.classIndex]!;
      const inst = s.object.instances[0]!;
      const apparent = apparentRotation(inst.rotation, s.className, s.object.variant);
      if (s.factors.pose) expect(apparent).toBeGreaterThanOrEqual(45);
      else expect(Math.abs(inst.rotation)).toBeLessThanOrEqual(RANGES.usualRotation);
      const hd = hueDistance(s.object.color.h, cls.usualColor.h);
      if (s.factors.color) {
        if (cls.usualColor.s >= 30) expect(hd).toBeGreaterThanOrEqual(RANGES.unusualHueDistance - 1e-9);
        expect(s.object.color.s).toBeGreaterThanOrEqual(65);
      } else {
        expect(hd).toBeLessThanOrEqual(RANGES.usualHueJitter + 1e-9);
        expect(Math.abs(s.object.color.s - cls.usualColor.s)).toBeLessThanOrEqual(8);
      }
      const ratio = Math.max(s.object.stretchX / s.object.stretchY, s.object.stretchY / s.object.stretchX);
      if (s.factors.shape) expect(ratio).toBeGreaterThanOrEqual(RANGES.shapeStretch[0] - 1e-9);
      else expect(ratio).toBeLessThan(1.11);
      expect(s.object.instances.length > 1).toBe(s.factors.multiple_objects === 1);
      expect(s.object.variant > 0).toBe(s.factors.subcategory === 1);
      expect(s.object.style !== 'filled').toBe(s.factors.style === 1);
      expect(s.object.pattern !== null).toBe(s.factors.pattern === 1);
      expect(s.object.texture !== null).toBe(s.factors.texture === 1);
      expect(s.occluder !== null).toBe(s.factors.object_blocking === 1);
      expect(s.person !== null).toBe(s.factors.person_blocking === 1);
      expect(s.object.cut !== null).toBe(s.factors.partial_view === 1);
      if (!s.factors.multiple_objects) {
        if (s.factors.smaller) expect(inst.scale).toBeLessThanOrEqual(RANGES.smallerScale[1]);
        else if (s.factors.larger) expect(inst.scale).toBeGreaterThanOrEqual(RANGES.largerScale[0] * 0.95 ** 20);
        else expect(inst.scale).toBeGreaterThanOrEqual(RANGES.usualScale[0] * 0.95 ** 20);
      }
    }
  });

  it('the background factor is set exactly when the background is not one of the class usual ones', () => {
    for (const split of ['train', 'val', 'test'] as const) {
      for (let i = 0; i < 500; i++) {
        const s = sampleScene(createRng('bg', split, i), split);
        const usual = CLASSES[s.classIndex]!.usualBackgrounds.includes(s.background);
        expect(s.factors.background).toBe(usual ? 0 : 1);
      }
    }
    // composeScene recomputes it whatever the caller says.
    const s = composeScene({ classIndex: 0, background: 'grass', factors: { background: 0 }, seed: 3 });
    expect(s.factors.background).toBe(1);
  });

  it('every factor changes the rendered image of the same scene (it is visible)', async () => {
    for (const c of [0, 3, 5, 9]) {
      const base = plain(c, 7);
      const png0 = await renderScene(base);
      for (const f of VISUAL_FACTORS) {
        const changes: Partial<FactorVector> = { [f]: 1 };
        const png = await renderScene(withFactors(base, changes));
        expect(png.equals(png0), `${CLASSES[c]!.name} ${f}`).toBe(false);
      }
      const unusualBg = BACKGROUND_NAMES.find((b) => !CLASSES[c]!.usualBackgrounds.includes(b))!;
      const moved = withFactors(base, {}, unusualBg);
      expect(moved.factors.background).toBe(1);
      expect((await renderScene(moved)).equals(png0)).toBe(false);
    }
  });

  it('a counterfactual changes only the switched factor', () => {
    const s = sampleScene(createRng('cf', 1), 'test', DEFAULT_SETTINGS, { classIndex: 4 });
    const changes: Partial<FactorVector> = { darker: s.factors.darker ? 0 : 1, brighter: 0 };
    const t = withFactors(s, changes);
    const expected = { ...s.factors, ...changes } as Record<FactorName, number>;
    expect(t.factors).toEqual(expected);
    expect(t.object).toEqual(s.object);
    expect(t.background).toBe(s.background);
    expect(t.backgroundSeed).toBe(s.backgroundSeed);
  });

  it('refuses impossible label combinations', () => {
    const f = emptyFactors();
    expect(() => composeScene({ classIndex: 0, background: 'night_sky', factors: { ...f, smaller: 1, larger: 1 }, seed: 1 })).toThrow(/exclusive/);
    expect(() => composeScene({ classIndex: 0, background: 'night_sky', factors: { ...f, darker: 1, brighter: 1 }, seed: 1 })).toThrow(/exclusive/);
    expect(() => composeScene({ classIndex: 0, background: 'moon', factors: f, seed: 1 })).toThrow(/unknown background/);
  });
});

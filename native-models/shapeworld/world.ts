/**
 * The static description of ShapeWorld: classes, backgrounds and the ImageNet-X factors.
 * Classes and backgrounds are data (resources/shapeworld/*.json); drawings live in shapes.ts and
 * backgrounds.ts and are checked against the data when this module loads.
 */
import classesJson from '../../resources/shapeworld/classes.json' with { type: 'json' };
import backgroundsJson from '../../resources/shapeworld/backgrounds.json' with { type: 'json' };
import { IMAGENET_X_FACTORS } from '../imagenet-x-factors.ts';

/** The 16 ImageNet-X factors, in the order of the ImageNet-X annotation files. */
export const FACTORS = IMAGENET_X_FACTORS;
export type FactorName = (typeof FACTORS)[number];
/** Factors other than background: sampled at a per-split rate. */
export type VisualFactor = Exclude<FactorName, 'background'>;
export const VISUAL_FACTORS = FACTORS.filter((f): f is VisualFactor => f !== 'background');
export type FactorVector = Record<FactorName, 0 | 1>;

export interface Hsl {
  /** Hue in degrees [0, 360). */
  h: number;
  /** Saturation in percent. */
  s: number;
  /** Lightness in percent. */
  l: number;
}

export interface ClassInfo {
  index: number;
  name: string;
  usualBackgrounds: string[];
  usualColor: Hsl;
  colorName: string;
  /** variants[0] is the usual subcategory. */
  variants: string[];
}

export interface BackgroundInfo {
  index: number;
  name: string;
  label: string;
  phrase: string;
}

export const BACKGROUNDS: readonly BackgroundInfo[] = backgroundsJson.backgrounds.map((b, index) => ({ index, ...b }));
export const BACKGROUND_NAMES: readonly string[] = BACKGROUNDS.map((b) => b.name);

export const CLASSES: readonly ClassInfo[] = classesJson.classes.map((c, index) => ({ index, ...c }));
export const CLASS_NAMES: readonly string[] = CLASSES.map((c) => c.name);

for (const c of CLASSES) {
  if (c.usualBackgrounds.length < 1 || c.usualBackgrounds.length > 2) {
    throw new Error(`resources/shapeworld/classes.json: class ${c.name} must have 1 or 2 usual backgrounds`);
  }
  for (const b of c.usualBackgrounds) {
    if (!BACKGROUND_NAMES.includes(b)) {
      throw new Error(`resources/shapeworld/classes.json: class ${c.name} names unknown background ${b}`);
    }
  }
  if (c.variants.length < 2) throw new Error(`resources/shapeworld/classes.json: class ${c.name} needs >= 2 variants`);
}

export function classByName(name: string): ClassInfo {
  const c = CLASSES.find((x) => x.name === name);
  if (!c) throw new Error(`unknown ShapeWorld class: ${name}`);
  return c;
}

export function backgroundByName(name: string): BackgroundInfo {
  const b = BACKGROUNDS.find((x) => x.name === name);
  if (!b) throw new Error(`unknown ShapeWorld background: ${name}`);
  return b;
}

/** Backgrounds that are not usual for the class (the "uncommon backgrounds" of Chegini & Feizi). */
export function unusualBackgrounds(classIndex: number): string[] {
  const usual = CLASSES[classIndex]!.usualBackgrounds;
  return BACKGROUND_NAMES.filter((b) => !usual.includes(b));
}

/**
 * Scene parameters and their sampling. A Scene is plain JSON: class, background, the 16 factor labels
 * (ground truth) and every drawing parameter that the renderer needs, so renderScene(scene) is a pure
 * function of it and a scene can be stored, edited and rendered again.
 *
 * Sampling happens in two steps: sampleScene draws the class, background and factor labels from the
 * split's settings, then composeScene turns (class, background, factors, seed) into drawing
 * parameters. composeScene draws every random number whatever the factors are, in a fixed order, so
 * composing the same seed with one factor switched gives the same scene except for that factor
 * (a counterfactual: "this image, but not darker").
 */
import { createRng } from './rng.ts';
import type { Rng } from './rng.ts';
import { CLASSES, BACKGROUND_NAMES, FACTORS, VISUAL_FACTORS, unusualBackgrounds } from './world.ts';
import type { FactorName, FactorVector, Hsl, VisualFactor } from './world.ts';
import { hueDistance } from './color.ts';
import { SHAPES } from './shapes.ts';
import { W } from './frame.ts';

export type Split = 'train' | 'val' | 'test';
export const SPLITS: readonly Split[] = ['train', 'val', 'test'];

export interface SplitSettings {
  /**
   * Probability that an image's background is one of its class's usual backgrounds; the rest are
   * spread uniformly over the other backgrounds. null: uniform over all backgrounds (balanced).
   */
  usualBackgroundRate: number | null;
  /** Probability of each factor other than background (smaller/larger and darker/brighter are exclusive pairs). */
  factorRates: Record<VisualFactor, number>;
}

export interface WorldSettings {
  /** Output image side in pixels (square); the default is 64. */
  imageSize: number;
  splits: Record<Split, SplitSettings>;
  /** Default number of images per split. */
  counts: Record<Split, number>;
}

function rates(all: number, overrides: Partial<Record<VisualFactor, number>> = {}): Record<VisualFactor, number> {
  const out = {} as Record<VisualFactor, number>;
  for (const f of VISUAL_FACTORS) out[f] = overrides[f] ?? all;
  return out;
}

/** Default world: a biased train split and balanced val/test splits. */
export const DEFAULT_SETTINGS: WorldSettings = {
  imageSize: 64,
  splits: {
    train: { usualBackgroundRate: 0.97, factorRates: rates(0.12) },
    val: { usualBackgroundRate: null, factorRates: rates(0.1) },
    test: { usualBackgroundRate: null, factorRates: rates(0.1) },
  },
  counts: { train: 12000, val: 2000, test: 4000 },
};

/** Settings with some fields replaced (splits are merged per split). */
export function mergeSettings(base: WorldSettings, patch: DeepPartialSettings): WorldSettings {
  const splits = { ...base.splits };
  for (const s of SPLITS) {
    const p = patch.splits?.[s];
    if (p) {
      splits[s] = {
        usualBackgroundRate: p.usualBackgroundRate !== undefined ? p.usualBackgroundRate : base.splits[s].usualBackgroundRate,
        factorRates: { ...base.splits[s].factorRates, ...(p.factorRates ?? {}) },
      };
    }
  }
  return {
    imageSize: patch.imageSize ?? base.imageSize,
    splits,
    counts: { ...base.counts, ...(patch.counts ?? {}) },
  };
}

export interface DeepPartialSettings {
  imageSize?: number;
  splits?: Partial<Record<Split, { usualBackgroundRate?: number | null; factorRates?: Partial<Record<VisualFactor, number>> }>>;
  counts?: Partial<Record<Split, number>>;
}

/** One drawn copy of the object, in world units (the frame is 64 x 64). */
export interface Instance {
  cx: number;
  cy: number;
  /** Half-size of the object's [-1, 1] box as a fraction of half the frame: 1 spans the whole frame. */
  scale: number;
  /** Degrees, clockwise. */
  rotation: number;
  /** Mirrored left-right (not a factor: both facings are usual). */
  flip: boolean;
}

export type ObjectStyle = 'filled' | 'outline' | 'sketch';
export type PatternKind = 'stripes' | 'dots' | 'checks';
export type TextureKind = 'fur' | 'speckle';
export type Edge = 'left' | 'right' | 'top' | 'bottom';

export interface ObjectParams {
  variant: number;
  variantName: string;
  color: Hsl;
  /** Deformation: stretch along the object's own axes, and a skew in degrees. */
  stretchX: number;
  stretchY: number;
  skew: number;
  style: ObjectStyle;
  pattern: { kind: PatternKind; color: Hsl; angle: number; spacingPx: number } | null;
  texture: { kind: TextureKind; seed: number } | null;
  instances: Instance[];
  /** For partial_view: the frame edge that cuts the first instance, and the visible share of its box along that axis. */
  cut: { edge: Edge; visibleFraction: number } | null;
}

export interface Occluder {
  kind: 'box' | 'rock';
  cx: number;
  cy: number;
  /** Half-size in world units. */
  size: number;
  rotation: number;
  color: Hsl;
  seed: number;
}

export interface Person {
  /** Centre of the figure and its height, in world units. */
  cx: number;
  cy: number;
  height: number;
  shirt: Hsl;
  skin: Hsl;
  pants: Hsl;
}

export interface Lighting {
  /** darken: a black veil; brighten: a white veil; amount is its opacity. */
  kind: 'darken' | 'brighten';
  amount: number;
}

export interface Scene {
  version: 1;
  classIndex: number;
  className: string;
  background: string;
  backgroundIndex: number;
  backgroundSeed: number;
  /** Ground truth ImageNet-X labels: 1 where the image departs from how the class usually looks. */
  factors: FactorVector;
  /** The most salient active factor (ImageNet-X's "top factor"), null for a typical image. */
  topFactor: FactorName | null;
  object: ObjectParams;
  occluder: Occluder | null;
  person: Person | null;
  lighting: Lighting;
  /** Seed of the compose step: composeScene with the same inputs gives this scene again. */
  seed: number;
}

/** Usual / unusual parameter ranges: the ground truth of each factor is defined by these. */
export const RANGES = {
  usualRotation: 15,
  poseRotation: [60, 180] as const,
  usualScale: [0.5, 0.7] as const,
  smallerScale: [0.24, 0.34] as const,
  largerScale: [0.86, 0.98] as const,
  multipleScale: [0.3, 0.4] as const,
  multipleSmallerScale: [0.2, 0.25] as const,
  usualStretch: 0.05,
  shapeStretch: [1.5, 1.9] as const,
  shapeSkew: [15, 30] as const,
  usualHueJitter: 10,
  /** Minimum hue distance of an unusual colour from the class colour (saturated classes). */
  unusualHueDistance: 90,
  usualLighting: 0.08,
  darkerAmount: [0.45, 0.62] as const,
  brighterAmount: [0.4, 0.55] as const,
  visibleFraction: [0.4, 0.62] as const,
};

/** Period in degrees of a drawing's rotational symmetry (360: none). */
export function rotationalSymmetry(className: string, variant: number): number {
  if (className === 'star') return variant === 0 ? 72 : 90;
  return 360;
}

/**
 * How far a rotation looks from upright, in degrees 0..180, taking the drawing's rotational symmetry
 * into account (a five-pointed star turned by 36 degrees looks upside down: 180).
 */
export function apparentRotation(rotation: number, className: string, variant: number): number {
  const p = rotationalSymmetry(className, variant);
  const m = ((rotation % p) + p) % p;
  return (Math.min(m, p - m) * 360) / p;
}

/** Salience order used to name the top factor. */
const SALIENCE: FactorName[] = [
  'person_blocking',
  'object_blocking',
  'partial_view',
  'multiple_objects',
  'style',
  'smaller',
  'larger',
  'pose',
  'texture',
  'pattern',
  'color',
  'shape',
  'darker',
  'brighter',
  'subcategory',
  'background',
];

export function topFactorOf(factors: FactorVector): FactorName | null {
  return SALIENCE.find((f) => factors[f] === 1) ?? null;
}

export function emptyFactors(): FactorVector {
  const out = {} as FactorVector;
  for (const f of FACTORS) out[f] = 0;
  return out;
}

export interface SampleOptions {
  /** Fix the class (generateSplit uses index % 10 for exact class balance). */
  classIndex?: number;
}

/** Draw class, background and factor labels for a split, then compose the scene. */
export function sampleScene(rng: Rng, split: Split, settings: WorldSettings = DEFAULT_SETTINGS, options: SampleOptions = {}): Scene {
  const sp = settings.splits[split];
  if (!sp) throw new Error(`unknown split: ${split}`);
  const classIndex = options.classIndex ?? rng.int(0, CLASSES.length - 1);
  const cls = CLASSES[classIndex];
  if (!cls) throw new Error(`class index out of range: ${classIndex}`);
  let background: string;
  if (sp.usualBackgroundRate === null) {
    background = rng.pick(BACKGROUND_NAMES);
  } else if (rng.chance(sp.usualBackgroundRate)) {
    background = rng.pick(cls.usualBackgrounds);
  } else {
    background = rng.pick(unusualBackgrounds(classIndex));
  }
  const r = sp.factorRates;
  const factors = emptyFactors();
  // Exclusive pairs drawn from one uniform, so each keeps its exact marginal rate.
  const u1 = rng.next();
  if (u1 < r.smaller) factors.smaller = 1;
  else if (u1 < r.smaller + r.larger) factors.larger = 1;
  const u2 = rng.next();
  if (u2 < r.darker) factors.darker = 1;
  else if (u2 < r.darker + r.brighter) factors.brighter = 1;
  // multiple_objects cannot be larger: drawn conditionally so its marginal rate stays r.multiple_objects.
  const um = rng.next();
  if (!factors.larger && um < r.multiple_objects / Math.max(1e-9, 1 - r.larger)) factors.multiple_objects = 1;
  for (const f of VISUAL_FACTORS) {
    const u = rng.next();
    if (f === 'smaller' || f === 'larger' || f === 'darker' || f === 'brighter' || f === 'multiple_objects') continue;
    if (u < r[f]) factors[f] = 1;
  }
  return composeScene({ classIndex, background, factors, seed: rng.uint32() });
}

export interface ComposeInput {
  classIndex: number;
  background: string;
  /** Factor labels; background is recomputed from the class's usual backgrounds. */
  factors: Partial<FactorVector>;
  seed: number;
}

function range(r: Rng, [lo, hi]: readonly [number, number]): number {
  return r.uniform(lo, hi);
}

/** Half-extents in world units of an instance's [-1, 1] box after deformation and rotation. */
export function instanceExtent(inst: Instance, stretchX: number, stretchY: number, skew: number): { hx: number; hy: number } {
  const half = (inst.scale * W) / 2;
  const a = half * stretchX + half * stretchY * Math.abs(Math.tan((skew * Math.PI) / 180));
  const b = half * stretchY;
  const t = (inst.rotation * Math.PI) / 180;
  return {
    hx: Math.abs(a * Math.cos(t)) + Math.abs(b * Math.sin(t)),
    hy: Math.abs(a * Math.sin(t)) + Math.abs(b * Math.cos(t)),
  };
}

/** Turn labels into drawing parameters. Every random number is drawn whatever the labels are. */
export function composeScene(input: ComposeInput): Scene {
  const cls = CLASSES[input.classIndex];
  if (!cls) throw new Error(`class index out of range: ${input.classIndex}`);
  const backgroundIndex = BACKGROUND_NAMES.indexOf(input.background);
  if (backgroundIndex < 0) throw new Error(`unknown background: ${input.background}`);
  const factors = emptyFactors();
  for (const f of FACTORS) factors[f] = input.factors[f] ? 1 : 0;
  factors.background = cls.usualBackgrounds.includes(input.background) ? 0 : 1;
  if (factors.smaller && factors.larger) throw new Error('smaller and larger are exclusive');
  if (factors.darker && factors.brighter) throw new Error('darker and brighter are exclusive');
  if (factors.multiple_objects && factors.larger) throw new Error('multiple_objects and larger are exclusive');

  const r = createRng('compose', input.seed);
  const backgroundSeed = r.uint32();
  const nVariants = SHAPES[cls.name]!.length;

  // Subcategory.
  const altVariant = r.int(1, nVariants - 1);
  const variant = factors.subcategory ? altVariant : 0;

  // Colour.
  const uc = cls.usualColor;
  const usualColor: Hsl = {
    h: (uc.h + r.uniform(-RANGES.usualHueJitter, RANGES.usualHueJitter) + 360) % 360,
    s: Math.max(0, Math.min(100, uc.s + r.uniform(-8, 8))),
    l: Math.max(5, Math.min(95, uc.l + r.uniform(-6, 6))),
  };
  let oddHue = r.uniform(0, 360);
  if (uc.s >= 30) {
    const d = r.uniform(RANGES.unusualHueDistance, 180);
    oddHue = (uc.h + (r.chance(0.5) ? d : -d) + 360) % 360;
  } else {
    r.next();
    r.next();
  }
  const oddColor: Hsl = { h: oddHue, s: r.uniform(65, 95), l: r.uniform(40, 62) };
  const color = factors.color ? oddColor : usualColor;
  if (factors.color && uc.s >= 30 && hueDistance(oddColor.h, uc.h) < RANGES.unusualHueDistance - 1e-6) {
    throw new Error('internal: unusual colour too close to usual');
  }

  // Deformation.
  const usualSx = 1 + r.uniform(-RANGES.usualStretch, RANGES.usualStretch);
  const usualSy = 1 + r.uniform(-RANGES.usualStretch, RANGES.usualStretch);
  const k = range(r, RANGES.shapeStretch);
  const wide = r.chance(0.5);
  const skewMag = range(r, RANGES.shapeSkew) * (r.chance(0.5) ? 1 : -1);
  const stretchX = factors.shape ? (wide ? Math.sqrt(k) : 1 / Math.sqrt(k)) : usualSx;
  const stretchY = factors.shape ? (wide ? 1 / Math.sqrt(k) : Math.sqrt(k)) : usualSy;
  const skew = factors.shape ? skewMag : 0;

  // Style, pattern, texture.
  const oddStyle: ObjectStyle = r.chance(0.5) ? 'outline' : 'sketch';
  const style: ObjectStyle = factors.style ? oddStyle : 'filled';
  const patternKind = r.pick<PatternKind>(['stripes', 'dots', 'checks']);
  const patternColor: Hsl =
    color.l > 55 ? { h: r.uniform(0, 360), s: r.uniform(20, 60), l: r.uniform(12, 25) } : { h: r.uniform(0, 360), s: r.uniform(20, 60), l: r.uniform(85, 95) };
  const patternAngle = r.uniform(0, 180);
  const patternSpacing = r.uniform(4, 6);
  const pattern = factors.pattern ? { kind: patternKind, color: patternColor, angle: patternAngle, spacingPx: patternSpacing } : null;
  const textureKind = r.pick<TextureKind>(['fur', 'speckle']);
  const textureSeed = r.uint32();
  const texture = factors.texture ? { kind: textureKind, seed: textureSeed } : null;

  // Pose and size.
  const usualRot = r.uniform(-RANGES.usualRotation, RANGES.usualRotation);
  let poseRot = range(r, RANGES.poseRotation) * (r.chance(0.5) ? 1 : -1);
  const symmetry = rotationalSymmetry(cls.name, variant);
  if (symmetry < 360) {
    // Rotational symmetry: only a turn near half the period looks different (an upside-down star).
    const kTurn = r.int(0, Math.floor(360 / symmetry) - 1);
    poseRot = kTurn * symmetry + symmetry / 2 + r.uniform(-symmetry / 8, symmetry / 8);
    if (poseRot > 180) poseRot -= 360;
  } else {
    r.next();
    r.next();
  }
  const rotation = factors.pose ? poseRot : usualRot;
  const flip = r.chance(0.5);
  const usualScale = range(r, RANGES.usualScale);
  const smallScale = range(r, RANGES.smallerScale);
  const largeScale = range(r, RANGES.largerScale);
  const multiCount = r.int(2, 3);
  const multiScale = range(r, RANGES.multipleScale);
  const multiSmallScale = range(r, RANGES.multipleSmallerScale);
  const layoutAngle = r.uniform(0, 360);
  const jitters = [0, 1, 2].map(() => ({ x: r.uniform(-2, 2), y: r.uniform(-2, 2), rot: r.uniform(-RANGES.usualRotation, RANGES.usualRotation) }));
  const posU = { x: r.next(), y: r.next() };
  const cutEdge = r.pick<Edge>(['left', 'right', 'top', 'bottom']);
  const visibleFraction = range(r, RANGES.visibleFraction);
  const cutAlong = r.next();

  const instances: Instance[] = [];
  if (factors.multiple_objects) {
    const scale = factors.smaller ? multiSmallScale : multiScale;
    const radius = multiCount === 2 ? 15 : 16;
    for (let i = 0; i < multiCount; i++) {
      const a = ((layoutAngle + (360 / multiCount) * i) * Math.PI) / 180;
      const j = jitters[i]!;
      instances.push({
        cx: W / 2 + radius * Math.cos(a) + j.x,
        cy: W / 2 + radius * Math.sin(a) + j.y,
        scale,
        rotation: i === 0 ? rotation : factors.pose ? rotation + j.rot * 2 : j.rot,
        flip: i % 2 === 0 ? flip : !flip,
      });
    }
  } else {
    const scale = factors.smaller ? smallScale : factors.larger ? largeScale : usualScale;
    instances.push({ cx: W / 2, cy: W / 2, scale, rotation, flip });
  }
  // Place so that every instance lies inside the frame (1 px margin), shrinking one that cannot fit.
  for (const inst of instances) {
    for (let guard = 0; guard < 20; guard++) {
      const e = instanceExtent(inst, stretchX, stretchY, skew);
      if (e.hx <= W / 2 - 1 && e.hy <= W / 2 - 1) break;
      inst.scale *= 0.95;
    }
  }
  if (!factors.multiple_objects) {
    const inst = instances[0]!;
    const e = instanceExtent(inst, stretchX, stretchY, skew);
    inst.cx = e.hx + 1 + posU.x * Math.max(0, W - 2 * e.hx - 2);
    inst.cy = e.hy + 1 + posU.y * Math.max(0, W - 2 * e.hy - 2);
  } else {
    for (const inst of instances) {
      const e = instanceExtent(inst, stretchX, stretchY, skew);
      inst.cx = Math.min(W - e.hx - 1, Math.max(e.hx + 1, inst.cx));
      inst.cy = Math.min(W - e.hy - 1, Math.max(e.hy + 1, inst.cy));
    }
  }
  let cut: ObjectParams['cut'] = null;
  if (factors.partial_view) {
    const inst = instances[0]!;
    const e = instanceExtent(inst, stretchX, stretchY, skew);
    // Visible share of the box along the cut axis is visibleFraction.
    if (cutEdge === 'left') inst.cx = -e.hx + 2 * e.hx * visibleFraction;
    if (cutEdge === 'right') inst.cx = W + e.hx - 2 * e.hx * visibleFraction;
    if (cutEdge === 'top') inst.cy = -e.hy + 2 * e.hy * visibleFraction;
    if (cutEdge === 'bottom') inst.cy = W + e.hy - 2 * e.hy * visibleFraction;
    if (cutEdge === 'left' || cutEdge === 'right') inst.cy = Math.min(W - e.hy, Math.max(e.hy, e.hy + cutAlong * (W - 2 * e.hy)));
    else inst.cx = Math.min(W - e.hx, Math.max(e.hx, e.hx + cutAlong * (W - 2 * e.hx)));
    cut = { edge: cutEdge, visibleFraction };
  }

  // Occluders, always drawn, used when labelled.
  const main = instances[0]!;
  const mainHalf = (main.scale * W * Math.max(stretchX, stretchY)) / 2;
  const occAngle = r.uniform(0, 2 * Math.PI);
  const occDist = r.uniform(0.3, 0.55) * mainHalf;
  const occluder: Occluder = {
    kind: r.chance(0.5) ? 'box' : 'rock',
    cx: main.cx + Math.cos(occAngle) * occDist,
    cy: main.cy + Math.sin(occAngle) * occDist,
    size: r.uniform(0.5, 0.65) * mainHalf,
    rotation: r.uniform(-25, 25),
    color: { h: r.uniform(20, 40), s: r.uniform(8, 45), l: r.uniform(30, 50) },
    seed: r.uint32(),
  };
  if (occluder.kind === 'rock') occluder.color = { h: occluder.color.h, s: 6, l: occluder.color.l + 8 };
  const side = r.chance(0.5) ? 1 : -1;
  const personH = Math.min(W * 1.05, r.uniform(1.7, 2.2) * mainHalf);
  const person: Person = {
    cx: main.cx + side * r.uniform(0.25, 0.5) * mainHalf,
    cy: main.cy + r.uniform(0.1, 0.35) * mainHalf,
    height: personH,
    shirt: { h: r.uniform(0, 360), s: r.uniform(55, 85), l: r.uniform(35, 55) },
    skin: r.pick<Hsl>([
      { h: 28, s: 55, l: 78 },
      { h: 25, s: 45, l: 60 },
      { h: 22, s: 40, l: 42 },
      { h: 20, s: 35, l: 28 },
    ]),
    pants: { h: r.uniform(200, 240), s: r.uniform(10, 40), l: r.uniform(15, 30) },
  };

  // Lighting.
  const usualLight: Lighting = { kind: r.chance(0.5) ? 'darken' : 'brighten', amount: r.uniform(0, RANGES.usualLighting) };
  const darkAmount = range(r, RANGES.darkerAmount);
  const brightAmount = range(r, RANGES.brighterAmount);
  const lighting: Lighting = factors.darker
    ? { kind: 'darken', amount: darkAmount }
    : factors.brighter
      ? { kind: 'brighten', amount: brightAmount }
      : usualLight;

  return {
    version: 1,
    classIndex: cls.index,
    className: cls.name,
    background: input.background,
    backgroundIndex,
    backgroundSeed,
    factors,
    topFactor: topFactorOf(factors),
    object: {
      variant,
      variantName: cls.variants[variant] ?? `${cls.name} variant ${variant}`,
      color,
      stretchX,
      stretchY,
      skew,
      style,
      pattern,
      texture,
      instances,
      cut,
    },
    occluder: factors.object_blocking ? occluder : null,
    person: factors.person_blocking ? person : null,
    lighting,
    seed: input.seed,
  };
}

/** The same scene with some labels (or the background) changed: a counterfactual. */
export function withFactors(scene: Scene, changes: Partial<FactorVector>, background: string = scene.background): Scene {
  return composeScene({
    classIndex: scene.classIndex,
    background,
    factors: { ...scene.factors, ...changes },
    seed: scene.seed,
  });
}

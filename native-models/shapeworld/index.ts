/** ShapeWorld: the embedded demo world (procedural images with ground-truth ImageNet-X factors). */
export { createRng, hashSeed } from './rng.ts';
export type { Rng } from './rng.ts';
export {
  FACTORS,
  VISUAL_FACTORS,
  CLASSES,
  CLASS_NAMES,
  BACKGROUNDS,
  BACKGROUND_NAMES,
  classByName,
  backgroundByName,
  unusualBackgrounds,
} from './world.ts';
export type { FactorName, FactorVector, VisualFactor, Hsl, ClassInfo, BackgroundInfo } from './world.ts';
export { W as WORLD_FRAME, DEFAULT_IMAGE_SIZE } from './frame.ts';
export {
  SPLITS,
  DEFAULT_SETTINGS,
  RANGES,
  mergeSettings,
  sampleScene,
  composeScene,
  withFactors,
  topFactorOf,
  emptyFactors,
  rotationalSymmetry,
  apparentRotation,
  instanceExtent,
} from './scene.ts';
export type { Scene, Split, SplitSettings, WorldSettings, DeepPartialSettings, Instance, ObjectParams, Occluder, Person, Lighting, ComposeInput, SampleOptions } from './scene.ts';
export { renderScene, renderMask, renderRaw, sceneToSvg } from './render.ts';
export type { RenderOptions } from './render.ts';
export { captionScene, justification, oneWord } from './caption.ts';
export type { Captions } from './caption.ts';
export { generateSplit, sceneAt, imageFileName, imageNetXRecord, GENERATOR_VERSION } from './generate.ts';
export type { GenerateOptions, GenerateResult, ImageNetXRecord } from './generate.ts';

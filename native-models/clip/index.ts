// CLIP: packages with separate image / text encoders, the BPE tokenizer, zero-shot classification.
export { openClip, normalizeRows } from './open.ts';
export type { Clip, OpenClipOptions, TextEncoding } from './open.ts';
export { fillTemplate, zeroShot, zeroShotClassifier, zeroShotFromEmbeddings } from './zero-shot.ts';
export type { ZeroShotClassifier, ZeroShotResult } from './zero-shot.ts';
export { createClipPackage } from './package.ts';
export type { CreateClipPackageOptions } from './package.ts';
export { ClipTokenizer } from './tokenizer/index.ts';

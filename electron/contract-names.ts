// The API's method names and image routes, without zod, so that the renderer and the sandboxed
// preload can import them without bundling the validation library. contract.ts checks that its
// schemas cover exactly these names.
export { IMAGENET_X_FACTORS } from '../native-models/imagenet-x-factors.ts';
export const methodNames = [
  'lab.info',
  'datasets.list',
  'datasets.get',
  'datasets.import',
  'datasets.images',
  'models.list',
  'models.add',
  'runs.list',
  'runs.start',
  'runs.summary',
  'runs.failures',
  'images.detail',
  'jobs.list',
  'jobs.cancel',
  'jobs.resume',
  'annotations.import',
  'annotations.sources',
  'annotations.metaclasses',
  'annotations.export',
  'analysis.errorRatios',
  'attribution.start',
  'attribution.get',
  'attribution.list',
  'attribution.editBackgrounds',
  'attribution.undo',
  'backgrounds.classList',
  'backgrounds.setClassList',
  'analysis.failureIou',
  'analysis.sharedFailures',
  'generation.start',
  'generation.get',
  'generation.list',
  'generation.images',
  'generation.review',
  'generation.autoReview',
  'generation.undo',
  'debug.start',
  'debug.get',
  'debug.list',
  'debug.export',
  'labels.annotators',
  'labels.queueCreate',
  'labels.queuePage',
  'labels.progress',
  'labels.set',
  'labels.bulk',
  'labels.undo',
  'labels.forImage',
  'labels.agreement',
  'labels.disagreements',
  'labels.errorRatios',
] as const;

export type Method = (typeof methodNames)[number];

/** Path of an image served by the lab image route: `lab://images/thumb/12` or `/lab/thumb/12?token=`. */
export function imagePath(kind: 'thumb' | 'full' | 'gen', imageId: number): string {
  return `${kind}/${imageId}`;
}

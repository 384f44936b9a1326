/** The 16 ImageNet-X factors of variation, in the order of the ImageNet-X annotation files. */
export const IMAGENET_X_FACTORS = [
  'pose',
  'background',
  'pattern',
  'color',
  'smaller',
  'shape',
  'partial_view',
  'subcategory',
  'texture',
  'larger',
  'darker',
  'object_blocking',
  'person_blocking',
  'style',
  'brighter',
  'multiple_objects',
] as const;

export type ImageNetXFactor = (typeof IMAGENET_X_FACTORS)[number];

// Preprocessing described as data (as timm's pretrained configs do), stored in model manifests.
import { z } from 'zod';

const triple = z.tuple([z.number().finite(), z.number().finite(), z.number().finite()]);

export const PreprocessSpecSchema = z
  .object({
    /** Pixels of the shorter side after the first resize (aspect kept, longer side truncated as
     * torchvision does), or null to resize straight to `crop` (aspect not kept). */
    resize_shorter: z.number().int().positive().nullable(),
    /** Centre crop [height, width]; with resize_shorter null, the size the image is resized to. */
    crop: z.tuple([z.number().int().positive(), z.number().int().positive()]),
    interpolation: z.enum(['bilinear', 'bicubic', 'nearest']),
    /** Per-channel mean and std in R, G, B order, applied to values scaled to 0..1. */
    mean: triple,
    std: triple.refine((s) => s.every((v) => v > 0), 'std values must be > 0'),
    /** Order of the channels in the tensor the model reads (mean/std stay listed as R, G, B). */
    channel_order: z.enum(['RGB', 'BGR']),
    layout: z.literal('NCHW'),
  })
  .refine((s) => s.resize_shorter === null || s.resize_shorter >= Math.max(s.crop[0], s.crop[1]), {
    message: 'resize_shorter must be at least the larger crop side (no padding is done)',
    path: ['resize_shorter'],
  });

export type PreprocessSpec = z.infer<typeof PreprocessSpecSchema>;

export type PreprocessPreset = 'imagenet' | 'clip' | 'none';

export const IMAGENET_MEAN: [number, number, number] = [0.485, 0.456, 0.406];
export const IMAGENET_STD: [number, number, number] = [0.229, 0.224, 0.225];
export const CLIP_MEAN: [number, number, number] = [0.48145466, 0.4578275, 0.40821073];
export const CLIP_STD: [number, number, number] = [0.26862954, 0.26130258, 0.27577711];

/** torchvision / timm default crop_pct for ImageNet evaluation: 224 / 256. */
export const IMAGENET_CROP_PCT = 0.875;

/**
 * The preset for an input of `size` = [h, w] (default 224x224):
 *  - imagenet: Resize(floor(min(h,w) / 0.875)) bilinear + CenterCrop([h, w]), ImageNet mean/std
 *    (256 -> 224 as torchvision's ResNet weights; other sizes follow timm's crop_pct rule);
 *  - clip: Resize(min(h,w)) bicubic + CenterCrop([h, w]), CLIP mean/std (as openai/CLIP);
 *  - none: resize straight to [h, w] (bilinear), mean 0, std 1 (values 0..1).
 */
export function presetSpec(preset: PreprocessPreset, size: [number, number] = [224, 224]): PreprocessSpec {
  const [h, w] = size;
  const shorter = Math.min(h, w);
  switch (preset) {
    case 'imagenet':
      return {
        resize_shorter: shorter === 224 ? 256 : Math.max(Math.floor(shorter / IMAGENET_CROP_PCT), Math.max(h, w)),
        crop: [h, w],
        interpolation: 'bilinear',
        mean: [...IMAGENET_MEAN],
        std: [...IMAGENET_STD],
        channel_order: 'RGB',
        layout: 'NCHW',
      };
    case 'clip':
      return {
        resize_shorter: Math.max(h, w),
        crop: [h, w],
        interpolation: 'bicubic',
        mean: [...CLIP_MEAN],
        std: [...CLIP_STD],
        channel_order: 'RGB',
        layout: 'NCHW',
      };
    case 'none':
      return { resize_shorter: null, crop: [h, w], interpolation: 'bilinear', mean: [0, 0, 0], std: [1, 1, 1], channel_order: 'RGB', layout: 'NCHW' };
  }
}

/** Python's round(): halves go to the even neighbour (torchvision's CenterCrop uses it). */
export function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

export interface ResizePlan {
  /** size after the resize, [height, width] */
  resized: [number, number];
  /** crop offsets in the resized image */
  top: number;
  left: number;
  crop: [number, number];
}

/**
 * The geometry torchvision computes for Resize(resize_shorter) + CenterCrop(crop) on an image of
 * height x width (torchvision 0.14 `_compute_resized_output_size` and `center_crop`):
 * the longer side is int(shorter_target * long / short) (truncated), crop offsets are
 * int(round((resized - crop) / 2)) with Python's half-to-even rounding.
 */
export function planResize(height: number, width: number, spec: Pick<PreprocessSpec, 'resize_shorter' | 'crop'>): ResizePlan {
  const [ch, cw] = spec.crop;
  if (spec.resize_shorter === null) return { resized: [ch, cw], top: 0, left: 0, crop: [ch, cw] };
  const s = spec.resize_shorter;
  let rh: number;
  let rw: number;
  if (width <= height) {
    rw = s;
    rh = Math.trunc((s * height) / width);
  } else {
    rh = s;
    rw = Math.trunc((s * width) / height);
  }
  return { resized: [rh, rw], top: roundHalfEven((rh - ch) / 2), left: roundHalfEven((rw - cw) / 2), crop: [ch, cw] };
}

// A preprocessing description read from a file: either FactorLab's own PreprocessSpec JSON, or a
// timm pretrained config (timm's `pretrained_cfg`, or a Hugging Face hub `config.json` holding one):
// input_size, interpolation, mean, std, crop_pct.
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { PreprocessSpecSchema, type PreprocessSpec } from './spec.ts';

const triple = z.tuple([z.number(), z.number(), z.number()]);
const TimmConfigSchema = z.object({
  input_size: z.tuple([z.literal(3), z.number().int().positive(), z.number().int().positive()]),
  interpolation: z.enum(['bilinear', 'bicubic', 'nearest']).default('bilinear'),
  mean: triple,
  std: triple,
  crop_pct: z.number().positive().max(1).default(0.875),
  crop_mode: z.enum(['center']).default('center'),
});

export class PreprocessFileError extends Error {
  readonly file: string;
  constructor(file: string, reason: string) {
    super(`${file}: ${reason}`);
    this.file = file;
  }
}

/** timm's eval transform: Resize(floor(size / crop_pct)) on the shorter side, CenterCrop(size). */
export function specFromTimmConfig(cfg: z.input<typeof TimmConfigSchema>): PreprocessSpec {
  const c = TimmConfigSchema.parse(cfg);
  const [, h, w] = c.input_size;
  const scale = Math.floor(Math.min(h, w) / c.crop_pct);
  return {
    resize_shorter: Math.max(scale, h, w),
    crop: [h, w],
    interpolation: c.interpolation,
    mean: c.mean,
    std: c.std,
    channel_order: 'RGB',
    layout: 'NCHW',
  };
}

export function readPreprocessFile(file: string): PreprocessSpec {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new PreprocessFileError(file, `cannot read preprocessing JSON: ${(e as Error).message}`);
  }
  const own = PreprocessSpecSchema.safeParse(json);
  if (own.success) return own.data;
  const obj = json as Record<string, unknown>;
  const timm = (obj && typeof obj === 'object' && 'pretrained_cfg' in obj ? obj.pretrained_cfg : obj) as Record<string, unknown>;
  const parsed = TimmConfigSchema.safeParse(timm);
  if (parsed.success) return specFromTimmConfig(parsed.data);
  const why = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
  throw new PreprocessFileError(file, `neither a FactorLab preprocess spec nor a timm pretrained config (${why})`);
}

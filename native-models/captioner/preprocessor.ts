// A Hugging Face image processor config (preprocessor_config.json) as FactorLab's preprocessing
// spec (native-models/preprocess/spec.ts), so images go through the same sharp pipeline as every
// other model. Keys read (ViTImageProcessor / ViTFeatureExtractor, CLIP-style processors):
//
//   do_resize (default true), size: N | {height, width} | {shortest_edge}, resample (PIL code:
//   0 nearest, 2 bilinear, 3 bicubic; 1 lanczos, 4 box, 5 hamming are approximated, see notes),
//   do_center_crop + crop_size: N | {height, width}, do_rescale (default true) + rescale_factor
//   (default 1/255), do_normalize (default true) + image_mean / image_std (numbers or 3 values).
//
// The spec scales pixels to v/255 and normalises with mean/std; a different rescale factor r is
// folded in: ((v * r) - mean) / std = (v/255 - mean/k) / (std/k) with k = 255 * r.
import { PreprocessSpecSchema, type PreprocessSpec } from '../preprocess/spec.ts';

export class PreprocessorConfigError extends Error {
  readonly file: string;
  constructor(file: string, message: string) {
    super(`${file}: ${message}`);
    this.name = 'PreprocessorConfigError';
    this.file = file;
  }
}

export interface PreprocessorResult {
  spec: PreprocessSpec;
  /** Where the spec is not exactly what the Python processor does. */
  notes: string[];
}

type Size2 = [number, number];

function posInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v > 0;
}

function hw(v: unknown): Size2 | null {
  if (posInt(v)) return [v, v];
  if (v && typeof v === 'object') {
    const o = v as { height?: unknown; width?: unknown };
    if (posInt(o.height) && posInt(o.width)) return [o.height, o.width];
  }
  return null;
}

function triple(file: string, key: string, v: unknown): [number, number, number] {
  if (typeof v === 'number' && Number.isFinite(v)) return [v, v, v];
  if (Array.isArray(v) && v.length === 3 && v.every((x) => typeof x === 'number' && Number.isFinite(x))) return [v[0], v[1], v[2]];
  throw new PreprocessorConfigError(file, `${key} must be a number or 3 numbers (R, G, B), got ${JSON.stringify(v)}`);
}

const RESAMPLE: Record<number, { interpolation: PreprocessSpec['interpolation']; note?: string }> = {
  0: { interpolation: 'nearest' },
  1: { interpolation: 'bicubic', note: 'resample 1 (Lanczos) is approximated by bicubic' },
  2: { interpolation: 'bilinear' },
  3: { interpolation: 'bicubic' },
  4: { interpolation: 'bilinear', note: 'resample 4 (box) is approximated by bilinear' },
  5: { interpolation: 'bilinear', note: 'resample 5 (Hamming) is approximated by bilinear' },
};

/**
 * `cfg` is the parsed preprocessor_config.json (`file` names it in errors); `encoderSize` is the
 * encoder's fixed input [height, width] where the graph says (null entries: dynamic).
 */
export function specFromPreprocessorConfig(cfg: Record<string, unknown>, file: string, encoderSize: [number | null, number | null] = [null, null]): PreprocessorResult {
  const notes: string[] = [];
  const resampleCode = cfg.resample ?? 2;
  const rs = typeof resampleCode === 'number' ? RESAMPLE[resampleCode] : undefined;
  if (!rs) throw new PreprocessorConfigError(file, `resample ${JSON.stringify(resampleCode)} is not a PIL resampling filter (0-5)`);
  if (rs.note) notes.push(rs.note);

  const doResize = cfg.do_resize ?? true;
  const doCrop = cfg.do_center_crop === true;
  const cropSize = doCrop ? hw(cfg.crop_size) : null;
  if (doCrop && !cropSize) throw new PreprocessorConfigError(file, `do_center_crop is true but crop_size ${JSON.stringify(cfg.crop_size)} is not N or {height, width}`);
  let resizeShorter: number | null = null;
  let crop: Size2;
  if (doResize) {
    const size = cfg.size;
    const shortest = size && typeof size === 'object' ? (size as { shortest_edge?: unknown }).shortest_edge : undefined;
    if (posInt(shortest)) {
      if (!cropSize) throw new PreprocessorConfigError(file, `size.shortest_edge without do_center_crop / crop_size gives images of varying size, which the encoder cannot batch`);
      resizeShorter = shortest;
      crop = cropSize;
    } else if (posInt(size) && cropSize) {
      // old CLIP-style feature extractors: size N = shorter side, then the centre crop
      resizeShorter = size;
      crop = cropSize;
    } else {
      const s = hw(size);
      if (!s) throw new PreprocessorConfigError(file, `size ${JSON.stringify(size)} is not N, {height, width} or {shortest_edge}`);
      crop = s;
      if (cropSize && (cropSize[0] !== s[0] || cropSize[1] !== s[1])) {
        if (cropSize[0] > s[0] || cropSize[1] > s[1]) throw new PreprocessorConfigError(file, `crop_size ${cropSize.join('x')} is larger than size ${s.join('x')}`);
        // resize to size (aspect not kept), then crop the centre: the same as resizing the centre
        // part only approximately; say so
        notes.push(`resize to ${s.join('x')} then centre crop ${cropSize.join('x')} is done as a straight resize to ${cropSize.join('x')}`);
        crop = cropSize;
      }
    }
  } else {
    const [eh, ew] = encoderSize;
    crop = cropSize ?? (eh !== null && ew !== null ? [eh, ew] : (() => {
      throw new PreprocessorConfigError(file, 'do_resize is false and the encoder input has no fixed size: the image size cannot be known');
    })());
    notes.push(`do_resize is false: images are resized to the encoder's input ${crop.join('x')} (the Python processor would feed them as they are)`);
  }

  let mean: [number, number, number] = [0, 0, 0];
  let std: [number, number, number] = [1, 1, 1];
  if ((cfg.do_normalize ?? true) === true) {
    if (cfg.image_mean === undefined || cfg.image_std === undefined) throw new PreprocessorConfigError(file, 'do_normalize is true but image_mean / image_std are missing');
    mean = triple(file, 'image_mean', cfg.image_mean);
    std = triple(file, 'image_std', cfg.image_std);
    if (std.some((v) => !(v > 0))) throw new PreprocessorConfigError(file, `image_std values must be > 0, got ${JSON.stringify(cfg.image_std)}`);
  }
  const rescale = (cfg.do_rescale ?? true) === true ? (cfg.rescale_factor ?? 1 / 255) : 1;
  if (typeof rescale !== 'number' || !(rescale > 0)) throw new PreprocessorConfigError(file, `rescale_factor must be a positive number, got ${JSON.stringify(cfg.rescale_factor)}`);
  const k = rescale * 255;
  if (Math.abs(k - 1) > 1e-9) {
    mean = mean.map((m) => m / k) as [number, number, number];
    std = std.map((s) => s / k) as [number, number, number];
  }

  const [eh, ew] = encoderSize;
  if ((eh !== null && eh !== crop[0]) || (ew !== null && ew !== crop[1])) {
    throw new PreprocessorConfigError(file, `gives ${crop[0]}x${crop[1]} images but the encoder takes ${eh ?? '?'}x${ew ?? '?'}`);
  }
  const spec = { resize_shorter: resizeShorter, crop, interpolation: rs.interpolation, mean, std, channel_order: 'RGB' as const, layout: 'NCHW' as const };
  const parsed = PreprocessSpecSchema.safeParse(spec);
  if (!parsed.success) throw new PreprocessorConfigError(file, parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; '));
  return { spec: parsed.data, notes };
}

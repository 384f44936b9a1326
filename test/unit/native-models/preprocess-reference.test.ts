// decodeToTensor against torchvision itself (test/fixtures/preprocess/make_reference.py: torch 1.13,
// torchvision 0.14, Pillow 9.4) on the 9 real photos in test/fixtures/images.
//
// Why the values are not bit-identical, and why that is acceptable:
// decoding (libjpeg-turbo / mozjpeg, libpng), the colour conversion, the resize geometry, the crop
// offsets and the normalisation are the same (the geometry and the normalisation are checked exactly
// below). The resampling differs in detail: PIL's antialiased bilinear (bicubic) resize convolves
// the whole image with a triangle (Catmull-Rom) kernel widened by the scale factor, in 22-bit
// fixed point, rounding to uint8 after the horizontal pass; libvips (sharp) first box-shrinks by an
// integer factor when the reduction is large (its "gap" heuristic), then convolves with the same
// kernel shape at its own fixed-point precision and rounding. Measured on these photos the result
// is within 1/255 for ~99.9 % of values (max 2/255) for reductions below ~4x, and max 4/255, mean
// 0.4/255 for the 4.9x reduction of the 1828x1264 kimono photo. That is below JPEG re-encoding
// noise, and far below anything that moves a classifier's decision; a mistake in geometry (a one
// pixel shift, a wrong resize size) or normalisation gives errors an order of magnitude larger,
// which the last test checks so that these tolerances cannot hide one.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { CLIP_MEAN, CLIP_STD, IMAGENET_MEAN, IMAGENET_STD, decodeToTensor, planResize, presetSpec } from '../../../native-models/preprocess/index.ts';
import { IMAGES, PREPROCESS } from './helpers.ts';

interface PipelineRef {
  resize: number;
  resized: [number, number];
  crop_top_left: [number, number];
  mean: [number, number, number];
  std: [number, number, number];
  channel_mean: [number, number, number];
  channel_std: [number, number, number];
  sample_f32_b64: string;
}
interface ImageRef {
  file: string;
  size: [number, number];
  pipelines: { bilinear: PipelineRef; bicubic: PipelineRef };
}
const REF = JSON.parse(readFileSync(join(PREPROCESS, 'reference.json'), 'utf8')) as { images: ImageRef[]; sample_stride: number };
const HW = 224 * 224;
/** One uint8 step in normalised units for the smallest ImageNet std (0.224): 0.0175. */
const LEVEL = 1 / 255 / 0.224;

function sampleOf(p: PipelineRef): Float32Array {
  const b = Buffer.from(p.sample_f32_b64, 'base64');
  const copy = new Uint8Array(b.length);
  copy.set(b);
  return new Float32Array(copy.buffer);
}

/** max and mean |ours - theirs| over the stride-8 sample (3 x 28 x 28). */
function compareSample(t: Float32Array, sample: Float32Array, shift = 0): { max: number; mean: number } {
  let max = 0;
  let sum = 0;
  let n = 0;
  for (let c = 0; c < 3; c++)
    for (let y = 0; y < 28; y++)
      for (let x = 0; x < 28; x++) {
        const d = Math.abs(t[c * HW + y * 8 * 224 + Math.min(x * 8 + shift, 223)] - sample[c * 784 + y * 28 + x]);
        max = Math.max(max, d);
        sum += d;
        n++;
      }
  return { max, mean: sum / n };
}

/** The reference crop (uint8, what ToTensor received), normalised exactly as torchvision does. */
async function referenceTensor(file: string): Promise<Float32Array> {
  const stem = file.replace(/\.[^.]+$/, '');
  const { data, info } = await sharp(join(PREPROCESS, 'crops', `${stem}.bilinear.png`), { ignoreIcc: true }).raw().toBuffer({ resolveWithObject: true });
  expect([info.width, info.height, info.channels]).toEqual([224, 224, 3]);
  const f = Math.fround;
  const out = new Float32Array(3 * HW);
  for (let c = 0; c < 3; c++) for (let i = 0; i < HW; i++) out[c * HW + i] = f(f(f(data[i * 3 + c] / 255) - f(IMAGENET_MEAN[c])) / f(IMAGENET_STD[c]));
  return out;
}

describe('preprocess geometry = torchvision Resize + CenterCrop', () => {
  it.each(REF.images.flatMap((im) => (['bilinear', 'bicubic'] as const).map((k) => [im.file, k, im] as const)))('%s (%s)', (_f, key, im) => {
    const p = im.pipelines[key];
    const plan = planResize(im.size[0], im.size[1], { resize_shorter: p.resize, crop: [224, 224] });
    expect(plan.resized).toEqual(p.resized);
    expect([plan.top, plan.left]).toEqual(p.crop_top_left);
  });

  it('rounds crop offsets half-to-even like Python round()', () => {
    // 256 x 293: (293 - 224) / 2 = 34.5 -> 34 ; 256 x 295: 35.5 -> 36 ; 256 x 341: 58.5 -> 58
    expect(planResize(256, 293, { resize_shorter: 256, crop: [224, 224] }).left).toBe(34);
    expect(planResize(256, 295, { resize_shorter: 256, crop: [224, 224] }).left).toBe(36);
    expect(planResize(600, 800, { resize_shorter: 256, crop: [224, 224] })).toEqual({ resized: [256, 341], top: 16, left: 58, crop: [224, 224] });
    // the longer side is truncated, not rounded: 256 * 1600 / 852 = 480.75 -> 480
    expect(planResize(852, 1600, { resize_shorter: 256, crop: [224, 224] }).resized).toEqual([256, 480]);
  });
});

describe('preprocess values vs torchvision (ImageNet: Resize(256) bilinear + CenterCrop(224))', () => {
  const spec = presetSpec('imagenet');
  it('uses the ImageNet numbers', () => {
    expect(spec).toEqual({ resize_shorter: 256, crop: [224, 224], interpolation: 'bilinear', mean: IMAGENET_MEAN, std: IMAGENET_STD, channel_order: 'RGB', layout: 'NCHW' });
  });

  const stats: string[] = [];
  it.each(REF.images.map((im) => [im.file, im] as const))('%s', async (_f, im) => {
    const t = await decodeToTensor(join(IMAGES, im.file), spec);
    const ref = await referenceTensor(im.file);
    let max = 0;
    let sum = 0;
    let within1 = 0;
    for (let i = 0; i < t.length; i++) {
      const d = Math.abs(t[i] - ref[i]);
      max = Math.max(max, d);
      sum += d;
      if (d <= LEVEL * 1.001) within1++;
    }
    const mean = sum / t.length;
    stats.push(`${im.file}: max ${max.toFixed(4)} mean ${mean.toFixed(5)} within 1 level ${((100 * within1) / t.length).toFixed(2)}%`);
    // full tensor: max 6 uint8 steps, mean 0.5 steps (measured: max 4, mean <= 0.41 steps)
    expect(max).toBeLessThanOrEqual(6 * LEVEL);
    expect(mean).toBeLessThanOrEqual(0.5 * LEVEL);
    expect(within1 / t.length).toBeGreaterThan(0.97);
    // the stored torchvision sample (after Normalize) agrees with the crop, i.e. the normalisation
    // arithmetic is torchvision's to float32 rounding
    const sample = sampleOf(im.pipelines.bilinear);
    expect(compareSample(ref, sample).max).toBeLessThan(1e-6);
    const cmp = compareSample(t, sample);
    expect(cmp.max).toBeLessThanOrEqual(6 * LEVEL);
    for (let c = 0; c < 3; c++) {
      let m = 0;
      for (let i = 0; i < HW; i++) m += t[c * HW + i];
      expect(Math.abs(m / HW - im.pipelines.bilinear.channel_mean[c])).toBeLessThan(0.01);
    }
  });

  it('reports the measured differences', () => {
    // visible with --reporter=verbose; kept as data for the record
    expect(stats.length).toBe(REF.images.length);
    console.log(`preprocess vs torchvision (normalised units, 1 uint8 step = ${LEVEL.toFixed(4)}):\n  ${stats.join('\n  ')}`);
  });
});

describe('preprocess values vs CLIP preprocessing (Resize(224) bicubic + CenterCrop(224))', () => {
  const spec = presetSpec('clip');
  it('uses the CLIP numbers', () => {
    expect(spec.resize_shorter).toBe(224);
    expect(spec.interpolation).toBe('bicubic');
    expect(spec.mean).toEqual(CLIP_MEAN);
    expect(spec.std).toEqual(CLIP_STD);
  });
  it.each(REF.images.map((im) => [im.file, im] as const))('%s', async (_f, im) => {
    const t = await decodeToTensor(join(IMAGES, im.file), spec);
    const cmp = compareSample(t, sampleOf(im.pipelines.bicubic));
    // bicubic overshoots near edges, so single values differ more (measured max 0.057 = 3.8 steps
    // of CLIP's std, mean 0.0008..0.0076)
    const step = 1 / 255 / 0.2613;
    expect(cmp.max).toBeLessThanOrEqual(6 * step);
    expect(cmp.mean).toBeLessThanOrEqual(0.6 * step);
  });
});

describe('the tolerances would catch real mistakes', () => {
  it('a one-pixel horizontal shift, or ICC conversion, is far outside them', async () => {
    const spec = presetSpec('imagenet');
    // every photo: the mean error of a one-pixel shift is well above the mean tolerance (0.5 steps)
    let leastShifted = Infinity;
    for (const im of REF.images) {
      const t = await decodeToTensor(join(IMAGES, im.file), spec);
      leastShifted = Math.min(leastShifted, compareSample(t, sampleOf(im.pipelines.bilinear), 1).mean);
    }
    expect(leastShifted).toBeGreaterThan(2 * 0.5 * LEVEL);
    // three of the photos carry ICC profiles; converting them (sharp's default) moves values a lot
    const file = 'ort-examples_kimono.jpg';
    const { data } = await sharp(join(IMAGES, file)).resize(370, 256, { kernel: 'linear', fastShrinkOnLoad: false }).extract({ left: 73, top: 16, width: 224, height: 224 }).raw().toBuffer({ resolveWithObject: true });
    const ref = await referenceTensor(file);
    let sum = 0;
    for (let c = 0; c < 3; c++) for (let i = 0; i < HW; i++) sum += Math.abs((data[i * 3 + c] / 255 - IMAGENET_MEAN[c]) / IMAGENET_STD[c] - ref[c * HW + i]);
    expect(sum / (3 * HW)).toBeGreaterThan(2 * 0.5 * LEVEL);
  });
});

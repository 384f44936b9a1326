// Awkward and broken inputs (test/fixtures/preprocess/make_inputs.py), compared pixel for pixel
// with what PIL's Image.open(f).convert('RGB') makes of them (inputs/pil_rgb/*.png).
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import {
  ImageDecodeError,
  decodeBatch,
  decodeToTensor,
  presetSpec,
  PreprocessSpecSchema,
  type PreprocessSpec,
} from '../../../native-models/preprocess/index.ts';
import { IMAGES, INPUTS, flatGreyJpeg, withTempDir } from './helpers.ts';

const W = 64;
const H = 48;
/** No resize, no crop, values 0..1: the tensor is exactly the decoded RGB image / 255. */
const IDENTITY: PreprocessSpec = { resize_shorter: null, crop: [H, W], interpolation: 'bilinear', mean: [0, 0, 0], std: [1, 1, 1], channel_order: 'RGB', layout: 'NCHW' };

/** The tensor as uint8 HWC (inverting /255 exactly). */
function toPixels(t: Float32Array, h: number, w: number): Uint8Array {
  const out = new Uint8Array(h * w * 3);
  for (let c = 0; c < 3; c++) for (let i = 0; i < h * w; i++) out[i * 3 + c] = Math.round(t[c * h * w + i] * 255);
  return out;
}

async function pilRgb(name: string): Promise<Uint8Array> {
  const { data, info } = await sharp(join(INPUTS, 'pil_rgb', `${name}.png`)).raw().toBuffer({ resolveWithObject: true });
  expect(info.channels).toBe(3);
  return new Uint8Array(data);
}

function countDiff(a: Uint8Array, b: Uint8Array): { max: number; n: number } {
  let max = 0;
  let n = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (d) n++;
    max = Math.max(max, d);
  }
  return { max, n };
}

async function expectDecodeError(source: string | Buffer, reason: RegExp, file?: string): Promise<ImageDecodeError> {
  const err = await decodeToTensor(source, presetSpec('imagenet')).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ImageDecodeError);
  const e = err as ImageDecodeError;
  expect(e.reason).toMatch(reason);
  if (file !== undefined) {
    expect(e.file).toBe(file);
    expect(e.message).toContain(file);
  }
  return e;
}

describe('colour conversion matches PIL convert("RGB") exactly', () => {
  it.each(['gray.png', 'rgb16.png', 'rgba.png', 'palette_trns.png', 'cmyk.jpg', 'exif_rotated.jpg'])('%s', async (name) => {
    const t = await decodeToTensor(join(INPUTS, name), IDENTITY);
    const diff = countDiff(toPixels(t, H, W), await pilRgb(name));
    expect(diff).toEqual({ max: 0, n: 0 });
  });

  it('keeps the colour under transparent pixels and drops alpha before resizing', async () => {
    // rgba.png has alpha 0 in its first 8 columns; resizing with alpha would darken them
    // (premultiplied); PIL drops alpha first. So rgba.png must give the same tensor as its RGB version.
    const spec = presetSpec('imagenet', [40, 40]);
    const [a, b] = await Promise.all([decodeToTensor(join(INPUTS, 'rgba.png'), spec), decodeToTensor(join(INPUTS, 'pil_rgb', 'rgba.png.png'), spec)]);
    expect(Array.from(a)).toEqual(Array.from(b));
    const [c, d] = await Promise.all([decodeToTensor(join(INPUTS, 'cmyk.jpg'), spec), decodeToTensor(join(INPUTS, 'pil_rgb', 'cmyk.jpg.png'), spec)]);
    expect(Array.from(c)).toEqual(Array.from(d));
  });

  it('16-bit greyscale: v >> 8 (a deliberate difference: PIL clips at 255 and makes it white)', async () => {
    const t = toPixels(await decodeToTensor(join(INPUTS, 'gray16.png'), IDENTITY), H, W);
    const { data } = await sharp(join(INPUTS, 'gray16.png')).toColourspace('grey16').raw({ depth: 'ushort' }).toBuffer({ resolveWithObject: true });
    const u16 = new Uint16Array(data.buffer, data.byteOffset, data.length / 2);
    expect(u16.length).toBe(H * W);
    for (let i = 0; i < H * W; i++) for (let c = 0; c < 3; c++) expect(t[i * 3 + c]).toBe(u16[i] >> 8);
    const pil = await pilRgb('gray16.png');
    expect(pil.every((v) => v === 255)).toBe(true);
  });

  it('does not rotate by EXIF orientation (PIL/torchvision do not)', async () => {
    const meta = await sharp(join(INPUTS, 'exif_rotated.jpg')).metadata();
    expect(meta.orientation).toBe(6);
    // decoding at the stored 64x48 size works; a rotation would have made it 48x64 first
    const t = await decodeToTensor(join(INPUTS, 'exif_rotated.jpg'), IDENTITY);
    expect(countDiff(toPixels(t, H, W), await pilRgb('exif_rotated.jpg')).max).toBe(0);
  });
});

describe('broken input gives ImageDecodeError with the file and a reason', () => {
  it('0-byte file', async () => {
    await expectDecodeError(join(INPUTS, 'empty.jpg'), /^empty file \(0 bytes\)$/, join(INPUTS, 'empty.jpg'));
  });
  it('truncated JPEG', async () => {
    await expectDecodeError(join(INPUTS, 'truncated.jpg'), /^truncated image/, join(INPUTS, 'truncated.jpg'));
  });
  it('JPEG with a corrupt header', async () => {
    await expectDecodeError(join(INPUTS, 'corrupt_header.jpg'), /^corrupt image header/, join(INPUTS, 'corrupt_header.jpg'));
  });
  it('a text file named .jpg', async () => {
    await expectDecodeError(join(INPUTS, 'text.jpg'), /^not an image: the file is text \(starts with "this is a text file/, join(INPUTS, 'text.jpg'));
  });
  it('missing file and directory', async () => {
    await expectDecodeError(join(INPUTS, 'no-such-file.jpg'), /^file not found$/, join(INPUTS, 'no-such-file.jpg'));
    await expectDecodeError(INPUTS, /directory/, INPUTS);
  });
  it('unsupported format: SVG is refused (not a photo), BMP named as such', async () => {
    await withTempDir(async (dir) => {
      const svg = join(dir, 'x.svg');
      await writeFile(svg, '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>');
      await expectDecodeError(svg, /unsupported format: svg/, svg);
    });
    const bmp = Buffer.concat([Buffer.from('BM'), Buffer.alloc(60)]);
    await expectDecodeError(bmp, /^unsupported format: BMP/, '<buffer>');
  });
  it('a PNG whose header claims 20000x20000 is refused from the header alone', async () => {
    const t0 = performance.now();
    await expectDecodeError(join(INPUTS, 'huge_header.png'), /^image too large: 20000x20000 \(400\.0 MP\) is over the 100\.0 MP limit for PNG$/);
    expect(performance.now() - t0).toBeLessThan(2000);
  });
  it('a 20000x20000 JPEG is decoded at 1/8 scale (shrink-on-load) without exhausting memory', async () => {
    const jpeg = flatGreyJpeg(20000, 20000);
    expect((await sharp(jpeg, { limitInputPixels: false }).metadata()).width).toBe(20000);
    const rss0 = process.memoryUsage().rss;
    const t0 = performance.now();
    const t = await decodeToTensor(jpeg, presetSpec('imagenet'), undefined, 0, { name: 'huge.jpg' });
    expect(performance.now() - t0).toBeLessThan(20_000);
    // a full decode would need 400 MB for the pixels alone
    expect(process.memoryUsage().rss - rss0).toBeLessThan(300e6);
    const f = Math.fround;
    for (let c = 0; c < 3; c++) {
      const want = f(f(f(128 / 255) - f([0.485, 0.456, 0.406][c])) / f([0.229, 0.224, 0.225][c]));
      expect(t[c * 224 * 224]).toBe(want);
      expect(t[c * 224 * 224 + 224 * 224 - 1]).toBe(want);
    }
  });
  it('a JPEG over 1000 MP is refused from its header', async () => {
    const e = await expectDecodeError(flatGreyJpeg(40000, 40000, true), /^image too large: 40000x40000 \(1600\.0 MP\) is over the 1000\.0 MP limit for JPEG$/);
    expect(e.file).toBe('<buffer>');
  });
});

describe('writing into a batch buffer', () => {
  it('writes exactly its slot at the offset, same values as a fresh array, path or Buffer alike', async () => {
    const spec = presetSpec('imagenet', [32, 32]);
    const per = 3 * 32 * 32;
    const batch = new Float32Array(3 * per).fill(Number.NaN);
    const file = join(IMAGES, 'ort-examples_goldfish.jpg');
    const ret = await decodeToTensor(file, spec, batch, per);
    expect(ret).toBe(batch);
    expect(batch.subarray(0, per).every(Number.isNaN)).toBe(true);
    expect(batch.subarray(2 * per).every(Number.isNaN)).toBe(true);
    const alone = await decodeToTensor(await readFile(file), spec);
    expect(Array.from(batch.subarray(per, 2 * per))).toEqual(Array.from(alone));
  });

  it('refuses an offset that does not fit', async () => {
    const spec = presetSpec('imagenet', [32, 32]);
    await expect(decodeToTensor(join(IMAGES, 'ort-examples_goldfish.jpg'), spec, new Float32Array(3 * 32 * 32), 1)).rejects.toThrow(RangeError);
  });

  it('BGR swaps the channels (mean/std stay listed as R, G, B)', async () => {
    const rgb = presetSpec('imagenet', [32, 32]);
    const bgr: PreprocessSpec = { ...rgb, channel_order: 'BGR' };
    const file = join(IMAGES, 'wonnx_pelican.jpeg');
    const [a, b] = await Promise.all([decodeToTensor(file, rgb), decodeToTensor(file, bgr)]);
    const n = 32 * 32;
    expect(Array.from(b.subarray(0, n))).toEqual(Array.from(a.subarray(2 * n)));
    expect(Array.from(b.subarray(2 * n))).toEqual(Array.from(a.subarray(0, n)));
  });

  it('nearest and resize-to-crop (preset none) work; none gives values in 0..1', async () => {
    const none = presetSpec('none', [20, 30]);
    expect(none.resize_shorter).toBeNull();
    const t = await decodeToTensor(join(IMAGES, 'ort-examples_horse.png'), { ...none, interpolation: 'nearest' });
    expect(t.length).toBe(3 * 20 * 30);
    expect(Math.min(...t)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...t)).toBeLessThanOrEqual(1);
  });

  it('decodeBatch decodes concurrently and reports failures by index', async () => {
    const spec = presetSpec('imagenet', [24, 24]);
    const files = [join(IMAGES, 'onnxjs_resnet-cat.jpg'), join(INPUTS, 'truncated.jpg'), join(IMAGES, 'wonnx_bald_eagle.jpeg'), join(INPUTS, 'empty.jpg')];
    const { tensor, errors } = await decodeBatch(files, spec, undefined, 3);
    expect(errors.map((e) => [e.index, e.error.file])).toEqual([
      [1, files[1]],
      [3, files[3]],
    ]);
    const per = 3 * 24 * 24;
    expect(Array.from(tensor.subarray(2 * per, 3 * per))).toEqual(Array.from(await decodeToTensor(files[2], spec)));
  });
});

describe('PreprocessSpec schema', () => {
  it('accepts the presets and refuses nonsense', () => {
    for (const p of ['imagenet', 'clip', 'none'] as const) expect(PreprocessSpecSchema.parse(presetSpec(p))).toEqual(presetSpec(p));
    expect(PreprocessSpecSchema.safeParse({ ...presetSpec('imagenet'), std: [0, 1, 1] }).success).toBe(false);
    expect(PreprocessSpecSchema.safeParse({ ...presetSpec('imagenet'), resize_shorter: 200 }).success).toBe(false);
    expect(PreprocessSpecSchema.safeParse({ ...presetSpec('imagenet'), interpolation: 'lanczos' }).success).toBe(false);
    expect(PreprocessSpecSchema.safeParse({ ...presetSpec('imagenet'), layout: 'NHWC' }).success).toBe(false);
  });
  it('imagenet preset for other input sizes follows timm crop_pct 0.875; clip resizes to the crop', () => {
    expect(presetSpec('imagenet', [299, 299]).resize_shorter).toBe(341);
    expect(presetSpec('imagenet', [32, 32]).resize_shorter).toBe(36);
    expect(presetSpec('clip', [336, 336]).resize_shorter).toBe(336);
  });
});

describe('overlap', () => {
  it('many decodes in flight at once complete (libuv thread pool), each into its slot', async () => {
    const spec = presetSpec('imagenet', [64, 64]);
    const per = 3 * 64 * 64;
    const names = ['onnxjs_resnet-cat.jpg', 'onnxjs_squeezenet-piano.jpg', 'ort-examples_goldfish.jpg', 'wonnx_bald_eagle.jpeg', 'wonnx_pelican.jpeg', 'ort-examples_n01440764_3198.png'];
    const batch = new Float32Array(names.length * per);
    await Promise.all(names.map((n, i) => decodeToTensor(join(IMAGES, n), spec, batch, i * per)));
    for (let i = 0; i < names.length; i++) {
      expect(Array.from(batch.subarray(i * per, (i + 1) * per))).toEqual(Array.from(await decodeToTensor(join(IMAGES, names[i]), spec)));
    }
  });
});

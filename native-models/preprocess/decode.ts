// Image file -> normalised CHW float32 tensor, with sharp (libvips), matching what torchvision's
// ImageNet evaluation does with PIL: Image.open(f).convert('RGB') -> Resize -> CenterCrop ->
// ToTensor -> Normalize.
//
// Colour conversion, as PIL 9.4's convert('RGB') (checked pixel for pixel by the tests):
//  - embedded ICC profiles are ignored (PIL ignores them; sharp would convert to sRGB by default);
//  - greyscale is replicated into R, G and B;
//  - alpha (RGBA, LA, palette transparency) is dropped, NOT flattened onto black or white: the colour
//    stored under a transparent pixel is kept, and the alpha is removed before resizing (sharp would
//    otherwise resize alpha-premultiplied colours);
//  - 16-bit RGB keeps the high byte (v >> 8), as PIL does when it opens a 16-bit PNG;
//  - CMYK (including Adobe-inverted JPEGs) uses PIL's formula without colour management:
//    R = (255 - K) - C * (255 - K) / 255 (rounded as PIL's MULDIV255), likewise G from M, B from Y;
//  - deliberate difference: 16-bit greyscale becomes v >> 8. PIL opens it as 32-bit 'I' and
//    convert('RGB') clips at 255, which turns almost every real 16-bit image white;
//  - EXIF orientation is not applied (PIL/torchvision do not rotate either).
//
// Resampling differs from PIL's (see test/unit/native-models/preprocess-reference.test.ts for the
// measured difference): both use a triangle (bilinear) or Catmull-Rom (bicubic, a = -0.5) kernel
// widened by the downscale factor (antialiasing), but libvips first box-shrinks by an integer
// factor when the reduction is large, computes in a different fixed-point precision, and rounds
// the intermediate (horizontal-pass) result differently. The crop geometry is exactly torchvision's.
//
// Size limits: an image whose header declares more than MAX_DECODE_PIXELS is refused, except JPEG
// up to MAX_SHRINK_ON_LOAD_PIXELS, which libjpeg decodes at 1/2, 1/4 or 1/8 scale (DCT scaling,
// memory ~1/64 of the full image; slightly different from a full decode). Images that need a
// full-resolution conversion buffer (alpha, CMYK, 16-bit) are limited to MAX_BUFFERED_PIXELS.
import { readFile } from 'node:fs/promises';
import sharp, { type Metadata, type Sharp } from 'sharp';
import { planResize, type PreprocessSpec } from './spec.ts';

export const MAX_DECODE_PIXELS = 100_000_000;
export const MAX_BUFFERED_PIXELS = 40_000_000;
export const MAX_SHRINK_ON_LOAD_PIXELS = 1_000_000_000;

/** Raster formats accepted (what PIL reads and libvips decodes). SVG/PDF are refused: not photos. */
const ACCEPTED_FORMATS = new Set(['jpeg', 'png', 'webp', 'gif', 'tiff', 'heif', 'avif']);

export class ImageDecodeError extends Error {
  readonly file: string;
  readonly reason: string;
  constructor(file: string, reason: string, options?: { cause?: unknown }) {
    super(`${file}: ${reason}`, options);
    this.name = 'ImageDecodeError';
    this.file = file;
    this.reason = reason;
  }
}

function sniff(buf: Buffer): string | null {
  if (buf.length >= 4 && buf.toString('latin1', 0, 4) === '%PDF') return 'a PDF document';
  if (buf.length >= 2 && buf[0] === 0x50 && buf[1] === 0x4b) return 'a ZIP archive';
  const head = buf.subarray(0, 64);
  let printable = 0;
  for (const b of head) if ((b >= 0x20 && b < 0x7f) || b === 0x0a || b === 0x0d || b === 0x09) printable++;
  if (head.length > 0 && printable === head.length) return `text (starts with ${JSON.stringify(head.subarray(0, 24).toString('latin1'))})`;
  return null;
}

function reasonFromSharp(err: Error, buf: Buffer): string {
  const first = err.message.split('\n')[0].trim();
  if (/premature end|truncated|unexpected end/i.test(first)) return `truncated image: the data ends early (${first})`;
  if (/unsupported image format/i.test(first)) {
    if (buf.length >= 2 && buf[0] === 0x42 && buf[1] === 0x4d) return 'unsupported format: BMP (libvips cannot read it; convert it to PNG)';
    const what = sniff(buf);
    return what ? `not an image: the file is ${what}` : 'not a supported image format';
  }
  if (/corrupt header/i.test(first)) return `corrupt image header (${first.replace(/^Input buffer has corrupt header: /, '')})`;
  return `cannot decode (${first})`;
}

/** 8-bit pixels, row-major, interleaved channels. */
export interface RawImage {
  data: Buffer;
  width: number;
  height: number;
  channels: number;
}

const KERNEL = { bilinear: 'linear', bicubic: 'cubic', nearest: 'nearest' } as const;

/** PIL's cmyk2rgb (Pillow 9.4 Convert.c): out = CLIP8(nk - MULDIV255(c, nk)), nk = 255 - k. */
function cmykToRgb(src: Buffer, pixels: number): Buffer {
  const out = Buffer.allocUnsafe(pixels * 3);
  for (let i = 0; i < pixels; i++) {
    const nk = 255 - src[i * 4 + 3];
    for (let c = 0; c < 3; c++) {
      const t = src[i * 4 + c] * nk + 128;
      const v = nk - (((t >> 8) + t) >> 8);
      out[i * 3 + c] = v < 0 ? 0 : v;
    }
  }
  return out;
}

function dropAlpha(src: Buffer, pixels: number, channels: number): Buffer {
  const colour = channels === 2 ? 1 : 3;
  const out = Buffer.allocUnsafe(pixels * colour);
  for (let i = 0; i < pixels; i++) for (let c = 0; c < colour; c++) out[i * colour + c] = src[i * channels + c];
  return out;
}

/** 256-entry lookup per output channel: ((v / 255) - mean) / std in float32 steps, as torchvision. */
function lookupTables(spec: PreprocessSpec): Float32Array {
  const lut = new Float32Array(3 * 256);
  const f = Math.fround;
  for (let c = 0; c < 3; c++) {
    const src = spec.channel_order === 'BGR' ? 2 - c : c;
    const mean = f(spec.mean[src]);
    const std = f(spec.std[src]);
    for (let v = 0; v < 256; v++) lut[c * 256 + v] = f(f(f(v / 255) - mean) / std);
  }
  return lut;
}

const lutCache = new WeakMap<PreprocessSpec, Float32Array>();

function writeChw(raw: RawImage, spec: PreprocessSpec, out: Float32Array, offset: number): void {
  let lut = lutCache.get(spec);
  if (!lut) {
    lut = lookupTables(spec);
    lutCache.set(spec, lut);
  }
  const { data, channels } = raw;
  const hw = raw.width * raw.height;
  const colour = channels >= 3 ? 3 : 1;
  for (let c = 0; c < 3; c++) {
    const rgb = spec.channel_order === 'BGR' ? 2 - c : c;
    const srcC = colour === 3 ? rgb : 0;
    const base = offset + c * hw;
    const l = c * 256;
    for (let i = 0, j = srcC; i < hw; i++, j += channels) out[base + i] = lut[l + data[j]];
  }
}

async function readSource(source: string | Buffer, file: string): Promise<Buffer> {
  if (typeof source !== 'string') return source;
  try {
    return await readFile(source);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason =
      code === 'ENOENT' ? 'file not found' : code === 'EISDIR' ? 'is a directory, not an image file' : code === 'EACCES' ? 'permission denied' : `cannot read (${(err as Error).message})`;
    throw new ImageDecodeError(file, reason, { cause: err });
  }
}

export interface DecodeOptions {
  /** Name used in errors when the source is a Buffer. */
  name?: string;
}

/**
 * Decodes `source` (a path or the file's bytes) and writes the preprocessed CHW float32 tensor
 * (3 x crop[0] x crop[1]) into `out` at `offset` (a new array when `out` is omitted); returns `out`.
 * Decoding and resizing run on libuv's thread pool, so several calls can be in flight while a
 * model runs. Throws ImageDecodeError (with .file and .reason) for anything that is not a usable image.
 */
export async function decodeToTensor(
  source: string | Buffer,
  spec: PreprocessSpec,
  out?: Float32Array,
  offset = 0,
  options: DecodeOptions = {},
): Promise<Float32Array> {
  const file = typeof source === 'string' ? source : (options.name ?? '<buffer>');
  const [ch, cw] = spec.crop;
  const size = 3 * ch * cw;
  const target = out ?? new Float32Array(size);
  if (!Number.isInteger(offset) || offset < 0 || offset + size > target.length) {
    throw new RangeError(`decodeToTensor: ${size} values at offset ${offset} do not fit in an array of ${target.length}`);
  }
  const raw = await decodeRaw(await readSource(source, file), spec, file);
  if (raw.width !== cw || raw.height !== ch) throw new ImageDecodeError(file, `internal error: got ${raw.width}x${raw.height}, expected ${cw}x${ch}`);
  writeChw(raw, spec, target, offset);
  return target;
}

/** The preprocessed image as 8-bit pixels (height x width x channels, channels 1 or 3), before normalisation. */
export async function decodeRaw(buf: Buffer, spec: Pick<PreprocessSpec, 'resize_shorter' | 'crop' | 'interpolation'>, file: string): Promise<RawImage> {
  if (buf.length === 0) throw new ImageDecodeError(file, 'empty file (0 bytes)');
  let meta: Metadata;
  try {
    meta = await sharp(buf, { limitInputPixels: false, failOn: 'error' }).metadata();
  } catch (err) {
    throw new ImageDecodeError(file, reasonFromSharp(err as Error, buf), { cause: err });
  }
  const { format, width, height } = meta;
  if (!ACCEPTED_FORMATS.has(format) || !width || !height) {
    throw new ImageDecodeError(file, `unsupported format: ${format} (accepted: JPEG, PNG, WebP, GIF, TIFF, HEIF/AVIF)`);
  }
  const pixels = width * height;
  const mp = (n: number) => `${(n / 1e6).toFixed(1)} MP`;
  const cmyk = meta.space === 'cmyk';
  const sixteen = meta.depth !== undefined && meta.depth !== 'uchar' && meta.depth !== 'char';
  const buffered = cmyk || meta.hasAlpha || sixteen;
  let shrinkOnLoad = false;
  if (pixels > MAX_DECODE_PIXELS) {
    // progressive JPEGs keep all DCT coefficients in memory (~2 bytes per sample) whatever the shrink
    if (format !== 'jpeg' || buffered || meta.isProgressive || pixels > MAX_SHRINK_ON_LOAD_PIXELS) {
      const baseline = format === 'jpeg' && !buffered && !meta.isProgressive;
      const limit = baseline ? MAX_SHRINK_ON_LOAD_PIXELS : MAX_DECODE_PIXELS;
      const kind = baseline ? 'JPEG' : format === 'jpeg' ? (meta.isProgressive ? 'progressive JPEG' : 'this kind of JPEG') : format.toUpperCase();
      throw new ImageDecodeError(file, `image too large: ${width}x${height} (${mp(pixels)}) is over the ${mp(limit)} limit for ${kind}`);
    }
    shrinkOnLoad = true;
  } else if (buffered && pixels > MAX_BUFFERED_PIXELS) {
    throw new ImageDecodeError(file, `image too large: ${width}x${height} (${mp(pixels)}) with ${cmyk ? 'CMYK' : meta.hasAlpha ? 'alpha' : '16-bit samples'} is over the ${mp(MAX_BUFFERED_PIXELS)} limit`);
  }
  const plan = planResize(height, width, spec);
  const [rh, rw] = plan.resized;
  const kernel = KERNEL[spec.interpolation];
  const base = { failOn: 'error' as const, ignoreIcc: true, limitInputPixels: MAX_SHRINK_ON_LOAD_PIXELS };

  try {
    let img: Sharp;
    if (buffered) {
      // Stage 1: full-resolution 8-bit pixels with PIL's convert('RGB') semantics, then resize those.
      const first = cmyk
        ? await sharp(buf, base).pipelineColourspace('cmyk').toColourspace('cmyk').raw().toBuffer({ resolveWithObject: true })
        : await sharp(buf, base).raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
      const n = first.info.width * first.info.height;
      let data: Buffer;
      let channels: number;
      if (cmyk) {
        data = cmykToRgb(first.data, n);
        channels = 3;
      } else if (first.info.channels === 2 || first.info.channels === 4) {
        data = dropAlpha(first.data, n, first.info.channels);
        channels = first.info.channels - 1;
      } else {
        data = first.data;
        channels = first.info.channels;
      }
      img = sharp(data, { raw: { width: first.info.width, height: first.info.height, channels: channels as 1 | 3 } });
    } else {
      img = sharp(buf, base);
      // libvips would otherwise decode large JPEGs at reduced scale (shrink-on-load) whenever the
      // reduction is >= 4x; a pipeline colourspace disables that so that the full image is
      // resampled as PIL does. Huge JPEGs keep shrink-on-load on purpose.
      if (!shrinkOnLoad) img = img.pipelineColourspace('srgb');
    }
    if (rh !== height || rw !== width) {
      img = img.resize(rw, rh, { fit: 'fill', kernel, fastShrinkOnLoad: shrinkOnLoad });
    }
    if (plan.top !== 0 || plan.left !== 0 || plan.crop[0] !== rh || plan.crop[1] !== rw) {
      img = img.extract({ left: plan.left, top: plan.top, width: plan.crop[1], height: plan.crop[0] });
    }
    const { data, info } = await img.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
    return { data, width: info.width, height: info.height, channels: info.channels };
  } catch (err) {
    if (err instanceof ImageDecodeError) throw err;
    throw new ImageDecodeError(file, reasonFromSharp(err as Error, buf), { cause: err });
  }
}

/**
 * Decodes many images into one batch buffer, `concurrency` at a time. Failures do not stop the
 * batch: their rows are left as they were and reported in `errors` (index into `sources`).
 */
export async function decodeBatch(
  sources: (string | Buffer)[],
  spec: PreprocessSpec,
  out?: Float32Array,
  concurrency = 4,
): Promise<{ tensor: Float32Array; errors: { index: number; error: ImageDecodeError }[] }> {
  const per = 3 * spec.crop[0] * spec.crop[1];
  const tensor = out ?? new Float32Array(per * sources.length);
  const errors: { index: number; error: ImageDecodeError }[] = [];
  let next = 0;
  const worker = async () => {
    while (next < sources.length) {
      const i = next++;
      try {
        await decodeToTensor(sources[i], spec, tensor, i * per);
      } catch (err) {
        if (!(err instanceof ImageDecodeError)) throw err;
        errors.push({ index: i, error: err });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, sources.length)) }, worker));
  errors.sort((a, b) => a.index - b.index);
  return { tensor, errors };
}

/**
 * decodeBatch, then the rows of the images that decoded moved to the front: `tensor` holds
 * `ok.length` images in order, `ok` their indices into `sources`; failures are in `errors`.
 */
export async function decodeBatchCompacted(
  sources: (string | Buffer)[],
  spec: PreprocessSpec,
  concurrency = 8,
): Promise<{ tensor: Float32Array; ok: number[]; errors: { index: number; error: ImageDecodeError }[] }> {
  const per = 3 * spec.crop[0] * spec.crop[1];
  const { tensor, errors } = await decodeBatch(sources, spec, undefined, concurrency);
  const failed = new Set(errors.map((e) => e.index));
  const ok: number[] = [];
  for (let i = 0; i < sources.length; i++) {
    if (failed.has(i)) continue;
    if (ok.length !== i) tensor.copyWithin(ok.length * per, i * per, (i + 1) * per);
    ok.push(i);
  }
  return { tensor: tensor.subarray(0, ok.length * per), ok, errors };
}

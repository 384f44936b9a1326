// A classifier or CLIP model package converted to fp16: a new package folder with the same files,
// the ONNX graphs converted (float32 inputs and outputs kept, so the app runs it unchanged), the
// manifest's hashes updated and `fp16-conversion.json` saying what was measured. A classifier's head
// stays float32, so patching and exporting it work exactly as on the original.
//
// The check: the original and the converted graphs run on the CPU provider on the same inputs:
// real images when given (preprocessed as the package says), else seeded Gaussian noise, which
// stands in for normalised pixels but does not calibrate ranges as real images do. For a CLIP
// text encoder, a fixed set of prompts. The conversion is refused (nothing written) when an
// output's relative error exceeds `maxRelError`, or a classifier's top-1 class changes on more than
// `maxTop1Changes` of the check images.
import * as ort from 'onnxruntime-node';
import { cp, mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { loadModelPackage, ModelPackageError, sha256File } from '../manifest/load.ts';
import { MANIFEST_FILE, type ClassifierManifest, type ClipManifest } from '../manifest/schema.ts';
import { decodeToTensor, ImageDecodeError } from '../preprocess/decode.ts';
import type { PreprocessSpec } from '../preprocess/spec.ts';
import { ClipTokenizer } from '../clip/tokenizer/index.ts';
import { mulberry32 } from '../mulberry32.ts';
import { convertOnnxFileToFloat16, type OutputCheck } from './convert-onnx-file.ts';
import { Float16ConversionError, type Float16Report } from './float16-graph.ts';

export const CONVERSION_REPORT_FILE = 'fp16-conversion.json';

export interface ConvertPackageOptions {
  /** Image files to calibrate and check on (up to `maxImages` are used); noise when empty. */
  images?: readonly string[];
  maxImages?: number;
  maxRelError?: number;
  /** Share of check images whose top-1 class may change (classifier only). */
  maxTop1Changes?: number;
  rangeLimit?: number;
  /** Replace a non-empty output folder's contents (default: refuse). */
  overwrite?: boolean;
}

export interface ConvertedFile {
  role: string;
  file: string;
  bytesBefore: number;
  bytesAfter: number;
  graph: Float16Report;
  outputs: { output: string; relError: number; maxAbsError: number }[];
}

export interface PackageConversionReport {
  kind: 'classifier' | 'clip';
  source: string;
  checkedOn: string;
  files: ConvertedFile[];
  /** classifier: images whose top-1 class differs between fp32 and fp16, of `checkImages`. */
  top1Changes: number | null;
  checkImages: number;
  maxRelError: number;
}

const CHECK_PROMPTS = [
  'a photo of a dog', 'a photo of a cat on a sofa', 'a red car parked on a street', 'a bird flying over the sea',
  'a close-up photo of a flower', 'a person riding a bicycle', 'a blurry photo of a truck at night', 'a drawing of a house',
];

async function pixelFeeds(spec: PreprocessSpec, images: readonly string[], max: number): Promise<{ data: Float32Array; n: number; what: string }> {
  const [h, w] = spec.crop;
  const size = 3 * h * w;
  if (images.length > 0) {
    // spread over the list (a dataset folder is usually sorted by class); unreadable files are skipped
    const step = Math.max(1, images.length / max);
    const picked = Array.from({ length: Math.min(max, images.length) }, (_, i) => images[Math.floor(i * step)]!);
    const data = new Float32Array(picked.length * size);
    const skipped: string[] = [];
    let n = 0;
    for (const file of picked) {
      try {
        await decodeToTensor(file, spec, data, n * size);
        n++;
      } catch (err) {
        if (!(err instanceof ImageDecodeError)) throw err;
        skipped.push(`${basename(file)} (${err.reason})`);
      }
    }
    if (n === 0) throw new Float16ConversionError(`none of the ${picked.length} check images could be read: ${skipped.slice(0, 3).join('; ')}`);
    const note = skipped.length ? `; skipped ${skipped.length} unreadable: ${skipped.slice(0, 3).join('; ')}` : '';
    return { data: data.subarray(0, n * size), n, what: `${n} images from ${commonFolder(picked)}${note}` };
  }
  const n = Math.min(max, 4);
  const rng = mulberry32(12345);
  const data = new Float32Array(n * size);
  for (let i = 0; i < data.length; i += 2) {
    const u = Math.max(rng(), 1e-12);
    const v = rng();
    const r = Math.sqrt(-2 * Math.log(u));
    data[i] = r * Math.cos(2 * Math.PI * v);
    if (i + 1 < data.length) data[i + 1] = r * Math.sin(2 * Math.PI * v);
  }
  return { data, n, what: `${n} seeded Gaussian noise images (no images given: ranges are not calibrated on real data)` };
}

/** The deepest folder holding every file (the dataset's root for files spread over class folders). */
function commonFolder(files: readonly string[]): string {
  let parts = dirname(files[0]!).split(sep);
  for (const f of files) {
    const p = dirname(f).split(sep);
    let k = 0;
    while (k < parts.length && k < p.length && parts[k] === p[k]) k++;
    parts = parts.slice(0, k);
  }
  return parts.join(sep) || sep;
}

function argmaxRows(x: Float32Array, rows: number): number[] {
  const c = x.length / rows;
  return Array.from({ length: rows }, (_, r) => {
    let best = 0;
    for (let j = 1; j < c; j++) if (x[r * c + j]! > x[r * c + best]!) best = j;
    return best;
  });
}

function summarize(role: string, file: string, r: Awaited<ReturnType<typeof convertOnnxFileToFloat16>>): ConvertedFile {
  return { role, file, bytesBefore: r.bytesBefore, bytesAfter: r.bytesAfter, graph: r.report, outputs: r.checks.map((c) => ({ output: c.output, relError: c.relError, maxAbsError: c.maxAbsError })) };
}

function checkErrors(file: string, checks: readonly OutputCheck[], maxRelError: number): void {
  for (const c of checks) {
    if (!(c.relError <= maxRelError)) {
      throw new Float16ConversionError(`${file}: output ${JSON.stringify(c.output)} differs from float32 by ${(c.relError * 100).toFixed(2)} % (relative L2; limit ${(maxRelError * 100).toFixed(2)} %): not converted`);
    }
  }
}

export async function convertPackageToFloat16(packageDir: string, outDir: string, options: ConvertPackageOptions = {}): Promise<PackageConversionReport> {
  const pkg = await loadModelPackage(packageDir);
  const src = resolve(pkg.dir);
  const dest = resolve(outDir);
  if (dest === src) throw new Float16ConversionError(`${outDir}: the output folder must differ from the package folder`);
  if (existsSync(dest) && (await readdir(dest)).length > 0 && !options.overwrite) throw new Float16ConversionError(`${outDir}: the output folder is not empty`);
  const maxRelError = options.maxRelError ?? 0.01;
  const maxImages = options.maxImages ?? 16;
  // everything is written into a staging folder next to the output, moved into place when checked
  const staging = join(dirname(dest), `.${basename(dest)}.fp16-${process.pid}`);
  await rm(staging, { recursive: true, force: true });
  await mkdir(dirname(dest), { recursive: true });
  await cp(src, staging, { recursive: true });
  try {
    const files: ConvertedFile[] = [];
    let top1Changes: number | null = null;
    let checkImages = 0;
    let checkedOn = '';
    const m = pkg.manifest;
    if (m.kind === 'classifier') {
      const px = await pixelFeeds(m.preprocess, options.images ?? [], maxImages);
      const [h, w] = m.preprocess.crop;
      const fixed = typeof m.input.shape[0] === 'number' ? m.input.shape[0] : null;
      if (fixed !== null && fixed !== px.n) throw new Float16ConversionError(`${pkg.onnxPath}: the graph takes batches of exactly ${fixed}; conversion checks need a dynamic batch`);
      const target = join(staging, m.onnx);
      const r = await convertOnnxFileToFloat16(pkg.onnxPath, target, {
        feeds: { [m.input.name]: new ort.Tensor('float32', px.data, [px.n, 3, h, w]) },
        keepConsumersOf: [m.head.weight, ...(m.head.bias ? [m.head.bias] : [])],
        rangeLimit: options.rangeLimit,
      });
      checkErrors(pkg.onnxPath, r.checks, maxRelError);
      const logits = r.checks.find((c) => c.output === m.outputs.logits);
      if (!logits) throw new Float16ConversionError(`${pkg.onnxPath}: no float32 output ${JSON.stringify(m.outputs.logits)} to check`);
      const a = argmaxRows(logits.reference, px.n);
      const b = argmaxRows(logits.converted, px.n);
      top1Changes = a.filter((x, i) => x !== b[i]).length;
      checkImages = px.n;
      checkedOn = px.what;
      if (top1Changes > (options.maxTop1Changes ?? 0.02) * px.n) {
        throw new Float16ConversionError(`${pkg.onnxPath}: the top-1 class changed on ${top1Changes} of ${px.n} check images in fp16: not converted`);
      }
      files.push(summarize('model', m.onnx, r));
      const manifest: ClassifierManifest = { ...m, name: `${m.name} (fp16)`, onnx_sha256: await sha256File(target) };
      await writeFile(join(staging, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
    } else {
      const cm: ClipManifest = m;
      const px = await pixelFeeds(cm.preprocess, options.images ?? [], maxImages);
      const [h, w] = cm.preprocess.crop;
      const img = await convertOnnxFileToFloat16(pkg.onnxFiles.image_encoder!.path, join(staging, cm.image_encoder.onnx), {
        feeds: { [cm.image_encoder.input]: new ort.Tensor('float32', px.data, [px.n, 3, h, w]) },
        rangeLimit: options.rangeLimit,
      });
      checkErrors(pkg.onnxFiles.image_encoder!.path, img.checks, maxRelError);
      const tokenizer = ClipTokenizer.fromVocabMerges(join(pkg.dir, cm.tokenizer.vocab), join(pkg.dir, cm.tokenizer.merges));
      const L = cm.tokenizer.context_length;
      const enc = tokenizer.encodeBatch(CHECK_PROMPTS, { contextLength: L, padId: cm.tokenizer.pad_id });
      const textGraph = pkg.onnxFiles.text_encoder!.graph;
      const int32 = textGraph.inputs.find((i) => i.name === cm.text_encoder.input)?.elemType === 6;
      const asIds = (x: BigInt64Array) => (int32 ? new ort.Tensor('int32', Int32Array.from(x, Number), [CHECK_PROMPTS.length, L]) : new ort.Tensor('int64', x, [CHECK_PROMPTS.length, L]));
      const feeds: Record<string, ort.Tensor> = { [cm.text_encoder.input]: asIds(enc.ids) };
      if (cm.text_encoder.attention_mask !== null) {
        const mask = new BigInt64Array(enc.ids.length);
        enc.lengths.forEach((len, r) => mask.fill(1n, r * L, r * L + len));
        feeds[cm.text_encoder.attention_mask] = asIds(mask);
      }
      const txt = await convertOnnxFileToFloat16(pkg.onnxFiles.text_encoder!.path, join(staging, cm.text_encoder.onnx), { feeds, rangeLimit: options.rangeLimit });
      checkErrors(pkg.onnxFiles.text_encoder!.path, txt.checks, maxRelError);
      files.push(summarize('image_encoder', cm.image_encoder.onnx, img), summarize('text_encoder', cm.text_encoder.onnx, txt));
      checkImages = px.n;
      checkedOn = `${px.what}; ${CHECK_PROMPTS.length} prompts`;
      const manifest: ClipManifest = {
        ...cm,
        name: `${cm.name} (fp16)`,
        image_encoder: { ...cm.image_encoder, ...(cm.image_encoder.onnx_sha256 ? { onnx_sha256: await sha256File(join(staging, cm.image_encoder.onnx)) } : {}) },
        text_encoder: { ...cm.text_encoder, ...(cm.text_encoder.onnx_sha256 ? { onnx_sha256: await sha256File(join(staging, cm.text_encoder.onnx)) } : {}) },
      };
      await writeFile(join(staging, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
    }
    const report: PackageConversionReport = { kind: m.kind, source: src, checkedOn, files, top1Changes, checkImages, maxRelError };
    await writeFile(join(staging, CONVERSION_REPORT_FILE), `${JSON.stringify(report, null, 2)}\n`);
    // the result must load as a package before it is moved into place
    await loadModelPackage(staging).catch((err: unknown) => {
      throw new ModelPackageError(dest, `the converted package does not load: ${(err as Error).message}`);
    });
    if (existsSync(dest)) await rm(dest, { recursive: true, force: true });
    await rename(staging, dest);
    return report;
  } catch (err) {
    await rm(staging, { recursive: true, force: true });
    throw err;
  }
}

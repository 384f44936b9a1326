// Running a classifier package: batches of preprocessed images in, logits and features out.
import * as ort from 'onnxruntime-node';
import { findInitializer, readOnnxModel, tensorToFloat32 } from '../onnx/index.ts';
import { loadModelPackage, ModelPackageError } from '../manifest/load.ts';
import type { ClassifierManifest } from '../manifest/schema.ts';
import { createSession, type Provider, type ProviderFallback, type ProviderRequest } from '../runtime/session.ts';
import { dirname } from 'node:path';
import { fromFloat16, toFloat16 } from '../diffusion/float16.ts';

export interface OpenClassifierOptions {
  provider?: ProviderRequest;
  intraOpThreads?: number;
  /** Check the ONNX file's sha256 against the manifest (default true). */
  verifyHash?: boolean;
}

export interface ClassifierOutputs {
  /** n x num_classes, row-major (probabilities when manifest.outputs.logits_are says so). */
  logits: Float32Array<ArrayBuffer>;
  /** n x feature_dim, row-major. */
  features: Float32Array<ArrayBuffer>;
}

export interface Classifier {
  dir: string;
  onnxPath: string;
  manifest: ClassifierManifest;
  provider: Provider;
  fallbacks: ProviderFallback[];
  /** Batch size fixed by the graph (usually 1), or null when dynamic. run() accepts any n either way:
   * with a fixed size it feeds exactly maxBatch images per call (the last call padded with zeros). */
  maxBatch: number | null;
  /** Floats per image: 3 x crop height x crop width. */
  inputSize: number;
  /** `input` holds n preprocessed images (NCHW float32, n x inputSize values; a float16 model gets
   * them rounded to float16, and its float16 outputs come back as float32). */
  run(input: Float32Array, n: number): Promise<ClassifierOutputs>;
  close(): Promise<void>;
}

export async function openClassifier(packageDir: string, options: OpenClassifierOptions = {}): Promise<Classifier> {
  const pkg = await loadModelPackage(packageDir, { verifyHash: options.verifyHash });
  if (pkg.manifest.kind !== 'classifier') throw new ModelPackageError(pkg.manifestPath, `expected kind "classifier", found ${JSON.stringify(pkg.manifest.kind)}`);
  const manifest = pkg.manifest;
  const { session, provider, fallbacks } = await createSession(pkg.onnxPath, { provider: options.provider ?? 'auto', intraOpThreads: options.intraOpThreads });
  const [h, w] = manifest.preprocess.crop;
  const inputSize = 3 * h * w;
  const batchSize = typeof manifest.input.shape[0] === 'number' ? manifest.input.shape[0] : null;
  const C = manifest.head.num_classes;
  const D = manifest.head.feature_dim;
  const { logits: logitsName, features: featuresName } = manifest.outputs;
  let closed = false;

  const half = manifest.input.dtype === 'float16';
  /** A float output as float32: float16 (a half-precision export) is widened; the data is copied then. */
  const asFloat32 = (t: ort.Tensor, name: string): Float32Array => {
    if (t.type === 'float32') return t.data as Float32Array;
    if (t.type === 'float16') return fromFloat16(t.data as unknown as Uint16Array);
    throw new Error(`output ${JSON.stringify(name)} is ${t.type}, expected float32 or float16`);
  };

  async function runChunk(input: Float32Array, m: number): Promise<{ logits: Float32Array; features: Float32Array }> {
    const tensor = half ? new ort.Tensor('float16', toFloat16(input), [m, 3, h, w]) : new ort.Tensor('float32', input, [m, 3, h, w]);
    const out = await session.run({ [manifest.input.name]: tensor }, [logitsName, featuresName]);
    const logits = out[logitsName];
    const features = out[featuresName];
    try {
      if (logits.size !== m * C) throw new Error(`output ${JSON.stringify(logitsName)} has shape [${logits.dims.join(', ')}], expected ${m} x ${C} values`);
      if (features.size !== m * D) throw new Error(`output ${JSON.stringify(featuresName)} has shape [${features.dims.join(', ')}], expected ${m} x ${D} values (the head's input must be [N, ${D}])`);
      return { logits: asFloat32(logits, logitsName), features: asFloat32(features, featuresName) };
    } finally {
      logits.dispose();
      features.dispose();
    }
  }

  return {
    dir: pkg.dir,
    onnxPath: pkg.onnxPath,
    manifest,
    provider,
    fallbacks,
    maxBatch: batchSize,
    inputSize,
    async run(input: Float32Array, n: number): Promise<ClassifierOutputs> {
      if (closed) throw new Error(`${pkg.dir}: classifier is closed`);
      if (!Number.isInteger(n) || n < 0) throw new RangeError(`run: n must be a non-negative integer, got ${n}`);
      if (input.length < n * inputSize) throw new RangeError(`run: input has ${input.length} values, ${n} images of 3x${h}x${w} need ${n * inputSize}`);
      const logits = new Float32Array(n * C);
      const features = new Float32Array(n * D);
      if (n === 0) return { logits, features };
      const step = batchSize ?? n;
      let padded: Float32Array | null = null;
      for (let s = 0; s < n; s += step) {
        const m = Math.min(step, n - s);
        let chunk = input.subarray(s * inputSize, (s + m) * inputSize);
        const feedN = batchSize ?? m;
        if (feedN !== m) {
          padded ??= new Float32Array(feedN * inputSize);
          padded.fill(0);
          padded.set(chunk);
          chunk = padded;
        }
        const r = await runChunk(chunk, feedN);
        logits.set(r.logits.subarray(0, m * C), s * C);
        features.set(r.features.subarray(0, m * D), s * D);
      }
      return { logits, features };
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      await session.release();
    },
  };
}

/** The head's weight and bias as stored in the package's ONNX file (for retraining and checks). */
export async function readClassifierHead(packageDir: string): Promise<{ weight: Float32Array; bias: Float32Array | null; manifest: ClassifierManifest }> {
  const pkg = await loadModelPackage(packageDir, { verifyHash: false });
  if (pkg.manifest.kind !== 'classifier') throw new ModelPackageError(pkg.manifestPath, `expected kind "classifier", found ${JSON.stringify(pkg.manifest.kind)}`);
  const { model } = await readOnnxModel(pkg.onnxPath);
  const { weight, bias } = pkg.manifest.head;
  const wt = findInitializer(model, weight);
  if (!wt) throw new ModelPackageError(pkg.onnxPath, `initialiser ${JSON.stringify(weight)} not found`);
  const bt = bias === null ? null : findInitializer(model, bias);
  if (bias !== null && !bt) throw new ModelPackageError(pkg.onnxPath, `initialiser ${JSON.stringify(bias)} not found`);
  return {
    weight: tensorToFloat32(wt, dirname(pkg.onnxPath)),
    bias: bt ? tensorToFloat32(bt, dirname(pkg.onnxPath)) : null,
    manifest: pkg.manifest,
  };
}

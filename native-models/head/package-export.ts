// A retrained head, exported from a classifier package: a new classifier package in `outDir`
// (model.onnx = the package's graph with the head's initialisers replaced, manifest.json with the
// new hash), plus head.safetensors and head.json. The patched model is run against the original
// before anything is kept: if the check fails, the folder's files are removed and an error thrown.
import { createHash } from 'node:crypto';
import { readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { readClassifierHead } from '../classifier/open.ts';
import { loadModelPackage, ModelPackageError } from '../manifest/load.ts';
import { MANIFEST_FILE, type ClassifierManifest } from '../manifest/schema.ts';
import { readOnnxModel, summarizeGraph } from '../onnx/index.ts';
import { checkPatchedOnnx, writeHeadJson, writeHeadSafetensors, type PatchCheck } from './export.ts';
import { patchHeadBytes } from './patch-onnx.ts';
import type { HeadInit } from './train.ts';

/** The package's own head as the trainer's starting point. */
export async function readHeadInit(packageDir: string): Promise<{ init: HeadInit; manifest: ClassifierManifest }> {
  const { weight, bias, manifest } = await readClassifierHead(packageDir);
  return { init: { weight, bias, layout: manifest.head.weight_layout }, manifest };
}

export interface ExportPatchedOptions {
  packageDir: string;
  /** [C x D], out_in. */
  weight: Float32Array;
  bias: Float32Array | null;
  outDir: string;
  /** Preprocessed images (NCHW) to run both models on; default: 4 deterministic pseudo-images. */
  input?: { data: Float32Array; n: number };
  /** Extra provenance for head.json / the safetensors metadata (settings, hashes, seeds). */
  provenance?: Record<string, string | number | boolean | null>;
  name?: string;
}

export interface ExportedPatchedHead {
  dir: string;
  onnx: string;
  manifest: string;
  safetensors: string;
  json: string;
  onnxSha256: string;
  check: PatchCheck;
}

export async function exportPatchedHead(o: ExportPatchedOptions): Promise<ExportedPatchedHead> {
  const pkg = await loadModelPackage(o.packageDir, { verifyHash: false });
  if (pkg.manifest.kind !== 'classifier') throw new ModelPackageError(pkg.manifestPath, `expected kind "classifier", found ${JSON.stringify(pkg.manifest.kind)}`);
  const m = pkg.manifest;
  const bytes = await readFile(pkg.onnxPath);
  const chunks = patchHeadBytes(bytes, m.head, o.weight, o.bias);
  const hash = createHash('sha256');
  for (const c of chunks) hash.update(c);
  const onnxSha256 = hash.digest('hex');
  await mkdir(o.outDir, { recursive: true });
  const files = { onnx: join(o.outDir, 'model.onnx'), manifest: join(o.outDir, MANIFEST_FILE), safetensors: join(o.outDir, 'head.safetensors'), json: join(o.outDir, 'head.json') };
  const removeAll = () => Promise.all(Object.values(files).map((f) => rm(f, { force: true })));
  try {
    await writeFile(files.onnx, chunks);
    const [h, w] = m.preprocess.crop;
    const fixedBatch = typeof m.input.shape[0] === 'number' ? m.input.shape[0] : null;
    const n = o.input?.n ?? fixedBatch ?? 4;
    const data = o.input?.data ?? Float32Array.from({ length: n * 3 * h * w }, (_, i) => Math.sin(0.37 * i) * 1.5);
    const graph = summarizeGraph((await readOnnxModel(pkg.onnxPath)).model);
    const headNode = graph.nodes.find((nd) => nd.inputs[1] === m.head.weight && (nd.opType === 'Gemm' || nd.opType === 'MatMul'));
    if (!headNode) throw new Error(`${pkg.onnxPath}: no Gemm/MatMul reads the head weight ${JSON.stringify(m.head.weight)}`);
    const check = await checkPatchedOnnx({
      original: pkg.onnxPath,
      patched: files.onnx,
      inputName: m.input.name,
      inputShape: [n, 3, h, w],
      input: data,
      logits: m.outputs.logits,
      features: m.outputs.features,
      headNode: headNode.name || `${headNode.opType}#${headNode.index}`,
      weight: o.weight,
      bias: o.bias,
      half: m.input.dtype === 'float16',
    });
    if (!check.ok) {
      throw new Error(`the patched model does not check out: logits differ from features · Wᵀ + b by up to ${check.logitsMaxAbsDiff}; unchanged outputs: ${check.unchanged.map((u) => `${u.name} ${u.maxAbsDiff}`).join(', ')}`);
    }
    const manifest: ClassifierManifest = { ...m, name: o.name ?? `${m.name}-patched`, onnx: 'model.onnx', onnx_sha256: onnxSha256 };
    await writeFile(files.manifest, JSON.stringify(manifest, null, 2) + '\n');
    const classes = m.labels.map((l) => l.name);
    const provenance = { source_model: m.name, source_onnx_sha256: m.onnx_sha256, ...(o.provenance ?? {}) };
    await writeHeadSafetensors(files.safetensors, { weight: o.weight, bias: o.bias, classes }, Object.fromEntries(Object.entries(provenance).map(([k, v]) => [k, String(v)])));
    await writeHeadJson(files.json, { weight: o.weight, bias: o.bias, classes }, { provenance });
    await loadModelPackage(o.outDir, { verifyHash: true });
    return { dir: o.outDir, ...files, onnxSha256, check };
  } catch (err) {
    await removeAll();
    throw err;
  }
}

// Making a classifier model package from an exported ONNX classifier.
import { createHash } from 'node:crypto';
import { copyFile, link, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, extname, isAbsolute, join, resolve } from 'node:path';
import { makeValueInfo, readOnnxModel, spliceGraphOutputs, summarizeGraph, type Dim, type GraphSummary, type ModelProto, type TensorProto } from '../onnx/index.ts';
import { loadModelPackage, ModelPackageError, type ModelPackage } from '../manifest/load.ts';
import { ClassifierManifestSchema, MANIFEST_FILE, type ClassifierManifest, type Label } from '../manifest/schema.ts';
import { presetSpec, PreprocessSpecSchema, type PreprocessPreset, type PreprocessSpec } from '../preprocess/spec.ts';
import { inspectClassifierGraph, type ClassifierInspection } from './inspect.ts';
import { genericLabels, imagenetLabels, LabelsError, readLabelsFile } from './labels.ts';

export const PACKAGE_ONNX_FILE = 'model.onnx';

export interface CreateClassifierPackageOptions {
  onnxPath: string;
  outDir: string;
  /** Display name; default: the ONNX file name without extension. */
  name?: string;
  preset: PreprocessPreset;
  /** One class per line (name, or `wnid name`), or a JSON array of names. */
  labelsPath?: string;
  /** Overrides the preset's preprocessing (e.g. a timm config's values). */
  preprocess?: PreprocessSpec;
}

export interface CreatedClassifierPackage {
  dir: string;
  manifest: ClassifierManifest;
  inspection: ClassifierInspection;
  /** How the labels were chosen: 'file', 'imagenet' or 'generic'. */
  labelsFrom: 'file' | 'imagenet' | 'generic';
}

/** Shape to declare for an added output: the exporter's value_info if any; else, for a Gemm head
 * (whose operands are 2-D), [batch, D] for the features and [batch, C] for its output; else unknown. */
function shapeOf(graph: GraphSummary, tensor: string, inspection: ClassifierInspection): Dim[] | null {
  const known = graph.valueInfo.get(tensor)?.shape;
  if (known) return known;
  if (inspection.head.kind === 'gemm') {
    const batch = inspection.input.shape[0];
    if (tensor === inspection.features) return [batch, inspection.head.feature_dim];
    if (tensor === inspection.logits) return [batch, inspection.head.num_classes];
  }
  return null;
}

/**
 * Models over 2 GB keep initialisers in external files named relative to the .onnx file; the
 * package's model.onnx names them the same way, so they are hard-linked (or copied) alongside.
 */
async function carryExternalData(graph: GraphSummary, model: ModelProto, onnxPath: string, outDir: string): Promise<void> {
  if (![...graph.initializers.values()].some((i) => i.external)) return;
  const srcDir = dirname(resolve(onnxPath));
  const locations = new Set<string>();
  for (const t of (model.graph?.initializer ?? []) as TensorProto[]) {
    if (t.dataLocation !== 1) continue;
    const loc = t.externalData.find((e) => e.key === 'location')?.value;
    if (!loc || isAbsolute(loc) || loc.split(/[\\/]/).includes('..')) throw new Error(`${onnxPath}: initialiser ${JSON.stringify(t.name)} has an external data location outside the model's folder: ${JSON.stringify(loc)}`);
    locations.add(loc);
  }
  for (const loc of locations) {
    const from = join(srcDir, loc);
    const to = join(outDir, loc);
    if (from === to) continue;
    await mkdir(dirname(to), { recursive: true });
    await rm(to, { force: true });
    await link(from, to).catch(() => copyFile(from, to));
  }
}

/**
 * Writes outDir/model.onnx (the original graph with the feature tensor, and the pre-softmax logits
 * when the graph ends in a softmax, added as graph outputs; every original byte kept) and
 * outDir/manifest.json, then loads the package back to validate it.
 *
 * Labels: `labelsPath` if given; else the ImageNet-1k classes for a 1000-class model with preset
 * imagenet or clip; else `class 0` .. `class C-1`. A label count that differs from the head's
 * number of classes is refused.
 */
export async function createClassifierPackage(options: CreateClassifierPackageOptions): Promise<CreatedClassifierPackage> {
  const src = await readOnnxModel(options.onnxPath);
  const graph = summarizeGraph(src.model);
  const inspection = inspectClassifierGraph(graph, options.onnxPath);
  const C = inspection.head.num_classes;

  let labels: Label[];
  let labelsFrom: CreatedClassifierPackage['labelsFrom'];
  if (options.labelsPath) {
    labels = await readLabelsFile(options.labelsPath);
    labelsFrom = 'file';
    if (labels.length !== C) throw new LabelsError(options.labelsPath, `has ${labels.length} classes, but the model's head (${inspection.head.node}) has ${C}`);
  } else if (C === 1000 && (options.preset === 'imagenet' || options.preset === 'clip')) {
    labels = imagenetLabels();
    labelsFrom = 'imagenet';
  } else {
    labels = genericLabels(C);
    labelsFrom = 'generic';
  }

  const size: [number, number] = inspection.imageSize ?? [224, 224];
  let preprocess: PreprocessSpec;
  if (options.preprocess) {
    const parsed = PreprocessSpecSchema.safeParse(options.preprocess);
    if (!parsed.success) throw new Error(`invalid preprocess spec: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    preprocess = parsed.data;
  } else {
    preprocess = presetSpec(options.preset, size);
  }
  if (inspection.imageSize && (preprocess.crop[0] !== size[0] || preprocess.crop[1] !== size[1])) {
    throw new Error(`${options.onnxPath}: the model's input is ${size[0]}x${size[1]} but the preprocessing crops ${preprocess.crop[0]}x${preprocess.crop[1]}`);
  }

  const outDir = resolve(options.outDir);
  await mkdir(outDir, { recursive: true });
  await carryExternalData(graph, src.model, options.onnxPath, outDir);
  const onnxOut = join(outDir, PACKAGE_ONNX_FILE);
  // outputs added from inside the graph have the head's precision (float16 in a half-precision export)
  const headType = graph.initializers.get(inspection.head.weight)?.elemType === 10 ? 10 : 1;
  const outputs = inspection.addOutputs.map((t) => makeValueInfo(t, headType, shapeOf(graph, t, inspection)));
  const chunks = spliceGraphOutputs(src.bytes, outputs, options.onnxPath);
  const hash = createHash('sha256');
  for (const c of chunks) hash.update(c);
  const onnx_sha256 = hash.digest('hex');

  const manifest: ClassifierManifest = ClassifierManifestSchema.parse({
    format_version: 1,
    kind: 'classifier',
    name: options.name ?? basename(options.onnxPath, extname(options.onnxPath)),
    onnx: PACKAGE_ONNX_FILE,
    onnx_sha256,
    input: { name: inspection.input.name, shape: inspection.input.shape, dtype: inspection.input.dtype },
    outputs: { logits: inspection.logits, features: inspection.features, logits_are: inspection.logitsAre },
    head: {
      kind: inspection.head.kind,
      weight: inspection.head.weight,
      bias: inspection.head.bias,
      weight_layout: inspection.head.weight_layout,
      num_classes: C,
      feature_dim: inspection.head.feature_dim,
    },
    preprocess,
    preset: options.preset,
    labels,
  } satisfies ClassifierManifest);

  // write to temporary names and rename, so a crash never leaves a manifest next to a partial model
  const tmpOnnx = `${onnxOut}.tmp-${process.pid}`;
  const tmpManifest = join(outDir, `${MANIFEST_FILE}.tmp-${process.pid}`);
  try {
    await writeFile(tmpOnnx, chunks);
    await writeFile(tmpManifest, JSON.stringify(manifest, null, 2) + '\n');
    await rename(tmpOnnx, onnxOut);
    await rename(tmpManifest, join(outDir, MANIFEST_FILE));
  } finally {
    await rm(tmpOnnx, { force: true });
    await rm(tmpManifest, { force: true });
  }
  let pkg: ModelPackage;
  try {
    pkg = await loadModelPackage(outDir, { verifyHash: false });
  } catch (err) {
    if (err instanceof ModelPackageError) throw new Error(`internal error: the package just written does not validate: ${err.message}`, { cause: err });
    throw err;
  }
  return { dir: pkg.dir, manifest, inspection, labelsFrom };
}

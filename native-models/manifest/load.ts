// Loading and validating a model package folder against its manifest.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { z } from 'zod';
import { OnnxFormatError, readOnnxModel, summarizeGraph, type Dim, type GraphSummary, type TensorInfo } from '../onnx/index.ts';
import { MANIFEST_FILE, ModelManifestSchema, type ClassifierManifest, type ClipManifest, type ModelManifest } from './schema.ts';

export class ModelPackageError extends Error {
  /** The file the problem is in (manifest.json or the ONNX file). */
  readonly file: string;
  constructor(file: string, problem: string, options?: { cause?: unknown }) {
    super(`${file}: ${problem}`, options);
    this.name = 'ModelPackageError';
    this.file = file;
  }
}

export interface ModelPackage<M extends ModelManifest = ModelManifest> {
  dir: string;
  manifestPath: string;
  manifest: M;
  /** Absolute path of the main ONNX file (for a clip package: the image encoder). */
  onnxPath: string;
  graph: GraphSummary;
  /** Every ONNX file of the package by role ('model' for a classifier; 'image_encoder' and
   * 'text_encoder' for a clip package), with its graph summary. */
  onnxFiles: Record<string, { path: string; graph: GraphSummary }>;
}

export interface LoadOptions {
  /** Check the ONNX file's sha256 against the manifest (default true; ~0.3 s per 100 MB). */
  verifyHash?: boolean;
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 22 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function formatIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 8)
    .map((i) => {
      const path = i.path.length ? i.path.map(String).join('.') : '(root)';
      return `${path}: ${i.message}`;
    })
    .join('; ');
}

export function parseManifest(json: unknown, file: string): ModelManifest {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new ModelPackageError(file, 'expected a JSON object');
  const kind = (json as { kind?: unknown }).kind;
  const known = ModelManifestSchema.options.map((o) => o.shape.kind.value);
  if (typeof kind !== 'string' || !(known as string[]).includes(kind)) {
    throw new ModelPackageError(file, `kind ${JSON.stringify(kind)} is not a supported package kind (expected one of: ${known.join(', ')})`);
  }
  const parsed = ModelManifestSchema.safeParse(json);
  if (!parsed.success) throw new ModelPackageError(file, `invalid ${kind} manifest: ${formatIssues(parsed.error)}`);
  return parsed.data;
}

const fmtShape = (s: Dim[] | null) => (s ? `[${s.map((d) => (d === null ? '?' : String(d))).join(', ')}]` : '[unknown rank]');
const fmtTensors = (ts: TensorInfo[]) => ts.map((t) => `${JSON.stringify(t.name)} ${t.dtype}${fmtShape(t.shape)}`).join(', ') || '(none)';

/** Checks a classifier manifest against its graph; throws ModelPackageError naming the ONNX file. */
export function checkClassifierAgainstGraph(m: ClassifierManifest, graph: GraphSummary, onnxPath: string): void {
  const input = graph.inputs.find((i) => i.name === m.input.name);
  if (!input) {
    throw new ModelPackageError(onnxPath, `expected graph input ${JSON.stringify(m.input.name)} (manifest input.name), found inputs: ${fmtTensors(graph.inputs)}`);
  }
  if (graph.inputs.length !== 1) {
    throw new ModelPackageError(onnxPath, `expected exactly one graph input, found ${graph.inputs.length}: ${fmtTensors(graph.inputs)}`);
  }
  const wantType = m.input.dtype === 'float16' ? 10 : 1;
  if (input.elemType !== wantType) throw new ModelPackageError(onnxPath, `expected input ${JSON.stringify(input.name)} to be ${m.input.dtype} (manifest input.dtype), found ${input.dtype}`);
  if (input.shape) {
    if (input.shape.length !== m.input.shape.length) {
      throw new ModelPackageError(onnxPath, `expected input ${JSON.stringify(input.name)} of shape ${fmtShape(m.input.shape)} (manifest), found rank ${input.shape.length} ${fmtShape(input.shape)}`);
    }
    input.shape.forEach((g, i) => {
      const want = m.input.shape[i];
      const bad = (typeof g === 'number' && typeof want === 'number' && g !== want) || (typeof g === 'number' && typeof want !== 'number');
      if (bad) {
        throw new ModelPackageError(onnxPath, `expected input ${JSON.stringify(input.name)} of shape ${fmtShape(m.input.shape)} (manifest), found ${fmtShape(input.shape)} (dim ${i} differs)`);
      }
    });
  }
  for (const [role, name] of [['logits', m.outputs.logits], ['features', m.outputs.features]] as const) {
    if (!graph.outputs.some((o) => o.name === name)) {
      throw new ModelPackageError(onnxPath, `expected graph output ${JSON.stringify(name)} (manifest outputs.${role}), found outputs: ${fmtTensors(graph.outputs)}`);
    }
  }
  const { weight, bias, weight_layout, num_classes: C, feature_dim: D } = m.head;
  const w = graph.initializers.get(weight);
  if (!w) throw new ModelPackageError(onnxPath, `expected initialiser ${JSON.stringify(weight)} (manifest head.weight), not found among ${graph.initializers.size} initialisers`);
  const wantW = weight_layout === 'out_in' ? [C, D] : [D, C];
  if (w.dims.length !== 2 || w.dims[0] !== wantW[0] || w.dims[1] !== wantW[1]) {
    throw new ModelPackageError(onnxPath, `expected head weight ${JSON.stringify(weight)} of shape [${wantW.join(', ')}] (${weight_layout}), found [${w.dims.join(', ')}]`);
  }
  if (bias !== null) {
    const b = graph.initializers.get(bias);
    if (!b) throw new ModelPackageError(onnxPath, `expected initialiser ${JSON.stringify(bias)} (manifest head.bias), not found`);
    if (b.dims.reduce((a, x) => a * x, 1) !== C) throw new ModelPackageError(onnxPath, `expected head bias ${JSON.stringify(bias)} with ${C} values, found shape [${b.dims.join(', ')}]`);
  }
}

function isFixed(d: Dim): d is number {
  return typeof d === 'number';
}

/** Checks a clip manifest against its two graphs; throws ModelPackageError naming the ONNX file. */
export function checkClipAgainstGraphs(m: ClipManifest, image: GraphSummary, imagePath: string, text: GraphSummary, textPath: string): void {
  const ie = m.image_encoder;
  const px = image.inputs.find((i) => i.name === ie.input);
  if (!px) throw new ModelPackageError(imagePath, `expected graph input ${JSON.stringify(ie.input)} (manifest image_encoder.input), found inputs: ${fmtTensors(image.inputs)}`);
  if (px.elemType !== 1 && px.elemType !== 10) throw new ModelPackageError(imagePath, `expected input ${JSON.stringify(px.name)} to be float32 or float16, found ${px.dtype}`);
  if (px.shape) {
    const [ch, cw] = m.preprocess.crop;
    const want: Dim[] = [null, 3, ch, cw];
    const bad = px.shape.length !== 4 || px.shape.some((g, i) => i > 0 && isFixed(g) && g !== want[i]);
    if (bad) throw new ModelPackageError(imagePath, `expected input ${JSON.stringify(px.name)} of shape [N, 3, ${ch}, ${cw}] (manifest preprocess.crop), found ${fmtShape(px.shape)}`);
  }
  const out = image.outputs.find((o) => o.name === ie.output);
  if (!out) throw new ModelPackageError(imagePath, `expected graph output ${JSON.stringify(ie.output)} (manifest image_encoder.output), found outputs: ${fmtTensors(image.outputs)}`);
  if (out.shape && out.shape.length === 2 && isFixed(out.shape[1]) && out.shape[1] !== m.embed_dim) {
    throw new ModelPackageError(imagePath, `expected output ${JSON.stringify(out.name)} of shape [N, ${m.embed_dim}] (manifest embed_dim), found ${fmtShape(out.shape)}`);
  }

  const te = m.text_encoder;
  const ids = text.inputs.find((i) => i.name === te.input);
  if (!ids) throw new ModelPackageError(textPath, `expected graph input ${JSON.stringify(te.input)} (manifest text_encoder.input), found inputs: ${fmtTensors(text.inputs)}`);
  if (ids.elemType !== 7 && ids.elemType !== 6) throw new ModelPackageError(textPath, `expected input ${JSON.stringify(ids.name)} to be int64 or int32 token ids, found ${ids.dtype}`);
  if (ids.shape) {
    const L = m.tokenizer.context_length;
    if (ids.shape.length !== 2 || (isFixed(ids.shape[1]) && ids.shape[1] !== L)) {
      throw new ModelPackageError(textPath, `expected input ${JSON.stringify(ids.name)} of shape [N, ${L}] (manifest tokenizer.context_length), found ${fmtShape(ids.shape)}`);
    }
  }
  if (te.attention_mask !== null && !text.inputs.some((i) => i.name === te.attention_mask)) {
    throw new ModelPackageError(textPath, `expected graph input ${JSON.stringify(te.attention_mask)} (manifest text_encoder.attention_mask), found inputs: ${fmtTensors(text.inputs)}`);
  }
  const extra = text.inputs.filter((i) => i.name !== te.input && i.name !== te.attention_mask);
  if (extra.length) throw new ModelPackageError(textPath, `graph inputs ${fmtTensors(extra)} are not named in the manifest (text_encoder.input / attention_mask)`);
  for (const [role, name] of [['output_embeds', te.output_embeds], ['output_hidden', te.output_hidden]] as const) {
    if (name !== null && !text.outputs.some((o) => o.name === name)) {
      throw new ModelPackageError(textPath, `expected graph output ${JSON.stringify(name)} (manifest text_encoder.${role}), found outputs: ${fmtTensors(text.outputs)}`);
    }
  }
  const emb = text.outputs.find((o) => o.name === te.output_embeds)!;
  if (emb.shape && emb.shape.length === 2 && isFixed(emb.shape[1]) && emb.shape[1] !== m.embed_dim) {
    throw new ModelPackageError(textPath, `expected output ${JSON.stringify(emb.name)} of shape [N, ${m.embed_dim}] (manifest embed_dim), found ${fmtShape(emb.shape)}`);
  }
}

async function requireFile(root: string, rel: string, what: string): Promise<string> {
  const path = join(root, rel);
  const st = await stat(path).catch(() => null);
  if (!st || !st.isFile()) throw new ModelPackageError(path, `missing: manifest.json names ${what} ${JSON.stringify(rel)} but there is no such file in ${root}`);
  return path;
}

async function readGraph(onnxPath: string): Promise<GraphSummary> {
  try {
    return summarizeGraph((await readOnnxModel(onnxPath)).model);
  } catch (err) {
    if (err instanceof OnnxFormatError) throw new ModelPackageError(onnxPath, err.reason, { cause: err });
    throw err;
  }
}

async function verifySha(path: string, expected: string | undefined, field: string): Promise<void> {
  if (expected === undefined) return;
  const found = await sha256File(path);
  if (found !== expected) throw new ModelPackageError(path, `sha256 is ${found}, expected ${expected} (manifest ${field}): the file was changed after the package was made`);
}

async function loadClipPackage(root: string, manifestPath: string, m: ClipManifest, options: LoadOptions): Promise<ModelPackage> {
  const imagePath = await requireFile(root, m.image_encoder.onnx, 'image_encoder.onnx');
  const textPath = await requireFile(root, m.text_encoder.onnx, 'text_encoder.onnx');
  await requireFile(root, m.tokenizer.vocab, 'tokenizer.vocab');
  await requireFile(root, m.tokenizer.merges, 'tokenizer.merges');
  if (options.verifyHash ?? true) {
    await verifySha(imagePath, m.image_encoder.onnx_sha256, 'image_encoder.onnx_sha256');
    await verifySha(textPath, m.text_encoder.onnx_sha256, 'text_encoder.onnx_sha256');
  }
  const image = await readGraph(imagePath);
  const text = await readGraph(textPath);
  checkClipAgainstGraphs(m, image, imagePath, text, textPath);
  return {
    dir: root,
    manifestPath,
    manifest: m,
    onnxPath: imagePath,
    graph: image,
    onnxFiles: { image_encoder: { path: imagePath, graph: image }, text_encoder: { path: textPath, graph: text } },
  };
}

/**
 * Reads `dir`/manifest.json, validates it, checks that the files exist (and the ONNX hash), that the
 * ONNX file parses and that the inputs, outputs and initialisers the manifest names are in the graph.
 */
export async function loadModelPackage(dir: string, options: LoadOptions = {}): Promise<ModelPackage> {
  const root = resolve(dir);
  const manifestPath = join(root, MANIFEST_FILE);
  let text: string;
  try {
    text = await readFile(manifestPath, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      const isDir = await stat(root).then((s) => s.isDirectory(), () => false);
      throw new ModelPackageError(manifestPath, isDir ? `missing: a model package folder must contain ${MANIFEST_FILE}` : `the package folder ${root} does not exist`, { cause: err });
    }
    throw new ModelPackageError(manifestPath, `cannot read (${(err as Error).message})`, { cause: err });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ModelPackageError(manifestPath, `not valid JSON (${(err as Error).message})`, { cause: err });
  }
  const manifest = parseManifest(json, manifestPath);
  if (manifest.kind === 'clip') return loadClipPackage(root, manifestPath, manifest, options);
  const onnxPath = join(root, manifest.onnx);
  const st = await stat(onnxPath).catch(() => null);
  if (!st || !st.isFile()) throw new ModelPackageError(onnxPath, `missing: manifest.json names onnx ${JSON.stringify(manifest.onnx)} but there is no such file in ${root}`);
  if (options.verifyHash ?? true) {
    const found = await sha256File(onnxPath);
    if (found !== manifest.onnx_sha256) {
      throw new ModelPackageError(onnxPath, `sha256 is ${found}, expected ${manifest.onnx_sha256} (manifest onnx_sha256): the file was changed after the package was made`);
    }
  }
  let graph: GraphSummary;
  try {
    graph = summarizeGraph((await readOnnxModel(onnxPath)).model);
  } catch (err) {
    if (err instanceof OnnxFormatError) throw new ModelPackageError(onnxPath, err.reason, { cause: err });
    throw err;
  }
  switch (manifest.kind) {
    case 'classifier':
      checkClassifierAgainstGraph(manifest, graph, onnxPath);
      break;
  }
  return { dir: root, manifestPath, manifest, onnxPath, graph, onnxFiles: { model: { path: onnxPath, graph } } };
}

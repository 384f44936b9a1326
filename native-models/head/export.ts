// Exporting a retrained head: the complete patched ONNX classifier (checked by running it), and the
// head alone as safetensors and as JSON.
import { readFileSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import * as ort from 'onnxruntime-node';
import { fromFloat16, toFloat16 } from '../diffusion/float16.ts';
import { readOnnxModel, summarizeGraph } from '../onnx/index.ts';
import type { ClassifierHead } from '../classifier/inspect.ts';
import { patchHeadBytes } from './patch-onnx.ts';

export interface ExportedHead {
  /** [C x D], out_in (torch nn.Linear) layout. */
  weight: Float32Array;
  bias: Float32Array | null;
  classes: string[];
}

async function writeAtomic(path: string, data: Buffer | Buffer[] | string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    await writeFile(tmp, data);
    await rename(tmp, path);
  } finally {
    await rm(tmp, { force: true });
  }
}

type HeadSpec = Pick<ClassifierHead, 'weight' | 'bias' | 'weight_layout' | 'num_classes' | 'feature_dim'>;

/** Writes `onnxPath` with the head replaced to `outPath` (atomically). */
export async function writePatchedOnnx(onnxPath: string, head: HeadSpec, weight: Float32Array, bias: Float32Array | null, outPath: string): Promise<void> {
  const bytes = await readFile(onnxPath);
  await writeAtomic(outPath, patchHeadBytes(bytes, head, weight, bias));
}

export interface PatchCheck {
  inputs: number;
  /** Outputs that do not depend on the head, and the largest difference found in them (must be 0). */
  unchanged: { name: string; maxAbsDiff: number }[];
  /** max |patched logits - (features · Wᵀ + b)| */
  logitsMaxAbsDiff: number;
  /** Outputs downstream of the head other than the logits (e.g. a softmax), not compared. */
  otherHeadDependent: string[];
  ok: boolean;
}

/**
 * Runs the original and the patched model on the same `n` inputs (`input` = n images, NCHW) and
 * checks that every output not downstream of the head is identical and that `logits` equals
 * `features` · Wᵀ + b of the new head within `tolerance`.
 */
export async function checkPatchedOnnx(opts: {
  original: string;
  patched: string;
  inputName: string;
  inputShape: number[];
  input: Float32Array;
  logits: string;
  features: string;
  headNode: string;
  weight: Float32Array;
  bias: Float32Array | null;
  tolerance?: number;
  /** A half-precision model: the input is fed as float16 and the default tolerance is fp16's. */
  half?: boolean;
}): Promise<PatchCheck> {
  const { model } = await readOnnxModel(opts.patched);
  const g = summarizeGraph(model);
  // tensors downstream of the head node
  const headIdx = g.nodes.findIndex((nd) => (nd.name || `${nd.opType}#${nd.index}`) === opts.headNode);
  if (headIdx < 0) throw new Error(`${opts.patched}: head node ${JSON.stringify(opts.headNode)} not found`);
  const downstream = new Set<string>(g.nodes[headIdx].outputs);
  const queue = [...downstream];
  while (queue.length) {
    const t = queue.pop()!;
    for (const ci of g.consumers_of.get(t) ?? []) for (const o of g.nodes[ci].outputs) if (!downstream.has(o)) {
      downstream.add(o);
      queue.push(o);
    }
  }
  const names = g.outputs.map((o) => o.name);
  const run = async (path: string) => {
    const s = await ort.InferenceSession.create(path, { executionProviders: ['cpu'] });
    try {
      const input = opts.half ? new ort.Tensor('float16', toFloat16(opts.input), opts.inputShape) : new ort.Tensor('float32', opts.input, opts.inputShape);
      const r = await s.run({ [opts.inputName]: input }, names);
      const out: Record<string, Float32Array> = {};
      for (const k of names) out[k] = r[k].type === 'float16' ? fromFloat16(r[k].data as unknown as Uint16Array) : Float32Array.from(r[k].data as Float32Array);
      return out;
    } finally {
      await s.release();
    }
  };
  const a = await run(opts.original);
  const b = await run(opts.patched);
  const unchanged: PatchCheck['unchanged'] = [];
  const otherHeadDependent: string[] = [];
  for (const k of names) {
    if (downstream.has(k)) {
      if (k !== opts.logits) otherHeadDependent.push(k);
      continue;
    }
    let m = a[k].length === b[k].length ? 0 : Infinity;
    for (let i = 0; i < a[k].length && m !== Infinity; i++) m = Math.max(m, Math.abs(a[k][i] - b[k][i]));
    unchanged.push({ name: k, maxAbsDiff: m });
  }
  const feats = b[opts.features];
  const logits = b[opts.logits];
  if (!feats || !logits) throw new Error(`${opts.patched}: outputs ${JSON.stringify(opts.features)} and ${JSON.stringify(opts.logits)} are needed for the check`);
  const C = opts.bias?.length ?? opts.weight.length / (feats.length / opts.inputShape[0]);
  const D = opts.weight.length / C;
  const n = opts.inputShape[0];
  let logitsMaxAbsDiff = 0;
  let maxLogit = 0;
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < C; c++) {
      let s = opts.bias ? opts.bias[c] : 0;
      for (let d = 0; d < D; d++) s += feats[r * D + d] * opts.weight[c * D + d];
      logitsMaxAbsDiff = Math.max(logitsMaxAbsDiff, Math.abs(s - logits[r * C + c]));
      maxLogit = Math.max(maxLogit, Math.abs(s));
    }
  }
  // fp16: the weights are rounded to 11 significant bits and the product is summed in fp16 (or widened)
  const tol = opts.tolerance ?? (opts.half ? 4e-3 * Math.max(1, maxLogit) : 1e-4);
  return { inputs: n, unchanged, logitsMaxAbsDiff, otherHeadDependent, ok: logitsMaxAbsDiff <= tol && unchanged.every((u) => u.maxAbsDiff === 0) };
}

// ---- safetensors: 8-byte little-endian header length, JSON header, raw little-endian data ----

/** The head as a safetensors file: tensors "weight" F32 [C, D] and (when present) "bias" F32 [C];
 * __metadata__ holds the class order (JSON string) and the layout. */
export function encodeHeadSafetensors(head: ExportedHead, extraMetadata: Record<string, string> = {}): Buffer {
  const C = head.classes.length;
  const D = head.weight.length / C;
  if (!Number.isInteger(D) || D < 1) throw new Error(`weight has ${head.weight.length} values, not a multiple of ${C} classes`);
  if (head.bias && head.bias.length !== C) throw new Error(`bias has ${head.bias.length} values, expected ${C}`);
  const wBytes = head.weight.length * 4;
  const header: Record<string, unknown> = {
    __metadata__: { format: 'factorlab-head', layout: 'out_in', classes: JSON.stringify(head.classes), ...extraMetadata },
    weight: { dtype: 'F32', shape: [C, D], data_offsets: [0, wBytes] },
  };
  if (head.bias) header.bias = { dtype: 'F32', shape: [C], data_offsets: [wBytes, wBytes + C * 4] };
  let json = JSON.stringify(header);
  // pad with spaces so the data starts 8-byte aligned, as the reference implementation does
  json += ' '.repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8);
  const hb = Buffer.from(json, 'utf8');
  const out = Buffer.alloc(8 + hb.length + wBytes + (head.bias ? C * 4 : 0));
  out.writeBigUInt64LE(BigInt(hb.length), 0);
  hb.copy(out, 8);
  let o = 8 + hb.length;
  for (let i = 0; i < head.weight.length; i++, o += 4) out.writeFloatLE(head.weight[i], o);
  if (head.bias) for (let i = 0; i < C; i++, o += 4) out.writeFloatLE(head.bias[i], o);
  return out;
}

export interface SafetensorsTensor {
  dtype: string;
  shape: number[];
  data: Float32Array;
}

/** Reads a safetensors file of F32 tensors (validating offsets); returns tensors and metadata. */
export function decodeSafetensors(buf: Uint8Array): { tensors: Record<string, SafetensorsTensor>; metadata: Record<string, string> } {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (b.length < 8) throw new Error('safetensors: shorter than the 8-byte header length');
  const n = Number(b.readBigUInt64LE(0));
  if (8 + n > b.length) throw new Error(`safetensors: header length ${n} exceeds the file`);
  const header = JSON.parse(b.subarray(8, 8 + n).toString('utf8')) as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  const base = 8 + n;
  const tensors: Record<string, SafetensorsTensor> = {};
  let metadata: Record<string, string> = {};
  for (const [name, info] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = info as unknown as Record<string, string>;
      continue;
    }
    if (info.dtype !== 'F32') throw new Error(`safetensors: tensor ${name} is ${info.dtype}; only F32 is read here`);
    const [s, e] = info.data_offsets;
    const count = info.shape.reduce((x, y) => x * y, 1);
    if (e - s !== count * 4 || base + e > b.length) throw new Error(`safetensors: tensor ${name} has offsets [${s}, ${e}] for shape [${info.shape.join(', ')}]`);
    const data = new Float32Array(count);
    for (let i = 0; i < count; i++) data[i] = b.readFloatLE(base + s + i * 4);
    tensors[name] = { dtype: info.dtype, shape: info.shape, data };
  }
  return { tensors, metadata };
}

export async function writeHeadSafetensors(path: string, head: ExportedHead, metadata: Record<string, string> = {}): Promise<void> {
  await writeAtomic(path, encodeHeadSafetensors(head, metadata));
}

export function readHeadSafetensors(path: string): ExportedHead {
  const { tensors, metadata } = decodeSafetensors(readFileSync(path));
  if (!tensors.weight) throw new Error(`${path}: no "weight" tensor`);
  const classes = metadata.classes ? (JSON.parse(metadata.classes) as string[]) : Array.from({ length: tensors.weight.shape[0] }, (_, i) => `class ${i}`);
  return { weight: tensors.weight.data, bias: tensors.bias?.data ?? null, classes };
}

// ---- JSON ----

export interface HeadJson {
  format: 'factorlab-head';
  format_version: 1;
  layout: 'out_in';
  num_classes: number;
  feature_dim: number;
  classes: string[];
  /** weight[c] is the row of class c: D numbers. */
  weight: number[][];
  bias: number[] | null;
  [key: string]: unknown;
}

export function headToJson(head: ExportedHead, extra: Record<string, unknown> = {}): HeadJson {
  const C = head.classes.length;
  const D = head.weight.length / C;
  return {
    ...extra,
    format: 'factorlab-head',
    format_version: 1,
    layout: 'out_in',
    num_classes: C,
    feature_dim: D,
    classes: head.classes,
    weight: Array.from({ length: C }, (_, c) => Array.from(head.weight.subarray(c * D, (c + 1) * D))),
    bias: head.bias ? Array.from(head.bias) : null,
  };
}

export async function writeHeadJson(path: string, head: ExportedHead, extra: Record<string, unknown> = {}): Promise<void> {
  await writeAtomic(path, JSON.stringify(headToJson(head, extra)) + '\n');
}

export function headFromJson(j: HeadJson): ExportedHead {
  if (j.format !== 'factorlab-head' || j.weight.length !== j.num_classes || j.classes.length !== j.num_classes) throw new Error('not a FactorLab head JSON');
  const weight = new Float32Array(j.num_classes * j.feature_dim);
  j.weight.forEach((row, c) => weight.set(row, c * j.feature_dim));
  return { weight, bias: j.bias ? Float32Array.from(j.bias) : null, classes: j.classes };
}

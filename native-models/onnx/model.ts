// Reading, inspecting and minimally rewriting ONNX models (ModelProto), in plain Node.
//
// Decoding: protobufjs' BufferReader returns `bytes` fields (TensorProto.raw_data) as Buffer views
// into the file's Buffer, so a 100 MB model's initialisers are not copied on decode (tested).
// float_data-style initialisers (old exporters) do become JS number arrays: that is protobufjs.
//
// Writing: `spliceGraphOutputs` appends ValueInfoProtos to GraphProto.output by editing the
// protobuf bytes (the graph's length prefix plus the new repeated entries) instead of decoding and
// re-encoding the whole model, so every byte of the original is kept, including fields newer than
// onnx-proto's schema (ONNX 1.10.2), which a decode/encode round trip would drop.
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { encodeVarint, readVarint } from './varint.ts';
import { isAbsolute, join, normalize, sep } from 'node:path';
import {
  DTYPE_BYTES,
  ONNX_DTYPE,
  onnx,
  toNumber,
  type AttributeProto,
  type GraphProto,
  type IValueInfoProto,
  type NodeProto,
  type ModelProto,
  type TensorProto,
  type ValueInfoProto,
} from './proto.ts';

export class OnnxFormatError extends Error {
  readonly file: string;
  readonly reason: string;
  constructor(file: string, reason: string) {
    super(`${file}: ${reason}`);
    this.name = 'OnnxFormatError';
    this.file = file;
    this.reason = reason;
  }
}

/** A dimension: a fixed size, a symbolic name (dim_param), or null when the graph says nothing. */
export type Dim = number | string | null;

export interface TensorInfo {
  name: string;
  /** TensorProto.DataType number (1 = float32); 0 when the value is not a tensor or has no type. */
  elemType: number;
  dtype: string;
  /** null: rank unknown (no shape in the graph). */
  shape: Dim[] | null;
}

export interface InitializerInfo {
  name: string;
  elemType: number;
  dtype: string;
  dims: number[];
  /** Stored size in bytes (raw_data or external), or null for typed repeated fields. */
  byteLength: number | null;
  external: boolean;
}

export type AttrValue = number | string | number[] | string[] | { tensor: TensorProto } | { graph: string } | null;

export interface NodeInfo {
  index: number;
  name: string;
  opType: string;
  domain: string;
  inputs: string[];
  outputs: string[];
  attributes: Record<string, AttrValue>;
}

export interface GraphSummary {
  irVersion: number;
  producer: string;
  /** opset per domain ('' = ai.onnx). */
  opset: Record<string, number>;
  /** Graph inputs that are not initialisers: what a caller must feed. */
  inputs: TensorInfo[];
  /** Names listed in graph.input that are initialisers (old exporters, keep_initializers_as_inputs). */
  initializerInputs: string[];
  outputs: TensorInfo[];
  nodes: NodeInfo[];
  initializers: Map<string, InitializerInfo>;
  /** graph.value_info: shapes of intermediate tensors where the exporter recorded them. */
  valueInfo: Map<string, TensorInfo>;
  /** tensor name -> index of the node that produces it */
  producer_of: Map<string, number>;
  /** tensor name -> indices of the nodes that read it */
  consumers_of: Map<string, number[]>;
}

export interface LoadedOnnx {
  file: string;
  bytes: Buffer;
  model: ModelProto;
}

function describeStart(bytes: Uint8Array): string {
  const head = bytes.subarray(0, 16);
  if (head.length >= 2 && head[0] === 0x50 && head[1] === 0x4b) return 'it is a ZIP archive (a PyTorch .pt/.pth checkpoint?): export the model to ONNX first';
  if (head.length >= 4 && head[0] === 0x89 && head[1] === 0x50 && head[2] === 0x4e && head[3] === 0x47) return 'it is a PNG image';
  if (head.length >= 2 && head[0] === 0xff && head[1] === 0xd8) return 'it is a JPEG image';
  if (head.length >= 8 && head[0] === 0x80 && head[1] <= 5) return 'it looks like a Python pickle';
  let printable = 0;
  for (const b of head) if ((b >= 0x20 && b < 0x7f) || b === 0x0a || b === 0x0d || b === 0x09) printable++;
  if (head.length > 0 && printable === head.length) {
    return `it looks like text (starts with ${JSON.stringify(Buffer.from(head).toString('latin1'))})`;
  }
  return `first bytes: ${Buffer.from(head.subarray(0, 8)).toString('hex')}`;
}

/** Decodes ONNX bytes; `file` is only used in error messages. */
export function decodeOnnxModel(bytes: Buffer, file: string): ModelProto {
  if (bytes.length === 0) throw new OnnxFormatError(file, 'not an ONNX model: the file is empty (0 bytes)');
  let model: ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (err) {
    throw new OnnxFormatError(file, `not an ONNX model: protobuf decoding failed (${(err as Error).message}); ${describeStart(bytes)}`);
  }
  const graph = model.graph as GraphProto | null | undefined;
  if (!graph || (graph.node.length === 0 && graph.output.length === 0)) {
    throw new OnnxFormatError(file, `not an ONNX model: it decodes, but holds no graph; ${describeStart(bytes)}`);
  }
  if (toNumber(model.irVersion) <= 0 || model.opsetImport.length === 0) {
    throw new OnnxFormatError(file, `not an ONNX model: no IR version or opset import; ${describeStart(bytes)}`);
  }
  return model;
}

export async function readOnnxModel(file: string): Promise<LoadedOnnx> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new OnnxFormatError(file, code === 'ENOENT' ? 'file not found' : `cannot read: ${(err as Error).message}`);
  }
  return { file, bytes, model: decodeOnnxModel(bytes, file) };
}

export function tensorInfoOf(v: ValueInfoProto | IValueInfoProto): TensorInfo {
  const tt = v.type?.tensorType;
  const elemType = tt?.elemType ?? 0;
  let shape: Dim[] | null = null;
  if (tt?.shape) {
    shape = (tt.shape.dim ?? []).map((d) => {
      if (d.dimParam) return d.dimParam;
      if (d.dimValue !== undefined && d.dimValue !== null) {
        const n = toNumber(d.dimValue);
        // proto3: an unset dim decodes as dimValue 0 with no dimParam; treat 0 as unknown
        return n > 0 ? n : null;
      }
      return null;
    });
  }
  return { name: v.name ?? '', elemType, dtype: ONNX_DTYPE[elemType] ?? `type${elemType}`, shape };
}

function attrValue(a: AttributeProto): AttrValue {
  switch (a.type) {
    case 1: return a.f;
    case 2: return toNumber(a.i);
    case 3: return Buffer.from(a.s).toString('utf8');
    case 4: return a.t ? { tensor: a.t as TensorProto } : null;
    case 5: return { graph: a.g?.name ?? '' };
    case 6: return [...a.floats];
    case 7: return a.ints.map(toNumber);
    case 8: return a.strings.map((s) => Buffer.from(s).toString('utf8'));
    default: return null;
  }
}

export function initializerInfo(t: TensorProto): InitializerInfo {
  const external = t.dataLocation === 1;
  let byteLength: number | null = null;
  if (external) {
    const len = t.externalData.find((e) => e.key === 'length')?.value;
    byteLength = len !== undefined && len !== null ? Number(len) : null;
  } else if (t.rawData && t.rawData.length > 0) {
    byteLength = t.rawData.length;
  }
  return { name: t.name, elemType: t.dataType, dtype: ONNX_DTYPE[t.dataType] ?? `type${t.dataType}`, dims: t.dims.map(toNumber), byteLength, external };
}

export function summarizeGraph(model: ModelProto): GraphSummary {
  const g = model.graph as GraphProto | null | undefined;
  if (!g) throw new Error('model has no graph');
  const initializers = new Map<string, InitializerInfo>();
  for (const t of g.initializer as TensorProto[]) initializers.set(t.name, initializerInfo(t));
  const inputs: TensorInfo[] = [];
  const initializerInputs: string[] = [];
  for (const v of g.input as ValueInfoProto[]) {
    if (initializers.has(v.name)) initializerInputs.push(v.name);
    else inputs.push(tensorInfoOf(v));
  }
  const valueInfo = new Map<string, TensorInfo>();
  for (const v of g.valueInfo as ValueInfoProto[]) valueInfo.set(v.name, tensorInfoOf(v));
  const producer_of = new Map<string, number>();
  const consumers_of = new Map<string, number[]>();
  const nodes: NodeInfo[] = (g.node as NodeProto[]).map((n, index) => {
    const attributes: Record<string, AttrValue> = {};
    for (const a of n.attribute as AttributeProto[]) attributes[a.name] = attrValue(a as AttributeProto);
    for (const o of n.output) if (o) producer_of.set(o, index);
    for (const i of n.input) {
      if (!i) continue;
      const list = consumers_of.get(i);
      if (list) list.push(index);
      else consumers_of.set(i, [index]);
    }
    return { index, name: n.name, opType: n.opType, domain: n.domain, inputs: [...n.input], outputs: [...n.output], attributes };
  });
  const opset: Record<string, number> = {};
  for (const o of model.opsetImport) opset[o.domain ?? ''] = toNumber(o.version);
  return {
    irVersion: toNumber(model.irVersion),
    producer: [model.producerName, model.producerVersion].filter(Boolean).join(' '),
    opset,
    inputs,
    initializerInputs,
    outputs: (g.output as ValueInfoProto[]).map((v) => tensorInfoOf(v)),
    nodes,
    initializers,
    valueInfo,
    producer_of,
    consumers_of,
  };
}

export function findInitializer(model: ModelProto, name: string): TensorProto | undefined {
  return ((model.graph as GraphProto | null)?.initializer as TensorProto[] | undefined)?.find((t) => t.name === name);
}

/** A fresh, aligned copy (Buffer#slice would return a view, not a copy). */
function copyBytes(raw: Uint8Array): ArrayBuffer {
  const copy = new Uint8Array(raw.byteLength);
  copy.set(raw);
  return copy.buffer;
}

const bf16Bits = new Uint32Array(1);
const bf16Float = new Float32Array(bf16Bits.buffer);
function bfloat16ToFloat(bits: number): number {
  bf16Bits[0] = bits << 16;
  return bf16Float[0];
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

function externalBytes(t: TensorProto, baseDir: string | undefined, what: string): Uint8Array {
  const kv = new Map(t.externalData.map((e) => [e.key, e.value]));
  const location = kv.get('location');
  if (!location) throw new Error(`${what}: external data without a location`);
  if (!baseDir) throw new Error(`${what}: stored in external file ${location}; the model's folder is needed to read it`);
  const full = normalize(join(baseDir, location));
  if (isAbsolute(location) || !(full.startsWith(normalize(baseDir) + sep) || full === normalize(baseDir))) {
    throw new Error(`${what}: external data location ${JSON.stringify(location)} points outside the model's folder`);
  }
  const offset = Number(kv.get('offset') ?? 0);
  const size = statSync(full).size;
  const length = kv.has('length') ? Number(kv.get('length')) : size - offset;
  if (offset + length > size) throw new Error(`${what}: external data ${location} is shorter (${size} bytes) than offset+length ${offset + length}`);
  const out = Buffer.alloc(length);
  const fd = openSync(full, 'r');
  try {
    let done = 0;
    while (done < length) {
      const n = readSync(fd, out, done, length - done, offset + done);
      if (n === 0) throw new Error(`${what}: unexpected end of ${location}`);
      done += n;
    }
  } finally {
    closeSync(fd);
  }
  return out;
}

/**
 * A float initialiser as Float32Array (float32, float16, bfloat16 and float64 are converted).
 * float32 raw_data is returned as a view without copying when it is 4-byte aligned in the file
 * buffer; otherwise it is copied once. `baseDir` resolves external data (models > 2 GB).
 */
export function tensorToFloat32(t: TensorProto, baseDir?: string): Float32Array {
  const what = `tensor ${JSON.stringify(t.name)}`;
  const count = t.dims.map(toNumber).reduce((a, b) => a * b, 1);
  const raw: Uint8Array | null = t.dataLocation === 1 ? externalBytes(t, baseDir, what) : t.rawData && t.rawData.length > 0 ? t.rawData : null;
  const dtype = ONNX_DTYPE[t.dataType] ?? `type${t.dataType}`;
  if (raw) {
    const width = DTYPE_BYTES[t.dataType];
    if (width === undefined || raw.length !== count * width) {
      throw new Error(`${what}: ${raw.length} bytes of ${dtype} do not match dims [${t.dims.map(toNumber).join(', ')}]`);
    }
    const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    if (t.dataType === 1) {
      if (raw.byteOffset % 4 === 0) return new Float32Array(raw.buffer, raw.byteOffset, count);
      return new Float32Array(copyBytes(raw), 0, count);
    }
    const out = new Float32Array(count);
    if (t.dataType === 10) for (let i = 0; i < count; i++) out[i] = halfToFloat(dv.getUint16(i * 2, true));
    else if (t.dataType === 16) for (let i = 0; i < count; i++) out[i] = bfloat16ToFloat(dv.getUint16(i * 2, true));
    else if (t.dataType === 11) for (let i = 0; i < count; i++) out[i] = dv.getFloat64(i * 8, true);
    else throw new Error(`${what}: ${dtype} is not a float type`);
    return out;
  }
  if (t.dataType === 1) {
    if (t.floatData.length !== count) throw new Error(`${what}: ${t.floatData.length} floats do not match dims`);
    return Float32Array.from(t.floatData);
  }
  if (t.dataType === 11) return Float32Array.from(t.doubleData);
  if (t.dataType === 10 || t.dataType === 16) {
    // float16 / bfloat16 in int32_data: one 16-bit pattern per element
    const out = new Float32Array(count);
    for (let i = 0; i < count; i++) {
      const bits = t.int32Data[i] & 0xffff;
      out[i] = t.dataType === 10 ? halfToFloat(bits) : bfloat16ToFloat(bits);
    }
    return out;
  }
  throw new Error(`${what}: ${dtype} is not a float type`);
}

/** Any numeric tensor (as from a .pb reference file) in its natural typed array. */
export function tensorToTypedArray(t: TensorProto, baseDir?: string): Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array | Int8Array {
  const count = t.dims.map(toNumber).reduce((a, b) => a * b, 1);
  switch (t.dataType) {
    case 1: case 10: case 16: return tensorToFloat32(t, baseDir);
    case 11: return t.rawData?.length ? new Float64Array(copyBytes(t.rawData), 0, count) : Float64Array.from(t.doubleData);
    case 6: return t.rawData?.length ? new Int32Array(copyBytes(t.rawData), 0, count) : Int32Array.from(t.int32Data);
    case 7: return t.rawData?.length ? new BigInt64Array(copyBytes(t.rawData), 0, count) : BigInt64Array.from(t.int64Data.map((v) => BigInt(toNumber(v))));
    case 2: case 9: return t.rawData?.length ? Uint8Array.from(t.rawData) : Uint8Array.from(t.int32Data);
    case 3: return t.rawData?.length ? new Int8Array(copyBytes(t.rawData)) : Int8Array.from(t.int32Data);
    default: throw new Error(`tensor ${JSON.stringify(t.name)}: ${ONNX_DTYPE[t.dataType] ?? t.dataType} is not supported here`);
  }
}

/** A ValueInfoProto for a graph output: float tensor by default, shape optional (unknown rank if omitted). */
export function makeValueInfo(name: string, elemType = 1, shape?: Dim[] | null): IValueInfoProto {
  const tensorType: { elemType: number; shape?: { dim: { dimValue?: number; dimParam?: string }[] } } = { elemType };
  if (shape) {
    tensorType.shape = { dim: shape.map((d) => (typeof d === 'number' ? { dimValue: d } : typeof d === 'string' ? { dimParam: d } : {})) };
  }
  return { name, type: { tensorType } };
}


/**
 * New model bytes = `bytes` with `outputs` appended to graph.output, as a list of chunks (the large
 * parts are views into `bytes`, nothing is copied). Outputs already present are skipped.
 */
export function spliceGraphOutputs(bytes: Buffer, outputs: IValueInfoProto[], file = 'model'): Buffer[] {
  const model = decodeOnnxModel(bytes, file);
  const existing = new Set((model.graph as GraphProto).output.map((o) => o.name));
  const toAdd = outputs.filter((o) => !existing.has(o.name ?? ''));
  if (toAdd.length === 0) return [bytes];
  // find the (single) top-level field 7 (graph, length-delimited)
  let pos = 0;
  let graphField: { keyStart: number; dataStart: number; dataEnd: number } | null = null;
  while (pos < bytes.length) {
    const keyStart = pos;
    const [key, afterKey] = readVarint(bytes, pos);
    const field = Math.floor(key / 8);
    const wire = key % 8;
    pos = afterKey;
    if (wire === 0) pos = readVarint(bytes, pos)[1];
    else if (wire === 1) pos += 8;
    else if (wire === 5) pos += 4;
    else if (wire === 2) {
      const [len, dataStart] = readVarint(bytes, pos);
      pos = dataStart + len;
      if (field === 7) {
        if (graphField) throw new OnnxFormatError(file, 'the model has its graph field twice; cannot add outputs safely');
        graphField = { keyStart, dataStart, dataEnd: pos };
      }
    } else throw new OnnxFormatError(file, `unexpected protobuf wire type ${wire} at byte ${keyStart}`);
    if (pos > bytes.length) throw new OnnxFormatError(file, 'truncated protobuf');
  }
  if (!graphField) throw new OnnxFormatError(file, 'no graph field');
  const extra = Buffer.concat(
    toAdd.map((o) => {
      const enc = onnx.ValueInfoProto.encode(o).finish();
      return Buffer.concat([encodeVarint((12 << 3) | 2), encodeVarint(enc.length), Buffer.from(enc.buffer, enc.byteOffset, enc.byteLength)]);
    }),
  );
  const graphLen = graphField.dataEnd - graphField.dataStart + extra.length;
  return [
    bytes.subarray(0, graphField.keyStart),
    Buffer.concat([encodeVarint((7 << 3) | 2), encodeVarint(graphLen)]),
    bytes.subarray(graphField.dataStart, graphField.dataEnd),
    extra,
    bytes.subarray(graphField.dataEnd),
  ];
}

/** Writes `src` with extra graph outputs to `dest`; returns the decoded result (re-read to check it). */
export async function writeWithGraphOutputs(src: LoadedOnnx, outputs: IValueInfoProto[], dest: string): Promise<LoadedOnnx> {
  const chunks = spliceGraphOutputs(src.bytes, outputs, src.file);
  await writeFile(dest, chunks);
  return readOnnxModel(dest);
}

/** Full re-encode, for edits beyond adding outputs. Drops fields unknown to onnx-proto (ONNX > 1.10). */
export function encodeOnnxModel(model: ModelProto): Uint8Array {
  return onnx.ModelProto.encode(model).finish();
}

// Writing a patched classifier: the original ONNX bytes with the head's weight and bias
// initialisers replaced, everything else byte for byte (inputs, outputs, other initialisers,
// metadata, fields newer than onnx-proto's schema). Only the two TensorProto entries inside
// GraphProto.initializer (field 5) are re-encoded; the graph's and the model's length prefixes are
// rewritten around them.
//
// The new values are written in the original's layout: Gemm transB=1 / 'out_in' keeps [C, D],
// transB=0 and MatMul ('in_out') keep [D, C]; raw_data stays raw_data (little-endian),
// float_data stays float_data; a float16 head (half-precision export) gets the values rounded to
// float16 in its own storage. Initialisers in external files and other data types are refused.
// The two replaced TensorProtos keep name, dims, data type and doc_string; fields of theirs that
// onnx-proto (ONNX 1.10) does not know, e.g. TensorProto.metadata_props, are not carried over.
import { onnx, toNumber, type TensorProto } from '../onnx/index.ts';
import type { ClassifierHead } from '../classifier/inspect.ts';
import { encodeVarint, readVarint } from '../onnx/varint.ts';
import { toFloat16 } from '../diffusion/float16.ts';

export class HeadPatchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HeadPatchError';
  }
}

type HeadSpec = Pick<ClassifierHead, 'weight' | 'bias' | 'weight_layout' | 'num_classes' | 'feature_dim'>;


interface Field {
  field: number;
  keyStart: number;
  dataStart: number;
  end: number;
}

/** Top-level fields of one protobuf message (length-delimited ones with their data range). */
function scanFields(buf: Uint8Array, start: number, end: number): Field[] {
  const fields: Field[] = [];
  let pos = start;
  while (pos < end) {
    const keyStart = pos;
    const [key, afterKey] = readVarint(buf, pos);
    const field = Math.floor(key / 8);
    const wire = key % 8;
    pos = afterKey;
    let dataStart = pos;
    if (wire === 0) pos = readVarint(buf, pos)[1];
    else if (wire === 1) pos += 8;
    else if (wire === 5) pos += 4;
    else if (wire === 2) {
      const [len, ds] = readVarint(buf, pos);
      dataStart = ds;
      pos = ds + len;
    } else throw new HeadPatchError(`unexpected protobuf wire type ${wire} at byte ${keyStart}`);
    if (pos > end) throw new HeadPatchError('truncated protobuf message');
    fields.push({ field, keyStart, dataStart, end: pos });
  }
  return fields;
}

function toLayout(weight: Float32Array, head: HeadSpec): Float32Array {
  if (head.weight_layout === 'out_in') return weight;
  const C = head.num_classes;
  const D = head.feature_dim;
  const out = new Float32Array(C * D);
  for (let c = 0; c < C; c++) for (let d = 0; d < D; d++) out[d * C + c] = weight[c * D + d];
  return out;
}

function replacement(old: TensorProto, values: Float32Array, what: string): Buffer {
  if (old.dataLocation === 1) throw new HeadPatchError(`${what} ${JSON.stringify(old.name)} is stored in an external data file; patching external initialisers is not supported`);
  if (old.dataType !== 1 && old.dataType !== 10) throw new HeadPatchError(`${what} ${JSON.stringify(old.name)} is neither float32 nor float16 (data type ${old.dataType}); only those heads can be patched`);
  const count = old.dims.map(toNumber).reduce((a, b) => a * b, 1);
  if (count !== values.length) throw new HeadPatchError(`${what} ${JSON.stringify(old.name)} has ${count} values; the new one has ${values.length}`);
  const t = onnx.TensorProto.create({
    name: old.name,
    dims: old.dims,
    dataType: old.dataType,
    ...(old.docString ? { docString: old.docString } : {}),
  });
  if (old.dataType === 10) {
    // a half-precision head: the trained float32 values rounded to float16 (nearest, ties to even)
    const bits = toFloat16(values);
    for (let i = 0; i < bits.length; i++) if ((bits[i]! & 0x7c00) === 0x7c00) throw new HeadPatchError(`the new ${what} has values beyond float16's range (±65504)`);
    if (old.rawData && old.rawData.length > 0) t.rawData = Buffer.from(bits.buffer, bits.byteOffset, bits.byteLength);
    else t.int32Data = Array.from(bits);
  } else if (old.rawData && old.rawData.length > 0) {
    const raw = Buffer.alloc(values.length * 4);
    for (let i = 0; i < values.length; i++) raw.writeFloatLE(values[i], i * 4);
    t.rawData = raw;
  } else {
    t.floatData = Array.from(values);
  }
  const enc = onnx.TensorProto.encode(t).finish();
  return Buffer.from(enc.buffer, enc.byteOffset, enc.byteLength);
}

/**
 * New model bytes (as chunks: the large unchanged parts are views into `bytes`) with the head's
 * weight ([C x D] out_in, as trained) and bias replaced. `bias` must be null or all zeros when
 * the head has none.
 */
export function patchHeadBytes(bytes: Uint8Array, head: HeadSpec, weight: Float32Array, bias: Float32Array | null): Buffer[] {
  const C = head.num_classes;
  const D = head.feature_dim;
  if (weight.length !== C * D) throw new HeadPatchError(`the new weight has ${weight.length} values, the head needs ${C} x ${D}`);
  if (head.bias === null && bias && bias.some((v) => v !== 0)) throw new HeadPatchError('the model\'s head has no bias initialiser, but the new head has a non-zero bias');
  if (head.bias !== null && (!bias || bias.length !== C)) throw new HeadPatchError(`the new bias must have ${C} values`);
  for (const v of weight) if (!Number.isFinite(v)) throw new HeadPatchError('the new weight has non-finite values');
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const top = scanFields(buf, 0, buf.length);
  const graphs = top.filter((f) => f.field === 7);
  if (graphs.length !== 1) throw new HeadPatchError(`expected one graph in the model, found ${graphs.length}`);
  const g = graphs[0];
  const wanted = new Map<string, Float32Array>([[head.weight, toLayout(weight, head)]]);
  if (head.bias !== null && bias) wanted.set(head.bias, bias);
  const parts: Buffer[] = [];
  let cursor = g.dataStart;
  const found = new Set<string>();
  for (const f of scanFields(buf, g.dataStart, g.end)) {
    if (f.field !== 5) continue;
    const t = onnx.TensorProto.decode(buf.subarray(f.dataStart, f.end));
    const values = wanted.get(t.name);
    if (!values) continue;
    if (found.has(t.name)) throw new HeadPatchError(`initialiser ${JSON.stringify(t.name)} appears twice in the graph`);
    found.add(t.name);
    const enc = replacement(t, values, t.name === head.weight ? 'weight' : 'bias');
    parts.push(buf.subarray(cursor, f.keyStart), encodeVarint((5 << 3) | 2), encodeVarint(enc.length), enc);
    cursor = f.end;
  }
  for (const name of wanted.keys()) if (!found.has(name)) throw new HeadPatchError(`initialiser ${JSON.stringify(name)} not found in the graph`);
  parts.push(buf.subarray(cursor, g.end));
  const graphLen = parts.reduce((s, p) => s + p.length, 0);
  return [buf.subarray(0, g.keyStart), Buffer.concat([encodeVarint((7 << 3) | 2), encodeVarint(graphLen)]), ...parts, buf.subarray(g.end)];
}

// One ONNX file to fp16 (float32 inputs and outputs kept), checked against the original: both run on
// the CPU provider on the same feeds and every float output is compared. The file is written only
// when the conversion loads and runs; the caller decides whether the measured error is acceptable.
import * as ort from 'onnxruntime-node';
import { rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { encodeOnnxModel, readOnnxModel, tensorToTypedArray } from '../onnx/model.ts';
import { onnx, type GraphProto, type TensorProto } from '../onnx/proto.ts';
import { firstLine } from '../runtime/session.ts';
import { convertGraphToFloat16, Float16ConversionError, type Float16Report } from './float16-graph.ts';
import { inspectValues } from './value-types.ts';

/** protobuf's 2 GiB message limit; larger models need external data, which this writer does not do. */
const PROTOBUF_LIMIT = 2 ** 31 - 1;

export interface OutputCheck {
  output: string;
  /** ||fp16 - fp32|| / ||fp32|| over the whole output. */
  relError: number;
  maxAbsError: number;
  /** The fp32 output itself, for checks of the caller's own (e.g. top-1 agreement). */
  reference: Float32Array;
  converted: Float32Array;
  dims: readonly number[];
}

export interface ConvertFileResult {
  report: Float16Report;
  bytesBefore: number;
  bytesAfter: number;
  checks: OutputCheck[];
}

export interface ConvertFileOptions {
  /** Inputs to calibrate ranges on and to compare the two models with. */
  feeds: Record<string, ort.Tensor>;
  /** Initialisers whose consuming nodes stay float32 (a classifier's head weight and bias). */
  keepConsumersOf?: readonly string[];
  rangeLimit?: number;
}

async function runAll(model: string | Uint8Array, feeds: Record<string, ort.Tensor>, what: string): Promise<Map<string, ort.Tensor>> {
  let session: ort.InferenceSession;
  try {
    session = typeof model === 'string'
      ? await ort.InferenceSession.create(model, { executionProviders: ['cpu'], logSeverityLevel: 3 })
      : await ort.InferenceSession.create(model, { executionProviders: ['cpu'], logSeverityLevel: 3 });
  } catch (err) {
    throw new Float16ConversionError(`${what}: onnxruntime cannot load it: ${firstLine(err)}`);
  }
  try {
    const res = await session.run(feeds);
    return new Map(Object.entries(res));
  } catch (err) {
    throw new Float16ConversionError(`${what}: onnxruntime cannot run it: ${firstLine(err)}`);
  } finally {
    await session.release();
  }
}

export function compareOutputs(reference: Float32Array, converted: Float32Array): { relError: number; maxAbsError: number } {
  let num = 0;
  let den = 0;
  let maxAbs = 0;
  for (let i = 0; i < reference.length; i++) {
    const d = converted[i]! - reference[i]!;
    num += d * d;
    den += reference[i]! * reference[i]!;
    const a = Math.abs(d);
    if (a > maxAbs || Number.isNaN(a)) maxAbs = Number.isNaN(a) ? Infinity : a;
  }
  const relError = den > 0 ? Math.sqrt(num / den) : Math.sqrt(num);
  return { relError: Number.isNaN(relError) ? Infinity : relError, maxAbsError: maxAbs };
}

export async function convertOnnxFileToFloat16(src: string, dest: string, options: ConvertFileOptions): Promise<ConvertFileResult> {
  const loaded = await readOnnxModel(src);
  const graph = loaded.model.graph as GraphProto;
  const { types, ranges } = await inspectValues(loaded, options.feeds);
  const keepNodes = new Map<number, string>();
  const keepOf = new Set(options.keepConsumersOf ?? []);
  graph.node.forEach((n, i) => {
    const hit = (n.input ?? []).find((x) => keepOf.has(x));
    if (hit) keepNodes.set(i, `reads ${hit}, kept in float32`);
  });
  const report = convertGraphToFloat16(loaded.model, types, { ranges: ranges ?? undefined, keepNodes, rangeLimit: options.rangeLimit, baseDir: dirname(src) });
  // float32 initialisers still read from external files (kept for float32 nodes) are made inline
  graph.initializer = graph.initializer.map((t) => {
    if (t.dataLocation !== 1) return t;
    const values = tensorToTypedArray(t as TensorProto, dirname(src));
    return onnx.TensorProto.create({ name: t.name, dims: t.dims, dataType: t.dataType, rawData: new Uint8Array(values.buffer, values.byteOffset, values.byteLength) });
  });
  const bytes = encodeOnnxModel(loaded.model);
  if (bytes.length > PROTOBUF_LIMIT) throw new Float16ConversionError(`${src}: the fp16 model would be ${bytes.length} bytes, over protobuf's 2 GiB limit (external data is not written by this conversion)`);

  const reference = await runAll(src, options.feeds, src);
  const converted = await runAll(bytes, options.feeds, `${src} converted to fp16`);
  const checks: OutputCheck[] = [];
  for (const [name, ref] of reference) {
    const got = converted.get(name);
    if (!got) throw new Float16ConversionError(`${src} converted to fp16: output ${JSON.stringify(name)} is missing`);
    if (ref.type !== 'float32') continue;
    if (got.type !== 'float32') throw new Float16ConversionError(`${src} converted to fp16: output ${JSON.stringify(name)} is ${got.type}, expected float32`);
    const r = ref.data as Float32Array;
    const c = got.data as Float32Array;
    checks.push({ output: name, ...compareOutputs(r, c), reference: r, converted: c, dims: ref.dims });
  }
  const tmp = `${dest}.${process.pid}.partial`;
  try {
    await writeFile(tmp, bytes);
    await rename(tmp, dest);
  } catch (err) {
    await rm(tmp, { force: true });
    throw new Float16ConversionError(`${dest}: cannot write the fp16 model: ${firstLine(err)}`);
  }
  return { report, bytesBefore: loaded.bytes.length, bytesAfter: bytes.length, checks };
}

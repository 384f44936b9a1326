// The fp16 graph rewrite on a small hand-built graph that has each case the rewrite must get right:
// shape arithmetic and a Constant that do not compute on the input (stay float32), Resize's scales
// (float32 by the spec), a Cast to float inside the fp16 region, a graph output that is also read
// inside the graph, and a calibration range that keeps nodes in float32. Both graphs run in
// onnxruntime and must agree within fp16 precision.
import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { onnx, type ModelProto } from '../../../native-models/onnx/index.ts';
import { convertGraphToFloat16, FLOAT, FLOAT16 } from '../../../native-models/convert/float16-graph.ts';
import { inspectValues } from '../../../native-models/convert/value-types.ts';
import { compareOutputs } from '../../../native-models/convert/convert-onnx-file.ts';

const attrInt = (name: string, i: number) => onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.INT, i });
const attrFloat = (name: string, f: number) => onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.FLOAT, f });
const node = (opType: string, input: string[], output: string[], attribute: ReturnType<typeof attrInt>[] = []) => onnx.NodeProto.create({ name: output[0], opType, input, output, attribute });
const floatInit = (name: string, dims: number[], values: number[]) =>
  onnx.TensorProto.create({ name, dims, dataType: FLOAT, rawData: new Uint8Array(Float32Array.from(values).buffer) });
const valueInfo = (name: string, dims: (number | string)[]) =>
  onnx.ValueInfoProto.create({ name, type: { tensorType: { elemType: FLOAT, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } } });

function seeded(n: number, seed: number): number[] {
  let s = seed >>> 0;
  return Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s >>> 8) / 2 ** 24 - 0.5;
  });
}

function buildModel(): ModelProto {
  const graph = onnx.GraphProto.create({
    name: 'mixed',
    input: [valueInfo('x', ['N', 3, 8, 8])],
    output: [valueInfo('conv', ['N', 4, 8, 8]), valueInfo('pooled', ['N', 4, 1, 1]), valueInfo('size_f', [4])],
    initializer: [floatInit('W', [4, 3, 3, 3], seeded(108, 1)), floatInit('B', [4], [0.1, -0.2, 0.3, 0]), floatInit('scales', [4], [1, 1, 2, 2])],
    node: [
      node('Shape', ['x'], ['shape']),
      node('Cast', ['shape'], ['size_f'], [attrInt('to', FLOAT)]), // shape arithmetic: stays float32
      node('Conv', ['x', 'W', 'B'], ['conv'], [attrInt('group', 1), onnx.AttributeProto.create({ name: 'pads', type: onnx.AttributeProto.AttributeType.INTS, ints: [1, 1, 1, 1] })]),
      node('Constant', [], ['half'], [attrFloat('value_float', 0.5)]),
      node('Mul', ['conv', 'half'], ['scaled']),
      node('Resize', ['scaled', '', 'scales'], ['up'], [onnx.AttributeProto.create({ name: 'mode', type: onnx.AttributeProto.AttributeType.STRING, s: new TextEncoder().encode('nearest') })]),
      node('Cast', ['up'], ['up_f'], [attrInt('to', FLOAT)]),
      node('GlobalAveragePool', ['up_f'], ['pooled']),
    ],
  });
  return onnx.ModelProto.create({ irVersion: 8, producerName: 'test', opsetImport: [{ domain: '', version: 17 }], graph });
}

async function run(model: ModelProto, x: Float32Array): Promise<Record<string, ort.Tensor>> {
  const s = await ort.InferenceSession.create(onnx.ModelProto.encode(model).finish(), { logSeverityLevel: 3 });
  try {
    return await s.run({ x: new ort.Tensor('float32', x, [2, 3, 8, 8]) });
  } finally {
    await s.release();
  }
}

async function typesOf(model: ModelProto) {
  const bytes = Buffer.from(onnx.ModelProto.encode(model).finish());
  return inspectValues({ file: 'mixed.onnx', bytes, model: onnx.ModelProto.decode(bytes) }, { x: new ort.Tensor('float32', Float32Array.from(seeded(384, 3)), [2, 3, 8, 8]) });
}

describe('convertGraphToFloat16', () => {
  it('computes on the input in fp16, keeps shape arithmetic, scales and the graph interface float32, and agrees with float32', async () => {
    const x = Float32Array.from(seeded(2 * 3 * 64, 7), (v) => v * 4);
    const before = await run(buildModel(), x);
    const model = buildModel();
    const { types, ranges } = await typesOf(model);
    expect(types.get('shape')).toBe(7);
    expect(ranges!.get('conv')).toBeGreaterThan(0);
    const report = convertGraphToFloat16(model, types);
    const g = model.graph!;
    const byOut = new Map(g.node!.map((n) => [n.output![0]!, n]));
    // weights converted, the float32 originals gone; Resize's scales untouched
    const inits = new Map(g.initializer!.map((t) => [t.name!, t]));
    expect(inits.get('W_fp16')?.dataType).toBe(FLOAT16);
    expect(inits.get('B_fp16')?.dataType).toBe(FLOAT16);
    expect(inits.has('W')).toBe(false);
    expect(inits.get('scales')?.dataType).toBe(FLOAT);
    expect(byOut.get('up')!.input).toEqual(['scaled', '', 'scales']);
    // the Cast inside the fp16 region now casts to float16; the shape Cast still to float
    expect(Number(byOut.get('up_f')!.attribute![0]!.i)).toBe(FLOAT16);
    expect(Number(byOut.get('size_f')!.attribute![0]!.i)).toBe(FLOAT);
    // a graph output read inside the graph: the Conv writes conv_fp16, a Cast gives 'conv' in float32
    expect(byOut.get('conv_fp16')!.opType).toBe('Conv');
    expect(byOut.get('conv')!.opType).toBe('Cast');
    expect(byOut.get('scaled')!.input![0]).toBe('conv_fp16');
    // the Constant does not compute on the input: it stays float32 and is cast for the fp16 Mul
    expect(byOut.get('half')!.attribute![0]!.name).toBe('value_float');
    expect(report.fp16Nodes).toBe(5); // Conv, Mul, Resize, Cast, GlobalAveragePool
    expect(report.weightBytesAfter).toBeLessThan(report.weightBytesBefore);

    const after = await run(model, x);
    for (const name of ['conv', 'pooled', 'size_f']) {
      expect(after[name]!.type).toBe('float32');
      expect(after[name]!.dims).toEqual(before[name]!.dims);
    }
    expect(Array.from(after.size_f!.data as Float32Array)).toEqual([2, 3, 8, 8]);
    const c = compareOutputs(before.conv!.data as Float32Array, after.conv!.data as Float32Array);
    expect(c.relError).toBeGreaterThan(0); // it really ran in fp16
    expect(c.relError).toBeLessThan(2e-3);
    expect(compareOutputs(before.pooled!.data as Float32Array, after.pooled!.data as Float32Array).relError).toBeLessThan(2e-3);
  });

  it('keeps the nodes that touch a value beyond the range limit in float32, and nodes the caller names', async () => {
    const model = buildModel();
    const { types } = await typesOf(model);
    const convIdx = model.graph!.node!.findIndex((n) => n.opType === 'Conv');
    const report = convertGraphToFloat16(model, types, { ranges: new Map([['scaled', 1e6]]), rangeLimit: 16384, keepNodes: new Map([[convIdx, 'the head']]) });
    expect(report.keptFp32).toEqual({ 'values beyond ±16384 on the calibration input': 2, 'the head': 1 }); // Mul (writes it), Resize (reads it)
    expect(report.fp16Nodes).toBe(2); // Cast, GlobalAveragePool
    const inits = new Map(model.graph!.initializer!.map((t) => [t.name!, t]));
    expect(inits.get('W')?.dataType).toBe(FLOAT);
    expect(inits.has('W_fp16')).toBe(false);
    const x = Float32Array.from(seeded(2 * 3 * 64, 8));
    const after = await run(model, x);
    const before = await run(buildModel(), x);
    expect(Array.from(after.conv!.data as Float32Array)).toEqual(Array.from(before.conv!.data as Float32Array)); // float32 throughout
  });
});

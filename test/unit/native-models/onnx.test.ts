import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import {
  OnnxFormatError,
  decodeOnnxModel,
  encodeOnnxModel,
  findInitializer,
  makeValueInfo,
  onnx,
  readOnnxModel,
  spliceGraphOutputs,
  summarizeGraph,
  tensorToFloat32,
  writeWithGraphOutputs,
  type TensorProto,
} from '../../../native-models/onnx/index.ts';
import { MNIST_DIR, MODELS, fixedInput, maxAbsDiff, withTempDir } from './helpers.ts';

describe('reading ONNX models', () => {
  it('summarises inputs, outputs, nodes and initialisers with shapes', async () => {
    const { model } = await readOnnxModel(join(MODELS, 'tiny_gemm.onnx'));
    const g = summarizeGraph(model);
    expect(g.irVersion).toBeGreaterThanOrEqual(7);
    expect(g.opset['']).toBe(17);
    expect(g.inputs).toEqual([{ name: 'image', elemType: 1, dtype: 'float32', shape: ['batch', 3, 32, 32] }]);
    expect(g.outputs).toEqual([{ name: 'logits', elemType: 1, dtype: 'float32', shape: ['batch', 5] }]);
    expect(g.nodes.map((n) => n.opType)).toEqual(['Conv', 'Relu', 'GlobalAveragePool', 'Flatten', 'Gemm']);
    expect(g.nodes[4].attributes).toMatchObject({ transB: 1, alpha: 1, beta: 1 });
    expect(g.initializers.get('fc.weight')).toEqual({ name: 'fc.weight', elemType: 1, dtype: 'float32', dims: [5, 8], byteLength: 160, external: false });
    expect(g.producer_of.get('logits')).toBe(4);
    expect(g.consumers_of.get('image')).toEqual([0]);
  });

  it('separates initialisers listed as graph inputs (old exporters)', async () => {
    const g = summarizeGraph((await readOnnxModel(join(MODELS, 'tiny_fixed_batch.onnx'))).model);
    expect(g.inputs.map((i) => i.name)).toEqual(['image']);
    expect(g.initializerInputs.sort()).toEqual(['fc.bias', 'fc.weight', 'trunk.conv.bias', 'trunk.conv.weight']);
    expect(g.inputs[0].shape).toEqual([1, 3, 32, 32]);
  });

  it('does not copy initialiser bytes when decoding (raw_data are views of the file buffer)', async () => {
    const { bytes, model } = await readOnnxModel(join(MODELS, 'tiny_gemm.onnx'));
    const inits = model.graph!.initializer as TensorProto[];
    expect(inits.length).toBe(4);
    for (const t of inits) {
      expect(t.rawData.length).toBeGreaterThan(0);
      expect(t.rawData.buffer).toBe(bytes.buffer);
    }
    // aligned float32 data is returned as a view too; unaligned data is copied once, same values
    const w = findInitializer(model, 'fc.weight')!;
    const f = tensorToFloat32(w);
    const expected = new Float32Array(5 * 8);
    new Uint8Array(expected.buffer).set(w.rawData);
    expect(Array.from(f)).toEqual(Array.from(expected));
    if ((w.rawData.byteOffset & 3) === 0) expect(f.buffer).toBe(bytes.buffer);
    else expect(f.buffer).not.toBe(bytes.buffer);
  });

  it('converts float16 and float_data initialisers', () => {
    const half = onnx.TensorProto.create({ name: 'h', dataType: 10, dims: [3], rawData: new Uint8Array(new Uint16Array([0x3c00, 0xc000, 0x3555]).buffer) });
    expect(Array.from(tensorToFloat32(half as TensorProto))).toEqual([1, -2, Math.fround(0.333251953125)]);
    const bf = onnx.TensorProto.create({ name: 'b', dataType: 16, dims: [2], rawData: new Uint8Array(new Uint16Array([0x3f80, 0xc040]).buffer) });
    expect(Array.from(tensorToFloat32(bf as TensorProto))).toEqual([1, -3]);
    const fd = onnx.TensorProto.decode(onnx.TensorProto.encode({ name: 'f', dataType: 1, dims: [2], floatData: [1.5, -3] }).finish());
    expect(Array.from(tensorToFloat32(fd))).toEqual([1.5, -3]);
    expect(() => tensorToFloat32(onnx.TensorProto.create({ name: 'bad', dataType: 1, dims: [3], rawData: new Uint8Array(8) }) as TensorProto)).toThrow(/do not match dims/);
  });

  it('reads external data from the model folder and refuses paths outside it', async () => {
    await withTempDir(async (dir) => {
      const vals = new Float32Array([1, 2, 3, 4]);
      await writeFile(join(dir, 'weights.bin'), Buffer.concat([Buffer.alloc(8), Buffer.from(vals.buffer)]));
      const mk = (location: string) =>
        onnx.TensorProto.create({ name: 'e', dataType: 1, dims: [4], dataLocation: 1, externalData: [{ key: 'location', value: location }, { key: 'offset', value: '8' }, { key: 'length', value: '16' }] }) as TensorProto;
      expect(Array.from(tensorToFloat32(mk('weights.bin'), dir))).toEqual([1, 2, 3, 4]);
      expect(() => tensorToFloat32(mk('../weights.bin'), dir)).toThrow(/outside the model's folder/);
    });
  });

  it.each([
    ['not_onnx.onnx', /not an ONNX model: protobuf decoding failed .*it looks like text \(starts with "This is not an O"\)/],
  ])('refuses %s, naming the file', async (name, re) => {
    const file = join(MODELS, name);
    const err = await readOnnxModel(file).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OnnxFormatError);
    expect((err as OnnxFormatError).file).toBe(file);
    expect((err as Error).message.startsWith(`${file}: `)).toBe(true);
    expect((err as Error).message).toMatch(re);
  });

  it('refuses empty files, images, zip archives and protobufs that are not models', async () => {
    expect(() => decodeOnnxModel(Buffer.alloc(0), 'e.onnx')).toThrow(/^e\.onnx: not an ONNX model: the file is empty \(0 bytes\)$/);
    const png = await readFile(join(MODELS, '..', 'preprocess', 'inputs', 'gray.png'));
    expect(() => decodeOnnxModel(png, 'p.onnx')).toThrow(/^p\.onnx: not an ONNX model: .*PNG image/);
    expect(() => decodeOnnxModel(Buffer.from('PK\x03\x04' + 'x'.repeat(40), 'latin1'), 'z.onnx')).toThrow(/ZIP archive \(a PyTorch/);
    // a TensorProto parses as protobuf but is not a model
    const pb = await readFile(join(MNIST_DIR, 'test_data_set_0_input_0.pb'));
    expect(() => decodeOnnxModel(pb, 't.onnx')).toThrow(/^t\.onnx: not an ONNX model/);
    await expect(readOnnxModel(join(MODELS, 'missing.onnx'))).rejects.toThrow(/missing\.onnx: file not found/);
  });
});

describe('adding graph outputs', () => {
  it('splices outputs in without re-encoding, keeping unknown fields, and onnxruntime reads them', async () => {
    await withTempDir(async (dir) => {
      const src = await readOnnxModel(join(MODELS, 'tiny_gemm.onnx'));
      // append a field unknown to onnx-proto's schema (number 99, varint) at model level: a
      // decode + encode round trip would drop it, the splice must keep it
      const unknown = Buffer.from([0x98, 0x06, 0x2a]); // key (99 << 3 | 0) = 792 -> 0x98 0x06, value 42
      const withUnknown = { ...src, bytes: Buffer.concat([src.bytes, unknown]) };
      expect(encodeOnnxModel(decodeOnnxModel(withUnknown.bytes, 'x')).length).toBeLessThan(withUnknown.bytes.length);
      const chunks = spliceGraphOutputs(withUnknown.bytes, [makeValueInfo('/trunk/Flatten_output_0', 1, ['batch', 8])]);
      const out = Buffer.concat(chunks);
      expect(out.subarray(out.length - 3).equals(unknown)).toBe(true);
      const g = summarizeGraph(decodeOnnxModel(out, 'out'));
      expect(g.outputs.map((o) => o.name)).toEqual(['logits', '/trunk/Flatten_output_0']);
      expect(g.outputs[1].shape).toEqual(['batch', 8]);
      // every initialiser byte-identical
      const before = decodeOnnxModel(src.bytes, 'a').graph!.initializer as TensorProto[];
      const after = decodeOnnxModel(out, 'b').graph!.initializer as TensorProto[];
      expect(after.map((t) => Buffer.from(t.rawData).toString('hex'))).toEqual(before.map((t) => Buffer.from(t.rawData).toString('hex')));
      // adding an existing output changes nothing
      expect(Buffer.concat(spliceGraphOutputs(src.bytes, [makeValueInfo('logits')])).equals(src.bytes)).toBe(true);

      const file = join(dir, 'with_features.onnx');
      const written = await writeWithGraphOutputs(src, [makeValueInfo('/trunk/Flatten_output_0'), makeValueInfo('/trunk/Relu_output_0')], file);
      expect(summarizeGraph(written.model).outputs.map((o) => [o.name, o.shape])).toEqual([
        ['logits', ['batch', 5]],
        ['/trunk/Flatten_output_0', null],
        ['/trunk/Relu_output_0', null],
      ]);
      const session = await ort.InferenceSession.create(file);
      expect(session.outputNames).toEqual(['logits', '/trunk/Flatten_output_0', '/trunk/Relu_output_0']);
      const res = await session.run({ image: new ort.Tensor('float32', fixedInput(2), [2, 3, 32, 32]) });
      expect(res['/trunk/Flatten_output_0'].dims).toEqual([2, 8]);
      expect(res['/trunk/Relu_output_0'].dims).toEqual([2, 8, 16, 16]);
      const ref = JSON.parse(await readFile(join(MODELS, 'reference.json'), 'utf8')).models['tiny_gemm.onnx'];
      expect(maxAbsDiff(res.logits.data as Float32Array, ref.logits.flat())).toBeLessThan(1e-5);
      expect(maxAbsDiff(res['/trunk/Flatten_output_0'].data as Float32Array, ref.features.flat())).toBeLessThan(1e-5);
      await session.release();
    });
  });
});

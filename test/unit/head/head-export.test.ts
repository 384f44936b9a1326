// Patched-head export: the ONNX patch round trip on real models (ShapeWorld, timm, tiny fixtures of
// each head layout, a float_data initialiser), and the head alone as safetensors and JSON.
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createClassifierPackage, readClassifierHead } from '../../../native-models/classifier/index.ts';
import { loadModelPackage } from '../../../native-models/manifest/load.ts';
import { onnx, readOnnxModel, summarizeGraph, type TensorProto } from '../../../native-models/onnx/index.ts';
import {
  checkPatchedOnnx,
  decodeSafetensors,
  encodeHeadSafetensors,
  headFromJson,
  headToJson,
  HeadPatchError,
  patchHeadBytes,
  readHeadSafetensors,
  writeHeadJson,
  writeHeadSafetensors,
  writePatchedOnnx,
} from '../../../native-models/head/index.ts';
import { buildPoolGemmModel, MODELS, REPO } from '../native-models/helpers.ts';
import { tempDir } from '../../helpers/temp-dir.ts';

const tmp = tempDir();
afterAll(() => tmp.remove());

/** A new head that differs from the old one everywhere: W' = 0.5 W + 0.01 sin(i), b' = b + 0.1 cos(c). */
function perturb(weight: Float32Array, bias: Float32Array | null, layout: 'out_in' | 'in_out', C: number, D: number) {
  const w = new Float32Array(C * D);
  for (let c = 0; c < C; c++) for (let d = 0; d < D; d++) {
    const old = layout === 'out_in' ? weight[c * D + d] : weight[d * C + c];
    w[c * D + d] = 0.5 * old + 0.01 * Math.sin(c * D + d);
  }
  const b = bias ? Float32Array.from(bias, (v, c) => v + 0.1 * Math.cos(c)) : null;
  return { w, b };
}

async function roundTrip(packageDir: string, n: number) {
  const pkg = await loadModelPackage(packageDir, { verifyHash: false });
  if (pkg.manifest.kind !== 'classifier') throw new Error('not a classifier');
  const m = pkg.manifest;
  const { weight, bias } = await readClassifierHead(packageDir);
  const C = m.head.num_classes;
  const D = m.head.feature_dim;
  const { w, b } = perturb(weight, bias, m.head.weight_layout, C, D);
  const out = join(tmp.path, `${m.name}-${Math.random().toString(36).slice(2)}.onnx`);
  await writePatchedOnnx(pkg.onnxPath, m.head, w, b, out);
  const [h, wd] = m.preprocess.crop;
  const input = Float32Array.from({ length: n * 3 * h * wd }, (_, i) => Math.sin(0.37 * i));
  const inspected = summarizeGraph((await readOnnxModel(pkg.onnxPath)).model);
  const headNode = inspected.nodes.find((nd) => nd.inputs.includes(m.head.weight))!;
  const check = await checkPatchedOnnx({
    original: pkg.onnxPath,
    patched: out,
    inputName: m.input.name,
    inputShape: [n, 3, h, wd],
    input,
    logits: m.outputs.logits,
    features: m.outputs.features,
    headNode: headNode.name || `${headNode.opType}#${headNode.index}`,
    weight: w,
    bias: b,
  });
  // same inputs, outputs, nodes and other initialisers; only the head's two initialisers differ
  const before = (await readOnnxModel(pkg.onnxPath)).model;
  const after = (await readOnnxModel(out)).model;
  const sb = summarizeGraph(before);
  const sa = summarizeGraph(after);
  expect(sa.inputs).toEqual(sb.inputs);
  expect(sa.outputs).toEqual(sb.outputs);
  expect(sa.nodes.map((x) => x.opType)).toEqual(sb.nodes.map((x) => x.opType));
  const byName = (mp: typeof before) => new Map((mp.graph!.initializer as TensorProto[]).map((t) => [t.name, t]));
  const ib = byName(before);
  const ia = byName(after);
  expect([...ia.keys()]).toEqual([...ib.keys()]);
  for (const [name, t] of ib) {
    if (name === m.head.weight || name === m.head.bias) continue;
    expect(Buffer.from(ia.get(name)!.rawData ?? []).equals(Buffer.from(t.rawData ?? []))).toBe(true);
  }
  // the check is not vacuous: against the old head it fails
  const oldW = m.head.weight_layout === 'out_in' ? weight : perturb(weight, null, 'in_out', C, D).w.map((_, i) => weight[(i % D) * C + Math.floor(i / D)]);
  const wrong = await checkPatchedOnnx({ original: pkg.onnxPath, patched: out, inputName: m.input.name, inputShape: [n, 3, h, wd], input, logits: m.outputs.logits, features: m.outputs.features, headNode: headNode.name || `${headNode.opType}#${headNode.index}`, weight: oldW, bias });
  expect(wrong.ok).toBe(false);
  return { check, out, C, D, m };
}

describe('patched ONNX head', () => {
  it('ShapeWorld classifier (Gemm 128 -> 10): features unchanged bit for bit, logits = features · Wᵀ + b', async () => {
    const { check } = await roundTrip(join(REPO, 'native-models', 'shapeworld', 'models', 'classifier'), 4);
    expect(check.unchanged.map((u) => u.name)).toContain('/Flatten_output_0');
    expect(check.unchanged.every((u) => u.maxAbsDiff === 0)).toBe(true);
    expect(check.logitsMaxAbsDiff).toBeLessThan(1e-4);
    expect(check.ok).toBe(true);
  });

  for (const [name, file] of [['timm resnet', 'timm/test_resnet'], ['timm vit', 'timm/test_vit'], ['timm convnext', 'timm/test_convnext'], ['timm efficientnet', 'timm/test_efficientnet'], ['tiny transB=0', 'tiny_transb0'], ['tiny MatMul+Add', 'tiny_matmul']] as const) {
    it(`${name}: packaged, patched, checked`, async () => {
      const dir = join(tmp.path, file.replace('/', '_'));
      await createClassifierPackage({ onnxPath: join(MODELS, `${file}.onnx`), outDir: dir, preset: 'imagenet' });
      const { check } = await roundTrip(dir, 2);
      expect(check.unchanged.length).toBeGreaterThan(0);
      expect(check.ok).toBe(true);
      expect(check.logitsMaxAbsDiff).toBeLessThan(1e-4);
    });
  }

  it('keeps a float_data initialiser as float_data', async () => {
    const { bytes } = buildPoolGemmModel(4);
    const model = onnx.ModelProto.decode(bytes);
    const W = model.graph!.initializer![0] as TensorProto;
    W.floatData = Array.from(new Float32Array(W.rawData.buffer.slice(W.rawData.byteOffset, W.rawData.byteOffset + W.rawData.byteLength)));
    Reflect.deleteProperty(W, 'rawData'); // an empty raw_data would still be present on the wire
    model.graph!.output!.push({ name: 'pooled', type: { tensorType: { elemType: 1, shape: { dim: [{ dimParam: 'N' }, { dimValue: 3 }] } } } });
    const src = join(tmp.path, 'float-data.onnx');
    writeFileSync(src, onnx.ModelProto.encode(model).finish());
    const head = { weight: 'W', bias: 'b', weight_layout: 'out_in' as const, num_classes: 4, feature_dim: 3 };
    const w = Float32Array.from({ length: 12 }, (_, i) => i / 10);
    const b = Float32Array.from([1, 2, 3, 4]);
    const out = join(tmp.path, 'float-data-patched.onnx');
    await writePatchedOnnx(src, head, w, b, out);
    const patched = (await readOnnxModel(out)).model;
    const pw = patched.graph!.initializer!.find((t) => t.name === 'W') as TensorProto;
    const pb = patched.graph!.initializer!.find((t) => t.name === 'b') as TensorProto;
    expect(pw.rawData.length).toBe(0);
    expect(pw.floatData.map((v) => Math.round(v * 10))).toEqual([...Array(12).keys()]);
    expect(pb.rawData.length).toBe(16);
    const check = await checkPatchedOnnx({ original: src, patched: out, inputName: 'image', inputShape: [2, 3, 8, 8], input: Float32Array.from({ length: 384 }, (_, i) => Math.cos(i)), logits: 'logits', features: 'pooled', headNode: 'fc', weight: w, bias: b });
    expect(check.ok).toBe(true);
    expect(check.unchanged).toEqual([{ name: 'pooled', maxAbsDiff: 0 }]);
  });

  it('refuses bad patches with clear messages', () => {
    const { bytes } = buildPoolGemmModel(4);
    const head = { weight: 'W', bias: 'b', weight_layout: 'out_in' as const, num_classes: 4, feature_dim: 3 };
    expect(() => patchHeadBytes(bytes, head, new Float32Array(11), new Float32Array(4))).toThrow(/new weight has 11 values, the head needs 4 x 3/);
    expect(() => patchHeadBytes(bytes, { ...head, weight: 'nope' }, new Float32Array(12), new Float32Array(4))).toThrow(/initialiser "nope" not found/);
    expect(() => patchHeadBytes(bytes, { ...head, bias: null }, new Float32Array(12), new Float32Array([0, 1, 0, 0]))).toThrow(/has no bias initialiser/);
    expect(() => patchHeadBytes(bytes, head, new Float32Array(12).fill(NaN), new Float32Array(4))).toThrow(HeadPatchError);
  });
});

describe('head files', () => {
  const classes = ['star', 'heart', 'house'];
  const weight = Float32Array.from({ length: 3 * 5 }, (_, i) => Math.sin(i) * 1.5);
  const bias = Float32Array.from([0.25, -1, 3.5]);

  it('safetensors: header layout, read back exactly, readable by an independent reader', async () => {
    const file = join(tmp.path, 'head.safetensors');
    await writeHeadSafetensors(file, { weight, bias, classes }, { model_sha256: 'abc' });
    const buf = readFileSync(file);
    const n = Number(buf.readBigUInt64LE(0));
    expect((8 + n) % 8).toBe(0);
    const header = JSON.parse(buf.subarray(8, 8 + n).toString());
    expect(header.weight).toEqual({ dtype: 'F32', shape: [3, 5], data_offsets: [0, 60] });
    expect(header.bias).toEqual({ dtype: 'F32', shape: [3], data_offsets: [60, 72] });
    expect(buf.length).toBe(8 + n + 72);
    const back = readHeadSafetensors(file);
    expect([...back.weight]).toEqual([...weight]);
    expect([...back.bias!]).toEqual([...bias]);
    expect(back.classes).toEqual(classes);
    expect(decodeSafetensors(buf).metadata.model_sha256).toBe('abc');
    expect(() => decodeSafetensors(buf.subarray(0, buf.length - 4))).toThrow(/offsets/);

    const py = '/usr/bin/python3';
    const hasNumpy = existsSync(py) && spawnSync(py, ['-c', 'import numpy'], { encoding: 'utf8' }).status === 0;
    if (!hasNumpy) return;
    const r = spawnSync(py, [join(REPO, 'test', 'fixtures', 'head', 'read_safetensors.py'), file], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const got = JSON.parse(r.stdout);
    expect(got.tensors.weight.shape).toEqual([3, 5]);
    expect(got.tensors.weight.sum).toBeCloseTo([...weight].reduce((s, v) => s + v, 0), 5);
    expect(got.tensors.bias.first).toEqual([0.25, -1, 3.5]);
    expect(JSON.parse(got.metadata.classes)).toEqual(classes);
  });

  it('JSON: weights, bias and class order round trip', async () => {
    const file = join(tmp.path, 'head.json');
    await writeHeadJson(file, { weight, bias, classes }, { lambda: 0.5 });
    const j = JSON.parse(readFileSync(file, 'utf8'));
    expect(j.classes).toEqual(classes);
    expect(j.weight.length).toBe(3);
    expect(j.weight[1].length).toBe(5);
    expect(j.lambda).toBe(0.5);
    const back = headFromJson(j);
    expect([...back.weight]).toEqual([...weight]);
    expect(headToJson({ weight, bias: null, classes }).bias).toBeNull();
    expect(encodeHeadSafetensors({ weight, bias: null, classes }).length).toBeGreaterThan(60);
  });
});

// Classifier stack on real ONNX graphs exported by torch 1.13 (test/fixtures/models/make_models.py)
// and one built in-process with the ONNX protobuf classes.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ClassifierInspectError,
  LabelsError,
  applyLinearHead,
  createClassifierPackage,
  inspectClassifierOnnx,
  openClassifier,
  parseLabels,
  readClassifierHead,
  softmaxRows,
  topK,
} from '../../../native-models/classifier/index.ts';
import { loadModelPackage } from '../../../native-models/manifest/index.ts';
import { OnnxFormatError, onnx, readOnnxModel, summarizeGraph } from '../../../native-models/onnx/index.ts';
import { decodeToTensor } from '../../../native-models/preprocess/index.ts';
import { IMAGES, MODELS, buildPoolGemmModel, fixedInput, maxAbsDiff, withTempDir } from './helpers.ts';

interface ModelRef {
  batch: number;
  output: number[][];
  logits: number[][];
  features: number[][];
}
const REF = JSON.parse(await readFile(join(MODELS, 'reference.json'), 'utf8')) as { models: Record<string, ModelRef> };

describe('inspectClassifierOnnx', () => {
  it('torchvision-style Flatten + Linear: Gemm, transB=1 (out_in)', async () => {
    const r = await inspectClassifierOnnx(join(MODELS, 'tiny_gemm.onnx'));
    expect(r).toMatchObject({
      input: { name: 'image', shape: ['batch', 3, 32, 32], dtype: 'float32' },
      fixedBatch: null,
      imageSize: [32, 32],
      logits: 'logits',
      logitsAre: 'logits',
      features: '/trunk/Flatten_output_0',
      head: { kind: 'gemm', weight: 'fc.weight', bias: 'fc.bias', weight_layout: 'out_in', num_classes: 5, feature_dim: 8 },
      addOutputs: ['/trunk/Flatten_output_0'],
    });
  });

  it('Linear on a 3-D tensor: MatMul + Add (bias first operand), weight in_out', async () => {
    const r = await inspectClassifierOnnx(join(MODELS, 'tiny_matmul.onnx'));
    expect(r.head).toMatchObject({ kind: 'matmul_add', bias: 'fc.bias', weight_layout: 'in_out', num_classes: 5, feature_dim: 8 });
    expect(r.features).toBe('/Unsqueeze_output_0');
    expect(r.logits).toBe('logits');
  });

  it('a graph ending in Softmax exposes the pre-softmax Gemm output as logits', async () => {
    const r = await inspectClassifierOnnx(join(MODELS, 'tiny_softmax.onnx'));
    expect(r.graphOutput).toBe('logits');
    expect(r.logits).toBe('/fc/Gemm_output_0');
    expect(r.logitsAre).toBe('logits');
    expect(r.addOutputs).toEqual(['/trunk/Flatten_output_0', '/fc/Gemm_output_0']);
    expect(r.notes.join(' ')).toMatch(/Softmax/);
  });

  it('batch fixed to 1 and initialisers listed as inputs: accepted, recorded', async () => {
    const r = await inspectClassifierOnnx(join(MODELS, 'tiny_fixed_batch.onnx'));
    expect(r.fixedBatch).toBe(1);
    expect(r.input.shape).toEqual([1, 3, 32, 32]);
    expect(r.notes.join(' ')).toMatch(/fixed to 1/);
  });

  it('Gemm with transB=0 and a [1, C] bias (hand-built graph): in_out', async () => {
    const r = await inspectClassifierOnnx(join(MODELS, 'tiny_transb0.onnx'));
    expect(r.head).toMatchObject({ kind: 'gemm', weight: 'head.w', bias: 'head.b', weight_layout: 'in_out', num_classes: 5, feature_dim: 8, node: 'head' });
    expect(r.features).toBe('pooled');
  });

  it.each([
    ['tiny_two_inputs.onnx', ClassifierInspectError, /a classifier must have exactly one image input; found 2: "a" float32\[batch, 3, 32, 32\], "b"/],
    ['tiny_no_head.onnx', ClassifierInspectError, /no final linear layer .* the output comes from GlobalAveragePool/],
    ['not_onnx.onnx', OnnxFormatError, /not an ONNX model/],
  ] as const)('refuses %s with a reason naming the file', async (name, cls, re) => {
    const file = join(MODELS, name);
    const err = await inspectClassifierOnnx(file).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(cls);
    expect((err as Error).message.startsWith(`${file}: `)).toBe(true);
    expect((err as Error).message).toMatch(re);
  });

  it('refuses a non-RGB input and a head whose weight is not an initialiser', async () => {
    await withTempDir(async (dir) => {
      const { bytes } = buildPoolGemmModel(4);
      const m = onnx.ModelProto.decode(bytes);
      m.graph!.input![0].type!.tensorType!.shape!.dim![1] = { dimValue: 1 };
      await writeFile(join(dir, 'gray.onnx'), onnx.ModelProto.encode(m).finish());
      await expect(inspectClassifierOnnx(join(dir, 'gray.onnx'))).rejects.toThrow(/has 1 channels/);
      // the weight produced by a Constant node instead of stored as an initialiser
      const m2 = onnx.ModelProto.decode(bytes);
      const w = m2.graph!.initializer!.find((t) => t.name === 'W')!;
      m2.graph!.initializer = m2.graph!.initializer!.filter((t) => t.name !== 'W');
      m2.graph!.node!.unshift({ opType: 'Constant', output: ['W'], name: 'w_const', attribute: [{ name: 'value', type: 4, t: w }] });
      await writeFile(join(dir, 'w_const.onnx'), onnx.ModelProto.encode(m2).finish());
      await expect(inspectClassifierOnnx(join(dir, 'w_const.onnx'))).rejects.toThrow(/no final linear layer .*Gemm fc: its weight B \("W"\) is not an initialiser/);
    });
  });
});

describe('classifier packages reproduce torch', () => {
  const cases = ['tiny_gemm.onnx', 'tiny_matmul.onnx', 'tiny_softmax.onnx', 'tiny_fixed_batch.onnx', 'tiny_transb0.onnx'];
  it.each(cases)('%s: logits and features equal torch; features x head = logits', async (name) => {
    await withTempDir(async (dir) => {
      const out = join(dir, 'pkg');
      const created = await createClassifierPackage({ onnxPath: join(MODELS, name), outDir: out, preset: 'none' });
      expect(created.labelsFrom).toBe('generic');
      expect(created.manifest.labels.map((l) => l.name)).toEqual(['class 0', 'class 1', 'class 2', 'class 3', 'class 4']);
      expect(created.manifest.preprocess.crop).toEqual([32, 32]);
      const ref = REF.models[name];
      const clf = await openClassifier(out, { provider: 'cpu', intraOpThreads: 1 });
      try {
        expect(clf.provider).toBe('cpu');
        expect(clf.maxBatch).toBe(name === 'tiny_fixed_batch.onnx' ? 1 : null);
        const n = ref.batch;
        const { logits, features } = await clf.run(fixedInput(n), n);
        expect(logits.length).toBe(n * 5);
        expect(features.length).toBe(n * 8);
        expect(maxAbsDiff(logits, ref.logits.flat())).toBeLessThan(1e-5);
        expect(maxAbsDiff(features, ref.features.flat())).toBeLessThan(1e-5);
        if (name === 'tiny_softmax.onnx') {
          // the original graph output was probabilities; the package reads the logits before it
          expect(maxAbsDiff(softmaxRows(logits, n, 5), ref.output.flat())).toBeLessThan(1e-6);
          expect(maxAbsDiff(logits, ref.output.flat())).toBeGreaterThan(0.1);
        }
        const head = await readClassifierHead(out);
        const m = head.manifest.head;
        const recon = applyLinearHead(features, n, head.weight, head.bias, m.weight_layout, m.num_classes, m.feature_dim);
        expect(maxAbsDiff(recon, logits)).toBeLessThan(1e-5);
        // and the split is not trivially satisfied: the other layout gives different numbers
        const other = applyLinearHead(features, n, head.weight, head.bias, m.weight_layout === 'out_in' ? 'in_out' : 'out_in', m.num_classes, m.feature_dim);
        expect(maxAbsDiff(other, logits)).toBeGreaterThan(1e-3);
      } finally {
        await clf.close();
      }
    });
  });

  it('a fixed batch of 1 runs any n (one image per call) and a dynamic batch gives the same rows', async () => {
    await withTempDir(async (dir) => {
      await createClassifierPackage({ onnxPath: join(MODELS, 'tiny_fixed_batch.onnx'), outDir: join(dir, 'fixed'), preset: 'none' });
      const clf = await openClassifier(join(dir, 'fixed'), { provider: 'cpu' });
      const x = fixedInput(3);
      const all = await clf.run(x, 3);
      for (let i = 0; i < 3; i++) {
        const one = await clf.run(x.slice(i * 3072, (i + 1) * 3072), 1);
        expect(maxAbsDiff(all.logits.subarray(i * 5, (i + 1) * 5), one.logits)).toBe(0);
      }
      expect((await clf.run(x, 0)).logits.length).toBe(0);
      await expect(clf.run(x, 4)).rejects.toThrow(RangeError);
      await clf.close();
      await expect(clf.run(x, 1)).rejects.toThrow(/closed/);
    });
  });

  it('the package model keeps the original outputs and only adds what it needs', async () => {
    await withTempDir(async (dir) => {
      const out = join(dir, 'pkg');
      await createClassifierPackage({ onnxPath: join(MODELS, 'tiny_softmax.onnx'), outDir: out, preset: 'none', name: 'soft' });
      const pkg = await loadModelPackage(out);
      expect(pkg.manifest.name).toBe('soft');
      expect(pkg.graph.outputs.map((o) => o.name)).toEqual(['logits', '/trunk/Flatten_output_0', '/fc/Gemm_output_0']);
      const original = summarizeGraph((await readOnnxModel(join(MODELS, 'tiny_softmax.onnx'))).model);
      expect(pkg.graph.nodes.length).toBe(original.nodes.length);
      expect([...pkg.graph.initializers.keys()]).toEqual([...original.initializers.keys()]);
    });
  });
});

describe('external data (models over 2 GB)', () => {
  it('links the external weight files into the package; ORT and readClassifierHead find them', async () => {
    await withTempDir(async (dir) => {
      const { bytes, weight, bias } = buildPoolGemmModel(6);
      const m = onnx.ModelProto.decode(bytes);
      const w = m.graph!.initializer!.find((t) => t.name === 'W')!;
      await mkdir(join(dir, 'src', 'data'), { recursive: true });
      await writeFile(join(dir, 'src', 'data', 'w.bin'), Buffer.concat([Buffer.alloc(16), Buffer.from(weight.buffer)]));
      w.rawData = new Uint8Array(0);
      w.dataLocation = 1;
      w.externalData = [{ key: 'location', value: 'data/w.bin' }, { key: 'offset', value: '16' }, { key: 'length', value: String(weight.byteLength) }];
      await writeFile(join(dir, 'src', 'model.onnx'), onnx.ModelProto.encode(m).finish());
      await createClassifierPackage({ onnxPath: join(dir, 'src', 'model.onnx'), outDir: join(dir, 'pkg'), preset: 'none' });
      const head = await readClassifierHead(join(dir, 'pkg'));
      expect(Array.from(head.weight)).toEqual(Array.from(weight));
      const clf = await openClassifier(join(dir, 'pkg'), { provider: 'cpu' });
      const x = new Float32Array(3 * 64).fill(0.5);
      const { logits } = await clf.run(x, 1);
      expect(maxAbsDiff(logits, applyLinearHead(new Float32Array([0.5, 0.5, 0.5]), 1, weight, bias, 'out_in', 6, 3))).toBeLessThan(1e-6);
      await clf.close();
    });
  });
});

describe('labels', () => {
  it('parses names, "wnid name" lines, bare ImageNet wnids and JSON arrays', () => {
    expect(parseLabels('cat\ndog\n\n', 'l.txt')).toEqual([{ name: 'cat' }, { name: 'dog' }]);
    expect(parseLabels('n01440764 tench, Tinca tinca\r\nn01443537 goldfish\r\n', 'l.txt')).toEqual([
      { wnid: 'n01440764', name: 'tench, Tinca tinca' },
      { wnid: 'n01443537', name: 'goldfish' },
    ]);
    expect(parseLabels('n01440764\nn01443537\n', 'w.txt')).toEqual([
      { wnid: 'n01440764', name: 'tench' },
      { wnid: 'n01443537', name: 'goldfish' },
    ]);
    expect(parseLabels('["a", "b c"]', 'l.json')).toEqual([{ name: 'a' }, { name: 'b c' }]);
    expect(() => parseLabels('a\n\nb\n', 'gap.txt')).toThrow(/gap\.txt: line 2 is empty/);
    expect(() => parseLabels('[1, 2]', 'n.json')).toThrow(/n\.json: entry 0 is not a class name/);
  });

  it('--labels FILE is used, and a count that differs from the head is refused', async () => {
    await withTempDir(async (dir) => {
      const labels = join(dir, 'labels.txt');
      await writeFile(labels, 'n00000001 zero\nn00000002 one\ntwo\nthree\nfour\n');
      const made = await createClassifierPackage({ onnxPath: join(MODELS, 'tiny_gemm.onnx'), outDir: join(dir, 'ok'), preset: 'none', labelsPath: labels });
      expect(made.labelsFrom).toBe('file');
      expect(made.manifest.labels[0]).toEqual({ wnid: 'n00000001', name: 'zero' });
      expect(made.manifest.labels[4]).toEqual({ name: 'four' });
      await writeFile(labels, 'a\nb\nc\n');
      const err = await createClassifierPackage({ onnxPath: join(MODELS, 'tiny_gemm.onnx'), outDir: join(dir, 'bad'), preset: 'none', labelsPath: labels }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(LabelsError);
      expect((err as Error).message).toBe(`${labels}: has 3 classes, but the model's head (/fc/Gemm) has 5`);
    });
  });

  it('a 1000-class model with preset imagenet gets the ImageNet labels and preprocessing', async () => {
    await withTempDir(async (dir) => {
      const { bytes, weight, bias } = buildPoolGemmModel(1000, { H: 224, W: 224 });
      await writeFile(join(dir, 'in1k.onnx'), bytes);
      const made = await createClassifierPackage({ onnxPath: join(dir, 'in1k.onnx'), outDir: join(dir, 'pkg'), preset: 'imagenet' });
      expect(made.labelsFrom).toBe('imagenet');
      expect(made.manifest.labels).toHaveLength(1000);
      expect(made.manifest.labels[0]).toEqual({ name: 'tench', wnid: 'n01440764' });
      expect(made.manifest.labels[999]).toEqual({ name: 'toilet paper', wnid: 'n15075141' });
      expect(made.manifest.preprocess).toMatchObject({ resize_shorter: 256, crop: [224, 224], interpolation: 'bilinear' });
      // end to end: a real photo through preprocess and the model; logits = channel means x W + b
      const clf = await openClassifier(join(dir, 'pkg'), { provider: 'cpu' });
      const x = await decodeToTensor(join(IMAGES, 'ort-examples_goldfish.jpg'), clf.manifest.preprocess);
      const { logits, features } = await clf.run(x, 1);
      const means = [0, 1, 2].map((c) => x.subarray(c * 50176, (c + 1) * 50176).reduce((a, b) => a + b, 0) / 50176);
      expect(maxAbsDiff(features, means)).toBeLessThan(1e-4);
      expect(maxAbsDiff(logits, applyLinearHead(new Float32Array(means), 1, weight, bias, 'out_in', 1000, 3))).toBeLessThan(1e-4);
      await clf.close();
      // other presets / counts: generic names
      const made2 = await createClassifierPackage({ onnxPath: join(dir, 'in1k.onnx'), outDir: join(dir, 'pkg2'), preset: 'none' });
      expect(made2.labelsFrom).toBe('generic');
      expect(made2.manifest.labels[999]).toEqual({ name: 'class 999' });
    });
  });
});

describe('softmaxRows and topK', () => {
  it('softmax rows sum to 1 and are stable for large logits', () => {
    const p = softmaxRows(new Float32Array([1000, 1001, 1002, 0, 0, 0]), 2, 3);
    expect(Array.from(p.subarray(3))).toEqual([1 / 3, 1 / 3, 1 / 3].map(Math.fround));
    expect(p[2]).toBeCloseTo(Math.exp(2) / (1 + Math.exp(1) + Math.exp(2)), 6);
    expect(p.subarray(0, 3).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
    expect(() => softmaxRows(new Float32Array(5), 2, 3)).toThrow(RangeError);
  });
  it('topK: largest first, ties by lower index, NaN last, k clipped', () => {
    const row = new Float32Array([0.1, 0.5, Number.NaN, 0.5, 0.2]);
    expect(topK(row, 3)).toEqual([
      { index: 1, prob: 0.5 },
      { index: 3, prob: 0.5 },
      { index: 4, prob: Math.fround(0.2) },
    ]);
    expect(topK(row, 10).map((r) => r.index)).toEqual([1, 3, 4, 0, 2]);
    expect(topK(row, 0)).toEqual([]);
  });
});

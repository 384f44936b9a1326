// The core slice end to end on the real ShapeWorld classifier: features of rendered scenes from the
// frozen backbone, the head retrained (L-BFGS, λ-weighted extra rows), exported as a new package,
// and the patched package reproducing the accuracy computed from the features and the new head.
import { afterAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { openClassifier } from '../../../native-models/classifier/index.ts';
import { renderRaw, sceneAt } from '../../../native-models/shapeworld/index.ts';
import { decodeSafetensors, exportPatchedHead, headAccuracy, readHeadInit, trainHead, type FeatureSet } from '../../../native-models/head/index.ts';
import { readFileSync, existsSync } from 'node:fs';
import { REPO } from '../native-models/helpers.ts';
import { tempDir } from '../../helpers/temp-dir.ts';

const PKG = join(REPO, 'native-models', 'shapeworld', 'models', 'classifier');
const tmp = tempDir();
afterAll(() => tmp.remove());

async function images(split: 'train' | 'val' | 'test', from: number, n: number): Promise<{ x: Float32Array; labels: Int32Array }> {
  const S = 64;
  const x = new Float32Array(n * 3 * S * S);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const scene = sceneAt(7, split, from + i);
    labels[i] = scene.classIndex;
    const raw = await renderRaw(scene, S);
    for (let p = 0; p < S * S; p++) for (let c = 0; c < 3; c++) x[i * 3 * S * S + c * S * S + p] = (raw[p * 3 + c] / 255 - 0.5) / 0.5;
  }
  return { x, labels };
}

describe('head retraining on ShapeWorld features', () => {
  it('trains, exports a package that loads, and the package reproduces the evaluated accuracy', async () => {
    const { init, manifest } = await readHeadInit(PKG);
    const C = manifest.head.num_classes;
    const D = manifest.head.feature_dim;
    const clf = await openClassifier(PKG, { provider: 'cpu' });
    const feats = async (split: 'train' | 'val' | 'test', from: number, n: number): Promise<FeatureSet & { x: Float32Array; logits: Float32Array }> => {
      const { x, labels } = await images(split, from, n);
      const out = await clf.run(x, n);
      return { features: out.features, labels, x, logits: out.logits };
    };
    // the train split must hold every class: take enough scenes
    const train = await feats('train', 0, 120);
    const extra = await feats('val', 0, 30);
    const test = await feats('test', 0, 60);
    await clf.close();
    const before = headAccuracy(init.weight, init.bias, C, D, test);
    const trained = await trainHead({ numClasses: C, featureDim: D, train, extra, init, classNames: manifest.labels.map((l) => l.name) }, { optimizer: 'lbfgs', lambda: 0.5, maxIterations: 50 });
    expect(trained.loss).toBeLessThanOrEqual(trained.lossBefore);
    const after = headAccuracy(trained.weight, trained.bias, C, D, test);

    const out = join(tmp.path, 'patched');
    const exported = await exportPatchedHead({ packageDir: PKG, weight: trained.weight, bias: trained.bias, outDir: out, provenance: { lambda: 0.5, optimizer: 'lbfgs' } });
    expect(exported.check.ok).toBe(true);
    expect(existsSync(exported.safetensors) && existsSync(exported.json)).toBe(true);
    const st = decodeSafetensors(readFileSync(exported.safetensors));
    expect(st.tensors.weight.shape).toEqual([C, D]);
    expect(st.metadata.lambda).toBe('0.5');

    // the exported package runs on the test images: its top-1 accuracy is the one computed above,
    // and the unpatched package still gives the old one
    const patched = await openClassifier(out, { provider: 'cpu' });
    const r = await patched.run(test.x, test.labels.length);
    await patched.close();
    const argmaxAcc = (logits: Float32Array) => {
      let right = 0;
      for (let i = 0; i < test.labels.length; i++) {
        let best = 0;
        for (let c = 1; c < C; c++) if (logits[i * C + c] > logits[i * C + best]) best = c;
        if (best === test.labels[i]) right++;
      }
      return right / test.labels.length;
    };
    expect(argmaxAcc(r.logits)).toBeCloseTo(after, 10);
    expect(argmaxAcc(test.logits)).toBeCloseTo(before, 10);
    expect([...r.features]).toEqual([...test.features]);
  });

  it('refuses to export a head that does not fit the package', async () => {
    await expect(exportPatchedHead({ packageDir: PKG, weight: new Float32Array(5), bias: new Float32Array(10), outDir: join(tmp.path, 'bad') })).rejects.toThrow(/the head needs 10 x 128/);
    expect(existsSync(join(tmp.path, 'bad', 'model.onnx'))).toBe(false);
  });
});

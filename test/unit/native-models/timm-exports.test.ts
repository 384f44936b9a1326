// timm exports load as they are: the head (Gemm, or MatMul + Add) is found without naming nodes,
// the pretrained config becomes the manifest's preprocessing, and timm's logits are reproduced.
import { afterAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createClassifierPackage, openClassifier, readClassifierHead } from '../../../native-models/classifier/index.ts';
import { readPreprocessFile } from '../../../native-models/preprocess/index.ts';
import { tempDir } from '../../helpers/temp-dir.ts';

const dir = fileURLToPath(new URL('../../fixtures/models/timm/', import.meta.url));
const reference = JSON.parse(readFileSync(join(dir, 'reference.json'), 'utf8')) as Record<string, { input_size: number[]; logits: number[][] }>;
const tmp = tempDir();
afterAll(() => tmp.remove());

describe.each(Object.keys(reference))('timm %s export', (name) => {
  it('packages with its pretrained config and reproduces timm logits and the head split', async () => {
    const preprocess = readPreprocessFile(join(dir, `${name}.config.json`));
    const out = join(tmp.path, name);
    const created = await createClassifierPackage({ onnxPath: join(dir, `${name}.onnx`), outDir: out, preset: 'imagenet', preprocess });
    expect(created.manifest.head.num_classes).toBe(1000);
    expect(created.labelsFrom).toBe('imagenet');
    expect(created.manifest.preprocess.crop).toEqual([160, 160]);
    const clf = await openClassifier(out, { provider: 'cpu' });
    const [c, h, w] = reference[name].input_size;
    const n = 2;
    const x = new Float32Array(n * c * h * w).map((_, i) => Math.sin(0.37 * i));
    const { logits, features } = await clf.run(x, n);
    const want = reference[name].logits.flat();
    let maxErr = 0;
    for (let i = 0; i < want.length; i++) maxErr = Math.max(maxErr, Math.abs(logits[i] - want[i]));
    expect(maxErr).toBeLessThan(1e-3);
    const { weight, bias, manifest } = await readClassifierHead(out);
    const D = manifest.head.feature_dim;
    const outIn = manifest.head.weight_layout === 'out_in';
    for (const k of [0, 499, 999]) {
      let acc = bias ? bias[k] : 0;
      for (let d = 0; d < D; d++) acc += features[d] * (outIn ? weight[k * D + d] : weight[d * 1000 + k]);
      expect(acc).toBeCloseTo(logits[k], 3);
    }
    await clf.close();
  });
});

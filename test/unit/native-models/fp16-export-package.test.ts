// A half-precision export (float16 input, weights and outputs, as torch's model.half() exports) as a
// classifier package: found, run with float32 in and out at the boundary, checked against torch's
// float32 reference outputs for the same network, and its head patched and exported in float16.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createClassifierPackage, openClassifier, readClassifierHead } from '../../../native-models/classifier/index.ts';
import { exportPatchedHead } from '../../../native-models/head/package-export.ts';
import { float16BitsToFloat32, float32ToFloat16Bits } from '../../../native-models/diffusion/float16.ts';
import { readOnnxModel, summarizeGraph } from '../../../native-models/onnx/index.ts';
import { MODELS, fixedInput, withTempDir } from './helpers.ts';

function relError(a: ArrayLike<number>, ref: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < ref.length; i++) {
    num += (a[i]! - ref[i]!) ** 2;
    den += ref[i]! ** 2;
  }
  return Math.sqrt(num / den);
}

describe('half-precision classifier exports', () => {
  it('package, run against the float32 torch reference, patch and export the float16 head', async () => {
    await withTempDir(async (dir) => {
      const pkg = join(dir, 'pkg');
      const { manifest } = await createClassifierPackage({ onnxPath: join(MODELS, 'tiny_gemm_fp16io.onnx'), outDir: pkg, preset: 'imagenet' });
      expect(manifest.input.dtype).toBe('float16');
      // the features output added from inside the graph is declared float16, as computed
      const g = summarizeGraph((await readOnnxModel(join(pkg, 'model.onnx'))).model);
      expect(g.outputs.find((o) => o.name === manifest.outputs.features)?.dtype).toBe('float16');

      const ref = JSON.parse(await readFile(join(MODELS, 'reference.json'), 'utf8')).models['tiny_gemm.onnx'] as { batch: number; logits: number[][]; features: number[][] };
      const n = ref.batch;
      const c = await openClassifier(pkg, { provider: 'cpu' });
      let out;
      try {
        out = await c.run(fixedInput(n), n);
      } finally {
        await c.close();
      }
      expect(out.logits).toBeInstanceOf(Float32Array);
      const eLogits = relError(out.logits, ref.logits.flat());
      const eFeatures = relError(out.features, ref.features.flat());
      console.log(`half-precision tiny_gemm vs torch float32: logits ${eLogits.toExponential(2)}, features ${eFeatures.toExponential(2)} relative error`);
      expect(eLogits).toBeGreaterThan(0);
      expect(eLogits).toBeLessThan(5e-3);
      expect(eFeatures).toBeLessThan(5e-3);

      const head = await readClassifierHead(pkg);
      const C = manifest.head.num_classes;
      const D = manifest.head.feature_dim;
      const weight = Float32Array.from({ length: C * D }, (_, i) => Math.cos(i * 0.11) * 0.3);
      const bias = Float32Array.from({ length: C }, (_, i) => 0.01 * i);
      expect(head.weight).toHaveLength(C * D);
      const exported = await exportPatchedHead({ packageDir: pkg, outDir: join(dir, 'patched'), weight, bias });
      expect(exported.check.ok).toBe(true);
      const patched = await readClassifierHead(exported.dir);
      // stored in float16: the new values rounded to nearest, ties to even
      expect(Array.from(patched.weight)).toEqual(Array.from(weight, (v) => float16BitsToFloat32(float32ToFloat16Bits(v))));
      const pm = summarizeGraph((await readOnnxModel(join(exported.dir, 'model.onnx'))).model);
      expect(pm.initializers.get(manifest.head.weight)?.dtype).toBe('float16');
    });
  });
});

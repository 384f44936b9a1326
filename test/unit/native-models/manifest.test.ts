import { copyFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createClassifierPackage } from '../../../native-models/classifier/index.ts';
import { ClassifierManifestSchema, ModelPackageError, loadModelPackage, parseManifest, sha256File, type ClassifierManifest } from '../../../native-models/manifest/index.ts';
import { MODELS, withTempDir } from './helpers.ts';

/** A valid package in dir/pkg, plus a helper to rewrite its manifest. */
async function makePackage(dir: string, model = 'tiny_gemm.onnx') {
  const pkg = join(dir, 'pkg');
  const { manifest } = await createClassifierPackage({ onnxPath: join(MODELS, model), outDir: pkg, preset: 'imagenet' });
  const manifestPath = join(pkg, 'manifest.json');
  const edit = async (fn: (m: ClassifierManifest) => unknown) => {
    const m = structuredClone(manifest);
    const r = fn(m);
    await writeFile(manifestPath, JSON.stringify(r ?? m));
  };
  return { pkg, manifest, manifestPath, onnxPath: join(pkg, 'model.onnx'), edit };
}

async function loadError(dir: string): Promise<ModelPackageError> {
  const err = await loadModelPackage(dir).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(ModelPackageError);
  return err as ModelPackageError;
}

describe('loadModelPackage', () => {
  it('loads a valid classifier package', async () => {
    await withTempDir(async (dir) => {
      const { pkg, manifest, onnxPath } = await makePackage(dir);
      const loaded = await loadModelPackage(pkg);
      expect(loaded.manifest).toEqual(manifest);
      expect(loaded.onnxPath).toBe(onnxPath);
      if (loaded.manifest.kind !== 'classifier') throw new Error(`expected a classifier package, got ${loaded.manifest.kind}`);
      expect(loaded.manifest.onnx_sha256).toBe(await sha256File(onnxPath));
      expect(manifest).toMatchObject({
        format_version: 1,
        kind: 'classifier',
        name: 'tiny_gemm',
        onnx: 'model.onnx',
        input: { name: 'image', shape: ['batch', 3, 32, 32], dtype: 'float32' },
        outputs: { logits: 'logits', features: '/trunk/Flatten_output_0', logits_are: 'logits' },
        head: { kind: 'gemm', weight: 'fc.weight', bias: 'fc.bias', weight_layout: 'out_in', num_classes: 5, feature_dim: 8 },
        preprocess: { resize_shorter: 36, crop: [32, 32], interpolation: 'bilinear', channel_order: 'RGB', layout: 'NCHW' },
        preset: 'imagenet',
      });
    });
  });

  it('missing folder, missing manifest, invalid JSON', async () => {
    await withTempDir(async (dir) => {
      let e = await loadError(join(dir, 'nope'));
      expect(e.message).toBe(`${join(dir, 'nope', 'manifest.json')}: the package folder ${join(dir, 'nope')} does not exist`);
      await mkdir(join(dir, 'empty'));
      e = await loadError(join(dir, 'empty'));
      expect(e.file).toBe(join(dir, 'empty', 'manifest.json'));
      expect(e.message).toMatch(/missing: a model package folder must contain manifest\.json/);
      await writeFile(join(dir, 'empty', 'manifest.json'), '{ "kind": "classifier", ');
      e = await loadError(join(dir, 'empty'));
      expect(e.message).toMatch(/manifest\.json: not valid JSON/);
    });
  });

  it('unknown kind and schema violations name the field', async () => {
    await withTempDir(async (dir) => {
      const { pkg, edit, manifestPath } = await makePackage(dir);
      await edit((m) => ({ ...m, kind: 'diffusion' }));
      expect((await loadError(pkg)).message).toBe(`${manifestPath}: kind "diffusion" is not a supported package kind (expected one of: classifier, clip)`);
      await edit((m) => {
        m.labels = m.labels.slice(1);
      });
      expect((await loadError(pkg)).message).toMatch(/invalid classifier manifest: labels: has 4 entries, expected head\.num_classes = 5/);
      await edit((m) => {
        (m.input as { dtype: string }).dtype = 'float64';
      });
      expect((await loadError(pkg)).message).toMatch(/input\.dtype: /);
      await edit((m) => {
        m.input.dtype = 'float16'; // valid, but not what the graph takes
      });
      expect((await loadError(pkg)).message).toMatch(/expected input "image" to be float16 \(manifest input\.dtype\), found float32/);
      await edit((m) => {
        m.onnx = '../elsewhere.onnx';
      });
      expect((await loadError(pkg)).message).toMatch(/onnx: must be a file name relative to the package folder/);
      await edit((m) => {
        m.preprocess.crop = [64, 64];
        m.preprocess.resize_shorter = 73;
      });
      expect((await loadError(pkg)).message).toMatch(/preprocess\.crop: is \[64, 64\] but the input is 32x32/);
    });
  });

  it('missing ONNX file, changed ONNX file, not an ONNX file', async () => {
    await withTempDir(async (dir) => {
      const { pkg, onnxPath, manifest, edit } = await makePackage(dir);
      await rm(onnxPath);
      let e = await loadError(pkg);
      expect(e.file).toBe(onnxPath);
      expect(e.message).toMatch(/missing: manifest\.json names onnx "model\.onnx" but there is no such file/);
      await copyFile(join(MODELS, 'tiny_matmul.onnx'), onnxPath);
      e = await loadError(pkg);
      expect(e.message).toMatch(new RegExp(`sha256 is [0-9a-f]{64}, expected ${manifest.onnx_sha256} \\(manifest onnx_sha256\\)`));
      await copyFile(join(MODELS, 'not_onnx.onnx'), onnxPath);
      await edit((m) => {
        m.onnx_sha256 = 'a'.repeat(64);
      });
      const err = (await loadModelPackage(pkg, { verifyHash: false }).catch((x: unknown) => x)) as ModelPackageError;
      expect(err).toBeInstanceOf(ModelPackageError);
      expect(err.message).toMatch(new RegExp(`^${onnxPath.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: not an ONNX model`));
    });
  });

  it('input, outputs and head must exist in the graph: expected vs found', async () => {
    await withTempDir(async (dir) => {
      const { pkg, edit, onnxPath } = await makePackage(dir);
      await edit((m) => {
        m.input.name = 'pixels';
      });
      let e = await loadError(pkg);
      expect(e.file).toBe(onnxPath);
      expect(e.message).toBe(`${onnxPath}: expected graph input "pixels" (manifest input.name), found inputs: "image" float32[batch, 3, 32, 32]`);
      await edit((m) => {
        m.input.shape = [null, 3, 32, 31];
        m.preprocess.crop = [32, 31];
      });
      e = await loadError(pkg);
      expect(e.message).toMatch(/expected input "image" of shape \[\?, 3, 32, 31\] \(manifest\), found \[batch, 3, 32, 32\] \(dim 3 differs\)/);
      await edit((m) => {
        m.outputs.features = 'feats';
      });
      e = await loadError(pkg);
      expect(e.message).toMatch(/expected graph output "feats" \(manifest outputs\.features\), found outputs: "logits" float32\[batch, 5\], "\/trunk\/Flatten_output_0" float32\[batch, 8\]/);
      await edit((m) => {
        m.head.weight_layout = 'in_out';
      });
      e = await loadError(pkg);
      expect(e.message).toMatch(/expected head weight "fc\.weight" of shape \[8, 5\] \(in_out\), found \[5, 8\]/);
      await edit((m) => {
        m.head.bias = 'fc.bogus';
      });
      e = await loadError(pkg);
      expect(e.message).toMatch(/expected initialiser "fc\.bogus" \(manifest head\.bias\), not found/);
    });
  });

  it('a fixed batch in the graph must be fixed in the manifest too', async () => {
    await withTempDir(async (dir) => {
      const { pkg, manifest, edit } = await makePackage(dir, 'tiny_fixed_batch.onnx');
      expect(manifest.input.shape).toEqual([1, 3, 32, 32]);
      await edit((m) => {
        m.input.shape[0] = null;
      });
      expect((await loadError(pkg)).message).toMatch(/found \[1, 3, 32, 32\] \(dim 0 differs\)/);
    });
  });

  it('schema: the discriminated union parses classifier manifests', async () => {
    await withTempDir(async (dir) => {
      const { manifestPath } = await makePackage(dir);
      const json = JSON.parse(await readFile(manifestPath, 'utf8'));
      expect(parseManifest(json, manifestPath)).toEqual(ClassifierManifestSchema.parse(json));
      expect(() => parseManifest([], manifestPath)).toThrow(/expected a JSON object/);
    });
  });
});

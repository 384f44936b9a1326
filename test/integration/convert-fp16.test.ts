// `factorlab convert-fp16` on the ShapeWorld classifier and CLIP packages: the fp16 package loads as
// any package, is about half the size, and gives the float32 package's predictions; the classifier's
// head stays float32 (so it patches exactly as before); bad requests are refused and write nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateSplit } from '../../native-models/shapeworld/index.ts';
import { openClassifier, readClassifierHead } from '../../native-models/classifier/index.ts';
import { openClip } from '../../native-models/clip/index.ts';
import { loadModelPackage } from '../../native-models/manifest/load.ts';
import { decodeToTensor } from '../../native-models/preprocess/decode.ts';
import { convertPackageToFloat16, CONVERSION_REPORT_FILE } from '../../native-models/convert/convert-package.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { factorlab } from '../helpers/cli.ts';

const MODELS = new URL('../../native-models/shapeworld/models', import.meta.url).pathname;
const CLASSIFIER = join(MODELS, 'classifier');
const CLIP = join(MODELS, 'clip');
const tmp = tempDir();
const images = join(tmp.path, 'images');
let files: string[] = [];

beforeAll(async () => {
  await generateSplit({ outDir: images, split: 'test', count: 40, seed: 11 });
  files = readdirSync(images, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.png')).map((f) => join(images, f)).sort();
});
afterAll(() => tmp.remove());

function argmax(x: Float32Array, rows: number): number[] {
  const c = x.length / rows;
  return Array.from({ length: rows }, (_, r) => {
    let b = 0;
    for (let j = 1; j < c; j++) if (x[r * c + j]! > x[r * c + b]!) b = j;
    return b;
  });
}

describe('factorlab convert-fp16', { timeout: 120_000 }, () => {
  it('converts the classifier package: half the size, same predictions, head kept float32', async () => {
    const out = join(tmp.path, 'classifier-fp16');
    const r = factorlab(['convert-fp16', '--model', CLASSIFIER, '--out', out, '--images', images, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as { out: string; checkImages: number; top1Changes: number; checkedOn: string; files: { graph: { fp16Nodes: number; keptFp32: Record<string, number> }; outputs: { relError: number }[] }[] };
    expect(report.out).toBe(out);
    expect(report.checkImages).toBe(16);
    expect(report.checkedOn).toBe(`16 images from ${images}`);
    expect(report.top1Changes).toBe(0);
    expect(report.files[0]!.graph.keptFp32).toEqual({ 'reads fc.weight, kept in float32': 1 });
    expect(report.files[0]!.graph.fp16Nodes).toBeGreaterThan(5);
    expect(existsSync(join(out, CONVERSION_REPORT_FILE))).toBe(true);

    const pkg = await loadModelPackage(out); // hashes checked
    expect(pkg.manifest.name).toMatch(/\(fp16\)$/);
    const ratio = statSync(join(out, 'model.onnx')).size / statSync(join(CLASSIFIER, 'model.onnx')).size;
    expect(ratio).toBeGreaterThan(0.45);
    expect(ratio).toBeLessThan(0.6);

    const a = await openClassifier(CLASSIFIER, { provider: 'cpu' });
    const b = await openClassifier(out, { provider: 'cpu' });
    try {
      const x = new Float32Array(files.length * a.inputSize);
      for (let i = 0; i < files.length; i++) await decodeToTensor(files[i]!, a.manifest.preprocess, x, i * a.inputSize);
      const [ra, rb] = [await a.run(x, files.length), await b.run(x, files.length)];
      expect(argmax(rb.logits, files.length)).toEqual(argmax(ra.logits, files.length));
      let num = 0;
      let den = 0;
      ra.logits.forEach((v, i) => { num += (v - rb.logits[i]!) ** 2; den += v * v; });
      const rel = Math.sqrt(num / den);
      console.log(`fp16 vs float32 classifier logits on ${files.length} ShapeWorld images: relative error ${rel.toExponential(2)}`);
      expect(rel).toBeGreaterThan(0); // the body really runs in fp16
      expect(rel).toBeLessThan(5e-3);
    } finally {
      await a.close();
      await b.close();
    }
    const [ha, hb] = [await readClassifierHead(CLASSIFIER), await readClassifierHead(out)];
    expect(Array.from(hb.weight)).toEqual(Array.from(ha.weight));
    expect(Array.from(hb.bias!)).toEqual(Array.from(ha.bias!));
  });

  it('converts the CLIP package (text encoder with a subgraph): embeddings agree with float32', async () => {
    const out = join(tmp.path, 'clip-fp16');
    const broken = join(tmp.path, 'broken.png');
    writeFileSync(broken, 'not a png');
    const report = await convertPackageToFloat16(CLIP, out, { images: [...files.slice(0, 3), broken] });
    expect(report.kind).toBe('clip');
    expect(report.checkImages).toBe(3);
    expect(report.checkedOn).toMatch(/skipped 1 unreadable: broken\.png/);
    expect(report.files.map((f) => f.role)).toEqual(['image_encoder', 'text_encoder']);
    expect(report.files[1]!.graph.keptFp32).toEqual({ 'has a subgraph': 1 });
    const a = await openClip(CLIP, { provider: 'cpu' });
    const b = await openClip(out, { provider: 'cpu' });
    try {
      const prompts = ['a photo of a star on grass', 'a photo of a red car', 'a photo of a tree in the snow'];
      const [ta, tb] = [await a.encodeTexts(prompts), await b.encodeTexts(prompts)];
      const x = new Float32Array(files.length * a.inputSize);
      for (let i = 0; i < files.length; i++) await decodeToTensor(files[i]!, a.manifest.preprocess, x, i * a.inputSize);
      const [ia, ib] = [await a.encodeImages(x, files.length), await b.encodeImages(x, files.length)];
      const cos = (p: Float32Array, q: Float32Array, d: number) => {
        let worst = 1;
        for (let r = 0; r < p.length / d; r++) {
          let pq = 0, pp = 0, qq = 0;
          for (let j = 0; j < d; j++) { pq += p[r * d + j]! * q[r * d + j]!; pp += p[r * d + j]! ** 2; qq += q[r * d + j]! ** 2; }
          worst = Math.min(worst, pq / Math.sqrt(pp * qq));
        }
        return worst;
      };
      expect(cos(ta, tb, a.embedDim)).toBeGreaterThan(0.9999);
      expect(cos(ia, ib, a.embedDim)).toBeGreaterThan(0.9999);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('refuses what it cannot do well and leaves nothing behind', async () => {
    const parent = join(tmp.path, 'refused');
    mkdirSync(parent);
    const out = join(parent, 'pkg');
    await expect(convertPackageToFloat16(CLASSIFIER, out, { images: files, maxRelError: 1e-9 })).rejects.toThrow(/model\.onnx: output "logits" differs from float32 by .* %.*limit 0\.00 %\): not converted/);
    expect(readdirSync(parent)).toEqual([]); // no package, no staging folder
    await expect(convertPackageToFloat16(CLASSIFIER, CLASSIFIER)).rejects.toThrow(/must differ from the package folder/);
    writeFileSync(join(parent, 'keep.txt'), 'x');
    await expect(convertPackageToFloat16(CLASSIFIER, parent)).rejects.toThrow(/not empty/);
    expect(readFileSync(join(parent, 'keep.txt'), 'utf8')).toBe('x');
    const bad = factorlab(['convert-fp16', '--model', join(tmp.path, 'nowhere'), '--out', join(parent, 'x')]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/nowhere/);
    expect(factorlab(['convert-fp16', '--model', CLASSIFIER]).code).toBe(2);
    expect(factorlab(['convert-fp16', '--model', CLASSIFIER, '--out', join(parent, 'y'), '--max-rel-error', '2']).code).toBe(2);
  });
});

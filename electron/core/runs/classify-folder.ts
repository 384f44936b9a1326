import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClassifierPackage, openClassifier, softmaxRows, topK } from '../../../native-models/classifier/index.ts';
import { decodeToTensor } from '../../../native-models/preprocess/index.ts';
import { walkFiles } from '../datasets/walk-files.ts';
import { whyNotAnImageName } from '../datasets/image-files.ts';

export interface ClassifyResult {
  provider: string;
  fallbacks: { provider: string; reason: string }[];
  images: { file: string; top5: { classIdx: number; name: string; prob: number }[]; error?: string }[];
}

/** `factorlab classify`: top-5 for every image under a folder, with a package folder or a bare .onnx. */
export async function classifyFolder(p: {
  model: string;
  images: string;
  preset: 'imagenet' | 'clip' | 'none';
  labels?: string;
  provider: 'auto' | 'cpu' | 'cuda' | 'webgpu';
}): Promise<ClassifyResult> {
  let pkgDir = p.model;
  let temp: string | null = null;
  if (!statSync(p.model).isDirectory()) {
    temp = mkdtempSync(join(tmpdir(), 'factorlab-classify-'));
    pkgDir = join(temp, 'model');
    await createClassifierPackage({ onnxPath: p.model, outDir: pkgDir, preset: p.preset, labelsPath: p.labels });
  }
  try {
    const clf = await openClassifier(pkgDir, { provider: p.provider });
    const m = clf.manifest;
    const [h, w] = m.preprocess.crop;
    const per = 3 * h * w;
    const C = m.head.num_classes;
    const { files, problems } = await walkFiles(p.images);
    const out: ClassifyResult['images'] = problems.map((x) => ({ file: x.rel, top5: [], error: x.reason }));
    const batchSize = clf.maxBatch ?? 16;
    const candidates = files.filter((f) => {
      const why = whyNotAnImageName(f.rel);
      if (why) out.push({ file: f.rel, top5: [], error: why });
      return !why;
    });
    for (let i = 0; i < candidates.length; i += batchSize) {
      const batch = candidates.slice(i, i + batchSize);
      const input = new Float32Array(batch.length * per);
      const errors = await Promise.all(batch.map((f, j) => decodeToTensor(f.abs, m.preprocess, input, j * per).then(() => null, (e: Error) => e.message)));
      const okIdx = batch.map((_, j) => j).filter((j) => errors[j] === null);
      okIdx.forEach((j, k) => k !== j && input.copyWithin(k * per, j * per, (j + 1) * per));
      const n = okIdx.length;
      const logits = n ? (await clf.run(input.subarray(0, n * per), n)).logits : new Float32Array(0);
      const probs = m.outputs.logits_are === 'probabilities' ? logits : softmaxRows(logits, n, C);
      batch.forEach((f, j) => {
        if (errors[j] !== null) out.push({ file: f.rel, top5: [], error: errors[j]! });
      });
      okIdx.forEach((j, k) => {
        const top = topK(probs.subarray(k * C, (k + 1) * C), Math.min(5, C));
        out.push({ file: batch[j].rel, top5: top.map((t) => ({ classIdx: t.index, name: m.labels[t.index]?.name ?? `class ${t.index}`, prob: t.prob })) });
      });
    }
    await clf.close();
    out.sort((a, b) => (a.file < b.file ? -1 : 1));
    return { provider: clf.provider, fallbacks: clf.fallbacks, images: out };
  } finally {
    if (temp) rmSync(temp, { recursive: true, force: true });
  }
}

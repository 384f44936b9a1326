import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClassifierPackage, openClassifier, softmaxRows, topK } from '../../../native-models/classifier/index.ts';
import { decodeBatchCompacted } from '../../../native-models/preprocess/index.ts';
import { listImageFiles } from '../datasets/image-files.ts';

export interface FolderPrediction {
  file: string;
  top5: { classIdx: number; name: string; prob: number }[];
  error?: string;
}

export interface ClassifyResult {
  provider: string;
  fallbacks: { provider: string; reason: string }[];
  images: FolderPrediction[];
}

/** Runs `score` over every image under `dir` in batches: decode failures and non-images are
 * reported per file, the rest get their top-5. Shared by `classify` and `clip zero-shot`. */
export async function predictFolder(
  dir: string,
  spec: Parameters<typeof decodeBatchCompacted>[1],
  score: (input: Float32Array, n: number) => Promise<{ probs: Float32Array; classes: number }>,
  names: (i: number) => string,
): Promise<FolderPrediction[]> {
  const { images, skipped } = await listImageFiles(dir);
  const out: FolderPrediction[] = skipped.map((s) => ({ file: s.file, top5: [], error: s.reason }));
  const B = 32;
  for (let i = 0; i < images.length; i += B) {
    const batch = images.slice(i, i + B);
    const { tensor, ok, errors } = await decodeBatchCompacted(batch.map((f) => f.abs), spec);
    for (const e of errors) out.push({ file: batch[e.index].rel, top5: [], error: e.error.message });
    if (ok.length === 0) continue;
    const { probs, classes: C } = await score(tensor, ok.length);
    ok.forEach((j, k) => {
      const top = topK(probs.subarray(k * C, (k + 1) * C), Math.min(5, C));
      out.push({ file: batch[j].rel, top5: top.map((t) => ({ classIdx: t.index, name: names(t.index), prob: t.prob })) });
    });
  }
  return out.sort((a, b) => (a.file < b.file ? -1 : 1));
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
    try {
      const m = clf.manifest;
      const C = m.head.num_classes;
      const images = await predictFolder(
        p.images,
        m.preprocess,
        async (input, n) => {
          const { logits } = await clf.run(input, n);
          return { probs: m.outputs.logits_are === 'probabilities' ? logits : softmaxRows(logits, n, C), classes: C };
        },
        (i) => m.labels[i]?.name ?? `class ${i}`,
      );
      return { provider: clf.provider, fallbacks: clf.fallbacks, images };
    } finally {
      await clf.close();
    }
  } finally {
    if (temp) rmSync(temp, { recursive: true, force: true });
  }
}

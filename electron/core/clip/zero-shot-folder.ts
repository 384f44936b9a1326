import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openClip, zeroShotClassifier, zeroShot } from '../../../native-models/clip/index.ts';
import { decodeToTensor } from '../../../native-models/preprocess/index.ts';
import { resourcesDir } from '../../../native-models/resources-dir.ts';
import { LabelSpace } from '../datasets/label-space.ts';
import { walkFiles } from '../datasets/walk-files.ts';
import { whyNotAnImageName } from '../datasets/image-files.ts';

/** CLIP's prompt templates: the 80 of its ImageNet notebook, or the recommended 7. */
export function clipTemplates(which: 'recommended' | 'all'): string[] {
  const t = JSON.parse(readFileSync(join(resourcesDir(), 'clip', 'clip_imagenet_templates.json'), 'utf8')) as { templates_80: string[]; selected_7_in_order: string[] };
  return which === 'all' ? t.templates_80 : t.selected_7_in_order;
}

export interface ZeroShotFolderResult {
  provider: string;
  classes: string[];
  templates: string[];
  images: { file: string; top5: { classIdx: number; name: string; prob: number }[]; error?: string }[];
}

/** `factorlab clip zero-shot`: every image under a folder against class names (labels file). */
export async function zeroShotFolder(p: { model: string; images: string; labels: string; templates: string[]; provider: 'auto' | 'cpu' | 'cuda' | 'webgpu' }): Promise<ZeroShotFolderResult> {
  const classes = LabelSpace.fromFile(p.labels).classes.map((c) => c.name);
  const clip = await openClip(p.model, { provider: p.provider });
  try {
    const zs = await zeroShotClassifier(clip, classes, p.templates);
    const spec = clip.manifest.preprocess;
    const per = clip.inputSize;
    const { files, problems } = await walkFiles(p.images);
    const out: ZeroShotFolderResult['images'] = problems.map((x) => ({ file: x.rel, top5: [], error: x.reason }));
    const candidates = files.filter((f) => {
      const why = whyNotAnImageName(f.rel);
      if (why) out.push({ file: f.rel, top5: [], error: why });
      return !why;
    });
    const B = 32;
    for (let i = 0; i < candidates.length; i += B) {
      const batch = candidates.slice(i, i + B);
      const input = new Float32Array(batch.length * per);
      const errors = await Promise.all(batch.map((f, j) => decodeToTensor(f.abs, spec, input, j * per).then(() => null, (e: Error) => e.message)));
      const ok = batch.map((_, j) => j).filter((j) => errors[j] === null);
      ok.forEach((j, k) => k !== j && input.copyWithin(k * per, j * per, (j + 1) * per));
      batch.forEach((f, j) => errors[j] !== null && out.push({ file: f.rel, top5: [], error: errors[j]! }));
      if (ok.length === 0) continue;
      const r = await zeroShot(clip, zs, input.subarray(0, ok.length * per), ok.length);
      const C = classes.length;
      ok.forEach((j, k) => {
        const row = Array.from(r.probs.subarray(k * C, (k + 1) * C), (prob, classIdx) => ({ classIdx, name: classes[classIdx], prob }));
        row.sort((a, b) => b.prob - a.prob);
        out.push({ file: batch[j].rel, top5: row.slice(0, Math.min(5, C)) });
      });
    }
    out.sort((a, b) => (a.file < b.file ? -1 : 1));
    return { provider: clip.provider, classes, templates: p.templates, images: out };
  } finally {
    await clip.close();
  }
}

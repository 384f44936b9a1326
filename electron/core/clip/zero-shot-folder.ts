import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openClip, zeroShotClassifier, zeroShot } from '../../../native-models/clip/index.ts';
import { resourcesDir } from '../../../native-models/resources-dir.ts';
import { LabelSpace } from '../datasets/label-space.ts';
import { predictFolder, type FolderPrediction } from '../runs/classify-folder.ts';

/** CLIP's prompt templates: the 80 of its ImageNet notebook, or the recommended 7. */
export function clipTemplates(which: 'recommended' | 'all'): string[] {
  const t = JSON.parse(readFileSync(join(resourcesDir(), 'clip', 'clip_imagenet_templates.json'), 'utf8')) as { templates_80: string[]; selected_7_in_order: string[] };
  return which === 'all' ? t.templates_80 : t.selected_7_in_order;
}

export interface ZeroShotFolderResult {
  provider: string;
  classes: string[];
  templates: string[];
  images: FolderPrediction[];
}

/** `factorlab clip zero-shot`: every image under a folder against class names (labels file). */
export async function zeroShotFolder(p: { model: string; images: string; labels: string; templates: string[]; provider: 'auto' | 'cpu' | 'cuda' | 'webgpu' }): Promise<ZeroShotFolderResult> {
  const classes = LabelSpace.fromFile(p.labels).classes.map((c) => c.name);
  const clip = await openClip(p.model, { provider: p.provider });
  try {
    const zs = await zeroShotClassifier(clip, classes, p.templates);
    const images = await predictFolder(
      p.images,
      clip.manifest.preprocess,
      async (input, n) => ({ probs: (await zeroShot(clip, zs, input, n)).probs, classes: classes.length }),
      (i) => classes[i],
    );
    return { provider: clip.provider, classes, templates: p.templates, images };
  } finally {
    await clip.close();
  }
}

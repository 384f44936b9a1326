import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { resourcesDir } from './resources-dir.ts';

export interface ClassLabel {
  name: string;
  wnid?: string;
}

let cached: ClassLabel[] | null = null;

/** The 1000 ImageNet-1k classes in class-index order: WordNet id and short human name. */
export function imagenetClasses(): ClassLabel[] {
  if (cached) return cached;
  const dir = join(resourcesDir(), 'imagenet');
  const wnids = readFileSync(join(dir, 'wnids.txt'), 'utf8').split('\n').map((s) => s.trim()).filter(Boolean);
  const names = JSON.parse(readFileSync(join(dir, 'imagenet-simple-labels.json'), 'utf8')) as string[];
  if (wnids.length !== 1000 || names.length !== 1000) throw new Error(`resources/imagenet is damaged: ${wnids.length} wnids, ${names.length} names`);
  cached = wnids.map((wnid, i) => ({ wnid, name: names[i] }));
  return cached;
}

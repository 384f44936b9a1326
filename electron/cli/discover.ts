// `factorlab discover`: option parsing and the text report of the bug-discovery loop.
import { readFileSync } from 'node:fs';
import type { DiscoveryReport } from '../contract.ts';

export const discoverSummary = 'open-ended bug discovery (Wiles et al.): generate images from class names, describe the misclassified ones, cluster the descriptions, confirm each by generating again (Fisher test, Benjamini-Hochberg)';

export const discoverUsage =
  'factorlab discover --model ID|NAME|PACKAGE_DIR|shapeworld --generator SD_ONNX_DIR|shapeworld [--clip PACKAGE_DIR|shapeworld] [--captioner DIR|shapeworld [--describe-with clip|captioner]]\n' +
  '                   [--classes a,b,c | --classes-file FILE] [--n 32] [--m 16] [--steps 20] [--guidance 5] [--seed 0] [--filter-rank 3] [--alpha 0.05]\n' +
  '                   [--max-attributes 3] [--min-members 2] [--max-clusters 8] [--export DIR] [--provider auto|cpu|cuda|webgpu] [--lab DIR] [--json]\n' +
  '  --n: images per class from "a photo of a {class}"; --m: images per hypothesis (cluster description x class) to confirm it.\n' +
  '  --classes: names or indices of the model\'s classes (default: all). --clip defaults to the embedded one for ShapeWorld models.\n' +
  '  --filter-rank R: an image counts only when CLIP ranks the prompted class in its top R (0: all). --export DIR writes the confirmed modes\' images\n' +
  '  (images/, labels.csv, labels.txt, provenance.csv). Every step is stored; the same command resumes or reuses the session.';

/** Class indices from names or indices, as given on the command line or in a file (one per line or comma separated). */
export function parseClasses(spec: string | undefined, file: string | undefined, labels: readonly { name: string }[]): number[] | null {
  if (spec && file) throw new Error('give --classes or --classes-file, not both');
  let items: string[];
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw new Error(`--classes-file ${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found' : (e as Error).message}`);
    }
    items = text.split(/[\n,]/).map((t) => t.trim()).filter(Boolean);
    if (!items.length) throw new Error(`--classes-file ${file} names no class`);
  } else if (spec) {
    items = spec.split(',').map((t) => t.trim()).filter(Boolean);
  } else {
    return null;
  }
  const byName = new Map(labels.map((l, i) => [l.name.toLowerCase(), i]));
  return items.map((item) => {
    const named = byName.get(item.toLowerCase());
    if (named !== undefined) return named;
    if (/^\d+$/.test(item) && Number(item) < labels.length) return Number(item);
    throw new Error(`unknown class ${JSON.stringify(item)}${file ? ` in ${file}` : ''}: the model's classes are ${labels.slice(0, 12).map((l) => l.name).join(', ')}${labels.length > 12 ? ', ...' : ''} (or indices 0-${labels.length - 1})`);
  });
}

const pct = (x: number | null) => (x === null ? '   -  ' : `${(100 * x).toFixed(1).padStart(5)}%`);
const pval = (x: number | null) => (x === null ? '-' : x < 1e-4 ? x.toExponential(1) : x.toFixed(4));

export function discoveryText(r: DiscoveryReport): string {
  const lines = [`discovery session ${r.id}: ${r.modelName}; ${r.settings.n} images per class, ${r.settings.m} per hypothesis, CLIP filter top ${r.settings.filterRank || 'off'}, α ${r.alpha} (Benjamini-Hochberg)`];
  lines.push('base images ("a photo of a {class}"): class, on-class images (off-class), failures, failure rate');
  for (const c of r.classes) lines.push(`  ${c.name.padEnd(16)} ${String(c.images).padStart(4)} (${c.offClass}) ${String(c.failures).padStart(4)}  ${pct(c.failureRate)}`);
  if (r.nothingToConfirm) {
    lines.push('nothing to confirm: no base image was misclassified.');
    return lines.join('\n');
  }
  lines.push(`clusters of the failures' descriptions: ${r.clusters.length}`);
  for (const c of r.clusters) lines.push(`  #${c.idx} "${c.name}": ${c.members} failures (${c.classes.map((k) => `${k.name} ${k.count}`).join(', ')})`);
  lines.push('hypotheses: prompt, failures / on-class images, rate vs class base rate, p, q, status');
  const order = { confirmed: 0, 'not-confirmed': 1, 'too-few-images': 2, pending: 3 } as const;
  for (const h of [...r.hypotheses].sort((a, b) => order[a.status] - order[b.status] || (a.pValue ?? 2) - (b.pValue ?? 2))) {
    const stats = `${h.failures}/${h.images} ${pct(h.failureRate)} vs ${pct(h.baseRate)}`;
    const tail = h.status === 'too-few-images' ? `too few images: ${h.reason}` : h.status === 'pending' ? 'pending' : `p ${pval(h.pValue)} q ${pval(h.qValue)} ${h.status}`;
    lines.push(`  ${h.prompt.padEnd(52)} ${stats}  ${tail}`);
  }
  lines.push(`confirmed failure modes: ${r.confirmed} of ${r.hypotheses.length} hypotheses`);
  if (r.planted) {
    lines.push(`ShapeWorld factors named by a confirmed mode: ${r.planted.found.map((f) => `${f.factor}${f.alone ? '' : ' (only in a combination)'}`).join(', ') || 'none'}`);
    lines.push(`not found: ${r.planted.missed.join(', ')}`);
  }
  return lines.join('\n');
}

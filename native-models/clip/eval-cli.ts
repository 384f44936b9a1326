// Zero-shot accuracy of a clip package on labelled images, measured with the TypeScript pipeline
// (sharp preprocessing from the manifest, onnxruntime-node, the project's tokenizer).
//
//   node native-models/clip/eval-cli.ts --model PKG --labels FILE.jsonl --tasks TASKS.json [--root DIR] [--limit N]
//
// labels: one JSON object a line, {"file": "rel/or/abs.png", "labels": {"<task>": "<class name>"}}
// tasks:  {"<task>": {"classes": [{"name": "night_sky", "text": "under a night sky"}, ...],
//                     "templates": ["a photo of something {}", ...]}}
// Prints {"n", "seconds", "provider", "tasks": {"<task>": {"accuracy", "correct", "n", "templates", "per_class"}}}.
import { readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { parseArgs } from 'node:util';
import { decodeBatch } from '../preprocess/decode.ts';
import { openClip } from './open.ts';
import { zeroShotClassifier, zeroShotFromEmbeddings } from './zero-shot.ts';

interface TaskSpec {
  classes: Array<{ name: string; text: string }>;
  templates: string[];
}

const { values } = parseArgs({
  options: {
    model: { type: 'string' },
    labels: { type: 'string' },
    tasks: { type: 'string' },
    root: { type: 'string' },
    limit: { type: 'string' },
    provider: { type: 'string', default: 'cpu' },
  },
});
if (!values.model || !values.labels || !values.tasks) {
  console.error('usage: eval-cli.ts --model PKG --labels FILE.jsonl --tasks TASKS.json [--root DIR] [--limit N]');
  process.exit(2);
}
const t0 = performance.now();
let rows = readFileSync(values.labels, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as { file: string; labels: Record<string, string> });
if (values.limit) rows = rows.slice(0, Number(values.limit));
const tasks = JSON.parse(readFileSync(values.tasks, 'utf8')) as Record<string, TaskSpec>;
const root = values.root ?? '.';
const clip = await openClip(values.model, { provider: values.provider as 'cpu' });
try {
  const spec = clip.manifest.preprocess;
  const files = rows.map((r) => (isAbsolute(r.file) ? r.file : join(root, r.file)));
  const { tensor, errors } = await decodeBatch(files, spec, undefined, 4);
  if (errors.length) throw new Error(`${errors.length} images failed to decode, first: ${errors[0]!.error.message}`);
  const emb = await clip.encodeImages(tensor, rows.length);
  const out: Record<string, unknown> = {};
  for (const [task, t] of Object.entries(tasks)) {
    const zs = await zeroShotClassifier(clip, t.classes.map((c) => c.text), t.templates);
    const res = zeroShotFromEmbeddings(zs, emb, rows.length);
    const names = t.classes.map((c) => c.name);
    const perClass: Record<string, { correct: number; n: number }> = Object.fromEntries(names.map((nm) => [nm, { correct: 0, n: 0 }]));
    let correct = 0;
    rows.forEach((r, i) => {
      const truth = r.labels[task];
      if (truth === undefined || !(truth in perClass)) throw new Error(`${values.labels}: row ${i} has no known "${task}" label (${JSON.stringify(truth)})`);
      const ok = names[res.predictions[i]!] === truth;
      perClass[truth]!.n++;
      if (ok) {
        perClass[truth]!.correct++;
        correct++;
      }
    });
    out[task] = {
      accuracy: correct / rows.length,
      correct,
      n: rows.length,
      templates: t.templates,
      per_class: Object.fromEntries(Object.entries(perClass).map(([k, v]) => [k, Number((v.correct / Math.max(1, v.n)).toFixed(4))])),
    };
  }
  console.log(JSON.stringify({ n: rows.length, seconds: Number(((performance.now() - t0) / 1000).toFixed(2)), provider: clip.provider, tasks: out }, null, 1));
} finally {
  await clip.close();
}

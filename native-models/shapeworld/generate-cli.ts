/**
 * Generate a ShapeWorld split:
 *   node native-models/shapeworld/generate-cli.ts --out DIR --split train|val|test --count N --seed S
 *        [--size 64] [--usual-bg-rate 0.95|balanced] [--factor-rate 0.04] [--rate pose=0.1 ...]
 *        [--concurrency K] [--quiet]
 * Prints a JSON summary (counts per class and factor, time, images per minute) on stdout.
 */
import { parseArgs } from 'node:util';
import { generateSplit } from './generate.ts';
import { DEFAULT_SETTINGS, mergeSettings, SPLITS } from './scene.ts';
import type { DeepPartialSettings, Split } from './scene.ts';
import { VISUAL_FACTORS } from './world.ts';
import type { VisualFactor } from './world.ts';

function fail(msg: string): never {
  process.stderr.write(`generate-cli: ${msg}\n`);
  process.exit(2);
}

const { values } = parseArgs({
  options: {
    out: { type: 'string' },
    split: { type: 'string', default: 'train' },
    count: { type: 'string' },
    seed: { type: 'string', default: '0' },
    size: { type: 'string' },
    'usual-bg-rate': { type: 'string' },
    'factor-rate': { type: 'string' },
    rate: { type: 'string', multiple: true },
    concurrency: { type: 'string' },
    quiet: { type: 'boolean', default: false },
  },
});

if (!values.out) fail('--out DIR is required');
const split = values.split as Split;
if (!SPLITS.includes(split)) fail(`--split must be one of ${SPLITS.join(', ')}`);
const count = values.count !== undefined ? Number(values.count) : DEFAULT_SETTINGS.counts[split];
if (!Number.isInteger(count) || count < 0) fail('--count must be a non-negative integer');
const seed = /^\d+$/.test(values.seed!) ? Number(values.seed) : values.seed!;

const patch: DeepPartialSettings = { splits: {} };
const sp: { usualBackgroundRate?: number | null; factorRates?: Partial<Record<VisualFactor, number>> } = {};
if (values['usual-bg-rate'] !== undefined) {
  const v = values['usual-bg-rate'];
  sp.usualBackgroundRate = v === 'balanced' ? null : Number(v);
  if (sp.usualBackgroundRate !== null && !(sp.usualBackgroundRate >= 0 && sp.usualBackgroundRate <= 1)) fail('--usual-bg-rate must be in [0, 1] or "balanced"');
}
const fr: Partial<Record<VisualFactor, number>> = {};
if (values['factor-rate'] !== undefined) {
  const v = Number(values['factor-rate']);
  if (!(v >= 0 && v <= 0.5)) fail('--factor-rate must be in [0, 0.5]');
  for (const f of VISUAL_FACTORS) fr[f] = v;
}
for (const kv of values.rate ?? []) {
  const [k, v] = kv.split('=');
  if (!VISUAL_FACTORS.includes(k as VisualFactor)) fail(`--rate: unknown factor ${k}`);
  const x = Number(v);
  if (!(x >= 0 && x <= 1)) fail(`--rate ${k}: must be in [0, 1]`);
  fr[k as VisualFactor] = x;
}
if (Object.keys(fr).length) sp.factorRates = fr;
patch.splits![split] = sp;
const settings = mergeSettings(DEFAULT_SETTINGS, patch);
if (values.size) settings.imageSize = Number(values.size);

let last = 0;
const result = await generateSplit({
  outDir: values.out!,
  split,
  count,
  seed,
  settings,
  concurrency: values.concurrency ? Number(values.concurrency) : undefined,
  onProgress: values.quiet
    ? undefined
    : (done, total) => {
        const now = Date.now();
        if (now - last > 2000 || done === total) {
          last = now;
          process.stderr.write(`${split}: ${done}/${total}\n`);
        }
      },
});
process.stdout.write(JSON.stringify({ ...result, settings: settings.splits[split] }, null, 2) + '\n');

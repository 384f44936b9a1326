// The demo's look ahead at the patch loop: for each class, images generated from the background
// CLIP blamed for its failures ("a photo of a {class} {background}") and from the class name alone
// ("a photo of a {class}"), scored by the classifier under test. If the attribution found real
// failure modes, the classifier is worse on the first set than on the second.
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DiffusionPipeline } from '../../../native-models/diffusion/index.ts';
import { openClassifier, softmaxRows } from '../../../native-models/classifier/index.ts';
import { decodeBatch } from '../../../native-models/preprocess/index.ts';
import type { ProviderRequest } from '../../../native-models/runtime/session.ts';
import { backgroundPrompt } from '../debugging/vocabulary.ts';

export interface GenerationCheckClass {
  className: string;
  background: string;
  /** Classifier accuracy on images generated from "a photo of a {class} {background}". */
  attributedAccuracy: number;
  /** ... and from "a photo of a {class}". */
  plainAccuracy: number;
}

export interface GenerationCheck {
  perPrompt: number;
  steps: number;
  guidance: number;
  seed: number;
  images: number;
  /** Mean classifier accuracy over the classes' attributed / plain images. */
  attributedAccuracy: number;
  plainAccuracy: number;
  classes: GenerationCheckClass[];
  folder: string;
  seconds: number;
}

export interface GenerationCheckInput {
  diffusionDir: string;
  classifierDir: string;
  /** Per class (index = class index of the classifier): its top attributed background, or null. */
  targets: { classIdx: number; className: string; phrase: string }[];
  outDir: string;
  perPrompt: number;
  steps: number;
  guidance: number;
  seed: number;
  provider?: ProviderRequest;
  log: (line: string) => void;
}

export async function runGenerationCheck(p: GenerationCheckInput): Promise<GenerationCheck> {
  const t0 = performance.now();
  const prompts = p.targets.flatMap((t) => [backgroundPrompt(t.className, t.phrase), backgroundPrompt(t.className, '').trim()]);
  const pipe = await DiffusionPipeline.load(p.diffusionDir, { provider: p.provider ?? 'auto' });
  let pngs: Buffer[];
  try {
    p.log(`generating ${prompts.length * p.perPrompt} images (${p.targets.length} classes x {attributed background, class name only} x ${p.perPrompt}) with ${pipe.provider}`);
    const r = await pipe.generate({ prompts, n: p.perPrompt, seed: p.seed, steps: p.steps, guidance: p.guidance });
    pngs = r.images.map((i) => i.png);
  } finally {
    await pipe.release();
  }
  // Written for people to look at (one folder per prompt kind), replaced whole so a crash never leaves a mix.
  const tmp = `${p.outDir}.partial`;
  rmSync(tmp, { recursive: true, force: true });
  p.targets.forEach((t, ti) => {
    for (const [kind, k] of [['attributed', 0], ['plain', 1]] as const) {
      const dir = join(tmp, kind, t.className);
      mkdirSync(dir, { recursive: true });
      for (let j = 0; j < p.perPrompt; j++) writeFileSync(join(dir, `${j}.png`), pngs[(2 * ti + k) * p.perPrompt + j]!);
    }
  });
  rmSync(p.outDir, { recursive: true, force: true });
  renameSync(tmp, p.outDir);

  const clf = await openClassifier(p.classifierDir, { provider: p.provider ?? 'auto' });
  try {
    const m = clf.manifest;
    const C = m.head.num_classes;
    const { tensor, errors } = await decodeBatch(pngs, m.preprocess);
    if (errors.length) throw new Error(`generated image ${errors[0]!.index} did not decode: ${errors[0]!.error.message}`);
    const { logits } = await clf.run(tensor, pngs.length);
    const probs = m.outputs.logits_are === 'probabilities' ? logits : softmaxRows(logits, pngs.length, C);
    const argmax = (i: number): number => {
      let best = 0;
      for (let c = 1; c < C; c++) if (probs[i * C + c]! > probs[i * C + best]!) best = c;
      return best;
    };
    const acc = (promptIndex: number, classIdx: number): number => {
      let ok = 0;
      for (let j = 0; j < p.perPrompt; j++) if (argmax(promptIndex * p.perPrompt + j) === classIdx) ok++;
      return ok / p.perPrompt;
    };
    const classes = p.targets.map((t, ti) => ({
      className: t.className,
      background: t.phrase,
      attributedAccuracy: acc(2 * ti, t.classIdx),
      plainAccuracy: acc(2 * ti + 1, t.classIdx),
    }));
    const mean = (xs: number[]) => (xs.length ? xs.reduce((s, x) => s + x, 0) / xs.length : NaN);
    return {
      perPrompt: p.perPrompt,
      steps: p.steps,
      guidance: p.guidance,
      seed: p.seed,
      images: pngs.length,
      attributedAccuracy: mean(classes.map((c) => c.attributedAccuracy)),
      plainAccuracy: mean(classes.map((c) => c.plainAccuracy)),
      classes,
      folder: p.outDir,
      seconds: (performance.now() - t0) / 1000,
    };
  } finally {
    await clf.close();
  }
}

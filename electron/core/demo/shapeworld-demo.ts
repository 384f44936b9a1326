import { existsSync, renameSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Lab } from '../lab.ts';
import type { AnnotationImportResult, AnnotationSourceInfo, AttributionDetail, ImageNetXReport, RunDetail } from '../../contract.ts';
import { createHandlers } from '../api/handlers.ts';
import { dispatch } from '../api/dispatch.ts';
import { generateSplit } from '../../../native-models/shapeworld/index.ts';
import { shapeworldPackageDir } from '../../../native-models/shapeworld/packages.ts';
import { runGenerationCheck, type GenerationCheck } from './generation-check.ts';

export interface DemoOptions {
  count: number;
  seed: number;
  provider?: 'auto' | 'cpu' | 'cuda' | 'webgpu';
  log: (line: string) => void;
  onJob?: (jobId: number) => Promise<void>;
  /** Images per prompt in the generation check; 0 skips it. */
  generatePerPrompt?: number;
}

export interface DemoReport {
  lab: string;
  datasetId: number;
  modelId: number;
  run: RunDetail;
  reused: boolean;
  /** Accuracy on images whose background is usual for their class vs uncommon (ground truth). */
  accuracyUsualBackground: number | null;
  accuracyUncommonBackground: number | null;
  /** Per-factor error ratios (with Wilson intervals) against the ground-truth annotation source. */
  errorRatios: ImageNetXReport;
  /** The model packages the demo used: classifier, CLIP, text-to-image (SD layout). */
  packages: { classifier: string; clip: string; diffusion: string | null };
  /** CLIP attribution of the run's failures (seed half): per class its top backgrounds. */
  attribution: { id: number; numFailures: number; numSeed: number; numHeldout: number; backgrounds: Record<string, string[]> };
  /** The classifier on generated images: attributed backgrounds vs class name only (null: skipped). */
  generation: GenerationCheck | null;
  seconds: { generate: number; total: number };
}

/** `factorlab demo`: ShapeWorld test images -> import -> the ShapeWorld classifier -> run ->
 * accuracy, failures and per-factor error ratios against the world's ground truth (an annotation
 * source of kind 'ground-truth'). Every step
 * reuses what the lab already stored. */
export async function runShapeWorldDemo(lab: Lab, opts: DemoOptions): Promise<DemoReport> {
  const t0 = performance.now();
  const handlers = createHandlers(lab);
  const call = async (method: string, params: unknown): Promise<any> => {
    const r = await dispatch(handlers, method, params);
    if (!r.ok) throw new Error(r.error.message);
    return r.result;
  };
  const dataDir = join(lab.dir, 'shapeworld', `test-seed${opts.seed}-n${opts.count}`);
  let generateSeconds = 0;
  if (!existsSync(join(dataDir, 'factors.jsonl'))) {
    const tmp = `${dataDir}.partial`;
    rmSync(tmp, { recursive: true, force: true });
    opts.log(`generating ${opts.count} ShapeWorld test images (seed ${opts.seed}) into ${dataDir}`);
    const g = await generateSplit({ outDir: tmp, split: 'test', count: opts.count, seed: opts.seed });
    renameSync(tmp, dataDir);
    generateSeconds = g.ms / 1000;
    opts.log(`  ${Math.round(g.imagesPerMinute)} images/min`);
  }
  const imp = await call('datasets.import', { root: dataDir, name: `shapeworld-test-${opts.count}`, split: 'test' });
  await opts.onJob?.(imp.jobId);
  const impJob = await lab.jobs.wait(imp.jobId);
  if (impJob.status !== 'done') throw new Error(`import ${impJob.status}: ${impJob.error ?? ''}`);
  const datasetId = Number(impJob.resultRef!.split(':')[1]);
  const model = await call('models.add', { onnx: shapeworldPackageDir('classifier') });
  opts.log(`model ${model.name}: ${model.numClasses} classes, features ${model.featureDim}`);
  const started = await call('runs.start', { modelId: model.id, datasetId, provider: opts.provider });
  if (started.jobId !== null) {
    await opts.onJob?.(started.jobId);
    const job = await lab.jobs.wait(started.jobId);
    if (job.status !== 'done') throw new Error(`run ${job.status}: ${job.error ?? job.message ?? ''}`);
  }
  const run = (await call('runs.summary', { runId: started.runId })) as RunDetail;

  // Ground truth: the generator's ImageNet-X records, stored once as a 'ground-truth' annotation
  // source (reused by later runs) and analysed like any annotation source.
  const sourceName = `shapeworld-truth-${basename(dataDir)}`;
  const sources = (await call('annotations.sources', {})) as AnnotationSourceInfo[];
  let source = sources.find((s) => s.name === sourceName);
  if (!source) {
    const imported = (await call('annotations.import', { file: join(dataDir, 'factors.jsonl'), source: sourceName, kind: 'ground-truth', top: false })) as AnnotationImportResult;
    if (imported.errors.length) throw new Error(`ShapeWorld ground truth has bad lines: ${imported.errors.map((e) => `${e.line}: ${e.reason}`).join('; ')}`);
    source = imported.source;
    opts.log(`ground-truth factors stored as annotation source "${source.name}" (${source.numAnnotations} images)`);
  }
  const report = (await call('analysis.errorRatios', { runId: started.runId, sourceId: source.id, errorType: 'class' })) as ImageNetXReport;

  // CLIP attribution (Chegini & Feizi): which uncommon background explains each seed failure.
  const clipDir = shapeworldPackageDir('clip');
  const attr = (await call('attribution.start', { runId: started.runId, clip: clipDir, k: 3, seed: 0 })) as { id: number; jobId: number | null };
  if (attr.jobId !== null) {
    await opts.onJob?.(attr.jobId);
    const job = await lab.jobs.wait(attr.jobId);
    if (job.status !== 'done') throw new Error(`attribution ${job.status}: ${job.error ?? job.message ?? ''}`);
  }
  const detail = (await call('attribution.get', { id: attr.id })) as AttributionDetail;
  const backgrounds: Record<string, string[]> = {};
  for (const c of detail.classes) {
    const top = c.backgrounds.filter((b) => b.top).map((b) => b.phrase);
    if (top.length) backgrounds[c.name] = top;
  }

  let diffusionDir: string | null = null;
  try {
    diffusionDir = shapeworldPackageDir('diffusion');
  } catch {
    opts.log('no ShapeWorld text-to-image package: generation check skipped');
  }
  let generation: GenerationCheck | null = null;
  const perPrompt = opts.generatePerPrompt ?? 8;
  if (diffusionDir && perPrompt > 0) {
    const targets = detail.classes
      .map((c) => ({ classIdx: c.classIdx, className: c.name, phrase: c.backgrounds.find((b) => b.top)?.phrase }))
      .filter((t): t is { classIdx: number; className: string; phrase: string } => t.phrase !== undefined);
    generation = await runGenerationCheck({
      diffusionDir,
      classifierDir: shapeworldPackageDir('classifier'),
      targets,
      outDir: join(lab.dir, 'shapeworld', `generated-check-run${started.runId}`),
      perPrompt,
      steps: 20,
      guidance: 5,
      seed: opts.seed,
      provider: opts.provider,
      log: opts.log,
    });
  }

  const bg = report.factors.find((f) => f.factor === 'background')!;
  const usualN = report.images - bg.count;
  return {
    lab: lab.dir,
    datasetId,
    modelId: model.id,
    run,
    reused: started.reused,
    accuracyUsualBackground: usualN > 0 ? (report.correct - bg.correct) / usualN : null,
    accuracyUncommonBackground: bg.accuracy,
    errorRatios: report,
    packages: { classifier: shapeworldPackageDir('classifier'), clip: clipDir, diffusion: diffusionDir },
    attribution: { id: detail.id, numFailures: detail.numFailures, numSeed: detail.numSeed, numHeldout: detail.numHeldout, backgrounds },
    generation,
    seconds: { generate: generateSeconds, total: (performance.now() - t0) / 1000 },
  };
}

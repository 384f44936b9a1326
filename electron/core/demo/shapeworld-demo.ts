import { existsSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Lab } from '../lab.ts';
import type { RunDetail } from '../../contract.ts';
import { createHandlers } from '../api/handlers.ts';
import { dispatch } from '../api/dispatch.ts';
import { errorRatios, type ErrorRatioReport } from '../analysis/error-ratios.ts';
import { generateSplit } from '../../../native-models/shapeworld/index.ts';
import { shapeworldPackageDir } from '../../../native-models/shapeworld/packages.ts';

export interface DemoOptions {
  count: number;
  seed: number;
  provider?: 'auto' | 'cpu' | 'cuda' | 'webgpu';
  log: (line: string) => void;
  onJob?: (jobId: number) => Promise<void>;
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
  /** Per-factor error ratios against the generator's ground-truth factor labels. */
  errorRatios: ErrorRatioReport;
  seconds: { generate: number; total: number };
}

/** `factorlab demo`: ShapeWorld test images -> import -> the ShapeWorld classifier -> run ->
 * accuracy, failures and per-factor error ratios against the world's ground truth. Every step
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

  // Ground truth: the generator's ImageNet-X records, matched to the run's predictions by file name.
  const truth = new Map<string, Record<string, number>>();
  for (const line of readFileSync(join(dataDir, 'factors.jsonl'), 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const rec = JSON.parse(line) as Record<string, number> & { file_name: string };
    truth.set(rec.file_name, rec);
  }
  const preds = lab.db
    .prepare(`SELECT i.file_name, p.correct FROM predictions p JOIN images i ON i.id = p.image_id WHERE p.run_id = ? AND p.correct IS NOT NULL`)
    .all(started.runId) as { file_name: string; correct: number }[];
  const rows = preds.filter((p) => truth.has(p.file_name)).map((p) => ({ correct: p.correct === 1, factors: truth.get(p.file_name)! }));
  const acc = (xs: typeof rows) => (xs.length ? xs.filter((r) => r.correct).length / xs.length : null);
  return {
    lab: lab.dir,
    datasetId,
    modelId: model.id,
    run,
    reused: started.reused,
    accuracyUsualBackground: acc(rows.filter((r) => r.factors.background === 0)),
    accuracyUncommonBackground: acc(rows.filter((r) => r.factors.background === 1)),
    errorRatios: errorRatios(rows),
    seconds: { generate: generateSeconds, total: (performance.now() - t0) / 1000 },
  };
}

// The whole patch loop as one call, through the same API the UI uses: attribution of the debug
// run's failures -> generation of the individual set (and the random baseline) -> review (the CLIP
// pre-filter, unless the images were reviewed by people) -> head retraining and evaluation.
// Every step is a stored, resumable job; the same call again reuses what is stored.
import type { AttributionDetail, DebugExport, DebugResult, GenerationSetDetail, JobInfo, Method, ParamsIn, Results } from '../../contract.ts';
import type { Lab } from '../lab.ts';
import { createHandlers } from '../api/handlers.ts';
import { dispatch } from '../api/dispatch.ts';
import { BadInputError } from '../errors.ts';

export interface DebugLoopOptions {
  debugRunId: number;
  trainRunId: number;
  testRunId: number;
  clip: string;
  generator: string;
  k: number;
  lambda: number;
  perPrompt: number;
  steps: number;
  guidance: number;
  seed: number;
  /** Also run random debugging (class-name prompts) as the baseline. */
  baseline: boolean;
  /** 'clip': the CLIP pre-filter accepts pending images whose prompted class CLIP ranks in its top `filterRank`;
   * 'none': use the verdicts already given (pending images are not trained on). */
  review: 'clip' | 'none';
  filterRank: number;
  optimizer: 'sgd' | 'lbfgs';
  epochs: number;
  provider?: 'auto' | 'cpu' | 'cuda' | 'webgpu';
  log: (line: string) => void;
  /** Called with each job the loop waits for (the CLI draws its progress). */
  onJob?: (jobId: number) => Promise<void>;
}

export interface DebugLoopResult {
  attribution: AttributionDetail;
  sets: { individual: GenerationSetDetail; random: GenerationSetDetail | null };
  result: DebugResult;
}

/** Calls the API as the UI does; bad input comes back as BadInputError. */
export function apiCaller(lab: Lab) {
  const handlers = createHandlers(lab);
  return async <M extends Method>(method: M, params: ParamsIn<M>): Promise<Results[M]> => {
    const r = await dispatch(handlers, method, params);
    if (!r.ok) throw r.error.code === 'bad_input' || r.error.code === 'invalid_params' ? new BadInputError(r.error.message) : new Error(r.error.message);
    return r.result as Results[M];
  };
}

export async function runDebugLoop(lab: Lab, o: DebugLoopOptions): Promise<DebugLoopResult> {
  const call = apiCaller(lab);
  const waitFor = async (jobId: number | null, what: string): Promise<JobInfo | null> => {
    if (jobId === null) return null;
    await o.onJob?.(jobId);
    const job = await lab.jobs.wait(jobId);
    if (job.status !== 'done') throw new Error(`${what} ${job.status}: ${job.error ?? job.message ?? ''}`);
    return job;
  };

  const attr = await call('attribution.start', { runId: o.debugRunId, clip: o.clip, k: o.k, seed: o.seed });
  await waitFor(attr.jobId, 'attribution');
  const attribution = await call('attribution.get', { id: attr.id });
  if (attribution.nothingToAttribute) throw new BadInputError(`run ${o.debugRunId} has no failures: nothing to debug`);

  const generate = async (kind: 'individual' | 'random'): Promise<GenerationSetDetail> => {
    const started = await call('generation.start', { attributionId: attr.id, kind, generator: o.generator, perPrompt: o.perPrompt, steps: o.steps, guidance: o.guidance, seed: o.seed });
    await waitFor(started.jobId, `generation (${kind})`);
    let set = await call('generation.get', { id: started.id });
    if (o.review === 'clip' && set.pending > 0) {
      const r = await call('generation.autoReview', { setId: set.id, maxRank: o.filterRank });
      o.log(`  ${kind}: CLIP filter (prompted class in CLIP's top ${o.filterRank}) accepted ${r.accepted} of ${r.accepted + r.rejected} images`);
      set = await call('generation.get', { id: started.id });
    }
    return set;
  };
  o.log(`generating ${o.perPrompt} images per top background (k ${o.k}) for ${attribution.classes.filter((c) => c.backgrounds.some((b) => b.top)).length} classes`);
  const individual = await generate('individual');
  const random = o.baseline ? await generate('random') : null;

  const started = await call('debug.start', {
    attributionId: attr.id,
    individualSetId: individual.id,
    randomSetId: random?.id ?? null,
    trainRunId: o.trainRunId,
    testRunId: o.testRunId,
    lambda: o.lambda,
    k: null,
    optimizer: o.optimizer,
    epochs: o.epochs,
    seed: o.seed,
  });
  let resultId = started.id;
  if (started.jobId !== null) {
    const job = await waitFor(started.jobId, 'head retraining');
    resultId = Number(job!.resultRef!.split(':')[1]);
  }
  const result = await call('debug.get', { id: resultId! });
  return { attribution, sets: { individual, random }, result };
}

export interface SweepRow {
  lambda: number;
  k: number | null;
  resultId: number;
  individual: DebugResult['individual'];
  random: DebugResult['random'];
  generated: DebugResult['generated'];
}

/** The paper's Figure 5: the same sets retrained with other λ (all backgrounds) and with each class's
 * top k backgrounds only (λ of the base result). Each point is a stored debug result (reused). */
export async function runSweeps(lab: Lab, base: DebugResult, lambdas: number[], ks: number[], onJob?: (jobId: number) => Promise<void>): Promise<{ lambda: SweepRow[]; k: SweepRow[] }> {
  const call = apiCaller(lab);
  const point = async (lambda: number, k: number | null): Promise<SweepRow> => {
    const s = await call('debug.start', { ...base.settings, lambda, k });
    let id = s.id;
    if (s.jobId !== null) {
      await onJob?.(s.jobId);
      const job = await lab.jobs.wait(s.jobId);
      if (job.status !== 'done') throw new Error(`head retraining (λ ${lambda}, k ${k ?? 'all'}) ${job.status}: ${job.error ?? job.message ?? ''}`);
      id = Number(job.resultRef!.split(':')[1]);
    }
    const r = await call('debug.get', { id: id! });
    return { lambda, k, resultId: r.id, individual: r.individual, random: r.random, generated: r.generated };
  };
  const lambda: SweepRow[] = [];
  for (const l of lambdas) lambda.push(await point(l, null));
  const k: SweepRow[] = [];
  for (const kk of ks) k.push(await point(base.settings.lambda, kk));
  return { lambda, k };
}

/** debug.export (a job: the patched package, checked on the test images) followed to its end. */
export async function exportResult(lab: Lab, p: ParamsIn<'debug.export'>, onJob?: (jobId: number) => Promise<void>): Promise<DebugExport> {
  const call = apiCaller(lab);
  const { jobId } = await call('debug.export', p);
  await onJob?.(jobId);
  const job = await lab.jobs.wait(jobId);
  if (job.status !== 'done') throw new Error(`export of debug result ${p.id} ${job.status}: ${job.error ?? job.message ?? ''}`);
  return call('debug.exported', { jobId });
}

/** The paper's Table 2 for one result, as text. */
export function table2Text(r: DebugResult): string[] {
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`.padStart(7);
  const gain = (x: number) => `${x >= 0 ? '+' : ''}${(100 * x).toFixed(1)}`.padStart(6);
  const rows = [
    `                    test     seed  heldout   images`,
    `  before        ${pct(r.before.test)}  ${pct(r.before.seed)}  ${pct(r.before.heldout)}`,
    `  individual    ${pct(r.individual.test)}  ${pct(r.individual.seed)}  ${pct(r.individual.heldout)}  ${String(r.generated.individual).padStart(7)}`,
  ];
  if (r.random) rows.push(`  random        ${pct(r.random.test)}  ${pct(r.random.seed)}  ${pct(r.random.heldout)}  ${String(r.generated.random).padStart(7)}`);
  rows.push(`  gain: individual ${gain(r.gain.individual.test)} / ${gain(r.gain.individual.seed)} / ${gain(r.gain.individual.heldout)} points (test / seed / heldout)`);
  if (r.gain.random) rows.push(`        random     ${gain(r.gain.random.test)} / ${gain(r.gain.random.seed)} / ${gain(r.gain.random.heldout)} points`);
  return rows;
}

/** The sweeps as text: heldout and test accuracy of individual / random debugging per λ and per k. */
export function sweepText(s: { lambda: SweepRow[]; k: SweepRow[] }): string[] {
  const pct = (x: number | undefined) => (x === undefined ? '    n/a' : `${(100 * x).toFixed(1)}%`.padStart(7));
  const row = (label: string, r: SweepRow) => `    ${label.padEnd(8)} ${pct(r.individual.heldout)} ${pct(r.individual.test)}   ${pct(r.random?.heldout)} ${pct(r.random?.test)}  ${String(r.generated.individual).padStart(6)}`;
  const head = '             individual        random          images\n             heldout    test   heldout    test';
  return [
    ...(s.lambda.length ? ['  sweep over λ (all backgrounds):', head, ...s.lambda.map((r) => row(`λ ${r.lambda}`, r))] : []),
    ...(s.k.length ? [`  sweep over k (top backgrounds per class):`, head, ...s.k.map((r) => row(`k ${r.k}`, r))] : []),
  ];
}

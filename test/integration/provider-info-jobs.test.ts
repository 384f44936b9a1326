// lab.info's provider (the status bar) follows every job that opens models, not only classifier
// runs: an attribution job (CLIP) and a generation job (diffusion + classifier + CLIP) record the
// provider they run on and why faster ones were skipped. The classifier run is asked for 'cpu'
// explicitly (no fallbacks); the later jobs use the lab's setting ('auto'; the run's explicit 'cpu'
// does not become the lab's default), so their fallbacks are theirs. A debug job (head retraining)
// runs its head on onnxruntime's CPU provider whatever the request, and says so for each provider
// 'auto' would have tried first.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { Lab } from '../../electron/core/lab.ts';
import { createHandlers, type Handlers } from '../../electron/core/api/handlers.ts';
import { dispatch } from '../../electron/core/api/dispatch.ts';
import type { Method, ParamsIn, Results } from '../../electron/contract.ts';
import { generateSplit } from '../../native-models/shapeworld/index.ts';
import { shapeworldPackageDir } from '../../native-models/shapeworld/packages.ts';
import { providerUnavailable } from '../../native-models/runtime/index.ts';
import { HEAD_ON_CPU, headFallbacks } from '../../electron/core/debugging/patch-head.ts';
import { tempDir } from '../helpers/temp-dir.ts';

let tmp: { path: string; remove(): void };
let lab: Lab;
let h: Handlers;
let runId = 0;
let attributionId = 0;

async function call<M extends Method>(method: M, params: ParamsIn<M>): Promise<Results[M]> {
  const r = await dispatch(h, method, params);
  if (!r.ok) throw new Error(`${r.error.code}: ${r.error.message}`);
  return r.result as Results[M];
}

/** What 'auto' skips on this machine before trying a provider (cuda's library, webgpu's driver). */
const autoSkips = (['cuda', 'webgpu'] as const).flatMap((p) => {
  const reason = providerUnavailable(p, 'auto');
  return reason === null ? [] : [{ provider: p, reason }];
});
const cpuOnly = autoSkips.length === 2;

beforeAll(async () => {
  tmp = tempDir();
  lab = Lab.open(join(tmp.path, 'lab'));
  h = createHandlers(lab);
  const dir = join(tmp.path, 'sw-test');
  await generateSplit({ outDir: dir, split: 'test', count: 120, seed: 5 });
  const imp = await call('datasets.import', { root: dir, name: 'sw-test', split: 'test' });
  const datasetId = Number((await lab.jobs.wait(imp.jobId)).resultRef!.split(':')[1]);
  const modelId = (await call('models.add', { onnx: shapeworldPackageDir('classifier') })).id;
  const run = await call('runs.start', { modelId, datasetId, provider: 'cpu' });
  expect((await lab.jobs.wait(run.jobId!)).status).toBe('done');
  runId = run.runId;
}, 180_000);

afterAll(() => {
  lab.close();
  tmp.remove();
});

describe('lab.info provider after each kind of job', { timeout: 300_000 }, () => {
  it('a classifier run asked for cpu: cpu, no fallbacks', async () => {
    expect((await call('lab.info', {})).provider).toEqual({ requested: 'cpu', active: 'cpu', fallbacks: [] });
  });

  it('attribution and generation jobs record their own provider and fallbacks', async () => {
    lab.provider = { requested: 'auto', active: null, fallbacks: [] };
    const attr = await call('attribution.start', { runId, clip: 'shapeworld', k: 3, seed: 0 });
    expect((await lab.jobs.wait(attr.jobId!)).status).toBe('done');
    attributionId = attr.id;
    const afterAttr = (await call('lab.info', {})).provider;
    expect(afterAttr.active).not.toBeNull();
    if (cpuOnly) expect(afterAttr).toEqual({ requested: 'auto', active: 'cpu', fallbacks: autoSkips });

    lab.provider = { requested: 'auto', active: null, fallbacks: [] };
    const set = await call('generation.start', { attributionId: attr.id, kind: 'random', generator: 'shapeworld', perPrompt: 1, steps: 2, seed: 9 });
    expect((await lab.jobs.wait(set.jobId!)).status).toBe('done');
    const afterGen = (await call('lab.info', {})).provider;
    expect(afterGen.active).not.toBeNull();
    // Three models, each skipping the same providers for the same reasons: each reason once.
    if (cpuOnly) expect(afterGen).toEqual({ requested: 'auto', active: 'cpu', fallbacks: autoSkips });
  });

  it('a debug job records the CPU provider of its head retraining, with why the faster ones were not used', async () => {
    expect(attributionId).toBeGreaterThan(0);
    const set = await call('generation.start', { attributionId, kind: 'individual', generator: 'shapeworld', perPrompt: 1, steps: 2, seed: 3 });
    expect((await lab.jobs.wait(set.jobId!)).status).toBe('done');
    const images = await call('generation.images', { setId: set.id, limit: 5000 });
    expect(images.items.length).toBeGreaterThan(0);
    await call('generation.review', { setId: set.id, imageIds: images.items.map((i) => i.id), verdict: 'accepted', by: 'test' });

    // Something else last (as a GPU job would leave it), so the debug job's own record shows.
    lab.provider = { requested: 'auto', active: 'cuda', fallbacks: [] };
    const dbg = await call('debug.start', { attributionId, individualSetId: set.id, trainRunId: runId, testRunId: runId, epochs: 2 });
    expect(dbg.jobId).not.toBeNull();
    expect((await lab.jobs.wait(dbg.jobId!)).status).toBe('done');
    // The head never runs on a GPU: cpu, and each provider 'auto' puts first is skipped for that reason
    // (the same on every machine: the set's features were stored by its own model, no classifier opened).
    expect((await call('lab.info', {})).provider).toEqual({
      requested: 'auto',
      active: 'cpu',
      fallbacks: [
        { provider: 'cuda', reason: HEAD_ON_CPU },
        { provider: 'webgpu', reason: HEAD_ON_CPU },
      ],
    });
    expect(headFallbacks('cpu')).toEqual([]);
    expect(headFallbacks('cuda')).toEqual([{ provider: 'cuda', reason: HEAD_ON_CPU }]);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { readFileSync, writeFileSync } from 'node:fs';
import { Lab } from '../../electron/core/lab.ts';
import { createHandlers, type Handlers } from '../../electron/core/api/handlers.ts';
import { dispatch } from '../../electron/core/api/dispatch.ts';
import type { Method, ParamsIn, Results } from '../../electron/contract.ts';
import { readClassifierHead } from '../../native-models/classifier/index.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { makeTinyDataset, TINY_MODEL } from '../helpers/tiny-dataset.ts';

let tmp: { path: string; remove(): void };
let lab: Lab;
let h: Handlers;

async function call<M extends Method>(method: M, params: ParamsIn<M>): Promise<Results[M]> {
  const r = await dispatch(h, method, params);
  if (!r.ok) throw new Error(`${r.error.code}: ${r.error.message}`);
  return r.result as Results[M];
}

let datasetId = 0;
let modelId = 0;
let runId = 0;

beforeAll(async () => {
  tmp = tempDir();
  lab = Lab.open(join(tmp.path, 'lab'));
  h = createHandlers(lab);
  const { root, labels } = await makeTinyDataset(tmp.path, 20);
  // A JPEG cut short: its header reads at import, its pixels fail at run time.
  const whole = readFileSync(join(root, 'alpha', '0.jpg'));
  writeFileSync(join(root, 'alpha', 'truncated.jpg'), whole.subarray(0, Math.floor(whole.length * 0.8)));
  const { jobId } = await call('datasets.import', { root });
  const job = await lab.jobs.wait(jobId);
  expect(job.status).toBe('done');
  datasetId = Number(job.resultRef!.split(':')[1]);
  const model = await call('models.add', { onnx: TINY_MODEL, preset: 'none', labels });
  modelId = model.id;
});

afterAll(() => {
  lab.close();
  tmp.remove();
});

describe('run a classifier over a dataset', () => {
  it('stores top-5, true-class probability and features for every image', async () => {
    const started = await call('runs.start', { modelId, datasetId });
    expect(started.reused).toBe(false);
    const job = await lab.jobs.wait(started.jobId!);
    expect(job).toMatchObject({ status: 'done', done: 101, total: 101 });
    runId = started.runId;
    const s = await call('runs.summary', { runId });
    expect(s).toMatchObject({ status: 'done', numImages: 101, numDone: 101, numScored: 100, provider: 'cpu', numErrors: 1 });
    expect(s.errors[0].relPath).toBe(join('alpha', 'truncated.jpg'));
    expect(s.errors[0].reason).toMatch(/truncated|premature|corrupt|end of/i);
    expect(s.modelClasses).toEqual(['alpha', 'bravo', 'charlie', 'delta', 'echo']);
    expect(s.unmappedClasses).toEqual([]);
    expect(s.perClass.map((c) => c.total)).toEqual([20, 20, 20, 20, 20]);
    expect(s.accuracy).toBeCloseTo(s.numCorrect / 100, 12);
    expect(s.confusions.reduce((a, c) => a + c.count, 0)).toBe(100 - s.numCorrect);
    const info = await call('lab.info', {});
    expect(info.provider.active).toBe('cpu');
  });

  it('stores penultimate features that reproduce the stored probabilities through the head', async () => {
    const { weight, bias, manifest } = await readClassifierHead((await call('models.list', {}))[0].dir);
    const C = manifest.head.num_classes;
    const D = manifest.head.feature_dim;
    const batches = lab.db.prepare(`SELECT batch_idx, features_blob, rows FROM run_batches WHERE run_id = ? ORDER BY batch_idx`).all(runId) as { batch_idx: number; features_blob: string; rows: number }[];
    // 101 images in batches of 32; the unreadable one is left out of its batch's feature matrix.
    expect(batches).toHaveLength(4);
    expect(batches.reduce((n, b) => n + b.rows, 0)).toBe(100);
    const b = batches[1];
    const feats = lab.blobs.getFloat32(b.features_blob);
    expect(feats.length).toBe(b.rows * D);
    const pred = lab.db.prepare(`SELECT top5, batch_row FROM predictions WHERE run_id = ? AND batch_idx = 1 AND batch_row = 7`).get(runId) as { top5: string; batch_row: number };
    const f = feats.subarray(7 * D, 8 * D);
    const logits = new Float64Array(C);
    const outIn = manifest.head.weight_layout === 'out_in';
    for (let c = 0; c < C; c++) {
      let acc = bias ? bias[c] : 0;
      for (let d = 0; d < D; d++) acc += f[d] * (outIn ? weight[c * D + d] : weight[d * C + c]);
      logits[c] = acc;
    }
    const max = Math.max(...logits);
    const exps = Array.from(logits, (l) => Math.exp(l - max));
    const sum = exps.reduce((a, x) => a + x, 0);
    const [[top, prob]] = JSON.parse(pred.top5) as [number, number][];
    expect(exps.indexOf(Math.max(...exps))).toBe(top);
    expect(Math.max(...exps) / sum).toBeCloseTo(prob, 4);
  });

  it('reuses the stored run for the same model, dataset and preprocessing', async () => {
    const again = await call('runs.start', { modelId, datasetId });
    expect(again).toEqual({ runId, jobId: null, reused: true });
  });

  it('lists failures with filters and paging, and shows an image with its top-5', async () => {
    const s = await call('runs.summary', { runId });
    const all = await call('runs.failures', { runId, limit: 1000 });
    expect(all.total).toBe(s.numScored - s.numCorrect);
    expect(all.items.every((f) => f.trueClass !== f.predClass)).toBe(true);
    const confs = all.items.map((f) => f.confidence);
    expect([...confs].sort((a, b) => b - a)).toEqual(confs);
    if (all.total > 0) {
      const first = all.items[0];
      const byTrue = await call('runs.failures', { runId, trueClass: first.trueClass, limit: 1000 });
      expect(byTrue.items.every((f) => f.trueClass === first.trueClass)).toBe(true);
      expect(byTrue.total).toBe(all.items.filter((f) => f.trueClass === first.trueClass).length);
      const paged = await call('runs.failures', { runId, offset: 1, limit: 2 });
      expect(paged.items.map((f) => f.imageId)).toEqual(all.items.slice(1, 3).map((f) => f.imageId));
      const lowConf = await call('runs.failures', { runId, maxConfidence: 0.3, limit: 1000 });
      expect(lowConf.items.every((f) => f.confidence <= 0.3)).toBe(true);
      const detail = await call('images.detail', { imageId: first.imageId, runId });
      expect(detail.prediction!.top5).toHaveLength(5);
      expect(detail.prediction!.top5[0].classIdx).toBe(first.predClass);
      expect(detail.prediction!.correct).toBe(false);
    }
  });

  it('rejects invalid params and unknown ids with clear errors', async () => {
    const bad = await dispatch(h, 'runs.failures', { runId: 'x' });
    expect(bad).toMatchObject({ ok: false, error: { code: 'invalid_params' } });
    const missing = await dispatch(h, 'runs.summary', { runId: 9999 });
    expect(missing).toMatchObject({ ok: false, error: { code: 'not_found', message: 'no run with id 9999' } });
    const unknown = await dispatch(h, 'lab.drop', {});
    expect(unknown).toMatchObject({ ok: false, error: { code: 'invalid_params' } });
    const notOnnx = await dispatch(h, 'models.add', { onnx: new URL('../fixtures/models/not_onnx.onnx', import.meta.url).pathname, preset: 'none' });
    expect(notOnnx.ok).toBe(false);
    if (!notOnnx.ok) expect(notOnnx.error.message).toMatch(/not_onnx\.onnx/);
  });
});

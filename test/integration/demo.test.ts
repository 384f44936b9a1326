import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { tempDir } from '../helpers/temp-dir.ts';
import { factorlab } from '../helpers/cli.ts';
import { Lab } from '../../electron/core/lab.ts';
import { createHandlers } from '../../electron/core/api/handlers.ts';
import { dispatch } from '../../electron/core/api/dispatch.ts';
import { readHeadSafetensors } from '../../native-models/head/index.ts';

// One small demo lab (300 test images, 2 images per attributed background, 200 train images) for
// the whole loop: run, attribution, generation, CLIP review, head retraining vs random, export.
const tmp = tempDir();
const lab = join(tmp.path, 'demo');
let out: any;

beforeAll(() => {
  const r = factorlab(['demo', '--lab', lab, '--images', '300', '--generate', '2', '--train', '200', '--json'], { timeoutMs: 290_000 });
  expect(r.code, r.stderr).toBe(0);
  out = JSON.parse(r.stdout);
}, 300_000);

afterAll(() => tmp.remove());

describe('factorlab demo (ShapeWorld)', () => {
  it('runs the classifier and reports per-factor error ratios against the ground truth', () => {
    expect(out.run).toMatchObject({ numImages: 300, numDone: 300, numScored: 300, status: 'done', modelName: 'shapeworld-cnn' });
    expect(out.run.accuracy).toBeCloseTo(out.run.numCorrect / 300, 12);
    expect(out.reused).toBe(false);
    // The world's planted bias: the classifier is right far more often on usual backgrounds.
    expect(out.accuracyUsualBackground).toBeGreaterThan(out.accuracyUncommonBackground + 0.2);
    const background = out.errorRatios.factors.find((f: { factor: string }) => f.factor === 'background');
    expect(background.count).toBeGreaterThan(0);
    expect(background.errorRatio).toBeGreaterThan(1);
    expect(out.errorRatios.factors).toHaveLength(16);
    expect(out.packages.clip).toMatch(/shapeworld[\\/]models[\\/]clip$/);
    expect(out.packages.diffusion).toMatch(/shapeworld[\\/]models[\\/]diffusion$/);
  });

  it('prints the paper\'s Table 2 as JSON: debug set split, backgrounds, generated counts, before / individual / random, export', () => {
    const failures = out.run.numScored - out.run.numCorrect;
    expect(out.debug_set).toBe(failures);
    expect(out.seed + out.heldout).toBe(failures);
    expect(Math.abs(out.seed - out.heldout)).toBeLessThanOrEqual(10);
    expect(out.attribution.numFailures).toBe(failures);
    const classes = Object.keys(out.backgrounds);
    expect(classes.length).toBeGreaterThan(0);
    for (const c of classes) expect(out.backgrounds[c].length).toBe(3);
    // Before: the failures are 0 % by definition; test is the second test split's accuracy.
    expect(out.accuracy_before.seed).toBe(0);
    expect(out.accuracy_before.heldout).toBe(0);
    expect(out.accuracy_before.test).toBeGreaterThan(0.2);
    // 2 images per top background (k 3) of each attributed class, in both sets.
    expect(out.generation.individual.images).toBe(classes.length * 3 * 2);
    expect(out.generation.random.images).toBe(classes.length * 3 * 2);
    expect(out.generated.individual).toBe(out.generation.individual.accepted);
    expect(out.generated.individual).toBeGreaterThan(0);
    expect(out.generated.random).toBeLessThanOrEqual(out.generated.individual);
    for (const part of ['individual', 'random']) for (const k of ['test', 'seed', 'heldout']) expect(out[part][k]).toBeGreaterThanOrEqual(0);
    // Retraining moves failures: some seed failures are right afterwards.
    expect(out.individual.seed).toBeGreaterThan(0);
    for (const f of ['onnx', 'safetensors', 'json', 'report']) expect(existsSync(out.export[f]), f).toBe(true);
    expect(out.debug.export.check.images).toBe(out.debug.result.counts.test);
    expect(Math.abs(out.debug.export.check.accuracy - out.individual.test)).toBeLessThanOrEqual(0.01);
  });

  it('exports a patched ONNX whose logits are the new head on the original features', async () => {
    const head = readHeadSafetensors(out.export.safetensors);
    expect(head.classes).toHaveLength(10);
    const s = await ort.InferenceSession.create(out.export.onnx);
    const x = new Float32Array(3 * 64 * 64).map((_, i) => Math.sin(i * 0.01));
    const r = await s.run({ input: new ort.Tensor('float32', x, [1, 3, 64, 64]) });
    const f = r['/Flatten_output_0']!.data as Float32Array;
    const z = r.logits!.data as Float32Array;
    const D = f.length;
    for (let c = 0; c < 10; c++) {
      let want = head.bias![c]!;
      for (let d = 0; d < D; d++) want += head.weight[c * D + d]! * f[d]!;
      expect(z[c]).toBeCloseTo(want, 3);
    }
    await s.release();
    const html = readFileSync(out.export.report, 'utf8');
    expect(html).toContain('Table 2');
    expect(html).toContain(`${(100 * out.individual.heldout).toFixed(1)} %`);
    expect(html).not.toMatch(/<script/i);
    // Figure 5: λ and k sweeps on the same generated sets, in the report too.
    const sw = out.debug.sweep;
    expect(sw.lambda.map((r: { lambda: number }) => r.lambda)).toEqual([0, 0.25, 0.5, 1, 2, 4]);
    expect(sw.k.map((r: { k: number }) => r.k)).toEqual([1, 2, 3]);
    expect(sw.lambda[2].resultId).toBe(out.debug.result.id);
    // k = 3 keeps every image of the k = 3 attribution: the same training as the main result.
    expect(sw.k[2].individual.heldout).toBeCloseTo(out.individual.heldout, 6);
    expect(sw.k[0].generated.individual).toBeLessThan(sw.k[2].generated.individual);
    expect(html).toContain('Figure 5');
  });

  it('reuses everything the second time; --generate 0 skips the loop', () => {
    const again = JSON.parse(factorlab(['demo', '--lab', lab, '--images', '300', '--generate', '0', '--json']).stdout);
    expect(again.generation).toBeNull();
    expect(again.debug).toBeNull();
    expect(again.attribution.id).toBe(out.attribution.id);
    expect(again.reused).toBe(true);
    expect(again.run.id).toBe(out.run.id);
    expect(again.seconds.generate).toBe(0);
    expect(again.errorRatios.sourceId).toBe(out.errorRatios.sourceId);
    const sources = factorlab(['imagenetx', 'export', '--lab', lab, '--source', out.errorRatios.sourceName, '--out', join(tmp.path, 'truth.jsonl')]);
    expect(sources.code, sources.stderr).toBe(0);
    expect(sources.stdout).toContain('300 annotations written');
  });

  it('factorlab debug reuses the stored sets and retrains with another λ; export-head writes the random head', () => {
    const r = factorlab(['debug', '--lab', lab, '--model', String(out.modelId), '--dataset', String(out.datasetId), '--train', String(out.debug.datasets.train), '--test', String(out.debug.datasets.test), '--clip', 'shapeworld', '--generator', 'shapeworld', '--n-per-background', '2', '--filter-rank', '3', '--lambda', '2', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const d = JSON.parse(r.stdout);
    expect(d.id).not.toBe(out.debug.result.id);
    expect(d.settings.lambda).toBe(2);
    expect(d.sets.individual).toBe(out.generation.individual.setId);
    expect(d.before).toEqual(out.accuracy_before);
    const e = factorlab(['export-head', '--lab', lab, '--result', String(d.id), '--out', join(tmp.path, 'random-head'), '--head', 'random', '--json']);
    expect(e.code, e.stderr).toBe(0);
    expect(JSON.parse(e.stdout).check.evaluated).toBe(d.random.test);
  });

  it('export job: progress per checked batch; cancelled while checking, it leaves no folder behind', async () => {
    const l = Lab.open(lab);
    try {
      const h = createHandlers(l);
      const target = join(tmp.path, 'cancelled-export', 'patched');
      const r = await dispatch(h, 'debug.export', { id: out.debug.result.id, out: target });
      expect(r.ok).toBe(true);
      const jobId = (r as { result: { jobId: number } }).result.jobId;
      const seen: { done: number; total: number; message: string | null }[] = [];
      l.jobs.on('job', (j) => {
        if (j.id !== jobId || j.status !== 'running') return;
        seen.push({ done: j.done, total: j.total, message: j.message });
        // the package is written, its check under way: cancel
        if (j.message?.startsWith('checking') && j.done >= 1) l.jobs.cancel(jobId);
      });
      const job = await l.jobs.wait(jobId);
      expect(job.status).toBe('cancelled');
      expect(seen.some((s) => s.message?.startsWith('checking') && s.total === Math.ceil(out.debug.result.counts.test / 64))).toBe(true);
      expect(existsSync(join(tmp.path, 'cancelled-export'))).toBe(false);
      const e = await dispatch(h, 'debug.exported', { jobId });
      expect(e).toMatchObject({ ok: false, error: { code: 'not_found' } });
    } finally {
      l.close();
    }
  });

  it('export killed mid-check: the target holds no package, only a staging folder the next export removes', async () => {
    const target = join(tmp.path, 'killed-export');
    const script = join(tmp.path, 'kill-mid-export.ts');
    const repo = (p: string) => JSON.stringify(join(process.cwd(), p));
    writeFileSync(
      script,
      `import { Lab } from ${repo('electron/core/lab.ts')};\n` +
        `import { exportDebugResult } from ${repo('electron/core/export/export-debug-result.ts')};\n` +
        `const l = Lab.open(${JSON.stringify(lab)});\n` +
        `await exportDebugResult(l.db, l.blobs, { id: ${out.debug.result.id}, out: ${JSON.stringify(target)}, which: 'individual' }, () => {}, {\n` +
        `  progress: (done, _total, message) => { if (message?.startsWith('checking') && done >= 1) process.kill(process.pid, 'SIGKILL'); },\n` +
        `});\n`,
    );
    const killed = spawnSync(process.execPath, [script], { encoding: 'utf8', timeout: 120_000 });
    expect(killed.signal, killed.stderr).toBe('SIGKILL');
    const left = readdirSync(target);
    expect(left).toHaveLength(1);
    expect(left[0]).toMatch(/^\.factorlab-export-\d+-/);
    expect(readdirSync(join(target, left[0]!))).toContain('model.onnx');
    const again = factorlab(['export-head', '--lab', lab, '--result', String(out.debug.result.id), '--out', target, '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(readdirSync(target).sort()).toEqual(['head.json', 'head.safetensors', 'manifest.json', 'model.onnx', 'report.html']);
    expect(JSON.parse(again.stdout).check.evaluated).toBe(out.debug.result.individual.test);
  });

  it('the patched package is a model like any other: its run on the test split matches the export check; failure IoU with the original', async () => {
    const l = Lab.open(lab);
    try {
      const h = createHandlers(l);
      const ok = async (m: string, p: unknown): Promise<any> => {
        const r = await dispatch(h, m as never, p);
        if (!r.ok) throw new Error(r.error.message);
        return r.result;
      };
      const model = await ok('models.add', { onnx: out.debug.export.dir });
      const testDataset = out.debug.datasets.test;
      const started = await ok('runs.start', { modelId: model.id, datasetId: testDataset, provider: 'cpu' });
      if (started.jobId !== null) expect((await l.jobs.wait(started.jobId)).status).toBe('done');
      const run = await ok('runs.summary', { runId: started.runId });
      expect(run.accuracy).toBeCloseTo(out.debug.export.check.accuracy, 10);
      const iou = await ok('analysis.failureIou', { datasetId: testDataset });
      expect(iou.runs.map((r: { id: number }) => r.id)).toContain(started.runId);
      const a = iou.runs.findIndex((r: { id: number }) => r.id === out.debug.result.settings.testRunId);
      const b = iou.runs.findIndex((r: { id: number }) => r.id === started.runId);
      expect(iou.iou[a][a]).toBe(1);
      // Retraining the head fixed some failures and kept most: overlapping but not identical.
      expect(iou.iou[a][b]).toBeGreaterThan(0.3);
      expect(iou.iou[a][b]).toBeLessThan(1);
      const shared = await ok('analysis.sharedFailures', { runA: iou.runs[a].id, runB: started.runId, limit: 5 });
      expect(shared.total).toBe(iou.intersection[a][b]);
      expect(shared.items).toHaveLength(5);
      for (const s of shared.items) expect(s.predA).not.toBe(s.trueClass);
    } finally {
      l.close();
    }
  });

  it('collective debugging: the original and the patched model as a group, type 1 (pooled failures) and type 2 (one model\'s failures)', { timeout: 300_000 }, () => {
    const common = ['--lab', lab, '--models', `${out.modelId},${out.debug.export.dir}`, '--dataset', String(out.datasetId), '--train', String(out.debug.datasets.train), '--test', String(out.debug.datasets.test), '--clip', 'shapeworld', '--generator', 'shapeworld', '--n-per-background', '2', '--filter-rank', '3', '--json'];
    const t1 = factorlab(['debug-group', ...common, '--type', '1'], { timeoutMs: 240_000 });
    expect(t1.code, t1.stderr).toBe(0);
    const g1 = JSON.parse(t1.stdout);
    expect(g1.type).toBe(1);
    expect(g1.set.pooledWith).toHaveLength(1);
    expect(g1.members).toHaveLength(2);
    for (const m of g1.members) {
      expect(m.before.heldout).toBe(0);
      expect(m.collective.seed).toBeGreaterThanOrEqual(0);
      if (m.individual.heldout > 0) expect(m.shareFixed).toBeCloseTo(m.collective.heldout / m.individual.heldout, 10);
    }
    const t2 = factorlab(['debug-group', ...common, '--type', '2', '--source', '1']);
    expect(t2.code, t2.stderr).toBe(0);
    const g2 = JSON.parse(t2.stdout);
    // Type 2 with the first model as source: its own set debugs everyone; for itself that is individual debugging.
    expect(g2.members[0].collectiveResult).toBe(g2.members[0].individualResult);
    expect(g2.set.id).toBe(out.generation.individual.setId);
    expect(g2.members[1].collectiveResult).not.toBe(g2.members[1].individualResult);
    const bad = factorlab(['debug-group', ...common.slice(0, 4), '--models', String(out.modelId), ...common.slice(4)]);
    expect(bad.code).toBe(2);
  });

  it('refuses bad input with clear messages and stores nothing half-done', async () => {
    const l = Lab.open(lab);
    try {
      const h = createHandlers(l);
      const settings = { ...out.debug.result.settings, epochs: 3 };
      const neg = await dispatch(h, 'debug.start', { ...settings, lambda: -1 });
      expect(neg.ok).toBe(false);
      const swapped = await dispatch(h, 'debug.start', { ...settings, individualSetId: settings.randomSetId });
      expect(!swapped.ok && swapped.error.message).toContain('is a random set');
      // Reject every image of the individual set: nothing to train on.
      const ids = ((await dispatch(h, 'generation.images', { setId: settings.individualSetId, limit: 5000 })) as any).result.items.map((i: { id: number }) => i.id);
      const rej = await dispatch(h, 'generation.review', { setId: settings.individualSetId, imageIds: ids, verdict: 'rejected', by: 'tester' });
      expect(rej.ok && (rej.result as { changed: number }).changed).toBeGreaterThan(0);
      const none = await dispatch(h, 'debug.start', settings);
      expect(!none.ok && none.error.message).toContain('has no accepted images');
      const before = (l.db.prepare(`SELECT COUNT(*) AS n FROM debug_results`).get() as { n: number }).n;
      const undo = await dispatch(h, 'generation.undo', { setId: settings.individualSetId });
      expect(undo.ok && (undo.result as { restored: number }).restored).toBe(rej.ok ? (rej.result as { changed: number }).changed : -1);
      const restored = (await dispatch(h, 'generation.get', { id: settings.individualSetId })) as any;
      expect(restored.result.accepted).toBe(out.generation.individual.accepted);
      expect((l.db.prepare(`SELECT COUNT(*) AS n FROM debug_results`).get() as { n: number }).n).toBe(before);
      const k = await dispatch(h, 'attribution.start', { runId: out.run.id, clip: 'shapeworld', k: 99, seed: 5 });
      expect(!k.ok && k.error.message).toMatch(/k = 99 is larger than the background list/);
    } finally {
      l.close();
    }
  });

  it('refuses a nonsensical image count', () => {
    const r = factorlab(['demo', '--images', '3']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--images');
    const g = factorlab(['demo', '--generate', '-1']);
    expect(g.code).toBe(2);
    expect(g.stderr).toContain('--generate');
  });
});

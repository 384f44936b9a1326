// The discovery loop on the embedded ShapeWorld models, small: 3 classes, a few steps (chosen so that
// α 0.5 confirms modes: the refinement, the export and the patch-loop hand-off take their positive paths). Checks the
// stages end to end, resume after cancel, the report's statistics against the stored rows, the
// export (imported back as a dataset), and bad input.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/temp-dir.ts';
import { factorlab } from '../helpers/cli.ts';
import { Lab } from '../../electron/core/lab.ts';
import { createHandlers } from '../../electron/core/api/handlers.ts';
import { dispatch } from '../../electron/core/api/dispatch.ts';
import { shapeworldPackageDir } from '../../native-models/shapeworld/packages.ts';
import { fisherGreater } from '../../electron/core/discovery/statistics.ts';
import { generateSplit } from '../../native-models/shapeworld/index.ts';
import type { DiscoveryReport, Method, ParamsIn, Results } from '../../electron/contract.ts';

const tmp = tempDir();
const labDir = join(tmp.path, 'lab');
const SETTINGS = { generator: 'shapeworld', clip: 'shapeworld', classes: [6, 7, 8], n: 12, m: 8, steps: 8, seed: 3, alpha: 0.5 };

async function call<M extends Method>(lab: Lab, method: M, params: ParamsIn<M>): Promise<Results[M]> {
  const r = await dispatch(createHandlers(lab), method, params);
  if (!r.ok) throw new Error(`${r.error.code}: ${r.error.message}`);
  return r.result as Results[M];
}

let modelId = 0;
let report: DiscoveryReport;

beforeAll(async () => {
  const lab = Lab.open(labDir);
  try {
    modelId = (await call(lab, 'models.add', { onnx: shapeworldPackageDir('classifier') })).id;
    // Cancel once images are stored, then start again: the same session resumes.
    const started = await call(lab, 'discovery.start', { modelId, ...SETTINGS });
    expect(started.reused).toBe(false);
    const cancelOnce = (job: { id: number; done: number; status: string }) => {
      if (job.id === started.jobId && job.status === 'running' && job.done >= 10) lab.jobs.cancel(job.id);
    };
    lab.jobs.on('job', cancelOnce);
    const first = await lab.jobs.wait(started.jobId!);
    lab.jobs.off('job', cancelOnce);
    expect(first.status).toBe('cancelled');
    const stored = (lab.db.prepare(`SELECT COUNT(*) AS n FROM discovery_images WHERE session_id = ? AND png_blob IS NOT NULL`).get(started.id) as { n: number }).n;
    expect(stored).toBeGreaterThan(0);
    const again = await call(lab, 'discovery.start', { modelId, ...SETTINGS });
    expect(again).toMatchObject({ id: started.id, reused: true });
    const done = await lab.jobs.wait(again.jobId!);
    expect(done.status, done.error ?? '').toBe('done');
    report = await call(lab, 'discovery.get', { id: started.id });
  } finally {
    lab.close();
  }
}, 240_000);

afterAll(() => tmp.remove());

describe('discovery on ShapeWorld', () => {
  it('generates n base images per class and describes every on-class failure', () => {
    expect(report.status).toBe('done');
    expect(report.stage).toBe('done');
    expect(report.baseImages).toEqual({ planned: 36, generated: 36 });
    expect(report.classes.map((c) => c.name)).toEqual(['cup', 'key', 'arrow']);
    for (const c of report.classes) {
      expect(c.generated).toBe(12);
      expect(c.images + c.offClass).toBe(12);
      expect(c.failureRate).toBe(c.images ? c.failures / c.images : null);
    }
    const lab = Lab.open(labDir);
    try {
      const undescribed = lab.db
        .prepare(`SELECT COUNT(*) AS n FROM discovery_images WHERE session_id = ? AND hypothesis_id = 0 AND clip_rank < 3 AND pred_class != class_idx AND description IS NULL`)
        .get(report.id) as { n: number };
      expect(undescribed.n).toBe(0);
    } finally {
      lab.close();
    }
  });

  it('clusters the failures and tests each hypothesis against its class base rate', () => {
    const failures = report.classes.reduce((n, c) => n + c.failures, 0);
    expect(failures).toBeGreaterThan(0); // cup, key, arrow: the classes whose class-name prompts draw uncommon contexts most (train_report.json)
    expect(report.clusters.length).toBeGreaterThan(0);
    expect(report.clusters.reduce((n, c) => n + c.members, 0)).toBe(failures);
    expect(report.hypotheses.length).toBeGreaterThanOrEqual(report.clusters.length);
    expect(report.confirmImages.planned).toBe(report.hypotheses.length * SETTINGS.m);
    for (const h of report.hypotheses) {
      expect(h.generated).toBe(SETTINGS.m);
      expect(h.prompt).toContain(h.className);
      expect(['confirmed', 'not-confirmed', 'too-few-images']).toContain(h.status);
      const base = report.classes.find((c) => c.classIdx === h.classIdx)!;
      expect(h.baseFailures).toBe(base.failures);
      if (h.status === 'too-few-images') {
        expect(h.pValue).toBeNull();
        expect(h.reason).toMatch(/images|p = /);
      } else {
        expect(h.pValue).toBeCloseTo(fisherGreater(h.failures, h.images, h.baseFailures, h.baseImages), 12);
        expect(h.qValue!).toBeGreaterThanOrEqual(h.pValue!);
      }
    }
    expect(report.confirmed).toBe(report.hypotheses.filter((h) => h.status === 'confirmed').length);
    // Refinement: each phrase of a mode of several phrases confirmed at the session's α, tested alone.
    const children = report.hypotheses.filter((h) => h.parentId !== null);
    const multi = report.hypotheses.filter((h) => h.parentId === null && h.status === 'confirmed' && h.clusterName.includes(', '));
    expect(multi.length).toBeGreaterThan(0);
    expect(new Set(children.map((c) => c.parentId))).toEqual(new Set(multi.map((h) => h.id)));
    for (const child of children) {
      const parent = report.hypotheses.find((h) => h.id === child.parentId)!;
      expect(parent.status).toBe('confirmed');
      expect(parent.clusterName.split(', ').length).toBeGreaterThan(1);
      expect(child.classIdx).toBe(parent.classIdx);
      expect(child.factors.length).toBeLessThanOrEqual(1);
    }
    expect(report.planted).not.toBeNull();
  });

  it('a stricter alpha only changes the verdicts, not the stored work', async () => {
    const lab = Lab.open(labDir);
    try {
      const strict = await call(lab, 'discovery.get', { id: report.id, alpha: 1e-9 });
      expect(strict.confirmed).toBe(0);
      expect(strict.hypotheses.map((h) => h.pValue)).toEqual(report.hypotheses.map((h) => (h.status === 'too-few-images' ? null : h.pValue)).map((p, i) => (strict.hypotheses[i]!.status === 'too-few-images' ? null : p)));
      const again = await call(lab, 'discovery.start', { modelId, ...SETTINGS, alpha: 0.2 });
      expect(again).toMatchObject({ id: report.id, reused: true, jobId: null });
    } finally {
      lab.close();
    }
  });

  it('pages the images of a cluster and serves their PNGs', async () => {
    const lab = Lab.open(labDir);
    try {
      const c = report.clusters[0]!;
      const page = await call(lab, 'discovery.images', { sessionId: report.id, clusterId: c.id, limit: 500 });
      expect(page.total).toBe(c.members);
      expect(page.items.every((i) => i.failed && i.onClass && i.description)).toBe(true);
      const { imageForRoute } = await import('../../electron/core/api/image-route.ts');
      const png = await imageForRoute(lab, `disc/${page.items[0]!.id}`);
      expect(png.status).toBe(200);
      expect((png.body as Buffer).subarray(1, 4).toString()).toBe('PNG');
    } finally {
      lab.close();
    }
  });

  it('exports the confirmed modes as a dataset FactorLab imports again', async () => {
    const lab = Lab.open(labDir);
    const out = join(tmp.path, 'adversarial');
    try {
      // alpha 0.5 so that this small run has something to export (the verdicts are the report's).
      const loose = await call(lab, 'discovery.get', { id: report.id, alpha: 0.5 });
      expect(loose.confirmed).toBeGreaterThan(0);
      await expect(call(lab, 'discovery.export', { id: report.id, out, alpha: 1e-9 })).rejects.toThrow(/bad_input: .*confirmed no failure mode/);
      const r = await call(lab, 'discovery.export', { id: report.id, out, alpha: 0.5 });
      const confirmed = loose.hypotheses.filter((h) => h.status === 'confirmed');
      expect(r.hypotheses).toBe(confirmed.length);
      expect(r.images).toBe(confirmed.reduce((n, h) => n + h.images, 0));
      const rows = readFileSync(join(out, 'labels.csv'), 'utf8').trim().split('\n');
      expect(rows[0]).toBe('file,label');
      expect(rows).toHaveLength(r.images + 1);
      expect(readFileSync(join(out, 'provenance.csv'), 'utf8')).toContain(confirmed[0]!.prompt);
      await expect(call(lab, 'discovery.export', { id: report.id, out, alpha: 0.5 })).rejects.toThrow(/already holds/);
    } finally {
      lab.close();
    }
    const imported = factorlab(['import', '--lab', labDir, '--root', join(out, 'images'), '--csv', join(out, 'labels.csv'), '--labels', join(out, 'labels.txt'), '--json']);
    expect(imported.code, imported.stderr).toBe(0);
  });

  it("turns the confirmed modes into the patch loop's individual set (same model's attribution)", async () => {
    const lab = Lab.open(labDir);
    try {
      const loose = await call(lab, 'discovery.get', { id: report.id, alpha: 0.5 });
      // The hand-off uses the session's own α; make it the loose one for this small run.
      await call(lab, 'discovery.start', { modelId, ...SETTINGS, alpha: 0.5 });
      const dir = join(tmp.path, 'shapeworld-test');
      await generateSplit({ outDir: dir, split: 'test', count: 120, seed: 5 });
      const imp = await call(lab, 'datasets.import', { root: dir, name: 'sw-test', split: 'test' });
      const datasetId = Number((await lab.jobs.wait(imp.jobId)).resultRef!.split(':')[1]);
      const run = await call(lab, 'runs.start', { modelId, datasetId });
      expect((await lab.jobs.wait(run.jobId!)).status).toBe('done');
      const attr = await call(lab, 'attribution.start', { runId: run.runId, clip: 'shapeworld', k: 3, seed: 0 });
      expect((await lab.jobs.wait(attr.jobId!)).status).toBe('done');
      const params = { attributionId: attr.id, kind: 'individual' as const, generator: 'shapeworld', perPrompt: 2, steps: 4, seed: 9, discoveryId: report.id };
      expect(loose.confirmed).toBeGreaterThan(0);
      const set = await call(lab, 'generation.start', params);
      expect((await lab.jobs.wait(set.jobId!)).status).toBe('done');
      const detail = await call(lab, 'generation.get', { id: set.id });
      const confirmed = loose.hypotheses.filter((h) => h.status === 'confirmed');
      expect(detail).toMatchObject({ kind: 'individual', discoveryId: report.id, pooledWith: [], total: 2 * confirmed.length, generated: 2 * confirmed.length });
      expect(detail.prompts.map((p) => p.prompt)).toEqual(confirmed.map((h) => h.prompt));
      // An ordinary individual set of the same attribution and settings is still its own set.
      const own = await call(lab, 'generation.start', { ...params, discoveryId: null });
      expect(own.id).not.toBe(set.id);
      // Refused: random kind, another model's attribution is checked by model id, k with such a set.
      await expect(call(lab, 'generation.start', { ...params, kind: 'random' })).rejects.toThrow(/bad_input: .*individual set/);
    } finally {
      lab.close();
    }
  }, 240_000);

  it('describes with the ShapeWorld captioner when asked, and confirms the captions as prompts', async () => {
    const lab = Lab.open(labDir);
    try {
      const started = await call(lab, 'discovery.start', { modelId, ...SETTINGS, captioner: 'shapeworld', describeWith: 'captioner' });
      expect(started.id).not.toBe(report.id); // another describer: another session (its own key)
      expect((await lab.jobs.wait(started.jobId!)).status).toBe('done');
      const r = await call(lab, 'discovery.get', { id: started.id });
      const failures = r.classes.reduce((n, c) => n + c.failures, 0);
      const page = await call(lab, 'discovery.images', { sessionId: started.id, failuresOnly: true, limit: 500 });
      expect(page.total).toBe(failures);
      for (const im of page.items) {
        expect(im.caption).toMatch(/^(a|an|two|three) /); // the captioner writes ShapeWorld's long captions
        expect(im.description).not.toBeNull(); // and the CLIP describer runs too
      }
      for (const c of r.clusters) expect(page.items.some((im) => im.caption === c.name)).toBe(true);
      for (const h of r.hypotheses) {
        expect(h.prompt).toContain(h.className);
        expect(h.factors).toEqual([]); // captions are not read back into vocabulary factors
      }
      expect(r.planted).toBeNull();
    } finally {
      lab.close();
    }
  }, 120_000);

  it('refuses bad input before anything is stored', async () => {
    const lab = Lab.open(labDir);
    try {
      const before = (lab.db.prepare(`SELECT COUNT(*) AS n FROM discovery_sessions`).get() as { n: number }).n;
      await expect(call(lab, 'discovery.start', { modelId, ...SETTINGS, classes: [0, 10] })).rejects.toThrow(/bad_input: class 10 is out of range: .* 10 classes/);
      const broken = join(tmp.path, 'not-a-generator');
      mkdirSync(broken, { recursive: true });
      writeFileSync(join(broken, 'model_index.json'), '{}');
      await expect(call(lab, 'discovery.start', { modelId, ...SETTINGS, generator: broken })).rejects.toThrow(/not-a-generator/);
      await expect(call(lab, 'discovery.start', { modelId, ...SETTINGS, describeWith: 'captioner' })).rejects.toThrow(/needs a captioner/);
      const noCaptioner = join(tmp.path, 'empty-captioner');
      mkdirSync(noCaptioner, { recursive: true });
      await expect(call(lab, 'discovery.start', { modelId, ...SETTINGS, captioner: noCaptioner })).rejects.toThrow(/empty-captioner/);
      expect((lab.db.prepare(`SELECT COUNT(*) AS n FROM discovery_sessions`).get() as { n: number }).n).toBe(before);
      expect(existsSync(noCaptioner)).toBe(true);
    } finally {
      lab.close();
    }
  });
});

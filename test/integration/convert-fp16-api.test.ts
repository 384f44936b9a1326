// models.convertFp16 / models.conversion through dispatch (what Electron IPC and serve mode call):
// the ShapeWorld classifier, added to a temp lab, is converted by a 'convert-fp16' job, checked on
// images of a lab dataset; the converted package becomes a new model, and the report is served by
// job id. Bad requests are refused before a job starts; a non-empty output folder fails the job
// with the conversion library's message.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Lab } from '../../electron/core/lab.ts';
import { createHandlers, type Handlers } from '../../electron/core/api/handlers.ts';
import { dispatch } from '../../electron/core/api/dispatch.ts';
import type { Method, ParamsIn, Results } from '../../electron/contract.ts';
import { generateSplit } from '../../native-models/shapeworld/index.ts';
import { shapeworldPackageDir } from '../../native-models/shapeworld/packages.ts';
import { loadModelPackage } from '../../native-models/manifest/load.ts';
import { tempDir } from '../helpers/temp-dir.ts';

let tmp: { path: string; remove(): void };
let lab: Lab;
let h: Handlers;
let modelId = 0;
let datasetId = 0;

async function call<M extends Method>(method: M, params: ParamsIn<M>): Promise<Results[M]> {
  const r = await dispatch(h, method, params);
  if (!r.ok) throw Object.assign(new Error(`${r.error.code}: ${r.error.message}`), { code: r.error.code });
  return r.result as Results[M];
}

beforeAll(async () => {
  tmp = tempDir();
  lab = Lab.open(join(tmp.path, 'lab'));
  h = createHandlers(lab);
  const dir = join(tmp.path, 'sw-test');
  await generateSplit({ outDir: dir, split: 'test', count: 40, seed: 7 });
  const imp = await call('datasets.import', { root: dir, name: 'sw-test', split: 'test' });
  datasetId = Number((await lab.jobs.wait(imp.jobId)).resultRef!.split(':')[1]);
  modelId = (await call('models.add', { onnx: shapeworldPackageDir('classifier') })).id;
}, 120_000);

afterAll(() => {
  lab.close();
  tmp.remove();
});

describe('models.convertFp16 over dispatch', { timeout: 180_000 }, () => {
  it('converts the ShapeWorld classifier, checked on a dataset, and registers the fp16 package as a new model', async () => {
    const out = join(tmp.path, 'out', 'classifier-fp16');
    const events: string[] = [];
    lab.events.on('event', (e) => {
      if (e.type === 'lab') events.push(e.what);
    });
    const { jobId } = await call('models.convertFp16', { id: modelId, out, datasetId });
    const job = await lab.jobs.wait(jobId);
    expect(job.kind).toBe('convert-fp16');
    expect(job.status, job.error ?? '').toBe('done');
    expect(job.resultRef).toMatch(/^model:\d+$/);
    const newId = Number(job.resultRef!.split(':')[1]);
    expect(newId).not.toBe(modelId);
    expect(events).toContain('models');

    const models = await call('models.list', {});
    expect(models.map((m) => m.id)).toEqual([modelId, newId]);
    const converted = models.find((m) => m.id === newId)!;
    const original = models.find((m) => m.id === modelId)!;
    expect(converted.kind).toBe('classifier');
    expect(converted.dir).toBe(out);
    expect(converted.name).toMatch(/\(fp16\)$/);
    expect(converted.numClasses).toBe(original.numClasses);
    expect(converted.sha256).not.toBe(original.sha256);
    expect(existsSync(join(out, 'fp16-conversion.json'))).toBe(true);
    await loadModelPackage(out); // loads, hashes checked

    const conv = await call('models.conversion', { jobId });
    expect(conv).toMatchObject({ jobId, sourceModelId: modelId, modelId: newId, out });
    expect(conv.report).toEqual(JSON.parse(readFileSync(join(out, 'fp16-conversion.json'), 'utf8')));
    expect(conv.report.kind).toBe('classifier');
    expect(conv.report.checkImages).toBe(16);
    expect(conv.report.checkedOn).toMatch(/^16 images from /);
    expect(conv.report.top1Changes).toBe(0);
    expect(conv.report.files).toHaveLength(1);
    const f = conv.report.files[0]!;
    expect(f.bytesAfter).toBeLessThan(f.bytesBefore * 0.6);
    expect(f.graph.fp16Nodes).toBeGreaterThan(0);
    expect(f.outputs.length).toBeGreaterThan(0);
    for (const o of f.outputs) expect(o.relError).toBeLessThanOrEqual(0.01);

    // the converted model can be used like any other: a run on the dataset
    const run = await call('runs.start', { modelId: newId, datasetId, provider: 'cpu' });
    expect((await lab.jobs.wait(run.jobId!)).status).toBe('done');
  });

  it('a non-empty output folder fails the job with a message naming the folder; nothing is registered', async () => {
    const out = join(tmp.path, 'occupied');
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, 'keep.txt'), 'mine');
    const before = (await call('models.list', {})).length;
    const { jobId } = await call('models.convertFp16', { id: modelId, out });
    const job = await lab.jobs.wait(jobId);
    expect(job.status).toBe('failed');
    expect(job.error).toContain(out);
    expect(job.error).toMatch(/not empty/);
    expect(readFileSync(join(out, 'keep.txt'), 'utf8')).toBe('mine');
    expect((await call('models.list', {})).length).toBe(before);
    await expect(call('models.conversion', { jobId })).rejects.toMatchObject({ code: 'not_found' });
  });

  it('refuses bad requests before a job starts', async () => {
    const jobs = (await call('jobs.list', {})).length;
    await expect(call('models.convertFp16', { id: modelId, out: 'relative/dir' })).rejects.toMatchObject({ code: 'invalid_params' });
    await expect(call('models.convertFp16', { id: 9999, out: join(tmp.path, 'x') })).rejects.toMatchObject({ code: 'not_found' });
    await expect(call('models.convertFp16', { id: modelId, out: join(tmp.path, 'x'), datasetId: 9999 })).rejects.toMatchObject({ code: 'not_found' });
    await expect(call('models.convertFp16', { id: modelId, out: shapeworldPackageDir('classifier') })).rejects.toMatchObject({ code: 'bad_input' });
    await expect(call('models.convertFp16', { id: modelId, out: join(tmp.path, 'x'), maxRelError: 2 })).rejects.toMatchObject({ code: 'invalid_params' });
    // a model row whose folder is not a classifier or CLIP package (a diffusion model has no manifest)
    const diffusion = shapeworldPackageDir('diffusion');
    const fake = Number(lab.db.prepare(`INSERT INTO models (name, kind, dir, manifest, sha256) VALUES ('d', 'classifier', ?, '{"labels":[],"head":{},"input":{"shape":[]}}', 'fake')`).run(diffusion).lastInsertRowid);
    await expect(call('models.convertFp16', { id: fake, out: join(tmp.path, 'x') })).rejects.toMatchObject({ code: 'bad_input', message: expect.stringMatching(/package does not load/) });
    lab.db.prepare(`DELETE FROM models WHERE id = ?`).run(fake);
    expect((await call('jobs.list', {})).length).toBe(jobs);
  });
});

// The labelling API through dispatch (what Electron IPC and serve mode call): params are
// validated by the contract's schemas, defaults apply, and bad input comes back as plain errors.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Lab } from '../../electron/core/lab.ts';
import { createHandlers, type Handlers } from '../../electron/core/api/handlers.ts';
import { dispatch } from '../../electron/core/api/dispatch.ts';
import { tempDir } from '../helpers/temp-dir.ts';

let dir: ReturnType<typeof tempDir>;
let lab: Lab;
let handlers: Handlers;
let imageIds: number[];
let runId: number;

async function call(method: string, params: unknown): Promise<any> {
  const r = await dispatch(handlers, method, params);
  if (!r.ok) throw Object.assign(new Error(r.error.message), { code: r.error.code });
  return r.result;
}

beforeEach(() => {
  dir = tempDir();
  lab = Lab.open(dir.path);
  handlers = createHandlers(lab);
  const db = lab.db;
  const ds = Number(db.prepare(`INSERT INTO datasets (name, root, source, content_hash) VALUES ('d', '/tmp/d', 'folder', 'x')`).run().lastInsertRowid);
  db.prepare(`INSERT INTO dataset_classes (dataset_id, idx, name) VALUES (?, 0, 'cat')`).run(ds);
  imageIds = [0, 1, 2, 3].map((i) => Number(db.prepare(`INSERT INTO images (dataset_id, rel_path, file_name, class_idx, bytes, sha256) VALUES (?, ?, ?, 0, 1, 'h')`).run(ds, `cat/${i}.jpg`, `${i}.jpg`).lastInsertRowid));
  const model = Number(db.prepare(`INSERT INTO models (name, kind, dir, manifest, sha256) VALUES ('m', 'classifier', '/tmp/m', '{"labels":["cat","dog"]}', 's')`).run().lastInsertRowid);
  runId = Number(db.prepare(`INSERT INTO runs (model_id, dataset_id, cache_key, status, batch_size, num_classes, feature_dim, num_images) VALUES (?, ?, 'k', 'done', 4, 2, 2, 4)`).run(model, ds).lastInsertRowid);
  imageIds.forEach((id, i) =>
    db.prepare(`INSERT INTO predictions (run_id, image_id, batch_idx, batch_row, true_class, pred_class, confidence, true_prob, correct, top5) VALUES (?, ?, 0, ?, 0, ?, 0.9, 0.1, ?, '[]')`).run(runId, id, i, i % 2, i % 2 ? 0 : 1),
  );
});

afterEach(() => {
  lab.close();
  dir.remove();
});

describe('labels.* over dispatch', () => {
  it('a labelling session: queue, page, set, progress, bulk, undo, chart, drill-down', async () => {
    const q = await call('labels.queueCreate', { kind: 'failures', runId });
    expect(q).toMatchObject({ size: 2, kind: 'failures', reused: false });
    const label = await call('labels.set', { imageId: imageIds[1], annotator: '  ana ', factors: ['pose'] });
    expect(label).toMatchObject({ annotator: 'ana', factors: ['pose'], topFactor: null, justification: null });
    expect(await call('labels.progress', { queueId: q.id, annotator: 'ana' })).toEqual({ labelled: 1, total: 2 });
    const page = await call('labels.queuePage', { queueId: q.id, annotator: 'ana' });
    expect(page.items.map((i: any) => [i.imageId, i.className, i.label?.factors ?? null])).toEqual([
      [imageIds[1], 'cat', ['pose']],
      [imageIds[3], 'cat', null],
    ]);
    expect(await call('labels.bulk', { imageIds, annotator: 'ana', factor: 'darker', value: true })).toMatchObject({ changed: 4, selected: 4 });
    const sources = await call('annotations.sources', {});
    const ana = sources.find((s: any) => s.name === 'annotator:ana');
    expect(ana).toMatchObject({ kind: 'annotator', numAnnotations: 4 });
    const chart = await call('labels.errorRatios', { runIds: [runId], sourceId: ana.id });
    expect(chart.runs[0]).toMatchObject({ images: 4, correct: 2 });
    expect(chart.runs[0].factors.find((f: any) => f.factor === 'pose')).toMatchObject({ count: 1, correct: 0, errorRatio: 2 });
    // the ImageNet-X report reads labels made in the lab the same way (the CLI's `imagenetx report`)
    const report = await call('analysis.errorRatios', { runId, sourceId: ana.id });
    expect(report.factors).toEqual(chart.runs[0].factors);
    await expect(call('analysis.errorRatios', { runId, sourceId: ana.id, errorType: 'metaclass' })).rejects.toMatchObject({ code: 'bad_input' });
    const drill = await call('runs.failures', { runId, factor: 'pose', sourceId: ana.id });
    expect(drill.items.map((f: any) => f.imageId)).toEqual([imageIds[1]]);
    expect((await call('labels.undo', { annotator: 'ana' })).undone).toMatchObject({ op: 'bulk-apply', count: 4 });
    expect((await call('annotations.sources', {})).find((s: any) => s.id === ana.id).numAnnotations).toBe(1);
    expect(await call('labels.annotators', {})).toMatchObject([{ name: 'ana', labelled: 1 }]);
  });

  it('refuses bad input plainly', async () => {
    await expect(call('labels.set', { imageId: imageIds[0], annotator: 'ana', factors: ['not_a_factor'] })).rejects.toMatchObject({ code: 'invalid_params' });
    await expect(call('labels.set', { imageId: imageIds[0], annotator: '   ', factors: [] })).rejects.toMatchObject({ code: 'invalid_params' });
    await expect(call('labels.set', { imageId: 99999, annotator: 'ana', factors: [] })).rejects.toMatchObject({ code: 'not_found' });
    await expect(call('labels.queueCreate', { kind: 'failures' })).rejects.toMatchObject({ code: 'bad_input' });
    await expect(call('labels.queueCreate', { kind: 'unlabelled', datasetId: 1 })).rejects.toThrow(/annotator/);
    await expect(call('labels.queuePage', { queueId: 12345 })).rejects.toMatchObject({ code: 'not_found' });
    await expect(call('runs.failures', { runId, factor: 'pose' })).rejects.toThrow(/sourceId/);
    expect((await call('labels.undo', { annotator: 'nobody' })).undone).toBeNull();
  });

  it('review: disagreements and agreement with two annotators; consensus by a reviewer', async () => {
    await call('labels.set', { imageId: imageIds[0], annotator: 'ana', factors: ['pose', 'color'] });
    await call('labels.set', { imageId: imageIds[0], annotator: 'ben', factors: ['pose'] });
    await call('labels.set', { imageId: imageIds[1], annotator: 'ana', factors: ['shape'] });
    await call('labels.set', { imageId: imageIds[1], annotator: 'ben', factors: ['shape'] });
    const d = await call('labels.disagreements', {});
    expect(d.total).toBe(1);
    expect(d.items[0]).toMatchObject({ imageId: imageIds[0], factors: ['color'] });
    const a = await call('labels.agreement', {});
    expect(a.annotators).toEqual(['ana', 'ben']);
    expect(a.rows.find((r: any) => r.factor === 'shape').cohen.value).toBe(1);
    await call('labels.set', { imageId: imageIds[0], annotator: 'rev', target: 'consensus', factors: ['pose'] });
    const all = await call('labels.forImage', { imageId: imageIds[0] });
    expect(all.consensus).toMatchObject({ annotator: 'rev', factors: ['pose'] });
    expect(all.annotators.map((l: any) => l.annotator)).toEqual(['ana', 'ben']);
    expect((await call('labels.disagreements', {})).items[0].consensus.factors).toEqual(['pose']);
  });
});

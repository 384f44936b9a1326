import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { openDatabase, type Db } from '../../../electron/core/store/database.ts';
import { bulkApply, imageLabels, listAnnotators, setLabel, undoLast } from '../../../electron/core/labelling/labels.ts';
import { createQueue, queuePage, queueProgress, seededShuffle } from '../../../electron/core/labelling/queues.ts';
import { agreementReport, disagreements, factorChart } from '../../../electron/core/labelling/review.ts';
import { runFailures } from '../../../electron/core/runs/run-queries.ts';
import { tempDir } from '../../helpers/temp-dir.ts';

let dir: ReturnType<typeof tempDir>;
let db: Db;
let datasetId: number;
let runId: number;
let ids: number[];

/** 20 images of 2 classes; a run that gets the even ids right and the odd ones wrong, confidence
 * falling with the id. */
function seed(): void {
  datasetId = Number(db.prepare(`INSERT INTO datasets (name, root, source, content_hash) VALUES ('d', '/tmp/d', 'folder', 'x')`).run().lastInsertRowid);
  db.prepare(`INSERT INTO dataset_classes (dataset_id, idx, name) VALUES (?, 0, 'a'), (?, 1, 'b')`).run(datasetId, datasetId);
  const ins = db.prepare(`INSERT INTO images (dataset_id, rel_path, file_name, class_idx, bytes, sha256) VALUES (?, ?, ?, ?, 1, 'h')`);
  ids = [];
  for (let i = 0; i < 20; i++) ids.push(Number(ins.run(datasetId, `${i % 2 ? 'b' : 'a'}/img_${i}.jpg`, `img_${i}.jpg`, i % 2).lastInsertRowid));
  const modelId = Number(
    db.prepare(`INSERT INTO models (name, kind, dir, manifest, sha256) VALUES ('m', 'classifier', '/tmp/m', ?, 's')`).run(JSON.stringify({ kind: 'classifier', labels: ['a', 'b'] })).lastInsertRowid,
  );
  runId = Number(
    db.prepare(`INSERT INTO runs (model_id, dataset_id, cache_key, status, batch_size, num_classes, feature_dim, num_images) VALUES (?, ?, 'k', 'done', 8, 2, 4, 20)`).run(modelId, datasetId)
      .lastInsertRowid,
  );
  const pred = db.prepare(`INSERT INTO predictions (run_id, image_id, batch_idx, batch_row, true_class, pred_class, confidence, true_prob, correct, top5) VALUES (?, ?, 0, ?, ?, ?, ?, 0.1, ?, '[]')`);
  ids.forEach((id, i) => pred.run(runId, id, i, i % 2, i % 2 === 0 ? 0 : 0, 0.99 - i / 100, i % 2 === 0 ? 1 : 0));
}

beforeEach(() => {
  dir = tempDir();
  db = openDatabase(join(dir.path, 'lab.db'));
  seed();
});
afterEach(() => {
  db.close();
  dir.remove();
});

describe('labels', () => {
  it('stores a label per annotator in their own source, with the top factor among the factors', () => {
    const r = setLabel(db, { imageId: ids[0], annotator: 'alice', factors: ['pose'], topFactor: 'background', justification: 'odd place', oneWord: 'beach', seconds: 3.5 });
    expect(r.factors).toEqual(['pose', 'background']);
    expect(r.topFactor).toBe('background');
    setLabel(db, { imageId: ids[0], annotator: 'bob', factors: ['color'] });
    const all = imageLabels(db, ids[0]);
    expect(all.annotators.map((a) => [a.annotator, a.factors])).toEqual([
      ['alice', ['pose', 'background']],
      ['bob', ['color']],
    ]);
    const sources = db.prepare(`SELECT name, kind FROM annotation_sources ORDER BY name`).all();
    expect(sources).toEqual([
      { name: 'annotator:alice', kind: 'annotator' },
      { name: 'annotator:bob', kind: 'annotator' },
    ]);
    expect(listAnnotators(db).map((a) => [a.name, a.labelled, a.meanSeconds])).toEqual([
      ['alice', 1, 3.5],
      ['bob', 1, null],
    ]);
  });

  it('undoes single labels step by step, back to no label', () => {
    setLabel(db, { imageId: ids[1], annotator: 'alice', factors: ['pose'] });
    setLabel(db, { imageId: ids[1], annotator: 'alice', factors: ['pose', 'color'] });
    let u = undoLast(db, { annotator: 'alice' });
    expect(u.undone?.op).toBe('set');
    expect(u.restored[0].label?.factors).toEqual(['pose']);
    u = undoLast(db, { annotator: 'alice' });
    expect(u.restored[0].label).toBeNull();
    expect(imageLabels(db, ids[1]).annotators).toEqual([]);
    expect(undoLast(db, { annotator: 'alice' }).undone).toBeNull();
    // another annotator's steps are theirs
    setLabel(db, { imageId: ids[2], annotator: 'bob', factors: ['style'] });
    expect(undoLast(db, { annotator: 'alice' }).undone).toBeNull();
  });

  it('bulk apply is one transaction and one undo step; unchanged images are left out', () => {
    setLabel(db, { imageId: ids[0], annotator: 'alice', factors: ['pose'], topFactor: 'pose', justification: 'kept' });
    setLabel(db, { imageId: ids[1], annotator: 'alice', factors: ['darker'] });
    const r = bulkApply(db, { imageIds: ids.slice(0, 5), annotator: 'alice', factor: 'darker', value: true });
    expect(r).toMatchObject({ changed: 4, selected: 5 });
    expect(imageLabels(db, ids[0]).annotators[0]).toMatchObject({ factors: ['pose', 'darker'], topFactor: 'pose', justification: 'kept' });
    expect(imageLabels(db, ids[4]).annotators[0].factors).toEqual(['darker']);
    const removed = bulkApply(db, { imageIds: ids.slice(0, 5), annotator: 'alice', factor: 'pose', value: false });
    expect(removed.changed).toBe(1);
    expect(imageLabels(db, ids[0]).annotators[0]).toMatchObject({ factors: ['darker'], topFactor: null });
    // undo the removal, then the apply: one step each
    expect(undoLast(db, { annotator: 'alice' }).undone).toMatchObject({ op: 'bulk-remove', count: 1 });
    const u = undoLast(db, { annotator: 'alice' });
    expect(u.undone).toMatchObject({ op: 'bulk-apply', count: 4 });
    expect(u.restored).toHaveLength(4);
    expect(imageLabels(db, ids[0]).annotators[0]).toMatchObject({ factors: ['pose'], topFactor: 'pose' });
    expect(imageLabels(db, ids[1]).annotators[0].factors).toEqual(['darker']);
    expect(imageLabels(db, ids[4]).annotators).toEqual([]);
    expect(bulkApply(db, { imageIds: [ids[9]], annotator: 'alice', factor: 'pose', value: false })).toMatchObject({ changed: 0, groupId: null });
  });

  it('a bulk apply that fails part-way writes nothing', () => {
    expect(() => bulkApply(db, { imageIds: [ids[0], 999999], annotator: 'alice', factor: 'pose', value: true })).toThrow(/no image/);
    expect(imageLabels(db, ids[0]).annotators).toEqual([]);
  });
});

describe('queues', () => {
  it('failures of a run come most confident first; pages are ranges with the labels', () => {
    const q = createQueue(db, { kind: 'failures', runId });
    expect(q).toMatchObject({ datasetId, size: 10, reused: false });
    expect(createQueue(db, { kind: 'failures', runId }).reused).toBe(true);
    setLabel(db, { imageId: ids[3], annotator: 'alice', factors: ['shape'] });
    const page = queuePage(db, { queueId: q.id, annotator: 'alice', offset: 0, limit: 3 });
    expect(page.total).toBe(10);
    expect(page.items.map((i) => i.imageId)).toEqual([ids[1], ids[3], ids[5]]);
    expect(page.items[1].label?.factors).toEqual(['shape']);
    expect(page.items[0].label).toBeNull();
    expect(queuePage(db, { queueId: q.id, annotator: 'alice', offset: 9, limit: 5 }).items.map((i) => i.pos)).toEqual([9]);
    expect(queueProgress(db, { queueId: q.id, annotator: 'alice' })).toEqual({ labelled: 1, total: 10 });
    expect(queueProgress(db, { queueId: q.id, annotator: 'nobody' })).toEqual({ labelled: 0, total: 10 });
  });

  it('unlabelled by the annotator, and a seeded random order that repeats', () => {
    setLabel(db, { imageId: ids[0], annotator: 'alice', factors: [] });
    setLabel(db, { imageId: ids[1], annotator: 'bob', factors: [] });
    const q = createQueue(db, { datasetId, kind: 'unlabelled', annotator: 'alice' });
    expect(q.size).toBe(19);
    expect(queuePage(db, { queueId: q.id, offset: 0, limit: 1 }).items[0].imageId).toBe(ids[1]);
    const r1 = createQueue(db, { datasetId, kind: 'random', seed: 7 });
    const r2 = createQueue(db, { datasetId, kind: 'random', seed: 8 });
    const order = (id: number) => queuePage(db, { queueId: id, offset: 0, limit: 100 }).items.map((i) => i.imageId);
    expect(order(r1.id)).toEqual(seededShuffle(ids, 7));
    expect(order(r1.id)).not.toEqual(order(r2.id));
    expect([...order(r1.id)].sort((a, b) => a - b)).toEqual(ids);
    expect(createQueue(db, { datasetId, kind: 'random', seed: 7, size: 5 }).size).toBe(5);
  });

  it('disagreements: images two annotators labelled differently', () => {
    setLabel(db, { imageId: ids[0], annotator: 'alice', factors: ['pose'] });
    setLabel(db, { imageId: ids[0], annotator: 'bob', factors: ['pose'] });
    setLabel(db, { imageId: ids[2], annotator: 'alice', factors: ['pose'] });
    setLabel(db, { imageId: ids[2], annotator: 'bob', factors: ['color'] });
    setLabel(db, { imageId: ids[4], annotator: 'alice', factors: ['pose'], topFactor: 'pose' });
    setLabel(db, { imageId: ids[4], annotator: 'bob', factors: ['pose'] });
    const q = createQueue(db, { datasetId, kind: 'disagreements' });
    expect(queuePage(db, { queueId: q.id, offset: 0, limit: 10 }).items.map((i) => i.imageId)).toEqual([ids[2], ids[4]]);
    const d = disagreements(db, { datasetId, offset: 0, limit: 10 });
    expect(d.total).toBe(2);
    expect(d.items[0]).toMatchObject({ imageId: ids[2], factors: ['pose', 'color'], topFactorDiffers: false, consensus: null });
    expect(d.items[1]).toMatchObject({ imageId: ids[4], factors: [], topFactorDiffers: true });
  });
});

describe('review and consensus', () => {
  it('agreement per factor: Cohen for two, Fleiss and Krippendorff for three', () => {
    // pose: alice and bob agree on 4 images (2 yes, 2 no); color: they disagree on one of four
    const lab = (i: number, who: string, f: string[]) => setLabel(db, { imageId: ids[i], annotator: who, factors: f });
    lab(0, 'alice', ['pose']);
    lab(0, 'bob', ['pose']);
    lab(1, 'alice', ['pose', 'color']);
    lab(1, 'bob', ['pose']);
    lab(2, 'alice', []);
    lab(2, 'bob', []);
    lab(3, 'alice', ['color']);
    lab(3, 'bob', ['color']);
    const two = agreementReport(db, { datasetId });
    expect(two.annotators).toEqual(['alice', 'bob']);
    expect(two.sharedItems).toBe(4);
    const pose = two.rows.find((r) => r.factor === 'pose')!;
    expect(pose.cohen?.value).toBe(1);
    expect(pose.percentAgreement).toBe(1);
    const color = two.rows.find((r) => r.factor === 'color')!;
    // p_o = 3/4; alice yes 2/4, bob yes 1/4: p_e = .5*.25 + .5*.75 = .5; kappa = .5
    expect(color.cohen?.value).toBeCloseTo(0.5, 12);
    expect(two.rows.find((r) => r.factor === 'texture')!.cohen?.value).toBeNull();
    lab(0, 'carol', ['pose']);
    const three = agreementReport(db, { datasetId });
    expect(three.annotators).toEqual(['alice', 'bob', 'carol']);
    expect(three.allItems).toBe(1);
    expect(three.rows[0].cohen).toBeNull();
    expect(three.rows[0].krippendorff.items).toBe(4);
  });

  it('the consensus is its own source; analytics and the drill-down read it', () => {
    setLabel(db, { imageId: ids[1], annotator: 'alice', factors: ['pose'] });
    setLabel(db, { imageId: ids[1], annotator: 'bob', factors: ['color'] });
    const c = setLabel(db, { imageId: ids[1], annotator: 'rev', target: 'consensus', factors: ['pose', 'color'], topFactor: 'pose' });
    setLabel(db, { imageId: ids[0], annotator: 'rev', target: 'consensus', factors: ['color'] });
    setLabel(db, { imageId: ids[2], annotator: 'rev', target: 'consensus', factors: [] });
    expect(disagreements(db, { datasetId, offset: 0, limit: 5 }).items[0].consensus?.factors).toEqual(['pose', 'color']);
    const chart = factorChart(db, { runIds: [runId], sourceId: c.sourceId });
    expect(chart.sourceKind).toBe('consensus');
    const r = chart.runs[0];
    // 3 labelled images: ids[0] right, ids[1] wrong, ids[2] right -> average 2/3
    expect(r.images).toBe(3);
    expect(r.average).toBeCloseTo(2 / 3, 12);
    const pose = r.factors.find((f) => f.factor === 'pose')!;
    expect(pose).toMatchObject({ count: 1, correct: 0 });
    expect(pose.errorRatio).toBeCloseTo(1 / (1 / 3), 12);
    const color = r.factors.find((f) => f.factor === 'color')!;
    expect(color).toMatchObject({ count: 2, correct: 1 });
    expect(color.errorRatio).toBeCloseTo(0.5 / (1 / 3), 12);
    const failing = runFailures(db, { runId, sort: 'confidence_desc', factor: 'pose', sourceId: c.sourceId, offset: 0, limit: 50 });
    expect(failing.items.map((f) => f.imageId)).toEqual([ids[1]]);
    expect(runFailures(db, { runId, sort: 'confidence_desc', factor: 'texture', sourceId: c.sourceId, offset: 0, limit: 50 }).total).toBe(0);
    // undo of the consensus is the reviewer's
    expect(undoLast(db, { annotator: 'rev', target: 'consensus' }).restored[0].label).toBeNull();
    expect(undoLast(db, { annotator: 'rev' }).undone).toBeNull();
  });
});

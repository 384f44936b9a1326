// Prediction files imported into a lab (prediction sets) and the analytics of runs and prediction
// sets: calibration, the factor distribution of failures, co-occurrence, the failing images. On the
// hand fixture (test/fixtures/imagenetx/hand), whose numbers are worked out in
// imagenetx-predictions.test.ts: images (class, factors, predicted, p): 1 (0, pose, 0, 0.9) ok;
// 2 (1, pose+background, 2, 0.6) wrong; 3 (2, background, 2, 0.58) ok; 4 (3, color, 3, 0.4) ok;
// 5 (4, background, 5, 0.2) wrong; 6 prototypical; ..._99 unannotated.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Db } from '../../../electron/core/store/database.ts';
import { openDatabase } from '../../../electron/core/store/database.ts';
import { importAnnotations } from '../../../electron/core/imagenetx/annotations.ts';
import { deletePredictionSet, importPredictionSet, listPredictionSets, predictionSetRows } from '../../../electron/core/imagenetx/prediction-sets.ts';
import { evaluateFiles } from '../../../electron/core/imagenetx/evaluate-predictions.ts';
import { calibration } from '../../../electron/core/analysis/calibration.ts';
import { calibrationReport, cooccurrenceReport, factorDistributionReport, failingImages } from '../../../electron/core/analysis/subject-analytics.ts';
import { factorChart } from '../../../electron/core/labelling/review.ts';
import { dispatch } from '../../../electron/core/api/dispatch.ts';
import type { Handlers } from '../../../electron/core/api/handlers.ts';
import { BadInputError } from '../../../electron/core/errors.ts';
import { IMAGENET_X_FACTORS } from '../../../native-models/imagenet-x-factors.ts';
import { tempDir } from '../../helpers/temp-dir.ts';

const HAND = new URL('../../fixtures/imagenetx/hand/', import.meta.url).pathname;
const PRED = join(HAND, 'predictions.csv');
const HEADER = 'file_name,predicted_class,predicted_probability';
const fi = (f: string) => IMAGENET_X_FACTORS.indexOf(f as (typeof IMAGENET_X_FACTORS)[number]);

let dir: { path: string; remove(): void };
let db: Db;
let sourceId: number;
beforeEach(() => {
  dir = tempDir();
  db = openDatabase(join(dir.path, 'lab.db'));
  sourceId = importAnnotations(db, { file: join(HAND, 'imagenet_x_val_multi_factor.jsonl'), source: 'hand', prototypical: join(HAND, 'prototypical_paths.csv') }).source.id;
});
afterEach(() => {
  db.close();
  dir.remove();
});

const stored = () => [db.prepare(`SELECT COUNT(*) FROM prediction_sets`).pluck().get(), db.prepare(`SELECT COUNT(*) FROM prediction_set_rows`).pluck().get()];

/** The lab's API validation in front of the analytics (the rest of the handlers are not needed). */
function api(): Handlers {
  return {
    'labels.errorRatios': (p: Parameters<Handlers['labels.errorRatios']>[0]) => factorChart(db, p),
    'predictions.import': (p: Parameters<Handlers['predictions.import']>[0]) => importPredictionSet(db, p),
    'analysis.calibration': (p: Parameters<Handlers['analysis.calibration']>[0]) => calibrationReport(db, p),
  } as unknown as Handlers;
}

async function call(method: string, params: unknown): Promise<any> {
  const r = await dispatch(api(), method, params);
  if (!r.ok) throw Object.assign(new Error(r.error.message), { code: r.error.code });
  return r.result;
}

describe('prediction sets: import', () => {
  it('round trip: the file stored as it reads, named by its stem, hashed, counted', () => {
    const set = importPredictionSet(db, { file: PRED });
    expect(set).toMatchObject({ name: 'predictions', file: PRED, numClasses: 1000, numPredictions: 7, numImagesInLab: 0 });
    expect(set.sha256).toBe(createHash('sha256').update(readFileSync(PRED)).digest('hex'));
    expect(listPredictionSets(db)).toEqual([set]);
    const lines = readFileSync(PRED, 'utf8').trim().split('\n').slice(1);
    expect(predictionSetRows(db, set.id).map((r) => `${r.fileName},${r.predicted},${r.confidence}`)).toEqual(lines.map((l) => l.replace(/,1\.0$/, ',1')));
    expect(deletePredictionSet(db, set.id)).toEqual({ deleted: set.id });
    expect(stored()).toEqual([0, 0]);
  });

  it('refuses a bad file with file:line for every bad line, and stores nothing', () => {
    const bad = join(dir.path, 'bad.csv');
    writeFileSync(bad, `${HEADER}\nA.JPEG,1,0.5\nB.JPEG,1000,0.5\nC.JPEG,2,0.5,extra\nA.JPEG,3,0.2\nD.JPEG,4,nan\n`);
    let err: Error | null = null;
    try {
      importPredictionSet(db, { file: bad, name: 'bad' });
    } catch (e) {
      err = e as Error;
    }
    expect(err).toBeInstanceOf(BadInputError);
    expect(err!.message.split('\n')).toEqual([
      `bad prediction file ${bad} (4 errors, nothing imported):`,
      `${bad}:3: predicted_class 1000 is out of range 0..999`,
      `${bad}:4: expected 3 fields (file_name,predicted_class,predicted_probability), got 4`,
      `${bad}:5: duplicate file_name A.JPEG (first on line 2)`,
      `${bad}:6: predicted_probability "nan" is not a number`,
    ]);
    expect(stored()).toEqual([0, 0]);
    // a missing column, a header without rows, a file that is not there
    writeFileSync(bad, 'file_name,predicted_class\nA.JPEG,1\n');
    expect(() => importPredictionSet(db, { file: bad })).toThrow(`${bad}:1: bad header (missing column predicted_probability)`);
    writeFileSync(bad, `${HEADER}\n`);
    expect(() => importPredictionSet(db, { file: bad })).toThrow(`${bad}:1: no prediction rows after the header`);
    expect(() => importPredictionSet(db, { file: join(dir.path, 'none.csv') })).toThrow(/prediction file not found/);
    expect(stored()).toEqual([0, 0]);
  });

  it('refuses a second set of the same name before reading it; classes out of a smaller label space', () => {
    importPredictionSet(db, { file: PRED, name: 'm' });
    expect(() => importPredictionSet(db, { file: PRED, name: 'm' })).toThrow('a prediction set named "m" already exists in this lab: choose another name');
    expect(() => importPredictionSet(db, { file: PRED, name: 'small', numClasses: 5 })).toThrow(`${PRED}:6: predicted_class 5 is out of range 0..4`);
    expect(stored()).toEqual([1, 7]);
  });

  it('through the API: params validated, BadInputError as bad_input', async () => {
    await expect(call('predictions.import', { file: '' })).rejects.toMatchObject({ code: 'invalid_params' });
    await expect(call('predictions.import', { file: join(dir.path, 'none.csv') })).rejects.toMatchObject({ code: 'bad_input' });
    expect(await call('predictions.import', { file: PRED, name: 'published' })).toMatchObject({ name: 'published', numPredictions: 7 });
  });
});

describe('analytics of a prediction set against an annotation source', () => {
  const cli = () => evaluateFiles({ annotations: join(HAND, 'imagenet_x_val_multi_factor.jsonl'), prototypesFile: join(HAND, 'prototypical_paths.csv'), models: [{ name: 'm', file: PRED }] })[0];

  it('error ratios in the chart equal the CLI evaluation of the same file', async () => {
    const set = importPredictionSet(db, { file: PRED, name: 'm' });
    const chart = await call('labels.errorRatios', { predictionSetIds: [set.id], sourceId });
    const [s] = chart.runs;
    const e = cli();
    expect(s).toMatchObject({ subject: { kind: 'predictions', id: set.id }, runId: null, runName: 'm', images: 5, correct: 3, average: 0.6, predictions: 7, unannotated: 1, prototypesDropped: 1 });
    expect(s.factors).toEqual(e.factors);
    expect(s.worstFactor).toBe(e.worstFactor);
    await expect(call('labels.errorRatios', { sourceId })).rejects.toMatchObject({ code: 'invalid_params', message: expect.stringContaining('choose 1 to 8 runs or prediction sets') });
  });

  it('calibration through the API equals calibration.ts on the joined rows (and the hand ECE 0.216)', async () => {
    const set = importPredictionSet(db, { file: PRED, name: 'm' });
    const r = await call('analysis.calibration', { subject: { kind: 'predictions', id: set.id }, sourceId });
    // the evaluated rows by hand: correct, p, factors
    const rows = [
      [1, 0.9, ['pose']],
      [0, 0.6, ['pose', 'background']],
      [1, 0.58, ['background']],
      [1, 0.4, ['color']],
      [0, 0.2, ['background']],
    ] as const;
    const of = (keep: (f: readonly string[]) => boolean) => {
      const sel = rows.filter((x) => keep(x[2]));
      return calibration(
        sel.map((x) => x[0]),
        sel.map((x) => x[1]),
      );
    };
    expect(r).toMatchObject({ name: 'm', images: 5, sourceName: 'hand', errorType: 'class' });
    expect(r.overall).toEqual(of(() => true));
    expect(r.overall.ece).toBeCloseTo(0.216, 12);
    expect(r.overall.bins.map((b: { count: number }) => b.count)).toEqual([0, 0, 1, 0, 0, 1, 0, 0, 2, 0, 0, 0, 0, 1, 0]);
    for (const f of IMAGENET_X_FACTORS) expect(r.factors[fi(f)]).toEqual({ factor: f, ...of((x) => x.includes(f)) });
    const e = cli();
    expect(r.factors[fi('background')].ece).toBeCloseTo(e.calibration.factors.background.ece!, 15);
    expect(r.worstFactorEce).toBeCloseTo(e.calibration.worstFactor!, 15);
    await expect(call('analysis.calibration', { subject: { kind: 'model', id: set.id }, sourceId })).rejects.toMatchObject({ code: 'invalid_params' });
    await expect(call('analysis.calibration', { subject: { kind: 'predictions', id: 99 }, sourceId })).rejects.toMatchObject({ code: 'not_found', message: 'no prediction set with id 99' });
  });

  it('failure distribution: shares of failures vs all images, whose ratio is the error ratio', () => {
    const set = importPredictionSet(db, { file: PRED, name: 'm' });
    const subject = { kind: 'predictions' as const, id: set.id };
    const d = factorDistributionReport(db, { subject, sourceId });
    expect([d.images, d.failures]).toEqual([5, 2]);
    expect(d.factors[fi('pose')]).toEqual({ factor: 'pose', images: 2, failures: 1, shareOfImages: 0.4, shareOfFailures: 0.5 });
    expect(d.factors[fi('background')]).toEqual({ factor: 'background', images: 3, failures: 2, shareOfImages: 0.6, shareOfFailures: 1 });
    expect(d.factors[fi('color')]).toMatchObject({ images: 1, failures: 0, shareOfFailures: 0 });
    const chart = factorChart(db, { runIds: [], predictionSetIds: [set.id], sourceId }).runs[0];
    for (const f of d.factors) {
      const er = chart.factors.find((x) => x.factor === f.factor)!.errorRatio;
      if (er === null) expect(f.images).toBe(0);
      else expect(f.shareOfFailures! / f.shareOfImages!).toBeCloseTo(er, 12);
    }
  });

  it('co-occurrence among annotated images and among failures: counts, P(j | i), Jaccard', () => {
    const all = cooccurrenceReport(db, { sourceId });
    const [pose, bg, color] = [fi('pose'), fi('background'), fi('color')];
    expect(all.images).toBe(5); // the prototypical image 6 is left out
    expect([all.counts[pose][pose], all.counts[bg][bg], all.counts[pose][bg], all.counts[bg][pose], all.counts[color][color]]).toEqual([2, 3, 1, 1, 1]);
    expect(all.conditional[pose][bg]).toBe(0.5);
    expect(all.conditional[bg][pose]).toBeCloseTo(1 / 3, 15);
    expect(all.jaccard[pose][bg]).toBe(0.25);
    expect(all.conditional[fi('texture')][pose]).toBeNull();
    expect(cooccurrenceReport(db, { sourceId, keepPrototypes: true }).counts[pose][pose]).toBe(3);
    const set = importPredictionSet(db, { file: PRED, name: 'm' });
    const fails = cooccurrenceReport(db, { sourceId, subject: { kind: 'predictions', id: set.id } });
    expect([fails.images, fails.name, fails.counts[bg][bg], fails.counts[pose][pose], fails.counts[pose][bg]]).toEqual([2, 'm', 2, 1, 1]);
  });

  it('the failing images behind a bar, most confident first', () => {
    const set = importPredictionSet(db, { file: PRED, name: 'm' });
    const page = failingImages(db, { subject: { kind: 'predictions', id: set.id }, sourceId, factor: 'background', offset: 0, limit: 10 });
    expect(page.total).toBe(2);
    expect(page.items).toEqual([
      { fileName: 'ILSVRC2012_val_00000002.JPEG', imageId: null, relPath: null, trueClass: 1, predicted: 2, confidence: 0.6, factors: ['pose', 'background'] },
      { fileName: 'ILSVRC2012_val_00000005.JPEG', imageId: null, relPath: null, trueClass: 4, predicted: 5, confidence: 0.2, factors: ['background'] },
    ]);
    expect(failingImages(db, { subject: { kind: 'predictions', id: set.id }, sourceId, factor: 'color', offset: 0, limit: 10 }).total).toBe(0);
  });
});

describe('a run and a prediction set with the same predictions give the same analytics', () => {
  /** A run whose images carry the hand fixture's file names and predictions. */
  function handRun(): number {
    const ds = Number(db.prepare(`INSERT INTO datasets (name, root, source, content_hash) VALUES ('val', '/tmp/val', 'folder', 'x')`).run().lastInsertRowid);
    const model = Number(db.prepare(`INSERT INTO models (name, kind, dir, manifest, sha256) VALUES ('net', 'classifier', '/tmp/m', '{}', 's')`).run().lastInsertRowid);
    const run = Number(
      db.prepare(`INSERT INTO runs (model_id, dataset_id, cache_key, status, batch_size, num_classes, feature_dim, num_images) VALUES (?, ?, 'k', 'done', 8, 1000, 4, 7)`).run(model, ds).lastInsertRowid,
    );
    const img = db.prepare(`INSERT INTO images (dataset_id, rel_path, file_name, class_idx, bytes, sha256) VALUES (?, ?, ?, 0, 1, 'h')`);
    const pred = db.prepare(`INSERT INTO predictions (run_id, image_id, batch_idx, batch_row, true_class, pred_class, confidence, true_prob, correct, top5) VALUES (?, ?, 0, ?, 0, ?, ?, 0.1, ?, '[]')`);
    for (const [k, r] of predictionSetRows(db, importPredictionSet(db, { file: PRED, name: 'file' }).id).entries()) {
      const id = Number(img.run(ds, `c/${r.fileName}`, r.fileName).lastInsertRowid);
      pred.run(run, id, k, r.predicted, r.confidence, 0);
    }
    return run;
  }

  it('error ratios, calibration, distribution; the set now names 7 images of the lab', () => {
    const runId = handRun();
    const set = listPredictionSets(db)[0];
    expect(set.numImagesInLab).toBe(7);
    const chart = factorChart(db, { runIds: [runId], predictionSetIds: [set.id], sourceId });
    expect(chart.runs.map((s) => [s.runName, s.runId, s.subject.kind])).toEqual([
      [`#${runId} net on val`, runId, 'run'],
      ['file', null, 'predictions'],
    ]);
    expect(chart.runs[0].factors).toEqual(chart.runs[1].factors);
    const cal = (subject: { kind: 'run' | 'predictions'; id: number }) => calibrationReport(db, { subject, sourceId });
    const [a, b] = [cal({ kind: 'run', id: runId }), cal({ kind: 'predictions', id: set.id })];
    expect(a.overall).toEqual(b.overall);
    expect(a.factors).toEqual(b.factors);
    const page = failingImages(db, { subject: { kind: 'predictions', id: set.id }, sourceId, factor: 'pose', offset: 0, limit: 10 });
    expect(page.items.map((x) => [x.fileName, x.relPath])).toEqual([['ILSVRC2012_val_00000002.JPEG', 'c/ILSVRC2012_val_00000002.JPEG']]);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Lab } from '../../electron/core/lab.ts';
import { createHandlers } from '../../electron/core/api/handlers.ts';
import { dispatch } from '../../electron/core/api/dispatch.ts';
import type { Method, ParamsIn, Results } from '../../electron/contract.ts';
import { errorRatios } from '../../electron/core/analysis/error-ratios.ts';
import { IMAGENET_X_FACTORS } from '../../native-models/imagenet-x-factors.ts';
import { factorlab } from '../helpers/cli.ts';
import { writeImage } from '../helpers/make-images.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { TINY_CLASSES, TINY_MODEL } from '../helpers/tiny-dataset.ts';

// A tiny ImageNet-style dataset whose files are named like ImageNet validation images, the tiny
// 5-class model run over it, and ImageNet-X annotations for those files (class = the tiny model's
// class index): factorlab imagenetx import -> report -> export, through the real CLI.
let tmp: { path: string; remove(): void };
let lab: string;
let annFile: string;
let runId = 0;
const PER_CLASS = 8;
const valName = (i: number) => `ILSVRC2012_val_${String(i + 1).padStart(8, '0')}.JPEG`;
const factorsOf = (i: number) => IMAGENET_X_FACTORS.filter((_, k) => (i * 7 + k * 3) % 11 < 2 || (k === 1 && i % 3 === 0));
const PROTOTYPES = [valName(0), valName(9)];

function annotationLine(i: number, cls: number): string {
  const rec: Record<string, unknown> = { file_name: valName(i), class: cls };
  // the official files' key order
  for (const k of ['multiple_objects', 'background', 'color', 'brighter', 'darker', 'style', 'larger', 'smaller', 'object_blocking', 'person_blocking', 'partial_view', 'pattern', 'pose', 'shape', 'subcategory', 'texture'])
    rec[k] = factorsOf(i).includes(k as never) ? 1 : 0;
  rec.justification = `image ${i}`;
  rec.one_word = 'fixture';
  return JSON.stringify(rec);
}

beforeAll(async () => {
  tmp = tempDir();
  lab = join(tmp.path, 'lab');
  const root = join(tmp.path, 'val');
  const lines: string[] = [];
  for (let c = 0; c < TINY_CLASSES.length; c++)
    for (let j = 0; j < PER_CLASS; j++) {
      const i = c * PER_CLASS + j;
      await writeImage(join(root, TINY_CLASSES[c], valName(i)), { w: 40, h: 40, rgb: [(c * 50 + j * 9) & 255, (c * 30) & 255, (j * 17) & 255] });
      lines.push(annotationLine(i, c));
    }
  // Annotations whose images are not in the lab: imported, not evaluated for this run.
  for (let i = 100; i < 103; i++) lines.push(annotationLine(i, i % 5));
  annFile = join(tmp.path, 'imagenet_x_val_multi_factor.jsonl');
  writeFileSync(annFile, lines.map((l) => `${l}\n`).join(''));
  writeFileSync(join(tmp.path, 'prototypical_paths.csv'), `file_name\n${PROTOTYPES.join('\n')}\n`);
  writeFileSync(
    join(tmp.path, 'metaclasses.csv'),
    'wnid,name,metaclass\nn1,dog,19\nn2,dog,19\nn3,bird,1\nn4,fish,0\nn5,trilobite,8\n',
  );
  const labels = join(tmp.path, 'labels.txt');
  writeFileSync(labels, TINY_CLASSES.join('\n') + '\n');
  const imp = factorlab(['import', '--lab', lab, '--root', root, '--json']);
  expect(imp.code, imp.stderr).toBe(0);
  const model = factorlab(['model', 'add', '--lab', lab, '--onnx', TINY_MODEL, '--preset', 'none', '--labels', labels, '--json']);
  expect(model.code, model.stderr).toBe(0);
  const run = factorlab(['run', '--lab', lab, '--model', '1', '--dataset', '1', '--json']);
  expect(run.code, run.stderr).toBe(0);
  runId = JSON.parse(run.stdout).id;
}, 120_000);

afterAll(() => tmp?.remove());

/** The expected numbers, straight from the stored predictions. */
function expected(errorType: 'class' | 'metaclass') {
  const l = Lab.open(lab);
  try {
    const preds = l.db.prepare(`SELECT i.file_name, p.pred_class FROM predictions p JOIN images i ON i.id = p.image_id WHERE p.run_id = ?`).all(runId) as { file_name: string; pred_class: number }[];
    const meta = ['dog', 'dog', 'bird', 'other', 'other'];
    const rows = preds
      .filter((p) => !PROTOTYPES.includes(p.file_name))
      .map((p) => {
        const i = Number(p.file_name.slice(15, 23)) - 1;
        const label = Math.floor(i / PER_CLASS);
        const correct = errorType === 'class' ? p.pred_class === label : meta[p.pred_class] === meta[label];
        return { correct, factors: Object.fromEntries(factorsOf(i).map((f) => [f, 1])) };
      });
    return errorRatios(rows);
  } finally {
    l.close();
  }
}

describe('factorlab imagenetx', () => {
  it('imports annotations with the prototypical list and the metaclass mapping, matched to images by file name', () => {
    const r = factorlab(['imagenetx', 'import', '--lab', lab, '--file', annFile, '--source', 'x-val', '--prototypical', join(tmp.path, 'prototypical_paths.csv'), '--metaclasses', join(tmp.path, 'metaclasses.csv'), '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.source).toMatchObject({ name: 'x-val', kind: 'imagenet-x-file', numAnnotations: 43, numMatchedImages: 40, numPrototypes: 2 });
    expect(out.metaclasses).toBe(5);
    expect(out.errors).toEqual([]);
  });

  it('reports per-factor accuracy and error ratio with intervals, as computed from the stored predictions', () => {
    const r = factorlab(['imagenetx', 'report', '--lab', lab, '--run', String(runId), '--source', 'x-val', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const got = JSON.parse(r.stdout);
    const want = expected('class');
    expect(got).toMatchObject({ runId, sourceName: 'x-val', errorType: 'class', predictions: 40, unannotated: 0, prototypesDropped: 2, images: 38, correct: want.correct });
    expect(got.average).toBeCloseTo(want.average, 12);
    expect(got.worstFactor).toBe(want.worstFactor);
    for (const [k, f] of want.factors.entries()) {
      expect(got.factors[k]).toMatchObject({ factor: f.factor, count: f.count, correct: f.correct });
      if (f.errorRatio === null) expect(got.factors[k].errorRatio).toBeNull();
      else expect(got.factors[k].errorRatio).toBeCloseTo(f.errorRatio, 12);
      if (f.count > 0) expect(got.factors[k].accuracyCi[0]).toBeLessThanOrEqual(f.accuracy!);
    }
    expect(want.factors.some((f) => f.count > 0)).toBe(true);

    const text = factorlab(['imagenetx', 'report', '--lab', lab, '--run', String(runId), '--source', '1']);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/38 images evaluated \(0 without annotation, 2 prototypical dropped\)/);
    expect(text.stdout).toMatch(/factor\s+count\s+accuracy \[95% CI\]\s+error ratio \[95% CI\]/);
    const ratios = text.stdout
      .split('\n')
      .map((l) => l.match(/^\s{2}(\w+)\s+\d+\s+[\d.]+% \[[^\]]+\]\s+([\d.]+) \[/))
      .filter((m) => m !== null)
      .map((m) => Number(m![2]));
    expect(ratios.length).toBeGreaterThan(0);
    expect([...ratios].sort((a, b) => b - a)).toEqual(ratios);
  });

  it('reports the metaclass error type with the stored mapping, and keeps prototypes when asked', () => {
    const stored = factorlab(['imagenetx', 'metaclasses', '--lab', lab, '--file', join(tmp.path, 'metaclasses.csv'), '--json']);
    expect(stored.code, stored.stderr).toBe(0);
    expect(JSON.parse(stored.stdout)).toEqual({ classes: 5 });
    const r = factorlab(['imagenetx', 'report', '--lab', lab, '--run', String(runId), '--source', 'x-val', '--error-type', 'metaclass', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const got = JSON.parse(r.stdout);
    const want = expected('metaclass');
    expect(got.correct).toBe(want.correct);
    expect(got.factors.map((f: { correct: number }) => f.correct)).toEqual(want.factors.map((f) => f.correct));
    const keep = JSON.parse(factorlab(['imagenetx', 'report', '--lab', lab, '--run', String(runId), '--source', 'x-val', '--keep-prototypes', '--json']).stdout);
    expect(keep).toMatchObject({ images: 40, prototypesDropped: 0 });
  });

  it('exports the source to a file identical to the imported one', () => {
    const out = join(tmp.path, 'exported.jsonl');
    const r = factorlab(['imagenetx', 'export', '--lab', lab, '--source', 'x-val', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('43 annotations written');
    expect(readFileSync(out, 'utf8')).toBe(readFileSync(annFile, 'utf8'));
  });

  it('reports bad lines as file:line and exits 3; refuses bad input with exit 2', () => {
    const bad = join(tmp.path, 'with_bad_lines.jsonl');
    writeFileSync(bad, `${annotationLine(0, 0)}\n{"file_name": 1}\n${annotationLine(1, 7).replace('"pose":0', '"pose":5')}\n`);
    const r = factorlab(['imagenetx', 'import', '--lab', lab, '--file', bad]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`${bad}:2: `);
    expect(r.stderr).toMatch(new RegExp(`${bad}:3: pose: must be 0 or 1`));
    expect(r.stdout).toMatch(/1 annotations imported from 3 lines, 2 bad lines skipped/);

    const missing = factorlab(['imagenetx', 'import', '--lab', lab, '--file', join(tmp.path, 'nope.jsonl')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/annotation file not found/);
    const dup = factorlab(['imagenetx', 'import', '--lab', lab, '--file', annFile, '--source', 'x-val']);
    expect(dup.code).toBe(2);
    expect(dup.stderr).toMatch(/already exists/);
    const noSource = factorlab(['imagenetx', 'report', '--lab', lab, '--run', String(runId), '--source', 'nope']);
    expect(noSource.code).toBe(2);
    expect(noSource.stderr).toMatch(/no annotation source "nope"/);
    const noRun = factorlab(['imagenetx', 'report', '--lab', lab, '--run', '99', '--source', 'x-val']);
    expect(noRun.code).toBe(2);
    expect(noRun.stderr).toMatch(/no run "99"/);
    const badType = factorlab(['imagenetx', 'report', '--lab', lab, '--run', String(runId), '--source', 'x-val', '--error-type', 'real']);
    expect(badType.code).toBe(2);
    expect(badType.stderr).toMatch(/--error-type must be class or metaclass/);
    const badMeta = join(tmp.path, 'bad-meta.csv');
    writeFileSync(badMeta, 'wnid,name,metaclass\nn1,dog\n');
    const meta = factorlab(['imagenetx', 'metaclasses', '--lab', lab, '--file', badMeta]);
    expect(meta.code).toBe(2);
    expect(meta.stderr).toContain(`${badMeta}:2: expected wnid,name,metaclass`);
    const help = factorlab(['imagenetx', 'report', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('usage: factorlab imagenetx report --run ID --source ID|NAME');
  });

  it("imports the run's predictions as a prediction file: the same numbers as the run; a bad file exits 2 and stores nothing", async () => {
    const l = Lab.open(lab);
    let csv = 'file_name,predicted_class,predicted_probability\n';
    try {
      for (const p of l.db.prepare(`SELECT i.file_name, p.pred_class, p.confidence FROM predictions p JOIN images i ON i.id = p.image_id WHERE p.run_id = ?`).all(runId) as { file_name: string; pred_class: number; confidence: number }[])
        csv += `${p.file_name},${p.pred_class},${p.confidence}\n`;
    } finally {
      l.close();
    }
    const file = join(tmp.path, 'tiny_run.csv');
    writeFileSync(file, csv);
    const r = factorlab(['imagenetx', 'import-predictions', '--lab', lab, '--file', file, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const set = JSON.parse(r.stdout);
    expect(set).toMatchObject({ name: 'tiny_run', numPredictions: 40, numImagesInLab: 40 });
    const bad = join(tmp.path, 'bad_predictions.csv');
    writeFileSync(bad, `${csv}ILSVRC2012_val_00000001.JPEG,3,0.5\n`);
    const refused = factorlab(['imagenetx', 'import-predictions', '--lab', lab, '--file', bad]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`${bad}:42: duplicate file_name ILSVRC2012_val_00000001.JPEG (first on line `);
    const listed = factorlab(['imagenetx', 'prediction-sets', '--lab', lab, '--json']);
    expect(JSON.parse(listed.stdout).map((s: { name: string }) => s.name)).toEqual(['tiny_run']);

    const opened = Lab.open(lab);
    try {
      const chart = await call(opened, 'labels.errorRatios', { runIds: [runId], predictionSetIds: [set.id], sourceId: 1 });
      expect(chart.runs.map((s) => s.subject)).toEqual([{ kind: 'run', id: runId }, { kind: 'predictions', id: set.id }]);
      expect(chart.runs[1].factors).toEqual(chart.runs[0].factors);
      expect([chart.runs[1].images, chart.runs[1].average]).toEqual([chart.runs[0].images, chart.runs[0].average]);
      const cal = await call(opened, 'analysis.calibration', { subject: { kind: 'predictions', id: set.id }, sourceId: 1 });
      expect(cal.overall).toEqual((await call(opened, 'analysis.calibration', { subject: { kind: 'run', id: runId }, sourceId: 1 })).overall);
    } finally {
      opened.close();
    }
  });
});

async function call<M extends Method>(l: Lab, method: M, params: ParamsIn<M>): Promise<Results[M]> {
  const r = await dispatch(createHandlers(l), method, params);
  if (!r.ok) throw new Error(r.error.message);
  return r.result as Results[M];
}

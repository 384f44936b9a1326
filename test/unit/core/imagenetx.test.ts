import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { errorRatios, wilson } from '../../../electron/core/analysis/error-ratios.ts';
import { analyseFactors, metaclassLookup } from '../../../electron/core/analysis/imagenetx-report.ts';
import { formatAnnotationLine, parseAnnotationFile, parseMetaclasses, parsePrototypes, OFFICIAL_FORMAT } from '../../../electron/core/imagenetx/format.ts';
import { exportAnnotationsText, importAnnotations, linkAnnotationImages, listSources, loadMetaclasses, prototypeSet, sourceAnnotations } from '../../../electron/core/imagenetx/annotations.ts';
import { parseCsv } from '../../../electron/core/datasets/parse-csv.ts';
import { openDatabase } from '../../../electron/core/store/database.ts';
import { IMAGENET_X_FACTORS } from '../../../native-models/imagenet-x-factors.ts';
import { tempDir } from '../../helpers/temp-dir.ts';
import { Lab } from '../../../electron/core/lab.ts';
import { createHandlers } from '../../../electron/core/api/handlers.ts';
import { dispatch } from '../../../electron/core/api/dispatch.ts';

const FIX = new URL('../../fixtures/imagenetx/', import.meta.url).pathname;
const ANN = join(FIX, 'imagenet_x_val_multi_factor.jsonl');
const PROTO = join(FIX, 'prototypical_paths.csv');
const META = join(FIX, 'imagenet_1k_classes_to_100_metaclasses.csv');

const dirs: { remove(): void }[] = [];
afterEach(() => dirs.splice(0).forEach((d) => d.remove()));

function freshDb() {
  const d = tempDir();
  dirs.push(d);
  return { db: openDatabase(join(d.path, 'lab.db')), dir: d.path };
}

/** An official-format line with the given factors set. */
function line(fileName: string, cls: number, set: string[], extra: Record<string, unknown> = {}): string {
  const rec: Record<string, unknown> = { file_name: fileName, class: cls };
  for (const k of OFFICIAL_FORMAT.keys.slice(2, 18)) rec[k] = set.includes(k) ? 1 : 0;
  Object.assign(rec, { justification: 'j', one_word: 'w' }, extra);
  return JSON.stringify(rec);
}

function fixturePredictions(): { fileName: string; predicted: number }[] {
  return parseCsv(readFileSync(join(FIX, 'predictions.csv'), 'utf8'))
    .slice(1)
    .map((r) => ({ fileName: r.cells[0], predicted: Number(r.cells[1]) }));
}

describe('ImageNet-X jsonl parsing', () => {
  it('validates every line: bad lines are reported with file:line and why, the rest kept', () => {
    const text = [
      line('a.JPEG', 1, ['pose']),
      '{"file_name": "b.JPEG", "class": 2,',
      line('c.JPEG', 1000, ['pose']),
      line('d.JPEG', 3, [], { color: 2 }),
      '',
      line('a.JPEG', 4, ['color']),
      line('e.JPEG', 5, ['pose'], { colour: 1 }),
      JSON.stringify({ file_name: 'f.JPEG', class: 1 }),
      line('g.JPEG', 999, ['style', 'texture']),
    ].join('\n');
    const r = parseAnnotationFile(text, 'x.jsonl');
    expect(r.annotations.map((a) => a.fileName)).toEqual(['a.JPEG', 'g.JPEG']);
    expect(r.lines).toBe(8);
    const byLine = Object.fromEntries(r.errors.map((e) => [e.line, e.reason]));
    expect(Object.keys(byLine).map(Number)).toEqual([2, 3, 4, 6, 7, 8]);
    expect(byLine[2]).toMatch(/not JSON/);
    expect(byLine[3]).toMatch(/class: must be 0\.\.999/);
    expect(byLine[4]).toMatch(/color: must be 0 or 1/);
    expect(byLine[6]).toMatch(/duplicate file_name a\.JPEG \(first on line 1\)/);
    expect(byLine[7]).toMatch(/colour/);
    expect(byLine[8]).toMatch(/pose/);
    expect(r.errors.every((e) => e.file === 'x.jsonl')).toBe(true);
    const g = r.annotations[1];
    expect(g.factors).toBe((1 << IMAGENET_X_FACTORS.indexOf('style')) | (1 << IMAGENET_X_FACTORS.indexOf('texture')));
    expect(g.topFactor).toBeNull();
  });

  it('records the top factor of a top-factor file and refuses lines that mark none or several', () => {
    const text = [line('a.JPEG', 1, ['pose']), line('b.JPEG', 1, ['pose', 'color']), line('c.JPEG', 1, [])].join('\n');
    const r = parseAnnotationFile(text, 'imagenet_x_val_top_factor.jsonl', { top: true });
    expect(r.annotations).toHaveLength(1);
    expect(r.annotations[0].topFactor).toBe('pose');
    expect(r.errors.map((e) => e.line)).toEqual([2, 3]);
    expect(r.errors[0].reason).toMatch(/exactly one factor.*marks 2 \(pose, color\)/);
  });

  it('reads the prototypical list and the metaclass mapping (row i = class i)', () => {
    expect(parsePrototypes('file_name\na.JPEG\nb.JPEG\n', 'p.csv')).toEqual({ fileNames: ['a.JPEG', 'b.JPEG'], errors: [] });
    const m = parseMetaclasses(readFileSync(META, 'utf8'), META);
    expect(m.errors).toEqual([]);
    expect(m.rows[4]).toEqual({ classIdx: 4, wnid: 'n02085620', name: 'dog', metaclass: 19 });
    expect(parseMetaclasses('wnid,name,metaclass\nn1,fish,x\n', 'm.csv').errors[0]).toMatchObject({ line: 2 });
  });
});

describe('ImageNet-X import and export', () => {
  it('imports a file in one go and exports it again byte for byte', () => {
    const { db } = freshDb();
    const r = importAnnotations(db, { file: ANN, prototypical: PROTO, metaclasses: META });
    expect(r.errors).toEqual([]);
    expect(r.source).toMatchObject({ name: 'imagenet_x_val_multi_factor', kind: 'imagenet-x-file', numAnnotations: 80, numPrototypes: 5, numMatchedImages: 0 });
    expect(r.metaclasses).toBe(12);
    expect(loadMetaclasses(db)).toHaveLength(12);
    expect(prototypeSet(db, r.source.id).size).toBe(5);
    const original = readFileSync(ANN, 'utf8');
    const exported = exportAnnotationsText(db, r.source.id);
    const parse = (t: string) => t.trim().split('\n').map((l) => JSON.parse(l));
    expect(parse(exported)).toEqual(parse(original));
    expect(exported).toBe(original);
    db.close();
  });

  it("keeps another writer's layout: Python's json.dumps spacing, \\uXXXX escapes and escaped slashes", () => {
    const { db, dir } = freshDb();
    const lines = [
      { ...JSON.parse(line('n1_1.JPEG', 3, ['pose'])), justification: 'café/bar, "quoted"\nnext' },
      { ...JSON.parse(line('n1_2.JPEG', 4, ['color', 'darker'])), one_word: null },
    ];
    // What Python's json.dumps(rec) (ensure_ascii, ", " and ": ") writes, with pandas-style "\/".
    const py = lines
      .map((rec) => JSON.stringify(rec).replace(/","/g, '", "').replace(/":/g, '": ').replace(/,"/g, ', "').replace(/é/g, '\\u00e9').replace(/\//g, '\\/'))
      .join('\n') + '\n';
    const file = join(dir, 'python_style.jsonl');
    writeFileSync(file, py);
    const r = importAnnotations(db, { file });
    expect(r.errors).toEqual([]);
    const exported = exportAnnotationsText(db, r.source.id);
    expect(exported).toBe(py);
    expect(sourceAnnotations(db, r.source.id)[0].justification).toBe('café/bar, "quoted"\nnext');
    db.close();
  });

  it('skips bad lines, refuses a file with none good, and a source name already taken', () => {
    const { db, dir } = freshDb();
    const file = join(dir, 'mixed.jsonl');
    writeFileSync(file, [line('a.JPEG', 1, ['pose']), 'oops', line('b.JPEG', 1, ['pose'], { pose: 3 })].join('\n') + '\n');
    const r = importAnnotations(db, { file, source: 'mine' });
    expect(r.source.numAnnotations).toBe(1);
    expect(r.errors.map((e) => `${e.file}:${e.line}`)).toEqual([`${file}:2`, `${file}:3`]);
    expect(() => importAnnotations(db, { file, source: 'mine' })).toThrow(/already exists/);
    const bad = join(dir, 'bad.jsonl');
    writeFileSync(bad, 'nope\n');
    expect(() => importAnnotations(db, { file: bad })).toThrow(/no valid annotation.*bad\.jsonl:1: not JSON/s);
    expect(() => importAnnotations(db, { file: join(dir, 'missing.jsonl') })).toThrow(/annotation file not found/);
    expect(() => importAnnotations(db, { file, source: 'other', metaclasses: bad })).toThrow(/bad metaclass mapping/);
    expect(listSources(db).map((s) => s.name)).toEqual(['mine']);
    db.close();
  });

  it('links annotations imported before their images once a dataset has them', () => {
    const { db } = freshDb();
    const r = importAnnotations(db, { file: ANN });
    const imageIds = () => db.prepare(`SELECT image_id FROM annotations WHERE source_id = ? AND image_id IS NOT NULL`).pluck().all(r.source.id);
    expect(imageIds()).toEqual([]);
    const ds = Number(db.prepare(`INSERT INTO datasets (name, root, source, content_hash) VALUES ('d', '/x', 'folder', 'h')`).run().lastInsertRowid);
    const img = Number(db.prepare(`INSERT INTO images (dataset_id, rel_path, file_name, bytes, sha256) VALUES (?, 'c/ILSVRC2012_val_00000037.JPEG', 'ILSVRC2012_val_00000037.JPEG', 1, 's')`).run(ds).lastInsertRowid);
    expect(linkAnnotationImages(db)).toBe(1);
    expect(imageIds()).toEqual([img]);
    expect(listSources(db)[0].numMatchedImages).toBe(1);
    db.close();
  });

  it('formats lines in the official key order by default', () => {
    const [a] = parseAnnotationFile(line('x.JPEG', 7, ['texture']), 'x').annotations;
    expect(Object.keys(JSON.parse(formatAnnotationLine(a)))).toEqual(OFFICIAL_FORMAT.keys);
  });
});

describe('ImageNet-X API', () => {
  it('validates params and names what is missing', async () => {
    const d = tempDir();
    dirs.push(d);
    const lab = Lab.open(join(d.path, 'lab'));
    try {
      const h = createHandlers(lab);
      const imp = await dispatch(h, 'annotations.import', { file: ANN, source: 'fx' });
      expect(imp).toMatchObject({ ok: true, result: { source: { id: 1, name: 'fx', numAnnotations: 80 } } });
      expect(await dispatch(h, 'annotations.sources', {})).toMatchObject({ ok: true, result: [{ name: 'fx' }] });
      expect(await dispatch(h, 'annotations.import', { file: ANN, kind: 'robot' })).toMatchObject({ ok: false, error: { code: 'invalid_params' } });
      expect(await dispatch(h, 'analysis.errorRatios', { runId: 1, sourceId: 1, errorType: 'real_class' })).toMatchObject({ ok: false, error: { code: 'invalid_params' } });
      expect(await dispatch(h, 'analysis.errorRatios', { runId: 1, sourceId: 1 })).toMatchObject({ ok: false, error: { code: 'not_found', message: 'no run with id 1' } });
      expect(await dispatch(h, 'annotations.export', { sourceId: 9, out: join(d.path, 'x.jsonl') })).toMatchObject({ ok: false, error: { code: 'not_found', message: 'no annotation source with id 9' } });
      expect(await dispatch(h, 'annotations.import', { file: join(d.path, 'none.jsonl') })).toMatchObject({ ok: false, error: { code: 'bad_input' } });
    } finally {
      lab.close();
    }
  });
});

describe('error ratios with Wilson intervals', () => {
  it('matches hand-computed values', () => {
    // Wilson (1927) 95 % intervals, as tabulated: 8/10 -> [0.4902, 0.9433], 1/4 -> [0.0456, 0.6994].
    expect(wilson(8, 10)![0]).toBeCloseTo(0.490162, 6);
    expect(wilson(8, 10)![1]).toBeCloseTo(0.943318, 6);
    expect(wilson(0, 5)).toEqual([0, expect.closeTo(0.434482, 6)]);
    expect(wilson(5, 5)![1]).toBe(1);
    expect(wilson(0, 0)).toBeNull();
    // 10 images, 7 correct. pose: 1 of 4 correct: accuracy 0.25, ratio 0.75 / 0.3 = 2.5; its
    // interval: the accuracy's [0.045587, 0.699358] mapped: [(1 - 0.699358) / 0.3, (1 - 0.045587) / 0.3].
    const rows = [
      ...Array.from({ length: 3 }, () => ({ correct: false, factors: { pose: 1 } })),
      { correct: true, factors: { pose: 1 } },
      ...Array.from({ length: 6 }, () => ({ correct: true, factors: {} })),
    ];
    const r = errorRatios(rows, ['pose', 'style']);
    expect(r).toMatchObject({ images: 10, correct: 7, worstFactor: 'pose', worstFactorAccuracy: 0.25 });
    const pose = r.factors[0];
    expect(pose).toMatchObject({ count: 4, correct: 1, accuracy: 0.25 });
    expect(pose.errorRatio).toBeCloseTo(2.5, 12);
    expect(pose.accuracyCi![0]).toBeCloseTo(0.0455873, 6);
    expect(pose.accuracyCi![1]).toBeCloseTo(0.6993582, 6);
    expect(pose.errorRatioCi![0]).toBeCloseTo((1 - 0.6993582) / 0.3, 5);
    expect(pose.errorRatioCi![1]).toBeCloseTo((1 - 0.0455873) / 0.3, 5);
    expect(r.factors[1]).toMatchObject({ count: 0, accuracy: null, accuracyCi: null, errorRatio: null, errorRatioCi: null });
  });

  it('maps classes to metaclasses as the toolkit does: the name if one of its 17 metaclasses, else "other"', () => {
    const meta = metaclassLookup(parseMetaclasses(readFileSync(META, 'utf8'), META).rows);
    expect([0, 2, 4, 6, 10, 11].map(meta)).toEqual(['other', 'bird', 'dog', 'snake', 'other', 'food']);
    const ann = parseAnnotationFile([line('a', 0, ['pose']), line('b', 4, ['pose']), line('c', 2, [])].join('\n'), 'x').annotations;
    // fish (0) predicted as racket (10): both "other", so right at metaclass level; dog -> bird wrong.
    const preds = [
      { fileName: 'a', predicted: 10 },
      { fileName: 'b', predicted: 2 },
      { fileName: 'c', predicted: 3 },
    ];
    const rows = parseMetaclasses(readFileSync(META, 'utf8'), META).rows;
    const byClass = analyseFactors(preds, ann, { errorType: 'class' });
    const byMeta = analyseFactors(preds, ann, { errorType: 'metaclass', metaclasses: rows });
    expect(byClass.correct).toBe(0);
    expect(byMeta.correct).toBe(2);
    expect(byMeta.factors.find((f) => f.factor === 'pose')).toMatchObject({ count: 2, correct: 1, accuracy: 0.5 });
    expect(() => analyseFactors(preds, ann, { errorType: 'metaclass' })).toThrow(/metaclass mapping/);
    expect(() => analyseFactors([{ fileName: 'a', predicted: 500 }], ann, { errorType: 'metaclass', metaclasses: rows })).toThrow(/class 500 is not in the metaclass mapping/);
  });

  it('agrees with the independent Python reference (test/fixtures/imagenetx/make_reference.py) to 1e-12', () => {
    const expected = JSON.parse(readFileSync(join(FIX, 'expected.json'), 'utf8'));
    if (existsSync('/usr/bin/python3')) {
      // The committed numbers are what the script computes now.
      const d = tempDir();
      dirs.push(d);
      const out = join(d.path, 'expected.json');
      const r = spawnSync('/usr/bin/python3', [join(FIX, 'make_reference.py'), out], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      expect(JSON.parse(readFileSync(out, 'utf8'))).toEqual(expected);
    }
    const { annotations } = parseAnnotationFile(readFileSync(ANN, 'utf8'), ANN);
    const prototypes = new Set(parsePrototypes(readFileSync(PROTO, 'utf8'), PROTO).fileNames);
    const metaclasses = parseMetaclasses(readFileSync(META, 'utf8'), META).rows;
    const preds = fixturePredictions();
    const close = (a: number | null, b: number | null) => (a === null || b === null ? expect(a).toBe(b) : expect(Math.abs(a - b)).toBeLessThan(1e-12));
    const closeCi = (a: [number, number] | null, b: [number, number] | null) => (a === null || b === null ? expect(a).toBe(b) : (close(a[0], b[0]), close(a[1], b[1])));
    for (const errorType of ['class', 'metaclass'] as const)
      for (const keep of [false, true]) {
        const want = expected[`${errorType}${keep ? '_keep_prototypes' : ''}`];
        const got = analyseFactors(preds, annotations, { errorType, metaclasses, prototypes: keep ? new Set() : prototypes });
        expect(got.images).toBe(want.evaluated);
        expect(got.correct).toBe(want.correct);
        expect(got.unannotated).toBe(5);
        expect(got.prototypesDropped).toBe(keep ? 0 : 5);
        close(got.average, want.average);
        closeCi(got.averageCi, want.average_ci);
        close(got.worstFactorAccuracy, want.worst_factor);
        for (const f of got.factors) {
          const w = want.factors[f.factor];
          expect(f.count).toBe(w.count);
          expect(f.correct).toBe(w.correct);
          close(f.accuracy, w.accuracy);
          close(f.errorRatio, w.error_ratio);
          closeCi(f.accuracyCi, w.accuracy_ci);
          closeCi(f.errorRatioCi, w.error_ratio_ci);
        }
      }
  });
});

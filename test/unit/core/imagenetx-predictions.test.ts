import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { parsePredictions, parsePredictionsText } from '../../../electron/core/imagenetx/predictions.ts';
import { evaluateFiles, evaluatePredictions, parseModelSpec, prepareAnnotations, readAnnotationFile, type ModelEvaluation } from '../../../electron/core/imagenetx/evaluate-predictions.ts';
import { BadInputError } from '../../../electron/core/errors.ts';
import { IMAGENET_X_FACTORS } from '../../../native-models/imagenet-x-factors.ts';

const FIX = new URL('../../fixtures/imagenetx/', import.meta.url).pathname;
const HAND = join(FIX, 'hand');
const HEADER = 'file_name,predicted_class,predicted_probability';

function errorsOf(text: string, numClasses?: number) {
  const r = parsePredictionsText(text, 'p.csv', { numClasses });
  expect(r.table).toBeNull();
  return r.errors.map((e) => `${e.file}:${e.line}: ${e.reason}`);
}

describe('prediction CSV parser', () => {
  it('reads the toolkit format, in any column order, with Python float spellings', () => {
    const t = parsePredictions(`${HEADER}\nA.JPEG,394,0.5530332327\nB.JPEG,0,0.8365915418000001\nC.JPEG,999,1e-05\n`, 'p.csv');
    expect(t.fileNames).toEqual(['A.JPEG', 'B.JPEG', 'C.JPEG']);
    expect([...t.predicted]).toEqual([394, 0, 999]);
    expect([...t.probability]).toEqual([0.5530332327, 0.8365915418000001, 1e-5]);
    expect([...t.lines]).toEqual([2, 3, 4]);
    const r = parsePredictions('predicted_probability,file_name,predicted_class\r\n0.25,"A,1.JPEG",3\r\n', 'p.csv');
    expect(r.fileNames).toEqual(['A,1.JPEG']);
    expect(r.predicted[0]).toBe(3);
    expect(r.probability[0]).toBe(0.25);
  });

  it('refuses a header with a missing column', () => {
    expect(errorsOf('file_name,predicted_class\nA.JPEG,1\n')).toEqual(['p.csv:1: bad header (missing column predicted_probability): expected file_name,predicted_class,predicted_probability']);
  });

  it('refuses a header with an extra column', () => {
    expect(errorsOf(`${HEADER},logit\nA.JPEG,1,0.5,3.2\n`)[0]).toBe(`p.csv:1: bad header (unexpected column "logit"): expected ${HEADER}`);
  });

  it('refuses a row with the wrong number of fields', () => {
    expect(errorsOf(`${HEADER}\nA.JPEG,1,0.5\nB.JPEG,1\n`)).toEqual(['p.csv:3: expected 3 fields (file_name,predicted_class,predicted_probability), got 2']);
  });

  it('refuses duplicate file names, naming both lines', () => {
    expect(errorsOf(`${HEADER}\nA.JPEG,1,0.5\nB.JPEG,1,0.5\nA.JPEG,2,0.7\n`)).toEqual(['p.csv:4: duplicate file_name A.JPEG (first on line 2)']);
  });

  it('refuses a class out of range or not an integer', () => {
    expect(errorsOf(`${HEADER}\nA.JPEG,1000,0.5\nB.JPEG,-1,0.5\nC.JPEG,2.0,0.5\nD.JPEG,cat,0.5\n`)).toEqual([
      'p.csv:2: predicted_class 1000 is out of range 0..999',
      'p.csv:3: predicted_class -1 is out of range 0..999',
      'p.csv:4: predicted_class "2.0" is not an integer',
      'p.csv:5: predicted_class "cat" is not an integer',
    ]);
    expect(errorsOf(`${HEADER}\nA.JPEG,5,0.5\n`, 5)).toEqual(['p.csv:2: predicted_class 5 is out of range 0..4']);
  });

  it('refuses a non-numeric, empty, NaN or out-of-range probability', () => {
    expect(errorsOf(`${HEADER}\nA.JPEG,1,high\nB.JPEG,1,\nC.JPEG,1,nan\nD.JPEG,1,1.5\nE.JPEG,1,-0.1\n`)).toEqual([
      'p.csv:2: predicted_probability "high" is not a number',
      'p.csv:3: predicted_probability "" is not a number',
      'p.csv:4: predicted_probability "nan" is not a number',
      'p.csv:5: predicted_probability 1.5 is outside [0, 1]',
      'p.csv:6: predicted_probability -0.1 is outside [0, 1]',
    ]);
  });

  it('refuses an empty file name, an empty file and a header-only file', () => {
    expect(errorsOf(`${HEADER}\n,1,0.5\n`)).toEqual(['p.csv:2: file_name is empty']);
    expect(errorsOf('')).toEqual([`p.csv:1: empty file: expected a header ${HEADER}`]);
    expect(errorsOf(`${HEADER}\n`)).toEqual(['p.csv:1: no prediction rows after the header']);
  });

  it('reports every bad line at once and imports nothing (BadInputError)', () => {
    const text = `${HEADER}\nA.JPEG,1,0.5\nB.JPEG,x,0.5\nC.JPEG,1,y\n`;
    expect(() => parsePredictions(text, 'p.csv')).toThrow(BadInputError);
    expect(() => parsePredictions(text, 'p.csv')).toThrow(/p\.csv:3: predicted_class "x".*\n.*p\.csv:4: predicted_probability "y"/);
  });

  it('names a model NAME=FILE, or by the file stem as the toolkit does', () => {
    expect(parseModelSpec('resnet=/a/b=c.csv')).toEqual({ name: 'resnet', file: '/a/b=c.csv' });
    expect(parseModelSpec('/x/ResNet50.csv')).toEqual({ name: 'ResNet50', file: '/x/ResNet50.csv' });
  });
});

const factor = (e: ModelEvaluation, f: string) => e.factors.find((x) => x.factor === f)!;

describe('hand-computed case (test/fixtures/imagenetx/hand)', () => {
  const files = {
    annotations: join(HAND, 'imagenet_x_val_multi_factor.jsonl'),
    models: [{ name: 'm', file: join(HAND, 'predictions.csv') }],
  };
  // Images (class, factors, predicted, p): 1 (0, pose, 0, 0.9) ok; 2 (1, pose+background, 2, 0.6) wrong;
  // 3 (2, background, 2, 0.58) ok; 4 (3, color, 3, 0.4) ok; 5 (4, background, 5, 0.2) wrong;
  // 6 (5, pose, 0, 1.0) wrong but prototypical. Row ..._99 has no annotation.
  it('error ratios with the prototype filter', () => {
    const [e] = evaluateFiles({ ...files, prototypesFile: join(HAND, 'prototypical_paths.csv') });
    // 5 images, 3 correct: average 0.6
    expect([e.images, e.correct, e.average, e.unannotated, e.missing, e.prototypesDropped]).toEqual([5, 3, 0.6, 2, 0, 1]);
    // pose: images 1, 2 -> 1/2; error ratio 0.5 / 0.4 = 1.25
    expect(factor(e, 'pose')).toMatchObject({ count: 2, correct: 1, accuracy: 0.5 });
    expect(factor(e, 'pose').errorRatio).toBeCloseTo(1.25, 12);
    // background: images 2, 3, 5 -> 1/3; (2/3) / 0.4 = 5/3
    expect(factor(e, 'background')).toMatchObject({ count: 3, correct: 1 });
    expect(factor(e, 'background').errorRatio).toBeCloseTo(5 / 3, 12);
    // color: image 4 -> 1; error ratio 0
    expect(factor(e, 'color')).toMatchObject({ count: 1, correct: 1, accuracy: 1, errorRatio: 0 });
    expect(factor(e, 'texture')).toMatchObject({ count: 0, accuracy: null, errorRatio: null });
    expect(e.worstFactorAccuracy).toBeCloseTo(1 / 3, 15);
    expect(e.worstFactor).toBe('background');
  });

  it('15-bin ECE: bins (lo, hi], 0.6 = 9/15 shares bin 8 with 0.58', () => {
    const [e] = evaluateFiles({ ...files, prototypesFile: join(HAND, 'prototypical_paths.csv') });
    // all: bin 13 {0.9 ok}: 0.1; bin 8 {0.6 wrong, 0.58 ok}: |0.5 - 0.59| * 2 = 0.18; bin 5 {0.4 ok}: 0.6;
    // bin 2 {0.2 wrong}: 0.2. ECE = (0.1 + 0.18 + 0.6 + 0.2) / 5 = 0.216
    expect(e.calibration.average.ece).toBeCloseTo(0.216, 12);
    const bins = e.calibration.average.bins;
    expect(bins.map((b) => b.count)).toEqual([0, 0, 1, 0, 0, 1, 0, 0, 2, 0, 0, 0, 0, 1, 0]);
    expect(bins[8].accuracy).toBe(0.5);
    expect(bins[8].confidence).toBeCloseTo(0.59, 12);
    // pose {0.9 ok, 0.6 wrong}: (0.1 + 0.6) / 2 = 0.35; background {0.6 w, 0.58 ok, 0.2 w}: (0.18 + 0.2) / 3
    expect(e.calibration.factors.pose.ece).toBeCloseTo(0.35, 12);
    expect(e.calibration.factors.background.ece).toBeCloseTo(0.38 / 3, 12);
    expect(e.calibration.factors.color.ece).toBeCloseTo(0.6, 12);
    expect(e.calibration.factors.texture.ece).toBeNull();
    expect(e.calibration.worstFactor).toBeCloseTo(0.6, 12);
  });

  it('without the prototype filter', () => {
    const [e] = evaluateFiles({ ...files, prototypesFile: null });
    // + image 6 (wrong): 6 images, 3 correct; pose 1/3 -> (2/3) / 0.5 = 4/3
    expect([e.images, e.average, e.unannotated, e.prototypesDropped]).toEqual([6, 0.5, 1, 0]);
    expect(factor(e, 'pose').errorRatio).toBeCloseTo(4 / 3, 12);
  });

  it('an annotated image without a prediction is an error unless allowed (then the inner join)', () => {
    const preds = parsePredictions(`${HEADER}\nILSVRC2012_val_00000001.JPEG,0,0.9\nILSVRC2012_val_00000002.JPEG,2,0.6\n`, 'two.csv');
    const prep = prepareAnnotations(readAnnotationFile(files.annotations), { prototypes: new Set(['ILSVRC2012_val_00000006.JPEG']) });
    expect(() => evaluatePredictions('two', preds, prep)).toThrow(
      'two.csv: no prediction for 3 of the 5 annotated non-prototypical images (first: ILSVRC2012_val_00000003.JPEG, ILSVRC2012_val_00000004.JPEG, ILSVRC2012_val_00000005.JPEG)',
    );
    const e = evaluatePredictions('two', preds, prep, { allowMissing: true, prototypes: new Set(['x']) });
    expect([e.images, e.correct, e.missing]).toEqual([2, 1, 3]);
  });
});

describe('fixture reference numbers (make_reference.py, make_calibration_reference.py)', () => {
  const expected = JSON.parse(readFileSync(join(FIX, 'expected.json'), 'utf8'));
  const expectedCal = JSON.parse(readFileSync(join(FIX, 'expected_calibration.json'), 'utf8'));
  const base = { annotations: join(FIX, 'imagenet_x_val_multi_factor.jsonl'), metaclassesFile: join(FIX, 'imagenet_1k_classes_to_100_metaclasses.csv'), models: [{ name: 'm', file: join(FIX, 'predictions.csv') }] };

  for (const errorType of ['class', 'metaclass'] as const)
    for (const filter of [true, false]) {
      const key = `${errorType}${filter ? '' : '_keep_prototypes'}`;
      it(`error ratios agree with expected.json[${key}] to 1e-12`, () => {
        const [e] = evaluateFiles({ ...base, errorType, prototypesFile: filter ? join(FIX, 'prototypical_paths.csv') : null, allowMissing: false });
        const x = expected[key];
        expect(e.images).toBe(x.evaluated);
        expect(e.correct).toBe(x.correct);
        expect(e.average).toBeCloseTo(x.average, 12);
        expect(e.worstFactorAccuracy).toBeCloseTo(x.worst_factor, 12);
        for (const f of e.factors) {
          const r = x.factors[f.factor];
          expect(f.count).toBe(r.count);
          expect(f.accuracy).toBeCloseTo(r.accuracy, 12);
          expect(f.errorRatio).toBeCloseTo(r.error_ratio, 12);
          expect(f.errorRatioCi![0]).toBeCloseTo(r.error_ratio_ci[0], 12);
          expect(f.errorRatioCi![1]).toBeCloseTo(r.error_ratio_ci[1], 12);
        }
      });
    }

  for (const errorType of ['class', 'metaclass'] as const)
    it(`ECE agrees with expected_calibration.json[${errorType}] (numpy reference) to 1e-12`, () => {
      const [e] = evaluateFiles({ ...base, errorType, prototypesFile: join(FIX, 'prototypical_paths.csv') });
      const x = expectedCal[errorType];
      expect(e.calibration.average.ece).toBeCloseTo(x.average, 12);
      expect(e.calibration.worstFactor).toBeCloseTo(x.worst_factor, 12);
      for (const f of IMAGENET_X_FACTORS) expect(e.calibration.factors[f].ece).toBeCloseTo(x.factors[f], 12);
    });

  it.skipIf(!existsSync('/usr/bin/python3') || spawnSync('/usr/bin/python3', ['-c', 'import numpy']).status !== 0)('the committed calibration reference is what the script computes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ixcal-'));
    try {
      const out = join(dir, 'cal.json');
      const r = spawnSync('/usr/bin/python3', ['-B', join(FIX, 'make_calibration_reference.py'), out], { encoding: 'utf8', cwd: FIX });
      expect(r.status, r.stderr).toBe(0);
      expect(JSON.parse(readFileSync(out, 'utf8'))).toEqual(expectedCal);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

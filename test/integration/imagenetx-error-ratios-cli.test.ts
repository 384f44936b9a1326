import { afterAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { factorlab } from '../helpers/cli.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { IMAGENET_X_FACTORS } from '../../native-models/imagenet-x-factors.ts';

// `factorlab imagenetx error-ratios` on the fixture files (official formats), through the real CLI:
// no lab, no images.
const FIX = new URL('../fixtures/imagenetx/', import.meta.url).pathname;
const ANN = join(FIX, 'imagenet_x_val_multi_factor.jsonl');
const PROTO = join(FIX, 'prototypical_paths.csv');
const META = join(FIX, 'imagenet_1k_classes_to_100_metaclasses.csv');
const PRED = join(FIX, 'predictions.csv');
const expected = JSON.parse(readFileSync(join(FIX, 'expected.json'), 'utf8'));
const expectedCal = JSON.parse(readFileSync(join(FIX, 'expected_calibration.json'), 'utf8'));
const tmp = tempDir();
afterAll(() => tmp.remove());

describe('factorlab imagenetx error-ratios', () => {
  it('--json: the documented shape, numbers equal to the independent reference, several models', () => {
    const r = factorlab(['imagenetx', 'error-ratios', '--annotations', ANN, '--prototypes', PROTO, '--predictions', `resnet=${PRED}`, '--predictions', `copy=${PRED}`, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(Object.keys(out.models)).toEqual(['resnet', 'copy']);
    const m = out.models.resnet;
    const x = expected.class;
    expect(m.evaluated).toBe(x.evaluated);
    expect(Math.abs(m.average - x.average)).toBeLessThan(1e-12);
    expect(Math.abs(m.worst_factor - x.worst_factor)).toBeLessThan(1e-12);
    expect(Object.keys(m.factors)).toEqual([...IMAGENET_X_FACTORS]);
    for (const f of IMAGENET_X_FACTORS) {
      expect(m.factors[f].count).toBe(x.factors[f].count);
      expect(Math.abs(m.factors[f].accuracy - x.factors[f].accuracy)).toBeLessThan(1e-12);
      expect(Math.abs(m.factors[f].error_ratio - x.factors[f].error_ratio)).toBeLessThan(1e-12);
      expect(Math.abs(m.calibration.factors[f].ece - expectedCal.class.factors[f])).toBeLessThan(1e-12);
    }
    expect(Math.abs(m.calibration.average - expectedCal.class.average)).toBeLessThan(1e-12);
    expect(m.calibration.reliability).toHaveLength(15);
    expect(m.calibration.reliability[0]).toEqual(expect.objectContaining({ lo: 0, count: expect.any(Number) }));
    expect(out.models.copy.factors).toEqual(m.factors);
  });

  it('--error-type metaclass and --no-prototype-filter', () => {
    const r = factorlab(['imagenetx', 'error-ratios', '--annotations', ANN, '--no-prototype-filter', '--metaclasses', META, '--error-type', 'metaclass', '--predictions', `m=${PRED}`, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const m = JSON.parse(r.stdout).models.m;
    const x = expected.metaclass_keep_prototypes;
    expect(m.evaluated).toBe(x.evaluated);
    expect(Math.abs(m.average - x.average)).toBeLessThan(1e-12);
    for (const f of IMAGENET_X_FACTORS) expect(Math.abs(m.factors[f].error_ratio - x.factors[f].error_ratio)).toBeLessThan(1e-12);
  });

  it('text mode: factors as rows, models as columns', () => {
    const r = factorlab(['imagenetx', 'error-ratios', '--annotations', ANN, '--prototypes', PROTO, '--predictions', `alpha=${PRED}`, '--predictions', `beta=${PRED}`]);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[1]).toMatch(/^\s+alpha\s+beta$/);
    expect(r.stdout).toMatch(/^darker\s+2\.027 \(0\.00, 6\)\s+2\.027 \(0\.00, 6\)$/m);
    expect(r.stdout).toMatch(/^evaluated\s+75\s+75$/m);
  });

  it('bad input: exit 2 with file:line, nothing printed on stdout', () => {
    const bad = join(tmp.path, 'bad.csv');
    writeFileSync(bad, 'file_name,predicted_class,predicted_probability\nILSVRC2012_val_00000037.JPEG,5,0.6\nILSVRC2012_val_00000037.JPEG,5,abc\n');
    const r = factorlab(['imagenetx', 'error-ratios', '--annotations', ANN, '--prototypes', PROTO, '--predictions', `ok=${PRED}`, '--predictions', `bad=${bad}`, '--json']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`${bad}:3: predicted_probability "abc" is not a number; duplicate file_name ILSVRC2012_val_00000037.JPEG (first on line 2)`);
  });

  it('missing predictions: exit 2 naming how many and the first ones; --allow-missing evaluates the inner join', () => {
    const few = join(tmp.path, 'few.csv');
    writeFileSync(few, readFileSync(PRED, 'utf8').split('\n').slice(0, 11).join('\n') + '\n');
    const args = ['imagenetx', 'error-ratios', '--annotations', ANN, '--prototypes', PROTO, '--predictions', `few=${few}`, '--json'];
    const r = factorlab(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no prediction for \d+ of the 75 annotated non-prototypical images \(first: ILSVRC2012_val_\d+\.JPEG, /);
    const ok = factorlab([...args, '--allow-missing']);
    expect(ok.code, ok.stderr).toBe(0);
    const m = JSON.parse(ok.stdout).models.few;
    expect(m.evaluated + m.missing).toBe(75);
  });

  it('a bad annotation line, a missing file, usage errors: exit 2', () => {
    const ann = join(tmp.path, 'ann.jsonl');
    writeFileSync(ann, readFileSync(ANN, 'utf8').replace('"class":5', '"class":"five"'));
    const r1 = factorlab(['imagenetx', 'error-ratios', '--annotations', ann, '--no-prototype-filter', '--predictions', PRED]);
    expect(r1.code).toBe(2);
    expect(r1.stderr).toContain(`${ann}:1: class:`);
    const r2 = factorlab(['imagenetx', 'error-ratios', '--annotations', join(tmp.path, 'nope.jsonl'), '--no-prototype-filter', '--predictions', PRED]);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toMatch(/annotation file not found/);
    const r3 = factorlab(['imagenetx', 'error-ratios', '--annotations', ANN, '--predictions', PRED]);
    expect(r3.code).toBe(2);
    expect(r3.stderr).toMatch(/--prototypes prototypical_paths.csv, or pass --no-prototype-filter/);
    const r4 = factorlab(['imagenetx', 'error-ratios', '--annotations', ANN, '--no-prototype-filter', '--error-type', 'metaclass', '--predictions', PRED]);
    expect(r4.code).toBe(2);
    expect(r4.stderr).toMatch(/needs --metaclasses/);
  });
});

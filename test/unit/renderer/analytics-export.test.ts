// The exports of the ImageNet-X analytics charts (reliability diagram, failure distribution,
// co-occurrence), built from the core's own summaries of a small hand case.
import { describe, expect, it } from 'vitest';
import type { CalibrationReport, FactorCooccurrenceReport, FactorDistributionReport } from '../../../electron/contract.ts';
import { IMAGENET_X_FACTORS } from '../../../native-models/imagenet-x-factors.ts';
import { allocateEvaluated } from '../../../electron/core/analysis/evaluated-images.ts';
import { factorCalibration } from '../../../electron/core/analysis/factor-calibration.ts';
import { factorDistribution } from '../../../electron/core/analysis/factor-distribution.ts';
import { factorCooccurrence } from '../../../electron/core/analysis/factor-cooccurrence.ts';
import { calibrationCsv, curveOf, reliabilitySvg } from '../../../renderer/src/lib/calibration-export.ts';
import { distributionCsv, distributionSvg } from '../../../renderer/src/lib/distribution-export.ts';
import { cooccurrenceCells, cooccurrenceCsv, cooccurrenceSvg } from '../../../renderer/src/lib/cooccurrence-export.ts';
import { parseSubjectKey, subjectKey } from '../../../renderer/src/lib/subjects.ts';

const bit = (f: string) => 1 << IMAGENET_X_FACTORS.indexOf(f as (typeof IMAGENET_X_FACTORS)[number]);
// (correct, confidence, factors): the hand fixture's five evaluated images
const rows: [number, number, number][] = [
  [1, 0.9, bit('pose')],
  [0, 0.6, bit('pose') | bit('background')],
  [1, 0.58, bit('background')],
  [1, 0.4, bit('color')],
  [0, 0.2, bit('background')],
];
const e = allocateEvaluated('class', rows.length);
rows.forEach(([ok, p, m], i) => {
  e.correct[i] = ok;
  e.confidence[i] = p;
  e.factors[i] = m;
  e.fileNames[i] = `f${i}`;
});
const header = { subject: { kind: 'predictions' as const, id: 2 }, name: 'model, "a"', sourceId: 1, sourceName: 'hand', errorType: 'class' as const, images: 5 };
const cal: CalibrationReport = { ...header, ...factorCalibration(e) };
const dist: FactorDistributionReport = { ...header, ...factorDistribution(e) };
const cooc: FactorCooccurrenceReport = { sourceId: 1, sourceName: 'hand', subject: null, name: null, factors: [...IMAGENET_X_FACTORS], ...factorCooccurrence(e.factors) };

describe('reliability diagram exports', () => {
  it('CSV: one line per curve and bin, the curve ECE on each', () => {
    const lines = calibrationCsv(cal).trimEnd().split('\n');
    expect(lines[0]).toBe('subject,source,factor,bin,lo,hi,count,mean_confidence,accuracy,ece');
    expect(lines).toHaveLength(1 + 17 * 15);
    expect(lines[1 + 8]).toMatch(/^"model, ""a""",hand,overall,8,0\.5333333333333333,0\.6,2,0\.59,0\.5,0\.216/);
  });

  it('SVG: a bar with its count per non-empty bin, the diagonal, the ECE in the legend', () => {
    const svg = reliabilitySvg(cal, null);
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.match(/<rect x="[\d.]+" y="[\d.]+" width="[\d.]+" height="[\d.]+" fill="#3b6fd8"><title>/g)).toHaveLength(4);
    expect(svg).toContain('ECE 0.2160, 5 images');
    expect(svg).toContain('>2</text>');
    expect(svg).toContain('stroke-dasharray="4 3"');
    expect(reliabilitySvg(cal, 'pose')).toContain('ECE 0.3500, 2 images');
    expect(curveOf(cal, 'texture').count).toBe(0);
  });
});

describe('failure distribution exports', () => {
  it('CSV and SVG: shares of failures and of all images per factor', () => {
    const lines = distributionCsv(dist).trimEnd().split('\n');
    expect(lines).toHaveLength(17);
    expect(lines.find((l) => l.includes(',background,'))).toBe('"model, ""a""",hand,background,3,0.6,2,1,1.6666666666666667,5,2');
    const svg = distributionSvg(dist);
    // failures bars where failures carry the factor (pose, background), image bars for pose, background, color
    expect(svg.match(/fill="#d4423a"><title>/g)).toHaveLength(2);
    expect(svg.match(/fill="#9aa3b5"><title>/g)).toHaveLength(3);
  });
});

describe('co-occurrence exports', () => {
  it('normalisations, CSV, SVG', () => {
    const [pose, bg] = [IMAGENET_X_FACTORS.indexOf('pose'), IMAGENET_X_FACTORS.indexOf('background')];
    expect(cooccurrenceCells(cooc, 'conditional').value[pose][bg]).toBe(0.5);
    expect(cooccurrenceCells(cooc, 'count').shade[bg][bg]).toBe(1);
    expect(cooccurrenceCells(cooc, 'jaccard').value[bg][pose]).toBe(0.25);
    const lines = cooccurrenceCsv(cooc).trimEnd().split('\n');
    expect(lines).toHaveLength(1 + 256);
    expect(lines).toContain('hand,annotated images,pose,background,1,0.5,0.25,5');
    const svg = cooccurrenceSvg(cooc, 'conditional');
    expect(svg.match(/<rect x="\d+" y="\d+" width="40" height="40"/g)).toHaveLength(256);
    expect(svg).toContain('P(column | row)');
  });

  it('subject keys round-trip', () => {
    expect(parseSubjectKey(subjectKey({ kind: 'predictions', id: 3 }))).toEqual({ kind: 'predictions', id: 3 });
    expect(parseSubjectKey('r12')).toEqual({ kind: 'run', id: 12 });
    expect(parseSubjectKey('x1')).toBeNull();
  });
});

// The Patch view's sweeps (Figure 5): which stored results are points of the λ / k sweeps of a
// result (as the core's sweepOf), the CLI's missing points, the series and the SVG / CSV exports.
import { describe, expect, it } from 'vitest';
import type { DebugSettings, DebugSummary } from '../../../electron/contract.ts';
import { missingSweepPoints, sweepCsv, sweepKs, sweepSeries, sweepsOf, sweepSvg, SWEEP_LAMBDAS } from '../../../renderer/src/lib/patch-sweep.ts';

const base: DebugSettings = { attributionId: 1, individualSetId: 2, randomSetId: 3, trainRunId: 4, testRunId: 5, lambda: 0.5, k: null, optimizer: 'sgd', epochs: 20, seed: 0 };

function summary(id: number, over: Partial<DebugSettings>, heldout = 0.5, random = true): DebugSummary {
  const settings = { ...base, ...over };
  const acc = { test: 0.9, seed: 0.1, heldout };
  return {
    id,
    runId: 9,
    attributionId: settings.attributionId,
    settings,
    lambda: settings.lambda,
    before: { test: 0.9, seed: 0, heldout: 0.2 },
    individual: acc,
    random: random ? { test: 0.88, seed: 0.05, heldout: heldout / 2 } : null,
    generated: { individual: 10 * id, random: 10 * id, randomAccepted: 10 * id },
    createdAt: '2026-01-01T00:00:00Z',
  };
}

describe('sweepsOf', () => {
  it('keeps the results that differ only in λ (all backgrounds) or only in k (same λ), sorted', () => {
    const results = [
      summary(1, {}),
      summary(2, { lambda: 2 }),
      summary(3, { lambda: 0 }),
      summary(4, { k: 2 }),
      summary(5, { k: 1 }),
      summary(6, { lambda: 2, k: 1 }), // neither: other λ and a k
      summary(7, { seed: 1 }), // other seed
      summary(8, { randomSetId: null }), // other baseline
      summary(9, { attributionId: 2 }),
      summary(10, { lambda: 2 }), // the same point again: the oldest is kept
    ];
    const s = sweepsOf(results, base);
    expect(s.lambda.map((p) => [p.x, p.resultId])).toEqual([
      [0, 3],
      [0.5, 1],
      [2, 2],
    ]);
    expect(s.k.map((p) => [p.x, p.resultId])).toEqual([
      [1, 5],
      [2, 4],
    ]);
    // from a k result: the same sweeps (its λ, every k; the λ sweep over all backgrounds)
    const fromK = sweepsOf(results, { ...base, k: 2 });
    expect(fromK.lambda.map((p) => p.resultId)).toEqual([3, 1, 2]);
    expect(fromK.k.map((p) => p.resultId)).toEqual([5, 4]);
  });

  it('lists the CLI points not stored: λ 0, 0.25, 0.5, 1, 2, 4 then k 1..the attribution k', () => {
    expect(SWEEP_LAMBDAS).toEqual([0, 0.25, 0.5, 1, 2, 4]);
    expect(sweepKs(3)).toEqual([1, 2, 3]);
    expect(sweepKs(0)).toEqual([]);
    const s = sweepsOf([summary(1, {}), summary(2, { lambda: 2 }), summary(5, { k: 1 })], base);
    const missing = missingSweepPoints(s, base, 3);
    expect(missing.map((m) => [m.lambda, m.k])).toEqual([
      [0, null],
      [0.25, null],
      [1, null],
      [4, null],
      [0.5, 2],
      [0.5, 3],
    ]);
    // the rest of the settings are the result's
    for (const m of missing) expect({ ...m, lambda: 0, k: null }).toEqual({ ...base, lambda: 0, k: null });
    // nothing missing once every point is stored
    const all = [...SWEEP_LAMBDAS.map((l, i) => summary(20 + i, { lambda: l })), ...[1, 2, 3].map((k) => summary(30 + k, { k }))];
    expect(missingSweepPoints(sweepsOf(all, base), base, 3)).toEqual([]);
  });
});

describe('series and exports', () => {
  const points = sweepsOf([summary(1, {}, 0.6), summary(2, { lambda: 2 }, 0.8)], base).lambda;

  it('draws individual and random × heldout / test / seed; random only when every point has it', () => {
    const series = sweepSeries(points);
    expect(series.map((s) => s.label)).toEqual(['individual heldout', 'individual test', 'individual seed', 'random heldout', 'random test', 'random seed']);
    expect(series[0]!.values).toEqual([0.6, 0.8]);
    expect(series[3]!.values).toEqual([0.3, 0.4]);
    const noRandom = sweepsOf([summary(1, {}), summary(2, { lambda: 2 }, 0.5, false)], base).lambda;
    expect(sweepSeries(noRandom).map((s) => s.row)).toEqual(['individual', 'individual', 'individual']);
  });

  it('writes the CSV (a row per point) and a standalone SVG (a circle per value)', () => {
    expect(sweepCsv(points, 'lambda').split('\n')).toEqual([
      'lambda,result,individual_heldout,individual_test,individual_seed,random_heldout,random_test,random_seed,images',
      '0.5,1,0.600000,0.900000,0.100000,0.300000,0.880000,0.050000,10',
      '2,2,0.800000,0.900000,0.100000,0.400000,0.880000,0.050000,20',
      '',
    ]);
    const svg = sweepSvg(points, 'lambda', 'a <title>');
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg).toContain('a &lt;title&gt;');
    expect(svg.match(/<circle /g)).toHaveLength(12);
    expect(svg.match(/<polyline /g)).toHaveLength(6);
    expect(svg).toContain('result #2');
  });
});

// The Discovery view's pure helpers: p-value text, the hypotheses table's sort (nulls last both ways,
// stable ties), the α field, the compare filter and the rate visual's geometry.
import { describe, expect, it } from 'vitest';
import type { DiscoveryComparison, DiscoveryHypothesis } from '../../../electron/contract.ts';
import { compareRows, nextSort, parseAlpha, pvalue, rateGeometry, ratePct, sortHypotheses } from '../../../renderer/src/lib/discovery-format.ts';

function hyp(id: number, over: Partial<DiscoveryHypothesis>): DiscoveryHypothesis {
  return {
    id,
    parentId: null,
    clusterId: 1,
    clusterName: 'c',
    classIdx: 0,
    className: 'star',
    prompt: `p${id}`,
    generated: 4,
    offClass: 0,
    images: 4,
    failures: 1,
    failureRate: 0.25,
    interval: { lo: 0.05, hi: 0.7 },
    baseImages: 6,
    baseFailures: 1,
    baseRate: 1 / 6,
    pValue: 0.5,
    qValue: 0.5,
    status: 'not-confirmed',
    reason: null,
    factors: [],
    ...over,
  };
}

describe('discovery format', () => {
  it('writes p and q values like the CLI', () => {
    expect(pvalue(null)).toBe('–');
    expect(pvalue(0.04321)).toBe('0.0432');
    expect(pvalue(0.00001234)).toBe('1.2e-5');
    expect(pvalue(1)).toBe('1.0000');
    expect(pvalue(0)).toBe('0');
    expect(ratePct(0.4167)).toBe('41.7%');
    expect(ratePct(null)).toBe('–');
  });

  it('sorts by status first by default, then p; nulls last in both directions', () => {
    const list = [
      hyp(1, { status: 'too-few-images', pValue: null, qValue: null }),
      hyp(2, { status: 'confirmed', pValue: 0.01, qValue: 0.02 }),
      hyp(3, { status: 'not-confirmed', pValue: 0.2, qValue: 0.3 }),
      hyp(4, { status: 'confirmed', pValue: 0.001, qValue: 0.004 }),
      hyp(5, { status: 'pending', pValue: null, qValue: null, failureRate: null, images: 0, failures: 0 }),
    ];
    expect(sortHypotheses(list, { key: 'status', dir: 'asc' }).map((h) => h.id)).toEqual([4, 2, 3, 1, 5]);
    expect(sortHypotheses(list, { key: 'p', dir: 'asc' }).map((h) => h.id)).toEqual([4, 2, 3, 1, 5]);
    expect(sortHypotheses(list, { key: 'p', dir: 'desc' }).map((h) => h.id)).toEqual([3, 2, 4, 1, 5]);
    expect(sortHypotheses(list, { key: 'rate', dir: 'desc' }).map((h) => h.id).at(-1)).toBe(5);
    expect(sortHypotheses(list, { key: 'rate', dir: 'asc' }).map((h) => h.id).at(-1)).toBe(5);
  });

  it('sorts by the rate over the base rate', () => {
    const list = [hyp(1, { failureRate: 0.5, baseRate: 0.4 }), hyp(2, { failureRate: 0.75, baseRate: 0.1 }), hyp(3, { failureRate: 0.3, baseRate: null })];
    expect(sortHypotheses(list, { key: 'lift', dir: 'desc' }).map((h) => h.id)).toEqual([2, 1, 3]);
  });

  it('toggles a column, starting rates high first and p low first', () => {
    expect(nextSort({ key: 'status', dir: 'asc' }, 'rate')).toEqual({ key: 'rate', dir: 'desc' });
    expect(nextSort({ key: 'status', dir: 'asc' }, 'p')).toEqual({ key: 'p', dir: 'asc' });
    expect(nextSort({ key: 'p', dir: 'asc' }, 'p')).toEqual({ key: 'p', dir: 'desc' });
  });

  it('accepts α strictly between 0 and 1 only', () => {
    expect(parseAlpha('0.05')).toBe(0.05);
    expect(parseAlpha(' .2 ')).toBe(0.2);
    expect(parseAlpha('5e-2')).toBe(0.05);
    for (const bad of ['', '0', '1', '1.5', '-0.1', 'abc', '0.1.2']) expect(parseAlpha(bad)).toBeNull();
  });

  it('filters the comparison to the modes confirmed in two or more sessions', () => {
    const c: DiscoveryComparison = {
      sessions: [
        { id: 1, modelName: 'a' },
        { id: 2, modelName: 'b' },
      ],
      rows: [
        { className: 'star', prompt: 'x', bySession: [null, null], confirmedIn: 2 },
        { className: 'star', prompt: 'y', bySession: [null, null], confirmedIn: 1 },
      ],
    };
    expect(compareRows(c, true).map((r) => r.prompt)).toEqual(['x']);
    expect(compareRows(c, false)).toHaveLength(2);
  });

  it('places rate, interval and base on the track, clamped', () => {
    const g = rateGeometry({ failureRate: 0.5, baseRate: 0, interval: { lo: 0.25, hi: 1.2 } }, 108, 4);
    expect(g).toEqual({ base: 4, rate: 54, lo: 29, hi: 104 });
    expect(rateGeometry({ failureRate: null, baseRate: null, interval: null }, 100)).toEqual({ base: null, rate: null, lo: null, hi: null });
  });
});

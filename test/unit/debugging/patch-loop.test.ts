import { describe, expect, it } from 'vitest';
import { matchPerClass } from '../../../electron/core/debugging/patch-head.ts';
import { accuracyChartSvg, sweepChartSvg } from '../../../electron/core/export/debug-report.ts';

describe('random debugging matches individual debugging per class', () => {
  const rows = [0, 0, 0, 0, 1, 1, 2].map((c, i) => ({ id: i, class_idx: c }));
  it('takes as many images per class as the target (all where there are fewer), seeded', () => {
    const target = new Map([
      [0, 2],
      [1, 5],
    ]);
    const a = matchPerClass(rows, target, 7);
    expect(a.filter((r) => r.class_idx === 0)).toHaveLength(2);
    expect(a.filter((r) => r.class_idx === 1)).toHaveLength(2);
    expect(a.filter((r) => r.class_idx === 2)).toHaveLength(0);
    expect(matchPerClass(rows, target, 7)).toEqual(a);
    const picks = new Set(Array.from({ length: 20 }, (_, s) => matchPerClass(rows, target, s).map((r) => r.id).join(',')));
    expect(picks.size).toBeGreaterThan(1);
  });
});

describe('report charts', () => {
  it('draws one bar per (row, metric) and one point per sweep value', () => {
    const acc = { test: 0.5, seed: 0.25, heldout: 0.2 };
    const bars = accuracyChartSvg([
      { label: 'before', acc, color: '#000' },
      { label: 'after', acc: { test: 0.6, seed: 1, heldout: 0 }, color: '#111' },
    ]);
    expect(bars.match(/<rect [^>]*><title>/g)).toHaveLength(6);
    expect(bars).toContain('after seed: 100.0 %');
    const sweep = sweepChartSvg('λ', [0, 0.5, 1].map((x) => ({ x, individual: acc, random: null })));
    expect(sweep.match(/<polyline/g)).toHaveLength(2);
    expect(sweep.match(/<circle/g)).toHaveLength(6);
  });
});

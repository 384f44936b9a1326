import { describe, expect, it } from 'vitest';
import { errorRatios } from '../../../electron/core/analysis/error-ratios.ts';

describe('ImageNet-X error ratio', () => {
  it('follows the toolkit definition: (1 - acc_f) / (1 - average)', () => {
    // 10 images, 7 correct (average 0.7). "pose" on 4 images of which 1 correct: acc 0.25,
    // ratio 0.75 / 0.3 = 2.5. "color" on 2 correct images: ratio 0. "style" on none: undefined.
    const rows = [
      { correct: false, factors: { pose: 1 } },
      { correct: false, factors: { pose: 1 } },
      { correct: false, factors: { pose: 1 } },
      { correct: true, factors: { pose: 1 } },
      { correct: true, factors: { color: 1 } },
      { correct: true, factors: { color: 1 } },
      { correct: true, factors: {} },
      { correct: true, factors: {} },
      { correct: true, factors: {} },
      { correct: true, factors: {} },
    ];
    const r = errorRatios(rows, ['pose', 'color', 'style']);
    expect(r.average).toBeCloseTo(0.7, 12);
    expect(r.factors[0]).toMatchObject({ factor: 'pose', count: 4, correct: 1, accuracy: 0.25, errorRatio: expect.closeTo(2.5, 12) });
    expect(r.factors[1]).toMatchObject({ factor: 'color', count: 2, accuracy: 1, errorRatio: 0 });
    expect(r.factors[2]).toMatchObject({ factor: 'style', count: 0, accuracy: null, errorRatio: null });
    expect(r.worstFactor).toBe('pose');
  });
});

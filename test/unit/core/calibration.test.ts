import { describe, expect, it } from 'vitest';
import { binEdges, calibration, CalibrationBins, expectedCalibrationError } from '../../../electron/core/analysis/calibration.ts';

describe('15-bin expected calibration error (the ImageNet-X toolkit binning)', () => {
  it('edges are numpy.linspace(0, 1, 16)', () => {
    const e = binEdges();
    expect(e).toHaveLength(16);
    expect(e[0]).toBe(0);
    expect(e[15]).toBe(1);
    for (let i = 0; i < 16; i++) expect(e[i]).toBe(i * (1 / 15));
  });

  it('bins are closed on the right: an edge belongs to the bin below it; 0 to the first, 1 to the last', () => {
    const b = new CalibrationBins();
    expect(b.binOf(0)).toBe(0);
    expect(b.binOf(1 / 15)).toBe(0);
    expect(b.binOf(1 / 15 + 1e-12)).toBe(1);
    expect(b.binOf(0.2)).toBe(2); // 3/15
    expect(b.binOf(0.4)).toBe(5); // 6/15
    expect(b.binOf(0.6)).toBe(8); // 9/15
    expect(b.binOf(0.8)).toBe(11); // 12/15
    expect(b.binOf(0.5)).toBe(7); // 7.5/15
    expect(b.binOf(14 / 15)).toBe(13);
    expect(b.binOf(0.99)).toBe(14);
    expect(b.binOf(1)).toBe(14);
    // every edge i/15 (i = 1..14) lands in bin i - 1, every midpoint in bin i
    for (let i = 1; i < 15; i++) {
      expect(b.binOf(i / 15)).toBe(i - 1);
      expect(b.binOf((i + 0.5) / 15)).toBe(i);
    }
  });

  it('hand-computed: four predictions in three bins', () => {
    // p = 0.95 ok, 0.97 wrong -> bin 14: acc 0.5, conf 0.96, |0.5 - 0.96| * 2/4 = 0.23
    // p = 0.3 ok              -> bin 4:  acc 1,   conf 0.3,  |1 - 0.3| * 1/4   = 0.175
    // p = 0.05 wrong          -> bin 0:  acc 0,   conf 0.05, 0.05 * 1/4         = 0.0125
    // ECE = 0.4175
    const c = calibration([true, false, true, false], [0.95, 0.97, 0.3, 0.05]);
    expect(c.count).toBe(4);
    expect(c.ece).toBeCloseTo(0.4175, 14);
    expect(c.bins[14]).toMatchObject({ count: 2, accuracy: 0.5 });
    expect(c.bins[14].confidence).toBeCloseTo(0.96, 14);
    expect(c.bins[4]).toMatchObject({ count: 1, accuracy: 1, confidence: 0.3 });
    expect(c.bins[0]).toMatchObject({ count: 1, accuracy: 0, confidence: 0.05, lo: 0 });
    expect(c.bins[1]).toMatchObject({ count: 0, accuracy: null, confidence: null });
    expect(c.bins.reduce((s, b) => s + b.count, 0)).toBe(4);
  });

  it('an edge value pools with the bin below: 0.6 (=9/15) and 0.55 share (8/15, 9/15]', () => {
    // bin 8: {0.6 wrong, 0.55 ok}: |0.5 - 0.575| = 0.075, weight 1 -> ECE 0.075
    // (were 0.6 binned above, the ECE would be (0.6 + 0.45) / 2 = 0.525)
    expect(expectedCalibrationError([0, 1], [0.6, 0.55])).toBeCloseTo(0.075, 14);
  });

  it('perfectly calibrated and empty cases', () => {
    expect(expectedCalibrationError([1, 1, 1], [1, 1, 1])).toBe(0);
    expect(expectedCalibrationError([0, 0], [0, 0])).toBe(0);
    expect(calibration([], []).ece).toBeNull();
    expect(() => calibration([1], [0.5, 0.5])).toThrow(RangeError);
  });

  it('other bin counts', () => {
    // 2 bins: [0, 0.5] and (0.5, 1]: {0.5 ok} -> 0.5 / 2; {0.75 ok} -> 0.25 / 2: ECE 0.375
    expect(expectedCalibrationError([1, 1], [0.5, 0.75], 2)).toBeCloseTo(0.375, 14);
  });
});

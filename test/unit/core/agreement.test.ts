import { describe, expect, it } from 'vitest';
import { categoryCounts, cohenKappa, cohenKappaByFactor, fleissKappa, krippendorffAlphaNominal } from '../../../electron/core/analysis/agreement.ts';

describe("Cohen's kappa", () => {
  it('a 2x2 table computed by hand', () => {
    // 50 items:          B yes  B no
    //            A yes     20     5     (A yes 25/50 = 0.5)
    //            A no      10    15     (B yes 30/50 = 0.6)
    // p_o = (20 + 15) / 50 = 0.7; p_e = 0.5 * 0.6 + 0.5 * 0.4 = 0.5; kappa = (0.7 - 0.5) / (1 - 0.5) = 0.4
    const a = [...Array(20).fill(1), ...Array(5).fill(1), ...Array(10).fill(0), ...Array(15).fill(0)];
    const b = [...Array(20).fill(1), ...Array(5).fill(0), ...Array(10).fill(1), ...Array(15).fill(0)];
    const k = cohenKappa(a, b);
    expect(k.value).toBeCloseTo(0.4, 14);
    expect(k.items).toBe(50);
    expect(k.observed).toBeCloseTo(0.7, 14);
    expect(k.expected).toBeCloseTo(0.5, 14);
  });

  it('perfect agreement is 1; systematic disagreement is negative; missing ratings drop the item', () => {
    expect(cohenKappa([0, 1, 0, 1], [0, 1, 0, 1]).value).toBe(1);
    // p_o = 0, p_e = 0.5 -> -1
    expect(cohenKappa([0, 1, 0, 1], [1, 0, 1, 0]).value).toBe(-1);
    const k = cohenKappa([0, 1, null, 1], [0, 1, 1, undefined]);
    expect(k.items).toBe(2);
    expect(k.value).toBe(1);
  });

  it('every rating in one category: null with a reason, not NaN', () => {
    const k = cohenKappa([1, 1, 1], [1, 1, 1]);
    expect(k.value).toBeNull();
    expect(k.reason).toMatch(/same single category.*undefined/);
    expect(cohenKappa([null], [1]).value).toBeNull();
    expect(() => cohenKappa([1], [1, 0])).toThrow(RangeError);
  });

  it('per ImageNet-X factor, over the images both annotators labelled', () => {
    // bit 0 = pose, bit 1 = background
    const a = [
      { fileName: 'a', factors: 0b01 },
      { fileName: 'b', factors: 0b11 },
      { fileName: 'c', factors: 0b10 },
      { fileName: 'd', factors: 0b00 },
      { fileName: 'only-a', factors: 0b01 },
    ];
    const b = [
      { fileName: 'd', factors: 0b10 },
      { fileName: 'c', factors: 0b10 },
      { fileName: 'b', factors: 0b01 },
      { fileName: 'a', factors: 0b01 },
    ];
    const k = cohenKappaByFactor(a, b);
    // pose: A 1,1,0,0 / B 1,1,0,0 -> 1
    expect(k.pose.value).toBe(1);
    expect(k.pose.items).toBe(4);
    // background: A 0,1,1,0 / B 0,0,1,1: p_o = 0.5, p_e = 0.5 * 0.5 + 0.5 * 0.5 = 0.5 -> 0
    expect(k.background.value).toBe(0);
    // texture: nobody marks it -> undefined
    expect(k.texture.value).toBeNull();
  });
});

describe("Fleiss' kappa", () => {
  // The worked example of Fleiss' kappa (Wikipedia, after Fleiss 1971): 10 items, 14 raters, 5 categories.
  const table = [
    [0, 0, 0, 0, 14],
    [0, 2, 6, 4, 2],
    [0, 0, 3, 5, 6],
    [0, 3, 9, 2, 0],
    [2, 2, 8, 1, 1],
    [7, 7, 0, 0, 0],
    [3, 2, 6, 3, 0],
    [2, 5, 3, 2, 2],
    [6, 5, 2, 1, 0],
    [0, 2, 2, 3, 7],
  ];
  it('the textbook example: kappa = 4211/20059 = 0.2099', () => {
    // p_j = (20, 28, 39, 21, 32) / 140; P_e = sum p_j^2 = 417/1960 = 0.2128
    // P_i = (sum_j n_ij^2 - 14) / (14 * 13), mean P = 172/455 = 0.3780
    // kappa = (172/455 - 417/1960) / (1 - 417/1960) = 4211/20059
    const k = fleissKappa(table);
    expect(k.observed).toBeCloseTo(172 / 455, 14);
    expect(k.expected).toBeCloseTo(417 / 1960, 14);
    expect(k.value).toBeCloseTo(4211 / 20059, 14);
    expect(k.items).toBe(10);
  });

  it('with two raters it is Scott\'s pi; unanimity on one category is undefined', () => {
    // 4 items, 2 raters, categories (yes, no): [2,0], [0,2], [1,1], [2,0]
    // P_i = 1, 1, 0, 1 -> P = 0.75; p = (5/8, 3/8) -> P_e = 34/64; kappa = (0.75 - 34/64) / (30/64) = 14/30
    expect(fleissKappa([[2, 0], [0, 2], [1, 1], [2, 0]]).value).toBeCloseTo(14 / 30, 14);
    const u = fleissKappa([[3, 0], [3, 0]]);
    expect(u.value).toBeNull();
    expect(u.reason).toMatch(/undefined/);
    expect(fleissKappa([]).value).toBeNull();
  });

  it('refuses unequal numbers of ratings per item', () => {
    expect(() => fleissKappa([[2, 1], [1, 1]])).toThrow(/same number per item/);
  });

  it('counts from a raters matrix', () => {
    const { categories, counts } = categoryCounts([
      ['a', 'a', 'b'],
      ['b', 'b', 'b'],
    ]);
    expect(categories).toEqual(['a', 'b']);
    expect(counts).toEqual([
      [2, 1],
      [0, 3],
    ]);
  });
});

describe("Krippendorff's alpha (nominal, missing ratings)", () => {
  it("Krippendorff's (2011) reliability-data example: alpha = 113/152 = 0.743", () => {
    // 4 observers x 12 units, '.' = missing; unit 12 has one value only and is not pairable.
    const A = [1, 2, 3, 3, 2, 1, 4, 1, 2, null, null, null];
    const B = [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, null, 3];
    const C = [null, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, null];
    const D = [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, null];
    const units = A.map((_, u) => [A[u], B[u], C[u], D[u]]);
    // n = 40 pairable values; alpha = 1 - (n - 1) * sum_{c != k} o_ck / sum_{c != k} n_c n_k = 113/152
    const a = krippendorffAlphaNominal(units);
    expect(a.value).toBeCloseTo(113 / 152, 14);
    expect(a.items).toBe(11);
  });

  it('complete binary data with two raters: alpha = 1 - (n - 1) D_o / D_e', () => {
    // units: (1,1) (0,0) (1,0) (1,1): n = 8 values, n_1 = 5, n_0 = 3; o_10 = o_01 = 1
    // alpha = 1 - 7 * 2 / (2 * 5 * 3) = 1 - 14/30 = 16/30
    expect(krippendorffAlphaNominal([[1, 1], [0, 0], [1, 0], [1, 1]]).value).toBeCloseTo(16 / 30, 14);
  });

  it('one value everywhere, or nothing pairable: null with a reason', () => {
    const a = krippendorffAlphaNominal([[1, 1, null], [1, 1, 1]]);
    expect(a.value).toBeNull();
    expect(a.reason).toMatch(/undefined/);
    expect(krippendorffAlphaNominal([[1, null], [null, 2]]).value).toBeNull();
  });
});

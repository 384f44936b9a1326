import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  benjaminiHochberg,
  binomialGreater,
  fisherGreater,
  hasPower,
  minAchievableP,
  wilson,
} from '../../../electron/core/discovery/statistics.ts';

// Reference values: scipy / numpy / mpmath, from test/fixtures/discovery/make_reference.py.
interface Reference {
  fisher: { failMode: number; nMode: number; failBase: number; nBase: number; p: number; mp: number }[];
  binomial: { k: number; n: number; p: number; pvalue: number; mp: number }[];
  wilson: { k: number; n: number; lo: number; hi: number }[];
  bh: { p: number[]; q: number[] }[];
}
const ref = JSON.parse(readFileSync(new URL('../../fixtures/discovery/reference.json', import.meta.url), 'utf8')) as Reference;

function expectRel(actual: number, expected: number, tol: number): void {
  const err = Math.abs(actual - expected) / Math.max(Math.abs(expected), 1e-300);
  if (!(err <= tol)) throw new Error(`expected ${expected}, got ${actual} (relative error ${err} > ${tol})`);
}

function choose(n: number, k: number): bigint {
  if (k < 0 || k > n) return 0n;
  let r = 1n;
  for (let i = 1; i <= k; i++) r = (r * BigInt(n - k + i)) / BigInt(i);
  return r;
}

/** Exact upper tail P(X ≥ a) by enumerating all tables with the same margins (BigInt). */
function fisherExactBig(a: number, n1: number, c: number, n2: number): number {
  const K = a + c;
  let num = 0n;
  for (let x = a; x <= Math.min(n1, K); x++) num += choose(n1, x) * choose(n2, K - x);
  const den = choose(n1 + n2, K);
  // num/den as a double: an integer quotient with ~64 significant bits, scaled back.
  if (num === 0n) return 0;
  const s = den.toString(2).length - num.toString(2).length + 64;
  return Number((num << BigInt(s)) / den) * 2 ** -s;
}

describe('fisherGreater (one-sided Fisher exact test)', () => {
  it('hand-enumerated small tables', () => {
    // [[3,0],[0,3]]: 3 failures among 6, all 3 in the mode row: C(3,3)C(3,0)/C(6,3) = 1/20.
    expectRel(fisherGreater(3, 3, 0, 3), 0.05, 1e-13);
    // [[2,1],[1,2]]: P(X ≥ 2) = (C(3,2)C(3,1) + C(3,3)C(3,0))/C(6,3) = (9 + 1)/20.
    expectRel(fisherGreater(2, 3, 1, 3), 0.5, 1e-13);
    // [[1,3],[2,2]]: 3 failures among 8; P(X ≥ 1) = 1 − C(4,0)C(4,3)/C(8,3) = 1 − 4/56 = 13/14.
    expectRel(fisherGreater(1, 4, 2, 4), 13 / 14, 1e-13);
    // [[4,6],[1,9]]: 5 failures among 20; (C(10,4)C(10,1) + C(10,5)C(10,0))/C(20,5) = (2100 + 252)/15504.
    expectRel(fisherGreater(4, 10, 1, 10), 2352 / 15504, 1e-13);
    // [[10,0],[0,10]]: the single most extreme table, 1/C(20,10).
    expectRel(fisherGreater(10, 10, 0, 10), 1 / 184756, 1e-13);
    // Fewer mode failures than the base: the mode is not worse.
    expect(fisherGreater(0, 10, 5, 10)).toBe(1);
  });

  it('an empty row or column gives p = 1 (as scipy)', () => {
    expect(fisherGreater(0, 0, 3, 10)).toBe(1);
    expect(fisherGreater(2, 5, 0, 0)).toBe(1);
    expect(fisherGreater(0, 5, 0, 5)).toBe(1); // no failures at all
    expect(fisherGreater(5, 5, 5, 5)).toBe(1); // only failures
  });

  it('agrees with exact BigInt enumeration on every table with n ≤ 12 per row', () => {
    for (let n1 = 1; n1 <= 12; n1 += 1)
      for (let n2 = 1; n2 <= 12; n2 += 3)
        for (let a = 0; a <= n1; a++)
          for (let c = 0; c <= n2; c++) expectRel(fisherGreater(a, n1, c, n2), fisherExactBig(a, n1, c, n2), 1e-13);
    expectRel(fisherGreater(150, 400, 90, 450), fisherExactBig(150, 400, 90, 450), 1e-12);
    expectRel(fisherGreater(30, 1000, 9, 2000), fisherExactBig(30, 1000, 9, 2000), 1e-12);
  });

  it('matches scipy.stats.fisher_exact(alternative="greater") to 1e-9, and mpmath to 1e-12', () => {
    expect(ref.fisher.length).toBeGreaterThanOrEqual(30);
    for (const t of ref.fisher) {
      const p = fisherGreater(t.failMode, t.nMode, t.failBase, t.nBase);
      expectRel(p, t.p, 1e-9);
      expectRel(p, t.mp, 1e-12);
    }
  });

  it('is fine and monotone for n = 100 000', () => {
    let prev = 2;
    for (let a = 0; a <= 100; a += 5) {
      const p = fisherGreater(a, 100, 10_000, 100_000);
      expect(p).toBeGreaterThanOrEqual(0);
      expect(p).toBeLessThanOrEqual(1);
      expect(p).toBeLessThanOrEqual(prev);
      prev = p;
    }
    expect(fisherGreater(100, 100, 10_000, 100_000)).toBeGreaterThan(0); // ≈ 1e-100, no underflow
  });

  it('rejects invalid counts with a RangeError', () => {
    expect(() => fisherGreater(3, 2, 0, 5)).toThrow(RangeError);
    expect(() => fisherGreater(-1, 2, 0, 5)).toThrow(/mode sample failures/);
    expect(() => fisherGreater(1.5, 2, 0, 5)).toThrow(RangeError);
    expect(() => fisherGreater(1, 2, 6, 5)).toThrow(/base sample failures/);
    expect(() => fisherGreater(1, 2, 0, Number.NaN)).toThrow(/base sample size/);
  });
});

describe('minAchievableP / hasPower', () => {
  it('is the p-value of the all-failures table', () => {
    // 3 mode images, base 0/3: 1/C(6,3) = 0.05.
    expectRel(minAchievableP(3, 0, 3), 0.05, 1e-13);
    // 2 mode images, base 1/3: K = 3 of N = 5, P(X = 2) = C(2,2)C(3,1)/C(5,3) = 3/10.
    expectRel(minAchievableP(2, 1, 3), 0.3, 1e-13);
    expect(minAchievableP(0, 1, 3)).toBe(1);
    expect(minAchievableP(5, 5, 5)).toBe(1); // the base always fails: nothing can be shown
    expect(minAchievableP(20, 30, 200)).toBe(fisherGreater(20, 20, 30, 200));
  });

  it('says whether alpha is reachable at all', () => {
    expect(hasPower(3, 0, 3, 0.05)).toBe(true);
    expect(hasPower(3, 0, 3, 0.04)).toBe(false);
    expect(hasPower(2, 1, 3, 0.05)).toBe(false);
    // A high base rate needs many images: base 90/100 fails, 10 mode images cannot reach 0.05 ...
    expect(minAchievableP(10, 90, 100)).toBeGreaterThan(0.05);
    expect(hasPower(10, 90, 100, 0.05)).toBe(false);
    // ... 40 can.
    expect(hasPower(40, 90, 100, 0.05)).toBe(true);
    expect(() => hasPower(3, 0, 3, 0)).toThrow(RangeError);
  });
});

describe('binomialGreater', () => {
  it('hand-computed tails', () => {
    expect(binomialGreater(10, 10, 0.5)).toBe(1 / 1024);
    // C(10,5..10) = 252 + 210 + 120 + 45 + 10 + 1 = 638.
    expectRel(binomialGreater(5, 10, 0.5), 638 / 1024, 1e-13);
    expectRel(binomialGreater(1, 3, 0.2), 1 - 0.8 ** 3, 1e-13); // 0.488
    expectRel(binomialGreater(2, 3, 0.2), 3 * 0.04 * 0.8 + 0.008, 1e-13); // 0.104
    expect(binomialGreater(0, 7, 0.3)).toBe(1);
    expect(binomialGreater(3, 7, 0)).toBe(0);
    expect(binomialGreater(7, 7, 1)).toBe(1);
  });

  it('matches scipy.stats.binomtest(alternative="greater") to 1e-9, and mpmath to 1e-12', () => {
    for (const t of ref.binomial) {
      const p = binomialGreater(t.k, t.n, t.p);
      if (t.pvalue === 0) expect(p).toBe(0);
      else {
        expectRel(p, t.pvalue, 1e-9);
        expectRel(p, t.mp, 1e-12);
      }
    }
  });

  it('rejects invalid arguments', () => {
    expect(() => binomialGreater(11, 10, 0.5)).toThrow(RangeError);
    expect(() => binomialGreater(2, 10, 1.5)).toThrow(/p must be in/);
    expect(() => binomialGreater(2, 10.5, 0.5)).toThrow(RangeError);
  });
});

describe('benjaminiHochberg', () => {
  it('hand-computed q-values, in input order', () => {
    // sorted: 0.005·5/1 = 0.025, 0.01·5/2 = 0.025, 0.03·5/3 = 0.05, 0.04·5/4 = 0.05, 0.5·5/5 = 0.5;
    // the running minimum from the top leaves them as they are.
    const q = benjaminiHochberg([0.01, 0.04, 0.03, 0.005, 0.5]);
    [0.025, 0.05, 0.05, 0.025, 0.5].forEach((v, i) => expect(q[i]).toBeCloseTo(v, 15));
    // sorted: 0.01·4/1 = 0.04, 0.2·4/2 = 0.4, 0.2·4/3 ≈ 0.267, 0.2·4/4 = 0.2 → min from the top: 0.2.
    const q2 = benjaminiHochberg([0.2, 0.2, 0.2, 0.01]);
    [0.2, 0.2, 0.2, 0.04].forEach((v, i) => expect(q2[i]).toBeCloseTo(v, 15));
    // 0.8·2/1 = 1.6 is pulled down to 0.9·2/2 = 0.9 (monotone, never above 1).
    const q3 = benjaminiHochberg([0.9, 0.8]);
    [0.9, 0.9].forEach((v, i) => expect(q3[i]).toBeCloseTo(v, 15));
    expect(benjaminiHochberg([])).toEqual([]);
    expect(benjaminiHochberg([0.03])).toEqual([0.03]);
  });

  it('matches an independent numpy implementation', () => {
    for (const set of ref.bh) {
      const q = benjaminiHochberg(set.p);
      set.q.forEach((v, i) => expectRel(q[i], v, 1e-12));
    }
  });

  it('is monotone in p and never below p', () => {
    const p = ref.bh[5].p;
    const q = benjaminiHochberg(p);
    for (let i = 0; i < p.length; i++) {
      expect(q[i]).toBeGreaterThanOrEqual(p[i]);
      expect(q[i]).toBeLessThanOrEqual(1);
      for (let j = 0; j < p.length; j++) if (p[i] <= p[j]) expect(q[i]).toBeLessThanOrEqual(q[j]);
    }
  });

  it('rejects p-values outside [0, 1]', () => {
    expect(() => benjaminiHochberg([0.1, 1.2])).toThrow(RangeError);
    expect(() => benjaminiHochberg([Number.NaN])).toThrow(/p-value 0/);
  });
});

describe('wilson', () => {
  it('hand-computed intervals', () => {
    const z2 = 1.959963984540054 ** 2;
    // k = 0: lo = 0, hi = z²/(n + z²).
    const w0 = wilson(0, 10);
    expect(w0.lo).toBe(0);
    expect(w0.hi).toBeCloseTo(z2 / (10 + z2), 14);
    // k = n: symmetric.
    const w10 = wilson(10, 10);
    expect(w10.hi).toBe(1);
    expect(w10.lo).toBeCloseTo(10 / (10 + z2), 14);
    // k = n/2: centred on 1/2.
    const w5 = wilson(5, 10);
    expect((w5.lo + w5.hi) / 2).toBeCloseTo(0.5, 14);
    expect(wilson(0, 0)).toEqual({ lo: 0, hi: 1 });
    expect(() => wilson(3, 2)).toThrow(RangeError);
  });

  it('matches scipy binomtest(...).proportion_ci(method="wilson")', () => {
    for (const t of ref.wilson) {
      const w = wilson(t.k, t.n);
      expect(Math.abs(w.lo - t.lo)).toBeLessThan(1e-12);
      expect(Math.abs(w.hi - t.hi)).toBeLessThan(1e-12);
    }
  });
});

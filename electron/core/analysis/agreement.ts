// Inter-annotator agreement for factor labels: Cohen's kappa (two annotators), Fleiss' kappa
// (a fixed number >= 2 of raters per item), Krippendorff's alpha (nominal, missing ratings allowed).
// An undefined coefficient (every rating in one category: chance agreement is 1) is null with a
// reason, never NaN. Pure: no I/O.
import { IMAGENET_X_FACTORS } from '../../../native-models/imagenet-x-factors.ts';

export interface Agreement {
  value: number | null;
  /** Why value is null. */
  reason?: string;
  /** Items that entered the computation. */
  items: number;
  observed?: number;
  expected?: number;
}

const undefinedAs = (reason: string, items: number, extra: Partial<Agreement> = {}): Agreement => ({ value: null, reason, items, ...extra });

/** Cohen's kappa (1960) of two raters over the same items; null/undefined ratings drop the item.
 * kappa = (p_o - p_e) / (1 - p_e), p_e from each rater's own marginals. */
export function cohenKappa<T>(a: readonly (T | null | undefined)[], b: readonly (T | null | undefined)[]): Agreement {
  if (a.length !== b.length) throw new RangeError(`rater A has ${a.length} ratings, rater B ${b.length}`);
  const ma = new Map<T, number>();
  const mb = new Map<T, number>();
  let n = 0;
  let agree = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    if (x === null || x === undefined || y === null || y === undefined) continue;
    n++;
    if (x === y) agree++;
    ma.set(x, (ma.get(x) ?? 0) + 1);
    mb.set(y, (mb.get(y) ?? 0) + 1);
  }
  if (n === 0) return undefinedAs('no item rated by both raters', 0);
  const po = agree / n;
  let pe = 0;
  for (const [c, k] of ma) pe += (k / n) * ((mb.get(c) ?? 0) / n);
  if (pe >= 1) return undefinedAs('both raters put every item in the same single category: chance agreement is 1, kappa is undefined', n, { observed: po, expected: pe });
  return { value: (po - pe) / (1 - pe), items: n, observed: po, expected: pe };
}

/** Cohen's kappa per ImageNet-X factor (binary: factor marked or not) between two annotators,
 * over the file names both annotated. `factors` are bit masks (bit i = IMAGENET_X_FACTORS[i]). */
export function cohenKappaByFactor(
  a: readonly { fileName: string; factors: number }[],
  b: readonly { fileName: string; factors: number }[],
  factors: readonly string[] = IMAGENET_X_FACTORS,
): Record<string, Agreement> {
  const bm = new Map(b.map((r) => [r.fileName, r.factors]));
  const pairs = a.filter((r) => bm.has(r.fileName)).map((r) => [r.factors, bm.get(r.fileName)!] as const);
  const out: Record<string, Agreement> = {};
  factors.forEach((f, i) => {
    out[f] = cohenKappa(
      pairs.map(([x]) => (x >> i) & 1),
      pairs.map(([, y]) => (y >> i) & 1),
    );
  });
  return out;
}

/** Fleiss' kappa (1971). counts[i][j] = raters who put item i in category j; every item must have
 * the same number n >= 2 of ratings. */
export function fleissKappa(counts: readonly (readonly number[])[]): Agreement {
  const N = counts.length;
  if (N === 0) return undefinedAs('no items', 0);
  const k = counts[0].length;
  const n = counts[0].reduce((s, x) => s + x, 0);
  if (n < 2) throw new RangeError(`Fleiss' kappa needs at least 2 ratings per item, item 0 has ${n}`);
  const pj = new Array<number>(k).fill(0);
  let sumPi = 0;
  counts.forEach((row, i) => {
    if (row.length !== k) throw new RangeError(`item ${i} has ${row.length} categories, item 0 has ${k}`);
    let s = 0;
    let sq = 0;
    row.forEach((x, j) => {
      if (!Number.isInteger(x) || x < 0) throw new RangeError(`item ${i}, category ${j}: count must be a non-negative integer, got ${x}`);
      s += x;
      sq += x * x;
      pj[j] += x;
    });
    if (s !== n) throw new RangeError(`item ${i} has ${s} ratings, item 0 has ${n}: Fleiss' kappa needs the same number per item (use Krippendorff's alpha)`);
    sumPi += (sq - n) / (n * (n - 1));
  });
  const pBar = sumPi / N;
  const pe = pj.reduce((s, x) => s + (x / (N * n)) ** 2, 0);
  if (pe >= 1) return undefinedAs('every rating is in the same single category: chance agreement is 1, kappa is undefined', N, { observed: pBar, expected: pe });
  return { value: (pBar - pe) / (1 - pe), items: N, observed: pBar, expected: pe };
}

/** Fleiss' category counts from a raters matrix: ratings[i][r] = category of item i by rater r. */
export function categoryCounts<T>(ratings: readonly (readonly T[])[]): { categories: T[]; counts: number[][] } {
  const categories: T[] = [];
  const idx = new Map<T, number>();
  for (const row of ratings)
    for (const c of row)
      if (!idx.has(c)) {
        idx.set(c, categories.length);
        categories.push(c);
      }
  return { categories, counts: ratings.map((row) => {
    const out = new Array<number>(categories.length).fill(0);
    for (const c of row) out[idx.get(c)!]++;
    return out;
  }) };
}

/** Krippendorff's alpha for nominal data. units[u] = the ratings of unit u (null/undefined =
 * missing). Units with fewer than 2 ratings are not pairable and left out.
 * alpha = 1 - (n - 1) * D_o / D_e with the coincidence matrix o_ck (Krippendorff 2011). */
export function krippendorffAlphaNominal<T>(units: readonly (readonly (T | null | undefined)[])[]): Agreement {
  const idx = new Map<T, number>();
  const values: number[][] = [];
  for (const u of units) {
    const vs: number[] = [];
    for (const v of u) {
      if (v === null || v === undefined) continue;
      let k = idx.get(v);
      if (k === undefined) idx.set(v, (k = idx.size));
      vs.push(k);
    }
    if (vs.length >= 2) values.push(vs);
  }
  const C = idx.size;
  if (values.length === 0) return undefinedAs('no unit has two or more ratings', 0);
  // disagreeing pairs within units, and the value totals n_c over pairable values
  let disagreeing = 0;
  const nc = new Array<number>(C).fill(0);
  for (const vs of values) {
    const m = vs.length;
    const cnt = new Map<number, number>();
    for (const v of vs) cnt.set(v, (cnt.get(v) ?? 0) + 1);
    let same = 0;
    for (const [c, x] of cnt) {
      nc[c] += x;
      same += x * (x - 1);
    }
    // ordered pairs with different values, weighted 1/(m - 1)
    disagreeing += (m * (m - 1) - same) / (m - 1);
  }
  const n = nc.reduce((s, x) => s + x, 0);
  let expectedPairs = n * n;
  for (const x of nc) expectedPairs -= x * x;
  if (expectedPairs <= 0) return undefinedAs('every pairable rating has the same value: expected disagreement is 0, alpha is undefined', values.length);
  const Do = disagreeing / n;
  const De = expectedPairs / (n * (n - 1));
  return { value: 1 - Do / De, items: values.length, observed: 1 - Do, expected: 1 - De };
}

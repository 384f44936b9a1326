// Statistics of the bug discovery loop (Wiles et al. 2022): is a described failure mode confirmed,
// i.e. do images generated from its description fail significantly more often than the class's base
// images? Pure functions, no dependencies.
//
// Tail probabilities are computed the way R's dhyper/phyper/dbinom do (Loader's saddle-point form of
// the binomial density: stirlerr + bd0, then a ratio recurrence summed from the far end of the tail
// inwards), which keeps ~1e-14 relative accuracy for n up to 1e5 and more, where differences of
// log-factorials of magnitude 1e6 would already lose ~1e-9. Checked against scipy in
// test/unit/discovery/statistics.test.ts (fixtures from test/fixtures/discovery/make_reference.py).

const LN_2PI = 1.8378770664093453; // log(2π)

function isCount(x: number): boolean {
  return Number.isInteger(x) && x >= 0;
}

function checkCounts(fn: string, fail: number, n: number, what: string): void {
  if (!isCount(n)) throw new RangeError(`${fn}: ${what} size must be a non-negative integer, got ${n}`);
  if (!isCount(fail) || fail > n) {
    throw new RangeError(`${fn}: ${what} failures must be an integer in [0, ${n}], got ${fail}`);
  }
}

/** stirlerr(n) for n = 0..15 (n = 0 is a placeholder), to 20 digits (mpmath). */
const STIRLERR_SMALL = [
  0, 0.08106146679532725822, 0.041340695955409294094, 0.027677925684998339149, 0.020790672103765093112,
  0.016644691189821192163, 0.013876128823070747999, 0.011896709945891770095, 0.010411265261972096497,
  0.0092554621827127329177, 0.0083305634333628712565, 0.007573675487951840795, 0.0069428401072095298657,
  0.0064089941880042070684, 0.0059513701127588477356, 0.005554733551962801371,
];

/** stirlerr(n) = log(n!) − log(√(2πn)·(n/e)^n), for integers n ≥ 0 (R's stirlerr). */
function stirlerr(n: number): number {
  if (n <= 15) return STIRLERR_SMALL[n];
  const S0 = 1 / 12;
  const S1 = 1 / 360;
  const S2 = 1 / 1260;
  const S3 = 1 / 1680;
  const S4 = 1 / 1188;
  const nn = n * n;
  if (n > 500) return (S0 - S1 / nn) / n;
  if (n > 80) return (S0 - (S1 - S2 / nn) / nn) / n;
  if (n > 35) return (S0 - (S1 - (S2 - S3 / nn) / nn) / nn) / n;
  return (S0 - (S1 - (S2 - (S3 - S4 / nn) / nn) / nn) / nn) / n;
}

/** bd0(x, np) = x·log(x/np) + np − x, computed without cancellation when x ≈ np (R's bd0). */
function bd0(x: number, np: number): number {
  if (Math.abs(x - np) < 0.1 * (x + np)) {
    let v = (x - np) / (x + np);
    let s = (x - np) * v;
    if (Math.abs(s) < Number.MIN_VALUE) return s;
    let ej = 2 * x * v;
    v *= v;
    for (let j = 1; j < 1000; j++) {
      ej *= v;
      const s1 = s + ej / (2 * j + 1);
      if (s1 === s) return s1;
      s = s1;
    }
  }
  return x * Math.log(x / np) + np - x;
}

/** log P(X = x), X ~ Binomial(n, p), q = 1 − p given separately for accuracy (R's dbinom_raw, log). */
function logDbinomRaw(x: number, n: number, p: number, q: number): number {
  if (p === 0) return x === 0 ? 0 : -Infinity;
  if (q === 0) return x === n ? 0 : -Infinity;
  if (x < 0 || x > n) return -Infinity;
  if (x === 0) {
    if (n === 0) return 0;
    return p < 0.1 ? -bd0(n, n * q) - n * p : n * Math.log(q);
  }
  if (x === n) return q < 0.1 ? -bd0(n, n * p) - n * q : n * Math.log(p);
  const lc = stirlerr(n) - stirlerr(x) - stirlerr(n - x) - bd0(x, n * p) - bd0(n - x, n * q);
  const lf = LN_2PI + Math.log(x) + Math.log1p(-x / n);
  return lc - 0.5 * lf;
}

/** log P(X = x), X ~ Hypergeometric: `drawn` balls out of `white` + `black`, x of them white. */
function logDhyper(x: number, white: number, black: number, drawn: number): number {
  if (x < 0 || x > white || drawn - x < 0 || drawn - x > black) return -Infinity;
  const total = white + black;
  if (drawn === 0 || drawn === total) return 0;
  const p = drawn / total;
  const q = (total - drawn) / total;
  return logDbinomRaw(x, white, p, q) + logDbinomRaw(drawn - x, black, p, q) - logDbinomRaw(drawn, total, p, q);
}

/** P(X ≤ x) / P(X = x) = 1 + Σ_{y<x} P(y)/P(x), summed from x downwards (terms shrink when x is
 * at most the mean). R's pdhyper. */
function hyperLowerRatio(x: number, white: number, black: number, drawn: number): number {
  let sum = 0;
  let term = 1;
  while (x > 0 && term >= Number.EPSILON * sum) {
    term *= (x * (black - drawn + x)) / (drawn + 1 - x) / (white + 1 - x);
    sum += term;
    x--;
  }
  return 1 + sum;
}

/** P(X ≤ x) (lower) or P(X > x) (upper), X ~ Hypergeometric(white, black, drawn): R's phyper. The
 * tail actually summed is always the one below the mean (swapping colours for the other one), so
 * the summed tail is never obtained as 1 − (something near 1). */
function phyper(x: number, white: number, black: number, drawn: number, lowerTail: boolean): number {
  if (x * (white + black) > drawn * white) {
    // Swap tails: X > x  ⇔  Y = drawn − X ≤ drawn − x − 1, Y counting the black balls.
    [white, black] = [black, white];
    x = drawn - x - 1;
    lowerTail = !lowerTail;
  }
  if (x < 0 || x < drawn - black) return lowerTail ? 0 : 1;
  if (x >= white || x >= drawn) return lowerTail ? 1 : 0;
  const p = Math.exp(logDhyper(x, white, black, drawn)) * hyperLowerRatio(x, white, black, drawn);
  const lower = Math.min(1, p);
  return lowerTail ? lower : Math.max(0, 1 - lower);
}

/**
 * One-sided Fisher exact test, H1: the failure rate of the mode sample exceeds the base sample's.
 * The p-value is the upper tail P(X ≥ failMode) of the hypergeometric distribution of the 2×2 table
 * [[failMode, nMode − failMode], [failBase, nBase − failBase]] with its margins fixed, as
 * scipy.stats.fisher_exact(table, alternative='greater'). An empty row or column gives p = 1.
 */
export function fisherGreater(failMode: number, nMode: number, failBase: number, nBase: number): number {
  checkCounts('fisherGreater', failMode, nMode, 'mode sample');
  checkCounts('fisherGreater', failBase, nBase, 'base sample');
  const failures = failMode + failBase;
  const total = nMode + nBase;
  if (nMode === 0 || nBase === 0 || failures === 0 || failures === total) return 1;
  // X = the mode row's failures: `failures` drawn from nMode (white) + nBase (black).
  return phyper(failMode - 1, nMode, nBase, failures, false);
}

/** P(X ≥ k), X ~ Binomial(n, p): scipy.stats.binomtest(k, n, p, alternative='greater').pvalue. */
export function binomialGreater(k: number, n: number, p: number): number {
  if (!isCount(n)) throw new RangeError(`binomialGreater: n must be a non-negative integer, got ${n}`);
  if (!isCount(k) || k > n) throw new RangeError(`binomialGreater: k must be an integer in [0, ${n}], got ${k}`);
  if (!(p >= 0 && p <= 1)) throw new RangeError(`binomialGreater: p must be in [0, 1], got ${p}`);
  if (k === 0) return 1;
  if (p === 0) return 0;
  if (p === 1) return 1;
  const q = 1 - p;
  if (k >= n * p) {
    // Upper tail summed upwards from k: P(x+1)/P(x) = (n − x)/(x + 1)·p/q.
    let sum = 1;
    let term = 1;
    for (let x = k; x < n && term >= Number.EPSILON * sum; x++) {
      term *= ((n - x) / (x + 1)) * (p / q);
      sum += term;
    }
    return Math.min(1, Math.exp(logDbinomRaw(k, n, p, q)) * sum);
  }
  // 1 − P(X ≤ k − 1), the lower tail summed downwards from k − 1: P(x−1)/P(x) = x/(n − x + 1)·q/p.
  let sum = 1;
  let term = 1;
  for (let x = k - 1; x > 0 && term >= Number.EPSILON * sum; x--) {
    term *= (x / (n - x + 1)) * (q / p);
    sum += term;
  }
  return Math.max(0, 1 - Math.min(1, Math.exp(logDbinomRaw(k - 1, n, p, q)) * sum));
}

/**
 * Benjamini–Hochberg adjusted p-values (q-values) in the input order, as R's p.adjust(p, 'BH'): with
 * p_(1) ≤ … ≤ p_(m), q_(i) = min over j ≥ i of p_(j)·m/j, capped at 1.
 */
export function benjaminiHochberg(pValues: readonly number[]): number[] {
  const m = pValues.length;
  pValues.forEach((p, i) => {
    if (!(p >= 0 && p <= 1)) throw new RangeError(`benjaminiHochberg: p-value ${i} must be in [0, 1], got ${p}`);
  });
  // Ranks by decreasing p (ties by index, which does not change the values).
  const order = pValues.map((_, i) => i).sort((a, b) => pValues[b] - pValues[a] || a - b);
  const out = new Array<number>(m);
  let running = 1;
  order.forEach((idx, r) => {
    const rank = m - r; // 1-based rank in increasing order
    running = Math.min(running, (pValues[idx] * m) / rank);
    out[idx] = running;
  });
  return out;
}

/** The Fisher p-value if all nMode mode images failed: the best a test with this sample can reach. */
export function minAchievableP(nMode: number, failBase: number, nBase: number): number {
  return fisherGreater(nMode, nMode, failBase, nBase);
}

/** Whether nMode mode images can reach significance at all against this base: minAchievableP ≤ alpha.
 * A test without power is reported as "too few images", never as a p-value. */
export function hasPower(nMode: number, failBase: number, nBase: number, alpha: number): boolean {
  if (!(alpha > 0 && alpha <= 1)) throw new RangeError(`hasPower: alpha must be in (0, 1], got ${alpha}`);
  return minAchievableP(nMode, failBase, nBase) <= alpha;
}

/** Wilson score interval for a failure rate k/n (z = 1.96 ⇒ 95 %); n = 0 gives {lo: 0, hi: 1}. */
export function wilson(k: number, n: number, z = 1.959963984540054): { lo: number; hi: number } {
  checkCounts('wilson', k, n, 'sample');
  if (!(z > 0 && Number.isFinite(z))) throw new RangeError(`wilson: z must be positive and finite, got ${z}`);
  if (n === 0) return { lo: 0, hi: 1 };
  const phat = k / n;
  const z2 = z * z;
  const denom = 1 + z2 / n;
  const center = (phat + z2 / (2 * n)) / denom;
  const half = (z / denom) * Math.sqrt((phat * (1 - phat)) / n + z2 / (4 * n * n));
  return {
    lo: k === 0 ? 0 : Math.max(0, center - half),
    hi: k === n ? 1 : Math.min(1, center + half),
  };
}

import { IMAGENET_X_FACTORS } from '../../../native-models/imagenet-x-factors.ts';
import type { ImageNetXFactorStat } from '../../contract.ts';

/** Two-sided 95 % normal quantile. */
export const Z95 = 1.959963984540054;

/** Wilson score interval for a binomial proportion k/n (Wilson, 1927); null when n is 0. */
export function wilson(k: number, n: number, z = Z95): [number, number] | null {
  if (n <= 0) return null;
  const p = k / n;
  const z2 = z * z;
  const denom = 1 + z2 / n;
  const center = (p + z2 / (2 * n)) / denom;
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / denom;
  return [Math.max(0, center - half), Math.min(1, center + half)];
}

/** One factor's numbers; the error-ratio interval is the accuracy's Wilson interval mapped through
 * the error-ratio formula with `average` held fixed: [(1 - acc_hi) / (1 - average),
 * (1 - acc_lo) / (1 - average)] (the ratio decreases with acc_f, so the bounds swap). The average's
 * own uncertainty is left out: it is estimated on all evaluated images (n >> count). */
export type FactorErrorRatio = ImageNetXFactorStat;

export interface ErrorRatioReport {
  images: number;
  correct: number;
  /** Accuracy over all evaluated images. */
  average: number;
  averageCi: [number, number] | null;
  factors: FactorErrorRatio[];
  /** The factor with the highest error ratio (the lowest accuracy). */
  worstFactor: string | null;
  /** The toolkit's `worst_factor` column: the lowest per-factor accuracy. */
  worstFactorAccuracy: number | null;
}

/** Per-factor error ratios as the ImageNet-X toolkit defines them (shared/data/README.md). */
export function errorRatios(rows: { correct: boolean; factors: Partial<Record<string, number>> }[], factors: readonly string[] = IMAGENET_X_FACTORS): ErrorRatioReport {
  const n = rows.length;
  const correct = rows.filter((r) => r.correct).length;
  const perFactor = factors.map((factor) => {
    const withF = rows.filter((r) => r.factors[factor] === 1);
    return { count: withF.length, correct: withF.filter((r) => r.correct).length };
  });
  return errorRatiosFromCounts(n, correct, perFactor, factors);
}

/** The same from counts: `n` images evaluated, `correct` of them right, and for factor i
 * perFactor[i] = images with the factor and those of them right. */
export function errorRatiosFromCounts(n: number, correct: number, perFactor: { count: number; correct: number }[], factors: readonly string[] = IMAGENET_X_FACTORS): ErrorRatioReport {
  const average = n > 0 ? correct / n : NaN;
  const out: FactorErrorRatio[] = factors.map((factor, i) => {
    const { count, correct: k } = perFactor[i];
    const acc = count > 0 ? k / count : null;
    const defined = acc !== null && average !== 1;
    const errorRatio = defined ? (1 - acc) / (1 - average) : null;
    const accuracyCi = wilson(k, count);
    const errorRatioCi: [number, number] | null = defined && accuracyCi ? [(1 - accuracyCi[1]) / (1 - average), (1 - accuracyCi[0]) / (1 - average)] : null;
    return { factor, count, correct: k, accuracy: acc, accuracyCi, errorRatio, errorRatioCi };
  });
  const ranked = out.filter((f) => f.errorRatio !== null).sort((a, b) => b.errorRatio! - a.errorRatio!);
  const accs = out.filter((f) => f.accuracy !== null).map((f) => f.accuracy!);
  return {
    images: n,
    correct,
    average,
    averageCi: wilson(correct, n),
    factors: out,
    worstFactor: ranked[0]?.factor ?? null,
    worstFactorAccuracy: accs.length ? Math.min(...accs) : null,
  };
}

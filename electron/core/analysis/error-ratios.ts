import { IMAGENET_X_FACTORS } from '../../../native-models/imagenet-x-factors.ts';

export interface FactorErrorRatio {
  factor: string;
  /** Images that carry the factor. */
  count: number;
  /** Correct among them / count; null when count is 0. */
  accuracy: number | null;
  /** (1 - accuracy_f) / (1 - average), the toolkit's definition; null when undefined. */
  errorRatio: number | null;
}

export interface ErrorRatioReport {
  images: number;
  /** Accuracy over all evaluated images. */
  average: number;
  factors: FactorErrorRatio[];
  worstFactor: string | null;
}

/** Per-factor error ratios as the ImageNet-X toolkit defines them (shared/data/README.md). */
export function errorRatios(rows: { correct: boolean; factors: Partial<Record<string, number>> }[], factors: readonly string[] = IMAGENET_X_FACTORS): ErrorRatioReport {
  const n = rows.length;
  const correct = rows.filter((r) => r.correct).length;
  const average = n > 0 ? correct / n : NaN;
  const out: FactorErrorRatio[] = factors.map((factor) => {
    const withF = rows.filter((r) => r.factors[factor] === 1);
    const acc = withF.length > 0 ? withF.filter((r) => r.correct).length / withF.length : null;
    const errorRatio = acc === null || average === 1 ? null : (1 - acc) / (1 - average);
    return { factor, count: withF.length, accuracy: acc, errorRatio };
  });
  const ranked = out.filter((f) => f.errorRatio !== null).sort((a, b) => b.errorRatio! - a.errorRatio!);
  return { images: n, average, factors: out, worstFactor: ranked[0]?.factor ?? null };
}

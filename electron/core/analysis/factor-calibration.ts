// Calibration of evaluated images per ImageNet-X factor, as the toolkit's
// _compute_factor_calibration_errors does: the 15-bin ECE (calibration.ts) of the images that carry
// the factor, and of all evaluated images ("overall", the toolkit's `average`). Pure: no I/O.
import { IMAGENET_X_FACTORS } from '../../../native-models/imagenet-x-factors.ts';
import { CalibrationBins, ECE_BINS, type Calibration } from './calibration.ts';
import type { EvaluatedImages } from './evaluated-images.ts';

export interface FactorCalibration {
  overall: Calibration;
  factors: (Calibration & { factor: string })[];
  /** The highest factor ECE (the toolkit's calibration `worst_factor`). */
  worstFactorEce: number | null;
}

export function factorCalibration(e: EvaluatedImages, nBins = ECE_BINS): FactorCalibration {
  const F = IMAGENET_X_FACTORS.length;
  const all = new CalibrationBins(nBins);
  const per = IMAGENET_X_FACTORS.map(() => new CalibrationBins(nBins));
  for (let i = 0; i < e.correct.length; i++) {
    const ok = e.correct[i] === 1;
    const p = e.confidence[i];
    all.add(p, ok);
    for (let f = 0, m = e.factors[i]; m !== 0 && f < F; f++, m >>>= 1) if (m & 1) per[f].add(p, ok);
  }
  const factors = IMAGENET_X_FACTORS.map((factor, f) => ({ factor, ...per[f].result() }));
  let worst: number | null = null;
  for (const c of factors) if (c.ece !== null && (worst === null || c.ece > worst)) worst = c.ece;
  return { overall: all.result(), factors, worstFactorEce: worst };
}

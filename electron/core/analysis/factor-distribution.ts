// Which factors the failures carry, against all evaluated images: for each factor the share of the
// failures that carry it and the share of all images that carry it. Their ratio is the factor's
// error ratio (P(f | fail) / P(f) = P(fail | f) / P(fail)), so a factor over-represented among the
// failures is one with an error ratio above 1. Pure: no I/O.
import { IMAGENET_X_FACTORS } from '../../../native-models/imagenet-x-factors.ts';
import type { FactorShare } from '../../contract.ts';
import type { EvaluatedImages } from './evaluated-images.ts';

export function factorDistribution(e: EvaluatedImages): { images: number; failures: number; factors: FactorShare[] } {
  const F = IMAGENET_X_FACTORS.length;
  const withF = new Int32Array(F);
  const failingWithF = new Int32Array(F);
  let failures = 0;
  for (let i = 0; i < e.correct.length; i++) {
    const failed = e.correct[i] === 0;
    if (failed) failures++;
    for (let f = 0, m = e.factors[i]; m !== 0 && f < F; f++, m >>>= 1)
      if (m & 1) {
        withF[f]++;
        if (failed) failingWithF[f]++;
      }
  }
  const images = e.correct.length;
  return {
    images,
    failures,
    factors: IMAGENET_X_FACTORS.map((factor, f) => ({
      factor,
      images: withF[f],
      failures: failingWithF[f],
      shareOfImages: images ? withF[f] / images : null,
      shareOfFailures: failures ? failingWithF[f] / failures : null,
    })),
  };
}

// Expected calibration error and reliability-diagram data, binned as the ImageNet-X toolkit does
// (facebookresearch/imagenetx, aggregate.py `estimated_calibration_error`, 15 bins):
//  - edges are numpy's linspace(0, 1, nBins + 1): edge_i = i * (1 / nBins);
//  - a confidence p goes to the bin numpy's searchsorted(inner edges, p) (side "left") names: the
//    number of inner edges strictly below p. So bins are closed on the right, (edge_b, edge_b+1],
//    except that the first also takes everything <= edge_1 (0 included) and the last everything
//    above edge_(n-1) (1 included);
//  - ECE = sum over non-empty bins of |accuracy_b - mean confidence_b| * count_b / N.
// Pure: no I/O.

export const ECE_BINS = 15;

export interface ReliabilityBin {
  /** Bin edges (lo, hi]; the first bin also holds lo itself. */
  lo: number;
  hi: number;
  count: number;
  /** Mean confidence of the bin's predictions; null when empty. */
  confidence: number | null;
  /** Fraction of them that are correct; null when empty. */
  accuracy: number | null;
}

export interface Calibration {
  /** Predictions binned. */
  count: number;
  /** Expected calibration error; null when there is nothing to bin. */
  ece: number | null;
  bins: ReliabilityBin[];
}

/** numpy.linspace(0, 1, nBins + 1) */
export function binEdges(nBins = ECE_BINS): number[] {
  const step = 1 / nBins;
  const e = Array.from({ length: nBins + 1 }, (_, i) => i * step);
  e[nBins] = 1;
  return e;
}

/** Accumulates predictions into bins; cheap enough to keep one per factor while streaming rows. */
export class CalibrationBins {
  readonly nBins: number;
  readonly edges: number[];
  readonly total: Int32Array;
  readonly correct: Float64Array;
  readonly confSum: Float64Array;

  constructor(nBins = ECE_BINS) {
    if (!Number.isInteger(nBins) || nBins < 1) throw new RangeError(`nBins must be a positive integer, got ${nBins}`);
    this.nBins = nBins;
    this.edges = binEdges(nBins);
    this.total = new Int32Array(nBins);
    this.correct = new Float64Array(nBins);
    this.confSum = new Float64Array(nBins);
  }

  /** The toolkit's bin of confidence p: the count of inner edges strictly below p. */
  binOf(p: number): number {
    const n = this.nBins;
    const e = this.edges;
    let b = Math.ceil(p * n) - 1; // a guess, exact up to rounding at the edges
    if (!(b >= 0)) b = 0;
    else if (b > n - 1) b = n - 1;
    while (b > 0 && p <= e[b]) b--;
    while (b < n - 1 && p > e[b + 1]) b++;
    return b;
  }

  add(p: number, correct: boolean): void {
    const b = this.binOf(p);
    this.total[b]++;
    this.confSum[b] += p;
    if (correct) this.correct[b] += 1;
  }

  result(): Calibration {
    let n = 0;
    for (let b = 0; b < this.nBins; b++) n += this.total[b];
    const bins: ReliabilityBin[] = [];
    let ece = 0;
    for (let b = 0; b < this.nBins; b++) {
      const c = this.total[b];
      const accuracy = c ? this.correct[b] / c : null;
      const confidence = c ? this.confSum[b] / c : null;
      if (c) ece += Math.abs(accuracy! - confidence!) * (c / n);
      bins.push({ lo: this.edges[b], hi: this.edges[b + 1], count: c, confidence, accuracy });
    }
    return { count: n, ece: n ? ece : null, bins };
  }
}

/** ECE and reliability data of predictions with confidences `probabilities` and outcomes `correct`. */
export function calibration(correct: ArrayLike<boolean | number>, probabilities: ArrayLike<number>, nBins = ECE_BINS): Calibration {
  if (correct.length !== probabilities.length) throw new RangeError(`${correct.length} outcomes but ${probabilities.length} probabilities`);
  const bins = new CalibrationBins(nBins);
  for (let i = 0; i < correct.length; i++) bins.add(probabilities[i], Boolean(correct[i]));
  return bins.result();
}

/** Just the number: the toolkit's `estimated_calibration_error(corrects, probabilities, n_bins)`. */
export function expectedCalibrationError(correct: ArrayLike<boolean | number>, probabilities: ArrayLike<number>, nBins = ECE_BINS): number | null {
  return calibration(correct, probabilities, nBins).ece;
}

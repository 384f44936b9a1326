// Pure helpers on classifier outputs (row-major [n, c] Float32Arrays).

/** Row-wise softmax of n rows of c logits (max-subtracted, accumulated in float64). */
export function softmaxRows(logits: Float32Array, n: number, c: number): Float32Array<ArrayBuffer> {
  if (logits.length < n * c) throw new RangeError(`softmaxRows: ${logits.length} values cannot hold ${n} rows of ${c}`);
  const out = new Float32Array(n * c);
  for (let r = 0; r < n; r++) {
    const o = r * c;
    let max = -Infinity;
    for (let j = 0; j < c; j++) if (logits[o + j] > max) max = logits[o + j];
    let sum = 0;
    for (let j = 0; j < c; j++) {
      const e = Math.exp(logits[o + j] - max);
      out[o + j] = e;
      sum += e;
    }
    for (let j = 0; j < c; j++) out[o + j] /= sum;
  }
  return out;
}

export interface Ranked {
  index: number;
  prob: number;
}

/** The k largest entries of one row, largest first; ties keep the lower index first; NaN ranks last. */
export function topK(row: ArrayLike<number>, k: number): Ranked[] {
  const kk = Math.max(0, Math.min(Math.floor(k), row.length));
  const ahead = (a: number, b: number) => a > b || (Number.isNaN(b) && !Number.isNaN(a));
  const best: Ranked[] = [];
  if (kk === 0) return best;
  for (let i = 0; i < row.length; i++) {
    const v = row[i];
    if (best.length === kk) {
      if (!ahead(v, best[kk - 1].prob)) continue;
      best.pop();
    }
    let pos = best.length;
    while (pos > 0 && ahead(v, best[pos - 1].prob)) pos--;
    best.splice(pos, 0, { index: i, prob: v });
  }
  return best;
}

/**
 * logits = features · W (+ bias) for n rows, with W stored [classes, dim] ('out_in', torch Linear)
 * or [dim, classes] ('in_out'). Accumulates in float64.
 */
export function applyLinearHead(
  features: Float32Array,
  n: number,
  weight: Float32Array,
  bias: Float32Array | null,
  layout: 'out_in' | 'in_out',
  numClasses: number,
  featureDim: number,
): Float32Array<ArrayBuffer> {
  const C = numClasses;
  const D = featureDim;
  if (weight.length !== C * D) throw new RangeError(`applyLinearHead: weight has ${weight.length} values, expected ${C}x${D}`);
  if (features.length < n * D) throw new RangeError(`applyLinearHead: ${features.length} features cannot hold ${n} rows of ${D}`);
  const out = new Float32Array(n * C);
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < C; c++) {
      let s = bias ? bias[c] : 0;
      if (layout === 'out_in') for (let d = 0; d < D; d++) s += features[r * D + d] * weight[c * D + d];
      else for (let d = 0; d < D; d++) s += features[r * D + d] * weight[d * C + c];
      out[r * C + c] = s;
    }
  }
  return out;
}

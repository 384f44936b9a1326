// Clustering of failure descriptions (Wiles et al. 2022): the text embeddings of the words that
// describe misclassified images are grouped so that each group becomes one candidate failure mode,
// named by its medoid's description.
//
// Method: spherical k-means (cosine similarity, centroids re-normalised to unit length) with
// k-means++ seeding from the project's seeded PRNG (mulberry32), RESTARTS restarts per k keeping the
// best objective (Σ cos(point, its centroid)); deterministic for a seed. Identical vectors (the same
// description string, very common) are merged into one weighted point first, so they always land in
// the same cluster and cost nothing extra; a cluster left empty is re-seeded with the point farthest
// from its own centroid.
//
// Choosing the number of clusters (`criterion` says which rule decided):
//   - fewer than 3 distinct points (this includes n < 3): one cluster per distinct point
//     (0, 1 or 2 clusters) — 'too-few';
//   - kMax < 2: a single cluster — 'k-max';
//   - otherwise k in 2..min(kMax, distinct − 1) maximising the mean silhouette coefficient with cosine
//     distance 1 − cos (smallest k on ties) — 'silhouette'; but if that best mean silhouette is below
//     MIN_SILHOUETTE (0.1: no structure worth splitting), a single cluster — 'no-structure'.
// The medoid of a cluster is its member with the highest mean cosine similarity to the cluster's
// members, ties broken by the lowest index. Clusters are numbered in the order of their lowest member.
import { mulberry32 } from '../../../native-models/mulberry32.ts';

export const MIN_SILHOUETTE = 0.1;
export const RESTARTS = 8;
const MAX_ITER = 100;

export interface ClusterOptions {
  /** PRNG seed (default 0): the same embeddings and seed give the same clustering. */
  seed?: number;
  /** The largest number of clusters tried (default 8). */
  kMax?: number;
  /** k-means restarts per k (default RESTARTS). */
  restarts?: number;
}

export type ClusterCriterion =
  | { kind: 'silhouette'; value: number }
  | { kind: 'too-few'; n: number; distinct: number }
  | { kind: 'no-structure'; value: number; bestK: number; threshold: number }
  | { kind: 'k-max'; kMax: number };

export interface ClusterResult {
  k: number;
  /** Cluster of each of the n rows, 0..k−1. */
  assignment: Int32Array;
  /** k unit vectors, row-major k × d. */
  centroids: Float32Array;
  /** Mean cosine silhouette of the returned assignment (0 when k < 2). */
  silhouette: number;
  criterion: ClusterCriterion;
  /** Row index of each cluster's medoid. */
  medoids: number[];
}

function checkShape(fn: string, embeddings: Float32Array, n: number, d: number): void {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`${fn}: n must be a non-negative integer, got ${n}`);
  if (!Number.isInteger(d) || d < 1) throw new RangeError(`${fn}: d must be a positive integer, got ${d}`);
  if (embeddings.length < n * d) {
    throw new RangeError(`${fn}: ${n} × ${d} embeddings need ${n * d} values, got ${embeddings.length}`);
  }
}

/** Rows copied to float64 and scaled to unit length (a zero row stays zero). */
function unitRows(src: Float32Array, rows: readonly number[], d: number): Float64Array {
  const out = new Float64Array(rows.length * d);
  rows.forEach((r, u) => {
    let norm = 0;
    for (let j = 0; j < d; j++) norm += src[r * d + j] * src[r * d + j];
    const inv = norm > 0 ? 1 / Math.sqrt(norm) : 0;
    for (let j = 0; j < d; j++) out[u * d + j] = src[r * d + j] * inv;
  });
  return out;
}

function dot(a: Float64Array, ia: number, b: Float64Array, ib: number, d: number): number {
  let s = 0;
  for (let j = 0; j < d; j++) s += a[ia + j] * b[ib + j];
  return s;
}

/** Weighted member sums M_c = Σ w_u x_u and weights W_c of each cluster. */
function clusterSums(x: Float64Array, w: ArrayLike<number>, m: number, d: number, labels: ArrayLike<number>, k: number) {
  const sums = new Float64Array(k * d);
  const weight = new Float64Array(k);
  for (let u = 0; u < m; u++) {
    const c = labels[u];
    weight[c] += w[u];
    for (let j = 0; j < d; j++) sums[c * d + j] += w[u] * x[u * d + j];
  }
  return { sums, weight };
}

/**
 * Mean silhouette of m weighted points (point u stands for w[u] identical rows), cosine distance.
 * Uses Σ_{v∈C} w_v (1 − x_u·x_v) = W_C − x_u·M_C, so it costs O(m·k·d) instead of O(m²·d).
 */
function weightedSilhouette(x: Float64Array, w: ArrayLike<number>, m: number, d: number, labels: ArrayLike<number>, k: number): number {
  const { sums, weight } = clusterSums(x, w, m, d, labels, k);
  let nonEmpty = 0;
  for (let c = 0; c < k; c++) if (weight[c] > 0) nonEmpty++;
  if (nonEmpty < 2) return 0;
  let total = 0;
  let totalWeight = 0;
  for (let u = 0; u < m; u++) {
    totalWeight += w[u];
    const own = labels[u];
    if (weight[own] <= 1) continue; // a singleton cluster: s = 0
    const self = dot(x, u * d, x, u * d, d);
    // Distances to the w[u] − 1 other copies of u are 0; to u itself 0 by definition.
    const intra = weight[own] - dot(x, u * d, sums, own * d, d) - w[u] * (1 - self);
    const a = Math.max(0, intra) / (weight[own] - 1);
    let b = Infinity;
    for (let c = 0; c < k; c++) {
      if (c === own || weight[c] === 0) continue;
      const mean = Math.max(0, weight[c] - dot(x, u * d, sums, c * d, d)) / weight[c];
      if (mean < b) b = mean;
    }
    const denom = Math.max(a, b);
    if (denom > 0) total += w[u] * ((b - a) / denom);
  }
  return total / totalWeight;
}

/**
 * Mean silhouette coefficient (as sklearn.metrics.silhouette_score(X, labels, metric='cosine')) of
 * an assignment of the n rows (labels: non-negative integers; empty label values are ignored). A
 * member of a one-row cluster scores 0; fewer than two non-empty clusters give 0.
 */
export function silhouette(embeddings: Float32Array, n: number, d: number, assignment: ArrayLike<number>): number {
  checkShape('silhouette', embeddings, n, d);
  if (assignment.length < n) throw new RangeError(`silhouette: ${n} rows need ${n} labels, got ${assignment.length}`);
  let k = 0;
  for (let i = 0; i < n; i++) {
    const c = assignment[i];
    if (!Number.isInteger(c) || c < 0) throw new RangeError(`silhouette: label ${i} must be a non-negative integer, got ${c}`);
    k = Math.max(k, c + 1);
  }
  const rows = Array.from({ length: n }, (_, i) => i);
  return weightedSilhouette(unitRows(embeddings, rows, d), new Float64Array(n).fill(1), n, d, assignment, k);
}

function mixSeed(seed: number, k: number): number {
  let h = (Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(k + 1, 0x85ebca6b)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d) >>> 0;
  return (h ^ (h >>> 15)) >>> 0;
}

/** Index drawn with probability ∝ weights[i] (weights ≥ 0, total > 0). */
function draw(weights: Float64Array, total: number, rnd: () => number): number {
  let r = rnd() * total;
  let last = -1;
  for (let i = 0; i < weights.length; i++) {
    if (weights[i] <= 0) continue;
    last = i;
    r -= weights[i];
    if (r < 0) return i;
  }
  return last;
}

interface KMeansRun {
  labels: Int32Array;
  centroids: Float64Array;
  objective: number;
}

/** One spherical k-means run on m weighted unit points, k ≤ m, k-means++ seeding. */
function sphericalKMeans(x: Float64Array, w: Float64Array, m: number, d: number, k: number, rnd: () => number): KMeansRun {
  // k-means++: first centre ∝ weight, then ∝ weight · squared Euclidean distance (= 2(1 − cos)).
  const centroids = new Float64Array(k * d);
  const chosen = new Uint8Array(m);
  const nearest = new Float64Array(m).fill(Infinity);
  const p = new Float64Array(m);
  for (let c = 0; c < k; c++) {
    let pick: number;
    if (c === 0) {
      pick = draw(w, w.reduce((s, v) => s + v, 0), rnd);
    } else {
      let total = 0;
      for (let u = 0; u < m; u++) {
        p[u] = chosen[u] ? 0 : w[u] * nearest[u];
        total += p[u];
      }
      pick = total > 0 ? draw(p, total, rnd) : chosen.indexOf(0);
    }
    chosen[pick] = 1;
    centroids.set(x.subarray(pick * d, (pick + 1) * d), c * d);
    for (let u = 0; u < m; u++) nearest[u] = Math.min(nearest[u], Math.max(0, 1 - dot(x, u * d, centroids, c * d, d)));
  }
  return lloyd(x, w, m, d, k, centroids);
}

/** Lloyd iterations of spherical k-means from the given unit centroids (updated in place), k ≤ m. */
function lloyd(x: Float64Array, w: Float64Array, m: number, d: number, k: number, centroids: Float64Array): KMeansRun {
  const labels = new Int32Array(m).fill(-1);
  const assign = (): boolean => {
    let changed = false;
    for (let u = 0; u < m; u++) {
      let best = 0;
      let bestSim = -Infinity;
      for (let c = 0; c < k; c++) {
        const s = dot(x, u * d, centroids, c * d, d);
        if (s > bestSim) [best, bestSim] = [c, s];
      }
      if (labels[u] !== best) [labels[u], changed] = [best, true];
    }
    return changed;
  };
  /** Centroids from the labels; an empty cluster takes the point farthest from its own centroid
   * (from a cluster of at least two points). Returns whether a point was moved. */
  const update = (): boolean => {
    let moved = false;
    for (let pass = 0; pass < 2; pass++) {
      const { sums, weight } = clusterSums(x, w, m, d, labels, k);
      const count = new Int32Array(k);
      for (let u = 0; u < m; u++) count[labels[u]]++;
      for (let c = 0; c < k; c++) {
        let norm = 0;
        for (let j = 0; j < d; j++) norm += sums[c * d + j] * sums[c * d + j];
        const inv = norm > 0 ? 1 / Math.sqrt(norm) : 0;
        for (let j = 0; j < d; j++) centroids[c * d + j] = sums[c * d + j] * inv;
      }
      let empties = false;
      for (let c = 0; c < k; c++) {
        if (weight[c] > 0) continue;
        empties = true;
        let far = -1;
        let farSim = Infinity;
        for (let u = 0; u < m; u++) {
          if (count[labels[u]] < 2) continue;
          const s = dot(x, u * d, centroids, labels[u] * d, d);
          if (s < farSim) [far, farSim] = [u, s];
        }
        count[labels[far]]--;
        count[c]++;
        labels[far] = c;
        centroids.set(x.subarray(far * d, (far + 1) * d), c * d);
        weight[c] = w[far];
      }
      if (!empties) break;
      moved = true; // second pass: centroids of the clusters that lost a point
    }
    return moved;
  };

  assign();
  for (let iter = 0; iter < MAX_ITER; iter++) {
    const moved = update();
    if (!assign() && !moved) break;
  }
  update();
  let objective = 0;
  for (let u = 0; u < m; u++) objective += w[u] * dot(x, u * d, centroids, labels[u] * d, d);
  return { labels, centroids, objective };
}

/**
 * Spherical k-means (Lloyd) from given initial centroids (k rows of d, normalised here; k ≤ n), every
 * row weighing 1: the iterations behind clusterEmbeddings, for refining a clustering and for tests. A
 * cluster that ends up empty takes the row farthest from its own centroid. Labels are as iterated
 * (cluster c started from initial centroid c), not renumbered.
 */
export function sphericalKMeansFrom(
  embeddings: Float32Array,
  n: number,
  d: number,
  initial: Float32Array,
  k: number,
): { assignment: Int32Array; centroids: Float32Array; objective: number } {
  checkShape('sphericalKMeansFrom', embeddings, n, d);
  if (!Number.isInteger(k) || k < 1 || k > n) throw new RangeError(`sphericalKMeansFrom: k must be an integer in [1, ${n}], got ${k}`);
  if (initial.length < k * d) throw new RangeError(`sphericalKMeansFrom: ${k} × ${d} centroids need ${k * d} values, got ${initial.length}`);
  const rows = Array.from({ length: n }, (_, i) => i);
  const start = unitRows(initial, Array.from({ length: k }, (_, c) => c), d);
  const run = lloyd(unitRows(embeddings, rows, d), new Float64Array(n).fill(1), n, d, k, start);
  return { assignment: run.labels, centroids: Float32Array.from(run.centroids), objective: run.objective };
}

/** Renumbers clusters in the order of their first point, so equal partitions get equal labels. */
function canonical(labels: Int32Array, k: number): Int32Array {
  const map = new Int32Array(k).fill(-1);
  let next = 0;
  const out = new Int32Array(labels.length);
  labels.forEach((c, u) => {
    if (map[c] < 0) map[c] = next++;
    out[u] = map[c];
  });
  return out;
}

/**
 * Clusters n L2-normalised embeddings (row-major n × d). See the module comment for the method and
 * the rule that picks the number of clusters.
 */
export function clusterEmbeddings(embeddings: Float32Array, n: number, d: number, options: ClusterOptions = {}): ClusterResult {
  checkShape('clusterEmbeddings', embeddings, n, d);
  const seed = options.seed ?? 0;
  const kMax = options.kMax ?? 8;
  const restarts = options.restarts ?? RESTARTS;
  if (!Number.isInteger(kMax) || kMax < 1) throw new RangeError(`clusterEmbeddings: kMax must be a positive integer, got ${kMax}`);
  if (!Number.isInteger(restarts) || restarts < 1) {
    throw new RangeError(`clusterEmbeddings: restarts must be a positive integer, got ${restarts}`);
  }
  if (!Number.isFinite(seed)) throw new RangeError(`clusterEmbeddings: seed must be a finite number, got ${seed}`);

  // Distinct rows (bit-identical vectors) become one weighted point ("unit"), in first-seen order.
  const unitOf = new Int32Array(n);
  const firstRow: number[] = [];
  const keys = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const key = Buffer.from(embeddings.buffer, embeddings.byteOffset + i * d * 4, d * 4).toString('latin1');
    let u = keys.get(key);
    if (u === undefined) {
      u = firstRow.length;
      keys.set(key, u);
      firstRow.push(i);
    }
    unitOf[i] = u;
  }
  const m = firstRow.length;
  const x = unitRows(embeddings, firstRow, d);
  const w = new Float64Array(m);
  for (let i = 0; i < n; i++) w[unitOf[i]]++;

  let labels: Int32Array;
  let k: number;
  let criterion: ClusterCriterion;
  if (m < 3) {
    labels = Int32Array.from({ length: m }, (_, u) => u);
    k = m;
    criterion = { kind: 'too-few', n, distinct: m };
  } else if (kMax < 2) {
    labels = new Int32Array(m);
    k = 1;
    criterion = { kind: 'k-max', kMax };
  } else {
    let best: { k: number; labels: Int32Array; value: number } | null = null;
    for (let kk = 2; kk <= Math.min(kMax, m - 1); kk++) {
      const rnd = mulberry32(mixSeed(seed, kk));
      let run: KMeansRun | null = null;
      for (let r = 0; r < restarts; r++) {
        const next = sphericalKMeans(x, w, m, d, kk, rnd);
        if (!run || next.objective > run.objective) run = next;
      }
      const value = weightedSilhouette(x, w, m, d, run!.labels, kk);
      if (!best || value > best.value) best = { k: kk, labels: run!.labels, value };
    }
    if (best!.value < MIN_SILHOUETTE) {
      labels = new Int32Array(m);
      k = 1;
      criterion = { kind: 'no-structure', value: best!.value, bestK: best!.k, threshold: MIN_SILHOUETTE };
    } else {
      labels = best!.labels;
      k = best!.k;
      criterion = { kind: 'silhouette', value: best!.value };
    }
  }
  labels = canonical(labels, k);

  const { sums, weight } = clusterSums(x, w, m, d, labels, k);
  const centroids = new Float32Array(k * d);
  const medoids: number[] = [];
  for (let c = 0; c < k; c++) {
    let norm = 0;
    for (let j = 0; j < d; j++) norm += sums[c * d + j] * sums[c * d + j];
    const inv = norm > 0 ? 1 / Math.sqrt(norm) : 0;
    for (let j = 0; j < d; j++) centroids[c * d + j] = sums[c * d + j] * inv;
    // Mean similarity to the members ∝ x_u · M_c; units are in first-row order, so keeping the first
    // of (near-)equal scores breaks ties by the lowest row index.
    let best = -1;
    let bestScore = -Infinity;
    const tol = 1e-12 * Math.max(1, weight[c]);
    for (let u = 0; u < m; u++) {
      if (labels[u] !== c) continue;
      const score = dot(x, u * d, sums, c * d, d);
      if (best < 0 || score > bestScore + tol) [best, bestScore] = [u, score];
    }
    medoids.push(firstRow[best]);
  }
  const assignment = new Int32Array(n);
  for (let i = 0; i < n; i++) assignment[i] = labels[unitOf[i]];
  return {
    k,
    assignment,
    centroids,
    silhouette: k >= 2 ? weightedSilhouette(x, w, m, d, labels, k) : 0,
    criterion,
    medoids,
  };
}

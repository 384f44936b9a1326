import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { clusterEmbeddings, MIN_SILHOUETTE, silhouette, sphericalKMeansFrom, type ClusterResult } from '../../../electron/core/discovery/clustering.ts';
import { mulberry32 } from '../../../native-models/mulberry32.ts';

// Reference silhouettes: sklearn.metrics.silhouette_score(metric='cosine'), from
// test/fixtures/discovery/make_reference.py.
interface Reference {
  silhouette: { name: string; n: number; d: number; embeddings: number[]; labels: number[]; silhouette: number }[];
}
const ref = JSON.parse(readFileSync(new URL('../../fixtures/discovery/reference.json', import.meta.url), 'utf8')) as Reference;

function normal(rnd: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());
}

function unit(v: number[]): number[] {
  const norm = Math.hypot(...v);
  return v.map((x) => x / norm);
}

function randomUnit(rnd: () => number, d: number): number[] {
  return unit(Array.from({ length: d }, () => normal(rnd)));
}

function noisy(rnd: () => number, center: number[], noise: number): number[] {
  return unit(center.map((c) => c + noise * normal(rnd)));
}

function pack(rows: number[][]): Float32Array {
  const d = rows[0]?.length ?? 1;
  const out = new Float32Array(rows.length * d);
  rows.forEach((r, i) => out.set(r, i * d));
  return out;
}

/** Groups of noisy unit vectors around random centres, rows shuffled; returns rows and true labels. */
function groups(sizes: number[], d: number, noise: number, seed: number): { rows: number[][]; truth: number[] } {
  const rnd = mulberry32(seed);
  const centers = sizes.map(() => randomUnit(rnd, d));
  const items = sizes.flatMap((n, g) => Array.from({ length: n }, () => ({ row: noisy(rnd, centers[g], noise), g })));
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [items[i], items[j]] = [items[j], items[i]];
  }
  return { rows: items.map((it) => it.row), truth: items.map((it) => it.g) };
}

/** Labels renumbered in order of first appearance (clusters are numbered by their lowest member). */
function canonical(labels: ArrayLike<number>): number[] {
  const map = new Map<number, number>();
  return Array.from(labels, (c) => {
    if (!map.has(c)) map.set(c, map.size);
    return map.get(c)!;
  });
}

function cos(a: Float32Array, i: number, j: number, d: number): number {
  let s = 0;
  let na = 0;
  let nb = 0;
  for (let t = 0; t < d; t++) {
    s += a[i * d + t] * a[j * d + t];
    na += a[i * d + t] ** 2;
    nb += a[j * d + t] ** 2;
  }
  return s / Math.sqrt(na * nb);
}

/** Silhouette by its O(n²) definition (as sklearn). */
function bruteSilhouette(e: Float32Array, n: number, d: number, labels: number[]): number {
  const clusters = [...new Set(labels)];
  if (clusters.length < 2) return 0;
  let total = 0;
  for (let i = 0; i < n; i++) {
    const mean = (c: number, skipSelf: boolean) => {
      let s = 0;
      let cnt = 0;
      for (let j = 0; j < n; j++) {
        if (labels[j] !== c || (skipSelf && j === i)) continue;
        s += Math.max(0, 1 - cos(e, i, j, d));
        cnt++;
      }
      return cnt ? s / cnt : NaN;
    };
    const own = labels.filter((l) => l === labels[i]).length;
    if (own === 1) continue;
    const a = mean(labels[i], true);
    const b = Math.min(...clusters.filter((c) => c !== labels[i]).map((c) => mean(c, false)));
    if (Math.max(a, b) > 0) total += (b - a) / Math.max(a, b);
  }
  return total / n;
}

/** The member with the highest mean cosine similarity to its cluster, lowest index on ties. */
function bruteMedoid(e: Float32Array, n: number, d: number, assignment: ArrayLike<number>, c: number): number {
  let best = -1;
  let bestScore = -Infinity;
  for (let i = 0; i < n; i++) {
    if (assignment[i] !== c) continue;
    let s = 0;
    for (let j = 0; j < n; j++) if (assignment[j] === c) s += cos(e, i, j, d);
    if (s > bestScore + 1e-9) [best, bestScore] = [i, s];
  }
  return best;
}

/** Invariants of any result: labels 0..k−1 all used, unit centroids, medoids inside their cluster. */
function expectValid(res: ClusterResult, e: Float32Array, n: number, d: number): void {
  expect(res.assignment.length).toBe(n);
  expect(res.medoids.length).toBe(res.k);
  expect(res.centroids.length).toBe(res.k * d);
  expect(new Set(res.assignment).size).toBe(res.k);
  expect(canonical(res.assignment)).toEqual(Array.from(res.assignment));
  for (let c = 0; c < res.k; c++) {
    let norm = 0;
    for (let j = 0; j < d; j++) norm += res.centroids[c * d + j] ** 2;
    expect(Math.sqrt(norm)).toBeCloseTo(1, 5);
    expect(res.assignment[res.medoids[c]]).toBe(c);
    expect(res.medoids[c]).toBe(bruteMedoid(e, n, d, res.assignment, c));
  }
}

describe('clusterEmbeddings', () => {
  const d = 16;

  it('finds three well-separated groups and the right partition', () => {
    const { rows, truth } = groups([12, 9, 15], d, 0.08, 7);
    const e = pack(rows);
    const res = clusterEmbeddings(e, rows.length, d, { seed: 1 });
    expect(res.k).toBe(3);
    expect(Array.from(res.assignment)).toEqual(canonical(truth));
    expect(res.criterion.kind).toBe('silhouette');
    if (res.criterion.kind === 'silhouette') expect(res.criterion.value).toBeGreaterThan(0.5);
    expect(res.silhouette).toBeCloseTo(silhouette(e, rows.length, d, res.assignment), 9);
    expect(res.silhouette).toBeCloseTo(bruteSilhouette(e, rows.length, d, Array.from(res.assignment)), 6);
    expectValid(res, e, rows.length, d);
  });

  it('finds the groups whatever the seed', () => {
    const { rows, truth } = groups([10, 10, 10], d, 0.1, 11);
    const e = pack(rows);
    for (const seed of [0, 1, 2, 3, 12345]) {
      const res = clusterEmbeddings(e, rows.length, d, { seed });
      expect(res.k).toBe(3);
      expect(Array.from(res.assignment)).toEqual(canonical(truth));
    }
  });

  it('keeps identical descriptions together and names a group by its most repeated one', () => {
    // Each group: one description repeated 6 times plus 6 other descriptions near it.
    const rnd = mulberry32(3);
    const rows: number[][] = [];
    const truth: number[] = [];
    const common: number[][] = [];
    for (let g = 0; g < 3; g++) {
      const center = randomUnit(rnd, d);
      common.push(noisy(rnd, center, 0.03));
      for (let i = 0; i < 6; i++) rows.push(noisy(rnd, center, 0.08)), truth.push(g);
    }
    // Interleave the repeated rows after the others, group by group.
    for (let g = 0; g < 3; g++) for (let i = 0; i < 6; i++) rows.push(common[(g + i) % 3]), truth.push((g + i) % 3);
    const e = pack(rows);
    const res = clusterEmbeddings(e, rows.length, d, { seed: 5 });
    expect(res.k).toBe(3);
    expect(Array.from(res.assignment)).toEqual(canonical(truth));
    for (let c = 0; c < 3; c++) {
      const m = res.medoids[c];
      expect(m).toBeGreaterThanOrEqual(18); // a repeated row ...
      expect(m).toBeLessThan(21); // ... the first occurrence of it
    }
    expectValid(res, e, rows.length, d);
  });

  it('respects kMax', () => {
    const { rows, truth } = groups([12, 9, 15], d, 0.08, 7);
    const e = pack(rows);
    const two = clusterEmbeddings(e, rows.length, d, { seed: 1, kMax: 2 });
    expect(two.k).toBe(2);
    // No group is split: each true group lies in one cluster.
    for (let g = 0; g < 3; g++) expect(new Set(truth.flatMap((t, i) => (t === g ? [two.assignment[i]] : []))).size).toBe(1);
    expectValid(two, e, rows.length, d);
    const one = clusterEmbeddings(e, rows.length, d, { seed: 1, kMax: 1 });
    expect(one.k).toBe(1);
    expect(one.criterion).toEqual({ kind: 'k-max', kMax: 1 });
    expectValid(one, e, rows.length, d);
  });

  it('puts all-identical points in one cluster (too few distinct points)', () => {
    const v = unit([1, 2, 3, 4]);
    const e = pack(Array.from({ length: 10 }, () => v));
    const res = clusterEmbeddings(e, 10, 4, { seed: 0 });
    expect(res.k).toBe(1);
    expect(res.criterion).toEqual({ kind: 'too-few', n: 10, distinct: 1 });
    expect(Array.from(res.assignment)).toEqual(new Array(10).fill(0));
    expect(res.medoids).toEqual([0]);
    expect(res.silhouette).toBe(0);
    v.forEach((x, j) => expect(res.centroids[j]).toBeCloseTo(x, 6));
  });

  it('gives one cluster per distinct point when there are only two', () => {
    const a = unit([1, 0, 0]);
    const b = unit([0.6, 0.8, 0]);
    const e = pack([a, b, a, a, b]);
    const res = clusterEmbeddings(e, 5, 3, { seed: 0 });
    expect(res.k).toBe(2);
    expect(res.criterion).toEqual({ kind: 'too-few', n: 5, distinct: 2 });
    expect(Array.from(res.assignment)).toEqual([0, 1, 0, 0, 1]);
    expect(res.medoids).toEqual([0, 1]);
    // Every point sits at distance 0 from its cluster and 1 − 0.6 from the other: s = 1.
    expect(res.silhouette).toBeCloseTo(1, 12);
  });

  it('handles n = 0, 1, 2 and 3', () => {
    const none = clusterEmbeddings(new Float32Array(0), 0, 4);
    expect(none.k).toBe(0);
    expect(none.assignment.length).toBe(0);
    expect(none.medoids).toEqual([]);
    const a = unit([1, 0, 0, 0]);
    const b = unit([0, 1, 0, 0]);
    const c = unit([0.1, 1, 0, 0]);
    const one = clusterEmbeddings(pack([a]), 1, 4);
    expect([one.k, Array.from(one.assignment), one.medoids]).toEqual([1, [0], [0]]);
    expect(one.criterion).toEqual({ kind: 'too-few', n: 1, distinct: 1 });
    const two = clusterEmbeddings(pack([a, b]), 2, 4);
    expect([two.k, Array.from(two.assignment), two.medoids]).toEqual([2, [0, 1], [0, 1]]);
    const same = clusterEmbeddings(pack([b, b]), 2, 4);
    expect([same.k, Array.from(same.assignment), same.medoids]).toEqual([1, [0, 0], [0]]);
    // Three distinct points: k = 2 is the only candidate; {b, c} against {a} scores ≈ (1 + 1 + 0)/3.
    const three = clusterEmbeddings(pack([b, a, c]), 3, 4);
    expect(three.k).toBe(2);
    expect(Array.from(three.assignment)).toEqual([0, 1, 0]);
    expect(three.criterion.kind).toBe('silhouette');
    expect(three.medoids).toEqual([0, 1]); // b and c tie: the lower index
  });

  it('breaks medoid ties by the lowest index', () => {
    // Two tight pairs far apart plus a third group: within a pair both members score 1 + cos.
    const rnd = mulberry32(9);
    const centers = [randomUnit(rnd, d), randomUnit(rnd, d), randomUnit(rnd, d)];
    const rows = [noisy(rnd, centers[0], 0.02), noisy(rnd, centers[1], 0.02), noisy(rnd, centers[0], 0.02), noisy(rnd, centers[1], 0.02)];
    for (let i = 0; i < 6; i++) rows.push(noisy(rnd, centers[2], 0.05));
    const e = pack(rows);
    const res = clusterEmbeddings(e, rows.length, d, { seed: 2 });
    expect(res.k).toBe(3);
    expect(Array.from(res.assignment)).toEqual([0, 1, 0, 1, 2, 2, 2, 2, 2, 2]);
    expect(res.medoids.slice(0, 2)).toEqual([0, 1]);
  });

  it('says "no structure" and returns one cluster when the best silhouette is below 0.1', () => {
    const rnd = mulberry32(4);
    const rows = Array.from({ length: 40 }, () => randomUnit(rnd, 64));
    const e = pack(rows);
    const res = clusterEmbeddings(e, 40, 64, { seed: 0 });
    expect(res.k).toBe(1);
    expect(res.criterion.kind).toBe('no-structure');
    if (res.criterion.kind === 'no-structure') {
      expect(res.criterion.value).toBeLessThan(MIN_SILHOUETTE);
      expect(res.criterion.bestK).toBeGreaterThanOrEqual(2);
    }
    expect(Array.from(res.assignment)).toEqual(new Array(40).fill(0));
    expectValid(res, e, 40, 64);
  });

  it('is deterministic for a seed', () => {
    const rnd = mulberry32(21);
    const rows = Array.from({ length: 60 }, () => randomUnit(rnd, d)); // ambiguous: restarts matter
    const e = pack(rows);
    const a = clusterEmbeddings(e, 60, d, { seed: 99 });
    const b = clusterEmbeddings(e, 60, d, { seed: 99 });
    expect(Array.from(b.assignment)).toEqual(Array.from(a.assignment));
    expect(Array.from(b.centroids)).toEqual(Array.from(a.centroids));
    expect(b.medoids).toEqual(a.medoids);
    expect(b.criterion).toEqual(a.criterion);
    expectValid(a, e, 60, d);
  });

  it('stays valid with heavy duplication and few distinct points', () => {
    for (let seed = 0; seed < 6; seed++) {
      const rnd = mulberry32(100 + seed);
      const distinct = Array.from({ length: 4 + seed }, () => randomUnit(rnd, 8));
      const rows = Array.from({ length: 50 }, (_, i) => distinct[i < 30 ? 0 : i % distinct.length]);
      const e = pack(rows);
      const res = clusterEmbeddings(e, 50, 8, { seed, kMax: 8 });
      expect(res.k).toBeLessThanOrEqual(distinct.length);
      expectValid(res, e, 50, 8);
      // Identical rows share a cluster.
      for (let i = 0; i < 50; i++) expect(res.assignment[i]).toBe(res.assignment[rows.indexOf(rows[i])]);
    }
  });

  it('rejects invalid arguments', () => {
    expect(() => clusterEmbeddings(new Float32Array(5), 2, 4)).toThrow(RangeError);
    expect(() => clusterEmbeddings(new Float32Array(8), 2, 4, { kMax: 0 })).toThrow(/kMax/);
    expect(() => clusterEmbeddings(new Float32Array(8), 2, 0)).toThrow(/d must be/);
  });
});

describe('sphericalKMeansFrom (the Lloyd iterations)', () => {
  const deg = (a: number) => [Math.cos((a * Math.PI) / 180), Math.sin((a * Math.PI) / 180)];
  const rows = [0, 5, 10, 90, 95, 100].map(deg);
  const e = pack(rows);

  it('converges to the groups from nearby centroids', () => {
    const res = sphericalKMeansFrom(e, 6, 2, pack([deg(20), deg(80)]), 2);
    expect(Array.from(res.assignment)).toEqual([0, 0, 0, 1, 1, 1]);
    expect(res.centroids[0]).toBeCloseTo(Math.cos((5 * Math.PI) / 180), 6);
    expect(res.objective).toBeCloseTo(2 * (2 * Math.cos((5 * Math.PI) / 180) + 1), 6); // float32 rows
  });

  it('re-seeds an empty cluster from the farthest point', () => {
    // The third centroid points away from every row: nobody joins it, so it takes the row farthest
    // from its own centroid (an edge of a group, 5° off), and the run ends with three clusters.
    const res = sphericalKMeansFrom(e, 6, 2, pack([deg(5), deg(95), deg(225)]), 3);
    const sizes = [0, 1, 2].map((c) => res.assignment.filter((a) => a === c).length);
    expect(sizes.every((s) => s > 0)).toBe(true);
    const alone = res.assignment.findIndex((a) => sizes[a] === 1);
    expect([0, 2, 3, 5]).toContain(alone);
    // A fixed point of Lloyd: every row sits with its most similar centroid.
    for (let i = 0; i < 6; i++) {
      const sims = [0, 1, 2].map((c) => rows[i][0] * res.centroids[c * 2] + rows[i][1] * res.centroids[c * 2 + 1]);
      expect(sims[res.assignment[i]]).toBeCloseTo(Math.max(...sims), 12);
    }
  });

  it('rejects k outside [1, n]', () => {
    expect(() => sphericalKMeansFrom(e, 6, 2, pack([deg(0)]), 0)).toThrow(RangeError);
    expect(() => sphericalKMeansFrom(e, 2, 2, pack([deg(0), deg(1), deg(2)]), 3)).toThrow(/k must be/);
  });
});

describe('silhouette', () => {
  it('matches sklearn.metrics.silhouette_score(metric="cosine") to 1e-6', () => {
    expect(ref.silhouette.length).toBeGreaterThanOrEqual(5);
    for (const s of ref.silhouette) {
      const value = silhouette(Float32Array.from(s.embeddings), s.n, s.d, s.labels);
      expect(Math.abs(value - s.silhouette) / Math.abs(s.silhouette), s.name).toBeLessThanOrEqual(1e-6);
    }
  });

  it('matches the O(n²) definition, with duplicates and sparse labels', () => {
    const rnd = mulberry32(8);
    const base = Array.from({ length: 12 }, () => randomUnit(rnd, 6));
    const rows = Array.from({ length: 30 }, (_, i) => base[Math.floor(rnd() * base.length)] ?? base[i % 12]);
    const labels = rows.map(() => [0, 3, 5][Math.floor(rnd() * 3)]);
    const e = pack(rows);
    expect(silhouette(e, 30, 6, labels)).toBeCloseTo(bruteSilhouette(e, 30, 6, labels), 9);
  });

  it('is 0 for one cluster or all singletons; hand-computed on three points', () => {
    const e = pack([unit([1, 0]), unit([0, 1]), unit([1, 1])]);
    expect(silhouette(e, 3, 2, [0, 0, 0])).toBe(0);
    expect(silhouette(e, 3, 2, [0, 1, 2])).toBe(0);
    // {x, diag} vs {y}: for x, a = 1 − cos45° = 0.2929, b = 1 − 0 = 1 → s = 0.7071;
    // for diag, a = 0.2929, b = 0.2929 → s = 0; y is alone → 0. Mean = 0.7071/3.
    expect(silhouette(e, 3, 2, [0, 1, 0])).toBeCloseTo(Math.SQRT1_2 / 3, 6);
  });

  it('rejects invalid labels', () => {
    const e = pack([unit([1, 0]), unit([0, 1])]);
    expect(() => silhouette(e, 2, 2, [0, -1])).toThrow(RangeError);
    expect(() => silhouette(e, 2, 2, [0])).toThrow(/labels/);
  });
});

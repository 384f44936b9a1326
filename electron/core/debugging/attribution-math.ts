// The arithmetic of attribution, on plain arrays: CLIP's choice of background per failure, the
// top-k backgrounds per class by votes, and Domino-style descriptions. No I/O.

/** Dot product of row `i` of an n x d matrix with vector v. */
export function dotRow(m: Float32Array, i: number, v: Float32Array, d: number, vOffset = 0): number {
  let s = 0;
  const o = i * d;
  for (let j = 0; j < d; j++) s += m[o + j]! * v[vOffset + j]!;
  return s;
}

export function normalize(v: Float32Array): Float32Array {
  let s = 0;
  for (const x of v) s += x * x;
  const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
  for (let j = 0; j < v.length; j++) v[j]! *= inv;
  return v;
}

/** For one (normalised) image embedding: the index of the most similar (normalised) text
 * embedding among `candidates` (indices into the n x d matrix `texts`), with the similarity. */
export function chooseBackground(image: Float32Array, texts: Float32Array, d: number, candidates: readonly number[]): { index: number; similarity: number } {
  let best = -1;
  let bestSim = -Infinity;
  for (const c of candidates) {
    const s = dotRow(texts, c, image, d);
    if (s > bestSim) {
      bestSim = s;
      best = c;
    }
  }
  return { index: best, similarity: bestSim };
}

export interface Vote {
  imageId: number;
  /** The background the failure voted for (an id of the caller's choosing). */
  background: number;
  similarity: number;
}

export interface Tally {
  background: number;
  votes: number;
  meanSimilarity: number;
  imageIds: number[];
}

/** Votes per background, most votes first; ties broken by the higher mean similarity, then by the
 * lower background id (deterministic). Backgrounds without votes follow, in `all` order. */
export function tallyVotes(votes: readonly Vote[], all: readonly number[] = []): Tally[] {
  const by = new Map<number, { sum: number; ids: number[] }>();
  for (const v of votes) {
    const t = by.get(v.background) ?? { sum: 0, ids: [] };
    t.sum += v.similarity;
    t.ids.push(v.imageId);
    by.set(v.background, t);
  }
  const voted: Tally[] = [...by].map(([background, t]) => ({ background, votes: t.ids.length, meanSimilarity: t.sum / t.ids.length, imageIds: t.ids.sort((a, b) => a - b) }));
  voted.sort((a, b) => b.votes - a.votes || b.meanSimilarity - a.meanSimilarity || a.background - b.background);
  const rest = all.filter((b) => !by.has(b)).map((background) => ({ background, votes: 0, meanSimilarity: 0, imageIds: [] }));
  return [...voted, ...rest];
}

/** The top-k backgrounds that got at least one vote. */
export function topK(tallies: readonly Tally[], k: number): Tally[] {
  return tallies.filter((t) => t.votes > 0).slice(0, k);
}

/** Mean of the given rows of an n x d matrix (rows assumed normalised; the mean is not). */
export function meanRows(m: Float32Array, rows: readonly number[], d: number): Float32Array {
  const out = new Float32Array(d);
  for (const r of rows) for (let j = 0; j < d; j++) out[j]! += m[r * d + j]!;
  if (rows.length) for (let j = 0; j < d; j++) out[j]! /= rows.length;
  return out;
}

export interface DominoScore {
  phrase: string;
  score: number;
}

/** Domino-style description: each phrase's (normalised) text embedding · (mean failure embedding −
 * mean embedding of all the class's images); highest first. */
export function dominoScores(phrases: readonly string[], texts: Float32Array, d: number, meanFailures: Float32Array, meanAll: Float32Array): DominoScore[] {
  const dir = new Float32Array(d);
  for (let j = 0; j < d; j++) dir[j] = meanFailures[j]! - meanAll[j]!;
  return phrases.map((phrase, i) => ({ phrase, score: dotRow(texts, i, dir, d) })).sort((a, b) => b.score - a.score || a.phrase.localeCompare(b.phrase));
}

// How often two ImageNet-X factors are labelled on the same image. counts[i][j] = images carrying
// both i and j (the diagonal: images carrying i). Two normalisations: the conditional P(j | i) =
// counts[i][j] / counts[i][i] (row i: of the images with factor i, the share that also has j; not
// symmetric) and the Jaccard index counts[i][j] / |i ∪ j| (symmetric). Pure: no I/O.
import { IMAGENET_X_FACTORS } from '../../../native-models/imagenet-x-factors.ts';

export interface Cooccurrence {
  images: number;
  counts: number[][];
  conditional: (number | null)[][];
  jaccard: (number | null)[][];
}

export function factorCooccurrence(masks: ArrayLike<number>): Cooccurrence {
  const F = IMAGENET_X_FACTORS.length;
  const counts = Array.from({ length: F }, () => new Array<number>(F).fill(0));
  const on: number[] = [];
  for (let k = 0; k < masks.length; k++) {
    on.length = 0;
    for (let f = 0, m = masks[k]; m !== 0 && f < F; f++, m >>>= 1) if (m & 1) on.push(f);
    for (const i of on) for (const j of on) counts[i][j]++;
  }
  const conditional = counts.map((row, i) => row.map((c) => (counts[i][i] ? c / counts[i][i] : null)));
  const jaccard = counts.map((row, i) =>
    row.map((c, j) => {
      const union = counts[i][i] + counts[j][j] - c;
      return union ? c / union : null;
    }),
  );
  return { images: masks.length, counts, conditional, jaccard };
}

import { describe, expect, it } from 'vitest';
import { chooseBackground, dominoScores, meanRows, normalize, tallyVotes, topK } from '../../../electron/core/debugging/attribution-math.ts';

describe('CLIP choice, votes and top-k', () => {
  it('picks the most similar candidate among those allowed', () => {
    // three 2-d text embeddings: x, y, diagonal
    const texts = new Float32Array([1, 0, 0, 1, Math.SQRT1_2, Math.SQRT1_2]);
    const img = normalize(new Float32Array([0.9, 0.2]));
    expect(chooseBackground(img, texts, 2, [0, 1, 2]).index).toBe(0);
    expect(chooseBackground(img, texts, 2, [1, 2]).index).toBe(2);
    const c = chooseBackground(img, texts, 2, [1]);
    expect(c.index).toBe(1);
    expect(c.similarity).toBeCloseTo(img[1]!, 6);
  });

  it('ranks by votes, ties by mean similarity, and lists the voters', () => {
    const votes = [
      { imageId: 5, background: 10, similarity: 0.5 },
      { imageId: 3, background: 10, similarity: 0.6 },
      { imageId: 1, background: 20, similarity: 0.9 },
      { imageId: 2, background: 20, similarity: 0.7 },
      { imageId: 4, background: 30, similarity: 0.99 },
    ];
    const t = tallyVotes(votes, [10, 20, 30, 40]);
    expect(t.map((x) => [x.background, x.votes])).toEqual([
      [20, 2],
      [10, 2],
      [30, 1],
      [40, 0],
    ]);
    expect(t[0]!.meanSimilarity).toBeCloseTo(0.8, 6);
    expect(t[1]!.imageIds).toEqual([3, 5]);
    expect(topK(t, 2).map((x) => x.background)).toEqual([20, 10]);
    // Backgrounds without votes are never in the top k.
    expect(topK(t, 10).map((x) => x.background)).toEqual([20, 10, 30]);
  });

  it('equal votes and equal similarity: the lower id first (deterministic)', () => {
    const t = tallyVotes([
      { imageId: 1, background: 9, similarity: 0.5 },
      { imageId: 2, background: 4, similarity: 0.5 },
    ]);
    expect(t.map((x) => x.background)).toEqual([4, 9]);
  });
});

describe('Domino-style scores', () => {
  it('scores phrases by text · (mean failures − mean all) on a hand-made case', () => {
    // 4 images in 3-d: failures (rows 0, 1) lean to axis z; the class as a whole to axis x.
    const imgs = new Float32Array([0, 0, 1, 0, 0.6, 0.8, 1, 0, 0, 1, 0, 0]);
    const failMean = meanRows(imgs, [0, 1], 3); // [0, 0.3, 0.9]
    const allMean = meanRows(imgs, [0, 1, 2, 3], 3); // [0.5, 0.15, 0.45]
    expect(Array.from(failMean).map((x) => +x.toFixed(4))).toEqual([0, 0.3, 0.9]);
    expect(Array.from(allMean).map((x) => +x.toFixed(4))).toEqual([0.5, 0.15, 0.45]);
    const texts = new Float32Array([1, 0, 0, 0, 1, 0, 0, 0, 1]);
    const s = dominoScores(['on x', 'on y', 'on z'], texts, 3, failMean, allMean);
    // direction = [-0.5, 0.15, 0.45]
    expect(s.map((x) => x.phrase)).toEqual(['on z', 'on y', 'on x']);
    expect(s[0]!.score).toBeCloseTo(0.45, 6);
    expect(s[1]!.score).toBeCloseTo(0.15, 6);
    expect(s[2]!.score).toBeCloseTo(-0.5, 6);
  });
});

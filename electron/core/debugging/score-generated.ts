// What a generated batch is scored with, in the patch loop and in discovery alike: the classifier's
// features and prediction, and CLIP's view of the prompted class (normalised embedding, zero-shot
// class, the prompted class's probability and its rank among all classes, 0 = CLIP's top choice).
import type { Classifier } from '../../../native-models/classifier/index.ts';
import { normalizeRows, zeroShotFromEmbeddings, type Clip, type ZeroShotClassifier } from '../../../native-models/clip/index.ts';
import { decodeBatch } from '../../../native-models/preprocess/index.ts';

export interface GeneratedScores {
  /** n x feature_dim classifier features. */
  features: Float32Array;
  featureDim: number;
  pred: number[];
  /** n x embed_dim CLIP image embeddings, L2-normalised. */
  clipEmbeddings: Float32Array;
  clipClass: number[];
  clipProb: number[];
  clipRank: number[];
}

export async function scoreGenerated(pngs: Buffer[], prompted: readonly number[], clf: Classifier, clip: Clip, zs: ZeroShotClassifier, what: string): Promise<GeneratedScores> {
  const clfIn = await decodeBatch(pngs, clf.manifest.preprocess);
  if (clfIn.errors.length) throw new Error(`generated image for ${what} did not decode: ${clfIn.errors[0]!.error.message}`);
  const { features, logits } = await clf.run(clfIn.tensor, pngs.length);
  const C = clf.manifest.head.num_classes;
  const clipIn = await decodeBatch(pngs, clip.manifest.preprocess);
  const clipEmbeddings = normalizeRows(await clip.encodeImages(clipIn.tensor, pngs.length), clip.embedDim);
  const zr = zeroShotFromEmbeddings(zs, clipEmbeddings, pngs.length);
  const K = zs.classNames.length;
  const out: GeneratedScores = { features, featureDim: clf.manifest.head.feature_dim, pred: [], clipEmbeddings, clipClass: [], clipProb: [], clipRank: [] };
  pngs.forEach((_, i) => {
    let pred = 0;
    for (let c = 1; c < C; c++) if (logits[i * C + c]! > logits[i * C + pred]!) pred = c;
    const probs = zr.probs.subarray(i * K, (i + 1) * K);
    const p = probs[prompted[i]!] ?? 0;
    let rank = 0;
    for (let c = 0; c < K; c++) if (probs[c]! > p) rank++;
    out.pred.push(pred);
    out.clipClass.push(zr.predictions[i]!);
    out.clipProb.push(p);
    out.clipRank.push(rank);
  });
  return out;
}

// Zero-shot classification as in CLIP's notebook: per class, embed every template filled with the
// class name, L2-normalise each, average, renormalise; score = logit_scale * cos(image, class).
import { normalizeRows, type Clip } from './open.ts';

export interface ZeroShotClassifier {
  classNames: string[];
  templates: string[];
  /** classes x embed_dim, rows L2-normalised. */
  weights: Float32Array<ArrayBuffer>;
  embedDim: number;
  logitScale: number;
}

export interface ZeroShotResult {
  /** n x classes, logit_scale * cosine similarity. */
  logits: Float32Array<ArrayBuffer>;
  /** n x classes, softmax of logits. */
  probs: Float32Array<ArrayBuffer>;
  /** argmax class index per image. */
  predictions: number[];
}

/** Fills a template: `{}` (CLIP's notebook: template.format(classname)) or `{class}`. */
export function fillTemplate(template: string, className: string): string {
  if (template.includes('{}')) return template.split('{}').join(className);
  if (template.includes('{class}')) return template.split('{class}').join(className);
  throw new Error(`prompt template ${JSON.stringify(template)} has no {} placeholder`);
}

export async function zeroShotClassifier(clip: Clip, classNames: readonly string[], templates: readonly string[]): Promise<ZeroShotClassifier> {
  if (classNames.length === 0) throw new Error('zeroShotClassifier: no class names');
  if (templates.length === 0) throw new Error('zeroShotClassifier: no templates');
  const E = clip.embedDim;
  const prompts = classNames.flatMap((c) => templates.map((t) => fillTemplate(t, c)));
  const emb = normalizeRows(await clip.encodeTexts(prompts), E);
  const T = templates.length;
  const weights = new Float32Array(classNames.length * E);
  for (let c = 0; c < classNames.length; c++) {
    for (let t = 0; t < T; t++) for (let j = 0; j < E; j++) weights[c * E + j]! += emb[(c * T + t) * E + j]! / T;
  }
  normalizeRows(weights, E);
  return { classNames: [...classNames], templates: [...templates], weights, embedDim: E, logitScale: clip.logitScale };
}

/** Scores image embeddings (n x embed_dim, any norm) against the classifier. */
export function zeroShotFromEmbeddings(zs: ZeroShotClassifier, imageEmbeds: Float32Array, n: number): ZeroShotResult {
  const E = zs.embedDim;
  const C = zs.classNames.length;
  const x = normalizeRows(Float32Array.from(imageEmbeds.subarray(0, n * E)), E);
  const logits = new Float32Array(n * C);
  const probs = new Float32Array(n * C);
  const predictions: number[] = [];
  for (let i = 0; i < n; i++) {
    let best = 0;
    let max = -Infinity;
    for (let c = 0; c < C; c++) {
      let s = 0;
      for (let j = 0; j < E; j++) s += x[i * E + j]! * zs.weights[c * E + j]!;
      const l = zs.logitScale * s;
      logits[i * C + c] = l;
      if (l > max) {
        max = l;
        best = c;
      }
    }
    let z = 0;
    for (let c = 0; c < C; c++) z += Math.exp(logits[i * C + c]! - max);
    for (let c = 0; c < C; c++) probs[i * C + c] = Math.exp(logits[i * C + c]! - max) / z;
    predictions.push(best);
  }
  return { logits, probs, predictions };
}

/** Encodes n preprocessed images (NCHW float32) and classifies them. */
export async function zeroShot(clip: Clip, zs: ZeroShotClassifier, images: Float32Array, n: number): Promise<ZeroShotResult> {
  return zeroShotFromEmbeddings(zs, await clip.encodeImages(images, n), n);
}

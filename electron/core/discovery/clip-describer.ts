// The CLIP describer: puts a failing image into words without a captioning model. A phrase's gain is
// how much more similar the image is to its prompt (the image's class with that phrase in its slot)
// than to the plain class prompt, minus the same gain averaged over the class's generated images
// (Domino-style contrast: what sets this failure apart from how the generator usually draws the
// class; without it, whatever the generator always does, e.g. blur read as "furry", would describe
// every failure). Per category the phrase with the largest gain; categories with a positive gain are
// kept, at most `maxAttributes` (largest first; at least one, so every failure gets words).
import type { Clip } from '../../../native-models/clip/index.ts';
import { normalizeRows } from '../../../native-models/clip/index.ts';
import { composePrompt, descriptionText, type AttributeVocabulary, type DescriptionParts } from './attribute-vocabulary.ts';

export interface ClassPrompts {
  /** Row 0: the plain class prompt; then one row per (category, phrase) in vocabulary order. */
  embeds: Float32Array;
  rows: { category: number; phrase: string }[];
}

export async function encodeClassPrompts(clip: Clip, vocabulary: AttributeVocabulary, noun: string): Promise<ClassPrompts> {
  const rows: { category: number; phrase: string }[] = [];
  vocabulary.categories.forEach((c, category) => c.phrases.forEach((phrase) => rows.push({ category, phrase })));
  const texts = [composePrompt(vocabulary, noun, []), ...rows.map((r) => composePrompt(vocabulary, noun, [r]))];
  return { embeds: normalizeRows(await clip.encodeTexts(texts), clip.embedDim), rows };
}

export interface Description {
  parts: DescriptionParts;
  text: string;
  /** Per kept category: similarity gain over the plain class prompt. */
  gains: number[];
}

/** Similarity of each prompt row to image `i` of an n x d matrix of normalised embeddings. */
export function promptSimilarities(images: Float32Array, i: number, prompts: ClassPrompts, d: number): Float32Array {
  const rows = prompts.rows.length + 1;
  const out = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += images[i * d + j]! * prompts.embeds[r * d + j]!;
    out[r] = s;
  }
  return out;
}

/** The mean of promptSimilarities over the n images (the class's usual look, as generated). */
export function meanSimilarities(images: Float32Array, n: number, prompts: ClassPrompts, d: number): Float32Array {
  const mean = new Float32Array(prompts.rows.length + 1);
  for (let i = 0; i < n; i++) {
    const s = promptSimilarities(images, i, prompts, d);
    for (let r = 0; r < mean.length; r++) mean[r]! += s[r]! / n;
  }
  return mean;
}

/** Describes one image (a normalised CLIP embedding) with its class's encoded prompts; `baseline`
 * (meanSimilarities of the class's images) turns gains into contrasts, null keeps them absolute. */
export function describeImage(image: Float32Array, prompts: ClassPrompts, d: number, maxAttributes: number, baseline: Float32Array | null = null): Description {
  const sims = promptSimilarities(image, 0, prompts, d);
  const base = (r: number) => (baseline ? baseline[r]! - baseline[0]! : 0);
  const best = new Map<number, { phrase: string; gain: number }>();
  prompts.rows.forEach((r, i) => {
    const gain = sims[i + 1]! - sims[0]! - base(i + 1);
    const b = best.get(r.category);
    if (!b || gain > b.gain) best.set(r.category, { phrase: r.phrase, gain });
  });
  const ranked = [...best].sort((a, b) => b[1].gain - a[1].gain);
  const kept = ranked.filter(([, b], i) => i === 0 || b.gain > 0).slice(0, Math.max(1, maxAttributes));
  const parts = kept.map(([category, b]) => ({ category, phrase: b.phrase })).sort((a, b) => a.category - b.category);
  const gains = parts.map((p) => best.get(p.category)!.gain);
  return { parts, text: descriptionText(parts), gains };
}

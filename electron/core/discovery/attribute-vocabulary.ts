// The CLIP describer's attribute vocabularies (resources/discovery) and the one way phrases are put
// around a class noun, used both to score phrases against an image and to build confirmation prompts:
// "{prefix | a photo of} {count | a} {adjectives} {noun} {suffix}, {suffix}".
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { resourcesDir } from '../../../native-models/resources-dir.ts';
import { plural } from '../../../native-models/shapeworld/caption.ts';

export type Slot = 'prefix' | 'count' | 'adjective' | 'suffix';

const categorySchema = z.object({
  name: z.string().min(1),
  slot: z.enum(['prefix', 'count', 'adjective', 'suffix']),
  /** The ImageNet-X factor the category stands for; `a|b` with phraseFactors naming each phrase's. */
  factor: z.string().min(1),
  phraseFactors: z.record(z.string(), z.string()).optional(),
  phrases: z.array(z.string().regex(/^[a-z][a-z0-9' -]*$/, 'phrases are lower-case words without commas')).min(1),
});
const vocabularySchema = z.object({ description: z.string(), categories: z.array(categorySchema).min(1) });

export type AttributeCategory = z.infer<typeof categorySchema>;

export interface AttributeVocabulary {
  name: 'shapeworld' | 'general';
  categories: AttributeCategory[];
}

/** A description as phrases by category index (at most one per category), in category order. */
export type DescriptionParts = { category: number; phrase: string }[];

const cache = new Map<string, AttributeVocabulary>();

export function loadAttributeVocabulary(name: 'shapeworld' | 'general'): AttributeVocabulary {
  const hit = cache.get(name);
  if (hit) return hit;
  const file = join(resourcesDir(), 'discovery', `${name}.json`);
  const parsed = vocabularySchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
  if (!parsed.success) throw new Error(`${file}: ${parsed.error.issues[0]!.path.join('.')}: ${parsed.error.issues[0]!.message}`);
  const seen = new Set<string>();
  for (const c of parsed.data.categories) {
    if (c.factor.includes('|') && c.phrases.some((p) => !c.phraseFactors?.[p])) throw new Error(`${file}: category ${c.name} stands for several factors (${c.factor}): name each phrase's in phraseFactors`);
    for (const p of c.phrases) {
      if (seen.has(p)) throw new Error(`${file}: phrase ${JSON.stringify(p)} appears in two categories; a description could not be read back`);
      seen.add(p);
    }
  }
  const v: AttributeVocabulary = { name, categories: parsed.data.categories };
  cache.set(name, v);
  return v;
}

/** The ImageNet-X factor a phrase of a category stands for. */
export function phraseFactor(vocabulary: AttributeVocabulary, category: number, phrase: string): string {
  const c = vocabulary.categories[category]!;
  return c.phraseFactors?.[phrase] ?? c.factor;
}

const VOWEL = /^[aeiou]/i;
const withArticle = (w: string): string => (VOWEL.test(w) ? `an ${w}` : `a ${w}`);

/** "a photo of a small star on sand, in dim light" for noun "star" and those parts. */
export function composePrompt(vocabulary: AttributeVocabulary, noun: string, parts: DescriptionParts): string {
  const of = (slot: Slot) => parts.filter((p) => vocabulary.categories[p.category]!.slot === slot).map((p) => p.phrase);
  const prefix = of('prefix')[0] ?? 'a photo of';
  const count = of('count')[0];
  const head = [...of('adjective'), count ? plural(noun) : noun].join(' ');
  const object = count ? `${count} ${head}` : withArticle(head);
  const suffixes = of('suffix');
  return [`${prefix} ${object}${suffixes.length ? ` ${suffixes[0]}` : ''}`, ...suffixes.slice(1)].join(', ');
}

/** The class-free words of a description: its phrases in category order, joined by ", ". */
export function descriptionText(parts: DescriptionParts): string {
  return [...parts].sort((a, b) => a.category - b.category).map((p) => p.phrase).join(', ');
}

/** Reads a description written by descriptionText back into parts (null when a phrase is unknown). */
export function parseDescription(vocabulary: AttributeVocabulary, text: string): DescriptionParts | null {
  if (!text.trim()) return [];
  const byPhrase = new Map<string, number>();
  vocabulary.categories.forEach((c, i) => c.phrases.forEach((p) => byPhrase.set(p, i)));
  const parts: DescriptionParts = [];
  for (const phrase of text.split(', ')) {
    const category = byPhrase.get(phrase);
    if (category === undefined || parts.some((p) => p.category === category)) return null;
    parts.push({ category, phrase });
  }
  return parts.sort((a, b) => a.category - b.category);
}

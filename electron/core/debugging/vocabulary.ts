// Background vocabularies (resources/backgrounds, resources/shapeworld): per class, the uncommon
// backgrounds CLIP chooses from, in the "a photo of a {class} {phrase}" form. A lab can override a
// class's list (table background_lists); the override wins over the shipped data.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { resourcesDir } from '../../../native-models/resources-dir.ts';
import type { Db } from '../store/database.ts';

export type VocabularyName = 'imagenet' | 'shapeworld' | 'general';

export interface ImagenetGroup {
  name: string;
  members: number[];
  memberNames: string[];
  backgrounds: string[];
}

export interface ImagenetOverride {
  classIdx: number;
  name: string;
  remove: string[];
  add: string[];
}

interface ImagenetFile {
  groups: ImagenetGroup[];
  overrides: ImagenetOverride[];
}

const cache = new Map<string, unknown>();

function readJson<T>(...parts: string[]): T {
  const file = join(resourcesDir(), ...parts);
  if (!cache.has(file)) cache.set(file, JSON.parse(readFileSync(file, 'utf8')));
  return cache.get(file) as T;
}

/** ~100 scenes and contexts for every class (Domino-style descriptions, and classes without a list). */
export function generalPhrases(): string[] {
  return readJson<{ phrases: string[] }>('backgrounds', 'general.json').phrases;
}

export function imagenetVocabularyFile(): ImagenetFile {
  return readJson<ImagenetFile>('backgrounds', 'imagenet.json');
}

/** The uncommon backgrounds of the 1000 ImageNet classes, by class index: group list + overrides. */
export function imagenetBackgrounds(): string[][] {
  const f = imagenetVocabularyFile();
  const lists: string[][] = Array.from({ length: 1000 }, () => []);
  for (const g of f.groups) for (const m of g.members) lists[m] = [...g.backgrounds];
  for (const o of f.overrides) {
    const keep = lists[o.classIdx]!.filter((p) => !o.remove.includes(p));
    lists[o.classIdx] = [...keep, ...o.add.filter((p) => !keep.includes(p))];
  }
  return lists;
}

export interface ShapeworldBackground {
  name: string;
  label: string;
  phrase: string;
}

export function shapeworldWorld(): { classes: { name: string; usualBackgrounds: string[]; colorName: string }[]; backgrounds: ShapeworldBackground[] } {
  const classes = readJson<{ classes: { name: string; usualBackgrounds: string[]; colorName: string }[] }>('shapeworld', 'classes.json').classes;
  const backgrounds = readJson<{ backgrounds: ShapeworldBackground[] }>('shapeworld', 'backgrounds.json').backgrounds;
  return { classes, backgrounds };
}

/** Per ShapeWorld class: the phrases of every background that is not one of its usual ones. */
export function shapeworldBackgrounds(): string[][] {
  const { classes, backgrounds } = shapeworldWorld();
  return classes.map((c) => backgrounds.filter((b) => !c.usualBackgrounds.includes(b.name)).map((b) => b.phrase));
}

/** Which vocabulary fits a model's label space: ShapeWorld's names, ImageNet's 1000, else general. */
export function vocabularyFor(labels: readonly { name: string }[]): VocabularyName {
  const sw = shapeworldWorld().classes.map((c) => c.name);
  if (labels.length === sw.length && labels.every((l, i) => l.name === sw[i])) return 'shapeworld';
  if (labels.length === 1000) return 'imagenet';
  return 'general';
}

/** The class name used in prompts: CLIP's ImageNet names for the 1000 classes, else the label. */
export function promptClassNames(vocabulary: VocabularyName, labels: readonly { name: string }[]): string[] {
  if (vocabulary === 'imagenet') {
    const names = readJson<string[]>('clip', 'clip_imagenet_classnames.json');
    return labels.map((l, i) => names[i] ?? l.name);
  }
  return labels.map((l) => l.name);
}

/** The shipped list of one class (no lab override). */
export function shippedList(vocabulary: VocabularyName, classIdx: number): string[] {
  if (vocabulary === 'imagenet') return imagenetBackgrounds()[classIdx] ?? [];
  if (vocabulary === 'shapeworld') return shapeworldBackgrounds()[classIdx] ?? [];
  return generalPhrases();
}

/** A class's list in this lab: the lab's override if it has one, else the shipped list. */
export function classList(db: Db, vocabulary: VocabularyName, classIdx: number, className: string): { phrases: string[]; overridden: boolean } {
  const row = db.prepare(`SELECT phrases FROM background_lists WHERE vocabulary = ? AND class_name = ?`).get(vocabulary, className) as { phrases: string } | undefined;
  if (row) return { phrases: JSON.parse(row.phrases) as string[], overridden: true };
  return { phrases: shippedList(vocabulary, classIdx), overridden: false };
}

/** Stores (phrases) or removes (null) the lab's override of a class's list. */
export function setClassList(db: Db, vocabulary: VocabularyName, className: string, phrases: string[] | null): void {
  if (phrases === null) {
    db.prepare(`DELETE FROM background_lists WHERE vocabulary = ? AND class_name = ?`).run(vocabulary, className);
    return;
  }
  db.prepare(
    `INSERT INTO background_lists (vocabulary, class_name, phrases) VALUES (?, ?, ?)
     ON CONFLICT (vocabulary, class_name) DO UPDATE SET phrases = excluded.phrases, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ','now')`,
  ).run(vocabulary, className, JSON.stringify(phrases));
}

/** Form of a phrase: lower-case words (letters, digits, apostrophes, hyphens), single spaces, 2-60 chars. */
export const PHRASE_RE = /^[a-z][a-z0-9'-]*( [a-z0-9'-]+)*$/;

export function checkPhrase(p: string): string | null {
  if (p.length < 2 || p.length > 60) return `a background phrase must have 2 to 60 characters, got ${JSON.stringify(p)}`;
  if (!PHRASE_RE.test(p)) return `a background phrase is lower-case words separated by single spaces (like "on snow"), got ${JSON.stringify(p)}`;
  return null;
}

const VOWEL = /^[aeiou]/i;

/** "a photo of a {class} {phrase}" (with "an" before a vowel). */
export function backgroundPrompt(className: string, phrase: string): string {
  return `a photo of ${VOWEL.test(className) ? 'an' : 'a'} ${className} ${phrase}`;
}

/**
 * Writing a split to disk: an ImageNet-style folder plus ImageNet-X annotations and full scenes.
 *
 *   outDir/<class name>/<split>_<index, 6 digits>.png
 *   outDir/factors.jsonl   ImageNet-X format: file_name, class, 16 factors (0/1), justification, one_word
 *   outDir/scenes.jsonl    {file, ...Scene, captions} per image, full ground truth
 *   outDir/shapeworld.json what was generated (split, seed, count, settings, sizes)
 */
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createRng } from './rng.ts';
import { CLASSES, FACTORS } from './world.ts';
import type { FactorName } from './world.ts';
import { DEFAULT_SETTINGS, sampleScene } from './scene.ts';
import type { Scene, Split, WorldSettings } from './scene.ts';
import { renderScene } from './render.ts';
import { captionScene, justification, oneWord } from './caption.ts';

export const GENERATOR_VERSION = 1;

/** One line of an ImageNet-X annotation file, keys in the ImageNet-X order. */
export type ImageNetXRecord = { file_name: string; class: number } & Record<FactorName, 0 | 1> & {
    justification: string;
    one_word: string;
  };

export function imageNetXRecord(scene: Scene, fileName: string): ImageNetXRecord {
  const rec: Record<string, unknown> = { file_name: fileName, class: scene.classIndex };
  for (const f of FACTORS) rec[f] = scene.factors[f];
  rec.justification = justification(scene);
  rec.one_word = oneWord(scene);
  return rec as ImageNetXRecord;
}

/** File name of image `index` of a split (ImageNet-X's file_name is this base name). */
export function imageFileName(split: Split, index: number): string {
  return `${split}_${String(index).padStart(6, '0')}.png`;
}

/** The scene of image `index` of a split: a pure function of (seed, split, index, settings). */
export function sceneAt(seed: number | string, split: Split, index: number, settings: WorldSettings = DEFAULT_SETTINGS): Scene {
  return sampleScene(createRng('shapeworld', seed, split, index), split, settings, { classIndex: index % CLASSES.length });
}

export interface GenerateOptions {
  outDir: string;
  split: Split;
  count: number;
  seed: number | string;
  settings?: WorldSettings;
  /** Image side in pixels; defaults to settings.imageSize (64). */
  size?: number;
  /** Renders in flight at once (default: available parallelism). */
  concurrency?: number;
  onProgress?: (done: number, total: number) => void;
}

export interface GenerateResult {
  outDir: string;
  split: Split;
  count: number;
  seed: number | string;
  size: number;
  ms: number;
  imagesPerMinute: number;
  classCounts: Record<string, number>;
  factorCounts: Record<FactorName, number>;
}

/** Generate `count` images of a split into outDir (classes balanced: image i is of class i % 10). */
export async function generateSplit(opts: GenerateOptions): Promise<GenerateResult> {
  const settings = opts.settings ?? DEFAULT_SETTINGS;
  const size = opts.size ?? settings.imageSize;
  const t0 = performance.now();
  await mkdir(opts.outDir, { recursive: true });
  for (const c of CLASSES) await mkdir(path.join(opts.outDir, c.name), { recursive: true });
  const factorsLines: string[] = new Array(opts.count);
  const sceneLines: string[] = new Array(opts.count);
  const classCounts: Record<string, number> = Object.fromEntries(CLASSES.map((c) => [c.name, 0]));
  const factorCounts = Object.fromEntries(FACTORS.map((f) => [f, 0])) as Record<FactorName, number>;
  let next = 0;
  let done = 0;
  const worker = async (): Promise<void> => {
    for (;;) {
      const i = next++;
      if (i >= opts.count) return;
      const scene = sceneAt(opts.seed, opts.split, i, settings);
      const file = imageFileName(opts.split, i);
      const rel = `${scene.className}/${file}`;
      const png = await renderScene(scene, size);
      await writeFile(path.join(opts.outDir, rel), png);
      factorsLines[i] = JSON.stringify(imageNetXRecord(scene, file));
      sceneLines[i] = JSON.stringify({ file: rel, ...scene, captions: captionScene(scene) });
      classCounts[scene.className]!++;
      for (const f of FACTORS) factorCounts[f] += scene.factors[f];
      done++;
      opts.onProgress?.(done, opts.count);
    }
  };
  const n = Math.max(1, Math.min(opts.concurrency ?? os.availableParallelism(), opts.count || 1));
  await Promise.all(Array.from({ length: n }, () => worker()));
  await writeFile(path.join(opts.outDir, 'factors.jsonl'), factorsLines.map((l) => l + '\n').join(''));
  await writeFile(path.join(opts.outDir, 'scenes.jsonl'), sceneLines.map((l) => l + '\n').join(''));
  const ms = performance.now() - t0;
  await writeFile(
    path.join(opts.outDir, 'shapeworld.json'),
    JSON.stringify(
      {
        generator: 'shapeworld',
        version: GENERATOR_VERSION,
        split: opts.split,
        seed: opts.seed,
        count: opts.count,
        size,
        classes: CLASSES.map((c) => c.name),
        settings: settings.splits[opts.split],
      },
      null,
      2,
    ) + '\n',
  );
  return {
    outDir: opts.outDir,
    split: opts.split,
    count: opts.count,
    seed: opts.seed,
    size,
    ms,
    imagesPerMinute: opts.count / (ms / 60000),
    classCounts,
    factorCounts,
  };
}

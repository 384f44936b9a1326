// The output folder of an export, made before any work: one level at a time, so every failure is
// a plain error naming the folder (Node's recursive mkdir loops forever under /proc). An export that
// fails or is cancelled removes the folders it created (removeCreatedDirs), when left empty.
import { mkdirSync, rmdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { BadInputError } from '../errors.ts';

export function makeOutputDir(path: string): string {
  return makeOutputDirTracked(path).dir;
}

/** makeOutputDir, also naming the folders it created (outermost first), for removeCreatedDirs. */
export function makeOutputDirTracked(path: string): { dir: string; created: string[] } {
  const target = resolve(path);
  const missing: string[] = [];
  let cur = target;
  for (;;) {
    try {
      if (!statSync(cur).isDirectory()) throw new BadInputError(`cannot write to ${target}: ${cur} is a file, not a folder`);
      break;
    } catch (e) {
      if (e instanceof BadInputError) throw e;
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new BadInputError(`cannot write to ${target}: ${cur}: ${(e as Error).message}`);
      const parent = dirname(cur);
      if (parent === cur) throw new BadInputError(`cannot write to ${target}: no existing folder above it`);
      missing.unshift(cur);
      cur = parent;
    }
  }
  const created: string[] = [];
  for (const dir of missing) {
    try {
      mkdirSync(dir);
      created.push(dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') {
        removeCreatedDirs(created);
        throw new BadInputError(`cannot create the folder ${dir}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      }
    }
  }
  return { dir: target, created };
}

/** Removes the folders makeOutputDirTracked created, innermost first, each only while empty. */
export function removeCreatedDirs(created: string[]): void {
  for (const dir of [...created].reverse()) {
    try {
      rmdirSync(dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') return; // not empty: keep it and the folders above it
    }
  }
}

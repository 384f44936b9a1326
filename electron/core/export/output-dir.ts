// The output folder of an export, made before any work: one level at a time, so every failure is
// a plain error naming the folder (Node's recursive mkdir loops forever under /proc).
import { mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { BadInputError } from '../errors.ts';

export function makeOutputDir(path: string): string {
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
  for (const dir of missing) {
    try {
      mkdirSync(dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new BadInputError(`cannot create the folder ${dir}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  }
  return target;
}

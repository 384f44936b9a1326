// An export's output folder: made one level at a time, naming the folders it created, and those
// removed again (innermost first, only while empty) when the export fails or is cancelled.
import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../../helpers/temp-dir.ts';
import { makeOutputDir, makeOutputDirTracked, removeCreatedDirs } from '../../../electron/core/export/output-dir.ts';
import { BadInputError } from '../../../electron/core/errors.ts';

let tmp: ReturnType<typeof tempDir> | undefined;
afterEach(() => tmp?.remove());

describe('output folder', () => {
  it('names the folders it created, outermost first; an existing folder creates none', () => {
    tmp = tempDir('factorlab-outdir-');
    const target = join(tmp.path, 'a', 'b', 'c');
    const r = makeOutputDirTracked(target);
    expect(r).toEqual({ dir: target, created: [join(tmp.path, 'a'), join(tmp.path, 'a', 'b'), target] });
    expect(existsSync(target)).toBe(true);
    expect(makeOutputDirTracked(target).created).toEqual([]);
    expect(makeOutputDir(target)).toBe(target);
  });

  it('removes what it created while empty, and stops at a folder with something in it', () => {
    tmp = tempDir('factorlab-outdir-');
    const { created } = makeOutputDirTracked(join(tmp.path, 'a', 'b', 'c'));
    removeCreatedDirs(created);
    expect(existsSync(join(tmp.path, 'a'))).toBe(false);
    expect(existsSync(tmp.path)).toBe(true);

    const again = makeOutputDirTracked(join(tmp.path, 'x', 'y', 'z'));
    writeFileSync(join(tmp.path, 'x', 'y', 'keep.txt'), 'kept');
    removeCreatedDirs(again.created);
    expect(existsSync(join(tmp.path, 'x', 'y', 'z'))).toBe(false);
    expect(existsSync(join(tmp.path, 'x', 'y', 'keep.txt'))).toBe(true);

    // a folder that existed before is never in the list, so never removed
    mkdirSync(join(tmp.path, 'old'));
    removeCreatedDirs(makeOutputDirTracked(join(tmp.path, 'old')).created);
    expect(existsSync(join(tmp.path, 'old'))).toBe(true);
  });

  it('refuses a path through a file, creating nothing', () => {
    tmp = tempDir('factorlab-outdir-');
    writeFileSync(join(tmp.path, 'f'), '');
    expect(() => makeOutputDirTracked(join(tmp!.path, 'f', 'sub'))).toThrow(BadInputError);
  });
});

import { opendir, realpath, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';

export interface WalkedFile {
  abs: string;
  rel: string;
}

export interface WalkProblem {
  rel: string;
  reason: string;
}

/** Lists files under root, following symbolic links but never entering a folder twice (so a symlink
 * loop ends), and reports folders that cannot be read instead of failing the whole walk. */
export async function walkFiles(root: string): Promise<{ files: WalkedFile[]; problems: WalkProblem[] }> {
  const files: WalkedFile[] = [];
  const problems: WalkProblem[] = [];
  const seenDirs = new Set<string>();

  async function visit(dir: string): Promise<void> {
    let real: string;
    try {
      real = await realpath(dir);
    } catch (e) {
      problems.push({ rel: relative(root, dir) || '.', reason: `cannot resolve folder: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` });
      return;
    }
    if (seenDirs.has(real)) {
      problems.push({ rel: relative(root, dir), reason: 'folder already visited through another path (symbolic link loop or duplicate link)' });
      return;
    }
    seenDirs.add(real);
    let entries;
    try {
      entries = await opendir(dir);
    } catch (e) {
      problems.push({ rel: relative(root, dir) || '.', reason: `cannot read folder: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` });
      return;
    }
    const subdirs: string[] = [];
    try {
      for await (const entry of entries) {
        const abs = join(dir, entry.name);
        if (entry.isDirectory()) subdirs.push(abs);
        else if (entry.isFile()) files.push({ abs, rel: relative(root, abs) });
        else if (entry.isSymbolicLink()) {
          try {
            const s = await stat(abs);
            if (s.isDirectory()) subdirs.push(abs);
            else if (s.isFile()) files.push({ abs, rel: relative(root, abs) });
          } catch (e) {
            problems.push({ rel: relative(root, abs), reason: `broken symbolic link: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` });
          }
        }
      }
    } catch (e) {
      problems.push({ rel: relative(root, dir) || '.', reason: `error while reading folder: ${(e as Error).message}` });
    }
    subdirs.sort();
    for (const d of subdirs) await visit(d);
  }

  await visit(root);
  files.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
  return { files, problems };
}

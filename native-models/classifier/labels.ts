// Class labels for classifier packages.
import { readFile } from 'node:fs/promises';
import { imagenetClasses } from '../imagenet-classes.ts';
import type { Label } from '../manifest/schema.ts';

const WNID = /^n\d{8}$/;

export class LabelsError extends Error {
  readonly file: string;
  constructor(file: string, problem: string) {
    super(`${file}: ${problem}`);
    this.name = 'LabelsError';
    this.file = file;
  }
}

/**
 * Parses a labels file: a JSON array of names (or of {name, wnid?}), or one class per line: a name,
 * or `wnid name` (e.g. n01440764 tench), or a bare wnid (an ImageNet wnid gets ImageNet's short name).
 * Trailing blank lines are ignored; a blank line between classes is an error (it would shift classes).
 */
export function parseLabels(text: string, file: string): Label[] {
  const body = text.replace(/^\uFEFF/, '');
  if (body.trimStart().startsWith('[')) {
    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch (err) {
      throw new LabelsError(file, `looks like JSON but does not parse (${(err as Error).message})`);
    }
    if (!Array.isArray(json)) throw new LabelsError(file, 'expected a JSON array of class names');
    return json.map((x, i) => {
      if (typeof x === 'string' && x.trim()) return { name: x.trim() };
      if (x && typeof x === 'object' && typeof (x as Label).name === 'string' && (x as Label).name.trim()) {
        const l = x as Label;
        return l.wnid ? { name: l.name.trim(), wnid: l.wnid } : { name: l.name.trim() };
      }
      throw new LabelsError(file, `entry ${i} is not a class name: ${JSON.stringify(x)}`);
    });
  }
  const lines = body.split(/\r?\n/);
  while (lines.length && lines[lines.length - 1].trim() === '') lines.pop();
  let imagenet: Map<string, string> | null = null;
  return lines.map((line, i) => {
    const t = line.trim();
    if (!t) throw new LabelsError(file, `line ${i + 1} is empty (one class per line; blank lines would shift the class indices)`);
    const m = /^(n\d{8})(?:\s+(.+))?$/.exec(t);
    if (!m) return { name: t };
    if (m[2]) return { wnid: m[1], name: m[2].trim() };
    imagenet ??= new Map(imagenetClasses().map((c) => [c.wnid!, c.name]));
    return { wnid: m[1], name: imagenet.get(m[1]) ?? m[1] };
  });
}

export async function readLabelsFile(path: string): Promise<Label[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new LabelsError(path, code === 'ENOENT' ? 'labels file not found' : `cannot read (${(err as Error).message})`);
  }
  return parseLabels(text, path);
}

export function isWnid(s: string): boolean {
  return WNID.test(s);
}

/** `class 0` .. `class C-1`. */
export function genericLabels(numClasses: number): Label[] {
  return Array.from({ length: numClasses }, (_, i) => ({ name: `class ${i}` }));
}

/** ImageNet-1k: wnid and short name for each of the 1000 classes (resources/imagenet). */
export function imagenetLabels(): Label[] {
  return imagenetClasses().map((c) => ({ name: c.name, wnid: c.wnid }));
}

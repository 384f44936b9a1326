import { readFileSync } from 'node:fs';
import { imagenetClasses } from '../../../native-models/imagenet-classes.ts';
import { LabelsError, parseLabels } from '../../../native-models/classifier/labels.ts';

export interface LabelClass {
  idx: number;
  name: string;
  wnid: string | null;
}

const WNID = /^n\d{8}$/;

export function normaliseName(name: string): string {
  return name.trim().toLowerCase().replace(/[_\s]+/g, ' ');
}

/** An ordered list of classes and the ways a label can name one: index, WordNet id or name. */
export class LabelSpace {
  readonly classes: LabelClass[];
  private readonly byKey = new Map<string, number>();

  constructor(classes: { name: string; wnid?: string | null }[]) {
    this.classes = classes.map((c, idx) => ({ idx, name: c.name, wnid: c.wnid ?? null }));
    // Names may repeat (ImageNet has two "crane"s and two "maillot"s): the first keeps the name,
    // the WordNet id stays unambiguous.
    for (const c of this.classes) {
      if (c.wnid && !this.byKey.has(c.wnid)) this.byKey.set(c.wnid, c.idx);
      const key = normaliseName(c.name);
      if (!this.byKey.has(key)) this.byKey.set(key, c.idx);
    }
  }

  /** Index of the class a label names, or null. Integers are class indices. */
  resolve(label: string): number | null {
    const t = label.trim();
    if (/^\d+$/.test(t)) {
      const i = Number(t);
      return i < this.classes.length ? i : null;
    }
    return this.resolveName(t);
  }

  /** Like resolve, but never reads a label as an index (folder names such as "3" are names). */
  resolveName(label: string): number | null {
    const t = label.trim();
    return this.byKey.get(t) ?? this.byKey.get(normaliseName(t)) ?? null;
  }

  static imagenet(): LabelSpace {
    return new LabelSpace(imagenetClasses());
  }

  /** A labels file, in the format model packages read (native-models/classifier/labels.ts). */
  static fromFile(file: string): LabelSpace {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new LabelsError(file, code === 'ENOENT' ? 'labels file not found' : `cannot read (${(e as Error).message})`);
    }
    return new LabelSpace(parseLabels(text, file));
  }

  /** Class folders of an ImageNet-style tree: WordNet ids map to ImageNet-1k order when every folder
   * is one; other names are sorted as torchvision's ImageFolder sorts them. */
  static fromFolderNames(names: string[]): LabelSpace {
    if (names.length > 0 && names.every((n) => WNID.test(n))) {
      const imagenet = LabelSpace.imagenet();
      if (names.every((n) => imagenet.resolveName(n) !== null)) return imagenet;
    }
    return new LabelSpace([...names].sort().map((name) => ({ name })));
  }
}

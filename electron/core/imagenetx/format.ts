// The ImageNet-X annotation file format (facebookresearch/imagenetx): JSON lines with file_name,
// class, the 16 factors as 0/1, justification and one_word; plus prototypical_paths.csv and the
// metaclass mapping. Parsing validates every line; writing reproduces the file's own layout.
import { z } from 'zod';
import { IMAGENET_X_FACTORS, type ImageNetXFactor } from '../../../native-models/imagenet-x-factors.ts';
import { parseCsv } from '../datasets/parse-csv.ts';

const bit = z.union([z.literal(0), z.literal(1)], { error: 'must be 0 or 1' });

export const AnnotationLine = z
  .object({
    file_name: z.string().min(1, 'must be a non-empty string'),
    class: z.number().int('must be an integer').min(0, 'must be 0..999').max(999, 'must be 0..999'),
    ...(Object.fromEntries(IMAGENET_X_FACTORS.map((f) => [f, bit])) as Record<ImageNetXFactor, typeof bit>),
    justification: z.string().nullable(),
    one_word: z.string().nullable(),
  })
  .strict();
export type AnnotationLine = z.infer<typeof AnnotationLine>;

/** One annotation as the lab stores it. `factors` is a mask: bit i = IMAGENET_X_FACTORS[i]. */
export interface Annotation {
  fileName: string;
  classIdx: number;
  factors: number;
  topFactor: ImageNetXFactor | null;
  justification: string | null;
  oneWord: string | null;
}

/** How a file was written, so that export reproduces it byte for byte. */
export interface FileFormat {
  keys: string[];
  /** `{"a": 1, "b": 2}` (Python's json.dumps) rather than `{"a":1,"b":2}` (pandas, JSON.stringify). */
  spaced: boolean;
  /** Non-ASCII characters written as \uXXXX (Python's ensure_ascii, pandas' force_ascii). */
  ascii: boolean;
  /** `/` written as `\/` (pandas' to_json). */
  slash: boolean;
}

/** The key order of the official files. */
export const OFFICIAL_FORMAT: FileFormat = {
  keys: ['file_name', 'class', 'multiple_objects', 'background', 'color', 'brighter', 'darker', 'style', 'larger', 'smaller', 'object_blocking', 'person_blocking', 'partial_view', 'pattern', 'pose', 'shape', 'subcategory', 'texture', 'justification', 'one_word'],
  spaced: false,
  ascii: false,
  slash: false,
};

export interface LineError {
  file: string;
  line: number;
  reason: string;
}

export interface ParsedAnnotations {
  annotations: Annotation[];
  errors: LineError[];
  format: FileFormat;
  /** Lines read (blank lines excepted). */
  lines: number;
}

/** "top" files (`..._top_factor.jsonl`) mark exactly one factor per line: the most salient one. */
export function isTopFactorFile(path: string): boolean {
  return /_top_factor\.jsonl$/i.test(path);
}

export function factorMask(rec: Record<ImageNetXFactor, 0 | 1>): number {
  let m = 0;
  IMAGENET_X_FACTORS.forEach((f, i) => {
    if (rec[f] === 1) m |= 1 << i;
  });
  return m;
}

export function hasFactor(mask: number, factorIndex: number): boolean {
  return ((mask >> factorIndex) & 1) === 1;
}

/** Parses a jsonl annotation file. A bad line is reported (file:line and why) and left out. */
export function parseAnnotationFile(text: string, file: string, opts: { top?: boolean } = {}): ParsedAnnotations {
  const annotations: Annotation[] = [];
  const errors: LineError[] = [];
  const seen = new Map<string, number>();
  let format: FileFormat | null = null;
  const rawLines = text.split('\n');
  let lines = 0;
  for (let i = 0; i < rawLines.length; i++) {
    const raw = rawLines[i].replace(/\r$/, '');
    if (!raw.trim()) continue;
    lines++;
    const line = i + 1;
    const bad = (reason: string) => errors.push({ file, line, reason });
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch (e) {
      bad(`not JSON (${(e as Error).message})`);
      continue;
    }
    const r = AnnotationLine.safeParse(json);
    if (!r.success) {
      bad(r.error.issues.map((iss) => (iss.path.length ? `${iss.path.join('.')}: ${iss.message}` : iss.message)).join('; '));
      continue;
    }
    const rec = r.data;
    const mask = factorMask(rec);
    let topFactor: ImageNetXFactor | null = null;
    if (opts.top) {
      const set = IMAGENET_X_FACTORS.filter((_, k) => hasFactor(mask, k));
      if (set.length !== 1) {
        bad(`a top-factor file marks exactly one factor per line; this line marks ${set.length}${set.length ? ` (${set.join(', ')})` : ''}`);
        continue;
      }
      topFactor = set[0];
    }
    const first = seen.get(rec.file_name);
    if (first !== undefined) {
      bad(`duplicate file_name ${rec.file_name} (first on line ${first})`);
      continue;
    }
    seen.set(rec.file_name, line);
    format ??= {
      keys: Object.keys(json as object),
      spaced: /^\{"(?:[^"\\]|\\.)*": /.test(raw),
      ascii: false,
      slash: false,
    };
    annotations.push({ fileName: rec.file_name, classIdx: rec.class, factors: mask, topFactor, justification: rec.justification, oneWord: rec.one_word });
  }
  const f = format ?? { ...OFFICIAL_FORMAT };
  // eslint-disable-next-line no-control-regex
  f.ascii = !/[^\x00-\x7f]/.test(text) && /\\u(?!00[0-7])[0-9a-fA-F]{4}/.test(text);
  f.slash = text.includes('\\/');
  return { annotations, errors, format: f, lines };
}

function jsonString(s: string, f: FileFormat): string {
  let j = JSON.stringify(s);
  if (f.slash) j = j.replaceAll('/', '\\/');
  if (f.ascii) j = j.replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return j;
}

/** One line of an annotation file, keys in the file's order (official order by default). */
export function formatAnnotationLine(a: Annotation, f: FileFormat = OFFICIAL_FORMAT): string {
  const values: Record<string, string> = {
    file_name: jsonString(a.fileName, f),
    class: String(a.classIdx),
    justification: a.justification === null ? 'null' : jsonString(a.justification, f),
    one_word: a.oneWord === null ? 'null' : jsonString(a.oneWord, f),
  };
  IMAGENET_X_FACTORS.forEach((name, i) => (values[name] = hasFactor(a.factors, i) ? '1' : '0'));
  const [colon, comma] = f.spaced ? [': ', ', '] : [':', ','];
  // Keys the stored format lacks (none for files that validated) go last, in the official order.
  const keys = [...f.keys, ...OFFICIAL_FORMAT.keys.filter((k) => !f.keys.includes(k))];
  return `{${keys.map((k) => `${jsonString(k, f)}${colon}${values[k]}`).join(comma)}}`;
}

/** prototypical_paths.csv: a `file_name` header, then one file name a line. */
export function parsePrototypes(text: string, file: string): { fileNames: string[]; errors: LineError[] } {
  const rows = parseCsv(text);
  const errors: LineError[] = [];
  const fileNames: string[] = [];
  for (const [k, row] of rows.entries()) {
    const name = row.cells[0].trim();
    if (k === 0 && name === 'file_name') continue;
    if (row.cells.length !== 1 || !name) errors.push({ file, line: row.line, reason: `expected one file name, got ${JSON.stringify(row.cells)}` });
    else fileNames.push(name);
  }
  return { fileNames, errors };
}

export interface MetaclassRow {
  classIdx: number;
  wnid: string;
  name: string;
  metaclass: number;
}

/** imagenet_1k_classes_to_100_metaclasses.csv: a `wnid,name,metaclass` header, then one row per
 * ImageNet class in class-index order (row i = class i, as the toolkit indexes it). */
export function parseMetaclasses(text: string, file: string): { rows: MetaclassRow[]; errors: LineError[] } {
  const parsed = parseCsv(text);
  const errors: LineError[] = [];
  const rows: MetaclassRow[] = [];
  for (const [k, row] of parsed.entries()) {
    if (k === 0 && row.cells.join(',').trim() === 'wnid,name,metaclass') continue;
    const [wnid, name, meta] = row.cells.map((c) => c.trim());
    if (row.cells.length !== 3 || !wnid || !name || !/^\d+$/.test(meta ?? '')) {
      errors.push({ file, line: row.line, reason: `expected wnid,name,metaclass (metaclass an integer), got ${JSON.stringify(row.cells)}` });
      continue;
    }
    rows.push({ classIdx: rows.length + errors.length, wnid, name, metaclass: Number(meta) });
  }
  return { rows, errors };
}

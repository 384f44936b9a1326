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

const LINE_KEYS = new Set<string>(['file_name', 'class', ...IMAGENET_X_FACTORS, 'justification', 'one_word']);

/** True when AnnotationLine would accept the value: the common case checked without zod, which
 * costs several microseconds a line (most of the parse of a 50 000-line file). A false here only
 * sends the line to zod, which then names what is wrong. */
function plainlyValid(json: unknown): json is AnnotationLine {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return false;
  const o = json as Record<string, unknown>;
  let keys = 0;
  for (const k in o) {
    if (!LINE_KEYS.has(k)) return false;
    keys++;
  }
  if (keys !== LINE_KEYS.size) return false;
  const name = o.file_name;
  const cls = o.class;
  if (typeof name !== 'string' || name.length === 0 || typeof cls !== 'number' || !Number.isInteger(cls) || cls < 0 || cls > 999) return false;
  for (let i = 0; i < IMAGENET_X_FACTORS.length; i++) {
    const v = o[IMAGENET_X_FACTORS[i]];
    if (v !== 0 && v !== 1) return false;
  }
  const j = o.justification;
  const w = o.one_word;
  return (j === null || typeof j === 'string') && (w === null || typeof w === 'string');
}

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
  for (let i = 0; i < IMAGENET_X_FACTORS.length; i++) if (rec[IMAGENET_X_FACTORS[i]] === 1) m |= 1 << i;
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
  const bad = (line: number, reason: string) => errors.push({ file, line, reason });
  const rawLines = text.split('\n');
  let lines = 0;
  for (let i = 0; i < rawLines.length; i++) {
    let raw = rawLines[i];
    if (raw.endsWith('\r')) raw = raw.slice(0, -1);
    if (!raw.trim()) continue;
    lines++;
    const line = i + 1;
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch (e) {
      bad(line, `not JSON (${(e as Error).message})`);
      continue;
    }
    let rec: AnnotationLine;
    if (plainlyValid(json)) rec = json;
    else {
      const r = AnnotationLine.safeParse(json);
      if (!r.success) {
        bad(line, r.error.issues.map((iss) => (iss.path.length ? `${iss.path.join('.')}: ${iss.message}` : iss.message)).join('; '));
        continue;
      }
      rec = r.data;
    }
    const mask = factorMask(rec);
    let topFactor: ImageNetXFactor | null = null;
    if (opts.top) {
      const set = IMAGENET_X_FACTORS.filter((_, k) => hasFactor(mask, k));
      if (set.length !== 1) {
        bad(line, `a top-factor file marks exactly one factor per line; this line marks ${set.length}${set.length ? ` (${set.join(', ')})` : ''}`);
        continue;
      }
      topFactor = set[0];
    }
    const first = seen.get(rec.file_name);
    if (first !== undefined) {
      bad(line, `duplicate file_name ${rec.file_name} (first on line ${first})`);
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
  // All-ASCII text is exactly as long in UTF-8 bytes as in UTF-16 units (a native count, unlike a regex scan).
  f.ascii = Buffer.byteLength(text, 'utf8') === text.length && /\\u(?!00[0-7])[0-9a-fA-F]{4}/.test(text);
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

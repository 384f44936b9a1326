// Per-image model predictions in the ImageNet-X toolkit's CSV format (facebookresearch/imagenetx,
// model_predictions/*/*.csv, read by utils.load_model_predictions): a header naming the columns
// `file_name`, `predicted_class` and `predicted_probability` (any order: the toolkit reads them by
// name), then one image a line. The toolkit joins them to the annotations on `file_name`.
//
// Validation is all or nothing: every bad line is collected (file:line and why) and the file is
// refused as a whole, so a model is never evaluated on part of its predictions.
import { BadInputError } from '../errors.ts';
import { parseCsv } from '../datasets/parse-csv.ts';
import type { LineError } from './format.ts';

export const PREDICTION_COLUMNS = ['file_name', 'predicted_class', 'predicted_probability'] as const;

/** One prediction file, column-wise (50 000 rows stay a few typed arrays, not 50 000 objects). */
export interface PredictionTable {
  file: string;
  fileNames: string[];
  predicted: Int32Array;
  /** The predicted class's probability (the confidence used for calibration). */
  probability: Float64Array;
  /** 1-based line of each row in the file. */
  lines: Int32Array;
}

export interface ParsePredictionsOptions {
  /** Classes are 0..numClasses-1 (ImageNet-1k: 1000). */
  numClasses?: number;
}

// A decimal number as Python/pandas write floats: 0.5, .5, 1, 1e-05, 9.9e-01 (no nan/inf, no hex).
const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const INTEGER = /^[+-]?\d+$/;

/** Rows of cells with their line numbers; a fast path for the usual quote-free file. */
function rowsOf(text: string): { line: number; cells: string[] }[] {
  if (text.includes('"')) return parseCsv(text);
  const out: { line: number; cells: string[] }[] = [];
  const raw = text.split('\n');
  for (let i = 0; i < raw.length; i++) {
    let l = raw[i];
    if (l.endsWith('\r')) l = l.slice(0, -1);
    if (l.includes('\r')) return parseCsv(text); // old-Mac line ends: let the full parser decide
    if (l.trim() === '') continue;
    out.push({ line: i + 1, cells: l.split(',') });
  }
  return out;
}

export function formatLineErrors(errors: LineError[], max = 20): string {
  return (
    errors
      .slice(0, max)
      .map((e) => `${e.file}:${e.line}: ${e.reason}`)
      .join('\n') + (errors.length > max ? `\n... and ${errors.length - max} more` : '')
  );
}

/** Parses and validates a prediction CSV. Returns the table and every error found (empty = valid). */
export function parsePredictionsText(text: string, file: string, opts: ParsePredictionsOptions = {}): { table: PredictionTable | null; errors: LineError[] } {
  const numClasses = opts.numClasses ?? 1000;
  const errors: LineError[] = [];
  const rows = rowsOf(text.startsWith('\ufeff') ? text.slice(1) : text);
  if (rows.length === 0) return { table: null, errors: [{ file, line: 1, reason: `empty file: expected a header ${PREDICTION_COLUMNS.join(',')}` }] };
  const header = rows[0].cells.map((c) => c.trim());
  const col = PREDICTION_COLUMNS.map((name) => header.indexOf(name));
  const missing = PREDICTION_COLUMNS.filter((_, k) => col[k] < 0);
  const extra = header.filter((h) => !(PREDICTION_COLUMNS as readonly string[]).includes(h));
  const repeated = header.filter((h, k) => header.indexOf(h) !== k);
  if (missing.length || extra.length || repeated.length) {
    const why = [
      missing.length ? `missing column${missing.length > 1 ? 's' : ''} ${missing.join(', ')}` : '',
      extra.length ? `unexpected column${extra.length > 1 ? 's' : ''} ${extra.map((e) => JSON.stringify(e)).join(', ')}` : '',
      repeated.length ? `repeated column${repeated.length > 1 ? 's' : ''} ${repeated.join(', ')}` : '',
    ].filter(Boolean);
    errors.push({ file, line: rows[0].line, reason: `bad header (${why.join('; ')}): expected ${PREDICTION_COLUMNS.join(',')}` });
    return { table: null, errors };
  }
  const [cFile, cClass, cProb] = col;
  const n = rows.length - 1;
  const fileNames: string[] = new Array(n);
  const predicted = new Int32Array(n);
  const probability = new Float64Array(n);
  const lines = new Int32Array(n);
  const seen = new Map<string, number>();
  let k = 0;
  for (let r = 1; r < rows.length; r++) {
    const { line, cells } = rows[r];
    const bad = (reason: string) => errors.push({ file, line, reason });
    if (cells.length !== 3) {
      bad(`expected 3 fields (${PREDICTION_COLUMNS.join(',')}), got ${cells.length}`);
      continue;
    }
    const name = cells[cFile].trim();
    const cls = cells[cClass].trim();
    const prob = cells[cProb].trim();
    const why: string[] = [];
    if (!name) why.push('file_name is empty');
    let c = NaN;
    if (!INTEGER.test(cls)) why.push(`predicted_class ${JSON.stringify(cells[cClass])} is not an integer`);
    else {
      c = Number(cls);
      if (c < 0 || c >= numClasses) why.push(`predicted_class ${c} is out of range 0..${numClasses - 1}`);
    }
    let p = NaN;
    if (!NUMBER.test(prob)) why.push(`predicted_probability ${JSON.stringify(cells[cProb])} is not a number`);
    else {
      p = Number(prob);
      if (!(p >= 0 && p <= 1)) why.push(`predicted_probability ${prob} is outside [0, 1]`);
    }
    if (name) {
      const first = seen.get(name);
      if (first !== undefined) why.push(`duplicate file_name ${name} (first on line ${first})`);
      else seen.set(name, line);
    }
    if (why.length) {
      bad(why.join('; '));
      continue;
    }
    fileNames[k] = name;
    predicted[k] = c;
    probability[k] = p;
    lines[k] = line;
    k++;
  }
  if (errors.length) return { table: null, errors };
  if (k === 0) return { table: null, errors: [{ file, line: rows[0].line, reason: 'no prediction rows after the header' }] };
  return { table: { file, fileNames, predicted, probability, lines }, errors };
}

/** parsePredictionsText, throwing a BadInputError that lists the bad lines. */
export function parsePredictions(text: string, file: string, opts: ParsePredictionsOptions = {}): PredictionTable {
  const r = parsePredictionsText(text, file, opts);
  if (!r.table) throw new BadInputError(`bad prediction file ${file} (${r.errors.length} error${r.errors.length > 1 ? 's' : ''}, nothing imported):\n${formatLineErrors(r.errors)}`);
  return r.table;
}

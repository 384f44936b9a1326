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

/** Visits each non-blank line's cells in order, with its 1-based line number. The usual quote-free
 * file is split line by line without keeping rows around (a 50 000-row file would otherwise be
 * 50 000 retained objects); quotes, or a carriage return that does not end a line, go through the
 * full CSV parser. */
function forEachRow(text: string, visit: (line: number, cells: string[]) => void): void {
  if (text.includes('"') || (text.includes('\r') && /\r(?!\n)/.test(text))) {
    for (const r of parseCsv(text)) visit(r.line, r.cells);
    return;
  }
  for (let start = 0, line = 1; start <= text.length; line++) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const l = text.slice(start, end > start && text.charCodeAt(end - 1) === 13 ? end - 1 : end);
    if (l.trim() !== '') visit(line, l.split(','));
    start = end + 1;
  }
}

const also = (why: string, reason: string) => (why ? `${why}; ${reason}` : reason);

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
  let header: { line: number; cells: string[] } | null = null;
  let col: number[] = [];
  // Room for every line (an upper bound on the rows), so rows are stored without growing arrays.
  let capacity = 1;
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) capacity++;
  const fileNames: string[] = new Array<string>(capacity);
  const predicted = new Int32Array(capacity);
  const probability = new Float64Array(capacity);
  const lines = new Int32Array(capacity);
  let k = 0;
  const seen = new Set<string>();
  // For the duplicate message only: the first line of a name whose first row was refused, and an
  // index of the stored rows' lines made when the first duplicate turns up.
  const refusedFirst = new Map<string, number>();
  let storedLines: Map<string, number> | null = null;
  let headerBad = false;
  forEachRow(text.startsWith('\ufeff') ? text.slice(1) : text, (line, cells) => {
    if (headerBad) return;
    if (header === null) {
      header = { line, cells };
      const names = cells.map((c) => c.trim());
      col = PREDICTION_COLUMNS.map((name) => names.indexOf(name));
      const missing = PREDICTION_COLUMNS.filter((_, k) => col[k] < 0);
      const extra = names.filter((h) => !(PREDICTION_COLUMNS as readonly string[]).includes(h));
      const repeated = names.filter((h, k) => names.indexOf(h) !== k);
      if (missing.length || extra.length || repeated.length) {
        const why = [
          missing.length ? `missing column${missing.length > 1 ? 's' : ''} ${missing.join(', ')}` : '',
          extra.length ? `unexpected column${extra.length > 1 ? 's' : ''} ${extra.map((e) => JSON.stringify(e)).join(', ')}` : '',
          repeated.length ? `repeated column${repeated.length > 1 ? 's' : ''} ${repeated.join(', ')}` : '',
        ].filter(Boolean);
        errors.push({ file, line, reason: `bad header (${why.join('; ')}): expected ${PREDICTION_COLUMNS.join(',')}` });
        headerBad = true;
      }
      return;
    }
    if (cells.length !== 3) {
      errors.push({ file, line, reason: `expected 3 fields (${PREDICTION_COLUMNS.join(',')}), got ${cells.length}` });
      return;
    }
    const name = cells[col[0]].trim();
    const cls = cells[col[1]].trim();
    const prob = cells[col[2]].trim();
    let why = '';
    if (!name) why = also(why, 'file_name is empty');
    let c = NaN;
    if (!INTEGER.test(cls)) why = also(why, `predicted_class ${JSON.stringify(cells[col[1]])} is not an integer`);
    else {
      c = Number(cls);
      if (c < 0 || c >= numClasses) why = also(why, `predicted_class ${c} is out of range 0..${numClasses - 1}`);
    }
    let p = NaN;
    if (!NUMBER.test(prob)) why = also(why, `predicted_probability ${JSON.stringify(cells[col[2]])} is not a number`);
    else {
      p = Number(prob);
      if (!(p >= 0 && p <= 1)) why = also(why, `predicted_probability ${prob} is outside [0, 1]`);
    }
    if (name) {
      // one hash operation a row; the first line is looked up only for the message
      const before = seen.size;
      if (seen.add(name).size === before) why = also(why, `duplicate file_name ${name} (first on line ${firstLine(name)})`);
      else if (why) refusedFirst.set(name, line);
    }
    if (why) {
      errors.push({ file, line, reason: why });
      return;
    }
    fileNames[k] = name;
    predicted[k] = c;
    probability[k] = p;
    lines[k] = line;
    k++;
    storedLines?.set(name, line);
  });
  function firstLine(name: string): number {
    const refused = refusedFirst.get(name);
    if (refused !== undefined) return refused;
    if (storedLines === null) {
      storedLines = new Map();
      for (let r = 0; r < k; r++) storedLines.set(fileNames[r], lines[r]);
    }
    return storedLines.get(name) ?? 0;
  }
  const head = header as { line: number; cells: string[] } | null;
  if (head === null) return { table: null, errors: [{ file, line: 1, reason: `empty file: expected a header ${PREDICTION_COLUMNS.join(',')}` }] };
  if (errors.length) return { table: null, errors };
  if (k === 0) return { table: null, errors: [{ file, line: head.line, reason: 'no prediction rows after the header' }] };
  return {
    table: { file, fileNames: fileNames.slice(0, k), predicted: predicted.slice(0, k), probability: probability.slice(0, k), lines: lines.slice(0, k) },
    errors,
  };
}

/** parsePredictionsText, throwing a BadInputError that lists the bad lines. */
export function parsePredictions(text: string, file: string, opts: ParsePredictionsOptions = {}): PredictionTable {
  const r = parsePredictionsText(text, file, opts);
  if (!r.table) throw new BadInputError(`bad prediction file ${file} (${r.errors.length} error${r.errors.length > 1 ? 's' : ''}, nothing imported):\n${formatLineErrors(r.errors)}`);
  return r.table;
}

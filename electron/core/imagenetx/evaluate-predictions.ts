// Error ratios and calibration of models given as prediction files (the toolkit's CSV format)
// against an ImageNet-X annotation file: no lab, no images. Follows the toolkit
// (facebookresearch/imagenetx, utils.load_annotations / augment_model_predictions,
// aggregate._compute_factor_accuracies / error_ratio / _compute_factor_calibration_errors):
//  - prototypical images are dropped from the annotations first (unless the filter is off);
//  - annotations and predictions are inner-joined on file_name;
//  - class error: correct = predicted_class == class; metaclass error: correct = to_metaclass(predicted)
//    == to_metaclass(class) (see analysis/metaclasses.ts);
//  - accuracy_f, average, worst_factor (the lowest accuracy_f), error ratio_f = (1 - acc_f) / (1 - average);
//  - calibration: 15-bin ECE on the images with the factor (calibration.ts), `worst_factor` = the
//    highest factor ECE, `average` = the ECE of all evaluated images.
// Unlike the toolkit, annotated images without a prediction are an error unless allowMissing
// (then they are dropped, which is what the toolkit's inner join does silently).
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, extname, resolve } from 'node:path';
import { BadInputError } from '../errors.ts';
import { IMAGENET_X_FACTORS } from '../../../native-models/imagenet-x-factors.ts';
import { errorRatiosFromCounts, type ErrorRatioReport } from '../analysis/error-ratios.ts';
import { CalibrationBins, ECE_BINS, type Calibration } from '../analysis/calibration.ts';
import { TOOLKIT_METACLASSES } from '../analysis/metaclasses.ts';
import { isTopFactorFile, parseAnnotationFile, parseMetaclasses, parsePrototypes, type Annotation, type MetaclassRow } from './format.ts';
import { formatLineErrors, parsePredictions, type PredictionTable } from './predictions.ts';

export type ErrorType = 'class' | 'metaclass';

export interface EvaluateOptions {
  errorType?: ErrorType;
  /** File names to drop (the prototypical images); null or empty keeps all. */
  prototypes?: Set<string> | null;
  metaclasses?: MetaclassRow[];
  /** Evaluate only annotated images that have a prediction (the toolkit's inner join) instead of refusing. */
  allowMissing?: boolean;
  nBins?: number;
}

export interface ModelEvaluation extends ErrorRatioReport {
  name: string;
  file: string;
  predictions: number;
  /** Predictions whose file is not among the (non-prototypical) annotations. */
  unannotated: number;
  /** Annotated, non-prototypical images without a prediction (only non-zero with allowMissing). */
  missing: number;
  prototypesDropped: number;
  calibration: {
    average: Calibration;
    /** The highest factor ECE (the toolkit's calibration `worst_factor`). */
    worstFactor: number | null;
    factors: Record<string, Calibration>;
  };
}

function readInput(path: string, what: string): string {
  const abs = resolve(path);
  if (!existsSync(abs) || !statSync(abs).isFile()) throw new BadInputError(`${what} not found: ${abs}`);
  return readFileSync(abs, 'utf8');
}

/** Reads an annotation jsonl file; any bad line refuses the whole file. */
export function readAnnotationFile(file: string): Annotation[] {
  const path = resolve(file);
  const r = parseAnnotationFile(readInput(path, 'annotation file'), path, { top: isTopFactorFile(path) });
  if (r.errors.length) throw new BadInputError(`bad annotation file ${path} (${r.errors.length} bad line${r.errors.length > 1 ? 's' : ''}, nothing evaluated):\n${formatLineErrors(r.errors)}`);
  if (r.annotations.length === 0) throw new BadInputError(`no annotations in ${path}`);
  return r.annotations;
}

export function readPrototypeFile(file: string): Set<string> {
  const path = resolve(file);
  const r = parsePrototypes(readInput(path, 'prototypical list'), path);
  if (r.errors.length) throw new BadInputError(`bad prototypical list ${path}:\n${formatLineErrors(r.errors)}`);
  return new Set(r.fileNames);
}

export function readMetaclassMapping(file: string): MetaclassRow[] {
  const path = resolve(file);
  const r = parseMetaclasses(readInput(path, 'metaclass mapping'), path);
  if (r.errors.length) throw new BadInputError(`bad metaclass mapping ${path}:\n${formatLineErrors(r.errors)}`);
  if (r.rows.length === 0) throw new BadInputError(`bad metaclass mapping: no rows in ${path}`);
  return r.rows;
}

export function readPredictionFile(file: string, numClasses = 1000): PredictionTable {
  const path = resolve(file);
  return parsePredictions(readInput(path, 'prediction file'), path, { numClasses });
}

/** `NAME=FILE`, or just FILE (named by its stem, as the toolkit names a model by its CSV file). */
export function parseModelSpec(spec: string): { name: string; file: string } {
  const eq = spec.indexOf('=');
  if (eq > 0) return { name: spec.slice(0, eq), file: spec.slice(eq + 1) };
  return { name: basename(spec, extname(spec)), file: spec };
}

/** Class index -> toolkit metaclass id (index into TOOLKIT_METACLASSES). */
function metaclassIds(rows: MetaclassRow[]): Int32Array {
  const ids = new Int32Array(rows.length);
  const other = TOOLKIT_METACLASSES.indexOf('other');
  rows.forEach((r, i) => {
    const k = (TOOLKIT_METACLASSES as readonly string[]).indexOf(r.name);
    ids[i] = k >= 0 ? k : other;
  });
  return ids;
}

/** The annotations left after the prototype filter, with a file-name index. */
export interface PreparedAnnotations {
  kept: Annotation[];
  byFile: Map<string, number>;
  prototypesDropped: number;
  /** Whether a prototype list was applied. */
  filtered: boolean;
  metaIds: Int32Array | null;
  annotationMeta: Int32Array | null;
}

export function prepareAnnotations(annotations: Annotation[], opts: EvaluateOptions = {}): PreparedAnnotations {
  const protos = opts.prototypes ?? null;
  const kept = protos && protos.size ? annotations.filter((a) => !protos.has(a.fileName)) : annotations;
  const byFile = new Map<string, number>();
  kept.forEach((a, i) => byFile.set(a.fileName, i));
  let metaIds: Int32Array | null = null;
  let annotationMeta: Int32Array | null = null;
  if ((opts.errorType ?? 'class') === 'metaclass') {
    if (!opts.metaclasses?.length) throw new BadInputError('error type "metaclass" needs the metaclass mapping (--metaclasses imagenet_1k_classes_to_100_metaclasses.csv)');
    metaIds = metaclassIds(opts.metaclasses);
    annotationMeta = new Int32Array(kept.length);
    const outside: string[] = [];
    kept.forEach((a, i) => {
      if (a.classIdx >= metaIds!.length) outside.push(`${a.fileName} (class ${a.classIdx})`);
      else annotationMeta![i] = metaIds![a.classIdx];
    });
    if (outside.length) throw new BadInputError(`${outside.length} annotated image(s) have a class outside the metaclass mapping (${metaIds.length} classes): ${outside.slice(0, 5).join(', ')}${outside.length > 5 ? ', ...' : ''}`);
  }
  return { kept, byFile, prototypesDropped: annotations.length - kept.length, filtered: Boolean(protos?.size), metaIds, annotationMeta };
}

/** One model's predictions against prepared annotations. */
export function evaluatePredictions(name: string, preds: PredictionTable, prep: PreparedAnnotations, opts: EvaluateOptions = {}): ModelEvaluation {
  const { kept, byFile, metaIds, annotationMeta } = prep;
  const F = IMAGENET_X_FACTORS.length;
  const nBins = opts.nBins ?? ECE_BINS;
  // annotation index -> prediction row (-1: none)
  const rowOf = new Int32Array(kept.length).fill(-1);
  let unannotated = 0;
  const badMeta: string[] = [];
  for (let r = 0; r < preds.fileNames.length; r++) {
    const i = byFile.get(preds.fileNames[r]);
    if (i === undefined) {
      unannotated++;
      continue;
    }
    rowOf[i] = r;
    if (metaIds && preds.predicted[r] >= metaIds.length) badMeta.push(`${preds.file}:${preds.lines[r]}: predicted_class ${preds.predicted[r]} is outside the metaclass mapping (${metaIds.length} classes)`);
  }
  if (badMeta.length) throw new BadInputError(`bad prediction file ${preds.file} for --error-type metaclass:\n${badMeta.slice(0, 20).join('\n')}${badMeta.length > 20 ? `\n... and ${badMeta.length - 20} more` : ''}`);
  const missingNames: string[] = [];
  let missing = 0;
  for (let i = 0; i < kept.length; i++)
    if (rowOf[i] < 0) {
      missing++;
      if (missingNames.length < 5) missingNames.push(kept[i].fileName);
    }
  if (missing && !opts.allowMissing) {
    throw new BadInputError(
      `${preds.file}: no prediction for ${missing} of the ${kept.length} annotated${prep.filtered ? ' non-prototypical' : ''} images (first: ${missingNames.join(', ')}${missing > missingNames.length ? ', ...' : ''}); ` +
        'pass --allow-missing to evaluate only the images that have one (the toolkit\'s inner join)',
    );
  }
  if (missing === kept.length) throw new BadInputError(`${preds.file}: none of its ${preds.fileNames.length} predictions matches an annotated image by file_name`);

  const count = new Int32Array(F);
  const right = new Int32Array(F);
  const all = new CalibrationBins(nBins);
  const perFactor = IMAGENET_X_FACTORS.map(() => new CalibrationBins(nBins));
  let n = 0;
  let correct = 0;
  for (let i = 0; i < kept.length; i++) {
    const r = rowOf[i];
    if (r < 0) continue;
    const a = kept[i];
    const pc = preds.predicted[r];
    const ok = annotationMeta ? metaIds![pc] === annotationMeta[i] : pc === a.classIdx;
    const p = preds.probability[r];
    n++;
    if (ok) correct++;
    all.add(p, ok);
    let m = a.factors;
    for (let f = 0; m !== 0 && f < F; f++, m >>>= 1) {
      if ((m & 1) === 0) continue;
      count[f]++;
      if (ok) right[f]++;
      perFactor[f].add(p, ok);
    }
  }
  const er = errorRatiosFromCounts(
    n,
    correct,
    IMAGENET_X_FACTORS.map((_, f) => ({ count: count[f], correct: right[f] })),
  );
  const factorsCal: Record<string, Calibration> = {};
  let worst: number | null = null;
  IMAGENET_X_FACTORS.forEach((f, k) => {
    const c = perFactor[k].result();
    factorsCal[f] = c;
    if (c.ece !== null && (worst === null || c.ece > worst)) worst = c.ece;
  });
  return {
    name,
    file: preds.file,
    predictions: preds.fileNames.length,
    unannotated,
    missing,
    prototypesDropped: prep.prototypesDropped,
    ...er,
    calibration: { average: all.result(), worstFactor: worst, factors: factorsCal },
  };
}

export interface ErrorRatiosParams extends EvaluateOptions {
  annotations: string;
  /** null: no prototype filter. */
  prototypesFile?: string | null;
  metaclassesFile?: string | null;
  models: { name: string; file: string }[];
}

/** Reads every file, validates all of it, then evaluates each model (nothing is evaluated if any input is bad). */
export function evaluateFiles(p: ErrorRatiosParams): ModelEvaluation[] {
  const names = new Set<string>();
  for (const m of p.models) {
    if (names.has(m.name)) throw new BadInputError(`two prediction files are named "${m.name}": name them with NAME=FILE`);
    names.add(m.name);
  }
  const annotations = readAnnotationFile(p.annotations);
  const prototypes = p.prototypesFile ? readPrototypeFile(p.prototypesFile) : null;
  const metaclasses = p.metaclassesFile ? readMetaclassMapping(p.metaclassesFile) : p.metaclasses;
  const opts: EvaluateOptions = { ...p, prototypes, metaclasses };
  const prep = prepareAnnotations(annotations, opts);
  const tables = p.models.map((m) => ({ name: m.name, table: readPredictionFile(m.file) }));
  return tables.map((t) => evaluatePredictions(t.name, t.table, prep, opts));
}

/** The command's JSON: {"models": {NAME: {evaluated, average, worst_factor, factors: {F: {count, accuracy, error_ratio}}}}}
 * plus extra keys (intervals, calibration, join counts). */
export function evaluationJson(evals: ModelEvaluation[], settings: Record<string, unknown>): Record<string, unknown> {
  const models: Record<string, unknown> = {};
  for (const e of evals) {
    const factors: Record<string, unknown> = {};
    for (const f of e.factors)
      factors[f.factor] = { count: f.count, accuracy: f.accuracy, error_ratio: f.errorRatio, correct: f.correct, accuracy_ci: f.accuracyCi, error_ratio_ci: f.errorRatioCi };
    const calFactors: Record<string, unknown> = {};
    for (const [f, c] of Object.entries(e.calibration.factors)) calFactors[f] = { count: c.count, ece: c.ece, bins: c.bins };
    models[e.name] = {
      evaluated: e.images,
      average: e.average,
      worst_factor: e.worstFactorAccuracy,
      factors,
      correct: e.correct,
      average_ci: e.averageCi,
      worst_factor_name: e.worstFactor,
      file: e.file,
      predictions: e.predictions,
      unannotated: e.unannotated,
      missing: e.missing,
      prototypes_dropped: e.prototypesDropped,
      calibration: {
        bins: e.calibration.average.bins.length,
        average: e.calibration.average.ece,
        worst_factor: e.calibration.worstFactor,
        reliability: e.calibration.average.bins,
        factors: calFactors,
      },
    };
  }
  return { models, settings };
}

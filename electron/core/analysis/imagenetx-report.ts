// Per-factor accuracies and error ratios of a model run against an ImageNet-X annotation source,
// computed as the toolkit (facebookresearch/imagenetx, aggregate.py + utils.py) does:
//  - predictions are inner-joined with the annotations on file_name (unannotated images dropped);
//  - prototypical images of the source are dropped unless asked to keep them;
//  - error type `class`: correct = predicted class == the annotation's `class`;
//  - error type `metaclass`: correct = metaclass(predicted) == metaclass(class), where
//    metaclass(c) is, like the toolkit's to_metaclass(), the `name` of row c of
//    imagenet_1k_classes_to_100_metaclasses.csv when it is one of the toolkit's 17 METACLASSES
//    and "other" otherwise (the integer `metaclass` column is not what the toolkit compares);
//  - accuracy_f, average, error ratio_f = (1 - accuracy_f) / (1 - average): see error-ratios.ts.
import type { Db } from '../store/database.ts';
import type { ImageNetXReport, ImageNetXErrorType } from '../../contract.ts';
import { BadInputError, NotFoundError } from '../errors.ts';
import { IMAGENET_X_FACTORS } from '../../../native-models/imagenet-x-factors.ts';
import { errorRatios, errorRatiosFromCounts } from './error-ratios.ts';
import { hasFactor, type Annotation, type MetaclassRow } from '../imagenetx/format.ts';
import { getSource, loadMetaclasses, prototypeSet, sourceAnnotations } from '../imagenetx/annotations.ts';

/** The toolkit's METACLASSES (imagenet_x/utils.py); any other mapping name counts as "other". */
export const TOOLKIT_METACLASSES = [
  'device',
  'dog',
  'commodity',
  'bird',
  'structure',
  'covering',
  'wheeled_vehicle',
  'food',
  'equipment',
  'insect',
  'vehicle',
  'furniture',
  'primate',
  'vessel',
  'snake',
  'natural_object',
  'other',
] as const;

export function metaclassLookup(rows: MetaclassRow[]): (classIdx: number) => string {
  const known = new Set<string>(TOOLKIT_METACLASSES);
  const byIdx = new Map(rows.map((r) => [r.classIdx, known.has(r.name) ? r.name : 'other']));
  return (c) => {
    const m = byIdx.get(c);
    if (m === undefined) throw new BadInputError(`class ${c} is not in the metaclass mapping (${rows.length} classes)`);
    return m;
  };
}

export interface FactorAnalysisOptions {
  errorType?: ImageNetXErrorType;
  /** File names left out (the source's prototypical images); empty to keep them all. */
  prototypes?: Set<string>;
  metaclasses?: MetaclassRow[];
}

export type FactorAnalysis = Omit<ImageNetXReport, 'runId' | 'sourceId' | 'sourceName'>;

/** The pure computation: predictions (file name, predicted class) against annotations. */
export function analyseFactors(predictions: { fileName: string; predicted: number }[], annotations: Annotation[], opts: FactorAnalysisOptions = {}): FactorAnalysis {
  const errorType = opts.errorType ?? 'class';
  if (errorType === 'metaclass' && !opts.metaclasses?.length) {
    throw new BadInputError('error type "metaclass" needs a metaclass mapping: store one with `factorlab imagenetx metaclasses --file imagenet_1k_classes_to_100_metaclasses.csv` (or --metaclasses on import)');
  }
  const meta = errorType === 'metaclass' ? metaclassLookup(opts.metaclasses!) : null;
  const prototypes = opts.prototypes ?? new Set<string>();
  const byFile = new Map(annotations.map((a) => [a.fileName, a]));
  const seen = new Set<string>();
  let unannotated = 0;
  let prototypesDropped = 0;
  const rows: { correct: boolean; factors: Record<string, number> }[] = [];
  for (const p of predictions) {
    const a = byFile.get(p.fileName);
    if (!a) {
      unannotated++;
      continue;
    }
    if (seen.has(p.fileName)) throw new BadInputError(`several predictions for ${p.fileName}: file names must be unique to match annotations`);
    seen.add(p.fileName);
    if (prototypes.has(p.fileName)) {
      prototypesDropped++;
      continue;
    }
    const correct = meta ? meta(p.predicted) === meta(a.classIdx) : p.predicted === a.classIdx;
    const factors: Record<string, number> = {};
    IMAGENET_X_FACTORS.forEach((f, i) => (factors[f] = hasFactor(a.factors, i) ? 1 : 0));
    rows.push({ correct, factors });
  }
  return { errorType, predictions: predictions.length, unannotated, prototypesDropped, ...errorRatios(rows) };
}

/** A run against labels made in the lab's labelling workspace (origin 'labelling': an annotator's
 * or the consensus). Their class is the dataset's, which need not be the model's numbering, so
 * correct = the run's own verdict (predicted = the image's true class mapped into the model's
 * label space); the labels are joined by file name and give the factors. */
export function runVersusLabels(db: Db, runId: number, sourceId: number): FactorAnalysis {
  const rows = db
    .prepare(
      `SELECT p.correct, a.factors FROM predictions p JOIN images i ON i.id = p.image_id
       JOIN annotations a ON a.source_id = ? AND a.file_name = i.file_name
       WHERE p.run_id = ? AND p.correct IS NOT NULL`,
    )
    .all(sourceId, runId) as { correct: number; factors: number }[];
  const predictions = db.prepare(`SELECT COUNT(*) FROM predictions WHERE run_id = ? AND correct IS NOT NULL`).pluck().get(runId) as number;
  const per = IMAGENET_X_FACTORS.map(() => ({ count: 0, correct: 0 }));
  let correct = 0;
  for (const r of rows) {
    if (r.correct) correct++;
    for (let i = 0; i < per.length; i++)
      if ((r.factors >> i) & 1) {
        per[i].count++;
        if (r.correct) per[i].correct++;
      }
  }
  return { errorType: 'class', predictions, unannotated: predictions - rows.length, prototypesDropped: 0, ...errorRatiosFromCounts(rows.length, correct, per) };
}

/** A model run against an annotation source: predictions matched to annotations by file name. */
export function runFactorReport(db: Db, p: { runId: number; sourceId: number; errorType?: ImageNetXErrorType; keepPrototypes?: boolean }): ImageNetXReport {
  if (!db.prepare(`SELECT 1 FROM runs WHERE id = ?`).get(p.runId)) throw new NotFoundError(`no run with id ${p.runId}`);
  const source = getSource(db, p.sourceId);
  if (source.origin === 'labelling') {
    if ((p.errorType ?? 'class') !== 'class') throw new BadInputError(`source "${source.name}" holds labels made in the lab: only the error type "class" applies`);
    const r = runVersusLabels(db, p.runId, source.id);
    if (r.images === 0) throw new BadInputError(`nothing to evaluate: none of run ${p.runId}'s scored predictions has a label in source "${source.name}"`);
    return { runId: p.runId, sourceId: source.id, sourceName: source.name, ...r };
  }
  const preds = (
    db.prepare(`SELECT i.file_name, p.pred_class FROM predictions p JOIN images i ON i.id = p.image_id WHERE p.run_id = ? ORDER BY p.image_id`).all(p.runId) as {
      file_name: string;
      pred_class: number;
    }[]
  ).map((r) => ({ fileName: r.file_name, predicted: r.pred_class }));
  const errorType = p.errorType ?? 'class';
  const r = analyseFactors(preds, sourceAnnotations(db, p.sourceId), {
    errorType,
    prototypes: p.keepPrototypes ? new Set() : prototypeSet(db, p.sourceId),
    metaclasses: errorType === 'metaclass' ? loadMetaclasses(db) : undefined,
  });
  if (r.images === 0) {
    throw new BadInputError(
      `nothing to evaluate: none of run ${p.runId}'s ${preds.length} predictions matches a${p.keepPrototypes ? '' : ' non-prototypical'} annotation of source "${source.name}" by file name`,
    );
  }
  return { runId: p.runId, sourceId: source.id, sourceName: source.name, ...r };
}

// Per-factor accuracies and error ratios of a model run, or of an imported prediction file, against
// an ImageNet-X annotation source, computed as the toolkit (facebookresearch/imagenetx, aggregate.py
// + utils.py) does:
//  - predictions are inner-joined with the annotations on file_name (unannotated images dropped);
//  - prototypical images of the source are dropped unless asked to keep them;
//  - error type `class`: correct = predicted class == the annotation's `class`;
//  - error type `metaclass`: correct = metaclass(predicted) == metaclass(class) (metaclasses.ts);
//  - accuracy_f, average, error ratio_f = (1 - accuracy_f) / (1 - average): see error-ratios.ts.
// A run against labels made in the lab (annotators, consensus) is the exception: see runLabelImages.
// An imported prediction set has no run verdict, so against such labels it is compared with the
// label's class, which is the image's class in its dataset.
import type { Db } from '../store/database.ts';
import type { AnalysisSubject, AnnotationSourceInfo, ImageNetXReport, ImageNetXErrorType } from '../../contract.ts';
import { BadInputError, NotFoundError } from '../errors.ts';
import type { Annotation } from '../imagenetx/format.ts';
import { getSource, loadMetaclasses, prototypeSet, sourceAnnotations } from '../imagenetx/annotations.ts';
import { predictionSetName, predictionSetRows } from '../imagenetx/prediction-sets.ts';
import { allocateEvaluated, factorErrorRatios, joinWithAnnotations, take, type EvaluatedImages, type JoinOptions, type PredictionInput } from './evaluated-images.ts';

export { TOOLKIT_METACLASSES, metaclassLookup } from './metaclasses.ts';

export type FactorAnalysisOptions = JoinOptions;

export type FactorAnalysis = Omit<ImageNetXReport, 'runId' | 'sourceId' | 'sourceName'>;

export function summariseEvaluated(e: EvaluatedImages): FactorAnalysis {
  return { errorType: e.errorType, predictions: e.predictions, unannotated: e.unannotated, prototypesDropped: e.prototypesDropped, ...factorErrorRatios(e) };
}

/** The pure computation: predictions (file name, predicted class) against annotations. */
export function analyseFactors(predictions: PredictionInput[], annotations: Annotation[], opts: FactorAnalysisOptions = {}): FactorAnalysis {
  return summariseEvaluated(joinWithAnnotations(predictions, annotations, opts));
}

/** A run against labels made in the lab's labelling workspace (origin 'labelling': an annotator's
 * or the consensus). Their class is the dataset's, which need not be the model's numbering, so
 * correct = the run's own verdict (predicted = the image's true class mapped into the model's
 * label space); the labels are joined by file name and give the factors. */
export function runLabelImages(db: Db, runId: number, sourceId: number): EvaluatedImages {
  const rows = db
    .prepare(
      `SELECT i.file_name, p.correct, p.confidence, p.pred_class, p.true_class, a.factors FROM predictions p JOIN images i ON i.id = p.image_id
       JOIN annotations a ON a.source_id = ? AND a.file_name = i.file_name
       WHERE p.run_id = ? AND p.correct IS NOT NULL ORDER BY p.image_id`,
    )
    .all(sourceId, runId) as { file_name: string; correct: number; confidence: number; pred_class: number; true_class: number; factors: number }[];
  const predictions = db.prepare(`SELECT COUNT(*) FROM predictions WHERE run_id = ? AND correct IS NOT NULL`).pluck().get(runId) as number;
  const e = allocateEvaluated('class', rows.length);
  rows.forEach((r, k) => {
    e.fileNames[k] = r.file_name;
    e.correct[k] = r.correct ? 1 : 0;
    e.confidence[k] = r.confidence;
    e.factors[k] = r.factors;
    e.predicted[k] = r.pred_class;
    e.trueClass[k] = r.true_class;
  });
  return { ...take(e, rows.length), predictions, unannotated: predictions - rows.length };
}

function runPredictions(db: Db, runId: number): PredictionInput[] {
  return (
    db.prepare(`SELECT i.file_name, p.pred_class, p.confidence FROM predictions p JOIN images i ON i.id = p.image_id WHERE p.run_id = ? ORDER BY p.image_id`).all(runId) as {
      file_name: string;
      pred_class: number;
      confidence: number;
    }[]
  ).map((r) => ({ fileName: r.file_name, predicted: r.pred_class, confidence: r.confidence }));
}

export function subjectName(db: Db, subject: AnalysisSubject): string {
  if (subject.kind === 'predictions') return predictionSetName(db, subject.id);
  const r = db.prepare(`SELECT r.id, m.name AS model, d.name AS dataset FROM runs r JOIN models m ON m.id = r.model_id JOIN datasets d ON d.id = r.dataset_id WHERE r.id = ?`).get(subject.id) as
    | { id: number; model: string; dataset: string }
    | undefined;
  if (!r) throw new NotFoundError(`no run with id ${subject.id}`);
  return `#${r.id} ${r.model} on ${r.dataset}`;
}

export interface SubjectQuery {
  subject: AnalysisSubject;
  sourceId: number;
  errorType?: ImageNetXErrorType;
  keepPrototypes?: boolean;
}

export interface SubjectEvaluation {
  subject: AnalysisSubject;
  /** "#3 resnet50 on val" for a run, the set's name for imported predictions. */
  name: string;
  source: AnnotationSourceInfo;
  evaluated: EvaluatedImages;
}

const describe = (s: AnalysisSubject) => (s.kind === 'run' ? `run ${s.id}` : `prediction set ${s.id}`);

/** A run or an imported prediction set against an annotation source; refuses an empty join. */
export function evaluateSubject(db: Db, q: SubjectQuery): SubjectEvaluation {
  const name = subjectName(db, q.subject);
  const source = getSource(db, q.sourceId);
  const errorType = q.errorType ?? 'class';
  let evaluated: EvaluatedImages;
  if (q.subject.kind === 'run' && source.origin === 'labelling') {
    if (errorType !== 'class') throw new BadInputError(`source "${source.name}" holds labels made in the lab: only the error type "class" applies`);
    evaluated = runLabelImages(db, q.subject.id, source.id);
    if (evaluated.fileNames.length === 0) throw new BadInputError(`nothing to evaluate: none of run ${q.subject.id}'s scored predictions has a label in source "${source.name}"`);
  } else {
    const preds = q.subject.kind === 'run' ? runPredictions(db, q.subject.id) : predictionSetRows(db, q.subject.id);
    evaluated = joinWithAnnotations(preds, sourceAnnotations(db, source.id), {
      errorType,
      prototypes: q.keepPrototypes ? new Set() : prototypeSet(db, source.id),
      metaclasses: errorType === 'metaclass' ? loadMetaclasses(db) : undefined,
    });
    if (evaluated.fileNames.length === 0) {
      throw new BadInputError(
        `nothing to evaluate: none of ${describe(q.subject)}'s ${preds.length} predictions matches a${q.keepPrototypes ? '' : ' non-prototypical'} annotation of source "${source.name}" by file name`,
      );
    }
  }
  return { subject: q.subject, name, source, evaluated };
}

/** A model run against an annotation source: predictions matched to annotations by file name. */
export function runFactorReport(db: Db, p: { runId: number; sourceId: number; errorType?: ImageNetXErrorType; keepPrototypes?: boolean }): ImageNetXReport {
  const e = evaluateSubject(db, { ...p, subject: { kind: 'run', id: p.runId } });
  return { runId: p.runId, sourceId: e.source.id, sourceName: e.source.name, ...summariseEvaluated(e.evaluated) };
}

// The images a model is evaluated on against an ImageNet-X annotation source, one entry each: is it
// right, how confident was the model, which factors does it carry. Error ratios, calibration, the
// failure distribution and co-occurrence among failures are all summaries of this one join, so
// they agree with each other by construction. The join is the toolkit's (see imagenetx-report.ts):
// predictions inner-joined with annotations on file_name, prototypical images dropped, correct =
// predicted == class (or the same toolkit metaclass). Pure: no I/O.
import type { ImageNetXErrorType } from '../../contract.ts';
import { BadInputError } from '../errors.ts';
import { IMAGENET_X_FACTORS } from '../../../native-models/imagenet-x-factors.ts';
import type { Annotation, MetaclassRow } from '../imagenetx/format.ts';
import { errorRatiosFromCounts, type ErrorRatioReport } from './error-ratios.ts';
import { metaclassLookup } from './metaclasses.ts';

export interface EvaluatedImages {
  errorType: ImageNetXErrorType;
  /** Predictions given (before the join). */
  predictions: number;
  /** Predictions whose file has no annotation in the source. */
  unannotated: number;
  prototypesDropped: number;
  /** One entry per evaluated image, in prediction order. */
  fileNames: string[];
  correct: Uint8Array;
  /** The predicted class's probability (the toolkit's predicted_probability); NaN when unknown. */
  confidence: Float64Array;
  /** Factor mask: bit i = IMAGENET_X_FACTORS[i]. */
  factors: Int32Array;
  predicted: Int32Array;
  /** The annotation's class (for runs against the lab's own labels: the run's true class). */
  trueClass: Int32Array;
}

export interface PredictionInput {
  fileName: string;
  predicted: number;
  confidence?: number;
}

export interface JoinOptions {
  errorType?: ImageNetXErrorType;
  /** File names left out (the source's prototypical images). */
  prototypes?: Set<string>;
  metaclasses?: MetaclassRow[];
}

/** Room for n images; `take(k)` trims to the k filled. */
export function allocateEvaluated(errorType: ImageNetXErrorType, n: number): EvaluatedImages {
  return {
    errorType,
    predictions: 0,
    unannotated: 0,
    prototypesDropped: 0,
    fileNames: new Array<string>(n),
    correct: new Uint8Array(n),
    confidence: new Float64Array(n),
    factors: new Int32Array(n),
    predicted: new Int32Array(n),
    trueClass: new Int32Array(n),
  };
}

export function take(e: EvaluatedImages, k: number): EvaluatedImages {
  return {
    ...e,
    fileNames: e.fileNames.slice(0, k),
    correct: e.correct.slice(0, k),
    confidence: e.confidence.slice(0, k),
    factors: e.factors.slice(0, k),
    predicted: e.predicted.slice(0, k),
    trueClass: e.trueClass.slice(0, k),
  };
}

/** Predictions (file name, predicted class, confidence) against annotations, the toolkit's way. */
export function joinWithAnnotations(predictions: PredictionInput[], annotations: Annotation[], opts: JoinOptions = {}): EvaluatedImages {
  const errorType = opts.errorType ?? 'class';
  if (errorType === 'metaclass' && !opts.metaclasses?.length) {
    throw new BadInputError('error type "metaclass" needs a metaclass mapping: store one with `factorlab imagenetx metaclasses --file imagenet_1k_classes_to_100_metaclasses.csv` (or --metaclasses on import)');
  }
  const meta = errorType === 'metaclass' ? metaclassLookup(opts.metaclasses!) : null;
  const prototypes = opts.prototypes ?? new Set<string>();
  const byFile = new Map(annotations.map((a) => [a.fileName, a]));
  const seen = new Set<string>();
  const out = allocateEvaluated(errorType, predictions.length);
  out.predictions = predictions.length;
  let k = 0;
  for (const p of predictions) {
    const a = byFile.get(p.fileName);
    if (!a) {
      out.unannotated++;
      continue;
    }
    if (seen.has(p.fileName)) throw new BadInputError(`several predictions for ${p.fileName}: file names must be unique to match annotations`);
    seen.add(p.fileName);
    if (prototypes.has(p.fileName)) {
      out.prototypesDropped++;
      continue;
    }
    out.fileNames[k] = p.fileName;
    out.correct[k] = (meta ? meta(p.predicted) === meta(a.classIdx) : p.predicted === a.classIdx) ? 1 : 0;
    out.confidence[k] = p.confidence ?? NaN;
    out.factors[k] = a.factors;
    out.predicted[k] = p.predicted;
    out.trueClass[k] = a.classIdx;
    k++;
  }
  return take(out, k);
}

/** Accuracy and error ratio per factor (error-ratios.ts) of the evaluated images. */
export function factorErrorRatios(e: EvaluatedImages): ErrorRatioReport {
  const F = IMAGENET_X_FACTORS.length;
  const per = Array.from({ length: F }, () => ({ count: 0, correct: 0 }));
  let correct = 0;
  for (let i = 0; i < e.correct.length; i++) {
    const ok = e.correct[i] === 1;
    if (ok) correct++;
    for (let f = 0, m = e.factors[i]; m !== 0 && f < F; f++, m >>>= 1)
      if (m & 1) {
        per[f].count++;
        if (ok) per[f].correct++;
      }
  }
  return errorRatiosFromCounts(e.correct.length, correct, per);
}

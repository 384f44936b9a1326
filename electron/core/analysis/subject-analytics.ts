// ImageNet-X analytics of one run or imported prediction set against an annotation source, for the
// API: calibration (reliability bins and ECE per factor), the factor distribution of failures vs
// all images, factor co-occurrence, and the failing images behind a bar. Each evaluates the
// subject once (imagenetx-report.ts evaluateSubject) and summarises it with a pure module.
import type { Db } from '../store/database.ts';
import type { AnalysisSubject, CalibrationReport, FactorCooccurrenceReport, FactorDistributionReport, FailingImage, ImageNetXErrorType, Page, SubjectHeader } from '../../contract.ts';
import { IMAGENET_X_FACTORS } from '../../../native-models/imagenet-x-factors.ts';
import { getSource, prototypeSet } from '../imagenetx/annotations.ts';
import { factorsOf } from '../labelling/labels.ts';
import { evaluateSubject, type SubjectEvaluation, type SubjectQuery } from './imagenetx-report.ts';
import { factorCalibration } from './factor-calibration.ts';
import { factorDistribution } from './factor-distribution.ts';
import { factorCooccurrence } from './factor-cooccurrence.ts';

function header(e: SubjectEvaluation): SubjectHeader {
  return { subject: e.subject, name: e.name, sourceId: e.source.id, sourceName: e.source.name, errorType: e.evaluated.errorType, images: e.evaluated.fileNames.length };
}

export function calibrationReport(db: Db, q: SubjectQuery): CalibrationReport {
  const e = evaluateSubject(db, q);
  return { ...header(e), ...factorCalibration(e.evaluated) };
}

export function factorDistributionReport(db: Db, q: SubjectQuery): FactorDistributionReport {
  const e = evaluateSubject(db, q);
  const d = factorDistribution(e.evaluated);
  return { ...header(e), failures: d.failures, factors: d.factors };
}

/** Among the source's annotated images (prototypes dropped unless kept), or a subject's failures. */
export function cooccurrenceReport(db: Db, p: { sourceId: number; subject?: AnalysisSubject; errorType?: ImageNetXErrorType; keepPrototypes?: boolean }): FactorCooccurrenceReport {
  const source = getSource(db, p.sourceId);
  let masks: number[];
  let name: string | null = null;
  if (p.subject) {
    const e = evaluateSubject(db, { ...p, subject: p.subject });
    name = e.name;
    masks = [];
    e.evaluated.correct.forEach((ok, i) => ok || masks.push(e.evaluated.factors[i]));
  } else {
    const prototypes = p.keepPrototypes ? new Set<string>() : prototypeSet(db, source.id);
    masks = (db.prepare(`SELECT file_name, factors FROM annotations WHERE source_id = ?`).all(source.id) as { file_name: string; factors: number }[])
      .filter((r) => !prototypes.has(r.file_name))
      .map((r) => r.factors);
  }
  return { sourceId: source.id, sourceName: source.name, subject: p.subject ?? null, name, factors: [...IMAGENET_X_FACTORS], ...factorCooccurrence(masks) };
}

/** The subject's failing evaluated images (those carrying `factor` if given), most confident first;
 * each with the lab's image of that file name when there is one. */
export function failingImages(db: Db, p: SubjectQuery & { factor?: string; offset: number; limit: number }): Page<FailingImage> {
  const e = evaluateSubject(db, p).evaluated;
  const bit = p.factor === undefined ? -1 : IMAGENET_X_FACTORS.indexOf(p.factor as (typeof IMAGENET_X_FACTORS)[number]);
  const rows: number[] = [];
  for (let i = 0; i < e.correct.length; i++) if (e.correct[i] === 0 && (bit < 0 || ((e.factors[i] >> bit) & 1) === 1)) rows.push(i);
  rows.sort((a, b) => e.confidence[b] - e.confidence[a] || (e.fileNames[a] < e.fileNames[b] ? -1 : 1));
  const image = db.prepare(`SELECT id, rel_path FROM images WHERE file_name = ? ORDER BY id DESC LIMIT 1`);
  const items = rows.slice(p.offset, p.offset + p.limit).map((i) => {
    const img = image.get(e.fileNames[i]) as { id: number; rel_path: string } | undefined;
    return {
      fileName: e.fileNames[i],
      imageId: img?.id ?? null,
      relPath: img?.rel_path ?? null,
      trueClass: e.trueClass[i],
      predicted: e.predicted[i],
      confidence: e.confidence[i],
      factors: factorsOf(e.factors[i]),
    };
  });
  return { total: rows.length, offset: p.offset, items };
}

import type { Db } from '../store/database.ts';
import type { ClassAccuracy, ConfusionPair, FailureRow, Page, Params, RunDetail, RunSummary } from '../../contract.ts';
import type { ClassifierManifest } from '../../../native-models/manifest/index.ts';
import { mapClasses } from './class-mapping.ts';
import { BadInputError, NotFoundError } from '../errors.ts';
import { IMAGENET_X_FACTORS } from '../../../native-models/imagenet-x-factors.ts';

const SUMMARY_SQL = `
  SELECT r.id, r.model_id, m.name AS model_name, r.dataset_id, d.name AS dataset_name, r.status, r.provider,
         r.num_images, r.created_at,
         (SELECT COUNT(*) FROM predictions p WHERE p.run_id = r.id) + (SELECT COUNT(*) FROM run_errors e WHERE e.run_id = r.id) AS num_done,
         (SELECT COUNT(*) FROM predictions p WHERE p.run_id = r.id AND p.correct IS NOT NULL) AS num_scored,
         (SELECT COUNT(*) FROM predictions p WHERE p.run_id = r.id AND p.correct = 1) AS num_correct
  FROM runs r JOIN models m ON m.id = r.model_id JOIN datasets d ON d.id = r.dataset_id`;

interface SummaryRow {
  id: number;
  model_id: number;
  model_name: string;
  dataset_id: number;
  dataset_name: string;
  status: RunSummary['status'];
  provider: string | null;
  num_images: number;
  created_at: string;
  num_done: number;
  num_scored: number;
  num_correct: number;
}

function toSummary(r: SummaryRow): RunSummary {
  return {
    id: r.id,
    modelId: r.model_id,
    modelName: r.model_name,
    datasetId: r.dataset_id,
    datasetName: r.dataset_name,
    status: r.status,
    provider: r.provider,
    numImages: r.num_images,
    numDone: r.num_done,
    numScored: r.num_scored,
    numCorrect: r.num_correct,
    accuracy: r.num_scored > 0 ? r.num_correct / r.num_scored : null,
    createdAt: r.created_at,
  };
}

export function listRuns(db: Db, datasetId?: number): RunSummary[] {
  const rows = (
    datasetId === undefined
      ? db.prepare(`${SUMMARY_SQL} ORDER BY r.id DESC`).all()
      : db.prepare(`${SUMMARY_SQL} WHERE r.dataset_id = ? ORDER BY r.id DESC`).all(datasetId)
  ) as SummaryRow[];
  return rows.map(toSummary);
}

function modelLabels(db: Db, runId: number): { labels: ClassifierManifest['labels']; datasetId: number } {
  const row = db.prepare(`SELECT m.manifest, r.dataset_id FROM runs r JOIN models m ON m.id = r.model_id WHERE r.id = ?`).get(runId) as
    | { manifest: string; dataset_id: number }
    | undefined;
  if (!row) throw new NotFoundError(`no run with id ${runId}`);
  return { labels: (JSON.parse(row.manifest) as ClassifierManifest).labels, datasetId: row.dataset_id };
}

export function runDetail(db: Db, runId: number): RunDetail {
  const row = db.prepare(`${SUMMARY_SQL} WHERE r.id = ?`).get(runId) as SummaryRow | undefined;
  if (!row) throw new NotFoundError(`no run with id ${runId}`);
  const { labels, datasetId } = modelLabels(db, runId);
  const name = (i: number) => labels[i]?.name ?? `class ${i}`;
  const perClass: ClassAccuracy[] = (
    db
      .prepare(
        `SELECT true_class, COUNT(*) AS total, SUM(correct) AS correct FROM predictions WHERE run_id = ? AND true_class IS NOT NULL GROUP BY true_class ORDER BY true_class`,
      )
      .all(runId) as { true_class: number; total: number; correct: number }[]
  ).map((r) => ({ classIdx: r.true_class, name: name(r.true_class), total: r.total, correct: r.correct, accuracy: r.correct / r.total }));
  const confusions: ConfusionPair[] = (
    db
      .prepare(
        `SELECT true_class, pred_class, COUNT(*) AS n FROM predictions WHERE run_id = ? AND correct = 0 GROUP BY true_class, pred_class ORDER BY n DESC, true_class, pred_class LIMIT 50`,
      )
      .all(runId) as { true_class: number; pred_class: number; n: number }[]
  ).map((r) => ({ trueClass: r.true_class, trueName: name(r.true_class), predClass: r.pred_class, predName: name(r.pred_class), count: r.n }));
  const classes = db.prepare(`SELECT idx, name, wnid FROM dataset_classes WHERE dataset_id = ?`).all(datasetId) as { idx: number; name: string; wnid: string | null }[];
  const used = new Set((db.prepare(`SELECT DISTINCT class_idx FROM images WHERE dataset_id = ?`).all(datasetId) as { class_idx: number }[]).map((r) => r.class_idx));
  const { unmapped } = mapClasses(classes.filter((c) => used.has(c.idx)), labels);
  const errors = (
    db.prepare(`SELECT e.image_id, i.rel_path, e.reason FROM run_errors e JOIN images i ON i.id = e.image_id WHERE e.run_id = ? ORDER BY i.rel_path LIMIT 200`).all(runId) as {
      image_id: number;
      rel_path: string;
      reason: string;
    }[]
  ).map((e) => ({ imageId: e.image_id, relPath: e.rel_path, reason: e.reason }));
  const numErrors = (db.prepare(`SELECT COUNT(*) AS n FROM run_errors WHERE run_id = ?`).get(runId) as { n: number }).n;
  return { ...toSummary(row), numErrors, errors, modelClasses: labels.map((l) => l.name), perClass, confusions, unmappedClasses: unmapped };
}

export function runFailures(db: Db, p: Params<'runs.failures'>): Page<FailureRow> {
  const { labels } = modelLabels(db, p.runId);
  const where = ['p.run_id = @runId', 'p.correct = 0'];
  if (p.trueClass !== undefined) where.push('p.true_class = @trueClass');
  if (p.predClass !== undefined) where.push('p.pred_class = @predClass');
  if (p.minConfidence !== undefined) where.push('p.confidence >= @minConfidence');
  if (p.maxConfidence !== undefined) where.push('p.confidence <= @maxConfidence');
  // Drill-down from an error-ratio bar: failures whose label in the source carries the factor.
  let factorBit: number | undefined;
  if (p.factor !== undefined) {
    if (p.sourceId === undefined) throw new BadInputError('a factor filter needs the annotation source (sourceId)');
    factorBit = IMAGENET_X_FACTORS.indexOf(p.factor);
    where.push(
      'EXISTS (SELECT 1 FROM annotations a WHERE a.source_id = @sourceId AND a.file_name = (SELECT file_name FROM images WHERE id = p.image_id) AND (a.factors >> @factorBit) & 1 = 1)',
    );
  }
  const order = { confidence_desc: 'p.confidence DESC', confidence_asc: 'p.confidence ASC', true_class: 'p.true_class, p.confidence DESC' }[p.sort];
  const args = {
    runId: p.runId,
    trueClass: p.trueClass,
    predClass: p.predClass,
    minConfidence: p.minConfidence,
    maxConfidence: p.maxConfidence,
    sourceId: factorBit === undefined ? undefined : p.sourceId,
    factorBit,
  };
  const clean = Object.fromEntries(Object.entries(args).filter(([, v]) => v !== undefined));
  const total = (db.prepare(`SELECT COUNT(*) AS n FROM predictions p WHERE ${where.join(' AND ')}`).get(clean) as { n: number }).n;
  const rows = db
    .prepare(
      `SELECT p.image_id, i.rel_path, p.true_class, p.pred_class, p.confidence, p.true_prob FROM predictions p JOIN images i ON i.id = p.image_id
       WHERE ${where.join(' AND ')} ORDER BY ${order}, p.image_id LIMIT @limit OFFSET @offset`,
    )
    .all({ ...clean, limit: p.limit, offset: p.offset }) as {
    image_id: number;
    rel_path: string;
    true_class: number;
    pred_class: number;
    confidence: number;
    true_prob: number;
  }[];
  const name = (i: number) => labels[i]?.name ?? `class ${i}`;
  return {
    total,
    offset: p.offset,
    items: rows.map((r) => ({
      imageId: r.image_id,
      relPath: r.rel_path,
      trueClass: r.true_class,
      trueName: name(r.true_class),
      predClass: r.pred_class,
      predName: name(r.pred_class),
      confidence: r.confidence,
      trueProb: r.true_prob,
    })),
  };
}

export function predictionFor(db: Db, runId: number, imageId: number) {
  const { labels } = modelLabels(db, runId);
  const row = db.prepare(`SELECT top5, true_class, true_prob, correct FROM predictions WHERE run_id = ? AND image_id = ?`).get(runId, imageId) as
    | { top5: string; true_class: number | null; true_prob: number | null; correct: number | null }
    | undefined;
  if (!row) return null;
  const top5 = (JSON.parse(row.top5) as [number, number][]).map(([classIdx, prob]) => ({ classIdx, name: labels[classIdx]?.name ?? `class ${classIdx}`, prob }));
  return { runId, top5, trueClass: row.true_class, trueProb: row.true_prob, correct: row.correct === null ? null : row.correct === 1 };
}

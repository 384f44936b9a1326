// Labelling queues: a dataset plus a stored ordering of its images. The ordering is written once
// (label_queue_items, keyed by (queue_id, pos)), so a page of the queue is a range read on the
// primary key whatever the queue's size; the annotator's labels come with each page.
import type { Db } from '../store/database.ts';
import { mulberry32 } from '../../../native-models/mulberry32.ts';
import type { LabelQueueInfo, LabelQueueItem, LabelQueueKindName, Page } from '../../contract.ts';
import { BadInputError, NotFoundError } from '../errors.ts';
import { labelSource, toRecord, type AnnotationRow, type LabelTarget } from './labels.ts';

export interface QueueParams {
  datasetId?: number;
  kind: LabelQueueKindName;
  runId?: number;
  annotator?: string;
  seed?: number;
  size?: number;
}

export function seededShuffle<T>(items: T[], seed: number): T[] {
  const out = items.slice();
  const rnd = mulberry32(seed);
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/** Images of the dataset that at least two annotators labelled differently (factors or top factor). */
const DISAGREEMENT_SQL = `
  SELECT a.file_name FROM annotations a JOIN annotation_sources s ON s.id = a.source_id AND s.kind = 'annotator'
  GROUP BY a.file_name
  HAVING COUNT(*) >= 2 AND (MIN(a.factors) <> MAX(a.factors) OR COUNT(DISTINCT COALESCE(a.top_factor, '')) > 1)`;

function orderedIds(db: Db, p: QueueParams & { datasetId: number }): number[] {
  switch (p.kind) {
    case 'all':
      return db.prepare(`SELECT id FROM images WHERE dataset_id = ? ORDER BY id`).pluck().all(p.datasetId) as number[];
    case 'failures':
      return db
        .prepare(`SELECT p.image_id FROM predictions p WHERE p.run_id = ? AND p.correct = 0 ORDER BY p.confidence DESC, p.image_id`)
        .pluck()
        .all(p.runId) as number[];
    case 'unlabelled': {
      const src = labelSource(db, 'annotator', p.annotator!, false);
      if (src === null) return db.prepare(`SELECT id FROM images WHERE dataset_id = ? ORDER BY id`).pluck().all(p.datasetId) as number[];
      return db
        .prepare(`SELECT i.id FROM images i WHERE i.dataset_id = ? AND NOT EXISTS (SELECT 1 FROM annotations a WHERE a.source_id = ? AND a.file_name = i.file_name) ORDER BY i.id`)
        .pluck()
        .all(p.datasetId, src) as number[];
    }
    case 'disagreements':
      return db
        .prepare(`SELECT i.id FROM images i WHERE i.dataset_id = ? AND i.file_name IN (${DISAGREEMENT_SQL}) ORDER BY i.id`)
        .pluck()
        .all(p.datasetId) as number[];
    case 'random': {
      const all = db.prepare(`SELECT id FROM images WHERE dataset_id = ? ORDER BY id`).pluck().all(p.datasetId) as number[];
      const shuffled = seededShuffle(all, p.seed ?? 0);
      return p.size !== undefined ? shuffled.slice(0, p.size) : shuffled;
    }
  }
}

/** Creates a queue; an 'all', 'failures' or 'random' queue with the same settings is reused (its
 * ordering cannot change), 'unlabelled' and 'disagreements' are snapshots taken now. */
export function createQueue(db: Db, p: QueueParams): LabelQueueInfo {
  let datasetId = p.datasetId;
  if (p.kind === 'failures') {
    if (p.runId === undefined) throw new BadInputError('a failures queue needs a run (runId)');
    const run = db.prepare(`SELECT dataset_id FROM runs WHERE id = ?`).get(p.runId) as { dataset_id: number } | undefined;
    if (!run) throw new NotFoundError(`no run with id ${p.runId}`);
    if (datasetId !== undefined && datasetId !== run.dataset_id) throw new BadInputError(`run ${p.runId} is not a run on dataset ${datasetId}`);
    datasetId = run.dataset_id;
  }
  if (datasetId === undefined) throw new BadInputError(`a ${p.kind} queue needs a dataset (datasetId)`);
  if (!db.prepare(`SELECT 1 FROM datasets WHERE id = ?`).get(datasetId)) throw new NotFoundError(`no dataset with id ${datasetId}`);
  if (p.kind === 'unlabelled' && !p.annotator) throw new BadInputError('an unlabelled queue needs the annotator');
  const runId = p.kind === 'failures' ? p.runId! : null;
  const annotator = p.kind === 'unlabelled' ? p.annotator! : null;
  const seed = p.kind === 'random' ? (p.seed ?? 0) : null;
  const ds = datasetId;
  return db
    .transaction((): LabelQueueInfo => {
      if (p.kind === 'all' || p.kind === 'failures' || p.kind === 'random') {
        const reuse = db
          .prepare(`SELECT id, size FROM label_queues WHERE dataset_id = ? AND kind = ? AND run_id IS ? AND seed IS ? ORDER BY id DESC LIMIT 1`)
          .get(ds, p.kind, runId, seed) as { id: number; size: number } | undefined;
        // a random sample of another size is another queue; so is one of a run or dataset that grew since
        const current =
          p.kind === 'failures'
            ? (db.prepare(`SELECT COUNT(*) FROM predictions WHERE run_id = ? AND correct = 0`).pluck().get(runId) as number)
            : (db.prepare(`SELECT COUNT(*) FROM images WHERE dataset_id = ?`).pluck().get(ds) as number);
        const expected = p.kind === 'random' && p.size !== undefined ? Math.min(p.size, current) : current;
        if (reuse && reuse.size === expected) {
          return { id: reuse.id, datasetId: ds, kind: p.kind, runId, annotator, seed, size: reuse.size, reused: true };
        }
      }
      const ids = orderedIds(db, { ...p, datasetId: ds });
      const qid = Number(db.prepare(`INSERT INTO label_queues (dataset_id, kind, run_id, annotator, seed, size) VALUES (?, ?, ?, ?, ?, ?)`).run(ds, p.kind, runId, annotator, seed, ids.length).lastInsertRowid);
      const ins = db.prepare(`INSERT INTO label_queue_items (queue_id, pos, image_id) VALUES (?, ?, ?)`);
      ids.forEach((id, pos) => ins.run(qid, pos, id));
      return { id: qid, datasetId: ds, kind: p.kind, runId, annotator, seed, size: ids.length, reused: false };
    })
    .immediate();
}

function queueSize(db: Db, queueId: number): number {
  const q = db.prepare(`SELECT size FROM label_queues WHERE id = ?`).get(queueId) as { size: number } | undefined;
  if (!q) throw new NotFoundError(`no labelling queue with id ${queueId}`);
  return q.size;
}

/** One page of a queue, with the annotator's (or the consensus) label of each image. */
export function queuePage(db: Db, p: { queueId: number; annotator?: string; target?: LabelTarget; offset: number; limit: number }): Page<LabelQueueItem> {
  const total = queueSize(db, p.queueId);
  const target = p.target ?? 'annotator';
  const src = target === 'consensus' || p.annotator ? labelSource(db, target, p.annotator ?? '', false) : null;
  const rows = db
    .prepare(
      `SELECT q.pos, i.id AS img, i.rel_path, c.name AS class_name, a.source_id, a.line, a.file_name, a.image_id, a.class_idx, a.factors, a.top_factor, a.justification,
         a.one_word, a.annotator, a.updated_at, a.seconds
       FROM label_queue_items q JOIN images i ON i.id = q.image_id
       LEFT JOIN dataset_classes c ON c.dataset_id = i.dataset_id AND c.idx = i.class_idx
       LEFT JOIN annotations a ON a.source_id = @src AND a.file_name = i.file_name
       WHERE q.queue_id = @queueId AND q.pos >= @offset AND q.pos < @end ORDER BY q.pos`,
    )
    .all({ src: src ?? -1, queueId: p.queueId, offset: p.offset, end: p.offset + p.limit }) as (AnnotationRow & { pos: number; img: number; rel_path: string; class_name: string | null })[];
  return {
    total,
    offset: p.offset,
    items: rows.map((r) => ({ pos: r.pos, imageId: r.img, relPath: r.rel_path, className: r.class_name, label: r.source_id === null ? null : toRecord(r) })),
  };
}

/** How many of the queue's images the annotator has labelled: a lookup per label, not per image. */
export function queueProgress(db: Db, p: { queueId: number; annotator: string }): { labelled: number; total: number } {
  const total = queueSize(db, p.queueId);
  const src = labelSource(db, 'annotator', p.annotator, false);
  if (src === null) return { labelled: 0, total };
  const labelled = db
    .prepare(`SELECT COUNT(*) FROM annotations a WHERE a.source_id = ? AND EXISTS (SELECT 1 FROM label_queue_items q WHERE q.queue_id = ? AND q.image_id = a.image_id)`)
    .pluck()
    .get(src, p.queueId) as number;
  return { labelled, total };
}

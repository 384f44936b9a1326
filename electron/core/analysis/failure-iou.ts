// Failure intersection-over-union between the runs of one dataset (Chegini & Feizi, Figure 4):
// for runs a and b, IoU = |F_a ∩ F_b| / |F_a ∪ F_b| where F is the set of images the run got wrong,
// counted over the images both runs scored (models with different label spaces score different
// images). Plus the shared failures of a pair, for the heatmap's drill-down.
import type { Db } from '../store/database.ts';
import type { FailureIou, Page, Params, SharedFailure } from '../../contract.ts';
import { listRuns } from '../runs/run-queries.ts';
import { BadInputError, NotFoundError } from '../errors.ts';

export function failureIou(db: Db, datasetId: number): FailureIou {
  if (!db.prepare(`SELECT 1 FROM datasets WHERE id = ?`).get(datasetId)) throw new NotFoundError(`no dataset with id ${datasetId}`);
  const runs = listRuns(db, datasetId).filter((r) => r.status === 'done');
  const scored = new Map<number, Map<number, boolean>>();
  const q = db.prepare(`SELECT image_id, correct FROM predictions WHERE run_id = ? AND correct IS NOT NULL`);
  for (const r of runs) scored.set(r.id, new Map((q.all(r.id) as { image_id: number; correct: number }[]).map((p) => [p.image_id, p.correct === 0])));
  const n = runs.length;
  const iou: (number | null)[][] = Array.from({ length: n }, () => new Array<number | null>(n).fill(null));
  const intersection: number[][] = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  const union: number[][] = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      const a = scored.get(runs[i]!.id)!;
      const b = scored.get(runs[j]!.id)!;
      let inter = 0;
      let uni = 0;
      for (const [img, failA] of a) {
        const failB = b.get(img);
        if (failB === undefined) continue;
        if (failA && failB) inter++;
        if (failA || failB) uni++;
      }
      const v = uni ? inter / uni : null;
      iou[i]![j] = iou[j]![i] = v;
      intersection[i]![j] = intersection[j]![i] = inter;
      union[i]![j] = union[j]![i] = uni;
    }
  }
  return { datasetId, runs, iou, intersection, union };
}

/** Images both runs got wrong (each run's prediction), in image order. */
export function sharedFailures(db: Db, p: Params<'analysis.sharedFailures'>): Page<SharedFailure> {
  const runs = db.prepare(`SELECT id, dataset_id FROM runs WHERE id IN (?, ?)`).all(p.runA, p.runB) as { id: number; dataset_id: number }[];
  for (const id of [p.runA, p.runB]) if (!runs.some((r) => r.id === id)) throw new NotFoundError(`no run with id ${id}`);
  if (runs.length === 2 && runs[0]!.dataset_id !== runs[1]!.dataset_id) throw new BadInputError(`runs ${p.runA} and ${p.runB} are on different datasets: their failures cannot be compared image by image`);
  const from = `FROM predictions a JOIN predictions b ON b.image_id = a.image_id AND b.run_id = ? JOIN images i ON i.id = a.image_id
                WHERE a.run_id = ? AND a.correct = 0 AND b.correct = 0`;
  const total = (db.prepare(`SELECT COUNT(*) AS n ${from}`).get(p.runB, p.runA) as { n: number }).n;
  const items = (
    db.prepare(`SELECT a.image_id, i.rel_path, a.true_class, a.pred_class AS pred_a, b.pred_class AS pred_b ${from} ORDER BY a.image_id LIMIT ? OFFSET ?`).all(p.runB, p.runA, p.limit, p.offset) as {
      image_id: number;
      rel_path: string;
      true_class: number;
      pred_a: number;
      pred_b: number;
    }[]
  ).map((r) => ({ imageId: r.image_id, relPath: r.rel_path, trueClass: r.true_class, predA: r.pred_a, predB: r.pred_b }));
  return { total, offset: p.offset, items };
}

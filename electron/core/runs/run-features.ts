// The penultimate features a run stored (one float32 blob per batch) joined with its predictions:
// the rows a head is retrained and evaluated on. Labels are the model's class indices.
import type { Db } from '../store/database.ts';
import type { BlobStore } from '../store/blob-store.ts';
import { BadInputError, NotFoundError } from '../errors.ts';

export interface RunFeatures {
  runId: number;
  featureDim: number;
  imageIds: number[];
  /** Model class index of each row's true class. */
  labels: Int32Array;
  /** Whether the model was right on the row (as the run stored it). */
  correct: Uint8Array;
  /** rows x featureDim, row-major. */
  features: Float32Array;
}

/** Features of a done run's labelled images, in image id order; `only` restricts to those image ids. */
export function readRunFeatures(db: Db, blobs: BlobStore, runId: number, only?: ReadonlySet<number>): RunFeatures {
  const run = db.prepare(`SELECT status, feature_dim FROM runs WHERE id = ?`).get(runId) as { status: string; feature_dim: number } | undefined;
  if (!run) throw new NotFoundError(`no run with id ${runId}`);
  if (run.status !== 'done') throw new BadInputError(`run ${runId} is ${run.status}: finish it before using its features`);
  const D = run.feature_dim;
  if (!(D > 0)) throw new BadInputError(`run ${runId} stored no features (feature_dim ${D})`);
  const rows = db
    .prepare(
      `SELECT p.image_id, p.true_class, p.correct, p.batch_idx, p.batch_row, b.features_blob, b.rows
       FROM predictions p JOIN run_batches b ON b.run_id = p.run_id AND b.batch_idx = p.batch_idx
       WHERE p.run_id = ? AND p.true_class IS NOT NULL ORDER BY p.image_id`,
    )
    .all(runId) as { image_id: number; true_class: number; correct: number; batch_idx: number; batch_row: number; features_blob: string; rows: number }[];
  const picked = only ? rows.filter((r) => only.has(r.image_id)) : rows;
  const features = new Float32Array(picked.length * D);
  const cache = new Map<string, Float32Array>();
  picked.forEach((r, i) => {
    let batch = cache.get(r.features_blob);
    if (!batch) {
      batch = blobs.getFloat32(r.features_blob);
      if (batch.length !== r.rows * D) throw new Error(`run ${runId}: feature blob of batch ${r.batch_idx} holds ${batch.length} values, expected ${r.rows} x ${D}`);
      cache.set(r.features_blob, batch);
    }
    features.set(batch.subarray(r.batch_row * D, (r.batch_row + 1) * D), i * D);
  });
  return {
    runId,
    featureDim: D,
    imageIds: picked.map((r) => r.image_id),
    labels: Int32Array.from(picked.map((r) => r.true_class)),
    correct: Uint8Array.from(picked.map((r) => r.correct)),
    features,
  };
}

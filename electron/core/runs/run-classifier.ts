import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { Db } from '../store/database.ts';
import type { BlobStore } from '../store/blob-store.ts';
import { openClassifier, softmaxRows, topK, type ClassifierOutputs } from '../../../native-models/classifier/index.ts';
import { classifyRunFailure, firstLine, type ProviderFallback } from '../../../native-models/runtime/index.ts';
import { decodeBatchCompacted } from '../../../native-models/preprocess/index.ts';
import type { ClassifierManifest } from '../../../native-models/manifest/index.ts';
import { mapClasses } from './class-mapping.ts';
import { NotFoundError } from '../errors.ts';

export interface RunParams {
  runId: number;
  provider?: 'auto' | 'cpu' | 'cuda' | 'webgpu';
}

export interface RunProgress {
  (done: number, total: number, message?: string): void;
}

export const DEFAULT_BATCH = 32;

interface ImageToRun {
  id: number;
  abs: string;
  classIdx: number | null;
}

export function runCacheKey(modelSha: string, manifest: ClassifierManifest, datasetHash: string): string {
  return createHash('sha256')
    .update(JSON.stringify({ model: modelSha, preprocess: manifest.preprocess, labels: manifest.labels, dataset: datasetHash }))
    .digest('hex');
}

/** Finds the stored run for (model, dataset, preprocessing) or creates an empty one. */
export function getOrCreateRun(db: Db, modelId: number, datasetId: number): { runId: number; reused: boolean; status: string } {
  const model = db.prepare(`SELECT sha256, manifest FROM models WHERE id = ?`).get(modelId) as { sha256: string; manifest: string } | undefined;
  if (!model) throw new NotFoundError(`no model with id ${modelId}`);
  const dataset = db.prepare(`SELECT content_hash FROM datasets WHERE id = ?`).get(datasetId) as { content_hash: string } | undefined;
  if (!dataset) throw new NotFoundError(`no dataset with id ${datasetId}`);
  const manifest = JSON.parse(model.manifest) as ClassifierManifest;
  const key = runCacheKey(model.sha256, manifest, dataset.content_hash);
  const existing = db.prepare(`SELECT id, status FROM runs WHERE cache_key = ?`).get(key) as { id: number; status: string } | undefined;
  if (existing) return { runId: existing.id, reused: existing.status === 'done', status: existing.status };
  const numImages = (db.prepare(`SELECT COUNT(*) AS n FROM images WHERE dataset_id = ?`).get(datasetId) as { n: number }).n;
  const row = db
    .prepare(
      `INSERT INTO runs (model_id, dataset_id, cache_key, status, batch_size, num_classes, feature_dim, num_images) VALUES (?, ?, ?, 'incomplete', ?, ?, ?, ?) RETURNING id`,
    )
    .get(modelId, datasetId, key, DEFAULT_BATCH, manifest.head.num_classes, manifest.head.feature_dim, numImages) as { id: number };
  return { runId: row.id, reused: false, status: 'incomplete' };
}

/** Runs a classifier over a dataset in fixed batches. Each batch is stored in one transaction
 * (predictions + a feature blob), so a killed process resumes at the first batch not stored.
 * Decoding the next batch overlaps inference of the current one. */
export async function runClassifier(
  db: Db,
  blobs: BlobStore,
  params: RunParams,
  progress: RunProgress,
  signal: AbortSignal,
  onProvider?: (provider: string, fallbacks: { provider: string; reason: string }[]) => void,
): Promise<{ runId: number; provider: string }> {
  const run = db.prepare(`SELECT * FROM runs WHERE id = ?`).get(params.runId) as
    | { id: number; model_id: number; dataset_id: number; batch_size: number; status: string }
    | undefined;
  if (!run) throw new NotFoundError(`no run with id ${params.runId}`);
  const model = db.prepare(`SELECT dir, manifest FROM models WHERE id = ?`).get(run.model_id) as { dir: string; manifest: string };
  const manifest = JSON.parse(model.manifest) as ClassifierManifest;
  const dataset = db.prepare(`SELECT root FROM datasets WHERE id = ?`).get(run.dataset_id) as { root: string };
  const classes = db.prepare(`SELECT idx, name, wnid FROM dataset_classes WHERE dataset_id = ?`).all(run.dataset_id) as {
    idx: number;
    name: string;
    wnid: string | null;
  }[];
  const { toModel } = mapClasses(classes, manifest.labels);

  const images = (
    db.prepare(`SELECT id, rel_path, class_idx FROM images WHERE dataset_id = ? ORDER BY id`).all(run.dataset_id) as {
      id: number;
      rel_path: string;
      class_idx: number | null;
    }[]
  ).map((r): ImageToRun => ({ id: r.id, abs: join(dataset.root, r.rel_path), classIdx: r.class_idx }));

  const B = run.batch_size;
  const numBatches = Math.ceil(images.length / B);
  const stored = new Set((db.prepare(`SELECT batch_idx FROM run_batches WHERE run_id = ?`).all(run.id) as { batch_idx: number }[]).map((r) => r.batch_idx));
  const todo: number[] = [];
  for (let b = 0; b < numBatches; b++) if (!stored.has(b)) todo.push(b);
  let done = Math.min(images.length, stored.size * B);
  progress(done, images.length, stored.size ? `resuming: ${stored.size} of ${numBatches} batches already stored` : 'loading model');

  let classifier = await openClassifier(model.dir, { provider: params.provider ?? 'auto' });
  let fallbacks: ProviderFallback[] = classifier.fallbacks;
  onProvider?.(classifier.provider, fallbacks);
  db.prepare(`UPDATE runs SET status = 'running', provider = ? WHERE id = ?`).run(classifier.provider, run.id);
  progress(done, images.length, `running on ${classifier.provider}`);
  const C = manifest.head.num_classes;
  const D = manifest.head.feature_dim;
  // Images per classifier call: the whole batch until a GPU provider runs out of memory on it.
  let chunk = B;

  /** Inference for one batch's n images. A GPU provider failing mid-run (an op it cannot run, out of
   * memory) never loses the batch: out of memory halves the images per call and retries them, any
   * other failure (or one image still too much) reopens the model on cpu and retries there. The
   * batch is stored only after this returns, so no image is lost or scored twice. */
  async function infer(input: Float32Array, n: number): Promise<ClassifierOutputs> {
    let logits: ClassifierOutputs['logits'] | null = null;
    let features: ClassifierOutputs['features'] | null = null;
    for (let s = 0; s < n; ) {
      const m = Math.min(chunk, n - s);
      try {
        const size = classifier.inputSize;
        const out = await classifier.run(input.subarray(s * size, (s + m) * size), m);
        if (m === n) return out; // the common case: one call, no copy
        logits ??= new Float32Array(n * C);
        features ??= new Float32Array(n * D);
        logits.set(out.logits.subarray(0, m * C), s * C);
        features.set(out.features.subarray(0, m * D), s * D);
        s += m;
      } catch (err) {
        if (classifier.provider === 'cpu') throw err;
        const message = err instanceof Error ? err.message : String(err);
        const failed = classifier.provider;
        if (classifyRunFailure(message, m) === 'shrink') {
          chunk = Math.max(1, Math.floor(m / 2));
          progress(done, images.length, `${failed} could not fit ${m} images at once (${firstLine(err)}): retrying ${chunk} at a time`);
          continue;
        }
        const reason = `failed while running: ${firstLine(err)}`;
        await classifier.close().catch(() => {}); // a failed GPU session may not release cleanly: the run goes on
        classifier = await openClassifier(model.dir, { provider: 'cpu', verifyHash: false });
        fallbacks = [...fallbacks, { provider: failed, reason }];
        chunk = B; // a GPU's memory limit says nothing about the CPU's
        onProvider?.(classifier.provider, fallbacks);
        db.prepare(`UPDATE runs SET provider = ? WHERE id = ?`).run(classifier.provider, params.runId);
        progress(done, images.length, `${failed} ${reason}; continuing on cpu`);
      }
    }
    return { logits: logits!, features: features! };
  }

  const insPred = db.prepare(
    `INSERT OR REPLACE INTO predictions (run_id, image_id, batch_idx, batch_row, true_class, pred_class, confidence, true_prob, correct, top5) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const insErr = db.prepare(`INSERT OR REPLACE INTO run_errors (run_id, image_id, batch_idx, reason) VALUES (?, ?, ?, ?)`);
  const insBatch = db.prepare(`INSERT INTO run_batches (run_id, batch_idx, features_blob, rows) VALUES (?, ?, ?, ?)`);

  async function decodeBatch(b: number) {
    const items = images.slice(b * B, (b + 1) * B);
    const { tensor, ok, errors } = await decodeBatchCompacted(items.map((img) => img.abs), manifest.preprocess);
    return { b, ok: ok.map((i) => items[i]), input: tensor, failed: errors.map((e) => ({ img: items[e.index], reason: e.error.message })) };
  }

  try {
    let pending = todo.length ? decodeBatch(todo[0]) : null;
    for (let t = 0; t < todo.length; t++) {
      if (signal.aborted) break;
      const batch = await pending!;
      pending = t + 1 < todo.length ? decodeBatch(todo[t + 1]) : null;
      const n = batch.ok.length;
      let features = new Float32Array(0);
      let probs = new Float32Array(0);
      if (n > 0) {
        const out = await infer(batch.input, n);
        features = out.features;
        probs = manifest.outputs.logits_are === 'probabilities' ? out.logits : softmaxRows(out.logits, n, C);
      }
      const blob = blobs.putFloat32(features.length === n * D ? features : features.slice(0, n * D));
      db.transaction(() => {
        batch.ok.forEach((img, row) => {
          const p = probs.subarray(row * C, (row + 1) * C);
          const top = topK(p, Math.min(5, C));
          const trueClass = img.classIdx === null ? null : (toModel.get(img.classIdx) ?? null);
          const trueProb = trueClass === null ? null : p[trueClass];
          const correct = trueClass === null ? null : top[0].index === trueClass ? 1 : 0;
          insPred.run(run.id, img.id, batch.b, row, trueClass, top[0].index, top[0].prob, trueProb, correct, JSON.stringify(top.map((x) => [x.index, round6(x.prob)])));
        });
        for (const f of batch.failed) insErr.run(run.id, f.img.id, batch.b, f.reason);
        insBatch.run(run.id, batch.b, blob, n);
      }).immediate();
      done += batch.ok.length + batch.failed.length;
      progress(done, images.length);
    }
    const complete = (db.prepare(`SELECT COUNT(*) AS n FROM run_batches WHERE run_id = ?`).get(run.id) as { n: number }).n === numBatches;
    db.prepare(`UPDATE runs SET status = ?, finished_at = CASE WHEN ? THEN strftime('%Y-%m-%dT%H:%M:%fZ','now') ELSE NULL END WHERE id = ?`).run(
      complete ? 'done' : 'incomplete',
      complete ? 1 : 0,
      run.id,
    );
  } catch (e) {
    db.prepare(`UPDATE runs SET status = 'incomplete' WHERE id = ?`).run(run.id);
    throw e;
  } finally {
    await classifier.close();
  }
  return { runId: run.id, provider: classifier.provider };
}

function round6(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

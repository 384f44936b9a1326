// `node test/bench/labelling-bench.ts [--images 50000]`: the labelling workspace's database side
// at scale. A lab database with N images and a done run that fails on all of them (SQL-seeded, like
// the e2e scale lab), then: building a failures queue and a seeded random queue of N, reading a
// page of 200 at the start, middle and end of the queue, storing single labels, the progress count,
// a bulk apply over 5,000 images and its undo. Prints the times (ms).
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openDatabase } from '../../electron/core/store/database.ts';
import { bulkApply, setLabel, undoLast } from '../../electron/core/labelling/labels.ts';
import { createQueue, queuePage, queueProgress } from '../../electron/core/labelling/queues.ts';
import { tempDir } from '../helpers/temp-dir.ts';

const { values } = parseArgs({ options: { images: { type: 'string', default: '50000' } } });
const N = Number(values.images);
const dir = tempDir('factorlab-label-bench-');
const db = openDatabase(join(dir.path, 'lab.db'));

function time<T>(fn: () => T, reps = 1): { ms: number; result: T } {
  let result!: T;
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) result = fn();
  return { ms: (performance.now() - t0) / reps, result };
}

try {
  const seedT = time(() =>
    db.transaction(() => {
      const ds = Number(db.prepare(`INSERT INTO datasets (name, root, source, content_hash) VALUES ('bench', '/tmp/bench', 'folder', 'x')`).run().lastInsertRowid);
      db.prepare(`INSERT INTO dataset_classes (dataset_id, idx, name) VALUES (?, 0, 'a'), (?, 1, 'b')`).run(ds, ds);
      const model = Number(db.prepare(`INSERT INTO models (name, kind, dir, manifest, sha256) VALUES ('m', 'classifier', '/tmp/m', '{}', 's')`).run().lastInsertRowid);
      const run = Number(
        db.prepare(`INSERT INTO runs (model_id, dataset_id, cache_key, status, batch_size, num_classes, feature_dim, num_images) VALUES (?, ?, 'k', 'done', 64, 2, 4, ?)`).run(model, ds, N)
          .lastInsertRowid,
      );
      const img = db.prepare(`INSERT INTO images (dataset_id, rel_path, file_name, class_idx, bytes, sha256) VALUES (?, ?, ?, ?, 1, 'h')`);
      const pred = db.prepare(`INSERT INTO predictions (run_id, image_id, batch_idx, batch_row, true_class, pred_class, confidence, true_prob, correct, top5) VALUES (?, ?, ?, ?, ?, ?, ?, 0.1, 0, '[]')`);
      for (let i = 0; i < N; i++) {
        const id = img.run(ds, `c${i % 2}/img_${i}.jpg`, `img_${i}.jpg`, i % 2).lastInsertRowid;
        pred.run(run, id, Math.floor(i / 64), i % 64, i % 2, 1 - (i % 2), 0.95 - (0.5 * i) / N);
      }
      return { ds, run };
    })(),
  );
  const { ds, run } = seedT.result;
  const failures = time(() => createQueue(db, { kind: 'failures', runId: run }));
  const random = time(() => createQueue(db, { datasetId: ds, kind: 'random', seed: 1 }));
  const q = failures.result.id;
  const page = (offset: number) => time(() => queuePage(db, { queueId: q, annotator: 'bench', offset, limit: 200 }), 50).ms;
  const pages = { start: page(0), middle: page(Math.floor(N / 2)), end: page(N - 200) };
  const labels = time(() => {
    for (let i = 0; i < 200; i++) setLabel(db, { imageId: i + 1, annotator: 'bench', factors: ['pose'], seconds: 2 });
  });
  const pagesLabelled = { start: page(0) };
  const progress = time(() => queueProgress(db, { queueId: q, annotator: 'bench' }), 50);
  const ids = Array.from({ length: 5000 }, (_, i) => i + 1001);
  const bulk = time(() => bulkApply(db, { imageIds: ids, annotator: 'bench', factor: 'darker', value: true }));
  const undo = time(() => undoLast(db, { annotator: 'bench' }));
  const report = {
    images: N,
    seedMs: +seedT.ms.toFixed(0),
    createFailuresQueueMs: +failures.ms.toFixed(1),
    createRandomQueueMs: +random.ms.toFixed(1),
    pageOf200Ms: Object.fromEntries(Object.entries(pages).map(([k, v]) => [k, +v.toFixed(3)])),
    pageOf200WithLabelsMs: +pagesLabelled.start.toFixed(3),
    setLabelMs: +(labels.ms / 200).toFixed(3),
    progressMs: +progress.ms.toFixed(3),
    progress: progress.result,
    bulkApply5000Ms: +bulk.ms.toFixed(1),
    bulkChanged: bulk.result.changed,
    undo5000Ms: +undo.ms.toFixed(1),
  };
  console.log(JSON.stringify(report, null, 2));
} finally {
  db.close();
  dir.remove();
}

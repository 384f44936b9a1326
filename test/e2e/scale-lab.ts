// A real lab with a run of 50,000 failures for the scale spec. The real CLI imports the small e2e
// dataset, adds the tiny classifier and runs it, so that the schema, the dataset, the model and one
// done run are genuine. Then SQL (better-sqlite3, before any server opens the lab) adds the bulk:
// image rows whose files are hard links to one of the dataset's JPEGs, and a second done run (a copy
// of the genuine run's row) with one failed prediction per bulk image, in the run's own format.
import { spawn } from 'node:child_process';
import { linkSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { makeE2eData } from './e2e-data.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const cli = join(root, 'electron', 'cli.ts');

export interface ScaleLab {
  labDir: string;
  datasetRoot: string;
  /** The seeded run: exactly `total` failures. */
  runId: number;
  /** The model's class names in its own index order. */
  classes: string[];
  total: number;
  /** Bulk failure i (0-based, in the default order: most confident first) is this file. */
  relPath(i: number): string;
  seconds: { cli: number; seed: number };
}

function factorlab(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args, '--json'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, FORCE_COLOR: '0' } });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (err += c.toString('utf8')));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`factorlab ${args.join(' ')} exited ${code}: ${err.trim()}`))));
  });
}

/** Bulk failure i: true class i % n, predicted another class, confidence falling with i (no ties). */
function bulk(i: number, total: number, n: number) {
  const t = i % n;
  const p = (t + 1 + (Math.floor(i / n) % (n - 1))) % n;
  const confidence = 0.95 - (0.5 * i) / total; // 0.95 .. 0.45, always the top-1
  const trueProb = (1 - confidence) * 0.6;
  const rest = ((1 - confidence) * 0.4) / (n - 2);
  const top5: [number, number][] = [[p, confidence], [t, trueProb]];
  for (let c = 0; c < n && top5.length < 5; c++) if (c !== p && c !== t) top5.push([c, rest]);
  const round = (x: number) => Math.round(x * 1e6) / 1e6;
  return { t, p, confidence, trueProb, top5: JSON.stringify(top5.map(([c, x]) => [c, round(x)])) };
}

export async function makeScaleLab(dir: string, total: number): Promise<ScaleLab> {
  const t0 = performance.now();
  const data = await makeE2eData(join(dir, 'data'), root);
  const labDir = join(dir, 'lab');
  const lab = ['--lab', labDir];
  // Import and model add touch different tables; the lab's busy_timeout lets them share the file.
  await Promise.all([
    factorlab(['import', '--root', data.datasetRoot, '--name', 'big-set', ...lab]),
    factorlab(['model', 'add', '--onnx', data.modelOnnx, '--preset', 'none', '--labels', data.modelLabels, '--name', 'big-model', ...lab]),
  ]);
  const genuine = JSON.parse(await factorlab(['run', '--model', 'big-model', '--dataset', 'big-set', ...lab])) as { id: number; status: string; modelClasses: string[] };
  if (genuine.status !== 'done') throw new Error(`scale lab: the genuine run is ${genuine.status}`);
  const t1 = performance.now();

  const classes = genuine.modelClasses;
  const n = classes.length;
  const relPath = (i: number) => `${classes[i % n]}/img_${i}.jpg`;
  const db = new Database(join(labDir, 'lab.db'));
  let runId: number;
  try {
    db.pragma('foreign_keys = ON');
    const run = db.prepare(`SELECT * FROM runs WHERE id = ?`).get(genuine.id) as { dataset_id: number; batch_size: number };
    const dataset = db.prepare(`SELECT root FROM datasets WHERE id = ?`).get(run.dataset_id) as { root: string };
    const datasetClass = new Map((db.prepare(`SELECT idx, name FROM dataset_classes WHERE dataset_id = ?`).all(run.dataset_id) as { idx: number; name: string }[]).map((c) => [c.name, c.idx]));
    // One genuine JPEG row: its file is what every bulk image links to, its hash and size theirs.
    const src = db.prepare(`SELECT rel_path, bytes, sha256, width, height FROM images WHERE dataset_id = ? AND rel_path LIKE '%.jpg' ORDER BY id LIMIT 1`).get(run.dataset_id) as {
      rel_path: string;
      bytes: number;
      sha256: string;
      width: number;
      height: number;
    };
    for (const c of classes) if (!datasetClass.has(c)) throw new Error(`scale lab: the dataset has no class "${c}"`);

    const srcFile = join(dataset.root, src.rel_path);
    for (let i = 0; i < total; i++) linkSync(srcFile, join(dataset.root, relPath(i)));

    runId = db.transaction(() => {
      const id = Number(
        db
          .prepare(
            `INSERT INTO runs (model_id, dataset_id, cache_key, status, batch_size, provider, num_classes, feature_dim, num_images, finished_at)
             SELECT model_id, dataset_id, 'e2e-scale-seed', 'done', batch_size, provider, num_classes, feature_dim, ?, finished_at FROM runs WHERE id = ?`,
          )
          .run(total, genuine.id).lastInsertRowid,
      );
      const insImage = db.prepare(`INSERT INTO images (dataset_id, rel_path, file_name, class_idx, bytes, sha256, width, height) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`);
      const insPred = db.prepare(
        `INSERT INTO predictions (run_id, image_id, batch_idx, batch_row, true_class, pred_class, confidence, true_prob, correct, top5) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?)`,
      );
      for (let i = 0; i < total; i++) {
        const rel = relPath(i);
        const imageId = insImage.run(run.dataset_id, rel, `img_${i}.jpg`, datasetClass.get(classes[i % n])!, src.bytes, src.sha256, src.width, src.height).lastInsertRowid;
        const b = bulk(i, total, n);
        insPred.run(id, imageId, Math.floor(i / run.batch_size), i % run.batch_size, b.t, b.p, b.confidence, b.trueProb, b.top5);
      }
      return id;
    })();
  } finally {
    db.close();
  }
  return {
    labDir,
    datasetRoot: data.datasetRoot,
    runId,
    classes,
    total,
    relPath,
    seconds: { cli: (t1 - t0) / 1000, seed: (performance.now() - t1) / 1000 },
  };
}

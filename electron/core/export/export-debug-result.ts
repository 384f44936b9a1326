// Export of a debug result: the patched classifier package (the original graph with the head's
// initialisers replaced, checked against the original), the head alone (safetensors, JSON) and an
// offline HTML report. Before anything is kept, the patched package runs on every test image and
// its accuracy must match the evaluation made from stored features. Progress is reported per
// checked batch of test images; a failure or a cancel (the signal, or `progress` throwing) removes
// what was written and the folders the export created. Everything is written into a hidden staging
// folder inside the output folder and moved into place only once checked, so a killed process leaves
// no half-written package there; the next export to that folder removes the dead export's staging.
import { mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { makeOutputDirTracked, removeCreatedDirs } from './output-dir.ts';
import type { Db } from '../store/database.ts';
import type { BlobStore } from '../store/blob-store.ts';
import type { DebugExport } from '../../contract.ts';
import { exportPatchedHead } from '../../../native-models/head/index.ts';
import { openClassifier } from '../../../native-models/classifier/index.ts';
import type { ClassifierManifest } from '../../../native-models/manifest/index.ts';
import { decodeBatchCompacted } from '../../../native-models/preprocess/index.ts';
import { getDebugResult, sweepOf } from '../debugging/patch-head.ts';
import { getGenerationSet } from '../debugging/generation-sets.ts';
import { getAttribution } from '../debugging/attribution.ts';
import { BadInputError, NotFoundError } from '../errors.ts';
import { debugReportHtml } from './debug-report.ts';

const CHECK_BATCH = 64;
const STAGING_PREFIX = '.factorlab-export-';

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes the staging folders of exports whose process is gone (killed mid-export); returns their names. */
export function removeDeadStaging(outDir: string): string[] {
  const removed: string[] = [];
  for (const name of readdirSync(outDir)) {
    const m = name.startsWith(STAGING_PREFIX) ? /^(\d+)-/.exec(name.slice(STAGING_PREFIX.length)) : null;
    if (!m || processAlive(Number(m[1]))) continue;
    rmSync(join(outDir, name), { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}

function testImages(db: Db, runId: number): { paths: string[]; labels: number[] } {
  const rows = db
    .prepare(
      `SELECT d.root, i.rel_path, p.true_class FROM predictions p JOIN images i ON i.id = p.image_id JOIN datasets d ON d.id = i.dataset_id
       WHERE p.run_id = ? AND p.true_class IS NOT NULL ORDER BY p.image_id`,
    )
    .all(runId) as { root: string; rel_path: string; true_class: number }[];
  return { paths: rows.map((r) => join(r.root, r.rel_path)), labels: rows.map((r) => r.true_class) };
}

export interface ExportJobParams {
  id: number;
  out: string;
  which: 'individual' | 'random';
}

/** Bad input found before the job is queued: the result and the head must exist. */
export function checkExport(db: Db, p: ExportJobParams): void {
  const r = getDebugResult(db, p.id);
  if (p.which === 'random' && !r.heads.random) throw new BadInputError(`debug result ${p.id} has no random head (it was run without a random baseline)`);
}

/** Keeps what an export job wrote; the job answers `debug-export:<jobId>`. */
export function saveDebugExport(db: Db, jobId: number, resultId: number, e: DebugExport): void {
  db.prepare(`INSERT INTO debug_exports (job_id, result_id, export) VALUES (?, ?, ?) ON CONFLICT (job_id) DO UPDATE SET export = excluded.export`).run(jobId, resultId, JSON.stringify(e));
}

export function getDebugExport(db: Db, jobId: number): DebugExport {
  const row = db.prepare(`SELECT export FROM debug_exports WHERE job_id = ?`).get(jobId) as { export: string } | undefined;
  if (!row) throw new NotFoundError(`job ${jobId} is not a done export of a debug result`);
  return JSON.parse(row.export) as DebugExport;
}

export async function exportDebugResult(
  db: Db,
  blobs: BlobStore,
  p: { id: number; out: string; which: 'individual' | 'random' },
  log: (line: string) => void = () => {},
  opts: { progress?: (done: number, total: number, message?: string) => void; signal?: AbortSignal } = {},
): Promise<DebugExport> {
  const r = getDebugResult(db, p.id);
  const head = p.which === 'individual' ? r.heads.individual : r.heads.random;
  const evaluated = p.which === 'individual' ? r.individual.test : r.random?.test;
  if (!head || evaluated === undefined) throw new BadInputError(`debug result ${p.id} has no ${p.which} head (it was run without a random baseline)`);
  const weight = blobs.getFloat32(head.weightBlob);
  const bias = blobs.getFloat32(head.biasBlob);
  const { dir: outDir, created } = makeOutputDirTracked(p.out);
  for (const name of removeDeadStaging(outDir)) log(`removed ${join(outDir, name)}, left by an export that was killed`);
  const stage = mkdtempSync(join(outDir, `${STAGING_PREFIX}${process.pid}-`));
  const report = join(stage, 'report.html');
  const cancelled = () => {
    if (opts.signal?.aborted) throw new Error('cancelled');
  };
  try {
    const test = testImages(db, r.settings.testRunId);
    const batches = Math.ceil(test.paths.length / CHECK_BATCH);
    opts.progress?.(0, batches, 'writing the patched package');
    // The check input: the first test images, preprocessed as the model's manifest (stored in the lab) says.
    const { manifest } = db.prepare(`SELECT m.manifest FROM runs r JOIN models m ON m.id = r.model_id WHERE r.id = ?`).get(r.runId) as { manifest: string };
    const first = await decodeBatchCompacted(test.paths.slice(0, CHECK_BATCH), (JSON.parse(manifest) as ClassifierManifest).preprocess);
    const input = { data: first.tensor, n: first.ok.length };
    const attr = getAttribution(db, r.attributionId);
    const sets = [r.settings.individualSetId, ...(r.settings.randomSetId !== null ? [r.settings.randomSetId] : [])].map((id) => getGenerationSet(db, id));
    log(`writing the patched package to ${outDir}`);
    const exported = await exportPatchedHead({
      packageDir: r.model.dir,
      weight,
      bias,
      outDir: stage,
      input,
      name: `${r.model.name}-patched-${p.which}`,
      provenance: {
        debug_result: r.id,
        head: p.which,
        lambda: r.settings.lambda,
        optimizer: r.settings.optimizer,
        epochs: r.settings.epochs,
        seed: r.settings.seed,
        generator_sha256: sets[0]!.generatorSha256,
        clip_sha256: attr.clipSha256,
        accepted_images: p.which === 'individual' ? r.generated.individual : r.generated.random,
      },
    });
    cancelled();
    // The patched package on every test image: accuracy must be the evaluation's.
    const clf = await openClassifier(stage, { provider: 'cpu', verifyHash: true });
    let right = 0;
    let n = 0;
    try {
      for (let i = 0; i < test.paths.length; i += CHECK_BATCH) {
        cancelled();
        opts.progress?.(i / CHECK_BATCH, batches, `checking the patched model on the test images: ${i}/${test.paths.length}`);
        const batch = test.paths.slice(i, i + CHECK_BATCH);
        const { tensor, ok } = await decodeBatchCompacted(batch, clf.manifest.preprocess);
        if (!ok.length) continue;
        const { logits } = await clf.run(tensor, ok.length);
        const C = clf.manifest.head.num_classes;
        ok.forEach((j, row) => {
          let best = 0;
          for (let c = 1; c < C; c++) if (logits[row * C + c]! > logits[row * C + best]!) best = c;
          if (best === test.labels[i + j]) right++;
          n++;
        });
      }
    } finally {
      await clf.close();
    }
    const accuracy = n ? right / n : NaN;
    // Features stored by the run and recomputed here can differ in the last bits (batching), which
    // may flip a near-tie: allow two images or 0.2 %, whichever is more.
    const tolerance = Math.max(2 / Math.max(n, 1), 0.002);
    if (!(Math.abs(accuracy - evaluated) <= tolerance)) {
      throw new Error(`the patched model's test accuracy (${(100 * accuracy).toFixed(2)} % on ${n} images) does not match the evaluation (${(100 * evaluated).toFixed(2)} %)`);
    }
    const check = { images: n, accuracy, evaluated, logitsMaxAbsDiff: exported.check.logitsMaxAbsDiff };
    cancelled();
    writeFileSync(report, debugReportHtml({ result: r, sweep: sweepOf(db, r), attribution: attr, sets, exported: { which: p.which, onnxSha256: exported.onnxSha256, check } }));
    opts.progress?.(batches, batches, `checked on ${n} test images`);
    log(`patched model checked on ${n} test images: ${(100 * accuracy).toFixed(2)} % (evaluation ${(100 * evaluated).toFixed(2)} %)`);
    // Into place: the manifest last, so a package folder with a manifest is always a whole one.
    const final = (f: string) => join(outDir, basename(f));
    for (const f of [exported.onnx, exported.safetensors, exported.json, report, exported.manifest]) renameSync(f, final(f));
    rmSync(stage, { recursive: true, force: true });
    return { dir: outDir, onnx: final(exported.onnx), manifest: final(exported.manifest), safetensors: final(exported.safetensors), json: final(exported.json), report: final(report), onnxSha256: exported.onnxSha256, check };
  } catch (e) {
    rmSync(stage, { recursive: true, force: true });
    removeCreatedDirs(created);
    throw e;
  }
}


// Converting a registered model's package to fp16 (native-models/convert): a job of kind
// 'convert-fp16' that writes the converted package into the folder the user named, then registers it
// in the lab as a new model. The report is the package's own `fp16-conversion.json`, read back by
// `models.conversion`.
import { existsSync } from 'node:fs';
import { readFile, readdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Db } from '../store/database.ts';
import type { ModelConversion, ModelSummary } from '../../contract.ts';
import { loadModelPackage } from '../../../native-models/manifest/index.ts';
import { BadInputError, NotFoundError } from '../errors.ts';
import { getModel, registerPackage } from './model-registry.ts';

export const CONVERT_FP16_JOB = 'convert-fp16';
/** The converted package's report file (native-models/convert/convert-package.ts). */
const REPORT_FILE = 'fp16-conversion.json';
const MAX_CHECK_IMAGES = 16;

export interface ConvertFp16JobParams {
  modelId: number;
  /** Absolute output folder. */
  out: string;
  datasetId: number | null;
  maxRelError: number;
}

/** Checks what can be checked before a job is queued: the model exists, its package loads and is a
 * classifier or CLIP package, the dataset (if any) exists. The output folder is the job's to check. */
export async function checkConvertFp16(db: Db, p: { id: number; out: string; datasetId?: number }): Promise<ModelSummary> {
  const model = getModel(db, p.id);
  let kind: string;
  try {
    kind = (await loadModelPackage(model.dir)).manifest.kind;
  } catch (err) {
    throw new BadInputError(`model ${model.id} (${model.name}): its package does not load: ${(err as Error).message}`);
  }
  if (kind !== 'classifier' && kind !== 'clip') throw new BadInputError(`model ${model.id} (${model.name}) is a ${kind} package: only classifier and CLIP packages can be converted to fp16`);
  if (resolve(p.out) === resolve(model.dir)) throw new BadInputError(`${p.out}: the output folder must differ from the model's package folder`);
  if (p.datasetId !== undefined) {
    const ds = db.prepare(`SELECT id FROM datasets WHERE id = ?`).get(p.datasetId);
    if (!ds) throw new NotFoundError(`no dataset with id ${p.datasetId}`);
  }
  return model;
}

/** Up to `max` image files spread over the dataset (its files sorted by path, as the CLI sorts a folder). */
export function datasetCheckImages(db: Db, datasetId: number, max = MAX_CHECK_IMAGES): string[] {
  const rows = db
    .prepare(`SELECT d.root AS root, i.rel_path AS rel FROM images i JOIN datasets d ON d.id = i.dataset_id WHERE i.dataset_id = ? ORDER BY i.rel_path`)
    .all(datasetId) as { root: string; rel: string }[];
  const files = rows.map((r) => join(r.root, r.rel)).filter((f) => existsSync(f));
  if (files.length === 0) throw new BadInputError(`dataset ${datasetId}: none of its image files were found on disk`);
  const step = Math.max(1, files.length / max);
  return Array.from({ length: Math.min(max, files.length) }, (_, i) => files[Math.floor(i * step)]!);
}

async function readReport(dir: string): Promise<ModelConversion['report'] | null> {
  try {
    return JSON.parse(await readFile(join(dir, REPORT_FILE), 'utf8')) as ModelConversion['report'];
  } catch {
    return null;
  }
}

/** The job: converts, then registers the converted package. Run again after a crash, a finished
 * conversion of the same source in the output folder is registered as it is. */
export async function runConvertFp16(
  db: Db,
  p: ConvertFp16JobParams,
  progress: (done: number, total: number, message?: string) => void,
  signal: AbortSignal,
): Promise<ModelSummary> {
  const model = getModel(db, p.modelId);
  const out = resolve(p.out);
  const previous = await readReport(out);
  if (previous === null || resolve(previous.source) !== resolve(model.dir)) {
    const images = p.datasetId !== null ? datasetCheckImages(db, p.datasetId) : [];
    progress(0, 1, `converting ${model.name} to fp16 and checking it on ${images.length ? `${images.length} images of dataset #${p.datasetId}` : 'seeded noise'}`);
    const existedEmpty = existsSync(out) && (await readdir(out)).length === 0;
    const { convertPackageToFloat16 } = await import('../../../native-models/convert/convert-package.ts');
    await convertPackageToFloat16(model.dir, out, { images, maxRelError: p.maxRelError });
    if (signal.aborted) {
      // the conversion cannot stop half-way; a cancel removes what it wrote (the folder was empty or absent)
      if (existedEmpty) for (const f of await readdir(out)) await rm(join(out, f), { recursive: true, force: true });
      else await rm(out, { recursive: true, force: true });
      throw new Error('cancelled');
    }
  }
  progress(1, 1, 'registering the converted package');
  return registerPackage(db, out);
}

/** What a done conversion job produced: the new model and the package's report. */
export async function getConversion(db: Db, jobId: number): Promise<ModelConversion> {
  const row = db.prepare(`SELECT kind, status, params, result_ref FROM jobs WHERE id = ?`).get(jobId) as
    | { kind: string; status: string; params: string; result_ref: string | null }
    | undefined;
  if (!row || row.kind !== CONVERT_FP16_JOB || row.status !== 'done' || !row.result_ref?.startsWith('model:')) {
    throw new NotFoundError(`job ${jobId} is not a done fp16 conversion`);
  }
  const p = JSON.parse(row.params) as ConvertFp16JobParams;
  const modelId = Number(row.result_ref.slice('model:'.length));
  const report = await readReport(resolve(p.out));
  if (report === null) throw new NotFoundError(`${p.out}: the converted package's ${REPORT_FILE} is missing`);
  return { jobId, sourceModelId: p.modelId, modelId, out: resolve(p.out), report };
}

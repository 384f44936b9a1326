import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { basename, isAbsolute, join, relative, resolve, sep } from 'node:path';
import sharp from 'sharp';
import type { Db } from '../store/database.ts';
import { LabelSpace } from './label-space.ts';
import { whyNotAnImageName } from './image-files.ts';
import { parseCsv } from './parse-csv.ts';
import { walkFiles } from './walk-files.ts';

export interface ImportParams {
  root: string;
  name?: string;
  csv?: string;
  labels?: string;
  split?: string;
}

export interface ImportProgress {
  (done: number, total: number, message?: string): void;
}

interface Candidate {
  abs: string;
  rel: string;
  classIdx: number | null;
}

interface Accepted extends Candidate {
  bytes: number;
  sha256: string;
  width: number | null;
  height: number | null;
}

export interface ImportResult {
  datasetId: number;
  reused: boolean;
  numImages: number;
  numSkipped: number;
}

export class DatasetInputError extends Error {}

const CONCURRENCY = 8;

/** Imports an ImageNet-style folder (`<class>/<image>`) or a flat folder plus a CSV `file,label`.
 * Every file that is not imported is reported with the reason; images are never modified. */
export async function importDataset(db: Db, params: ImportParams, progress: ImportProgress, signal?: AbortSignal): Promise<ImportResult> {
  const root = resolve(params.root);
  let rootStat;
  try {
    rootStat = await stat(root);
  } catch (e) {
    throw new DatasetInputError(`dataset folder ${root} cannot be opened: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  if (!rootStat.isDirectory()) throw new DatasetInputError(`dataset root ${root} is not a folder`);

  progress(0, 0, 'listing files');
  const walked = await walkFiles(root);
  const skipped = walked.problems.map((p) => ({ path: p.rel, reason: p.reason }));

  const { space, candidates } = params.csv
    ? await candidatesFromCsv(root, resolve(params.csv), walked.files, params.labels, skipped)
    : candidatesFromFolders(walked.files, params.labels, skipped);

  const accepted: Accepted[] = [];
  let done = 0;
  let next = 0;
  async function worker(): Promise<void> {
    while (next < candidates.length) {
      if (signal?.aborted) return;
      const c = candidates[next++];
      const result = await inspectImage(c);
      if ('reason' in result) skipped.push({ path: c.rel, reason: result.reason });
      else accepted.push(result);
      done++;
      progress(done, candidates.length, c.rel);
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  if (signal?.aborted) throw new Error('cancelled');
  if (accepted.length === 0) {
    const why = skipped.slice(0, 5).map((s) => `${s.path}: ${s.reason}`).join('; ');
    throw new DatasetInputError(`no importable images under ${root}${why ? ` (${skipped.length} skipped, e.g. ${why})` : ''}`);
  }
  accepted.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
  skipped.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));

  const hash = createHash('sha256');
  for (const a of accepted) hash.update(`${a.rel}\t${a.classIdx ?? ''}\t${a.sha256}\n`);
  for (const c of space.classes) hash.update(`class\t${c.idx}\t${c.name}\t${c.wnid ?? ''}\n`);
  const contentHash = hash.digest('hex');

  const existing = db
    .prepare(`SELECT id FROM datasets WHERE root = ? AND content_hash = ? AND source = ? AND IFNULL(split, '') = ?`)
    .get(root, contentHash, params.csv ? 'csv' : 'folder', params.split ?? '') as { id: number } | undefined;
  if (existing) return { datasetId: existing.id, reused: true, numImages: accepted.length, numSkipped: skipped.length };

  const usedClasses = new Set(accepted.map((a) => a.classIdx));
  const name = params.name ?? basename(root);
  const datasetId = db.transaction(() => {
    const { id } = db
      .prepare(`INSERT INTO datasets (name, root, source, csv_path, split, content_hash) VALUES (?, ?, ?, ?, ?, ?) RETURNING id`)
      .get(name, root, params.csv ? 'csv' : 'folder', params.csv ? resolve(params.csv) : null, params.split ?? null, contentHash) as { id: number };
    const insClass = db.prepare(`INSERT INTO dataset_classes (dataset_id, idx, name, wnid) VALUES (?, ?, ?, ?)`);
    // A 1000-class space keeps every class so indices stay ImageNet's; others keep what is used.
    for (const c of space.classes) if (space.classes.length >= 1000 || usedClasses.has(c.idx)) insClass.run(id, c.idx, c.name, c.wnid);
    const insImage = db.prepare(
      `INSERT INTO images (dataset_id, rel_path, file_name, class_idx, bytes, sha256, width, height) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    for (const a of accepted) insImage.run(id, a.rel, basename(a.rel), a.classIdx, a.bytes, a.sha256, a.width, a.height);
    const insSkip = db.prepare(`INSERT INTO import_skips (dataset_id, path, reason) VALUES (?, ?, ?)`);
    for (const s of skipped) insSkip.run(id, s.path, s.reason);
    return id;
  }).immediate();
  return { datasetId, reused: false, numImages: accepted.length, numSkipped: skipped.length };
}

function candidatesFromFolders(files: { abs: string; rel: string }[], labelsFile: string | undefined, skipped: { path: string; reason: string }[]) {
  const folderOf = (rel: string) => (rel.includes(sep) ? rel.slice(0, rel.indexOf(sep)) : null);
  const folders = [...new Set(files.map((f) => folderOf(f.rel)).filter((x): x is string => x !== null))];
  if (folders.length === 0) {
    throw new DatasetInputError('no class folders found: an ImageNet-style dataset has one folder per class (<class>/<image>); for a flat folder give a CSV file,label');
  }
  const space = labelsFile ? LabelSpace.fromFile(resolve(labelsFile)) : LabelSpace.fromFolderNames(folders);
  const candidates: Candidate[] = [];
  for (const f of files) {
    const folder = folderOf(f.rel);
    if (folder === null) {
      skipped.push({ path: f.rel, reason: 'not inside a class folder' });
      continue;
    }
    const whyNot = whyNotAnImageName(f.rel);
    if (whyNot) {
      skipped.push({ path: f.rel, reason: whyNot });
      continue;
    }
    const classIdx = space.resolveName(folder);
    if (classIdx === null) {
      skipped.push({ path: f.rel, reason: `class folder "${folder}" is not in the labels file` });
      continue;
    }
    candidates.push({ ...f, classIdx });
  }
  return { space, candidates };
}

async function candidatesFromCsv(
  root: string,
  csvPath: string,
  files: { abs: string; rel: string }[],
  labelsFile: string | undefined,
  skipped: { path: string; reason: string }[],
) {
  let text: string;
  try {
    text = await readFile(csvPath, 'utf8');
  } catch (e) {
    throw new DatasetInputError(`cannot read label CSV ${csvPath}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const rows = parseCsv(text);
  if (rows.length > 0 && /^(file|file_?name|filename|path|image)$/i.test(rows[0].cells[0].trim())) rows.shift();
  const labels = rows.map((r) => (r.cells[1] ?? '').trim());
  let space: LabelSpace;
  if (labelsFile) space = LabelSpace.fromFile(resolve(labelsFile));
  else {
    const imagenet = LabelSpace.imagenet();
    const known = labels.filter((l) => l !== '' && imagenet.resolve(l) !== null).length;
    const numeric = labels.some((l) => /^\d+$/.test(l));
    // Mostly ImageNet labels (or indices, which only make sense against a known class list): ImageNet.
    space = known >= labels.length / 2 || numeric ? imagenet : new LabelSpace([...new Set(labels.filter(Boolean))].sort().map((name) => ({ name })));
  }
  const byRel = new Map(files.map((f) => [f.rel, f]));
  const listed = new Set<string>();
  const candidates: Candidate[] = [];
  for (const row of rows) {
    const file = (row.cells[0] ?? '').trim();
    const label = (row.cells[1] ?? '').trim();
    const where = `${relative(root, csvPath) || csvPath}:${row.line}`;
    if (!file) {
      skipped.push({ path: where, reason: 'CSV row has no file name' });
      continue;
    }
    const rel = isAbsolute(file) ? relative(root, file) : file.split('/').join(sep);
    listed.add(rel);
    const f = byRel.get(rel);
    if (!f) {
      skipped.push({ path: rel, reason: `listed in the CSV (line ${row.line}) but not found under ${root}` });
      continue;
    }
    const whyNot = whyNotAnImageName(rel);
    if (whyNot) {
      skipped.push({ path: rel, reason: whyNot });
      continue;
    }
    if (!label) {
      skipped.push({ path: rel, reason: `no label in the CSV (line ${row.line})` });
      continue;
    }
    const classIdx = space.resolve(label);
    if (classIdx === null) {
      skipped.push({ path: rel, reason: `unknown class "${label}" (CSV line ${row.line})` });
      continue;
    }
    candidates.push({ abs: f.abs, rel, classIdx });
  }
  for (const f of files) {
    if (!listed.has(f.rel) && resolve(f.abs) !== csvPath && !(labelsFile && resolve(f.abs) === resolve(labelsFile))) {
      skipped.push({ path: f.rel, reason: 'not listed in the CSV' });
    }
  }
  return { space, candidates };
}

async function inspectImage(c: Candidate): Promise<Accepted | { reason: string }> {
  let bytes: Buffer;
  try {
    bytes = await readFile(c.abs);
  } catch (e) {
    return { reason: `cannot read file: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` };
  }
  if (bytes.length === 0) return { reason: 'empty file (0 bytes)' };
  let width: number | null = null;
  let height: number | null = null;
  try {
    const meta = await sharp(bytes, { limitInputPixels: false }).metadata();
    width = meta.width ?? null;
    height = meta.height ?? null;
  } catch (e) {
    return { reason: `not a readable image: ${(e as Error).message}` };
  }
  return { ...c, bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex'), width, height };
}

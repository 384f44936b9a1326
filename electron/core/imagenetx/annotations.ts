// ImageNet-X annotations in the lab: import an official jsonl file (with its prototypical list and
// the metaclass mapping) as an annotation source, list sources, export a source back to jsonl.
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import type { Db } from '../store/database.ts';
import type { AnnotationImportResult, AnnotationSourceInfo, AnnotationSourceKind } from '../../contract.ts';
import { BadInputError, NotFoundError } from '../errors.ts';
import {
  formatAnnotationLine,
  isTopFactorFile,
  OFFICIAL_FORMAT,
  parseAnnotationFile,
  parseMetaclasses,
  parsePrototypes,
  type Annotation,
  type FileFormat,
  type LineError,
  type MetaclassRow,
} from './format.ts';

export interface ImportAnnotationsParams {
  file: string;
  source?: string;
  kind?: AnnotationSourceKind;
  /** Whether the file marks one top factor per line; by default from its name (`_top_factor.jsonl`). */
  top?: boolean;
  prototypical?: string;
  metaclasses?: string;
}

function readInput(path: string, what: string): string {
  const abs = resolve(path);
  if (!existsSync(abs) || !statSync(abs).isFile()) throw new BadInputError(`${what} not found: ${abs}`);
  return readFileSync(abs, 'utf8');
}

const fmtErrors = (errors: LineError[], max = 20) =>
  errors
    .slice(0, max)
    .map((e) => `${e.file}:${e.line}: ${e.reason}`)
    .join('\n') + (errors.length > max ? `\n... and ${errors.length - max} more` : '');

/** Reads and validates imagenet_1k_classes_to_100_metaclasses.csv; any bad row refuses the file
 * (rows are classes by position, so one left out would shift all that follow). */
export function readMetaclassFile(file: string): MetaclassRow[] {
  const path = resolve(file);
  const r = parseMetaclasses(readInput(path, 'metaclass mapping'), path);
  if (r.errors.length) throw new BadInputError(`bad metaclass mapping:\n${fmtErrors(r.errors)}`);
  if (r.rows.length === 0) throw new BadInputError(`bad metaclass mapping: no rows in ${path}`);
  return r.rows;
}

/** Replaces the lab's metaclass mapping (one per lab: it describes the ImageNet-1k label space). */
export function storeMetaclasses(db: Db, rows: MetaclassRow[]): void {
  db.transaction(() => {
    db.prepare(`DELETE FROM metaclasses`).run();
    const ins = db.prepare(`INSERT INTO metaclasses (class_idx, wnid, name, metaclass) VALUES (?, ?, ?, ?)`);
    for (const r of rows) ins.run(r.classIdx, r.wnid, r.name, r.metaclass);
  }).immediate();
}

export function loadMetaclasses(db: Db): MetaclassRow[] {
  return (db.prepare(`SELECT class_idx, wnid, name, metaclass FROM metaclasses ORDER BY class_idx`).all() as { class_idx: number; wnid: string; name: string; metaclass: number }[]).map(
    (r) => ({ classIdx: r.class_idx, wnid: r.wnid, name: r.name, metaclass: r.metaclass }),
  );
}

/** Imports a jsonl file as a new annotation source, in one transaction. Bad lines are reported and
 * skipped; a file with no good line, an existing source name, a missing or malformed prototypical
 * list or metaclass mapping are refused before anything is written. */
export function importAnnotations(db: Db, p: ImportAnnotationsParams): AnnotationImportResult {
  const file = resolve(p.file);
  const text = readInput(file, 'annotation file');
  const name = p.source ?? basename(file).replace(/\.jsonl$/i, '');
  if (db.prepare(`SELECT 1 FROM annotation_sources WHERE name = ?`).get(name)) {
    throw new BadInputError(`an annotation source named "${name}" already exists in this lab: choose another name`);
  }
  let prototypes: string[] = [];
  if (p.prototypical) {
    const path = resolve(p.prototypical);
    const r = parsePrototypes(readInput(path, 'prototypical file list'), path);
    if (r.errors.length) throw new BadInputError(`bad prototypical file list:\n${fmtErrors(r.errors)}`);
    prototypes = r.fileNames;
  }
  const metaclasses = p.metaclasses ? readMetaclassFile(p.metaclasses) : null;
  const parsed = parseAnnotationFile(text, file, { top: p.top ?? isTopFactorFile(file) });
  if (parsed.annotations.length === 0) {
    throw new BadInputError(`no valid annotation in ${file} (${parsed.lines} lines)${parsed.errors.length ? `:\n${fmtErrors(parsed.errors)}` : ''}`);
  }
  const sourceId = db.transaction(() => {
    const id = createSource(db, name, p.kind ?? 'imagenet-x-file', file, parsed.format);
    insertAnnotations(db, id, parsed.annotations);
    const insP = db.prepare(`INSERT OR IGNORE INTO annotation_prototypes (source_id, file_name) VALUES (?, ?)`);
    for (const f of prototypes) insP.run(id, f);
    if (metaclasses) storeMetaclasses(db, metaclasses);
    return id;
  }).immediate();
  return { source: getSource(db, sourceId), lines: parsed.lines, errors: parsed.errors, metaclasses: metaclasses?.length ?? null };
}

function createSource(db: Db, name: string, kind: AnnotationSourceKind, origin: string | null, format: FileFormat): number {
  return Number(
    db.prepare(`INSERT INTO annotation_sources (name, kind, origin, format) VALUES (?, ?, ?, ?)`).run(name, kind, origin, JSON.stringify(format)).lastInsertRowid,
  );
}

function insertAnnotations(db: Db, sourceId: number, annotations: Annotation[]): void {
  const imageOf = db.prepare(`SELECT id FROM images WHERE file_name = ? ORDER BY id DESC LIMIT 1`).pluck();
  const ins = db.prepare(
    `INSERT INTO annotations (source_id, line, file_name, image_id, class_idx, factors, top_factor, justification, one_word) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  annotations.forEach((a, i) => ins.run(sourceId, i, a.fileName, (imageOf.get(a.fileName) as number | undefined) ?? null, a.classIdx, a.factors, a.topFactor, a.justification, a.oneWord));
}

/** Links annotations that have no image yet to an image with the same file name (the newest), e.g.
 * after a dataset is imported; returns how many were linked. */
export function linkAnnotationImages(db: Db): number {
  return db
    .prepare(
      `UPDATE annotations SET image_id = (SELECT i.id FROM images i WHERE i.file_name = annotations.file_name ORDER BY i.id DESC LIMIT 1)
       WHERE image_id IS NULL AND EXISTS (SELECT 1 FROM images i WHERE i.file_name = annotations.file_name)`,
    )
    .run().changes;
}

interface SourceRow {
  id: number;
  name: string;
  kind: AnnotationSourceKind;
  origin: string | null;
  created_at: string;
  n: number;
  matched: number;
  prototypes: number;
}

const SOURCE_SQL = `
  SELECT s.id, s.name, s.kind, s.origin, s.created_at,
    (SELECT COUNT(*) FROM annotations a WHERE a.source_id = s.id) AS n,
    (SELECT COUNT(*) FROM annotations a WHERE a.source_id = s.id AND EXISTS (SELECT 1 FROM images i WHERE i.file_name = a.file_name)) AS matched,
    (SELECT COUNT(*) FROM annotation_prototypes p WHERE p.source_id = s.id) AS prototypes
  FROM annotation_sources s`;

function toInfo(r: SourceRow): AnnotationSourceInfo {
  return { id: r.id, name: r.name, kind: r.kind, origin: r.origin, numAnnotations: r.n, numMatchedImages: r.matched, numPrototypes: r.prototypes, createdAt: r.created_at };
}

export function listSources(db: Db): AnnotationSourceInfo[] {
  return (db.prepare(`${SOURCE_SQL} ORDER BY s.id`).all() as SourceRow[]).map(toInfo);
}

export function getSource(db: Db, id: number): AnnotationSourceInfo {
  const row = db.prepare(`${SOURCE_SQL} WHERE s.id = ?`).get(id) as SourceRow | undefined;
  if (!row) throw new NotFoundError(`no annotation source with id ${id}`);
  return toInfo(row);
}

export function findSourceByName(db: Db, name: string): AnnotationSourceInfo | null {
  const id = db.prepare(`SELECT id FROM annotation_sources WHERE name = ?`).pluck().get(name) as number | undefined;
  return id === undefined ? null : getSource(db, id);
}

export function sourceAnnotations(db: Db, sourceId: number): Annotation[] {
  getSource(db, sourceId);
  return (
    db.prepare(`SELECT file_name, class_idx, factors, top_factor, justification, one_word FROM annotations WHERE source_id = ? ORDER BY line`).all(sourceId) as {
      file_name: string;
      class_idx: number;
      factors: number;
      top_factor: Annotation['topFactor'];
      justification: string | null;
      one_word: string | null;
    }[]
  ).map((r) => ({ fileName: r.file_name, classIdx: r.class_idx, factors: r.factors, topFactor: r.top_factor, justification: r.justification, oneWord: r.one_word }));
}

export function prototypeSet(db: Db, sourceId: number): Set<string> {
  return new Set(db.prepare(`SELECT file_name FROM annotation_prototypes WHERE source_id = ?`).pluck().all(sourceId) as string[]);
}

/** The source's annotations as jsonl text, in their original order and the file's own layout. */
export function exportAnnotationsText(db: Db, sourceId: number): string {
  const fmtJson = db.prepare(`SELECT format FROM annotation_sources WHERE id = ?`).pluck().get(sourceId) as string | null | undefined;
  const format: FileFormat = fmtJson ? (JSON.parse(fmtJson) as FileFormat) : OFFICIAL_FORMAT;
  return sourceAnnotations(db, sourceId)
    .map((a) => `${formatAnnotationLine(a, format)}\n`)
    .join('');
}

export function exportAnnotations(db: Db, sourceId: number, out: string): { path: string; lines: number } {
  const text = exportAnnotationsText(db, sourceId);
  const path = resolve(out);
  try {
    writeFileSync(path, text);
  } catch (e) {
    throw new BadInputError(`cannot write ${path}: ${(e as Error).message}`);
  }
  return { path, lines: text ? text.split('\n').length - 1 : 0 };
}

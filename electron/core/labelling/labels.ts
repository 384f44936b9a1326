// Factor labels written in the lab: one annotation source of kind 'annotator' per annotator
// ("annotator:<name>"), one 'consensus' source written by review. Every change is one IMMEDIATE
// transaction that also stores the rows it replaced (label_edits), grouped into undo steps: a single
// label is one step, a bulk apply over a selection is one step.
import type { Db } from '../store/database.ts';
import type { AnnotatorInfo, ImageLabels, LabelRecord, LabelUndoResult } from '../../contract.ts';
import { IMAGENET_X_FACTORS, type ImageNetXFactor } from '../../../native-models/imagenet-x-factors.ts';
import { BadInputError, NotFoundError } from '../errors.ts';

export type LabelTarget = 'annotator' | 'consensus';

export const CONSENSUS_SOURCE = 'consensus';
export const annotatorSourceName = (name: string) => `annotator:${name}`;

export function maskOf(factors: readonly string[]): number {
  let m = 0;
  for (const f of factors) {
    const i = IMAGENET_X_FACTORS.indexOf(f as ImageNetXFactor);
    if (i < 0) throw new BadInputError(`unknown factor "${f}"`);
    m |= 1 << i;
  }
  return m;
}

export function factorsOf(mask: number): string[] {
  return IMAGENET_X_FACTORS.filter((_, i) => ((mask >> i) & 1) === 1);
}

/** An annotations row as stored (and as label_edits keeps it, JSON). */
export interface AnnotationRow {
  source_id: number;
  line: number;
  file_name: string;
  image_id: number | null;
  class_idx: number;
  factors: number;
  top_factor: string | null;
  justification: string | null;
  one_word: string | null;
  annotator: string | null;
  updated_at: string | null;
  seconds: number | null;
}

const COLS = 'source_id, line, file_name, image_id, class_idx, factors, top_factor, justification, one_word, annotator, updated_at, seconds';

export function toRecord(r: AnnotationRow): LabelRecord {
  return {
    imageId: r.image_id,
    fileName: r.file_name,
    sourceId: r.source_id,
    annotator: r.annotator,
    factors: factorsOf(r.factors),
    topFactor: r.top_factor,
    justification: r.justification,
    oneWord: r.one_word,
    seconds: r.seconds,
    updatedAt: r.updated_at,
  };
}

/** The source a target writes to; created on first use. */
export function labelSource(db: Db, target: LabelTarget, annotator: string, create = true): number | null {
  const name = target === 'consensus' ? CONSENSUS_SOURCE : annotatorSourceName(annotator);
  const kind = target === 'consensus' ? 'consensus' : 'annotator';
  const row = db.prepare(`SELECT id, kind FROM annotation_sources WHERE name = ?`).get(name) as { id: number; kind: string } | undefined;
  if (row) {
    if (row.kind !== kind) throw new BadInputError(`annotation source "${name}" exists with kind ${row.kind}, not ${kind}`);
    return row.id;
  }
  if (!create) return null;
  return Number(db.prepare(`INSERT INTO annotation_sources (name, kind, origin) VALUES (?, ?, 'labelling')`).run(name, kind).lastInsertRowid);
}

interface ImageInfo {
  id: number;
  file_name: string;
  class_idx: number | null;
}

function imageInfo(db: Db, imageId: number): ImageInfo {
  const r = db.prepare(`SELECT id, file_name, class_idx FROM images WHERE id = ?`).get(imageId) as ImageInfo | undefined;
  if (!r) throw new NotFoundError(`no image with id ${imageId}`);
  return r;
}

/** Prepared statements of one database, made once. */
class Stmts {
  readonly get;
  readonly upsert;
  readonly del;
  readonly group;
  readonly edit;
  constructor(db: Db) {
    this.get = db.prepare(`SELECT ${COLS} FROM annotations WHERE source_id = ? AND file_name = ?`);
    this.upsert = db.prepare(
      `INSERT INTO annotations (${COLS}) VALUES (@source_id, @line, @file_name, @image_id, @class_idx, @factors, @top_factor, @justification, @one_word, @annotator, @updated_at, @seconds)
       ON CONFLICT (source_id, file_name) DO UPDATE SET line = excluded.line, image_id = excluded.image_id, class_idx = excluded.class_idx, factors = excluded.factors,
         top_factor = excluded.top_factor, justification = excluded.justification, one_word = excluded.one_word, annotator = excluded.annotator,
         updated_at = excluded.updated_at, seconds = excluded.seconds`,
    );
    this.del = db.prepare(`DELETE FROM annotations WHERE source_id = ? AND file_name = ?`);
    this.group = db.prepare(`INSERT INTO label_edit_groups (actor, source_id, op, count) VALUES (?, ?, ?, ?)`);
    this.edit = db.prepare(`INSERT INTO label_edits (group_id, file_name, before, after) VALUES (?, ?, ?, ?)`);
  }
}
const stmtCache = new WeakMap<Db, Stmts>();
function stmts(db: Db): Stmts {
  let s = stmtCache.get(db);
  if (!s) stmtCache.set(db, (s = new Stmts(db)));
  return s;
}

const now = () => new Date().toISOString();

export interface SetLabelParams {
  imageId: number;
  annotator: string;
  target?: LabelTarget;
  factors: string[];
  topFactor?: string | null;
  justification?: string | null;
  oneWord?: string | null;
  seconds?: number;
}

/** Stores one image's label (replacing the previous one) as one undo step. */
export function setLabel(db: Db, p: SetLabelParams): LabelRecord {
  const target = p.target ?? 'annotator';
  const factors = maskOf(p.factors);
  const top = p.topFactor ?? null;
  if (top !== null && !IMAGENET_X_FACTORS.includes(top as ImageNetXFactor)) throw new BadInputError(`unknown factor "${top}"`);
  const s = stmts(db);
  return db
    .transaction(() => {
      const img = imageInfo(db, p.imageId);
      const sourceId = labelSource(db, target, p.annotator)!;
      const before = s.get.get(sourceId, img.file_name) as AnnotationRow | undefined;
      const after: AnnotationRow = {
        source_id: sourceId,
        line: img.id,
        file_name: img.file_name,
        image_id: img.id,
        class_idx: img.class_idx ?? 0,
        // the top factor is one of the image's factors
        factors: top !== null ? factors | (1 << IMAGENET_X_FACTORS.indexOf(top as ImageNetXFactor)) : factors,
        top_factor: top,
        justification: p.justification?.trim() ? p.justification : null,
        one_word: p.oneWord?.trim() ? p.oneWord.trim() : null,
        annotator: p.annotator,
        updated_at: now(),
        seconds: p.seconds ?? before?.seconds ?? null,
      };
      s.upsert.run(after);
      const groupId = Number(s.group.run(p.annotator, sourceId, target === 'consensus' ? 'consensus' : 'set', 1).lastInsertRowid);
      s.edit.run(groupId, img.file_name, before ? JSON.stringify(before) : null, JSON.stringify(after));
      return toRecord(after);
    })
    .immediate();
}

/** Sets or clears one factor on every selected image, as one undo step. Images whose label would
 * not change are left alone (and not in the step). A new label holds just that factor. */
export function bulkApply(db: Db, p: { imageIds: number[]; annotator: string; factor: string; value: boolean }): { changed: number; selected: number; groupId: number | null } {
  const bit = 1 << IMAGENET_X_FACTORS.indexOf(p.factor as ImageNetXFactor);
  if (bit < 1 || !IMAGENET_X_FACTORS.includes(p.factor as ImageNetXFactor)) throw new BadInputError(`unknown factor "${p.factor}"`);
  const ids = [...new Set(p.imageIds)];
  const s = stmts(db);
  const imgStmt = db.prepare(`SELECT id, file_name, class_idx FROM images WHERE id = ?`);
  return db
    .transaction(() => {
      const sourceId = labelSource(db, 'annotator', p.annotator)!;
      const groupId = Number(s.group.run(p.annotator, sourceId, p.value ? 'bulk-apply' : 'bulk-remove', 0).lastInsertRowid);
      let changed = 0;
      const t = now();
      const seen = new Set<string>();
      for (const id of ids) {
        const img = imgStmt.get(id) as ImageInfo | undefined;
        if (!img) throw new NotFoundError(`no image with id ${id}`);
        if (seen.has(img.file_name)) continue;
        seen.add(img.file_name);
        const before = s.get.get(sourceId, img.file_name) as AnnotationRow | undefined;
        if (!before && !p.value) continue;
        const old = before?.factors ?? 0;
        const factors = p.value ? old | bit : old & ~bit;
        if (before && factors === old) continue;
        const after: AnnotationRow = before
          ? { ...before, factors, top_factor: !p.value && before.top_factor === p.factor ? null : before.top_factor, annotator: p.annotator, updated_at: t }
          : { source_id: sourceId, line: img.id, file_name: img.file_name, image_id: img.id, class_idx: img.class_idx ?? 0, factors, top_factor: null, justification: null, one_word: null, annotator: p.annotator, updated_at: t, seconds: null };
        s.upsert.run(after);
        s.edit.run(groupId, img.file_name, before ? JSON.stringify(before) : null, JSON.stringify(after));
        changed++;
      }
      if (changed === 0) {
        db.prepare(`DELETE FROM label_edit_groups WHERE id = ?`).run(groupId);
        return { changed, selected: ids.length, groupId: null };
      }
      db.prepare(`UPDATE label_edit_groups SET count = ? WHERE id = ?`).run(changed, groupId);
      return { changed, selected: ids.length, groupId };
    })
    .immediate();
}

/** Undoes the actor's newest step on the target (their annotator source, or the consensus):
 * every row goes back to what it was before, in one transaction. */
export function undoLast(db: Db, p: { annotator: string; target?: LabelTarget }): LabelUndoResult {
  const target = p.target ?? 'annotator';
  const s = stmts(db);
  return db
    .transaction(() => {
      const sourceId = labelSource(db, target, p.annotator, false);
      if (sourceId === null) return { undone: null, restored: [] };
      const g = db.prepare(`SELECT id, op, count FROM label_edit_groups WHERE actor = ? AND source_id = ? AND undone = 0 ORDER BY id DESC LIMIT 1`).get(p.annotator, sourceId) as
        | { id: number; op: string; count: number }
        | undefined;
      if (!g) return { undone: null, restored: [] };
      const edits = db.prepare(`SELECT file_name, before FROM label_edits WHERE group_id = ?`).all(g.id) as { file_name: string; before: string | null }[];
      const restored: LabelUndoResult['restored'] = [];
      for (const e of edits) {
        if (e.before === null) {
          const cur = s.get.get(sourceId, e.file_name) as AnnotationRow | undefined;
          s.del.run(sourceId, e.file_name);
          restored.push({ imageId: cur?.image_id ?? null, fileName: e.file_name, label: null });
        } else {
          const row = JSON.parse(e.before) as AnnotationRow;
          s.upsert.run(row);
          restored.push({ imageId: row.image_id, fileName: e.file_name, label: toRecord(row) });
        }
      }
      db.prepare(`UPDATE label_edit_groups SET undone = 1 WHERE id = ?`).run(g.id);
      return { undone: { groupId: g.id, op: g.op, count: g.count }, restored };
    })
    .immediate();
}

export function listAnnotators(db: Db): AnnotatorInfo[] {
  const rows = db
    .prepare(
      `SELECT s.id, s.name, COUNT(a.file_name) AS n, AVG(a.seconds) AS mean_s, MAX(a.updated_at) AS last_at
       FROM annotation_sources s LEFT JOIN annotations a ON a.source_id = s.id WHERE s.kind = 'annotator' GROUP BY s.id ORDER BY s.name`,
    )
    .all() as { id: number; name: string; n: number; mean_s: number | null; last_at: string | null }[];
  return rows.map((r) => ({ name: r.name.replace(/^annotator:/, ''), sourceId: r.id, labelled: r.n, meanSeconds: r.mean_s, lastAt: r.last_at }));
}

/** Every label of an image: each annotator's, the consensus, and imported ones. */
export function imageLabels(db: Db, imageId: number): ImageLabels {
  const img = imageInfo(db, imageId);
  const rows = db
    .prepare(`SELECT a.*, s.kind, s.name AS source_name FROM annotations a JOIN annotation_sources s ON s.id = a.source_id WHERE a.file_name = ? ORDER BY s.kind, s.name`)
    .all(img.file_name) as (AnnotationRow & { kind: string; source_name: string })[];
  return {
    imageId,
    fileName: img.file_name,
    annotators: rows.filter((r) => r.kind === 'annotator').map(toRecord),
    consensus: rows.filter((r) => r.kind === 'consensus').map(toRecord)[0] ?? null,
    others: rows.filter((r) => r.kind !== 'annotator' && r.kind !== 'consensus').map((r) => ({ ...toRecord(r), sourceName: r.source_name })),
  };
}

// Review of generated images before anything trains on them: a person's accept / reject (one image
// or many), the CLIP pre-filter (accept when CLIP ranks the prompted class among its top r), and
// undo. Every change is logged per set with the previous verdicts, so undo restores them exactly.
import type { Db } from '../store/database.ts';
import type { Params } from '../../contract.ts';
import { BadInputError, NotFoundError } from '../errors.ts';

type Verdict = 'pending' | 'accepted' | 'rejected';

interface Change {
  id: number;
  from: Verdict;
  fromBy: string | null;
}

function requireSet(db: Db, setId: number): { status: string } {
  const s = db.prepare(`SELECT status FROM generation_sets WHERE id = ?`).get(setId) as { status: string } | undefined;
  if (!s) throw new NotFoundError(`no generation set with id ${setId}`);
  return s;
}

function apply(db: Db, setId: number, targets: { id: number; review: Verdict; reviewed_by: string | null }[], verdict: (r: { id: number }) => Verdict, by: string): number {
  const up = db.prepare(`UPDATE generated_images SET review = ?, reviewed_by = ? WHERE id = ?`);
  const changes: Change[] = [];
  db.transaction(() => {
    for (const t of targets) {
      const v = verdict(t);
      if (v === t.review && t.reviewed_by === by) continue;
      changes.push({ id: t.id, from: t.review, fromBy: t.reviewed_by });
      up.run(v, v === 'pending' ? null : by, t.id);
    }
    if (changes.length) db.prepare(`INSERT INTO generated_review_log (set_id, changes) VALUES (?, ?)`).run(setId, JSON.stringify(changes));
  }).immediate();
  return changes.length;
}

/** A person's verdict on some images of a set. */
export function reviewImages(db: Db, p: Params<'generation.review'>): { changed: number } {
  requireSet(db, p.setId);
  const placeholders = p.imageIds.map(() => '?').join(',');
  const rows = db
    .prepare(`SELECT id, review, reviewed_by FROM generated_images WHERE set_id = ? AND png_blob IS NOT NULL AND id IN (${placeholders})`)
    .all(p.setId, ...p.imageIds) as { id: number; review: Verdict; reviewed_by: string | null }[];
  if (rows.length !== new Set(p.imageIds).size) {
    const found = new Set(rows.map((r) => r.id));
    const missing = p.imageIds.filter((i) => !found.has(i));
    throw new BadInputError(`generation set ${p.setId} has no generated image ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ' ...' : ''}`);
  }
  return { changed: apply(db, p.setId, rows, () => p.verdict, p.by) };
}

/** The CLIP pre-filter: every image still pending is accepted when CLIP ranks its prompted class
 * among the top `maxRank` classes, else rejected. A person's verdicts are left alone. */
export function autoReview(db: Db, p: Params<'generation.autoReview'>): { accepted: number; rejected: number } {
  const s = requireSet(db, p.setId);
  if (s.status !== 'done') throw new BadInputError(`generation set ${p.setId} is ${s.status}: generate its images before reviewing them`);
  const rows = db
    .prepare(`SELECT id, review, reviewed_by, clip_rank FROM generated_images WHERE set_id = ? AND png_blob IS NOT NULL AND review = 'pending'`)
    .all(p.setId) as { id: number; review: Verdict; reviewed_by: string | null; clip_rank: number | null }[];
  const rank = new Map(rows.map((r) => [r.id, r.clip_rank]));
  const verdict = (r: { id: number }): Verdict => ((rank.get(r.id) ?? Infinity) < p.maxRank ? 'accepted' : 'rejected');
  apply(db, p.setId, rows, verdict, `clip-filter:top${p.maxRank}`);
  const accepted = rows.filter((r) => verdict(r) === 'accepted').length;
  return { accepted, rejected: rows.length - accepted };
}

/** Undoes the set's last review change (a person's or the filter's). */
export function undoReview(db: Db, setId: number): { restored: number } {
  requireSet(db, setId);
  const last = db.prepare(`SELECT id, changes FROM generated_review_log WHERE set_id = ? ORDER BY id DESC LIMIT 1`).get(setId) as { id: number; changes: string } | undefined;
  if (!last) throw new BadInputError(`generation set ${setId} has no review to undo`);
  const changes = JSON.parse(last.changes) as Change[];
  const up = db.prepare(`UPDATE generated_images SET review = ?, reviewed_by = ? WHERE id = ?`);
  db.transaction(() => {
    for (const c of changes) up.run(c.from, c.fromBy, c.id);
    db.prepare(`DELETE FROM generated_review_log WHERE id = ?`).run(last.id);
  }).immediate();
  return { restored: changes.length };
}

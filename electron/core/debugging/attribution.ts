// Background attribution (Chegini & Feizi 2023): a run's failures (the debug set) are split into
// seed and heldout; for each seed failure CLIP picks the most likely background from its class's
// list of uncommon backgrounds; per class the top-k backgrounds by votes become prompts. Plus a
// Domino-style description of each class's failures. Stored in SQLite (migration 3), resumable.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Db } from '../store/database.ts';
import type { AttributionBackground, AttributionClass, AttributionDetail, AttributionSummary, BackgroundClassList, Params } from '../../contract.ts';
import type { ClassifierManifest, ClipManifest } from '../../../native-models/manifest/index.ts';
import { loadModelPackage, sha256File } from '../../../native-models/manifest/index.ts';
import { decodeBatchCompacted } from '../../../native-models/preprocess/index.ts';
import { openClip, normalizeRows, type Clip } from '../../../native-models/clip/index.ts';
import { BadInputError, NotFoundError } from '../errors.ts';
import { resourcesDir as resourcesDirFor } from '../../../native-models/resources-dir.ts';
import { splitDebugSet } from './split.ts';
import { shapeworldPackageDir } from '../../../native-models/shapeworld/packages.ts';
import { chooseBackground, dominoScores, meanRows, tallyVotes } from './attribution-math.ts';
import {
  backgroundPrompt,
  checkPhrase,
  classList,
  generalPhrases,
  promptClassNames,
  setClassList,
  vocabularyFor,
  type VocabularyName,
} from './vocabulary.ts';

export interface AttributionJobParams {
  sessionId: number;
  provider?: 'auto' | 'cpu' | 'cuda' | 'webgpu';
}

type Progress = (done: number, total: number, message?: string) => void;

const BATCH = 64;
const DOMINO_TOP = 10;

interface SessionRow {
  id: number;
  run_id: number;
  clip_dir: string;
  clip_sha256: string;
  k: number;
  seed: number;
  vocabulary: VocabularyName;
  status: AttributionSummary['status'];
  message: string | null;
  created_at: string;
  finished_at: string | null;
}

interface BgRow {
  id: number;
  class_idx: number;
  position: number;
  phrase: string;
  origin: 'vocabulary' | 'added';
  embedding: Buffer | null;
  merged_into: number | null;
  dropped: number;
}

// ---- helpers ---------------------------------------------------------------------------------

export function f32ToBlob(v: Float32Array): Buffer {
  return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
}

export function blobToF32(b: Buffer): Float32Array {
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

function runLabels(db: Db, runId: number): { labels: ClassifierManifest['labels']; status: string; datasetId: number } {
  const row = db.prepare(`SELECT m.manifest, r.status, r.dataset_id FROM runs r JOIN models m ON m.id = r.model_id WHERE r.id = ?`).get(runId) as
    | { manifest: string; status: string; dataset_id: number }
    | undefined;
  if (!row) throw new NotFoundError(`no run with id ${runId}`);
  return { labels: (JSON.parse(row.manifest) as ClassifierManifest).labels, status: row.status, datasetId: row.dataset_id };
}

function getSession(db: Db, id: number): SessionRow {
  const s = db.prepare(`SELECT * FROM attribution_sessions WHERE id = ?`).get(id) as SessionRow | undefined;
  if (!s) throw new NotFoundError(`no attribution with id ${id}`);
  return s;
}

/** Checks that `dir` is a CLIP package; returns its absolute path and a content hash (manifest +
 * encoder hashes). Anything else is refused with a message that says what was found. */
export async function checkClipPackage(dir: string): Promise<{ dir: string; sha256: string; manifest: ClipManifest }> {
  const pkg = await loadModelPackage(resolve(dir), { verifyHash: false });
  if (pkg.manifest.kind !== 'clip') throw new BadInputError(`${pkg.dir} is not a CLIP package: its manifest.json has kind ${JSON.stringify(pkg.manifest.kind)}, attribution needs kind "clip"`);
  const m = pkg.manifest;
  const h = createHash('sha256').update(readFileSync(pkg.manifestPath));
  h.update(m.image_encoder.onnx_sha256 ?? (await sha256File(pkg.onnxFiles.image_encoder!.path)));
  h.update(m.text_encoder.onnx_sha256 ?? (await sha256File(pkg.onnxFiles.text_encoder!.path)));
  return { dir: pkg.dir, sha256: h.digest('hex'), manifest: m };
}

function failuresOf(db: Db, runId: number): { imageId: number; classIdx: number }[] {
  return (
    db.prepare(`SELECT image_id, true_class FROM predictions WHERE run_id = ? AND correct = 0 AND true_class IS NOT NULL ORDER BY image_id`).all(runId) as {
      image_id: number;
      true_class: number;
    }[]
  ).map((r) => ({ imageId: r.image_id, classIdx: r.true_class }));
}

// ---- start -----------------------------------------------------------------------------------

export interface StartResult {
  id: number;
  reused: boolean;
  /** The session has work left (a job is needed). */
  needsJob: boolean;
  nothingToAttribute: boolean;
}

/** Finds the session for (run, CLIP package, k, seed) or creates it: the stored seed/heldout split
 * and each class's background list. Bad input (k larger than a class's list) is refused before
 * anything is stored. */
export async function startAttribution(db: Db, p: Params<'attribution.start'>): Promise<StartResult> {
  const { labels, status } = runLabels(db, p.runId);
  if (status !== 'done') throw new BadInputError(`run ${p.runId} is ${status}: finish it before attributing its failures`);
  // "shapeworld": the embedded ShapeWorld CLIP (the demo's; the UI can name it without a path).
  const clip = await checkClipPackage(p.clip === 'shapeworld' ? shapeworldPackageDir('clip') : p.clip);
  const existing = db.prepare(`SELECT * FROM attribution_sessions WHERE run_id = ? AND clip_sha256 = ? AND k = ? AND seed = ?`).get(p.runId, clip.sha256, p.k, p.seed) as SessionRow | undefined;
  if (existing) {
    if (existing.clip_dir !== clip.dir) db.prepare(`UPDATE attribution_sessions SET clip_dir = ? WHERE id = ?`).run(clip.dir, existing.id);
    const nothing = (db.prepare(`SELECT COUNT(*) AS n FROM attribution_split WHERE session_id = ?`).get(existing.id) as { n: number }).n === 0;
    return { id: existing.id, reused: true, needsJob: existing.status !== 'done', nothingToAttribute: nothing };
  }
  const vocabulary = vocabularyFor(labels);
  const failures = failuresOf(db, p.runId);
  const split = splitDebugSet(failures, p.seed);
  const seedClasses = [...new Set(failures.filter((f) => split.get(f.imageId) === 'seed').map((f) => f.classIdx))].sort((a, b) => a - b);
  const lists = new Map<number, string[]>();
  for (const c of seedClasses) {
    const name = labels[c]?.name ?? `class ${c}`;
    const list = classList(db, vocabulary, c, name).phrases;
    if (list.length === 0) throw new BadInputError(`class "${name}" (${c}) has no backgrounds in the ${vocabulary} vocabulary`);
    if (p.k > list.length) throw new BadInputError(`k = ${p.k} is larger than the background list of class "${name}" (${c}): it has ${list.length} backgrounds`);
    lists.set(c, list);
  }
  const nothing = failures.length === 0;
  const id = db.transaction(() => {
    const row = db
      .prepare(`INSERT INTO attribution_sessions (run_id, clip_dir, clip_sha256, k, seed, vocabulary, status, message, finished_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`)
      .get(
        p.runId,
        clip.dir,
        clip.sha256,
        p.k,
        p.seed,
        vocabulary,
        nothing ? 'done' : 'pending',
        nothing ? `nothing to attribute: run ${p.runId} has no failures` : null,
        nothing ? new Date().toISOString() : null,
      ) as { id: number };
    const insSplit = db.prepare(`INSERT INTO attribution_split (session_id, image_id, class_idx, part) VALUES (?, ?, ?, ?)`);
    for (const f of failures) insSplit.run(row.id, f.imageId, f.classIdx, split.get(f.imageId)!);
    const insBg = db.prepare(`INSERT INTO attribution_backgrounds (session_id, class_idx, position, phrase, origin) VALUES (?, ?, ?, ?, 'vocabulary')`);
    for (const [c, list] of lists) list.forEach((phrase, i) => insBg.run(row.id, c, i, phrase));
    return row.id;
  }).immediate();
  return { id, reused: false, needsJob: !nothing, nothingToAttribute: nothing };
}

// ---- the job ---------------------------------------------------------------------------------

/** Backgrounds a failure can vote for: not dropped, embedded, and not merged into a dropped one. */
function activeCandidates(rows: BgRow[]): BgRow[] {
  const byId = new Map(rows.map((r) => [r.id, r]));
  return rows.filter((r) => !r.dropped && r.embedding !== null && !byId.get(rootOf(byId, r.id))!.dropped);
}

function rootOf(rows: Map<number, BgRow>, id: number): number {
  let cur = rows.get(id);
  for (let i = 0; cur && cur.merged_into !== null && i < 1000; i++) cur = rows.get(cur.merged_into);
  return cur?.id ?? id;
}

function classBackgrounds(db: Db, sessionId: number, classIdx: number): BgRow[] {
  return db.prepare(`SELECT * FROM attribution_backgrounds WHERE session_id = ? AND class_idx = ? ORDER BY position, id`).all(sessionId, classIdx) as BgRow[];
}

function textMatrix(rows: BgRow[], d: number): Float32Array {
  const m = new Float32Array(rows.length * d);
  rows.forEach((r, i) => m.set(blobToF32(r.embedding!), i * d));
  return m;
}

/** Recomputes each seed failure's choice of the class's (not dropped) backgrounds from the stored
 * embeddings: after an edit, a drop or an add changes what the failures vote for. */
function recomputeChoices(db: Db, sessionId: number, classIdx: number): void {
  const cands = activeCandidates(classBackgrounds(db, sessionId, classIdx));
  const imgs = db
    .prepare(
      `SELECT a.image_id, a.embedding FROM attribution_images a JOIN attribution_split s ON s.session_id = a.session_id AND s.image_id = a.image_id
       WHERE a.session_id = ? AND a.class_idx = ? AND s.part = 'seed' AND a.embedding IS NOT NULL`,
    )
    .all(sessionId, classIdx) as { image_id: number; embedding: Buffer }[];
  const up = db.prepare(`INSERT OR REPLACE INTO attribution_choices (session_id, image_id, class_idx, background_id, similarity) VALUES (?, ?, ?, ?, ?)`);
  if (!cands.length) {
    for (const im of imgs) up.run(sessionId, im.image_id, classIdx, null, null);
    return;
  }
  const d = blobToF32(cands[0]!.embedding!).length;
  const texts = textMatrix(cands, d);
  const idx = cands.map((_, i) => i);
  for (const im of imgs) {
    const c = chooseBackground(blobToF32(im.embedding), texts, d, idx);
    up.run(sessionId, im.image_id, classIdx, cands[c.index]!.id, c.similarity);
  }
}

async function encodePrompts(clip: Clip, prompts: string[]): Promise<Float32Array> {
  if (!prompts.length) return new Float32Array(0);
  return normalizeRows(await clip.encodeTexts(prompts), clip.embedDim) as Float32Array;
}

/** The attribution job: text embeddings of the background prompts, then image embeddings of the
 * seed failures (each one's chosen background stored with it) and of the rest of their classes'
 * images (for the Domino means), batch by batch in transactions, then the descriptions. A resumed
 * job skips the images already stored. */
export async function runAttribution(
  db: Db,
  params: AttributionJobParams,
  progress: Progress,
  signal: AbortSignal,
  onProvider?: (provider: string, fallbacks: { provider: string; reason: string }[]) => void,
): Promise<{ id: number }> {
  const s = getSession(db, params.sessionId);
  const { labels, datasetId } = runLabels(db, s.run_id);
  const names = promptClassNames(s.vocabulary, labels);
  const root = (db.prepare(`SELECT root FROM datasets WHERE id = ?`).get(datasetId) as { root: string }).root;
  const seedRows = db.prepare(`SELECT image_id, class_idx FROM attribution_split WHERE session_id = ? AND part = 'seed' ORDER BY image_id`).all(s.id) as {
    image_id: number;
    class_idx: number;
  }[];
  const classes = [...new Set(seedRows.map((r) => r.class_idx))].sort((a, b) => a - b);
  if (!seedRows.length) {
    db.prepare(`UPDATE attribution_sessions SET status = 'done', message = ?, finished_at = strftime('%Y-%m-%dT%H:%M:%fZ','now') WHERE id = ?`).run(
      `nothing to attribute: no seed failures in run ${s.run_id}`,
      s.id,
    );
    return { id: s.id };
  }
  const seedSet = new Set(seedRows.map((r) => r.image_id));
  const classSet = new Set(classes);
  // Seed failures first (the attribution proper), then the other images of those classes.
  const others = (
    db.prepare(`SELECT image_id, true_class FROM predictions WHERE run_id = ? AND true_class IS NOT NULL ORDER BY image_id`).all(s.run_id) as { image_id: number; true_class: number }[]
  ).filter((r) => classSet.has(r.true_class) && !seedSet.has(r.image_id));
  const order = [...seedRows.map((r) => ({ imageId: r.image_id, classIdx: r.class_idx })), ...others.map((r) => ({ imageId: r.image_id, classIdx: r.true_class }))];
  const stored = new Set((db.prepare(`SELECT image_id FROM attribution_images WHERE session_id = ?`).all(s.id) as { image_id: number }[]).map((r) => r.image_id));
  const todo = order.filter((o) => !stored.has(o.imageId));
  const total = order.length;
  let done = total - todo.length;
  progress(done, total, stored.size ? `resuming: ${stored.size} of ${total} images already embedded` : 'loading CLIP');
  db.prepare(`UPDATE attribution_sessions SET status = 'running', message = NULL WHERE id = ?`).run(s.id);

  const clip = await openClip(s.clip_dir, { provider: params.provider ?? 'auto', verifyHash: false });
  onProvider?.(clip.provider, clip.fallbacks);
  try {
    // Text embeddings of the background prompts not embedded yet.
    const pending = db.prepare(`SELECT id, class_idx, phrase FROM attribution_backgrounds WHERE session_id = ? AND embedding IS NULL ORDER BY id`).all(s.id) as {
      id: number;
      class_idx: number;
      phrase: string;
    }[];
    if (pending.length) {
      progress(done, total, `encoding ${pending.length} background prompts`);
      const emb = await encodePrompts(clip, pending.map((r) => backgroundPrompt(names[r.class_idx] ?? `class ${r.class_idx}`, r.phrase)));
      const d = clip.embedDim;
      const up = db.prepare(`UPDATE attribution_backgrounds SET embedding = ? WHERE id = ?`);
      db.transaction(() => pending.forEach((r, i) => up.run(f32ToBlob(emb.slice(i * d, (i + 1) * d)), r.id))).immediate();
    }
    const d = clip.embedDim;
    const texts = new Map<number, { rows: BgRow[]; m: Float32Array }>();
    for (const c of classes) {
      const rows = activeCandidates(classBackgrounds(db, s.id, c));
      texts.set(c, { rows, m: textMatrix(rows, d) });
    }
    const relPath = db.prepare(`SELECT rel_path FROM images WHERE id = ?`);
    const insImg = db.prepare(`INSERT OR REPLACE INTO attribution_images (session_id, image_id, class_idx, embedding, error) VALUES (?, ?, ?, ?, ?)`);
    const insChoice = db.prepare(`INSERT OR REPLACE INTO attribution_choices (session_id, image_id, class_idx, background_id, similarity) VALUES (?, ?, ?, ?, ?)`);
    progress(done, total, `embedding ${todo.length} images on ${clip.provider}`);
    for (let b = 0; b < todo.length; b += BATCH) {
      if (signal.aborted) break;
      const items = todo.slice(b, b + BATCH);
      const paths = items.map((it) => join(root, (relPath.get(it.imageId) as { rel_path: string }).rel_path));
      const { tensor, ok, errors } = await decodeBatchCompacted(paths, clip.manifest.preprocess);
      const emb = ok.length ? normalizeRows(await clip.encodeImages(tensor, ok.length), d) : new Float32Array(0);
      db.transaction(() => {
        ok.forEach((itemIdx, row) => {
          const it = items[itemIdx]!;
          const e = emb.slice(row * d, (row + 1) * d);
          insImg.run(s.id, it.imageId, it.classIdx, f32ToBlob(e), null);
          if (seedSet.has(it.imageId)) {
            const t = texts.get(it.classIdx)!;
            if (t.rows.length) {
              const c = chooseBackground(e, t.m, d, t.rows.map((_, i) => i));
              insChoice.run(s.id, it.imageId, it.classIdx, t.rows[c.index]!.id, c.similarity);
            }
          }
        });
        for (const e of errors) insImg.run(s.id, items[e.index]!.imageId, items[e.index]!.classIdx, null, e.error.message);
      }).immediate();
      done += items.length;
      progress(done, total);
    }
    if (signal.aborted) {
      db.prepare(`UPDATE attribution_sessions SET status = 'incomplete', message = 'cancelled; resume to continue' WHERE id = ?`).run(s.id);
      return { id: s.id };
    }

    // Domino-style descriptions: general phrases plus the class's own list, scored against the
    // direction from the class's mean image embedding to its seed failures' mean.
    progress(done, total, 'describing the failures of each class');
    const general = generalPhrases();
    const domino = new Map<number, { phrase: string; score: number }[]>();
    for (const c of classes) {
      const imgs = db.prepare(`SELECT image_id, embedding FROM attribution_images WHERE session_id = ? AND class_idx = ? AND embedding IS NOT NULL ORDER BY image_id`).all(s.id, c) as {
        image_id: number;
        embedding: Buffer;
      }[];
      if (!imgs.length) continue;
      const m = new Float32Array(imgs.length * d);
      imgs.forEach((r, i) => m.set(blobToF32(r.embedding), i * d));
      const fail = imgs.map((r, i) => (seedSet.has(r.image_id) ? i : -1)).filter((i) => i >= 0);
      if (!fail.length) continue;
      const phrases = [...new Set([...general, ...classBackgrounds(db, s.id, c).filter((r) => !r.dropped).map((r) => r.phrase)])];
      const t = await encodePrompts(clip, phrases.map((p) => backgroundPrompt(names[c] ?? `class ${c}`, p)));
      const scores = dominoScores(phrases, t, d, meanRows(m, fail, d), meanRows(m, imgs.map((_, i) => i), d));
      domino.set(c, scores.slice(0, DOMINO_TOP).map((x) => ({ phrase: x.phrase, score: Math.round(x.score * 1e5) / 1e5 })));
    }
    db.transaction(() => {
      const ins = db.prepare(`INSERT OR REPLACE INTO attribution_domino (session_id, class_idx, phrases) VALUES (?, ?, ?)`);
      for (const [c, list] of domino) ins.run(s.id, c, JSON.stringify(list));
      db.prepare(`UPDATE attribution_sessions SET status = 'done', message = NULL, finished_at = strftime('%Y-%m-%dT%H:%M:%fZ','now') WHERE id = ?`).run(s.id);
    }).immediate();
    progress(total, total, 'done');
  } catch (e) {
    if (signal.aborted) db.prepare(`UPDATE attribution_sessions SET status = 'incomplete', message = 'cancelled; resume to continue' WHERE id = ?`).run(s.id);
    else db.prepare(`UPDATE attribution_sessions SET status = 'failed', message = ? WHERE id = ?`).run(e instanceof Error ? e.message : String(e), s.id);
    throw e;
  } finally {
    await clip.close();
  }
  return { id: s.id };
}

// ---- queries ---------------------------------------------------------------------------------

function summary(db: Db, s: SessionRow, jobId: number | null): AttributionSummary {
  const counts = db.prepare(`SELECT COUNT(*) AS n, SUM(part = 'seed') AS seed, SUM(part = 'heldout') AS held FROM attribution_split WHERE session_id = ?`).get(s.id) as {
    n: number;
    seed: number | null;
    held: number | null;
  };
  const attributed = (db.prepare(`SELECT COUNT(*) AS n FROM attribution_choices WHERE session_id = ? AND background_id IS NOT NULL`).get(s.id) as { n: number }).n;
  return {
    id: s.id,
    runId: s.run_id,
    clipDir: s.clip_dir,
    clipSha256: s.clip_sha256,
    k: s.k,
    seed: s.seed,
    vocabulary: s.vocabulary,
    status: s.status,
    message: s.message,
    jobId,
    numFailures: counts.n,
    numSeed: counts.seed ?? 0,
    numHeldout: counts.held ?? 0,
    numAttributed: attributed,
    createdAt: s.created_at,
    finishedAt: s.finished_at,
  };
}

export function listAttributions(db: Db, runId: number | undefined, jobOf: (id: number) => number | null): AttributionSummary[] {
  const rows = (
    runId === undefined
      ? db.prepare(`SELECT * FROM attribution_sessions ORDER BY id DESC`).all()
      : db.prepare(`SELECT * FROM attribution_sessions WHERE run_id = ? ORDER BY id DESC`).all(runId)
  ) as SessionRow[];
  return rows.map((s) => summary(db, s, jobOf(s.id)));
}

export function getAttribution(db: Db, id: number, jobId: number | null = null): AttributionDetail {
  const s = getSession(db, id);
  const { labels } = runLabels(db, s.run_id);
  const names = promptClassNames(s.vocabulary, labels);
  const sum = summary(db, s, jobId);
  const perClass = db.prepare(`SELECT class_idx, SUM(part = 'seed') AS seed, SUM(part = 'heldout') AS held FROM attribution_split WHERE session_id = ? GROUP BY class_idx ORDER BY class_idx`).all(s.id) as {
    class_idx: number;
    seed: number;
    held: number;
  }[];
  const allBgs = db.prepare(`SELECT id, class_idx, position, phrase, origin, merged_into, dropped, NULL AS embedding FROM attribution_backgrounds WHERE session_id = ? ORDER BY class_idx, position, id`).all(s.id) as BgRow[];
  const choices = db.prepare(`SELECT image_id, class_idx, background_id, similarity FROM attribution_choices WHERE session_id = ? AND background_id IS NOT NULL`).all(s.id) as {
    image_id: number;
    class_idx: number;
    background_id: number;
    similarity: number;
  }[];
  const domino = new Map(
    (db.prepare(`SELECT class_idx, phrases FROM attribution_domino WHERE session_id = ?`).all(s.id) as { class_idx: number; phrases: string }[]).map((r) => [r.class_idx, JSON.parse(r.phrases)]),
  );
  const classes: AttributionClass[] = perClass.map((pc) => {
    const rows = allBgs.filter((r) => r.class_idx === pc.class_idx);
    const byId = new Map(rows.map((r) => [r.id, r]));
    const active = rows.filter((r) => !r.dropped && r.merged_into === null);
    const votes = choices.filter((c) => c.class_idx === pc.class_idx).map((c) => ({ imageId: c.image_id, background: rootOf(byId, c.background_id), similarity: c.similarity }));
    const tallies = tallyVotes(votes, active.map((r) => r.id));
    const name = labels[pc.class_idx]?.name ?? `class ${pc.class_idx}`;
    let rank = 0;
    const backgrounds: AttributionBackground[] = tallies
      .filter((t) => byId.has(t.background) && !byId.get(t.background)!.dropped)
      .map((t) => {
        const r = byId.get(t.background)!;
        const top = t.votes > 0 && rank++ < s.k;
        return {
          id: r.id,
          phrase: r.phrase,
          prompt: backgroundPrompt(names[pc.class_idx] ?? name, r.phrase),
          origin: r.origin,
          votes: t.votes,
          meanSimilarity: t.votes ? Math.round(t.meanSimilarity * 1e5) / 1e5 : null,
          imageIds: t.imageIds,
          mergedFrom: rows.filter((x) => x.id !== r.id && !x.dropped && x.merged_into !== null && rootOf(byId, x.id) === r.id).map((x) => x.phrase),
          top,
        };
      });
    return { classIdx: pc.class_idx, name, numSeed: pc.seed, numHeldout: pc.held, backgrounds, domino: domino.get(pc.class_idx) ?? [] };
  });
  const edits = (
    db.prepare(`SELECT id, class_idx, op, detail, created_at FROM attribution_edits WHERE session_id = ? AND undone = 0 ORDER BY id`).all(s.id) as {
      id: number;
      class_idx: number;
      op: string;
      detail: string;
      created_at: string;
    }[]
  ).map((e) => ({ id: e.id, classIdx: e.class_idx, op: e.op, detail: e.detail, createdAt: e.created_at }));
  return { ...sum, nothingToAttribute: sum.numFailures === 0, classes, edits };
}

// ---- edits -----------------------------------------------------------------------------------

type EditParams = Params<'attribution.editBackgrounds'>;

/** rename / merge / drop / add one class's backgrounds; logged with the state before, so that
 * undo restores it. `encode` embeds a new phrase's prompt (add only). */
export async function editBackgrounds(db: Db, p: EditParams, encode: (prompt: string) => Promise<Float32Array>): Promise<void> {
  const s = getSession(db, p.id);
  if (s.status !== 'done') throw new BadInputError(`attribution ${s.id} is ${s.status}: edit its backgrounds once it is done`);
  const { labels } = runLabels(db, s.run_id);
  const names = promptClassNames(s.vocabulary, labels);
  const className = labels[p.classIdx]?.name ?? `class ${p.classIdx}`;
  const rows = classBackgrounds(db, s.id, p.classIdx);
  if (!rows.length) throw new BadInputError(`attribution ${s.id} has no backgrounds for class ${p.classIdx} ("${className}"): it has no seed failures`);
  const active = rows.filter((r) => !r.dropped && r.merged_into === null);
  const find = (phrase: string) => {
    const r = active.find((x) => x.phrase === phrase);
    if (!r) throw new BadInputError(`class "${className}" has no background ${JSON.stringify(phrase)} (it has: ${active.map((x) => x.phrase).join(', ')})`);
    return r;
  };
  const checkNew = (phrase: string) => {
    const bad = checkPhrase(phrase);
    if (bad) throw new BadInputError(bad);
    if (active.some((x) => x.phrase === phrase)) throw new BadInputError(`class "${className}" already has the background ${JSON.stringify(phrase)}`);
  };
  let embedding: Float32Array | null = null;
  let detail: string;
  if (p.op === 'add') {
    const phrase = p.phrase.trim();
    checkNew(phrase);
    embedding = await encode(backgroundPrompt(names[p.classIdx] ?? className, phrase));
    detail = `add "${phrase}"`;
  } else if (p.op === 'rename') {
    find(p.background);
    checkNew(p.to.trim());
    detail = `rename "${p.background}" to "${p.to.trim()}"`;
  } else if (p.op === 'merge') {
    find(p.into);
    for (const b of p.backgrounds) {
      find(b);
      if (b === p.into) throw new BadInputError(`cannot merge ${JSON.stringify(b)} into itself`);
    }
    detail = `merge ${p.backgrounds.map((b) => `"${b}"`).join(', ')} into "${p.into}"`;
  } else {
    find(p.background);
    if (active.length <= 1) throw new BadInputError(`cannot drop ${JSON.stringify(p.background)}: it is the last background of class "${className}"`);
    detail = `drop "${p.background}"`;
  }
  const before = JSON.stringify(rows.map((r) => ({ id: r.id, phrase: r.phrase, merged_into: r.merged_into, dropped: r.dropped })));
  db.transaction(() => {
    if (p.op === 'add') {
      const pos = Math.max(...rows.map((r) => r.position)) + 1;
      db.prepare(`INSERT INTO attribution_backgrounds (session_id, class_idx, position, phrase, origin, embedding) VALUES (?, ?, ?, ?, 'added', ?)`).run(s.id, p.classIdx, pos, p.phrase.trim(), f32ToBlob(embedding!));
    } else if (p.op === 'rename') {
      db.prepare(`UPDATE attribution_backgrounds SET phrase = ? WHERE id = ?`).run(p.to.trim(), find(p.background).id);
    } else if (p.op === 'merge') {
      const into = find(p.into).id;
      for (const b of p.backgrounds) db.prepare(`UPDATE attribution_backgrounds SET merged_into = ? WHERE id = ?`).run(into, find(b).id);
    } else {
      db.prepare(`UPDATE attribution_backgrounds SET dropped = 1 WHERE id = ?`).run(find(p.background).id);
    }
    db.prepare(`INSERT INTO attribution_edits (session_id, class_idx, op, detail, before) VALUES (?, ?, ?, ?, ?)`).run(s.id, p.classIdx, p.op, detail, before);
    recomputeChoices(db, s.id, p.classIdx);
  }).immediate();
}

/** Undoes the session's latest edit not yet undone. */
export function undoEdit(db: Db, id: number): void {
  const s = getSession(db, id);
  const edit = db.prepare(`SELECT id, class_idx, before FROM attribution_edits WHERE session_id = ? AND undone = 0 ORDER BY id DESC LIMIT 1`).get(s.id) as
    | { id: number; class_idx: number; before: string }
    | undefined;
  if (!edit) throw new BadInputError(`attribution ${s.id} has no edit to undo`);
  const before = JSON.parse(edit.before) as { id: number; phrase: string; merged_into: number | null; dropped: number }[];
  db.transaction(() => {
    const keep = new Set(before.map((b) => b.id));
    const rows = classBackgrounds(db, s.id, edit.class_idx);
    for (const r of rows) {
      if (keep.has(r.id)) continue;
      db.prepare(`UPDATE attribution_choices SET background_id = NULL WHERE session_id = ? AND background_id = ?`).run(s.id, r.id);
      db.prepare(`DELETE FROM attribution_backgrounds WHERE id = ?`).run(r.id);
    }
    const up = db.prepare(`UPDATE attribution_backgrounds SET phrase = ?, merged_into = ?, dropped = ? WHERE id = ?`);
    for (const b of before) up.run(b.phrase, b.merged_into, b.dropped, b.id);
    db.prepare(`UPDATE attribution_edits SET undone = 1 WHERE id = ?`).run(edit.id);
    recomputeChoices(db, s.id, edit.class_idx);
  }).immediate();
}

/** Opens the session's CLIP package just to embed one prompt (normalised). */
export async function encodeWithSessionClip(db: Db, id: number, prompt: string): Promise<Float32Array> {
  const s = getSession(db, id);
  const clip = await openClip(s.clip_dir, { verifyHash: false });
  try {
    return await encodePrompts(clip, [prompt]);
  } finally {
    await clip.close();
  }
}

// ---- the lab's own class lists ---------------------------------------------------------------

export function backgroundClassList(db: Db, runId: number, classIdx: number): BackgroundClassList {
  const { labels } = runLabels(db, runId);
  if (classIdx >= labels.length) throw new BadInputError(`run ${runId}'s model has ${labels.length} classes, no class ${classIdx}`);
  const vocabulary = vocabularyFor(labels);
  const className = labels[classIdx]!.name;
  const l = classList(db, vocabulary, classIdx, className);
  return { runId, classIdx, className, vocabulary, phrases: l.phrases, overridden: l.overridden };
}

export function setBackgroundClassList(db: Db, p: Params<'backgrounds.setClassList'>): BackgroundClassList {
  const { labels } = runLabels(db, p.runId);
  if (p.classIdx >= labels.length) throw new BadInputError(`run ${p.runId}'s model has ${labels.length} classes, no class ${p.classIdx}`);
  let phrases: string[] | null = null;
  if (p.phrases) {
    phrases = p.phrases.map((x) => x.trim());
    for (const x of phrases) {
      const bad = checkPhrase(x);
      if (bad) throw new BadInputError(bad);
    }
    if (new Set(phrases).size !== phrases.length) throw new BadInputError('the list has a phrase twice');
  }
  setClassList(db, vocabularyFor(labels), labels[p.classIdx]!.name, phrases);
  return backgroundClassList(db, p.runId, p.classIdx);
}

// ---- ground truth (ShapeWorld) ---------------------------------------------------------------

export interface BackgroundAgreement {
  /** Seed failures with a chosen background and a ground-truth background. */
  seedFailures: number;
  /** Chosen background = the image's true background. */
  matched: number;
  share: number;
  /** Seed failures whose true background is in their class's list (the others cannot match). */
  inList: number;
  matchedInList: number;
  shareInList: number | null;
  /** Mean over the seed failures of 1 / (length of their class's list): a uniform random pick. */
  chance: number;
}

/** When the run's dataset folder has ShapeWorld's scenes.jsonl: how often CLIP's chosen background
 * is the true one. Null for other datasets. */
export function shapeworldAgreement(db: Db, id: number): BackgroundAgreement | null {
  const s = getSession(db, id);
  const { datasetId } = runLabels(db, s.run_id);
  const root = (db.prepare(`SELECT root FROM datasets WHERE id = ?`).get(datasetId) as { root: string }).root;
  let text: string;
  try {
    text = readFileSync(join(root, 'scenes.jsonl'), 'utf8');
  } catch {
    return null;
  }
  const phraseOf = new Map(JSON.parse(readFileSync(join(resourcesDirFor(), 'shapeworld', 'backgrounds.json'), 'utf8')).backgrounds.map((b: { name: string; phrase: string }) => [b.name, b.phrase]));
  const truth = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const r = JSON.parse(line) as { file: string; background: string };
    truth.set(r.file, phraseOf.get(r.background) as string);
  }
  const rows = db
    .prepare(
      `SELECT c.image_id, c.class_idx, c.background_id, i.rel_path FROM attribution_choices c JOIN images i ON i.id = c.image_id
       WHERE c.session_id = ? AND c.background_id IS NOT NULL`,
    )
    .all(s.id) as { image_id: number; class_idx: number; background_id: number; rel_path: string }[];
  const bgs = db.prepare(`SELECT id, class_idx, position, phrase, origin, merged_into, dropped, NULL AS embedding FROM attribution_backgrounds WHERE session_id = ?`).all(s.id) as BgRow[];
  const byId = new Map(bgs.map((b) => [b.id, b]));
  let n = 0;
  let matched = 0;
  let inList = 0;
  let matchedInList = 0;
  let chance = 0;
  for (const r of rows) {
    const t = truth.get(r.rel_path.split('\\').join('/'));
    if (t === undefined) continue;
    n++;
    const list = bgs.filter((b) => b.class_idx === r.class_idx && !b.dropped && b.merged_into === null).map((b) => b.phrase);
    chance += 1 / Math.max(1, list.length);
    const chosen = byId.get(rootOf(byId, r.background_id))!.phrase;
    const ok = chosen === t;
    if (ok) matched++;
    if (list.includes(t)) {
      inList++;
      if (ok) matchedInList++;
    }
  }
  return { seedFailures: n, matched, share: n ? matched / n : 0, inList, matchedInList, shareInList: inList ? matchedInList / inList : null, chance: n ? chance / n : 0 };
}

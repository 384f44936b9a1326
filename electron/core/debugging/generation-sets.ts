// Generation sets (Chegini & Feizi): the images the head is patched with. For an attribution,
// 'individual' = n images per top background of each class ("a photo of a {class} {background}");
// 'random' = the same number of images per class from the class name alone ("a photo of a {class}"),
// the paper's random-debugging baseline. Rows are planned up front (prompt, seed) so a job can
// resume where it stopped; each generated image gets the run's classifier features and CLIP's
// zero-shot opinion of its class (the review filter).
import { resolve } from 'node:path';
import type { Db } from '../store/database.ts';
import type { BlobStore } from '../store/blob-store.ts';
import type { GeneratedImageRow, GenerationSetDetail, GenerationSetSummary, Page, Params } from '../../contract.ts';
import type { ClassifierManifest } from '../../../native-models/manifest/index.ts';
import { DiffusionPipeline, readDiffusionLayout } from '../../../native-models/diffusion/index.ts';
import { hashDiffusionModel } from '../../../native-models/diffusion/generate-files.ts';
import { openClassifier } from '../../../native-models/classifier/index.ts';
import { openClip, zeroShotClassifier } from '../../../native-models/clip/index.ts';
import { decodeBatch } from '../../../native-models/preprocess/index.ts';
import { shapeworldPackageDir } from '../../../native-models/shapeworld/packages.ts';
import { BadInputError, NotFoundError } from '../errors.ts';
import { getAttribution } from './attribution.ts';
import { backgroundPrompt, promptClassNames, type VocabularyName } from './vocabulary.ts';
import { f32ToBlob } from './attribution.ts';
import { scoreGenerated } from './score-generated.ts';
import { getDiscovery } from '../discovery/discovery-report.ts';

type Progress = (done: number, total: number, message?: string) => void;

export interface GenerationJobParams {
  setId: number;
  provider?: 'auto' | 'cpu' | 'cuda' | 'webgpu';
}

interface SetRow {
  id: number;
  attribution_id: number;
  pooled_from: string;
  kind: 'individual' | 'random';
  diffusion_dir: string;
  diffusion_sha256: string;
  per_prompt: number;
  steps: number;
  guidance: number;
  seed: number;
  status: GenerationSetSummary['status'];
  message: string | null;
  created_at: string;
  finished_at: string | null;
}

interface PlannedImage {
  promptIndex: number;
  sample: number;
  classIdx: number;
  prompt: string;
  background: string | null;
}

/** What a set's prompts come from, as stored in generation_sets.pooled_from: '' (its attribution's
 * top backgrounds), a JSON array of attribution ids pooled with it (collective debugging, type 1), or
 * 'discovery:<session id>' (the confirmed failure modes of a discovery session, as prompts). */
export function setSource(pooledFrom: string): { pooled: number[]; discoveryId: number | null } {
  if (pooledFrom.startsWith('discovery:')) return { pooled: [], discoveryId: Number(pooledFrom.slice('discovery:'.length)) };
  return { pooled: pooledFrom ? (JSON.parse(pooledFrom) as number[]) : [], discoveryId: null };
}

/** The zero-shot templates of the review filter (CLIP's class opinion of a generated image). */
export const FILTER_TEMPLATES = ['a photo of a {}', 'a photo of the {}'];

function getSet(db: Db, id: number): SetRow {
  const s = db.prepare(`SELECT * FROM generation_sets WHERE id = ?`).get(id) as SetRow | undefined;
  if (!s) throw new NotFoundError(`no generation set with id ${id}`);
  return s;
}

function attributionContext(db: Db, attributionId: number) {
  const row = db
    .prepare(
      `SELECT a.run_id, a.clip_dir, a.vocabulary, m.dir AS model_dir, m.manifest FROM attribution_sessions a JOIN runs r ON r.id = a.run_id JOIN models m ON m.id = r.model_id WHERE a.id = ?`,
    )
    .get(attributionId) as { run_id: number; clip_dir: string; vocabulary: VocabularyName; model_dir: string; manifest: string } | undefined;
  if (!row) throw new NotFoundError(`no attribution with id ${attributionId}`);
  const labels = (JSON.parse(row.manifest) as ClassifierManifest).labels;
  return { runId: row.run_id, clipDir: row.clip_dir, modelDir: row.model_dir, names: promptClassNames(row.vocabulary, labels) };
}

/** Per class, its top k backgrounds by votes: one attribution's own top k, or (collective debugging,
 * type 1) the top k of the votes of several attributions summed, as if their failures were pooled. */
export function topBackgrounds(db: Db, attributionIds: readonly number[]): Map<number, { name: string; phrases: string[] }> {
  const details = attributionIds.map((id) => getAttribution(db, id));
  for (const d of details) if (d.status !== 'done') throw new BadInputError(`attribution ${d.id} is ${d.status}: finish it before generating images`);
  const top = new Map<number, { name: string; phrases: string[] }>();
  if (details.length === 1) {
    for (const c of details[0]!.classes) {
      const phrases = c.backgrounds.filter((b) => b.top).map((b) => b.phrase);
      if (phrases.length) top.set(c.classIdx, { name: c.name, phrases });
    }
    return top;
  }
  const k = details[0]!.k;
  if (details.some((d) => d.k !== k)) throw new BadInputError(`pooled attributions must have the same k: ${details.map((d) => `#${d.id} k ${d.k}`).join(', ')}`);
  const votes = new Map<number, { name: string; byPhrase: Map<string, { votes: number; first: number }> }>();
  for (const d of details) {
    for (const c of d.classes) {
      const entry = votes.get(c.classIdx) ?? { name: c.name, byPhrase: new Map() };
      c.backgrounds.forEach((b, i) => {
        const v = entry.byPhrase.get(b.phrase) ?? { votes: 0, first: Infinity };
        entry.byPhrase.set(b.phrase, { votes: v.votes + b.votes, first: Math.min(v.first, i) });
      });
      votes.set(c.classIdx, entry);
    }
  }
  for (const [c, e] of [...votes].sort((a, b) => a[0] - b[0])) {
    const phrases = [...e.byPhrase]
      .filter(([, v]) => v.votes > 0)
      .sort((a, b) => b[1].votes - a[1].votes || a[1].first - b[1].first)
      .slice(0, k)
      .map(([p]) => p);
    if (phrases.length) top.set(c, { name: e.name, phrases });
  }
  return top;
}

/** Individual: one prompt per top background of each class, n images each. Random: one class-name
 * prompt per such class with as many images as the class's individual prompts have together. */
export function planImages(db: Db, attributionIds: readonly number[], kind: 'individual' | 'random', perPrompt: number): PlannedImage[] {
  const top = topBackgrounds(db, attributionIds);
  const { names } = attributionContext(db, attributionIds[0]!);
  const out: PlannedImage[] = [];
  let promptIndex = 0;
  for (const [classIdx, t] of top) {
    const name = names[classIdx] ?? t.name;
    if (kind === 'individual') {
      for (const phrase of t.phrases) {
        for (let j = 0; j < perPrompt; j++) out.push({ promptIndex, sample: j, classIdx, prompt: backgroundPrompt(name, phrase), background: phrase });
        promptIndex++;
      }
    } else {
      for (let j = 0; j < perPrompt * t.phrases.length; j++) out.push({ promptIndex, sample: j, classIdx, prompt: backgroundPrompt(name, '').trimEnd(), background: null });
      promptIndex++;
    }
  }
  if (!out.length) throw new BadInputError(`attribution ${attributionIds.join(' + ')} chose no backgrounds (no seed failures, or every background dropped): nothing to generate`);
  return out;
}

/** A set from a discovery session: n images per confirmed hypothesis, its prompt as the discovery
 * confirmed it ("a photo of a {class} {mode}"), the mode's words in the background column. The
 * session must be of the attribution's model, so the stored features fit its head. */
function planDiscoveredModes(db: Db, attributionId: number, discoveryId: number, perPrompt: number): PlannedImage[] {
  const attributed = db.prepare(`SELECT r.model_id FROM attribution_sessions a JOIN runs r ON r.id = a.run_id WHERE a.id = ?`).get(attributionId) as { model_id: number } | undefined;
  if (!attributed) throw new NotFoundError(`no attribution with id ${attributionId}`);
  const report = getDiscovery(db, discoveryId, null);
  if (report.modelId !== attributed.model_id) throw new BadInputError(`discovery session ${discoveryId} probed ${report.modelName}, not the model of attribution ${attributionId}'s run: its modes would patch another head`);
  if (report.stage !== 'done') throw new BadInputError(`discovery session ${discoveryId} is not done (stage ${report.stage})`);
  const confirmed = report.hypotheses.filter((h) => h.status === 'confirmed');
  if (!confirmed.length) throw new BadInputError(`discovery session ${discoveryId} confirmed no failure mode at α ${report.alpha}: nothing to generate`);
  return confirmed.flatMap((h, promptIndex) => Array.from({ length: perPrompt }, (_, sample) => ({ promptIndex, sample, classIdx: h.classIdx, prompt: h.prompt, background: h.clusterName })));
}

/** The attributions pooled with `attributionId` must be of runs on the same dataset with the same classes. */
function checkPool(db: Db, attributionId: number, others: readonly number[]): number[] {
  const ids = [attributionId, ...others.filter((o) => o !== attributionId)];
  const rows = ids.map((id) => {
    const r = db
      .prepare(`SELECT a.id, r.dataset_id, m.manifest FROM attribution_sessions a JOIN runs r ON r.id = a.run_id JOIN models m ON m.id = r.model_id WHERE a.id = ?`)
      .get(id) as { id: number; dataset_id: number; manifest: string } | undefined;
    if (!r) throw new NotFoundError(`no attribution with id ${id}`);
    return { id, dataset: r.dataset_id, labels: (JSON.parse(r.manifest) as ClassifierManifest).labels.map((l) => l.name).join('\u0000') };
  });
  for (const r of rows.slice(1)) {
    if (r.dataset !== rows[0]!.dataset) throw new BadInputError(`attribution ${r.id} is of a run on another dataset than attribution ${attributionId}: pool failures of one dataset`);
    if (r.labels !== rows[0]!.labels) throw new BadInputError(`attribution ${r.id} is of a model with other classes than attribution ${attributionId}'s: a pooled set must suit every model`);
  }
  return ids;
}

export function resolveDiffusionDir(dir: string): string {
  return dir === 'shapeworld' ? shapeworldPackageDir('diffusion') : resolve(dir);
}

/** Finds or creates the set for (attribution, kind, model, settings) with its planned rows. */
export async function startGeneration(db: Db, p: Params<'generation.start'>): Promise<{ id: number; reused: boolean; needsJob: boolean }> {
  const dir = resolveDiffusionDir(p.generator);
  readDiffusionLayout(dir); // refuses a folder that is not an SD ONNX layout, naming the file
  const sha = (await hashDiffusionModel(dir)).sha256;
  if (p.discoveryId !== null && (p.kind !== 'individual' || p.pooledWith.length)) throw new BadInputError('a set from discovered failure modes is an individual set of one attribution (no pooling)');
  const ids = checkPool(db, p.attributionId, p.pooledWith);
  const pooled = p.discoveryId !== null ? `discovery:${p.discoveryId}` : ids.length > 1 ? JSON.stringify(ids.slice(1).sort((a, b) => a - b)) : '';
  const existing = db
    .prepare(`SELECT * FROM generation_sets WHERE attribution_id = ? AND pooled_from = ? AND kind = ? AND diffusion_sha256 = ? AND per_prompt = ? AND steps = ? AND guidance = ? AND seed = ?`)
    .get(p.attributionId, pooled, p.kind, sha, p.perPrompt, p.steps, p.guidance, p.seed) as SetRow | undefined;
  if (existing) {
    if (existing.diffusion_dir !== dir) db.prepare(`UPDATE generation_sets SET diffusion_dir = ? WHERE id = ?`).run(dir, existing.id);
    return { id: existing.id, reused: true, needsJob: existing.status !== 'done' };
  }
  const plan = p.discoveryId !== null ? planDiscoveredModes(db, p.attributionId, p.discoveryId, p.perPrompt) : planImages(db, ids, p.kind, p.perPrompt);
  const id = db.transaction(() => {
    const row = db
      .prepare(`INSERT INTO generation_sets (attribution_id, pooled_from, kind, diffusion_dir, diffusion_sha256, per_prompt, steps, guidance, seed, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending') RETURNING id`)
      .get(p.attributionId, pooled, p.kind, dir, sha, p.perPrompt, p.steps, p.guidance, p.seed) as { id: number };
    const ins = db.prepare(`INSERT INTO generated_images (set_id, prompt_index, sample, class_idx, prompt, background, seed) VALUES (?, ?, ?, ?, ?, ?, ?)`);
    plan.forEach((im, ordinal) => ins.run(row.id, im.promptIndex, im.sample, im.classIdx, im.prompt, im.background, p.seed + ordinal));
    return row.id;
  }).immediate();
  return { id, reused: false, needsJob: true };
}

/** The generation job: per prompt, its missing images in one pipeline call (image j's seed is the
 * row's own), their classifier features and CLIP's class opinion, stored in one transaction. */
export async function runGeneration(
  db: Db,
  blobs: BlobStore,
  params: GenerationJobParams,
  progress: Progress,
  signal: AbortSignal,
  onProvider?: (provider: string, fallbacks: { provider: string; reason: string }[]) => void,
): Promise<{ id: number }> {
  const s = getSet(db, params.setId);
  const ctx = attributionContext(db, s.attribution_id);
  const rows = db.prepare(`SELECT id, prompt_index, sample, class_idx, prompt, seed, png_blob FROM generated_images WHERE set_id = ? ORDER BY prompt_index, sample`).all(s.id) as {
    id: number;
    prompt_index: number;
    sample: number;
    class_idx: number;
    prompt: string;
    seed: number;
    png_blob: string | null;
  }[];
  const todo = new Map<number, typeof rows>();
  for (const r of rows) if (r.png_blob === null) todo.set(r.prompt_index, [...(todo.get(r.prompt_index) ?? []), r]);
  const total = rows.length;
  let done = total - [...todo.values()].reduce((n, g) => n + g.length, 0);
  progress(done, total, done ? `resuming: ${done} of ${total} images already generated` : 'loading models');
  db.prepare(`UPDATE generation_sets SET status = 'running', message = NULL WHERE id = ?`).run(s.id);
  const provider = params.provider ?? 'auto';
  const pipe = await DiffusionPipeline.load(s.diffusion_dir, { provider });
  const clf = await openClassifier(ctx.modelDir, { provider, verifyHash: false });
  const clip = await openClip(ctx.clipDir, { provider, verifyHash: false });
  onProvider?.(pipe.provider, mergeFallbacks(pipe.fallbacks, clf.fallbacks, clip.fallbacks));
  try {
    const zs = await zeroShotClassifier(clip, ctx.names, FILTER_TEMPLATES);
    const up = db.prepare(`UPDATE generated_images SET png_blob = ?, features = ?, pred_class = ?, clip_class = ?, clip_prob = ?, clip_rank = ? WHERE id = ?`);
    progress(done, total, `generating ${total - done} images on ${pipe.provider}`);
    for (const group of todo.values()) {
      if (signal.aborted) break;
      // Consecutive seeds (planned so), so one call with n = group size reproduces each row's seed.
      const first = group[0]!;
      const contiguous = group.every((r, j) => r.seed === first.seed + j);
      const images = contiguous
        ? (await pipe.generate({ prompts: [first.prompt], n: group.length, seed: first.seed, steps: s.steps, guidance: s.guidance, signal })).images
        : (await Promise.all(group.map(async (r) => (await pipe.generate({ prompts: [r.prompt], n: 1, seed: r.seed, steps: s.steps, guidance: s.guidance, signal })).images[0]!)));
      const pngs = images.map((im) => im.png);
      const sc = await scoreGenerated(pngs, group.map((r) => r.class_idx), clf, clip, zs, JSON.stringify(first.prompt));
      const D = sc.featureDim;
      db.transaction(() => {
        group.forEach((r, i) => {
          up.run(blobs.put(pngs[i]!, '.png'), f32ToBlob(sc.features.slice(i * D, (i + 1) * D)), sc.pred[i]!, sc.clipClass[i]!, sc.clipProb[i]!, sc.clipRank[i]!, r.id);
        });
      }).immediate();
      done += group.length;
      progress(done, total);
    }
    const left = (db.prepare(`SELECT COUNT(*) AS n FROM generated_images WHERE set_id = ? AND png_blob IS NULL`).get(s.id) as { n: number }).n;
    db.prepare(`UPDATE generation_sets SET status = ?, finished_at = CASE WHEN ? THEN strftime('%Y-%m-%dT%H:%M:%fZ','now') ELSE NULL END WHERE id = ?`).run(
      left ? 'incomplete' : 'done',
      left ? 0 : 1,
      s.id,
    );
  } catch (e) {
    db.prepare(`UPDATE generation_sets SET status = 'failed', message = ? WHERE id = ?`).run((e as Error).message, s.id);
    throw e;
  } finally {
    await Promise.all([pipe.release(), clf.close(), clip.close()]);
  }
  return { id: s.id };
}

function counts(db: Db, setId: number) {
  return db
    .prepare(
      `SELECT COUNT(*) AS total, SUM(png_blob IS NOT NULL) AS generated, SUM(review = 'accepted') AS accepted, SUM(review = 'rejected') AS rejected, SUM(review = 'pending' AND png_blob IS NOT NULL) AS pending,
              SUM(pred_class = class_idx) AS classified_right, SUM(pred_class = class_idx AND review = 'accepted') AS accepted_right
       FROM generated_images WHERE set_id = ?`,
    )
    .get(setId) as {
    total: number;
    generated: number | null;
    accepted: number | null;
    rejected: number | null;
    pending: number | null;
    classified_right: number | null;
    accepted_right: number | null;
  };
}

function summary(db: Db, s: SetRow, jobId: number | null): GenerationSetSummary {
  const c = counts(db, s.id);
  return {
    id: s.id,
    attributionId: s.attribution_id,
    pooledWith: setSource(s.pooled_from).pooled,
    discoveryId: setSource(s.pooled_from).discoveryId,
    kind: s.kind,
    generator: s.diffusion_dir,
    generatorSha256: s.diffusion_sha256,
    perPrompt: s.per_prompt,
    steps: s.steps,
    guidance: s.guidance,
    seed: s.seed,
    status: s.status,
    message: s.message,
    createdAt: s.created_at,
    finishedAt: s.finished_at,
    jobId,
    total: c.total,
    generated: c.generated ?? 0,
    accepted: c.accepted ?? 0,
    rejected: c.rejected ?? 0,
    pending: c.pending ?? 0,
    classifierAccuracy: c.generated ? (c.classified_right ?? 0) / c.generated : null,
    classifierAccuracyAccepted: c.accepted ? (c.accepted_right ?? 0) / c.accepted : null,
  };
}

export function listGenerationSets(db: Db, attributionId: number | undefined, jobOf: (id: number) => number | null): GenerationSetSummary[] {
  const rows = (
    attributionId === undefined
      ? db.prepare(`SELECT * FROM generation_sets ORDER BY id`).all()
      : db.prepare(`SELECT * FROM generation_sets WHERE attribution_id = ? ORDER BY id`).all(attributionId)
  ) as SetRow[];
  return rows.map((s) => summary(db, s, jobOf(s.id)));
}

export function getGenerationSet(db: Db, id: number, jobId: number | null = null): GenerationSetDetail {
  const s = getSet(db, id);
  const { names } = attributionContext(db, s.attribution_id);
  const perClass = db
    .prepare(
      `SELECT class_idx, COUNT(*) AS total, SUM(png_blob IS NOT NULL) AS generated, SUM(review = 'accepted') AS accepted, SUM(review = 'rejected') AS rejected,
              SUM(pred_class = class_idx) AS classified_right
       FROM generated_images WHERE set_id = ? GROUP BY class_idx ORDER BY class_idx`,
    )
    .all(id) as { class_idx: number; total: number; generated: number; accepted: number; rejected: number; classified_right: number }[];
  const prompts = db
    .prepare(`SELECT prompt_index, MIN(prompt) AS prompt, MIN(class_idx) AS class_idx, MIN(background) AS background, COUNT(*) AS n FROM generated_images WHERE set_id = ? GROUP BY prompt_index ORDER BY prompt_index`)
    .all(id) as { prompt_index: number; prompt: string; class_idx: number; background: string | null; n: number }[];
  const undoable = (db.prepare(`SELECT COUNT(*) AS n FROM generated_review_log WHERE set_id = ?`).get(id) as { n: number }).n;
  return {
    ...summary(db, s, jobId),
    classes: perClass.map((r) => ({ classIdx: r.class_idx, name: names[r.class_idx] ?? `class ${r.class_idx}`, total: r.total, generated: r.generated, accepted: r.accepted, rejected: r.rejected, classifierAccuracy: r.generated ? r.classified_right / r.generated : null })),
    prompts: prompts.map((p) => ({ index: p.prompt_index, prompt: p.prompt, classIdx: p.class_idx, background: p.background, images: p.n })),
    undoable,
  };
}

export function generatedImages(db: Db, p: Params<'generation.images'>): Page<GeneratedImageRow> {
  getSet(db, p.setId);
  const where = ['set_id = ?', 'png_blob IS NOT NULL'];
  const args: (number | string)[] = [p.setId];
  if (p.classIdx !== undefined) {
    where.push('class_idx = ?');
    args.push(p.classIdx);
  }
  if (p.review !== undefined) {
    where.push('review = ?');
    args.push(p.review);
  }
  const w = where.join(' AND ');
  const total = (db.prepare(`SELECT COUNT(*) AS n FROM generated_images WHERE ${w}`).get(...args) as { n: number }).n;
  const rows = db
    .prepare(`SELECT id, prompt_index, sample, class_idx, prompt, background, seed, pred_class, clip_class, clip_prob, clip_rank, review, reviewed_by FROM generated_images WHERE ${w} ORDER BY prompt_index, sample LIMIT ? OFFSET ?`)
    .all(...args, p.limit, p.offset) as {
    id: number;
    prompt_index: number;
    sample: number;
    class_idx: number;
    prompt: string;
    background: string | null;
    seed: number;
    pred_class: number | null;
    clip_class: number | null;
    clip_prob: number | null;
    clip_rank: number | null;
    review: GeneratedImageRow['review'];
    reviewed_by: string | null;
  }[];
  return {
    total,
    offset: p.offset,
    items: rows.map((r) => ({
      id: r.id,
      promptIndex: r.prompt_index,
      sample: r.sample,
      classIdx: r.class_idx,
      prompt: r.prompt,
      background: r.background,
      seed: r.seed,
      predClass: r.pred_class,
      clipClass: r.clip_class,
      clipProb: r.clip_prob,
      clipRank: r.clip_rank,
      review: r.review,
      reviewedBy: r.reviewed_by,
    })),
  };
}

/** Features (and predictions) of a set's generated images as another model sees them, for
 * collective debugging: computed for the images that lack them, stored per (image, model).
 * `onProvider` hears the classifier's provider when one is opened (not when nothing is missing). */
export async function ensureSetFeatures(
  db: Db,
  blobs: BlobStore,
  setId: number,
  model: { id: number; dir: string },
  provider: 'auto' | 'cpu' | 'cuda' | 'webgpu',
  progress: Progress,
  signal: AbortSignal,
  onProvider?: (provider: string, fallbacks: { provider: string; reason: string }[]) => void,
): Promise<void> {
  const todo = db
    .prepare(
      `SELECT g.id, g.png_blob FROM generated_images g LEFT JOIN generated_features f ON f.image_id = g.id AND f.model_id = ?
       WHERE g.set_id = ? AND g.png_blob IS NOT NULL AND f.image_id IS NULL ORDER BY g.id`,
    )
    .all(model.id, setId) as { id: number; png_blob: string }[];
  if (!todo.length) return;
  const clf = await openClassifier(model.dir, { provider, verifyHash: false });
  onProvider?.(clf.provider, clf.fallbacks);
  try {
    const C = clf.manifest.head.num_classes;
    const D = clf.manifest.head.feature_dim;
    const ins = db.prepare(`INSERT OR REPLACE INTO generated_features (image_id, model_id, features, pred_class) VALUES (?, ?, ?, ?)`);
    const B = 64;
    for (let i = 0; i < todo.length; i += B) {
      if (signal.aborted) return;
      const batch = todo.slice(i, i + B);
      const { tensor, errors } = await decodeBatch(batch.map((r) => blobs.get(r.png_blob, '.png')), clf.manifest.preprocess);
      if (errors.length) throw new Error(`generated image ${batch[errors[0]!.index]!.id} did not decode: ${errors[0]!.error.message}`);
      const { features, logits } = await clf.run(tensor, batch.length);
      db.transaction(() =>
        batch.forEach((r, j) => {
          let pred = 0;
          for (let c = 1; c < C; c++) if (logits[j * C + c]! > logits[j * C + pred]!) pred = c;
          ins.run(r.id, model.id, f32ToBlob(features.slice(j * D, (j + 1) * D)), pred);
        }),
      ).immediate();
      progress(Math.min(i + B, todo.length), todo.length, `features of generation set ${setId} for model ${model.id}: ${Math.min(i + B, todo.length)}/${todo.length}`);
    }
  } finally {
    await clf.close();
  }
}

/** PNG bytes of a generated image (the lab image route's `gen/<id>`). */
export function generatedPng(db: Db, blobs: BlobStore, imageId: number): Buffer {
  const r = db.prepare(`SELECT png_blob FROM generated_images WHERE id = ?`).get(imageId) as { png_blob: string | null } | undefined;
  if (!r || r.png_blob === null) throw new NotFoundError(`no generated image ${imageId}`);
  return blobs.get(r.png_blob, '.png');
}

/** The reasons faster providers were skipped, over several models, each reason once. */
export function mergeFallbacks(...lists: { provider: string; reason: string }[][]): { provider: string; reason: string }[] {
  const seen = new Set<string>();
  return lists.flat().filter((f) => {
    const key = `${f.provider}\u0000${f.reason}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

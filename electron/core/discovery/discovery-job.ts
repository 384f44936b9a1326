// The discovery job, in stages that each resume from what is stored:
//  generate  the base images; each gets the model's prediction and CLIP's rank of the prompted class
//  describe  every on-class failure in words (CLIP describer; captioner when the session has one)
//  cluster   the failures' words in CLIP text space; per cluster and class with enough members a
//            hypothesis "a photo of a {class} {cluster description}", with its m planned images
//  confirm   the hypotheses' images, classified and ranked like the base images
//  refine    (CLIP describer) each confirmed mode of several phrases: one hypothesis per phrase alone,
//            m images each, so the report can say which phrase carries the failure
// Clusters, hypotheses and their planned rows are written in one transaction, so a job killed while
// clustering starts that stage again.
import type { Db } from '../store/database.ts';
import type { BlobStore } from '../store/blob-store.ts';
import { DiffusionPipeline } from '../../../native-models/diffusion/index.ts';
import { openClassifier, type Classifier } from '../../../native-models/classifier/index.ts';
import { openClip, normalizeRows, zeroShotClassifier, type Clip, type ZeroShotClassifier } from '../../../native-models/clip/index.ts';
import { blobToF32, f32ToBlob } from '../debugging/attribution.ts';
import { FILTER_TEMPLATES, mergeFallbacks } from '../debugging/generation-sets.ts';
import { scoreGenerated } from '../debugging/score-generated.ts';
import { encodeClassPrompts, describeImage, meanSimilarities, type ClassPrompts } from './clip-describer.ts';
import { composePrompt, parseDescription } from './attribute-vocabulary.ts';
import { clusterEmbeddings } from './clustering.ts';
import { captionPrompt } from './caption-prompt.ts';
import { onClassSql } from './on-class.ts';
import { getDiscovery } from './discovery-report.ts';
import { getSessionRow, sessionContext, sessionSettings, type SessionRow, type StoredSettings } from './discovery-sessions.ts';

type Progress = (done: number, total: number, message?: string) => void;
type ProviderName = 'auto' | 'cpu' | 'cuda' | 'webgpu';

export interface DiscoveryJobParams {
  sessionId: number;
  provider?: ProviderName;
}

/** Images per pipeline call: one prompt's consecutive seeds, bounded so large models fit in memory. */
const GENERATE_CHUNK = 8;
/** Failures clustered at most; the others join their nearest cluster. */
const CLUSTER_SAMPLE = 3000;

interface ImageRow {
  id: number;
  hypothesis_id: number;
  class_idx: number;
  prompt: string;
  seed: number;
}

function setStage(db: Db, id: number, stage: SessionRow['stage']): void {
  db.prepare(`UPDATE discovery_sessions SET stage = ? WHERE id = ?`).run(stage, id);
}

async function generateMissing(
  db: Db,
  blobs: BlobStore,
  s: SessionRow,
  settings: StoredSettings,
  base: boolean,
  models: { pipe: DiffusionPipeline; clf: Classifier; clip: Clip; zs: ZeroShotClassifier },
  progress: (n: number) => void,
  signal: AbortSignal,
): Promise<void> {
  const rows = db
    .prepare(`SELECT id, hypothesis_id, class_idx, prompt, seed FROM discovery_images WHERE session_id = ? AND (hypothesis_id = 0) = ? AND png_blob IS NULL ORDER BY hypothesis_id, class_idx, sample`)
    .all(s.id, base ? 1 : 0) as ImageRow[];
  const groups: ImageRow[][] = [];
  for (const r of rows) {
    const g = groups.at(-1);
    const last = g?.at(-1);
    if (g && last && last.prompt === r.prompt && last.seed + 1 === r.seed && g.length < GENERATE_CHUNK) g.push(r);
    else groups.push([r]);
  }
  const { pipe, clf, clip, zs } = models;
  const up = db.prepare(`UPDATE discovery_images SET png_blob = ?, pred_class = ?, clip_rank = ?, clip_embedding = ? WHERE id = ?`);
  for (const group of groups) {
    if (signal.aborted) return;
    const first = group[0]!;
    const { images } = await pipe.generate({ prompts: [first.prompt], n: group.length, seed: first.seed, steps: settings.steps, guidance: settings.guidance, signal });
    const pngs = images.map((im) => im.png);
    const sc = await scoreGenerated(pngs, group.map((r) => r.class_idx), clf, clip, zs, JSON.stringify(first.prompt));
    const d = clip.embedDim;
    db.transaction(() => {
      group.forEach((r, i) => {
        up.run(blobs.put(pngs[i]!, '.png'), sc.pred[i]!, sc.clipRank[i]!, f32ToBlob(sc.clipEmbeddings.slice(i * d, (i + 1) * d)), r.id);
      });
    }).immediate();
    progress(group.length);
  }
}

async function describeFailures(db: Db, blobs: BlobStore, s: SessionRow, settings: StoredSettings, clip: Clip, provider: ProviderName, progress: (n: number) => void, signal: AbortSignal): Promise<void> {
  const ctx = sessionContext(db, s);
  const on = onClassSql(settings.filterRank);
  const todo = db
    .prepare(`SELECT id, class_idx, clip_embedding, png_blob FROM discovery_images WHERE session_id = ? AND hypothesis_id = 0 AND png_blob IS NOT NULL AND pred_class != class_idx AND ${on} AND description IS NULL ORDER BY class_idx, id`)
    .all(s.id) as { id: number; class_idx: number; clip_embedding: Buffer; png_blob: string }[];
  const set = db.prepare(`UPDATE discovery_images SET description = ? WHERE id = ?`);
  const classImages = db.prepare(`SELECT clip_embedding FROM discovery_images WHERE session_id = ? AND hypothesis_id = 0 AND class_idx = ? AND ${on}`);
  const d = clip.embedDim;
  let current = null as { classIdx: number; prompts: ClassPrompts; baseline: Float32Array } | null;
  for (const r of todo) {
    if (signal.aborted) return;
    if (current?.classIdx !== r.class_idx) {
      const prompts = await encodeClassPrompts(clip, ctx.vocabulary, ctx.nouns[r.class_idx]!);
      const rows = classImages.all(s.id, r.class_idx) as { clip_embedding: Buffer }[];
      const all = new Float32Array(rows.length * d);
      rows.forEach((x, i) => all.set(blobToF32(x.clip_embedding), i * d));
      current = { classIdx: r.class_idx, prompts, baseline: meanSimilarities(all, rows.length, prompts, d) };
    }
    set.run(describeImage(blobToF32(r.clip_embedding), current.prompts, d, settings.maxAttributes, current.baseline).text, r.id);
    progress(1);
  }
  if (!settings.captioner) return;
  const uncaptioned = db
    .prepare(`SELECT id, png_blob FROM discovery_images WHERE session_id = ? AND hypothesis_id = 0 AND png_blob IS NOT NULL AND pred_class != class_idx AND ${on} AND caption IS NULL ORDER BY id`)
    .all(s.id) as { id: number; png_blob: string }[];
  if (!uncaptioned.length) return;
  const { openCaptioner } = await import('../../../native-models/captioner/index.ts');
  const captioner = await openCaptioner(settings.captioner, { provider });
  try {
    const setCaption = db.prepare(`UPDATE discovery_images SET caption = ? WHERE id = ?`);
    for (let i = 0; i < uncaptioned.length; i += 16) {
      if (signal.aborted) return;
      const batch = uncaptioned.slice(i, i + 16);
      const captions = await captioner.caption(batch.map((r) => blobs.get(r.png_blob, '.png')));
      db.transaction(() => batch.forEach((r, j) => setCaption.run(captions[j]!.trim(), r.id))).immediate();
    }
  } finally {
    await captioner.close();
  }
}

/** Clusters the failures' words and plans the hypotheses; returns how many hypotheses it made. */
async function clusterFailures(db: Db, s: SessionRow, settings: StoredSettings, clip: Clip): Promise<number> {
  const ctx = sessionContext(db, s);
  const useCaptions = settings.describeWith === 'captioner';
  const on = onClassSql(settings.filterRank);
  const failures = db
    .prepare(`SELECT id, class_idx, description, caption FROM discovery_images WHERE session_id = ? AND hypothesis_id = 0 AND png_blob IS NOT NULL AND pred_class != class_idx AND ${on} ORDER BY id`)
    .all(s.id) as { id: number; class_idx: number; description: string | null; caption: string | null }[];
  const words = failures.map((f) => (useCaptions ? f.caption : f.description) ?? '');
  if (!failures.length) return 0;
  // Descriptions embedded as sentences about an anonymous object; captions as they are.
  const distinct = [...new Set(words)];
  const sentence = (w: string) => (useCaptions ? w : composePrompt(ctx.vocabulary, 'object', parseDescription(ctx.vocabulary, w) ?? []));
  const d = clip.embedDim;
  const distinctEmb = normalizeRows(await clip.encodeTexts(distinct.map(sentence)), d);
  const indexOf = new Map(distinct.map((w, i) => [w, i]));
  const emb = new Float32Array(failures.length * d);
  words.forEach((w, i) => emb.set(distinctEmb.subarray(indexOf.get(w)! * d, (indexOf.get(w)! + 1) * d), i * d));
  const stride = Math.ceil(failures.length / CLUSTER_SAMPLE);
  const sample = failures.map((_, i) => i).filter((i) => i % stride === 0);
  const sampleEmb = new Float32Array(sample.length * d);
  sample.forEach((i, j) => sampleEmb.set(emb.subarray(i * d, (i + 1) * d), j * d));
  const result = clusterEmbeddings(sampleEmb, sample.length, d, { seed: settings.seed, kMax: settings.maxClusters });
  // Every failure (sampled or not) joins the cluster with the nearest centroid.
  const assignment = failures.map((_, i) => {
    let best = 0;
    let bestSim = -Infinity;
    for (let c = 0; c < result.k; c++) {
      let sim = 0;
      for (let j = 0; j < d; j++) sim += emb[i * d + j]! * result.centroids[c * d + j]!;
      if (sim > bestSim) [best, bestSim] = [c, sim];
    }
    return best;
  });
  sample.forEach((i, j) => (assignment[i] = result.assignment[j]!));
  // A cluster is named by its medoid's words; clusters with the same name are one mode.
  const byName = new Map<string, number[]>();
  for (let c = 0; c < result.k; c++) {
    const name = words[sample[result.medoids[c]!]!]!;
    const members = failures.map((_, i) => i).filter((i) => assignment[i] === c);
    if (members.length) byName.set(name, [...(byName.get(name) ?? []), ...members]);
  }
  const baseCount = (db.prepare(`SELECT COUNT(*) AS n FROM discovery_images WHERE session_id = ? AND hypothesis_id = 0`).get(s.id) as { n: number }).n;
  return db.transaction(() => {
    const insCluster = db.prepare(`INSERT INTO discovery_clusters (session_id, idx, name, members) VALUES (?, ?, ?, ?) RETURNING id`);
    const insHyp = db.prepare(`INSERT INTO discovery_hypotheses (session_id, cluster_id, class_idx, prompt) VALUES (?, ?, ?, ?) RETURNING id`);
    const insImg = db.prepare(`INSERT INTO discovery_images (session_id, hypothesis_id, class_idx, sample, prompt, seed) VALUES (?, ?, ?, ?, ?, ?)`);
    let idx = 0;
    let hypotheses = 0;
    const ordered = [...byName].sort((a, b) => b[1].length - a[1].length || (a[0] < b[0] ? -1 : 1));
    for (const [name, members] of ordered) {
      const cluster = insCluster.get(s.id, idx++, name, JSON.stringify(members.map((i) => failures[i]!.id))) as { id: number };
      const perClass = new Map<number, number>();
      for (const i of members) perClass.set(failures[i]!.class_idx, (perClass.get(failures[i]!.class_idx) ?? 0) + 1);
      const ranked = [...perClass].sort((a, b) => b[1] - a[1] || a[0] - b[0]);
      const tested = ranked.filter(([, n], i) => i === 0 || n >= settings.minMembers);
      for (const [classIdx] of tested) {
        const noun = ctx.nouns[classIdx]!;
        const prompt = useCaptions
          ? captionPrompt(name, noun, ctx.nouns)
          : composePrompt(ctx.vocabulary, noun, parseDescription(ctx.vocabulary, name) ?? []);
        const h = insHyp.get(s.id, cluster.id, classIdx, prompt) as { id: number };
        const first = settings.seed + baseCount + hypotheses * settings.m;
        for (let j = 0; j < settings.m; j++) insImg.run(s.id, h.id, classIdx, j, prompt, first + j);
        hypotheses++;
      }
    }
    return hypotheses;
  }).immediate();
}

/** One hypothesis per phrase of every confirmed mode of several phrases (at the session's α), unless
 * that one-phrase prompt is already a hypothesis of the class; m images each. Written in one
 * transaction; a session that has children already is not planned again. */
function planRefinement(db: Db, s: SessionRow, settings: StoredSettings): number {
  if ((db.prepare(`SELECT COUNT(*) AS n FROM discovery_hypotheses WHERE session_id = ? AND parent_id IS NOT NULL`).get(s.id) as { n: number }).n) return 0;
  const ctx = sessionContext(db, s);
  const report = getDiscovery(db, s.id, null);
  const existing = new Set(report.hypotheses.map((h) => `${h.classIdx}\u0000${h.prompt}`));
  const planned = (db.prepare(`SELECT COUNT(*) AS n FROM discovery_images WHERE session_id = ?`).get(s.id) as { n: number }).n;
  return db.transaction(() => {
    const insHyp = db.prepare(`INSERT INTO discovery_hypotheses (session_id, cluster_id, class_idx, prompt, parent_id) VALUES (?, ?, ?, ?, ?) RETURNING id`);
    const insImg = db.prepare(`INSERT INTO discovery_images (session_id, hypothesis_id, class_idx, sample, prompt, seed) VALUES (?, ?, ?, ?, ?, ?)`);
    let made = 0;
    for (const h of report.hypotheses) {
      if (h.status !== 'confirmed') continue;
      const parts = parseDescription(ctx.vocabulary, h.clusterName) ?? [];
      if (parts.length < 2) continue;
      for (const part of parts) {
        const prompt = composePrompt(ctx.vocabulary, ctx.nouns[h.classIdx]!, [part]);
        const key = `${h.classIdx}\u0000${prompt}`;
        if (existing.has(key)) continue;
        existing.add(key);
        const child = insHyp.get(s.id, h.clusterId, h.classIdx, prompt, h.id) as { id: number };
        const first = settings.seed + planned + made * settings.m;
        for (let j = 0; j < settings.m; j++) insImg.run(s.id, child.id, h.classIdx, j, prompt, first + j);
        made++;
      }
    }
    return made;
  }).immediate();
}

export async function runDiscovery(
  db: Db,
  blobs: BlobStore,
  params: DiscoveryJobParams,
  progress: Progress,
  signal: AbortSignal,
  onProvider?: (provider: string, fallbacks: { provider: string; reason: string }[]) => void,
): Promise<{ id: number }> {
  const s0 = getSessionRow(db, params.sessionId);
  const settings = sessionSettings(s0);
  const ctx = sessionContext(db, s0);
  const provider = params.provider ?? 'auto';
  db.prepare(`UPDATE discovery_sessions SET status = 'running', message = NULL WHERE id = ?`).run(s0.id);
  const count = (sql: string) => (db.prepare(sql).get(s0.id) as { n: number }).n;
  let pipe: DiffusionPipeline | null = null;
  let clf: Classifier | null = null;
  let clip: Clip | null = null;
  try {
    progress(0, 1, 'loading models');
    pipe = await DiffusionPipeline.load(settings.generator, { provider });
    clf = await openClassifier(ctx.modelDir, { provider, verifyHash: false });
    clip = await openClip(settings.clip, { provider, verifyHash: false });
    onProvider?.(pipe.provider, mergeFallbacks(pipe.fallbacks, clf.fallbacks, clip.fallbacks));
    const zs = await zeroShotClassifier(clip, ctx.nouns, FILTER_TEMPLATES);
    const models = { pipe, clf, clip, zs };
    const planned = () => count(`SELECT COUNT(*) AS n FROM discovery_images WHERE session_id = ?`);
    let done = count(`SELECT COUNT(*) AS n FROM discovery_images WHERE session_id = ? AND png_blob IS NOT NULL`);
    const step = (message: string) => (n: number) => {
      done += n;
      progress(done, Math.max(done, planned()), message);
    };
    let s = getSessionRow(db, s0.id);
    if (s.stage === 'generate') {
      progress(done, planned(), `generating base images on ${pipe.provider}`);
      await generateMissing(db, blobs, s, settings, true, models, step('base images: "a photo of a {class}"'), signal);
      if (signal.aborted) return finish(db, s0.id);
      setStage(db, s.id, 'describe');
    }
    s = getSessionRow(db, s0.id);
    if (s.stage === 'describe') {
      progress(done, planned(), 'describing the failures');
      await describeFailures(db, blobs, s, settings, clip, provider, () => progress(done, planned(), 'describing the failures'), signal);
      if (signal.aborted) return finish(db, s0.id);
      setStage(db, s.id, 'cluster');
    }
    s = getSessionRow(db, s0.id);
    if (s.stage === 'cluster') {
      progress(done, planned(), 'clustering the descriptions');
      if (count(`SELECT COUNT(*) AS n FROM discovery_clusters WHERE session_id = ?`) === 0) await clusterFailures(db, s, settings, clip);
      setStage(db, s.id, 'confirm');
    }
    s = getSessionRow(db, s0.id);
    if (s.stage === 'confirm') {
      progress(done, planned(), 'generating confirmation images');
      await generateMissing(db, blobs, s, settings, false, models, step('confirmation images'), signal);
      if (signal.aborted) return finish(db, s0.id);
      if (settings.describeWith === 'clip') planRefinement(db, s, settings);
      setStage(db, s.id, 'refine');
    }
    s = getSessionRow(db, s0.id);
    if (s.stage === 'refine') {
      progress(done, planned(), 'testing the phrases of confirmed modes one by one');
      await generateMissing(db, blobs, s, settings, false, models, step('refinement images'), signal);
      if (signal.aborted) return finish(db, s0.id);
      setStage(db, s.id, 'done');
    }
    return finish(db, s0.id);
  } catch (e) {
    db.prepare(`UPDATE discovery_sessions SET status = 'failed', message = ? WHERE id = ?`).run((e as Error).message, s0.id);
    throw e;
  } finally {
    await Promise.all([pipe?.release(), clf?.close(), clip?.close()]);
  }
}

function finish(db: Db, id: number): { id: number } {
  const s = getSessionRow(db, id);
  const done = s.stage === 'done';
  db.prepare(`UPDATE discovery_sessions SET status = ?, finished_at = CASE WHEN ? THEN strftime('%Y-%m-%dT%H:%M:%fZ','now') ELSE NULL END WHERE id = ?`).run(done ? 'done' : 'incomplete', done ? 1 : 0, id);
  return { id };
}

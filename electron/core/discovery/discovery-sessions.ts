// Discovery sessions: one model probed with one generator, describer and settings. Starting one checks
// every package, then plans the base images ("a photo of a {class}", n per class, one seed each) so the
// job can resume where it stopped; the same model, packages and settings reuse the session.
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import type { Db } from '../store/database.ts';
import type { BlobStore } from '../store/blob-store.ts';
import type { DiscoverySettings, DiscoverySummary, Params } from '../../contract.ts';
import type { ClassifierManifest } from '../../../native-models/manifest/index.ts';
import { readDiffusionLayout } from '../../../native-models/diffusion/index.ts';
import { hashDiffusionModel, hashModelFiles, listFiles } from '../../../native-models/diffusion/generate-files.ts';
import { shapeworldPackageDir } from '../../../native-models/shapeworld/packages.ts';
import { BadInputError, NotFoundError } from '../errors.ts';
import { getModel } from '../models/model-registry.ts';
import { checkClipPackage } from '../debugging/attribution.ts';
import { resolveDiffusionDir } from '../debugging/generation-sets.ts';
import { promptClassNames, vocabularyFor } from '../debugging/vocabulary.ts';
import { composePrompt, loadAttributeVocabulary, type AttributeVocabulary } from './attribute-vocabulary.ts';

export interface SessionRow {
  id: number;
  model_id: number;
  settings_key: string;
  settings: string;
  stage: DiscoverySummary['stage'];
  status: DiscoverySummary['status'];
  message: string | null;
  created_at: string;
  finished_at: string | null;
}

/** Settings as stored, with the packages' resolved folders and content hashes. */
export interface StoredSettings extends DiscoverySettings {
  generatorSha256: string;
  clipSha256: string;
  captionerSha256: string | null;
}

export function getSessionRow(db: Db, id: number): SessionRow {
  const s = db.prepare(`SELECT * FROM discovery_sessions WHERE id = ?`).get(id) as SessionRow | undefined;
  if (!s) throw new NotFoundError(`no discovery session with id ${id}`);
  return s;
}

export function sessionSettings(s: SessionRow): StoredSettings {
  return JSON.parse(s.settings) as StoredSettings;
}

/** The class nouns used in prompts and the describer's vocabulary for a label space. */
function describerWords(labels: readonly { name: string }[]): { nouns: string[]; vocabulary: AttributeVocabulary } {
  const words = vocabularyFor(labels);
  return { nouns: promptClassNames(words, labels), vocabulary: loadAttributeVocabulary(words === 'shapeworld' ? 'shapeworld' : 'general') };
}

/** The model's labels, the class nouns used in prompts, and the describer's vocabulary. */
export function sessionContext(db: Db, s: SessionRow): { modelDir: string; modelName: string; labels: ClassifierManifest['labels']; nouns: string[]; vocabulary: AttributeVocabulary } {
  const m = db.prepare(`SELECT name, dir, manifest FROM models WHERE id = ?`).get(s.model_id) as { name: string; dir: string; manifest: string };
  const labels = (JSON.parse(m.manifest) as ClassifierManifest).labels;
  return { modelDir: m.dir, modelName: m.name, labels, ...describerWords(labels) };
}

export function resolveCaptionerDir(dir: string): string {
  return dir === 'shapeworld' ? shapeworldPackageDir('captioner') : resolve(dir);
}

async function checkCaptioner(dir: string): Promise<{ dir: string; sha256: string }> {
  const { readCaptionerLayout } = await import('../../../native-models/captioner/index.ts');
  const abs = resolveCaptionerDir(dir);
  try {
    readCaptionerLayout(abs); // refuses a folder that is not the captioner layout, naming the part
  } catch (e) {
    throw new BadInputError(`captioner ${(e as Error).message}`);
  }
  // Every file, external weights included; large ones by sampled windows, as for text-to-image models.
  return { dir: abs, sha256: (await hashModelFiles(abs, listFiles(abs))).sha256 };
}

export async function startDiscovery(db: Db, p: Params<'discovery.start'>): Promise<{ id: number; reused: boolean; needsJob: boolean }> {
  const model = getModel(db, p.modelId);
  const labels = model.classNames.map((name) => ({ name }));
  const classes = p.classes ? [...new Set(p.classes)].sort((a, b) => a - b) : labels.map((_, i) => i);
  const bad = classes.find((c) => c >= labels.length);
  if (bad !== undefined) throw new BadInputError(`class ${bad} is out of range: ${model.name} has ${labels.length} classes (0-${labels.length - 1})`);
  if (p.describeWith === 'captioner' && !p.captioner) throw new BadInputError('describeWith "captioner" needs a captioner package');
  const generatorDir = resolveDiffusionDir(p.generator);
  readDiffusionLayout(generatorDir);
  const generatorSha256 = (await hashDiffusionModel(generatorDir)).sha256;
  const clip = await checkClipPackage(p.clip === 'shapeworld' ? shapeworldPackageDir('clip') : p.clip);
  const captioner = p.captioner ? await checkCaptioner(p.captioner) : null;
  const settings: StoredSettings = {
    generator: generatorDir,
    clip: clip.dir,
    captioner: captioner?.dir ?? null,
    describeWith: p.describeWith,
    classes,
    n: p.n,
    m: p.m,
    steps: p.steps,
    guidance: p.guidance,
    seed: p.seed,
    filterRank: p.filterRank,
    maxAttributes: p.maxAttributes,
    minMembers: p.minMembers,
    maxClusters: p.maxClusters,
    alpha: p.alpha,
    generatorSha256,
    clipSha256: clip.sha256,
    captionerSha256: captioner?.sha256 ?? null,
  };
  const { generator: _g, clip: _c, captioner: _k, alpha: _a, ...keyed } = settings;
  const key = createHash('sha256').update(JSON.stringify({ model: model.sha256, ...keyed })).digest('hex');
  const existing = db.prepare(`SELECT * FROM discovery_sessions WHERE settings_key = ?`).get(key) as SessionRow | undefined;
  if (existing) {
    // Same content, maybe moved folders or another alpha: keep the stored work, update where they are.
    db.prepare(`UPDATE discovery_sessions SET settings = ? WHERE id = ?`).run(JSON.stringify(settings), existing.id);
    return { id: existing.id, reused: true, needsJob: existing.status !== 'done' };
  }
  const { nouns, vocabulary } = describerWords(labels);
  const id = db.transaction(() => {
    const row = db
      .prepare(`INSERT INTO discovery_sessions (model_id, settings_key, settings, stage, status) VALUES (?, ?, ?, 'generate', 'pending') RETURNING id`)
      .get(p.modelId, key, JSON.stringify(settings)) as { id: number };
    const ins = db.prepare(`INSERT INTO discovery_images (session_id, hypothesis_id, class_idx, sample, prompt, seed) VALUES (?, 0, ?, ?, ?, ?)`);
    let ordinal = 0;
    for (const c of classes) {
      const prompt = composePrompt(vocabulary, nouns[c]!, []);
      for (let j = 0; j < p.n; j++) ins.run(row.id, c, j, prompt, p.seed + ordinal++);
    }
    return row.id;
  }).immediate();
  return { id, reused: false, needsJob: true };
}

function imageCounts(db: Db, sessionId: number, base: boolean): { planned: number; generated: number } {
  const r = db
    .prepare(`SELECT COUNT(*) AS planned, COALESCE(SUM(png_blob IS NOT NULL), 0) AS generated FROM discovery_images WHERE session_id = ? AND (hypothesis_id = 0) = ?`)
    .get(sessionId, base ? 1 : 0) as { planned: number; generated: number };
  return r;
}

export function discoverySummary(db: Db, s: SessionRow, jobId: number | null, modelName?: string): DiscoverySummary {
  const settings = sessionSettings(s);
  const { generatorSha256: _g, clipSha256: _c, captionerSha256: _k, ...shown } = settings;
  return {
    id: s.id,
    modelId: s.model_id,
    modelName: modelName ?? (db.prepare(`SELECT name FROM models WHERE id = ?`).get(s.model_id) as { name: string }).name,
    settings: shown,
    stage: s.stage,
    status: s.status,
    message: s.message,
    createdAt: s.created_at,
    finishedAt: s.finished_at,
    jobId,
    baseImages: imageCounts(db, s.id, true),
    confirmImages: imageCounts(db, s.id, false),
  };
}

export function listDiscoveries(db: Db, modelId: number | undefined, jobOf: (id: number) => number | null): DiscoverySummary[] {
  const rows = (modelId === undefined
    ? db.prepare(`SELECT * FROM discovery_sessions ORDER BY id DESC`).all()
    : db.prepare(`SELECT * FROM discovery_sessions WHERE model_id = ? ORDER BY id DESC`).all(modelId)) as SessionRow[];
  return rows.map((s) => discoverySummary(db, s, jobOf(s.id)));
}

/** PNG bytes of a discovery image (the lab image route's `disc/<id>`). */
export function discoveryPng(db: Db, blobs: BlobStore, imageId: number): Buffer {
  const r = db.prepare(`SELECT png_blob FROM discovery_images WHERE id = ?`).get(imageId) as { png_blob: string | null } | undefined;
  if (!r || r.png_blob === null) throw new NotFoundError(`no discovery image ${imageId}`);
  return blobs.get(r.png_blob, '.png');
}

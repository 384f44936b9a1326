// The patch step of Chegini & Feizi: retrain only the classifier's linear head on the frozen
// backbone's features, L = L(original train) + λ·L(accepted generated images), starting from the
// model's own head; then test / seed / heldout accuracy before and after, for individual debugging
// (the attribution's backgrounds) and for random debugging (class-name prompts, the same number of
// accepted images per class). Nothing is stored until the whole result is (one row, heads as blobs).
import { createHash } from 'node:crypto';
import type { Db } from '../store/database.ts';
import type { BlobStore } from '../store/blob-store.ts';
import type { DebugAccuracy, DebugResult, DebugSettings, DebugSummary, Params } from '../../contract.ts';
import type { ClassifierManifest } from '../../../native-models/manifest/index.ts';
import { evaluateHead, ortBackend, readHeadInit, trainHead, transpose, SGD_DEFAULTS, type FeatureSet, type TrainedHead } from '../../../native-models/head/index.ts';
import { providerOrder, type ProviderFallback, type ProviderRequest } from '../../../native-models/runtime/index.ts';
import { mulberry32 } from '../../../native-models/mulberry32.ts';
import { readRunFeatures, type RunFeatures } from '../runs/run-features.ts';
import { BadInputError, NotFoundError } from '../errors.ts';
import { blobToF32 } from './attribution.ts';
import { sameSweep } from '../../contract-sweeps.ts';
import { ensureSetFeatures, setSource, topBackgrounds } from './generation-sets.ts';

type Progress = (done: number, total: number, message?: string) => void;

export type DebugJobParams = DebugSettings;

interface RunInfo {
  id: number;
  model_id: number;
  dataset_id: number;
  status: string;
  dataset_name: string;
}

function runInfo(db: Db, runId: number, what: string): RunInfo {
  const r = db.prepare(`SELECT r.id, r.model_id, r.dataset_id, r.status, d.name AS dataset_name FROM runs r JOIN datasets d ON d.id = r.dataset_id WHERE r.id = ?`).get(runId) as RunInfo | undefined;
  if (!r) throw new NotFoundError(`no ${what} run with id ${runId}`);
  if (r.status !== 'done') throw new BadInputError(`the ${what} run ${runId} is ${r.status}: finish it first`);
  return r;
}

interface SetInfo {
  id: number;
  attributionId: number;
  pooled: number[];
  /** Set from a discovery session's confirmed modes (no attributed backgrounds, so no k filter). */
  discoveryId: number | null;
  kind: string;
  status: string;
  /** The model of the set's attribution (whose features generation stored). */
  modelId: number;
  labels: string;
}

function setInfo(db: Db, setId: number): SetInfo {
  const s = db
    .prepare(
      `SELECT g.id, g.attribution_id, g.pooled_from, g.kind, g.status, r.model_id, m.manifest FROM generation_sets g JOIN attribution_sessions a ON a.id = g.attribution_id
       JOIN runs r ON r.id = a.run_id JOIN models m ON m.id = r.model_id WHERE g.id = ?`,
    )
    .get(setId) as { id: number; attribution_id: number; pooled_from: string; kind: string; status: string; model_id: number; manifest: string } | undefined;
  if (!s) throw new NotFoundError(`no generation set with id ${setId}`);
  return {
    id: s.id,
    attributionId: s.attribution_id,
    pooled: setSource(s.pooled_from).pooled,
    discoveryId: setSource(s.pooled_from).discoveryId,
    kind: s.kind,
    status: s.status,
    modelId: s.model_id,
    labels: labelKey(JSON.parse(s.manifest) as ClassifierManifest),
  };
}

const labelKey = (m: ClassifierManifest): string => m.labels.map((l) => l.name).join('\u0000');

function acceptedCount(db: Db, setId: number): number {
  return (db.prepare(`SELECT COUNT(*) AS n FROM generated_images WHERE set_id = ? AND review = 'accepted' AND png_blob IS NOT NULL`).get(setId) as { n: number }).n;
}

/** Checks everything a debug job needs before it is queued: clear messages, nothing stored. */
export function checkDebugSettings(db: Db, p: DebugSettings): { debugRunId: number } {
  const attr = db.prepare(`SELECT run_id, status FROM attribution_sessions WHERE id = ?`).get(p.attributionId) as { run_id: number; status: string } | undefined;
  if (!attr) throw new NotFoundError(`no attribution with id ${p.attributionId}`);
  const debugRun = runInfo(db, attr.run_id, 'debug');
  for (const [what, runId] of [['train', p.trainRunId], ['test', p.testRunId]] as const) {
    const r = runInfo(db, runId, what);
    if (r.model_id !== debugRun.model_id) throw new BadInputError(`the ${what} run ${runId} is of model ${r.model_id}, the debugged run ${debugRun.id} of model ${debugRun.model_id}: use runs of the same model`);
  }
  if (!(p.lambda >= 0) || !Number.isFinite(p.lambda)) throw new BadInputError(`lambda must be a finite number >= 0, got ${p.lambda}`);
  const model = db.prepare(`SELECT manifest FROM models WHERE id = ?`).get(debugRun.model_id) as { manifest: string };
  for (const [what, setId] of [['individual', p.individualSetId], ['random', p.randomSetId]] as const) {
    if (setId === null) continue;
    const s = setInfo(db, setId);
    // Collective debugging uses another model's set: it must be for the same classes.
    if (s.labels !== labelKey(JSON.parse(model.manifest) as ClassifierManifest)) throw new BadInputError(`generation set ${setId} was made for a model with other classes than the debugged model ${debugRun.model_id}`);
    if (s.kind !== what) throw new BadInputError(`generation set ${setId} is a ${s.kind} set; expected the ${what} set here`);
    if (s.status !== 'done') throw new BadInputError(`generation set ${setId} is ${s.status}: finish generating it first`);
    if (acceptedCount(db, setId) === 0) throw new BadInputError(`generation set ${setId} (${what}) has no accepted images: review it (accept some images) before retraining on it`);
    if (what === 'individual' && s.discoveryId !== null && p.k !== null) throw new BadInputError(`generation set ${setId} holds discovered failure modes, not attributed backgrounds: k does not apply (leave it empty)`);
  }
  return { debugRunId: debugRun.id };
}

export function settingsKey(p: DebugSettings): string {
  return createHash('sha256').update(JSON.stringify(Object.entries(p).sort(([a], [b]) => (a < b ? -1 : 1)))).digest('hex');
}

interface Extra {
  set: FeatureSet;
  perClass: Map<number, number>;
}

type Row = { id: number; class_idx: number; background: string | null; features: Buffer };

/** Accepted images of a set with their features as `modelId` sees them (stored at generation for the
 * set's own model; computed by ensureSetFeatures for another model of a group). */
function acceptedRows(db: Db, set: SetInfo, modelId: number): Row[] {
  const rows = (
    set.modelId === modelId
      ? db.prepare(`SELECT id, class_idx, background, features FROM generated_images WHERE set_id = ? AND review = 'accepted' AND features IS NOT NULL ORDER BY id`).all(set.id)
      : db
          .prepare(
            `SELECT g.id, g.class_idx, g.background, f.features FROM generated_images g JOIN generated_features f ON f.image_id = g.id AND f.model_id = ?
             WHERE g.set_id = ? AND g.review = 'accepted' ORDER BY g.id`,
          )
          .all(modelId, set.id)
  ) as Row[];
  if (rows.length !== acceptedCount(db, set.id)) throw new Error(`generation set ${set.id}: features of model ${modelId} are missing for ${acceptedCount(db, set.id) - rows.length} accepted images`);
  return rows;
}

/** The rows whose background is among its class's top k of the set's own choice (by votes). */
function topKRows(db: Db, set: SetInfo, rows: Row[], k: number): Row[] {
  const rank = new Map<string, number>();
  for (const [c, t] of topBackgrounds(db, [set.attributionId, ...set.pooled])) t.phrases.forEach((ph, i) => rank.set(`${c}\u0000${ph}`, i));
  return rows.filter((r) => r.background !== null && (rank.get(`${r.class_idx}\u0000${r.background}`) ?? Infinity) < k);
}

function toFeatureSet(rows: { class_idx: number; features: Buffer }[], D: number): Extra {
  const features = new Float32Array(rows.length * D);
  const perClass = new Map<number, number>();
  rows.forEach((r, i) => {
    const f = blobToF32(r.features);
    if (f.length !== D) throw new BadInputError(`a generated image's features have ${f.length} values; the model's feature dimension is ${D}`);
    features.set(f, i * D);
    perClass.set(r.class_idx, (perClass.get(r.class_idx) ?? 0) + 1);
  });
  return { set: { features, labels: Int32Array.from(rows.map((r) => r.class_idx)) }, perClass };
}

/** The random baseline uses as many accepted images per class as individual debugging has (a
 * seeded sample; all of them where it has fewer). */
export function matchPerClass<T extends { class_idx: number }>(rows: T[], target: Map<number, number>, seed: number): T[] {
  const rnd = mulberry32(seed);
  const byClass = new Map<number, T[]>();
  for (const r of rows) byClass.set(r.class_idx, [...(byClass.get(r.class_idx) ?? []), r]);
  const out: T[] = [];
  for (const [c, list] of [...byClass].sort((a, b) => a[0] - b[0])) {
    const want = target.get(c) ?? 0;
    const a = [...list];
    for (let i = a.length - 1; i > 0; i--) {
      const j = Math.floor(rnd() * (i + 1));
      [a[i], a[j]] = [a[j]!, a[i]!];
    }
    out.push(...a.slice(0, want));
  }
  return out;
}

function subset(f: RunFeatures, ids: ReadonlySet<number>): FeatureSet {
  const D = f.featureDim;
  const rows: number[] = [];
  f.imageIds.forEach((id, i) => ids.has(id) && rows.push(i));
  const features = new Float32Array(rows.length * D);
  rows.forEach((r, i) => features.set(f.features.subarray(r * D, (r + 1) * D), i * D));
  return { features, labels: Int32Array.from(rows.map((r) => f.labels[r]!)) };
}

/** Why the head retraining skips the providers a request puts before 'cpu': its arithmetic (a few
 * Gemm graphs per step, head.ortBackend) always runs on onnxruntime's CPU provider. */
export const HEAD_ON_CPU = "the head retraining runs on onnxruntime's CPU provider only";

/** The fallbacks the debug job reports for its head retraining under `request`: every provider the
 * request would try before 'cpu', each with HEAD_ON_CPU (none for an explicit 'cpu'). */
export function headFallbacks(request: ProviderRequest): ProviderFallback[] {
  return providerOrder(request)
    .filter((p) => p !== 'cpu')
    .map((provider) => ({ provider, reason: HEAD_ON_CPU }));
}

/**
 * The debug job: features, heads, evaluations; one debug_results row at the end. `provider` is the
 * request for the one model session the job may open (the debugged model's classifier, computing
 * features of another model's generated images in collective debugging); the head's own sessions
 * run on CPU. `onProvider` hears the head backend's provider when it opens, the classifier's when
 * one is opened, and the head's again when training moves back to it: the last call is the head's.
 */
export async function runDebug(
  db: Db,
  blobs: BlobStore,
  p: DebugJobParams,
  progress: Progress,
  signal: AbortSignal,
  provider: ProviderRequest = 'auto',
  onProvider?: (provider: string, fallbacks: { provider: string; reason: string }[]) => void,
): Promise<{ id: number }> {
  const t0 = performance.now();
  const { debugRunId } = checkDebugSettings(db, p);
  const model = db.prepare(`SELECT m.id, m.dir, m.manifest, m.sha256 FROM runs r JOIN models m ON m.id = r.model_id WHERE r.id = ?`).get(debugRunId) as { id: number; dir: string; manifest: string; sha256: string };
  const manifest = JSON.parse(model.manifest) as ClassifierManifest;
  const C = manifest.head.num_classes;
  const D = manifest.head.feature_dim;
  const classNames = manifest.labels.map((l) => l.name);
  const steps = 2 + (p.randomSetId !== null ? 1 : 0);
  progress(0, steps, 'reading features');
  const { init } = await readHeadInit(model.dir);
  const initOutIn = init.layout === 'out_in' ? init.weight : transpose(init.weight, D, C);
  const train = readRunFeatures(db, blobs, p.trainRunId);
  const test = readRunFeatures(db, blobs, p.testRunId);
  const split = db.prepare(`SELECT image_id, part FROM attribution_split WHERE session_id = ?`).all(p.attributionId) as { image_id: number; part: 'seed' | 'heldout' }[];
  const debug = readRunFeatures(db, blobs, debugRunId, new Set(split.map((s) => s.image_id)));
  const seedSet = subset(debug, new Set(split.filter((s) => s.part === 'seed').map((s) => s.image_id)));
  const heldSet = subset(debug, new Set(split.filter((s) => s.part === 'heldout').map((s) => s.image_id)));
  const trainSet: FeatureSet = { features: train.features, labels: train.labels };
  const testSet: FeatureSet = { features: test.features, labels: test.labels };

  // One head backend (onnxruntime, CPU) for every evaluation and both trainings of the job.
  const head = await ortBackend({ provider: 'cpu' });
  try {
    const recordHead = () => onProvider?.(head.provider, headFallbacks(provider));
    recordHead();
    const evaluate = async (w: Float32Array, b: Float32Array | null): Promise<DebugAccuracy> => ({
      test: (await evaluateHead(w, b, C, D, testSet, head)).accuracy,
      seed: (await evaluateHead(w, b, C, D, seedSet, head)).accuracy,
      heldout: (await evaluateHead(w, b, C, D, heldSet, head)).accuracy,
    });
    const before = await evaluate(initOutIn, init.bias);

    const indSet = setInfo(db, p.individualSetId);
    const rndSet = p.randomSetId === null ? null : setInfo(db, p.randomSetId);
    let openedClassifier = false;
    for (const set of [indSet, rndSet]) {
      if (set && set.modelId !== model.id) {
        await ensureSetFeatures(db, blobs, set.id, { id: model.id, dir: model.dir }, provider, (d, t, m) => progress(0, steps, m ?? `features of set ${set.id}: ${d}/${t}`), signal, (active, fallbacks) => {
          openedClassifier = true;
          onProvider?.(active, fallbacks);
        });
      }
    }
    if (openedClassifier) recordHead();
    const allInd = acceptedRows(db, indSet, model.id);
    const indRows = p.k === null ? allInd : topKRows(db, indSet, allInd, p.k);
    if (!indRows.length) throw new BadInputError(`generation set ${p.individualSetId} has no accepted images among each class's top ${p.k} backgrounds`);
    const individualExtra = toFeatureSet(indRows, D);
    const train1 = async (extra: FeatureSet, label: string): Promise<TrainedHead> =>
      p.optimizer === 'lbfgs'
        ? trainHead({ numClasses: C, featureDim: D, train: trainSet, extra, init, classNames }, { optimizer: 'lbfgs', lambda: p.lambda, signal, backend: head })
        : trainHead(
            { numClasses: C, featureDim: D, train: trainSet, extra, init, classNames },
            { optimizer: 'sgd', lambda: p.lambda, epochs: p.epochs, seed: p.seed, signal, backend: head, onProgress: (q) => progress(label === 'individual' ? 1 : 2, steps, `${label}: epoch ${q.step}/${q.of}, loss ${q.loss.toFixed(4)}`) },
          );
    progress(1, steps, `retraining the head on ${indRows.length} accepted images (individual)`);
    const ind = await train1(individualExtra.set, 'individual');
    const individual = { ...(await evaluate(ind.weight, ind.bias)), loss: ind.loss, seconds: ind.seconds };
    let random: (DebugAccuracy & { loss: number; seconds: number }) | null = null;
    let rnd: TrainedHead | null = null;
    let randomUsed = 0;
    let randomAccepted = 0;
    if (p.randomSetId !== null) {
      const all = acceptedRows(db, rndSet!, model.id);
      randomAccepted = all.length;
      const matched = matchPerClass(all, individualExtra.perClass, p.seed);
      randomUsed = matched.length;
      progress(2, steps, `retraining the head on ${matched.length} accepted images (random)`);
      rnd = await train1(toFeatureSet(matched, D).set, 'random');
      random = { ...(await evaluate(rnd.weight, rnd.bias)), loss: rnd.loss, seconds: rnd.seconds };
    }
    if (signal.aborted) throw new Error('cancelled');
    const store = (h: TrainedHead) => ({ weightBlob: blobs.putFloat32(h.weight), biasBlob: blobs.putFloat32(h.bias) });
    const result: Omit<DebugResult, 'id' | 'createdAt'> = {
      runId: debugRunId,
      attributionId: p.attributionId,
      settings: p,
      model: { dir: model.dir, name: manifest.name, sha256: model.sha256, numClasses: C, featureDim: D },
      counts: { train: train.imageIds.length, test: test.imageIds.length, debugSet: split.length, seed: seedSet.labels.length, heldout: heldSet.labels.length },
      generated: { individual: indRows.length, random: randomUsed, randomAccepted },
      before,
      individual,
      random,
      gain: {
        individual: { test: individual.test - before.test, seed: individual.seed - before.seed, heldout: individual.heldout - before.heldout },
        random: random ? { test: random.test - before.test, seed: random.seed - before.seed, heldout: random.heldout - before.heldout } : null,
      },
      heads: { individual: store(ind), random: rnd ? store(rnd) : null },
      optimizer: { name: p.optimizer, backend: ind.backend, lr: SGD_DEFAULTS.lr, momentum: SGD_DEFAULTS.momentum, weightDecay: SGD_DEFAULTS.weightDecay, batchSize: SGD_DEFAULTS.batchSize },
      seconds: (performance.now() - t0) / 1000,
    };
    const key = settingsKey(p);
    const row = db
      .prepare(
        `INSERT INTO debug_results (run_id, attribution_id, settings_key, settings, result) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (settings_key) DO UPDATE SET result = excluded.result, created_at = strftime('%Y-%m-%dT%H:%M:%fZ','now') RETURNING id`,
      )
      .get(debugRunId, p.attributionId, key, JSON.stringify(p), JSON.stringify(result)) as { id: number };
    progress(steps, steps, 'done');
    return { id: row.id };
  } finally {
    await head.dispose();
  }
}

export function getDebugResult(db: Db, id: number): DebugResult {
  const r = db.prepare(`SELECT id, result, created_at FROM debug_results WHERE id = ?`).get(id) as { id: number; result: string; created_at: string } | undefined;
  if (!r) throw new NotFoundError(`no debug result with id ${id}`);
  return { ...(JSON.parse(r.result) as Omit<DebugResult, 'id' | 'createdAt'>), id: r.id, createdAt: r.created_at };
}

export function findDebugResult(db: Db, p: DebugSettings): number | null {
  const r = db.prepare(`SELECT id FROM debug_results WHERE settings_key = ?`).get(settingsKey(p)) as { id: number } | undefined;
  return r?.id ?? null;
}

export function listDebugResults(db: Db, p: Params<'debug.list'>): DebugSummary[] {
  const rows = (
    p.runId === undefined
      ? db.prepare(`SELECT id FROM debug_results ORDER BY id`).all()
      : db.prepare(`SELECT id FROM debug_results WHERE run_id = ? ORDER BY id`).all(p.runId)
  ) as { id: number }[];
  return rows.map((r) => {
    const d = getDebugResult(db, r.id);
    return { id: d.id, runId: d.runId, attributionId: d.attributionId, settings: d.settings, lambda: d.settings.lambda, before: d.before, individual: d.individual, random: d.random, generated: d.generated, createdAt: d.createdAt };
  });
}

/** The stored results that differ from `r` only in λ (all backgrounds) or only in k (same λ): the
 * points of the paper's Figure 5, each sorted by its parameter. */
export function sweepOf(db: Db, r: DebugResult): { lambda: DebugResult[]; k: DebugResult[] } {
  const all = (db.prepare(`SELECT id FROM debug_results WHERE attribution_id = ? ORDER BY id`).all(r.attributionId) as { id: number }[])
    .map((x) => getDebugResult(db, x.id))
    .filter((d) => sameSweep(d.settings, r.settings));
  return {
    lambda: all.filter((d) => d.settings.k === null).sort((a, b) => a.settings.lambda - b.settings.lambda),
    k: all.filter((d) => d.settings.lambda === r.settings.lambda && d.settings.k !== null).sort((a, b) => a.settings.k! - b.settings.k!),
  };
}

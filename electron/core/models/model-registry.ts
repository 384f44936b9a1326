import { existsSync, mkdirSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { Db } from '../store/database.ts';
import type { ModelSummary } from '../../contract.ts';
import { createClassifierPackage } from '../../../native-models/classifier/index.ts';
import { loadModelPackage, type ClassifierManifest } from '../../../native-models/manifest/index.ts';
import { readPreprocessFile } from '../../../native-models/preprocess/index.ts';
import { BadInputError, NotFoundError } from '../errors.ts';

interface ModelRow {
  id: number;
  name: string;
  kind: string;
  dir: string;
  manifest: string;
  sha256: string;
  created_at: string;
}

function toSummary(r: ModelRow): ModelSummary {
  const m = JSON.parse(r.manifest) as ClassifierManifest;
  return {
    id: r.id,
    name: r.name,
    kind: 'classifier',
    preset: m.preset,
    numClasses: m.head.num_classes,
    classNames: m.labels.map((l) => l.name),
    featureDim: m.head.feature_dim,
    inputShape: m.input.shape,
    sha256: r.sha256,
    dir: r.dir,
    createdAt: r.created_at,
  };
}

export function listModels(db: Db): ModelSummary[] {
  return (db.prepare(`SELECT * FROM models ORDER BY id`).all() as ModelRow[]).map(toSummary);
}

export function getModel(db: Db, modelId: number): ModelSummary {
  const row = db.prepare(`SELECT * FROM models WHERE id = ?`).get(modelId) as ModelRow | undefined;
  if (!row) throw new NotFoundError(`no model with id ${modelId}`);
  return toSummary(row);
}

/** Registers an existing model package folder (validated against its manifest); same files -> same row. */
export async function registerPackage(db: Db, dir: string, name?: string): Promise<ModelSummary> {
  const pkg = await loadModelPackage(resolve(dir));
  if (pkg.manifest.kind !== 'classifier') throw new BadInputError(`${dir}: only classifier packages can be registered as models for runs (found ${pkg.manifest.kind})`);
  const manifest = pkg.manifest;
  const existing = db.prepare(`SELECT * FROM models WHERE kind = 'classifier' AND sha256 = ?`).get(manifest.onnx_sha256) as ModelRow | undefined;
  if (existing && existing.manifest === JSON.stringify(manifest)) return toSummary(existing);
  const row = db
    .prepare(`INSERT INTO models (name, kind, dir, manifest, sha256) VALUES (?, 'classifier', ?, ?, ?) ON CONFLICT (kind, sha256) DO UPDATE SET manifest = excluded.manifest, dir = excluded.dir RETURNING *`)
    .get(name ?? manifest.name, resolve(dir), JSON.stringify(manifest), manifest.onnx_sha256) as ModelRow;
  return toSummary(row);
}

/** `model add --onnx FILE`: reads the graph, writes a package into the lab's models/ folder, registers it. */
export async function addClassifierFromOnnx(
  db: Db,
  labDir: string,
  p: { onnx: string; name?: string; preset: 'imagenet' | 'clip' | 'none'; labels?: string; preprocess?: string },
): Promise<ModelSummary> {
  const onnx = resolve(p.onnx);
  if (!existsSync(onnx)) throw new Error(`ONNX file not found: ${onnx}`);
  const name = p.name ?? basename(onnx).replace(/\.onnx$/i, '');
  const slug = name.replace(/[^A-Za-z0-9._-]+/g, '-').slice(0, 60) || 'model';
  const modelsDir = join(labDir, 'models');
  mkdirSync(modelsDir, { recursive: true });
  let outDir = join(modelsDir, slug);
  for (let i = 2; existsSync(outDir); i++) outDir = join(modelsDir, `${slug}-${i}`);
  const preprocess = p.preprocess ? readPreprocessFile(resolve(p.preprocess)) : undefined;
  await createClassifierPackage({ onnxPath: onnx, outDir, name, preset: p.preset, labelsPath: p.labels ? resolve(p.labels) : undefined, preprocess });
  return registerPackage(db, outDir, name);
}

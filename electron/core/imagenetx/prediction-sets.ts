// Prediction files in the ImageNet-X toolkit's CSV format imported into a lab as model runs that
// need no images (published predictions): a prediction set per file. The file is validated whole
// by the same parser as `factorlab imagenetx error-ratios` (every bad line as file:line) before
// anything is written, and stored in one IMMEDIATE transaction, so a refused file leaves nothing.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, extname, resolve } from 'node:path';
import type { Db } from '../store/database.ts';
import type { PredictionSetInfo } from '../../contract.ts';
import { BadInputError, NotFoundError } from '../errors.ts';
import { parsePredictions } from './predictions.ts';

export interface ImportPredictionsParams {
  file: string;
  /** Default: the file's stem, as the toolkit names a model by its CSV file. */
  name?: string;
  /** Predicted classes are 0..numClasses-1 (ImageNet-1k: 1000). */
  numClasses?: number;
}

/** One stored prediction, as the analytics join it to annotations. */
export interface StoredPrediction {
  fileName: string;
  predicted: number;
  confidence: number;
}

interface SetRow {
  id: number;
  name: string;
  file: string;
  sha256: string;
  num_classes: number;
  rows: number;
  created_at: string;
  in_lab: number;
}

const SET_SQL = `
  SELECT s.*, (SELECT COUNT(*) FROM prediction_set_rows r WHERE r.set_id = s.id AND EXISTS (SELECT 1 FROM images i WHERE i.file_name = r.file_name)) AS in_lab
  FROM prediction_sets s`;

function toInfo(r: SetRow): PredictionSetInfo {
  return { id: r.id, name: r.name, file: r.file, sha256: r.sha256, numClasses: r.num_classes, numPredictions: r.rows, numImagesInLab: r.in_lab, createdAt: r.created_at };
}

export function importPredictionSet(db: Db, p: ImportPredictionsParams): PredictionSetInfo {
  const file = resolve(p.file);
  if (!existsSync(file) || !statSync(file).isFile()) throw new BadInputError(`prediction file not found: ${file}`);
  const name = (p.name ?? basename(file, extname(file))).trim();
  if (!name) throw new BadInputError('a prediction set needs a name');
  if (db.prepare(`SELECT 1 FROM prediction_sets WHERE name = ?`).get(name)) {
    throw new BadInputError(`a prediction set named "${name}" already exists in this lab: choose another name`);
  }
  const bytes = readFileSync(file);
  const numClasses = p.numClasses ?? 1000;
  const table = parsePredictions(bytes.toString('utf8'), file, { numClasses });
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const id = db
    .transaction(() => {
      const setId = Number(
        db.prepare(`INSERT INTO prediction_sets (name, file, sha256, num_classes, rows) VALUES (?, ?, ?, ?, ?)`).run(name, file, sha256, numClasses, table.fileNames.length).lastInsertRowid,
      );
      const ins = db.prepare(`INSERT INTO prediction_set_rows (set_id, file_name, pred_class, probability, line) VALUES (?, ?, ?, ?, ?)`);
      for (let k = 0; k < table.fileNames.length; k++) ins.run(setId, table.fileNames[k], table.predicted[k], table.probability[k], table.lines[k]);
      return setId;
    })
    .immediate();
  return getPredictionSet(db, id);
}

export function listPredictionSets(db: Db): PredictionSetInfo[] {
  return (db.prepare(`${SET_SQL} ORDER BY s.id`).all() as SetRow[]).map(toInfo);
}

export function getPredictionSet(db: Db, id: number): PredictionSetInfo {
  const row = db.prepare(`${SET_SQL} WHERE s.id = ?`).get(id) as SetRow | undefined;
  if (!row) throw new NotFoundError(`no prediction set with id ${id}`);
  return toInfo(row);
}

/** The set's name without the counts (cheap: analytics call it per chart series). */
export function predictionSetName(db: Db, id: number): string {
  const name = db.prepare(`SELECT name FROM prediction_sets WHERE id = ?`).pluck().get(id) as string | undefined;
  if (name === undefined) throw new NotFoundError(`no prediction set with id ${id}`);
  return name;
}

export function deletePredictionSet(db: Db, id: number): { deleted: number } {
  predictionSetName(db, id);
  db.prepare(`DELETE FROM prediction_sets WHERE id = ?`).run(id);
  return { deleted: id };
}

/** The set's predictions in file order. */
export function predictionSetRows(db: Db, id: number): StoredPrediction[] {
  predictionSetName(db, id);
  return (db.prepare(`SELECT file_name, pred_class, probability FROM prediction_set_rows WHERE set_id = ? ORDER BY line`).all(id) as { file_name: string; pred_class: number; probability: number }[]).map(
    (r) => ({ fileName: r.file_name, predicted: r.pred_class, confidence: r.probability }),
  );
}

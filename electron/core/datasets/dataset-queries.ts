import type { Db } from '../store/database.ts';
import type { DatasetDetail, DatasetSummary, ImageRow, Page } from '../../contract.ts';
import { NotFoundError } from '../errors.ts';

interface DatasetRow {
  id: number;
  name: string;
  root: string;
  source: 'folder' | 'csv';
  split: string | null;
  created_at: string;
  num_images: number;
  num_classes: number;
  num_skipped: number;
}

const SQL = `SELECT d.*,
  (SELECT COUNT(*) FROM images i WHERE i.dataset_id = d.id) AS num_images,
  (SELECT COUNT(DISTINCT class_idx) FROM images i WHERE i.dataset_id = d.id) AS num_classes,
  (SELECT COUNT(*) FROM import_skips s WHERE s.dataset_id = d.id) AS num_skipped
  FROM datasets d`;

function toSummary(r: DatasetRow): DatasetSummary {
  return {
    id: r.id,
    name: r.name,
    root: r.root,
    source: r.source,
    split: r.split,
    numImages: r.num_images,
    numClasses: r.num_classes,
    numSkipped: r.num_skipped,
    createdAt: r.created_at,
  };
}

export function listDatasets(db: Db): DatasetSummary[] {
  return (db.prepare(`${SQL} ORDER BY d.id`).all() as DatasetRow[]).map(toSummary);
}

export function datasetDetail(db: Db, datasetId: number): DatasetDetail {
  const row = db.prepare(`${SQL} WHERE d.id = ?`).get(datasetId) as DatasetRow | undefined;
  if (!row) throw new NotFoundError(`no dataset with id ${datasetId}`);
  const classes = db
    .prepare(
      `SELECT c.idx, c.name, c.wnid, COUNT(i.id) AS count FROM dataset_classes c JOIN images i ON i.dataset_id = c.dataset_id AND i.class_idx = c.idx
       WHERE c.dataset_id = ? GROUP BY c.idx ORDER BY c.idx`,
    )
    .all(datasetId) as { idx: number; name: string; wnid: string | null; count: number }[];
  const skipped = db.prepare(`SELECT path, reason FROM import_skips WHERE dataset_id = ? ORDER BY path`).all(datasetId) as { path: string; reason: string }[];
  return { ...toSummary(row), classes, skipped };
}

export function datasetImages(db: Db, p: { datasetId: number; classIdx?: number; offset: number; limit: number }): Page<ImageRow> {
  const filter = p.classIdx === undefined ? '' : ' AND i.class_idx = @classIdx';
  const args = { datasetId: p.datasetId, ...(p.classIdx === undefined ? {} : { classIdx: p.classIdx }) };
  const total = (db.prepare(`SELECT COUNT(*) AS n FROM images i WHERE i.dataset_id = @datasetId${filter}`).get(args) as { n: number }).n;
  const rows = db
    .prepare(
      `SELECT i.id, i.rel_path, i.class_idx, c.name AS class_name, i.width, i.height FROM images i
       LEFT JOIN dataset_classes c ON c.dataset_id = i.dataset_id AND c.idx = i.class_idx
       WHERE i.dataset_id = @datasetId${filter} ORDER BY i.id LIMIT @limit OFFSET @offset`,
    )
    .all({ ...args, limit: p.limit, offset: p.offset }) as { id: number; rel_path: string; class_idx: number | null; class_name: string | null; width: number | null; height: number | null }[];
  return {
    total,
    offset: p.offset,
    items: rows.map((r) => ({ id: r.id, relPath: r.rel_path, classIdx: r.class_idx, className: r.class_name, width: r.width, height: r.height })),
  };
}

export function imageRecord(db: Db, imageId: number) {
  const row = db
    .prepare(
      `SELECT i.*, d.root, c.name AS class_name FROM images i JOIN datasets d ON d.id = i.dataset_id
       LEFT JOIN dataset_classes c ON c.dataset_id = i.dataset_id AND c.idx = i.class_idx WHERE i.id = ?`,
    )
    .get(imageId) as
    | { id: number; dataset_id: number; rel_path: string; class_idx: number | null; class_name: string | null; bytes: number; sha256: string; width: number | null; height: number | null; root: string }
    | undefined;
  if (!row) throw new NotFoundError(`no image with id ${imageId}`);
  return row;
}

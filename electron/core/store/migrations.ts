// Schema migrations, applied in order; PRAGMA user_version holds how many have run.
// Never edit a shipped migration: append a new one.
export const migrations: readonly string[] = [
  `
  CREATE TABLE datasets (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    root TEXT NOT NULL,
    source TEXT NOT NULL CHECK (source IN ('folder', 'csv')),
    csv_path TEXT,
    split TEXT,
    content_hash TEXT NOT NULL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
  );
  CREATE TABLE dataset_classes (
    dataset_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
    idx INTEGER NOT NULL,
    name TEXT NOT NULL,
    wnid TEXT,
    PRIMARY KEY (dataset_id, idx)
  );
  CREATE TABLE images (
    id INTEGER PRIMARY KEY,
    dataset_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
    rel_path TEXT NOT NULL,
    file_name TEXT NOT NULL,
    class_idx INTEGER,
    bytes INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    width INTEGER,
    height INTEGER,
    UNIQUE (dataset_id, rel_path)
  );
  CREATE INDEX images_by_file_name ON images(file_name);
  CREATE INDEX images_by_class ON images(dataset_id, class_idx);
  CREATE TABLE import_skips (
    id INTEGER PRIMARY KEY,
    dataset_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
    path TEXT NOT NULL,
    reason TEXT NOT NULL
  );
  CREATE TABLE models (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    dir TEXT NOT NULL,
    manifest TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    UNIQUE (kind, sha256)
  );
  CREATE TABLE runs (
    id INTEGER PRIMARY KEY,
    model_id INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,
    dataset_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
    cache_key TEXT NOT NULL UNIQUE,
    status TEXT NOT NULL CHECK (status IN ('running', 'done', 'incomplete')),
    batch_size INTEGER NOT NULL,
    provider TEXT,
    num_classes INTEGER NOT NULL,
    feature_dim INTEGER NOT NULL,
    num_images INTEGER NOT NULL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    finished_at TEXT
  );
  CREATE TABLE run_batches (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    batch_idx INTEGER NOT NULL,
    features_blob TEXT NOT NULL,
    rows INTEGER NOT NULL,
    PRIMARY KEY (run_id, batch_idx)
  );
  CREATE TABLE predictions (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
    batch_idx INTEGER NOT NULL,
    batch_row INTEGER NOT NULL,
    true_class INTEGER,
    pred_class INTEGER NOT NULL,
    confidence REAL NOT NULL,
    true_prob REAL,
    correct INTEGER,
    top5 TEXT NOT NULL,
    PRIMARY KEY (run_id, image_id)
  ) WITHOUT ROWID;
  CREATE INDEX predictions_by_outcome ON predictions(run_id, correct, confidence);
  CREATE TABLE run_errors (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
    batch_idx INTEGER NOT NULL,
    reason TEXT NOT NULL,
    PRIMARY KEY (run_id, image_id)
  );
  CREATE TABLE jobs (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    params TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed', 'cancelled', 'interrupted')),
    done INTEGER NOT NULL DEFAULT 0,
    total INTEGER NOT NULL DEFAULT 0,
    message TEXT,
    error TEXT,
    result_ref TEXT,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
  );
  CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
  `,
  // 2: ImageNet-X annotations. A source is one set of labels (an imported file, the ShapeWorld
  // ground truth, an annotator, a consensus); `factors` is a 16-bit mask, bit i = factor i of
  // IMAGENET_X_FACTORS; `line` keeps the file order for export; `format` (JSON) how the file was
  // written (key order, separators, escaping) so that an imported file exports identically.
  // image_id: an image of any dataset with the same file name (null when none); analysis joins
  // by file name, so annotations imported before their images still count.
  `
  CREATE TABLE annotation_sources (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL CHECK (kind IN ('imagenet-x-file', 'ground-truth', 'annotator', 'consensus')),
    origin TEXT,
    format TEXT,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
  );
  CREATE TABLE annotations (
    source_id INTEGER NOT NULL REFERENCES annotation_sources(id) ON DELETE CASCADE,
    line INTEGER NOT NULL,
    file_name TEXT NOT NULL,
    image_id INTEGER REFERENCES images(id) ON DELETE SET NULL,
    class_idx INTEGER NOT NULL,
    factors INTEGER NOT NULL CHECK (factors BETWEEN 0 AND 65535),
    top_factor TEXT,
    justification TEXT,
    one_word TEXT,
    PRIMARY KEY (source_id, file_name)
  );
  CREATE INDEX annotations_by_file_name ON annotations(file_name);
  CREATE INDEX annotations_by_image ON annotations(image_id);
  CREATE TABLE annotation_prototypes (
    source_id INTEGER NOT NULL REFERENCES annotation_sources(id) ON DELETE CASCADE,
    file_name TEXT NOT NULL,
    PRIMARY KEY (source_id, file_name)
  ) WITHOUT ROWID;
  CREATE TABLE metaclasses (
    class_idx INTEGER PRIMARY KEY,
    wnid TEXT NOT NULL,
    name TEXT NOT NULL,
    metaclass INTEGER NOT NULL
  );
  `,
];

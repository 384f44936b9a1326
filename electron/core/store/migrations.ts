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
  // 3: background attribution (Chegini & Feizi): a session = one run + one CLIP package + k + seed.
  // The debug set's seed/heldout split, per-class background lists (editable: merged_into / dropped,
  // with an edit log for undo), image embeddings (resume skips stored images), each seed failure's
  // chosen background, Domino-style descriptions; background_lists: a lab's own list for a class.
  `
  CREATE TABLE attribution_sessions (
    id INTEGER PRIMARY KEY,
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    clip_dir TEXT NOT NULL,
    clip_sha256 TEXT NOT NULL,
    k INTEGER NOT NULL CHECK (k > 0),
    seed INTEGER NOT NULL,
    vocabulary TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'running', 'done', 'incomplete', 'failed')),
    message TEXT,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    finished_at TEXT,
    UNIQUE (run_id, clip_sha256, k, seed)
  );
  CREATE TABLE attribution_split (
    session_id INTEGER NOT NULL REFERENCES attribution_sessions(id) ON DELETE CASCADE,
    image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
    class_idx INTEGER NOT NULL,
    part TEXT NOT NULL CHECK (part IN ('seed', 'heldout')),
    PRIMARY KEY (session_id, image_id)
  ) WITHOUT ROWID;
  CREATE TABLE attribution_backgrounds (
    id INTEGER PRIMARY KEY,
    session_id INTEGER NOT NULL REFERENCES attribution_sessions(id) ON DELETE CASCADE,
    class_idx INTEGER NOT NULL,
    position INTEGER NOT NULL,
    phrase TEXT NOT NULL,
    origin TEXT NOT NULL CHECK (origin IN ('vocabulary', 'added')),
    embedding BLOB,
    merged_into INTEGER REFERENCES attribution_backgrounds(id),
    dropped INTEGER NOT NULL DEFAULT 0
  );
  CREATE INDEX attribution_backgrounds_by_class ON attribution_backgrounds(session_id, class_idx);
  CREATE TABLE attribution_images (
    session_id INTEGER NOT NULL REFERENCES attribution_sessions(id) ON DELETE CASCADE,
    image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
    class_idx INTEGER NOT NULL,
    embedding BLOB,
    error TEXT,
    PRIMARY KEY (session_id, image_id)
  ) WITHOUT ROWID;
  CREATE TABLE attribution_choices (
    session_id INTEGER NOT NULL REFERENCES attribution_sessions(id) ON DELETE CASCADE,
    image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
    class_idx INTEGER NOT NULL,
    background_id INTEGER REFERENCES attribution_backgrounds(id) ON DELETE SET NULL,
    similarity REAL,
    PRIMARY KEY (session_id, image_id)
  ) WITHOUT ROWID;
  CREATE TABLE attribution_domino (
    session_id INTEGER NOT NULL REFERENCES attribution_sessions(id) ON DELETE CASCADE,
    class_idx INTEGER NOT NULL,
    phrases TEXT NOT NULL,
    PRIMARY KEY (session_id, class_idx)
  ) WITHOUT ROWID;
  CREATE TABLE attribution_edits (
    id INTEGER PRIMARY KEY,
    session_id INTEGER NOT NULL REFERENCES attribution_sessions(id) ON DELETE CASCADE,
    class_idx INTEGER NOT NULL,
    op TEXT NOT NULL CHECK (op IN ('rename', 'merge', 'drop', 'add')),
    detail TEXT NOT NULL,
    before TEXT NOT NULL,
    undone INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
  );
  CREATE TABLE background_lists (
    vocabulary TEXT NOT NULL,
    class_name TEXT NOT NULL,
    phrases TEXT NOT NULL,
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    PRIMARY KEY (vocabulary, class_name)
  );
  `,
  // 4: the labelling workspace. Each annotator's labels live in a source of kind 'annotator' (one
  // per name); review writes a 'consensus' source. annotations gain who wrote them, when, and how
  // long the image was looked at. label_edits keeps every change's previous row (JSON, null = none)
  // grouped into undo steps (one per single label, one per bulk apply). A queue is a dataset plus a
  // stored ordering of its images (failures of a run, unlabelled, disagreements, seeded random):
  // pages of it are range reads on (queue_id, pos).
  `
  ALTER TABLE annotations ADD COLUMN annotator TEXT;
  ALTER TABLE annotations ADD COLUMN updated_at TEXT;
  ALTER TABLE annotations ADD COLUMN seconds REAL;
  CREATE INDEX annotations_by_source_image ON annotations(source_id, image_id);
  CREATE TABLE label_edit_groups (
    id INTEGER PRIMARY KEY,
    actor TEXT NOT NULL,
    source_id INTEGER NOT NULL REFERENCES annotation_sources(id) ON DELETE CASCADE,
    op TEXT NOT NULL,
    count INTEGER NOT NULL,
    undone INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
  );
  CREATE INDEX label_edit_groups_by_actor ON label_edit_groups(actor, undone, id);
  CREATE TABLE label_edits (
    group_id INTEGER NOT NULL REFERENCES label_edit_groups(id) ON DELETE CASCADE,
    file_name TEXT NOT NULL,
    before TEXT,
    after TEXT,
    PRIMARY KEY (group_id, file_name)
  ) WITHOUT ROWID;
  CREATE TABLE label_queues (
    id INTEGER PRIMARY KEY,
    dataset_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('all', 'failures', 'unlabelled', 'disagreements', 'random')),
    run_id INTEGER REFERENCES runs(id) ON DELETE CASCADE,
    annotator TEXT,
    seed INTEGER,
    size INTEGER NOT NULL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
  );
  CREATE TABLE label_queue_items (
    queue_id INTEGER NOT NULL REFERENCES label_queues(id) ON DELETE CASCADE,
    pos INTEGER NOT NULL,
    image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
    PRIMARY KEY (queue_id, pos)
  ) WITHOUT ROWID;
  CREATE INDEX label_queue_items_by_image ON label_queue_items(queue_id, image_id);
  `,
  // 5: the process that owns a queued or running job (host:pid:token), so that a second process
  // opening the lab (a CLI command next to `factorlab serve`) does not take a live job for a crashed one.
  `ALTER TABLE jobs ADD COLUMN owner TEXT;`,
  // 6: the patch loop. A generation set = images generated for an attribution's classes, either
  // from its top backgrounds ('individual': "a photo of a {class} {background}") or from class
  // names alone ('random' debugging); each image with its prompt, seed, PNG blob, the run's
  // classifier features and prediction, CLIP's opinion of its class, and a review verdict (a log for undo).
  // pooled_from: the other attributions whose votes were pooled with this one's (collective debugging,
  // type 1; '' for one attribution). generated_features: a set's images seen by another model of
  // its group (collective debugging). A debug result = one retraining of the head with its settings
  // and its evaluation (JSON).
  `
  CREATE TABLE generation_sets (
    id INTEGER PRIMARY KEY,
    attribution_id INTEGER NOT NULL REFERENCES attribution_sessions(id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('individual', 'random')),
    diffusion_dir TEXT NOT NULL,
    diffusion_sha256 TEXT NOT NULL,
    per_prompt INTEGER NOT NULL CHECK (per_prompt > 0),
    steps INTEGER NOT NULL,
    guidance REAL NOT NULL,
    seed INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'running', 'done', 'incomplete', 'failed')),
    message TEXT,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    finished_at TEXT,
    pooled_from TEXT NOT NULL DEFAULT '',
    UNIQUE (attribution_id, pooled_from, kind, diffusion_sha256, per_prompt, steps, guidance, seed)
  );
  CREATE TABLE generated_images (
    id INTEGER PRIMARY KEY,
    set_id INTEGER NOT NULL REFERENCES generation_sets(id) ON DELETE CASCADE,
    prompt_index INTEGER NOT NULL,
    sample INTEGER NOT NULL,
    class_idx INTEGER NOT NULL,
    prompt TEXT NOT NULL,
    background TEXT,
    seed INTEGER NOT NULL,
    png_blob TEXT,
    features BLOB,
    pred_class INTEGER,
    clip_class INTEGER,
    clip_prob REAL,
    clip_rank INTEGER,
    review TEXT NOT NULL DEFAULT 'pending' CHECK (review IN ('pending', 'accepted', 'rejected')),
    reviewed_by TEXT,
    UNIQUE (set_id, prompt_index, sample)
  );
  CREATE INDEX generated_images_by_set ON generated_images(set_id, class_idx);
  CREATE TABLE generated_review_log (
    id INTEGER PRIMARY KEY,
    set_id INTEGER NOT NULL REFERENCES generation_sets(id) ON DELETE CASCADE,
    changes TEXT NOT NULL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
  );
  CREATE TABLE generated_features (
    image_id INTEGER NOT NULL REFERENCES generated_images(id) ON DELETE CASCADE,
    model_id INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,
    features BLOB NOT NULL,
    pred_class INTEGER NOT NULL,
    PRIMARY KEY (image_id, model_id)
  ) WITHOUT ROWID;
  CREATE TABLE debug_results (
    id INTEGER PRIMARY KEY,
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    attribution_id INTEGER NOT NULL REFERENCES attribution_sessions(id) ON DELETE CASCADE,
    settings_key TEXT NOT NULL UNIQUE,
    settings TEXT NOT NULL,
    result TEXT NOT NULL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
  );
  `,
  // 7: open-ended bug discovery (Wiles et al.). A session = model + generator + describer + settings
  // (settings_key: content hashes and settings). discovery_images holds the base images (hypothesis_id
  // 0: "a photo of a {class}") and the confirmation images of each hypothesis; a failure's words
  // (description: CLIP describer, caption: captioner package) are stored once computed, so a killed
  // job resumes. Clusters and hypotheses are written in one transaction with their planned images;
  // parent_id: a one-phrase hypothesis testing one phrase of a confirmed several-phrase mode (refine).
  `
  CREATE TABLE discovery_sessions (
    id INTEGER PRIMARY KEY,
    model_id INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,
    settings_key TEXT NOT NULL UNIQUE,
    settings TEXT NOT NULL,
    stage TEXT NOT NULL CHECK (stage IN ('generate', 'describe', 'cluster', 'confirm', 'refine', 'done')),
    status TEXT NOT NULL CHECK (status IN ('pending', 'running', 'done', 'incomplete', 'failed')),
    message TEXT,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    finished_at TEXT
  );
  CREATE TABLE discovery_clusters (
    id INTEGER PRIMARY KEY,
    session_id INTEGER NOT NULL REFERENCES discovery_sessions(id) ON DELETE CASCADE,
    idx INTEGER NOT NULL,
    name TEXT NOT NULL,
    members TEXT NOT NULL,
    UNIQUE (session_id, idx)
  );
  CREATE TABLE discovery_hypotheses (
    id INTEGER PRIMARY KEY,
    session_id INTEGER NOT NULL REFERENCES discovery_sessions(id) ON DELETE CASCADE,
    cluster_id INTEGER NOT NULL REFERENCES discovery_clusters(id) ON DELETE CASCADE,
    class_idx INTEGER NOT NULL,
    prompt TEXT NOT NULL,
    parent_id INTEGER REFERENCES discovery_hypotheses(id) ON DELETE CASCADE,
    UNIQUE (cluster_id, class_idx, prompt)
  );
  CREATE TABLE discovery_images (
    id INTEGER PRIMARY KEY,
    session_id INTEGER NOT NULL REFERENCES discovery_sessions(id) ON DELETE CASCADE,
    hypothesis_id INTEGER NOT NULL DEFAULT 0,
    class_idx INTEGER NOT NULL,
    sample INTEGER NOT NULL,
    prompt TEXT NOT NULL,
    seed INTEGER NOT NULL,
    png_blob TEXT,
    pred_class INTEGER,
    clip_rank INTEGER,
    clip_embedding BLOB,
    description TEXT,
    caption TEXT,
    UNIQUE (session_id, hypothesis_id, class_idx, sample)
  );
  CREATE INDEX discovery_images_by_hypothesis ON discovery_images(session_id, hypothesis_id);
  `,
  // 8: prediction files in the ImageNet-X toolkit's CSV format, imported as model runs that need no
  // images: one set per file (sha256 of its bytes), its rows keyed by file name as the toolkit joins
  // them to annotations; `line` is the row's line in the file, for messages.
  `
  CREATE TABLE prediction_sets (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    file TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    num_classes INTEGER NOT NULL,
    rows INTEGER NOT NULL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
  );
  CREATE TABLE prediction_set_rows (
    set_id INTEGER NOT NULL REFERENCES prediction_sets(id) ON DELETE CASCADE,
    file_name TEXT NOT NULL,
    pred_class INTEGER NOT NULL,
    probability REAL NOT NULL,
    line INTEGER NOT NULL,
    PRIMARY KEY (set_id, file_name)
  ) WITHOUT ROWID;
  `,
  // 9: what each done export job of a debug result wrote (the DebugExport as JSON), by job.
  `
  CREATE TABLE debug_exports (
    job_id INTEGER PRIMARY KEY,
    result_id INTEGER NOT NULL REFERENCES debug_results(id) ON DELETE CASCADE,
    export TEXT NOT NULL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
  );
  `,
];

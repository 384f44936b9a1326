// The one typed API between the renderer and the main process (Electron IPC or the serve-mode
// WebSocket). Params are validated with these schemas in the main process before any handler runs.
import { z } from 'zod';
import type { Method } from './contract-names.ts';
import { IMAGENET_X_FACTORS } from '../native-models/imagenet-x-factors.ts';

export { methodNames, imagePath, type Method } from './contract-names.ts';

const id = z.number().int().nonnegative();
const page = { offset: z.number().int().nonnegative().default(0), limit: z.number().int().positive().max(5000).default(200) };

export const Provider = z.enum(['auto', 'cpu', 'cuda', 'webgpu']);
export const Preset = z.enum(['imagenet', 'clip', 'none']);

export const FactorName = z.enum(IMAGENET_X_FACTORS);
export const LabelQueueKind = z.enum(['all', 'failures', 'unlabelled', 'disagreements', 'random']);
export const LabelTarget = z.enum(['annotator', 'consensus']);
const AnnotatorName = z.string().trim().min(1).max(64);
/** What ImageNet-X analytics evaluate: a model run, or an imported prediction file (no images). */
export const AnalysisSubjectSchema = z.object({ kind: z.enum(['run', 'predictions']), id });
const subjectQuery = {
  subject: AnalysisSubjectSchema,
  sourceId: id,
  errorType: z.enum(['class', 'metaclass']).default('class'),
  keepPrototypes: z.boolean().default(false),
};

export const paramsSchemas = {
  'lab.info': z.object({}),
  'datasets.list': z.object({}),
  'datasets.get': z.object({ datasetId: id }),
  'datasets.import': z.object({
    root: z.string().min(1),
    name: z.string().min(1).optional(),
    csv: z.string().min(1).optional(),
    labels: z.string().min(1).optional(),
    split: z.string().min(1).optional(),
  }),
  'datasets.images': z.object({ datasetId: id, classIdx: z.number().int().optional(), ...page }),
  'models.list': z.object({}),
  'models.add': z.object({
    onnx: z.string().min(1),
    name: z.string().min(1).optional(),
    preset: Preset.default('imagenet'),
    labels: z.string().min(1).optional(),
    /** A JSON file: FactorLab's preprocess spec or a timm pretrained config; overrides the preset. */
    preprocess: z.string().min(1).optional(),
  }),
  /** Converts a classifier (or CLIP) model's package to fp16 into `out` (absolute; absent or empty):
   * a job (kind 'convert-fp16') that checks the converted graphs against the original on up to 16
   * images spread over the dataset `datasetId` (seeded noise without one), and registers the
   * converted package as a new model (the job's resultRef: `model:<id>`). */
  'models.convertFp16': z.object({
    id,
    out: z.string().min(1).refine((s) => s.startsWith('/') || /^[A-Za-z]:[\\/]/.test(s) || s.startsWith('\\\\'), { message: 'must be an absolute path' }),
    datasetId: id.optional(),
    /** The largest relative L2 error allowed on any output. */
    maxRelError: z.number().gt(0).lt(1).default(0.01),
  }),
  /** What a done 'convert-fp16' job produced: the new model and the conversion report. */
  'models.conversion': z.object({ jobId: id }),
  'runs.list': z.object({ datasetId: id.optional() }),
  'runs.start': z.object({ modelId: id, datasetId: id, provider: Provider.optional() }),
  'runs.summary': z.object({ runId: id }),
  'runs.failures': z.object({
    runId: id,
    trueClass: z.number().int().optional(),
    predClass: z.number().int().optional(),
    minConfidence: z.number().min(0).max(1).optional(),
    maxConfidence: z.number().min(0).max(1).optional(),
    sort: z.enum(['confidence_desc', 'confidence_asc', 'true_class']).default('confidence_desc'),
    /** Only failures whose annotation in `sourceId` carries this factor (error-ratio drill-down). */
    factor: FactorName.optional(),
    sourceId: id.optional(),
    ...page,
  }),
  'images.detail': z.object({ imageId: id, runId: id.optional() }),
  'jobs.list': z.object({ limit: z.number().int().positive().max(1000).default(50) }),
  'jobs.cancel': z.object({ jobId: id }),
  'jobs.resume': z.object({ jobId: id }),
  'annotations.import': z.object({
    /** An ImageNet-X jsonl file (`imagenet_x_{val,train}_{top,multi}_factor.jsonl` or the same format). */
    file: z.string().min(1),
    /** Name of the new source; default the file's name without `.jsonl`. */
    source: z.string().min(1).optional(),
    kind: z.enum(['imagenet-x-file', 'ground-truth', 'annotator', 'consensus']).default('imagenet-x-file'),
    /** One top factor per line; default: the file name ends in `_top_factor.jsonl`. */
    top: z.boolean().optional(),
    /** prototypical_paths.csv: these images are left out of the analysis by default. */
    prototypical: z.string().min(1).optional(),
    /** imagenet_1k_classes_to_100_metaclasses.csv, stored for the whole lab. */
    metaclasses: z.string().min(1).optional(),
  }),
  'annotations.sources': z.object({}),
  /** Stores (replaces) the lab's metaclass mapping on its own. */
  'annotations.metaclasses': z.object({ file: z.string().min(1) }),
  'annotations.export': z.object({ sourceId: id, out: z.string().min(1) }),
  'analysis.errorRatios': z.object({
    runId: id,
    sourceId: id,
    errorType: z.enum(['class', 'metaclass']).default('class'),
    keepPrototypes: z.boolean().default(false),
  }),
  // Background attribution (Chegini & Feizi): CLIP picks each seed failure's most likely uncommon background.
  'attribution.start': z.object({
    runId: id,
    /** A CLIP model package folder (manifest kind "clip"). */
    clip: z.string().min(1),
    k: z.number().int().min(1).max(100).default(3),
    seed: z.number().int().nonnegative().default(0),
  }),
  'attribution.get': z.object({ id }),
  'attribution.list': z.object({ runId: id.optional() }),
  'attribution.editBackgrounds': z.discriminatedUnion('op', [
    z.object({ id, classIdx: id, op: z.literal('rename'), background: z.string().min(1), to: z.string().min(1) }),
    z.object({ id, classIdx: id, op: z.literal('merge'), backgrounds: z.array(z.string().min(1)).min(1), into: z.string().min(1) }),
    z.object({ id, classIdx: id, op: z.literal('drop'), background: z.string().min(1) }),
    z.object({ id, classIdx: id, op: z.literal('add'), phrase: z.string().min(1) }),
  ]),
  'attribution.undo': z.object({ id }),
  /** The uncommon-background list a new attribution of this run would use for a class. */
  'backgrounds.classList': z.object({ runId: id, classIdx: id }),
  /** Stores the lab's own list for the class (null: back to the shipped list). */
  'backgrounds.setClassList': z.object({ runId: id, classIdx: id, phrases: z.array(z.string()).min(1).nullable() }),
  /** Failure intersection-over-union between every pair of done runs on a dataset (the paper's Figure 4). */
  'analysis.failureIou': z.object({ datasetId: id }),
  /** The images two runs both got wrong (the heatmap's drill-down). */
  'analysis.sharedFailures': z.object({ runA: id, runB: id, ...page }),
  // The patch loop: generated images (individual / random debugging), their review, the head retraining.
  'generation.start': z.object({
    attributionId: id,
    kind: z.enum(['individual', 'random']),
    /** A text-to-image package folder (Hugging Face Optimum SD ONNX layout), or "shapeworld". */
    generator: z.string().min(1),
    /** Images per background prompt (individual); random gets as many per class in total. */
    perPrompt: z.number().int().min(1).max(1000).default(8),
    steps: z.number().int().min(1).max(500).default(20),
    guidance: z.number().min(0).max(50).default(5),
    seed: z.number().int().nonnegative().default(0),
    /** Collective debugging, type 1: other attributions (runs of other models on the same dataset)
     * whose votes are pooled with this one's to choose each class's top backgrounds. */
    pooledWith: z.array(id).max(100).default([]),
    /** Individual set from the confirmed failure modes of this discovery session (of the attribution's model) instead of the attributed backgrounds. */
    discoveryId: id.nullable().default(null),
  }),
  'generation.get': z.object({ id }),
  'generation.list': z.object({ attributionId: id.optional() }),
  'generation.images': z.object({
    setId: id,
    classIdx: id.optional(),
    review: z.enum(['pending', 'accepted', 'rejected']).optional(),
    ...page,
  }),
  'generation.review': z.object({
    setId: id,
    imageIds: z.array(id).min(1).max(100000),
    verdict: z.enum(['accepted', 'rejected', 'pending']),
    by: AnnotatorName,
  }),
  /** The CLIP pre-filter: pending images are accepted when CLIP ranks the prompted class in its top maxRank. */
  'generation.autoReview': z.object({ setId: id, maxRank: z.number().int().min(1).max(1000).default(1) }),
  'generation.undo': z.object({ setId: id }),
  'debug.start': z.object({
    attributionId: id,
    individualSetId: id,
    randomSetId: id.nullable().default(null),
    /** A run of the same model on its training data (the original-data term of the loss). */
    trainRunId: id,
    /** A run of the same model on test data (accuracy before / after). */
    testRunId: id,
    lambda: z.number().min(0).max(1e6).default(0.5),
    /** Use only the images of each class's top k backgrounds of the individual set (null: all of them). */
    k: z.number().int().min(1).max(100).nullable().default(null),
    optimizer: z.enum(['sgd', 'lbfgs']).default('sgd'),
    epochs: z.number().int().min(1).max(1000).default(20),
    seed: z.number().int().nonnegative().default(0),
  }),
  'debug.get': z.object({ id }),
  'debug.list': z.object({ runId: id.optional() }),
  /** Writes the patched classifier package, the head (safetensors, JSON) and an HTML report: a job
   * (kind 'export'; progress per checked batch of test images; a cancel removes what it wrote). */
  'debug.export': z.object({ id, out: z.string().min(1), which: z.enum(['individual', 'random']).default('individual') }),
  /** What a done export job wrote. */
  'debug.exported': z.object({ jobId: id }),
  // Open-ended bug discovery (Wiles et al.): generate from class names, describe the failures, cluster,
  // confirm each cluster's description by generating again and testing its failure rate.
  'discovery.start': z.object({
    modelId: id,
    /** A text-to-image package (Hugging Face Optimum SD ONNX layout), or "shapeworld". */
    generator: z.string().min(1),
    /** The CLIP package of the describer and the class filter, or "shapeworld". */
    clip: z.string().min(1),
    /** An image-to-text package (Optimum VisionEncoderDecoder ONNX layout), or "shapeworld"; null: CLIP only. */
    captioner: z.string().min(1).nullable().default(null),
    /** Which words are clustered and turned into prompts: the CLIP describer's or the captioner's. */
    describeWith: z.enum(['clip', 'captioner']).default('clip'),
    /** Class indices of the model to probe (null: all of them). */
    classes: z.array(id).min(1).max(100000).nullable().default(null),
    /** Images per class generated from "a photo of a {class}". */
    n: z.number().int().min(1).max(10000).default(32),
    /** Images per hypothesis (cluster description x class) generated to confirm it. */
    m: z.number().int().min(1).max(10000).default(16),
    steps: z.number().int().min(1).max(500).default(20),
    guidance: z.number().min(0).max(50).default(5),
    seed: z.number().int().nonnegative().default(0),
    /** Images count only when CLIP ranks the prompted class in its top filterRank (0: no filter). */
    filterRank: z.number().int().min(0).max(1000).default(3),
    /** Attribute phrases per CLIP description at most. */
    maxAttributes: z.number().int().min(1).max(10).default(3),
    /** A cluster is tested for a class when at least this many of its failures are of that class. */
    minMembers: z.number().int().min(1).max(1000).default(2),
    maxClusters: z.number().int().min(1).max(50).default(8),
    /** False discovery rate of the Benjamini-Hochberg correction (a report setting: changing it regenerates nothing). */
    alpha: z.number().gt(0).lt(1).default(0.05),
  }),
  'discovery.get': z.object({ id, alpha: z.number().gt(0).lt(1).optional() }),
  'discovery.list': z.object({ modelId: id.optional() }),
  'discovery.images': z.object({
    sessionId: id,
    /** 0: the base images; else a hypothesis's confirmation images. */
    hypothesisId: id.default(0),
    clusterId: id.optional(),
    failuresOnly: z.boolean().default(false),
    ...page,
  }),
  /** Which failure modes several sessions (models) share, by prompt. */
  'discovery.compare': z.object({ ids: z.array(id).min(2).max(20) }),
  /** The confirmed modes' images as an adversarial dataset: images/, labels.csv (file,label), labels.txt, provenance.csv. */
  'discovery.export': z.object({ id, out: z.string().min(1), alpha: z.number().gt(0).lt(1).optional() }),
  // The labelling workspace (annotators, queues, bulk apply, undo, review, consensus, factor charts).
  'labels.annotators': z.object({}),
  'labels.queueCreate': z.object({
    datasetId: id.optional(),
    kind: LabelQueueKind,
    /** kind "failures": the run whose failures come first (most confident first); its dataset. */
    runId: id.optional(),
    /** kind "unlabelled": unlabelled by this annotator. */
    annotator: AnnotatorName.optional(),
    seed: z.number().int().nonnegative().default(0),
    /** kind "random": sample size (default: the whole dataset). */
    size: z.number().int().positive().optional(),
  }),
  'labels.queuePage': z.object({ queueId: id, annotator: AnnotatorName.optional(), target: LabelTarget.default('annotator'), ...page }),
  'labels.progress': z.object({ queueId: id, annotator: AnnotatorName }),
  'labels.set': z.object({
    imageId: id,
    annotator: AnnotatorName,
    /** "consensus": the reviewer writes the lab's consensus label. */
    target: LabelTarget.default('annotator'),
    factors: z.array(FactorName).max(16),
    topFactor: FactorName.nullable().default(null),
    justification: z.string().max(4000).nullable().default(null),
    oneWord: z.string().max(200).nullable().default(null),
    /** Seconds spent on the image so far. */
    seconds: z.number().nonnegative().optional(),
  }),
  'labels.bulk': z.object({ imageIds: z.array(id).min(1).max(100000), annotator: AnnotatorName, factor: FactorName, value: z.boolean() }),
  'labels.undo': z.object({ annotator: AnnotatorName, target: LabelTarget.default('annotator') }),
  'labels.forImage': z.object({ imageId: id }),
  'labels.agreement': z.object({ datasetId: id.optional(), annotators: z.array(AnnotatorName).optional() }),
  'labels.disagreements': z.object({ datasetId: id.optional(), ...page }),
  'labels.errorRatios': z
    .object({ runIds: z.array(id).max(8).default([]), predictionSetIds: z.array(id).max(8).default([]), sourceId: id })
    .refine((p) => p.runIds.length + p.predictionSetIds.length >= 1 && p.runIds.length + p.predictionSetIds.length <= 8, { message: 'choose 1 to 8 runs or prediction sets' }),
  // Prediction files in the ImageNet-X toolkit's CSV format (file_name,predicted_class,predicted_probability),
  // imported as model runs that need no images.
  'predictions.import': z.object({
    file: z.string().min(1),
    /** Default: the file's name without its extension. */
    name: z.string().trim().min(1).max(200).optional(),
    numClasses: z.number().int().min(1).max(100000).default(1000),
  }),
  'predictions.list': z.object({}),
  'predictions.delete': z.object({ id }),
  /** 15-bin expected calibration error and reliability bins, overall and per factor (the toolkit's binning). */
  'analysis.calibration': z.object(subjectQuery),
  /** Share of the failures vs share of all evaluated images that carry each factor. */
  'analysis.factorDistribution': z.object(subjectQuery),
  /** Factor co-occurrence among a source's annotated images, or among a run's / prediction set's failures. */
  'analysis.factorCooccurrence': z.object({ sourceId: id, subject: AnalysisSubjectSchema.optional(), errorType: z.enum(['class', 'metaclass']).default('class'), keepPrototypes: z.boolean().default(false) }),
  /** The evaluated images a run or prediction set gets wrong (optionally: carrying a factor), most confident first. */
  'analysis.failingImages': z.object({ ...subjectQuery, factor: FactorName.optional(), ...page }),
} as const satisfies Record<Method, z.ZodType>;
export type ParamsIn<M extends Method> = z.input<(typeof paramsSchemas)[M]>;
export type Params<M extends Method> = z.output<(typeof paramsSchemas)[M]>;

// ---- results ---------------------------------------------------------------------------------

export interface LabInfo {
  path: string;
  schemaVersion: number;
  provider: ProviderInfo;
  counts: { datasets: number; images: number; models: number; runs: number };
}

export interface ProviderInfo {
  requested: z.infer<typeof Provider>;
  /** The provider the last model session ran on, with the reasons the faster ones were skipped. */
  active: 'cpu' | 'cuda' | 'webgpu' | null;
  fallbacks: { provider: string; reason: string }[];
}

export interface ClassInfo {
  idx: number;
  name: string;
  wnid: string | null;
  count: number;
}

export interface SkippedFile {
  path: string;
  reason: string;
}

export interface DatasetSummary {
  id: number;
  name: string;
  root: string;
  source: 'folder' | 'csv';
  split: string | null;
  numImages: number;
  numClasses: number;
  numSkipped: number;
  createdAt: string;
}

export interface DatasetDetail extends DatasetSummary {
  classes: ClassInfo[];
  skipped: SkippedFile[];
}

export interface ImageRow {
  id: number;
  relPath: string;
  classIdx: number | null;
  className: string | null;
  width: number | null;
  height: number | null;
}

export interface ModelSummary {
  id: number;
  name: string;
  kind: 'classifier';
  preset: string;
  numClasses: number;
  /** The model's class names, in class-index order. */
  classNames: string[];
  featureDim: number;
  inputShape: (number | string | null)[];
  sha256: string;
  dir: string;
  createdAt: string;
}

/** native-models/convert's PackageConversionReport, as written to the package's fp16-conversion.json. */
export interface Fp16ConversionReport {
  kind: 'classifier' | 'clip';
  /** The original package folder. */
  source: string;
  /** What the check ran on (images of a dataset, or seeded noise). */
  checkedOn: string;
  files: {
    role: string;
    file: string;
    bytesBefore: number;
    bytesAfter: number;
    graph: { fp16Nodes: number; fp32Nodes: number; keptFp32: Record<string, number>; castsAdded: number; initializersConverted: number; weightBytesBefore: number; weightBytesAfter: number };
    outputs: { output: string; relError: number; maxAbsError: number }[];
  }[];
  /** classifier: check images whose top-1 class differs between fp32 and fp16; null for CLIP. */
  top1Changes: number | null;
  checkImages: number;
  maxRelError: number;
}

export interface ModelConversion {
  jobId: number;
  sourceModelId: number;
  /** The converted package, registered as a model. */
  modelId: number;
  out: string;
  report: Fp16ConversionReport;
}

export type JobStatus = 'queued' | 'running' | 'done' | 'failed' | 'cancelled' | 'interrupted';

export interface JobInfo {
  /** resultRef, when done: `dataset:<id>` (import), `run:<id>` (run), `model:<id>` (convert-fp16), ... */
  id: number;
  kind: string;
  title: string;
  status: JobStatus;
  done: number;
  total: number;
  /** Items per second over the recent window; null until measured. */
  rate: number | null;
  /** Seconds left at the current rate; null until measured. */
  etaSeconds: number | null;
  message: string | null;
  error: string | null;
  resultRef: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface RunSummary {
  id: number;
  modelId: number;
  modelName: string;
  datasetId: number;
  datasetName: string;
  status: 'running' | 'done' | 'incomplete';
  provider: string | null;
  numImages: number;
  numDone: number;
  /** Images whose true class maps into the model's label space. */
  numScored: number;
  numCorrect: number;
  accuracy: number | null;
  createdAt: string;
}

export interface ConfusionPair {
  trueClass: number;
  trueName: string;
  predClass: number;
  predName: string;
  count: number;
}

export interface ClassAccuracy {
  classIdx: number;
  name: string;
  total: number;
  correct: number;
  accuracy: number;
}

export interface RunDetail extends RunSummary {
  /** The model's class names in its own index order (what trueClass / predClass index). */
  modelClasses: string[];
  perClass: ClassAccuracy[];
  confusions: ConfusionPair[];
  unmappedClasses: string[];
  /** Images the run could not read (corrupt, truncated ...), with the reason; the run went on. */
  numErrors: number;
  errors: { imageId: number; relPath: string; reason: string }[];
}

export interface FailureRow {
  imageId: number;
  relPath: string;
  trueClass: number;
  trueName: string;
  predClass: number;
  predName: string;
  confidence: number;
  trueProb: number;
}

export interface Page<T> {
  total: number;
  offset: number;
  items: T[];
}

export interface TopK {
  classIdx: number;
  name: string;
  prob: number;
}

export interface ImageDetail extends ImageRow {
  datasetId: number;
  absPath: string;
  bytes: number | null;
  /** With a runId: that run's prediction. Class indices here are the model's (trueClass too). */
  prediction: { runId: number; top5: TopK[]; trueClass: number | null; trueProb: number | null; correct: boolean | null } | null;
}

export interface Results {
  'lab.info': LabInfo;
  'datasets.list': DatasetSummary[];
  'datasets.get': DatasetDetail;
  'datasets.import': { jobId: number };
  'datasets.images': Page<ImageRow>;
  'models.list': ModelSummary[];
  'models.add': ModelSummary;
  'models.convertFp16': { jobId: number };
  'models.conversion': ModelConversion;
  'runs.list': RunSummary[];
  'runs.start': { runId: number; jobId: number | null; reused: boolean };
  'runs.summary': RunDetail;
  'runs.failures': Page<FailureRow>;
  'images.detail': ImageDetail;
  'jobs.list': JobInfo[];
  'jobs.cancel': JobInfo;
  'jobs.resume': JobInfo;
  'annotations.import': AnnotationImportResult;
  'annotations.sources': AnnotationSourceInfo[];
  'annotations.metaclasses': { classes: number };
  'annotations.export': { path: string; lines: number };
  'analysis.errorRatios': ImageNetXReport;
  'attribution.start': { id: number; jobId: number | null; reused: boolean; nothingToAttribute: boolean };
  'attribution.get': AttributionDetail;
  'attribution.list': AttributionSummary[];
  'attribution.editBackgrounds': AttributionDetail;
  'attribution.undo': AttributionDetail;
  'backgrounds.classList': BackgroundClassList;
  'backgrounds.setClassList': BackgroundClassList;
  'analysis.failureIou': FailureIou;
  'analysis.sharedFailures': Page<SharedFailure>;
  'generation.start': { id: number; jobId: number | null; reused: boolean };
  'generation.get': GenerationSetDetail;
  'generation.list': GenerationSetSummary[];
  'generation.images': Page<GeneratedImageRow>;
  'generation.review': { changed: number };
  'generation.autoReview': { accepted: number; rejected: number };
  'generation.undo': { restored: number };
  'debug.start': { id: number | null; jobId: number | null; reused: boolean };
  'debug.get': DebugResult;
  'debug.list': DebugSummary[];
  'debug.export': { jobId: number };
  'debug.exported': DebugExport;
  'discovery.start': { id: number; jobId: number | null; reused: boolean };
  'discovery.get': DiscoveryReport;
  'discovery.list': DiscoverySummary[];
  'discovery.images': Page<DiscoveryImageRow>;
  'discovery.compare': DiscoveryComparison;
  'discovery.export': { out: string; images: number; hypotheses: number };
  'labels.annotators': AnnotatorInfo[];
  'labels.queueCreate': LabelQueueInfo;
  'labels.queuePage': Page<LabelQueueItem>;
  'labels.progress': { labelled: number; total: number };
  'labels.set': LabelRecord;
  'labels.bulk': { changed: number; selected: number; groupId: number | null };
  'labels.undo': LabelUndoResult;
  'labels.forImage': ImageLabels;
  'labels.agreement': AgreementReport;
  'labels.disagreements': Page<DisagreementRow>;
  'labels.errorRatios': FactorChartData;
  'predictions.import': PredictionSetInfo;
  'predictions.list': PredictionSetInfo[];
  'predictions.delete': { deleted: number };
  'analysis.calibration': CalibrationReport;
  'analysis.factorDistribution': FactorDistributionReport;
  'analysis.factorCooccurrence': FactorCooccurrenceReport;
  'analysis.failingImages': Page<FailingImage>;
}

export type LabelQueueKindName = z.infer<typeof LabelQueueKind>;

/** One image's factor label in one source (an annotator's, the consensus, an imported file's). */
export interface LabelRecord {
  imageId: number | null;
  fileName: string;
  sourceId: number;
  annotator: string | null;
  factors: string[];
  topFactor: string | null;
  justification: string | null;
  oneWord: string | null;
  seconds: number | null;
  updatedAt: string | null;
}

export interface AnnotatorInfo {
  name: string;
  sourceId: number;
  labelled: number;
  /** Mean seconds per labelled image (those with a time). */
  meanSeconds: number | null;
  lastAt: string | null;
}

export interface LabelQueueInfo {
  id: number;
  datasetId: number;
  kind: LabelQueueKindName;
  runId: number | null;
  annotator: string | null;
  seed: number | null;
  size: number;
  reused: boolean;
}

export interface LabelQueueItem {
  pos: number;
  imageId: number;
  relPath: string;
  className: string | null;
  /** The annotator's (or the consensus) label, when there is one. */
  label: LabelRecord | null;
}

export interface LabelUndoResult {
  /** null: nothing left to undo. */
  undone: { groupId: number; op: string; count: number } | null;
  /** The labels as they are after the undo (label null: the image has none any more). */
  restored: { imageId: number | null; fileName: string; label: LabelRecord | null }[];
}

export interface ImageLabels {
  imageId: number;
  fileName: string;
  annotators: LabelRecord[];
  consensus: LabelRecord | null;
  /** Labels from other sources (imported files, ground truth). */
  others: (LabelRecord & { sourceName: string })[];
}

export interface AgreementCell {
  value: number | null;
  items: number;
  reason?: string;
}

export interface AgreementReport {
  annotators: string[];
  /** Images labelled by at least two of them. */
  sharedItems: number;
  /** Images labelled by all of them (what Fleiss' kappa uses). */
  allItems: number;
  rows: {
    factor: string;
    /** Cohen's kappa: only with exactly two annotators. */
    cohen: AgreementCell | null;
    fleiss: AgreementCell | null;
    krippendorff: AgreementCell;
    /** Share of shared images on which every annotator agrees. */
    percentAgreement: number | null;
  }[];
}

export interface DisagreementRow {
  imageId: number | null;
  fileName: string;
  relPath: string | null;
  className: string | null;
  /** Factors on which the annotators differ. */
  factors: string[];
  topFactorDiffers: boolean;
  labels: LabelRecord[];
  consensus: LabelRecord | null;
}

export interface FactorChartData {
  sourceId: number;
  sourceName: string;
  sourceKind: AnnotationSourceKind;
  /** One series per run or prediction set, runs first. */
  runs: FactorChartSeries[];
}

export type AnalysisSubject = z.infer<typeof AnalysisSubjectSchema>;

export interface FactorChartSeries extends Omit<ImageNetXReport, 'runId'> {
  subject: AnalysisSubject;
  /** The run; null for an imported prediction set. */
  runId: number | null;
  /** "#3 model on dataset" for a run, the set's name for imported predictions. */
  runName: string;
}

/** An imported prediction file (the ImageNet-X toolkit's CSV format). */
export interface PredictionSetInfo {
  id: number;
  name: string;
  file: string;
  sha256: string;
  numClasses: number;
  numPredictions: number;
  /** Predictions whose file name is an image of some dataset in the lab (those can be opened). */
  numImagesInLab: number;
  createdAt: string;
}

/** What an analytics result was computed on. */
export interface SubjectHeader {
  subject: AnalysisSubject;
  name: string;
  sourceId: number;
  sourceName: string;
  errorType: ImageNetXErrorType;
  /** Evaluated images (annotated, not prototypical unless kept). */
  images: number;
}

export interface ReliabilityBin {
  /** Bin edges (lo, hi]; the first bin also holds lo itself. */
  lo: number;
  hi: number;
  count: number;
  /** Mean confidence of the bin's predictions; null when empty. */
  confidence: number | null;
  /** Fraction of them that are right; null when empty. */
  accuracy: number | null;
}

export interface CalibrationCurve {
  count: number;
  /** Expected calibration error; null when nothing was binned. */
  ece: number | null;
  bins: ReliabilityBin[];
}

export interface CalibrationReport extends SubjectHeader {
  overall: CalibrationCurve;
  factors: (CalibrationCurve & { factor: string })[];
  /** The highest factor ECE (the toolkit's calibration `worst_factor`). */
  worstFactorEce: number | null;
}

export interface FactorShare {
  factor: string;
  /** Evaluated images carrying the factor, and the failures among them. */
  images: number;
  failures: number;
  shareOfImages: number | null;
  shareOfFailures: number | null;
}

export interface FactorDistributionReport extends SubjectHeader {
  failures: number;
  factors: FactorShare[];
}

export interface FactorCooccurrenceReport {
  sourceId: number;
  sourceName: string;
  /** Null: all of the source's annotated images; else that run's / prediction set's failures. */
  subject: AnalysisSubject | null;
  name: string | null;
  images: number;
  factors: string[];
  /** counts[i][j]: images carrying both factor i and factor j; counts[i][i]: images carrying i. */
  counts: number[][];
  /** P(j | i) = counts[i][j] / counts[i][i] (row-normalised; null for a factor no image carries). */
  conditional: (number | null)[][];
  /** Jaccard index counts[i][j] / (counts[i][i] + counts[j][j] - counts[i][j]). */
  jaccard: (number | null)[][];
}

export interface FailingImage {
  fileName: string;
  /** An image of the lab with that file name (the newest), if any. */
  imageId: number | null;
  relPath: string | null;
  /** Class indices as the source / predictions number them. */
  trueClass: number;
  predicted: number;
  confidence: number;
  factors: string[];
}

export interface AttributionSummary {
  id: number;
  runId: number;
  clipDir: string;
  clipSha256: string;
  k: number;
  seed: number;
  /** Which background vocabulary the run's classes use. */
  vocabulary: 'imagenet' | 'shapeworld' | 'general';
  status: 'pending' | 'running' | 'done' | 'incomplete' | 'failed';
  message: string | null;
  /** The queued or running attribution job, if any. */
  jobId: number | null;
  numFailures: number;
  numSeed: number;
  numHeldout: number;
  /** Seed failures whose background CLIP has chosen. */
  numAttributed: number;
  createdAt: string;
  finishedAt: string | null;
}

export interface AttributionBackground {
  id: number;
  phrase: string;
  /** The prompt the generator will use: "a photo of a {class} {phrase}". */
  prompt: string;
  origin: 'vocabulary' | 'added';
  votes: number;
  meanSimilarity: number | null;
  /** Seed failures that voted for it (image ids). */
  imageIds: number[];
  /** Phrases merged into this one. */
  mergedFrom: string[];
  /** Among the class's top k. */
  top: boolean;
}

export interface AttributionClass {
  classIdx: number;
  name: string;
  numSeed: number;
  numHeldout: number;
  /** Active backgrounds, most votes first (ties: higher mean similarity). */
  backgrounds: AttributionBackground[];
  /** Domino-style description: phrases scored by text · (mean failure − mean class image embedding). */
  domino: { phrase: string; score: number }[];
}

export interface AttributionDetail extends AttributionSummary {
  /** True when the run has no failures: nothing to attribute, not an error. */
  nothingToAttribute: boolean;
  classes: AttributionClass[];
  /** Edits that can be undone (newest last). */
  edits: { id: number; classIdx: number; op: string; detail: string; createdAt: string }[];
}

export interface BackgroundClassList {
  runId: number;
  classIdx: number;
  className: string;
  vocabulary: 'imagenet' | 'shapeworld' | 'general';
  phrases: string[];
  /** The lab has its own list for this class. */
  overridden: boolean;
}

export type AnnotationSourceKind = 'imagenet-x-file' | 'ground-truth' | 'annotator' | 'consensus';

export interface AnnotationSourceInfo {
  id: number;
  name: string;
  kind: AnnotationSourceKind;
  /** The file it was imported from, if any. */
  origin: string | null;
  numAnnotations: number;
  /** Annotations whose file name is an image of some dataset in the lab. */
  numMatchedImages: number;
  numPrototypes: number;
  createdAt: string;
}

export interface AnnotationImportResult {
  source: AnnotationSourceInfo;
  /** Non-blank lines read. */
  lines: number;
  /** Lines left out, with the reason. */
  errors: { file: string; line: number; reason: string }[];
  /** Classes in the metaclass mapping, when one was imported. */
  metaclasses: number | null;
}

export type ImageNetXErrorType = 'class' | 'metaclass';

export interface ImageNetXFactorStat {
  factor: string;
  count: number;
  correct: number;
  accuracy: number | null;
  /** 95 % Wilson score interval. */
  accuracyCi: [number, number] | null;
  /** (1 - accuracy) / (1 - average); null when the factor has no image or average is 1. */
  errorRatio: number | null;
  /** The accuracy interval mapped through the error-ratio formula, average held fixed. */
  errorRatioCi: [number, number] | null;
}

export interface ImageNetXReport {
  runId: number;
  sourceId: number;
  sourceName: string;
  errorType: ImageNetXErrorType;
  /** The run's predictions; those without annotation and prototypical ones are dropped. */
  predictions: number;
  unannotated: number;
  prototypesDropped: number;
  /** Evaluated images (annotated, not prototypical). */
  images: number;
  correct: number;
  average: number;
  averageCi: [number, number] | null;
  factors: ImageNetXFactorStat[];
  /** The factor with the highest error ratio. */
  worstFactor: string | null;
  /** The toolkit's `worst_factor`: the lowest factor accuracy. */
  worstFactorAccuracy: number | null;
}

export type ApiEvent = { type: 'job'; job: JobInfo } | { type: 'lab'; what: 'datasets' | 'models' | 'runs' | 'debug' | 'discovery' };

/** Error shape carried over either transport. `code` lets the UI tell bad input from failures. */
export interface ApiErrorShape {
  code: 'invalid_params' | 'not_found' | 'bad_input' | 'internal';
  message: string;
}

/** What the renderer talks to: the preload bridge in Electron, or the WebSocket client in a browser. */
export interface FactorLabClient {
  call<M extends Method>(method: M, params: ParamsIn<M>): Promise<Results[M]>;
  onEvent(listener: (event: ApiEvent) => void): () => void;
  imageUrl(kind: 'thumb' | 'full' | 'gen' | 'disc', imageId: number): string;
  transport: 'electron' | 'websocket';
}

export interface GenerationSetSummary {
  id: number;
  attributionId: number;
  /** Attributions whose votes were pooled with attributionId's (collective debugging, type 1). */
  pooledWith: number[];
  /** Set from the confirmed failure modes of this discovery session (prompts from discovery, not attribution). */
  discoveryId: number | null;
  kind: 'individual' | 'random';
  generator: string;
  generatorSha256: string;
  perPrompt: number;
  steps: number;
  guidance: number;
  seed: number;
  status: 'pending' | 'running' | 'done' | 'incomplete' | 'failed';
  message: string | null;
  createdAt: string;
  finishedAt: string | null;
  /** The queued or running generation job, if any. */
  jobId: number | null;
  total: number;
  generated: number;
  accepted: number;
  rejected: number;
  /** Generated and not reviewed yet. */
  pending: number;
  /** The debugged classifier's accuracy on the generated images (all; accepted only). */
  classifierAccuracy: number | null;
  classifierAccuracyAccepted: number | null;
}

export interface GenerationSetDetail extends GenerationSetSummary {
  classes: { classIdx: number; name: string; total: number; generated: number; accepted: number; rejected: number; classifierAccuracy: number | null }[];
  prompts: { index: number; prompt: string; classIdx: number; background: string | null; images: number }[];
  /** Review changes that can be undone. */
  undoable: number;
}

export interface GeneratedImageRow {
  id: number;
  promptIndex: number;
  sample: number;
  classIdx: number;
  prompt: string;
  background: string | null;
  seed: number;
  /** The debugged classifier's prediction. */
  predClass: number | null;
  /** CLIP's zero-shot class, its probability for the prompted class, and the prompted class's rank (0 = top). */
  clipClass: number | null;
  clipProb: number | null;
  clipRank: number | null;
  review: 'pending' | 'accepted' | 'rejected';
  reviewedBy: string | null;
}

export interface DebugSettings {
  attributionId: number;
  individualSetId: number;
  randomSetId: number | null;
  trainRunId: number;
  testRunId: number;
  lambda: number;
  k: number | null;
  optimizer: 'sgd' | 'lbfgs';
  epochs: number;
  seed: number;
}

export interface DebugAccuracy {
  test: number;
  seed: number;
  heldout: number;
}

export interface DebugResult {
  id: number;
  runId: number;
  attributionId: number;
  settings: DebugSettings;
  model: { dir: string; name: string; sha256: string; numClasses: number; featureDim: number };
  counts: { train: number; test: number; debugSet: number; seed: number; heldout: number };
  /** Accepted generated images trained on (random: after matching individual's count per class). */
  generated: { individual: number; random: number; randomAccepted: number };
  before: DebugAccuracy;
  individual: DebugAccuracy & { loss: number; seconds: number };
  random: (DebugAccuracy & { loss: number; seconds: number }) | null;
  gain: { individual: DebugAccuracy; random: DebugAccuracy | null };
  /** The retrained heads ([C x D] weight, [C] bias) as float32 blobs of the lab. */
  heads: { individual: { weightBlob: string; biasBlob: string }; random: { weightBlob: string; biasBlob: string } | null };
  optimizer: { name: 'sgd' | 'lbfgs'; backend: string; lr: number; momentum: number; weightDecay: number; batchSize: number };
  seconds: number;
  createdAt: string;
}

export interface DebugSummary {
  id: number;
  runId: number;
  attributionId: number;
  settings: DebugSettings;
  lambda: number;
  before: DebugAccuracy;
  individual: DebugAccuracy;
  random: DebugAccuracy | null;
  generated: DebugResult['generated'];
  createdAt: string;
}

export interface DebugExport {
  dir: string;
  onnx: string;
  manifest: string;
  safetensors: string;
  json: string;
  report: string;
  onnxSha256: string;
  /** The patched model run on the test images: its accuracy, and the evaluation's. */
  check: { images: number; accuracy: number; evaluated: number; logitsMaxAbsDiff: number };
}

export interface FailureIou {
  datasetId: number;
  /** The dataset's done runs, in the matrices' order. */
  runs: RunSummary[];
  /** iou[i][j] over the images both runs scored; null when neither failed on any of them. */
  iou: (number | null)[][];
  intersection: number[][];
  union: number[][];
}

export interface SharedFailure {
  imageId: number;
  relPath: string;
  /** Model class indices. */
  trueClass: number;
  predA: number;
  predB: number;
}

export type DiscoverySettings = Omit<z.infer<(typeof paramsSchemas)['discovery.start']>, 'modelId' | 'classes'> & { classes: number[] };

export interface DiscoverySummary {
  id: number;
  modelId: number;
  modelName: string;
  settings: DiscoverySettings;
  stage: 'generate' | 'describe' | 'cluster' | 'confirm' | 'refine' | 'done';
  status: 'pending' | 'running' | 'done' | 'incomplete' | 'failed';
  message: string | null;
  createdAt: string;
  finishedAt: string | null;
  /** The queued or running discovery job, if any. */
  jobId: number | null;
  baseImages: { planned: number; generated: number };
  confirmImages: { planned: number; generated: number };
}

export interface DiscoveryClassRow {
  classIdx: number;
  name: string;
  generated: number;
  /** Images CLIP did not rank as the class (filtered out of every rate). */
  offClass: number;
  images: number;
  failures: number;
  failureRate: number | null;
}

export interface DiscoveryCluster {
  id: number;
  idx: number;
  /** The description of the cluster's most central member. */
  name: string;
  members: number;
  classes: { classIdx: number; name: string; count: number }[];
  exampleImageIds: number[];
}

export interface DiscoveryHypothesis {
  id: number;
  /** Refinement: the confirmed several-phrase mode of which this hypothesis tests one phrase alone. */
  parentId: number | null;
  clusterId: number;
  clusterName: string;
  classIdx: number;
  className: string;
  prompt: string;
  generated: number;
  offClass: number;
  images: number;
  failures: number;
  failureRate: number | null;
  /** Wilson 95 % interval of the failure rate. */
  interval: { lo: number; hi: number } | null;
  baseImages: number;
  baseFailures: number;
  baseRate: number | null;
  /** One-sided Fisher exact test against the class's base rate; null when not tested. */
  pValue: number | null;
  /** Benjamini-Hochberg adjusted p-value over the tested hypotheses. */
  qValue: number | null;
  status: 'pending' | 'confirmed' | 'not-confirmed' | 'too-few-images';
  /** Why a hypothesis was not tested (too-few-images). */
  reason: string | null;
  /** ImageNet-X factors the description's phrases stand for (CLIP describer). */
  factors: string[];
}

export interface DiscoveryReport extends DiscoverySummary {
  alpha: number;
  classes: DiscoveryClassRow[];
  clusters: DiscoveryCluster[];
  hypotheses: DiscoveryHypothesis[];
  confirmed: number;
  /** Done, and no base image was misclassified: nothing to describe or confirm. */
  nothingToConfirm: boolean;
  /** ShapeWorld models: which of the world's factors a confirmed mode names (background: an uncommon one);
   * alone: some confirmed mode names this factor only, else it was confirmed only within a combination. */
  planted: { found: { factor: string; prompts: string[]; alone: boolean }[]; missed: string[] } | null;
}

export interface DiscoveryImageRow {
  id: number;
  hypothesisId: number;
  classIdx: number;
  prompt: string;
  seed: number;
  predClass: number | null;
  predName: string | null;
  failed: boolean | null;
  onClass: boolean | null;
  clipRank: number | null;
  description: string | null;
  caption: string | null;
}

export interface DiscoveryComparison {
  sessions: { id: number; modelName: string }[];
  rows: { className: string; prompt: string; bySession: ({ status: DiscoveryHypothesis['status']; failureRate: number | null; qValue: number | null } | null)[]; confirmedIn: number }[];
}

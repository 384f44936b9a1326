// factorlab: the headless commands (scriptable, air-gapped). Same core as the desktop app.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Lab } from './core/lab.ts';
import { createHandlers, type Handlers } from './core/api/handlers.ts';
import { dispatch } from './core/api/dispatch.ts';
import type { JobInfo, Method, ParamsIn, Results } from './contract.ts';
import { classifyFolder } from './core/runs/classify-folder.ts';
import { formatJobLine } from './core/jobs/format-progress.ts';
import { errorRatiosOptions, errorRatiosSummary, errorRatiosUsage, ErrorRatiosUsageError, runErrorRatios } from './cli/imagenetx-error-ratios.ts';
import { BadInputError } from './core/errors.ts';
import { attributeSummary, attributeUsage, attributionText, parseIntOption } from './cli/attribute.ts';
import { discoverSummary, discoverUsage, discoveryText, parseClasses } from './cli/discover.ts';
import { convertFp16Summary, convertFp16Text, convertFp16Usage } from './cli/convert-fp16.ts';

const DEFAULT_LAB = process.env.FACTORLAB_LAB ?? 'factorlab-lab';

class UsageError extends Error {}

interface Command {
  summary: string;
  usage: string;
  options: NonNullable<ParseArgsConfig['options']>;
  run(values: Record<string, string | boolean | string[] | undefined>, positionals: string[]): Promise<number>;
}

const labOption = { lab: { type: 'string' as const, default: DEFAULT_LAB } };
const jsonOption = { json: { type: 'boolean' as const, default: false } };

function openLab(values: Record<string, unknown>): { lab: Lab; handlers: Handlers } {
  const lab = Lab.open(String(values.lab));
  return { lab, handlers: createHandlers(lab) };
}

async function call<M extends Method>(handlers: Handlers, method: M, params: ParamsIn<M>): Promise<Results[M]> {
  const r = await dispatch(handlers, method, params);
  if (!r.ok) throw new CliError(r.error.message, r.error.code === 'invalid_params' || r.error.code === 'bad_input' ? 2 : 1);
  return r.result as Results[M];
}

class CliError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = 1) {
    super(message);
    this.exitCode = exitCode;
  }
}

/** Follows a job to its end, drawing progress on stderr; Ctrl-C cancels it (what was stored is kept). */
async function follow(lab: Lab, jobId: number, quiet: boolean): Promise<JobInfo> {
  const tty = process.stderr.isTTY;
  let lastLine = 0;
  const onJob = (job: JobInfo) => {
    if (quiet || job.id !== jobId) return;
    const now = Date.now();
    if (!tty && now - lastLine < 2000 && job.status === 'running') return;
    lastLine = now;
    process.stderr.write(tty ? `\r\x1b[2K${formatJobLine(job)}` : `${formatJobLine(job)}\n`);
  };
  lab.jobs.on('job', onJob);
  const onSigint = () => {
    process.stderr.write('\ncancelling (stored results are kept; run the same command again to resume)...\n');
    lab.jobs.cancel(jobId);
  };
  process.once('SIGINT', onSigint);
  try {
    const job = await lab.jobs.wait(jobId);
    if (!quiet && tty) process.stderr.write('\n');
    return job;
  } finally {
    lab.jobs.off('job', onJob);
    process.off('SIGINT', onSigint);
  }
}

function resolveRef(items: { id: number; name: string }[], ref: string, what: string): number {
  if (/^\d+$/.test(ref)) {
    const id = Number(ref);
    if (items.some((i) => i.id === id)) return id;
  }
  const byName = items.filter((i) => i.name === ref);
  if (byName.length === 1) return byName[0].id;
  if (byName.length > 1) throw new CliError(`${what} name "${ref}" is ambiguous: use the id (${byName.map((i) => i.id).join(', ')})`, 2);
  const known = items.map((i) => `${i.id}:${i.name}`).join(', ') || 'none';
  throw new CliError(`no ${what} "${ref}" in this lab (known: ${known})`, 2);
}

function print(json: boolean, value: unknown, text: () => string): void {
  process.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : `${text()}\n`);
}

/** The options shared by `debug` and `debug-group`. */
const loopOptions = {
  ...labOption,
  ...jsonOption,
  dataset: { type: 'string' as const },
  train: { type: 'string' as const },
  test: { type: 'string' as const },
  clip: { type: 'string' as const },
  generator: { type: 'string' as const },
  lambda: { type: 'string' as const, default: '0.5' },
  k: { type: 'string' as const, default: '3' },
  'n-per-background': { type: 'string' as const, default: '8' },
  review: { type: 'string' as const, default: 'clip' },
  'filter-rank': { type: 'string' as const, default: '1' },
  steps: { type: 'string' as const, default: '20' },
  guidance: { type: 'string' as const, default: '5' },
  optimizer: { type: 'string' as const, default: 'sgd' },
  epochs: { type: 'string' as const, default: '20' },
  seed: { type: 'string' as const, default: '0' },
  provider: { type: 'string' as const },
};

type Values = Record<string, string | boolean | string[] | undefined>;

async function loopSettings(v: Values) {
  if (!v.dataset || !v.clip || !v.generator) throw new UsageError('--dataset, --clip and --generator are required');
  const int = (name: string, lo: number, hi: number): number => {
    try {
      return parseIntOption(v[name], name, lo, hi);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
  };
  if (!['clip', 'none'].includes(String(v.review))) throw new UsageError(`--review must be clip or none, got ${String(v.review)}`);
  if (!['sgd', 'lbfgs'].includes(String(v.optimizer))) throw new UsageError(`--optimizer must be sgd or lbfgs, got ${String(v.optimizer)}`);
  const lambda = Number(v.lambda);
  if (!Number.isFinite(lambda) || lambda < 0) throw new UsageError(`--lambda must be a number >= 0 (the weight of the generated images in the loss), got ${String(v.lambda)}`);
  const guidance = Number(v.guidance);
  if (!Number.isFinite(guidance) || guidance < 0 || guidance > 50) throw new UsageError(`--guidance must be a number from 0 to 50, got ${String(v.guidance)}`);
  const { shapeworldPackageDir } = await import('../native-models/shapeworld/packages.ts');
  const named = (x: string, kind: 'clip' | 'diffusion') => (x === 'shapeworld' ? shapeworldPackageDir(kind) : resolve(x));
  return {
    clip: named(String(v.clip), 'clip'),
    generator: named(String(v.generator), 'diffusion'),
    lambda,
    guidance,
    k: int('k', 1, 100),
    perPrompt: int('n-per-background', 1, 1000),
    filterRank: int('filter-rank', 1, 1000),
    steps: int('steps', 1, 500),
    epochs: int('epochs', 1, 1000),
    seed: int('seed', 0, 2 ** 31 - 1),
    review: v.review as 'clip' | 'none',
    optimizer: v.optimizer as 'sgd' | 'lbfgs',
    provider: v.provider as 'auto' | undefined,
  };
}

/** --dataset, and --train / --test or the lab's one other dataset of that split. */
async function loopDatasets(handlers: Handlers, v: Values): Promise<{ debug: number; train: number; test: number }> {
  const datasets = await call(handlers, 'datasets.list', {});
  const debug = resolveRef(datasets, String(v.dataset), 'dataset');
  const bySplit = (split: string, what: string): number => {
    const c = datasets.filter((d) => d.split === split && d.id !== debug);
    if (c.length === 1) return c[0]!.id;
    throw new UsageError(`--${what} is required: the lab has ${c.length} datasets with split "${split}" besides --dataset (${c.map((d) => `${d.id}:${d.name}`).join(', ') || 'none'})`);
  };
  return {
    debug,
    train: v.train ? resolveRef(datasets, String(v.train), 'dataset') : bySplit('train', 'train'),
    test: v.test ? resolveRef(datasets, String(v.test), 'dataset') : bySplit('test', 'test'),
  };
}

/** A model id or name in the lab, a package folder (added to the lab), or "shapeworld" (the embedded classifier, added). */
async function modelRef(handlers: Handlers, ref: string): Promise<number> {
  const { existsSync, statSync } = await import('node:fs');
  if (ref === 'shapeworld') {
    const { shapeworldPackageDir } = await import('../native-models/shapeworld/packages.ts');
    return (await call(handlers, 'models.add', { onnx: shapeworldPackageDir('classifier') })).id;
  }
  if (existsSync(ref) && statSync(ref).isDirectory()) return (await call(handlers, 'models.add', { onnx: resolve(ref) })).id;
  return resolveRef(await call(handlers, 'models.list', {}), ref, 'model');
}

/** The model's runs on the debug, train and test datasets (stored ones reused). */
async function memberRuns(lab: Lab, handlers: Handlers, modelId: number, ds: { debug: number; train: number; test: number }, provider: 'auto' | undefined, quiet: boolean) {
  const runOf = async (datasetId: number): Promise<number> => {
    const started = await call(handlers, 'runs.start', { modelId, datasetId, provider });
    if (started.jobId !== null) {
      const job = await follow(lab, started.jobId, quiet);
      if (job.status !== 'done') throw new CliError(`run ${job.status}: ${job.error ?? job.message ?? ''}`, job.status === 'cancelled' ? 130 : 1);
    }
    return started.runId;
  };
  return { debugRunId: await runOf(ds.debug), trainRunId: await runOf(ds.train), testRunId: await runOf(ds.test) };
}

const logTo = (quiet: boolean) => (line: string) => {
  if (!quiet) process.stderr.write(`${line}\n`);
};

function followJob(lab: Lab, quiet: boolean) {
  return async (jobId: number): Promise<void> => {
    const job = await follow(lab, jobId, quiet);
    if (job.status === 'cancelled') throw new CliError('cancelled (stored results are kept; run the same command again to resume)', 130);
  };
}

async function badInputExits<T>(f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    if (e instanceof BadInputError) throw new CliError(e.message, 2);
    throw e;
  }
}

const commands: Record<string, Command> = {
  demo: {
    summary: 'the main job on the embedded ShapeWorld demo: the classifier run, its failures and per-factor error ratios, CLIP attribution, generation, review, head retraining vs random debugging, export',
    usage:
      'factorlab demo [--lab DIR] [--images N] [--seed S] [--generate N] [--train N] [--lambda L] [--provider auto|cpu|cuda|webgpu] [--json]\n' +
      '  --generate N: images per attributed background in the patch loop (random debugging gets as many per class), 0 skips the loop; default 8\n' +
      '  --train N: images of the ShapeWorld train split whose features keep the head on the original data; default 1000',
    options: {
      ...jsonOption,
      lab: { type: 'string', default: process.env.FACTORLAB_LAB ?? 'factorlab-demo' },
      images: { type: 'string', default: '2000' },
      seed: { type: 'string', default: '3' },
      generate: { type: 'string', default: '8' },
      train: { type: 'string', default: '1000' },
      lambda: { type: 'string', default: '0.5' },
      provider: { type: 'string' },
    },
    async run(v) {
      const count = Number(v.images);
      const seed = Number(v.seed);
      if (!Number.isInteger(count) || count < 10 || count > 1_000_000) throw new UsageError(`--images must be an integer from 10 to 1000000, got ${String(v.images)}`);
      if (!Number.isInteger(seed) || seed < 0) throw new UsageError(`--seed must be a non-negative integer, got ${String(v.seed)}`);
      const generatePerPrompt = Number(v.generate);
      if (!Number.isInteger(generatePerPrompt) || generatePerPrompt < 0 || generatePerPrompt > 64) throw new UsageError(`--generate must be an integer from 0 to 64, got ${String(v.generate)}`);
      const trainCount = Number(v.train);
      if (!Number.isInteger(trainCount) || trainCount < 10 || trainCount > 1_000_000) throw new UsageError(`--train must be an integer from 10 to 1000000, got ${String(v.train)}`);
      const lambda = Number(v.lambda);
      if (!Number.isFinite(lambda) || lambda < 0) throw new UsageError(`--lambda must be a number >= 0, got ${String(v.lambda)}`);
      const { runShapeWorldDemo, demoTable2 } = await import('./core/demo/shapeworld-demo.ts');
      const { table2Text, sweepText } = await import('./core/debugging/debug-loop.ts');
      const lab = Lab.open(String(v.lab));
      const quiet = Boolean(v.json);
      try {
        const r = await runShapeWorldDemo(lab, {
          count,
          seed,
          generatePerPrompt,
          trainCount,
          lambda,
          provider: v.provider as 'auto' | undefined,
          log: (line) => quiet || process.stderr.write(`${line}\n`),
          onJob: async (jobId) => {
            await follow(lab, jobId, quiet);
          },
        });
        const pct = (x: number | null) => (x === null ? 'n/a' : `${(100 * x).toFixed(1)}%`);
        print(Boolean(v.json), { ...r, ...(demoTable2(r) ?? {}) }, () =>
          [
            `ShapeWorld demo in ${r.lab} (${r.seconds.total.toFixed(1)} s${r.reused ? ', stored run reused' : ''})`,
            `  ${r.run.modelName} on ${r.run.datasetName}: accuracy ${pct(r.run.accuracy)} (${r.run.numCorrect}/${r.run.numScored}), ${r.run.numScored - r.run.numCorrect} failures, provider ${r.run.provider}`,
            `  accuracy on usual backgrounds ${pct(r.accuracyUsualBackground)}, on uncommon backgrounds ${pct(r.accuracyUncommonBackground)}`,
            '  error ratio by ground-truth factor (1 = as often wrong as average; ImageNet-X definition):',
            ...r.errorRatios.factors
              .filter((f) => f.errorRatio !== null)
              .sort((a, b) => b.errorRatio! - a.errorRatio!)
              .map((f) => `    ${f.factor.padEnd(17)} ${f.errorRatio!.toFixed(2).padStart(5)}  (${f.count} images, accuracy ${pct(f.accuracy)})`),
            '  most frequent confusions:',
            ...r.run.confusions.slice(0, 5).map((c) => `    ${c.trueName} -> ${c.predName}: ${c.count}`),
            `  CLIP attribution of the failures (${r.attribution.numSeed} seed, ${r.attribution.numHeldout} heldout): top backgrounds per class`,
            ...Object.entries(r.attribution.backgrounds).map(([c, bgs]) => `    ${c.padEnd(9)} ${bgs.join(' | ')}`),
            ...(r.generation && r.debug
              ? [
                  `  generated (${r.seconds.loop.toFixed(1)} s for the loop): ${r.generation.individual.images} images from the attributed backgrounds, ${r.generation.random.images} from class names; ` +
                    `the classifier is right on ${pct(r.generation.individual.classifierAccuracy)} and ${pct(r.generation.random.classifierAccuracy)} of them`,
                  `  CLIP review accepted ${r.generation.individual.accepted} and ${r.generation.random.accepted}; head retrained (λ ${r.debug.result.settings.lambda}) on ${r.debug.result.counts.train} train images + the accepted images:`,
                  ...table2Text(r.debug.result),
                  ...sweepText(r.debug.sweep),
                  `  patched model: ${r.debug.export.onnx} (checked on ${r.debug.export.check.images} test images: ${pct(r.debug.export.check.accuracy)})`,
                  `  report: ${r.debug.export.report}`,
                ]
              : []),
            `Browse the failures: npx factorlab serve --lab ${r.lab}`,
          ].join('\n'),
        );
        return 0;
      } finally {
        lab.close();
      }
    },
  },
  import: {
    summary: 'import a dataset: an ImageNet-style folder (<class>/<image>) or a flat folder plus a CSV file,label',
    usage: 'factorlab import --root DIR [--csv FILE] [--labels FILE] [--name NAME] [--split train|val|test] [--lab DIR] [--json]',
    options: { ...labOption, ...jsonOption, root: { type: 'string' }, csv: { type: 'string' }, labels: { type: 'string' }, name: { type: 'string' }, split: { type: 'string' } },
    async run(v) {
      if (!v.root) throw new UsageError('--root is required');
      const { lab, handlers } = openLab(v);
      try {
        const { jobId } = await call(handlers, 'datasets.import', {
          root: String(v.root),
          csv: v.csv as string | undefined,
          labels: v.labels as string | undefined,
          name: v.name as string | undefined,
          split: v.split as string | undefined,
        });
        const job = await follow(lab, jobId, Boolean(v.json));
        if (job.status !== 'done') throw new CliError(`import ${job.status}: ${job.error ?? job.message ?? ''}`);
        const datasetId = Number(job.resultRef!.split(':')[1]);
        const detail = await call(handlers, 'datasets.get', { datasetId });
        print(Boolean(v.json), detail, () =>
          [
            `dataset ${detail.id} "${detail.name}": ${detail.numImages} images in ${detail.numClasses} classes, ${detail.numSkipped} files skipped`,
            ...detail.skipped.slice(0, 20).map((s) => `  skipped ${s.path}: ${s.reason}`),
            ...(detail.skipped.length > 20 ? [`  ... and ${detail.skipped.length - 20} more (see --json)`] : []),
          ].join('\n'),
        );
        return 0;
      } finally {
        lab.close();
      }
    },
  },
  datasets: {
    summary: 'list the datasets of a lab',
    usage: 'factorlab datasets [--lab DIR] [--json]',
    options: { ...labOption, ...jsonOption },
    async run(v) {
      const { lab, handlers } = openLab(v);
      try {
        const list = await call(handlers, 'datasets.list', {});
        print(Boolean(v.json), list, () => list.map((d) => `${d.id}\t${d.name}\t${d.numImages} images\t${d.numClasses} classes\t${d.numSkipped} skipped\t${d.root}`).join('\n') || 'no datasets');
        return 0;
      } finally {
        lab.close();
      }
    },
  },
  'model add': {
    summary: 'add a classifier from a bare .onnx (the head is found in the graph) or register a model package folder',
    usage: 'factorlab model add --kind classifier (--onnx FILE | --package DIR) [--preset imagenet|clip|none] [--preprocess FILE.json] [--labels FILE] [--name NAME] [--lab DIR] [--json]\n  --preprocess: a timm pretrained config (or Hugging Face config.json) or a FactorLab preprocess spec; overrides the preset',
    options: { ...labOption, ...jsonOption, kind: { type: 'string', default: 'classifier' }, onnx: { type: 'string' }, package: { type: 'string' }, preset: { type: 'string', default: 'imagenet' }, preprocess: { type: 'string' }, labels: { type: 'string' }, name: { type: 'string' } },
    async run(v) {
      if (v.kind !== 'classifier') throw new UsageError(`--kind ${String(v.kind)} is not supported yet: only classifier`);
      const source = (v.onnx ?? v.package) as string | undefined;
      if (!source) throw new UsageError('--onnx FILE or --package DIR is required');
      const { lab, handlers } = openLab(v);
      try {
        const m = await call(handlers, 'models.add', {
          onnx: source,
          preset: v.preset as 'imagenet',
          labels: v.labels as string | undefined,
          name: v.name as string | undefined,
          preprocess: v.preprocess as string | undefined,
        });
        print(Boolean(v.json), m, () => `model ${m.id} "${m.name}": ${m.numClasses} classes, features ${m.featureDim}, input ${JSON.stringify(m.inputShape)}, preset ${m.preset}\n  package: ${m.dir}`);
        return 0;
      } finally {
        lab.close();
      }
    },
  },
  models: {
    summary: 'list the models of a lab',
    usage: 'factorlab models [--lab DIR] [--json]',
    options: { ...labOption, ...jsonOption },
    async run(v) {
      const { lab, handlers } = openLab(v);
      try {
        const list = await call(handlers, 'models.list', {});
        print(Boolean(v.json), list, () => list.map((m) => `${m.id}\t${m.name}\t${m.numClasses} classes\t${m.preset}\t${m.sha256.slice(0, 12)}`).join('\n') || 'no models');
        return 0;
      } finally {
        lab.close();
      }
    },
  },
  run: {
    summary: 'run a classifier over a dataset (stored; reused when model, dataset and preprocessing are unchanged; resumes after a crash)',
    usage: 'factorlab run --model ID|NAME --dataset ID|NAME [--provider auto|cpu|cuda|webgpu] [--lab DIR] [--json]',
    options: { ...labOption, ...jsonOption, model: { type: 'string' }, dataset: { type: 'string' }, provider: { type: 'string' } },
    async run(v) {
      if (!v.model || !v.dataset) throw new UsageError('--model and --dataset are required');
      const { lab, handlers } = openLab(v);
      try {
        const modelId = resolveRef(await call(handlers, 'models.list', {}), String(v.model), 'model');
        const datasetId = resolveRef(await call(handlers, 'datasets.list', {}), String(v.dataset), 'dataset');
        const started = await call(handlers, 'runs.start', { modelId, datasetId, provider: v.provider as 'auto' | undefined });
        if (started.jobId !== null) {
          const job = await follow(lab, started.jobId, Boolean(v.json));
          if (job.status !== 'done') throw new CliError(`run ${job.status}: ${job.error ?? job.message ?? ''}`, job.status === 'cancelled' ? 130 : 1);
        }
        const detail = await call(handlers, 'runs.summary', { runId: started.runId });
        const out = { ...detail, reused: started.reused, providerInfo: lab.provider };
        print(Boolean(v.json), out, () =>
          [
            `run ${detail.id}: ${detail.modelName} on ${detail.datasetName}${started.reused ? ' (stored result reused)' : ''}`,
            `  provider: ${detail.provider ?? 'n/a'}${lab.provider.fallbacks.map((f) => `; ${f.provider} skipped: ${f.reason}`).join('')}`,
            `  accuracy: ${detail.accuracy === null ? 'n/a' : (100 * detail.accuracy).toFixed(2) + '%'} (${detail.numCorrect}/${detail.numScored}), failures: ${detail.numScored - detail.numCorrect}`,
            ...(detail.unmappedClasses.length ? [`  classes not in the model's labels (not scored): ${detail.unmappedClasses.slice(0, 10).join(', ')}`] : []),
            ...detail.confusions.slice(0, 5).map((c) => `  confused ${c.trueName} -> ${c.predName}: ${c.count}`),
          ].join('\n'),
        );
        return 0;
      } finally {
        lab.close();
      }
    },
  },
  runs: {
    summary: 'list the model runs of a lab',
    usage: 'factorlab runs [--lab DIR] [--json]',
    options: { ...labOption, ...jsonOption },
    async run(v) {
      const { lab, handlers } = openLab(v);
      try {
        const list = await call(handlers, 'runs.list', {});
        print(Boolean(v.json), list, () => list.map((r) => `${r.id}\t${r.modelName}\t${r.datasetName}\t${r.status}\t${r.accuracy === null ? '-' : (100 * r.accuracy).toFixed(2) + '%'}`).join('\n') || 'no runs');
        return 0;
      } finally {
        lab.close();
      }
    },
  },
  classify: {
    summary: 'print the top-5 classes of every image in a folder (no lab needed)',
    usage: 'factorlab classify --model PACKAGE_DIR|FILE.onnx --images DIR [--preset imagenet|clip|none] [--labels FILE] [--provider auto|cpu|cuda|webgpu] [--json]',
    options: { ...jsonOption, model: { type: 'string' }, images: { type: 'string' }, preset: { type: 'string', default: 'imagenet' }, labels: { type: 'string' }, provider: { type: 'string', default: 'auto' } },
    async run(v) {
      if (!v.model || !v.images) throw new UsageError('--model and --images are required');
      const result = await classifyFolder({
        model: resolve(String(v.model)),
        images: resolve(String(v.images)),
        preset: v.preset as 'imagenet',
        labels: v.labels as string | undefined,
        provider: v.provider as 'auto',
      });
      print(Boolean(v.json), result, () =>
        [
          `provider: ${result.provider}`,
          ...result.images.map((r) => (r.error ? `${r.file}: ERROR ${r.error}` : `${r.file}: ${r.top5.map((t) => `${t.name} ${(100 * t.prob).toFixed(1)}%`).join(', ')}`)),
        ].join('\n'),
      );
      return result.images.some((r) => !r.error) ? 0 : 1;
    },
  },
  'clip tokenize': {
    summary: "token ids of texts with CLIP's byte-pair encoding (start and end tokens, unpadded)",
    usage: 'factorlab clip tokenize --text T [--text T ...] [--vocab FILE.txt.gz | --vocab vocab.json --merges merges.txt | --tokenizer tokenizer.json] [--json]',
    options: { ...jsonOption, text: { type: 'string', multiple: true }, vocab: { type: 'string' }, merges: { type: 'string' }, tokenizer: { type: 'string' } },
    async run(v) {
      const texts = (v.text as string[] | undefined) ?? [];
      if (texts.length === 0) throw new UsageError('give at least one --text');
      const { ClipTokenizer } = await import('../native-models/clip/tokenizer/index.ts');
      const vocab = v.vocab as string | undefined;
      const tok = v.tokenizer
        ? ClipTokenizer.fromTokenizerJson(resolve(String(v.tokenizer)))
        : vocab && v.merges
          ? ClipTokenizer.fromVocabMerges(resolve(vocab), resolve(String(v.merges)))
          : vocab
            ? ClipTokenizer.fromBpeGz(resolve(vocab))
            : ClipTokenizer.default();
      const ids = texts.map((t) => tok.encode(t));
      print(Boolean(v.json), { ids }, () => ids.map((row, i) => `${JSON.stringify(texts[i])}: ${row.join(' ')}`).join('\n'));
      return 0;
    },
  },
  'imagenetx import': {
    summary: 'import ImageNet-X annotations (official jsonl) as an annotation source, with the prototypical list and the metaclass mapping',
    usage:
      'factorlab imagenetx import --file F.jsonl [--source NAME] [--prototypical prototypical_paths.csv] [--metaclasses imagenet_1k_classes_to_100_metaclasses.csv] [--kind imagenet-x-file|ground-truth|annotator|consensus] [--lab DIR] [--json]\n' +
      '  A file named *_top_factor.jsonl must mark exactly one factor per line (recorded as the top factor).\n' +
      '  Bad lines are reported as file:line and skipped, the rest is imported: exit 3. Nothing valid, or bad input: exit 2.',
    options: { ...labOption, ...jsonOption, file: { type: 'string' }, source: { type: 'string' }, prototypical: { type: 'string' }, metaclasses: { type: 'string' }, kind: { type: 'string', default: 'imagenet-x-file' } },
    async run(v) {
      if (!v.file) throw new UsageError('--file is required');
      const kinds = ['imagenet-x-file', 'ground-truth', 'annotator', 'consensus'] as const;
      const kind = kinds.find((k) => k === v.kind);
      if (!kind) throw new UsageError(`--kind must be one of ${kinds.join(', ')}, got ${String(v.kind)}`);
      const { lab, handlers } = openLab(v);
      try {
        const r = await call(handlers, 'annotations.import', {
          file: String(v.file),
          source: v.source as string | undefined,
          kind,
          prototypical: v.prototypical as string | undefined,
          metaclasses: v.metaclasses as string | undefined,
        });
        for (const e of r.errors.slice(0, 50)) process.stderr.write(`${e.file}:${e.line}: ${e.reason}\n`);
        if (r.errors.length > 50) process.stderr.write(`... and ${r.errors.length - 50} more bad lines (see --json)\n`);
        const s = r.source;
        print(Boolean(v.json), r, () =>
          [
            `annotation source ${s.id} "${s.name}" (${s.kind}): ${s.numAnnotations} annotations imported from ${r.lines} lines, ${r.errors.length} bad lines skipped`,
            `  ${s.numMatchedImages} match an image of the lab by file name; ${s.numPrototypes} prototypical images excluded from analysis by default`,
            ...(r.metaclasses !== null ? [`  metaclass mapping stored for ${r.metaclasses} classes`] : []),
          ].join('\n'),
        );
        return r.errors.length ? 3 : 0;
      } finally {
        lab.close();
      }
    },
  },
  'imagenetx metaclasses': {
    summary: "store the lab's class-to-metaclass mapping (imagenet_1k_classes_to_100_metaclasses.csv) for --error-type metaclass",
    usage: 'factorlab imagenetx metaclasses --file imagenet_1k_classes_to_100_metaclasses.csv [--lab DIR] [--json]\n  wnid,name,metaclass; row i is class i. Replaces the mapping stored before.',
    options: { ...labOption, ...jsonOption, file: { type: 'string' } },
    async run(v) {
      if (!v.file) throw new UsageError('--file is required');
      const { lab, handlers } = openLab(v);
      try {
        const r = await call(handlers, 'annotations.metaclasses', { file: String(v.file) });
        print(Boolean(v.json), r, () => `metaclass mapping stored for ${r.classes} classes`);
        return 0;
      } finally {
        lab.close();
      }
    },
  },
  'imagenetx export': {
    summary: "export an annotation source to ImageNet-X jsonl (the imported file's key order and layout)",
    usage: 'factorlab imagenetx export --source ID|NAME --out F.jsonl [--lab DIR] [--json]',
    options: { ...labOption, ...jsonOption, source: { type: 'string' }, out: { type: 'string' } },
    async run(v) {
      if (!v.source || !v.out) throw new UsageError('--source and --out are required');
      const { lab, handlers } = openLab(v);
      try {
        const sourceId = resolveRef(await call(handlers, 'annotations.sources', {}), String(v.source), 'annotation source');
        const r = await call(handlers, 'annotations.export', { sourceId, out: String(v.out) });
        print(Boolean(v.json), r, () => `${r.lines} annotations written to ${r.path}`);
        return 0;
      } finally {
        lab.close();
      }
    },
  },
  'imagenetx report': {
    summary: 'per-factor accuracy and error ratio (ImageNet-X definition) of a model run against an annotation source, with 95% Wilson intervals',
    usage:
      'factorlab imagenetx report --run ID --source ID|NAME [--error-type class|metaclass] [--keep-prototypes] [--lab DIR] [--json]\n' +
      '  Predictions are matched to annotations by file name; unannotated and (by default) prototypical images are dropped.\n' +
      '  error ratio = (1 - accuracy_f) / (1 - average); its interval is the accuracy interval mapped through that formula.',
    options: { ...labOption, ...jsonOption, run: { type: 'string' }, source: { type: 'string' }, 'error-type': { type: 'string', default: 'class' }, 'keep-prototypes': { type: 'boolean', default: false } },
    async run(v) {
      if (!v.run || !v.source) throw new UsageError('--run and --source are required');
      const errorType = v['error-type'];
      if (errorType !== 'class' && errorType !== 'metaclass') throw new UsageError(`--error-type must be class or metaclass, got ${String(errorType)}`);
      const { lab, handlers } = openLab(v);
      try {
        const runs = await call(handlers, 'runs.list', {});
        const runId = resolveRef(runs.map((r) => ({ id: r.id, name: `${r.modelName} on ${r.datasetName}` })), String(v.run), 'run');
        const sourceId = resolveRef(await call(handlers, 'annotations.sources', {}), String(v.source), 'annotation source');
        const r = await call(handlers, 'analysis.errorRatios', { runId, sourceId, errorType, keepPrototypes: Boolean(v['keep-prototypes']) });
        const pct = (x: number | null) => (x === null ? 'n/a' : `${(100 * x).toFixed(1)}%`);
        const ci = (c: [number, number] | null, f: (x: number) => string) => (c ? `[${f(c[0])}, ${f(c[1])}]` : '');
        const num = (x: number) => x.toFixed(2);
        const sorted = [...r.factors].sort((a, b) => (b.errorRatio ?? -Infinity) - (a.errorRatio ?? -Infinity) || b.count - a.count);
        print(Boolean(v.json), r, () =>
          [
            `run ${r.runId} against "${r.sourceName}", error type ${r.errorType}: ${r.images} images evaluated (${r.unannotated} without annotation, ${r.prototypesDropped} prototypical dropped)`,
            `  average accuracy ${pct(r.average)} ${ci(r.averageCi, (x) => pct(x))}; worst factor ${r.worstFactor ?? 'n/a'} (accuracy ${pct(r.worstFactorAccuracy)})`,
            `  ${'factor'.padEnd(17)} ${'count'.padStart(6)}  ${'accuracy [95% CI]'.padEnd(26)}  error ratio [95% CI]`,
            ...sorted.map(
              (f) =>
                `  ${f.factor.padEnd(17)} ${String(f.count).padStart(6)}  ${`${pct(f.accuracy)} ${ci(f.accuracyCi, (x) => pct(x))}`.padEnd(26)}  ${f.errorRatio === null ? 'n/a' : `${num(f.errorRatio)} ${ci(f.errorRatioCi, num)}`}`,
            ),
          ].join('\n'),
        );
        return 0;
      } finally {
        lab.close();
      }
    },
  },
  'imagenetx error-ratios': {
    summary: errorRatiosSummary,
    usage: errorRatiosUsage,
    options: errorRatiosOptions,
    async run(v) {
      try {
        return await runErrorRatios(v);
      } catch (e) {
        if (e instanceof ErrorRatiosUsageError) throw new UsageError(e.message);
        if (e instanceof BadInputError) throw new CliError(e.message, 2);
        throw e;
      }
    },
  },
  'imagenetx import-predictions': {
    summary: "import a prediction CSV (the ImageNet-X toolkit's format) into the lab as a model run that needs no images",
    usage:
      'factorlab imagenetx import-predictions --file F.csv [--name NAME] [--num-classes 1000] [--lab DIR] [--json]\n' +
      '  CSV file_name,predicted_class,predicted_probability; NAME defaults to the file name without .csv.\n' +
      '  Any bad line (file:line and why) refuses the whole file: exit 2, nothing imported.',
    options: { ...labOption, ...jsonOption, file: { type: 'string' }, name: { type: 'string' }, 'num-classes': { type: 'string', default: '1000' } },
    async run(v) {
      if (!v.file) throw new UsageError('--file is required');
      let numClasses: number;
      try {
        numClasses = parseIntOption(v['num-classes'], 'num-classes', 1, 100000);
      } catch (e) {
        throw new UsageError((e as Error).message);
      }
      const { lab, handlers } = openLab(v);
      try {
        const r = await call(handlers, 'predictions.import', { file: String(v.file), name: v.name as string | undefined, numClasses });
        print(Boolean(v.json), r, () =>
          [
            `prediction set ${r.id} "${r.name}": ${r.numPredictions} predictions imported from ${r.file}`,
            `  ${r.numImagesInLab} of them name an image of the lab; analyse it with the runs in the Factors view`,
          ].join('\n'),
        );
        return 0;
      } finally {
        lab.close();
      }
    },
  },
  'imagenetx prediction-sets': {
    summary: 'list the prediction files imported into the lab',
    usage: 'factorlab imagenetx prediction-sets [--lab DIR] [--json]',
    options: { ...labOption, ...jsonOption },
    async run(v) {
      const { lab, handlers } = openLab(v);
      try {
        const sets = await call(handlers, 'predictions.list', {});
        print(Boolean(v.json), sets, () => (sets.length ? sets.map((s) => `${s.id}  ${s.name}  ${s.numPredictions} predictions  ${s.file}`).join('\n') : 'no prediction set in this lab'));
        return 0;
      } finally {
        lab.close();
      }
    },
  },
  attribute: {
    summary: attributeSummary,
    usage: attributeUsage,
    options: { ...labOption, ...jsonOption, run: { type: 'string' }, clip: { type: 'string' }, k: { type: 'string', default: '3' }, seed: { type: 'string', default: '0' } },
    async run(v) {
      if (!v.run || !v.clip) throw new UsageError('--run and --clip are required');
      let runId: number, k: number, seed: number;
      try {
        runId = parseIntOption(v.run, 'run', 0, Number.MAX_SAFE_INTEGER);
        k = parseIntOption(v.k, 'k', 1, 100);
        seed = parseIntOption(v.seed, 'seed', 0, 2 ** 31 - 1);
      } catch (e) {
        throw new UsageError((e as Error).message);
      }
      const { lab, handlers } = openLab(v);
      try {
        const started = await call(handlers, 'attribution.start', { runId, clip: String(v.clip), k, seed });
        if (started.jobId !== null) {
          const job = await follow(lab, started.jobId, Boolean(v.json));
          if (job.status !== 'done') throw new CliError(`attribution ${job.status}: ${job.error ?? job.message ?? ''}`, job.status === 'cancelled' ? 130 : 1);
        }
        const detail = await call(handlers, 'attribution.get', { id: started.id });
        const { shapeworldAgreement } = await import('./core/debugging/attribution.ts');
        const agreement = shapeworldAgreement(lab.db, started.id);
        print(Boolean(v.json), { ...detail, reused: started.reused, groundTruth: agreement }, () => attributionText(detail, agreement));
        return 0;
      } finally {
        lab.close();
      }
    },
  },
  debug: {
    summary: 'the patch loop (Chegini & Feizi): attribute the failures of a model on a dataset, generate images, review them with the CLIP filter, retrain the head, compare with random debugging',
    usage:
      'factorlab debug --model ID|NAME|PACKAGE_DIR --dataset ID|NAME --clip PACKAGE_DIR --generator SD_ONNX_DIR [--train ID|NAME] [--test ID|NAME]\n' +
      '                [--lambda 0.5] [--k 3] [--n-per-background 8] [--baseline random|none] [--review clip|none] [--filter-rank 1]\n' +
      '                [--steps 20] [--guidance 5] [--optimizer sgd|lbfgs] [--epochs 20] [--seed 0] [--sweep] [--provider auto|cpu|cuda|webgpu] [--lab DIR] [--json]\n' +
      '  --sweep: also retrain with λ 0, 0.25, 0.5, 1, 2, 4 and with each class\'s top 1..k backgrounds (the paper\'s Figure 5; in the export\'s report).\n' +
      '  The debug set is the failures of the model on --dataset. --train: the original-data term of the loss (default: the lab\'s one dataset with split "train");\n' +
      '  --test: accuracy before / after (default: the lab\'s one other dataset with split "test"). "shapeworld" names the embedded CLIP / generator.\n' +
      '  --review none trains only on images people accepted (generation.review in the UI). Every step is stored and reused.',
    options: { ...loopOptions, model: { type: 'string' }, baseline: { type: 'string', default: 'random' }, sweep: { type: 'boolean', default: false } },
    async run(v) {
      if (!v.model) throw new UsageError('--model is required');
      if (!['random', 'none'].includes(String(v.baseline))) throw new UsageError(`--baseline must be random or none, got ${String(v.baseline)}`);
      const settings = await loopSettings(v);
      const { lab, handlers } = openLab(v);
      const quiet = Boolean(v.json);
      try {
        const ds = await loopDatasets(handlers, v);
        const modelId = await modelRef(handlers, String(v.model));
        const runs = await memberRuns(lab, handlers, modelId, ds, v.provider as 'auto' | undefined, quiet);
        const { runDebugLoop, runSweeps, table2Text, sweepText } = await import('./core/debugging/debug-loop.ts');
        const r = await badInputExits(() => runDebugLoop(lab, { ...runs, ...settings, baseline: v.baseline === 'random', log: logTo(quiet), onJob: followJob(lab, quiet) }));
        const sweep = v.sweep ? await runSweeps(lab, r.result, [0, 0.25, 0.5, 1, 2, 4], Array.from({ length: settings.k }, (_, i) => i + 1)) : null;
        const out = { ...r.result, sweep, attribution: { id: r.attribution.id, backgrounds: Object.fromEntries(r.attribution.classes.map((c) => [c.name, c.backgrounds.filter((b) => b.top).map((b) => b.phrase)])) }, sets: { individual: r.sets.individual.id, random: r.sets.random?.id ?? null } };
        print(quiet, out, () =>
          [
            `debug result ${r.result.id}: ${r.result.model.name}, debug set ${r.result.counts.debugSet} failures of run ${runs.debugRunId} (seed ${r.result.counts.seed}, heldout ${r.result.counts.heldout}); train run ${runs.trainRunId}, test run ${runs.testRunId}`,
            `  generation sets: individual #${r.sets.individual.id} (${r.sets.individual.accepted}/${r.sets.individual.generated} accepted)` +
              (r.sets.random ? `, random #${r.sets.random.id} (${r.sets.random.accepted}/${r.sets.random.generated} accepted, ${r.result.generated.random} used to match)` : ''),
            ...table2Text(r.result),
            ...(sweep ? sweepText(sweep) : []),
            `Export: npx factorlab export-head --lab ${lab.dir} --result ${r.result.id} --out DIR`,
          ].join('\n'),
        );
        return 0;
      } finally {
        lab.close();
      }
    },
  },
  discover: {
    summary: discoverSummary,
    usage: discoverUsage,
    options: {
      ...labOption,
      ...jsonOption,
      model: { type: 'string' },
      generator: { type: 'string' },
      clip: { type: 'string' },
      captioner: { type: 'string' },
      'describe-with': { type: 'string', default: 'clip' },
      classes: { type: 'string' },
      'classes-file': { type: 'string' },
      n: { type: 'string', default: '32' },
      m: { type: 'string', default: '16' },
      steps: { type: 'string', default: '20' },
      guidance: { type: 'string', default: '5' },
      seed: { type: 'string', default: '0' },
      'filter-rank': { type: 'string', default: '3' },
      alpha: { type: 'string', default: '0.05' },
      'max-attributes': { type: 'string', default: '3' },
      'min-members': { type: 'string', default: '2' },
      'max-clusters': { type: 'string', default: '8' },
      export: { type: 'string' },
      provider: { type: 'string' },
    },
    async run(v) {
      if (!v.model || !v.generator) throw new UsageError('--model and --generator are required');
      const describeWith = String(v['describe-with']);
      if (describeWith !== 'clip' && describeWith !== 'captioner') throw new UsageError(`--describe-with must be clip or captioner, got ${describeWith}`);
      let nums: Record<'n' | 'm' | 'steps' | 'seed' | 'filterRank' | 'maxAttributes' | 'minMembers' | 'maxClusters', number>;
      let guidance: number, alpha: number;
      try {
        nums = {
          n: parseIntOption(v.n, 'n', 1, 10000),
          m: parseIntOption(v.m, 'm', 1, 10000),
          steps: parseIntOption(v.steps, 'steps', 1, 500),
          seed: parseIntOption(v.seed, 'seed', 0, 2 ** 31 - 1),
          filterRank: parseIntOption(v['filter-rank'], 'filter-rank', 0, 1000),
          maxAttributes: parseIntOption(v['max-attributes'], 'max-attributes', 1, 10),
          minMembers: parseIntOption(v['min-members'], 'min-members', 1, 1000),
          maxClusters: parseIntOption(v['max-clusters'], 'max-clusters', 1, 50),
        };
        guidance = Number(v.guidance);
        alpha = Number(v.alpha);
        if (!Number.isFinite(guidance) || guidance < 0) throw new Error(`--guidance must be a number >= 0, got ${String(v.guidance)}`);
        if (!(alpha > 0 && alpha < 1)) throw new Error(`--alpha must be between 0 and 1, got ${String(v.alpha)}`);
      } catch (e) {
        throw new UsageError((e as Error).message);
      }
      const { lab, handlers } = openLab(v);
      const quiet = Boolean(v.json);
      try {
        const modelId = await modelRef(handlers, String(v.model));
        const { getModel } = await import('./core/models/model-registry.ts');
        const { vocabularyFor } = await import('./core/debugging/vocabulary.ts');
        const model = getModel(lab.db, modelId);
        const labels = model.classNames.map((name) => ({ name }));
        let classes: number[] | null;
        try {
          classes = parseClasses(v.classes as string | undefined, v['classes-file'] as string | undefined, labels);
        } catch (e) {
          throw new CliError((e as Error).message, 2);
        }
        const clip = v.clip ? String(v.clip) : vocabularyFor(labels) === 'shapeworld' ? 'shapeworld' : null;
        if (!clip) throw new UsageError(`--clip is required: ${model.name} is not a ShapeWorld model`);
        const started = await call(handlers, 'discovery.start', {
          modelId,
          generator: String(v.generator),
          clip,
          captioner: v.captioner ? String(v.captioner) : null,
          describeWith,
          classes,
          ...nums,
          guidance,
          alpha,
        });
        if (started.jobId !== null) await followJob(lab, quiet)(started.jobId);
        const report = await call(handlers, 'discovery.get', { id: started.id, alpha });
        if (report.status !== 'done') throw new CliError(`discovery ${report.status}: ${report.message ?? ''}`);
        const exported = v.export && report.confirmed ? await call(handlers, 'discovery.export', { id: started.id, out: String(v.export), alpha }) : null;
        print(quiet, { ...report, reused: started.reused, exported }, () =>
          [discoveryText(report), ...(exported ? [`exported ${exported.images} images of ${exported.hypotheses} confirmed modes to ${exported.out}`] : v.export ? ['nothing exported: no confirmed mode'] : [])].join('\n'),
        );
        return 0;
      } finally {
        lab.close();
      }
    },
  },
  'debug-group': {
    summary: 'collective debugging: one generated set patches every model of a group (type 1: backgrounds from the pooled failures of all; type 2: from one model\'s failures), compared with debugging each model on its own',
    usage:
      'factorlab debug-group --models M1,M2[,...] --dataset ID|NAME --clip PACKAGE_DIR --generator SD_ONNX_DIR [--type 1|2] [--source N] [--train ID|NAME] [--test ID|NAME]\n' +
      '                [--lambda 0.5] [--k 3] [--n-per-background 8] [--review clip|none] [--filter-rank 1] [--steps 20] [--guidance 5] [--optimizer sgd|lbfgs] [--epochs 20] [--seed 0] [--lab DIR] [--json]\n' +
      '  Models: ids, names or package folders. --source N (type 2): the Nth model (from 1) whose failures choose the backgrounds for all.\n' +
      '  Per model: heldout gain of its own (individual) debugging, of the collective set, and the share of the first that the second reaches.',
    options: { ...loopOptions, models: { type: 'string' }, type: { type: 'string', default: '1' }, source: { type: 'string', default: '1' } },
    async run(v) {
      if (!v.models) throw new UsageError('--models is required (at least two, comma-separated)');
      if (v.type !== '1' && v.type !== '2') throw new UsageError(`--type must be 1 (pooled failures) or 2 (one model's failures), got ${String(v.type)}`);
      const refs = String(v.models).split(',').map((x) => x.trim()).filter(Boolean);
      if (refs.length < 2) throw new UsageError(`--models needs at least two models, got ${refs.length}`);
      let source: number;
      try {
        source = parseIntOption(v.source, 'source', 1, refs.length) - 1;
      } catch (e) {
        throw new UsageError((e as Error).message);
      }
      const settings = await loopSettings(v);
      const { lab, handlers } = openLab(v);
      const quiet = Boolean(v.json);
      try {
        const ds = await loopDatasets(handlers, v);
        const members: { debugRunId: number; trainRunId: number; testRunId: number }[] = [];
        for (const ref of refs) members.push(await memberRuns(lab, handlers, await modelRef(handlers, ref), ds, v.provider as 'auto' | undefined, quiet));
        const { runCollective } = await import('./core/debugging/collective.ts');
        const r = await badInputExits(() => runCollective(lab, { ...settings, members, type: Number(v.type) as 1 | 2, source, log: logTo(quiet), onJob: followJob(lab, quiet) }));
        const pct = (x: number) => `${x >= 0 ? '+' : ''}${(100 * x).toFixed(1)}`;
        const out = {
          type: r.type,
          set: { id: r.set.id, accepted: r.set.accepted, generated: r.set.generated, pooledWith: r.set.pooledWith, attributionId: r.set.attributionId },
          members: r.members.map((m) => ({ debugRunId: m.debugRunId, model: m.individual.model.name, individualResult: m.individual.id, collectiveResult: m.collective.id, before: m.individual.before, individual: m.individual.individual, collective: m.collective.individual, shareFixed: m.shareFixed })),
        };
        print(quiet, out, () =>
          [
            `collective debugging, type ${r.type} (${r.type === 1 ? 'pooled failures of all models' : `failures of model ${source + 1}`}): set #${r.set.id}, ${r.set.accepted}/${r.set.generated} images accepted`,
            '  model                  heldout gain: own set   collective   share      test: own    collective',
            ...r.members.map(
              (m) =>
                `  ${m.individual.model.name.slice(0, 22).padEnd(22)} ${pct(m.individual.gain.individual.heldout).padStart(20)} ${pct(m.collective.gain.individual.heldout).padStart(12)} ${(m.shareFixed === null ? 'n/a' : `${(100 * m.shareFixed).toFixed(0)}%`).padStart(7)} ${pct(m.individual.gain.individual.test).padStart(12)} ${pct(m.collective.gain.individual.test).padStart(12)}`,
            ),
          ].join('\n'),
        );
        return 0;
      } finally {
        lab.close();
      }
    },
  },
  'export-head': {
    summary: 'write a debug result as a patched classifier package (checked against the original on the test images), the head as safetensors and JSON, and an HTML report',
    usage: 'factorlab export-head --result ID --out DIR [--head individual|random] [--lab DIR] [--json]',
    options: { ...labOption, ...jsonOption, result: { type: 'string' }, out: { type: 'string' }, head: { type: 'string', default: 'individual' } },
    async run(v) {
      if (!v.result || !v.out) throw new UsageError('--result and --out are required');
      if (v.head !== 'individual' && v.head !== 'random') throw new UsageError(`--head must be individual or random, got ${String(v.head)}`);
      let id: number;
      try {
        id = parseIntOption(v.result, 'result', 0, Number.MAX_SAFE_INTEGER);
      } catch (e) {
        throw new UsageError((e as Error).message);
      }
      const { lab, handlers } = openLab(v);
      try {
        const { jobId } = await call(handlers, 'debug.export', { id, out: resolve(String(v.out)), which: v.head });
        const job = await follow(lab, jobId, Boolean(v.json));
        if (job.status !== 'done') throw new CliError(`export ${job.status}: ${job.error ?? job.message ?? ''}`, job.status === 'cancelled' ? 130 : 1);
        const r = await call(handlers, 'debug.exported', { jobId });
        print(Boolean(v.json), r, () =>
          [
            `patched model: ${r.onnx} (sha256 ${r.onnxSha256})`,
            `  checked on ${r.check.images} test images: ${(100 * r.check.accuracy).toFixed(2)}% (evaluation ${(100 * r.check.evaluated).toFixed(2)}%)`,
            `  head: ${r.safetensors}, ${r.json}`,
            `  report: ${r.report}`,
          ].join('\n'),
        );
        return 0;
      } finally {
        lab.close();
      }
    },
  },
  'convert-fp16': {
    summary: convertFp16Summary,
    usage: convertFp16Usage,
    options: { ...jsonOption, model: { type: 'string' }, out: { type: 'string' }, images: { type: 'string' }, 'max-rel-error': { type: 'string', default: '0.01' }, overwrite: { type: 'boolean', default: false } },
    async run(v) {
      if (!v.model || !v.out) throw new UsageError('--model and --out are required');
      const maxRelError = Number(v['max-rel-error']);
      if (!(maxRelError > 0 && maxRelError < 1)) throw new UsageError(`--max-rel-error must be a number between 0 and 1, got ${String(v['max-rel-error'])}`);
      const { convertPackageToFloat16 } = await import('../native-models/convert/convert-package.ts');
      let images: string[] = [];
      if (v.images) {
        const { listImageFiles } = await import('./core/datasets/image-files.ts');
        images = (await listImageFiles(resolve(String(v.images)))).images.map((f) => f.abs).sort();
        if (images.length === 0) throw new CliError(`${String(v.images)}: no images found`, 2);
      }
      const out = resolve(String(v.out));
      const r = await convertPackageToFloat16(resolve(String(v.model)), out, { images, maxRelError, overwrite: Boolean(v.overwrite) });
      print(Boolean(v.json), { out, ...r }, () => convertFp16Text(r, out));
      return 0;
    },
  },
  'clip zero-shot': {
    summary: 'zero-shot classify every image in a folder with a CLIP package and class names (CLIP prompt templates averaged)',
    usage: 'factorlab clip zero-shot --model PACKAGE_DIR --images DIR --labels FILE [--templates recommended|all] [--template T ...] [--provider auto|cpu|cuda|webgpu] [--json]',
    options: { ...jsonOption, model: { type: 'string' }, images: { type: 'string' }, labels: { type: 'string' }, templates: { type: 'string', default: 'recommended' }, template: { type: 'string', multiple: true }, provider: { type: 'string', default: 'auto' } },
    async run(v) {
      if (!v.model || !v.images || !v.labels) throw new UsageError('--model, --images and --labels are required');
      if (v.templates !== 'recommended' && v.templates !== 'all') throw new UsageError(`--templates must be recommended or all, got ${String(v.templates)}`);
      const { zeroShotFolder, clipTemplates } = await import('./core/clip/zero-shot-folder.ts');
      const templates = (v.template as string[] | undefined) ?? clipTemplates(v.templates);
      const r = await zeroShotFolder({ model: resolve(String(v.model)), images: resolve(String(v.images)), labels: resolve(String(v.labels)), templates, provider: v.provider as 'auto' });
      print(Boolean(v.json), r, () =>
        [
          `provider: ${r.provider}; ${r.classes.length} classes x ${r.templates.length} templates`,
          ...r.images.map((x) => (x.error ? `${x.file}: ERROR ${x.error}` : `${x.file}: ${x.top5.map((t) => `${t.name} ${(100 * t.prob).toFixed(1)}%`).join(', ')}`)),
        ].join('\n'),
      );
      return r.images.some((x) => !x.error) ? 0 : 1;
    },
  },
  generate: {
    summary: 'text-to-image with a Stable Diffusion model in the Hugging Face Optimum ONNX layout: PNGs plus a provenance JSON per image',
    usage:
      'factorlab generate --model DIR --prompt T [--prompt T ...] --out DIR [--negative T] [--seed N] [--steps N] [--guidance G] [--scheduler ddim|euler|euler_a|dpmpp_2m|lcm|pndm] [--n N] [--width W --height H] [--truncate] [--max-batch N] [--provider auto|cpu|cuda|webgpu] [--json]\n' +
      '  Image k of a run (prompts x n, prompt-major) uses seed N + k; its provenance JSON records it. Default scheduler: the model\'s scheduler_config.json.\n' +
      '  Prompts longer than the tokenizer\'s limit (77 tokens) are refused unless --truncate.',
    options: {
      ...jsonOption,
      model: { type: 'string' },
      prompt: { type: 'string', multiple: true },
      negative: { type: 'string' },
      seed: { type: 'string' },
      steps: { type: 'string', default: '25' },
      guidance: { type: 'string', default: '7.5' },
      scheduler: { type: 'string' },
      n: { type: 'string', default: '1' },
      width: { type: 'string' },
      height: { type: 'string' },
      out: { type: 'string' },
      truncate: { type: 'boolean', default: false },
      'max-batch': { type: 'string' },
      provider: { type: 'string', default: 'auto' },
    },
    async run(v) {
      const prompts = (v.prompt as string[] | undefined) ?? [];
      if (!v.model || prompts.length === 0 || !v.out) throw new UsageError('--model, --prompt and --out are required');
      const int = (name: string, lo: number, hi: number): number | undefined => {
        if (v[name] === undefined) return undefined;
        const x = Number(v[name]);
        if (!/^\d+$/.test(String(v[name])) || !Number.isSafeInteger(x) || x < lo || x > hi) throw new UsageError(`--${name} must be an integer from ${lo} to ${hi}, got ${String(v[name])}`);
        return x;
      };
      const steps = int('steps', 1, 1000)!;
      const n = int('n', 1, 256)!;
      const width = int('width', 1, 8192);
      const height = int('height', 1, 8192);
      const maxBatch = int('max-batch', 1, 1024);
      const seed = int('seed', 0, Number.MAX_SAFE_INTEGER) ?? (await import('node:crypto')).randomInt(0, 2 ** 32);
      const guidance = Number(v.guidance);
      if (!Number.isFinite(guidance) || guidance < 0 || String(v.guidance).trim() === '') throw new UsageError(`--guidance must be a non-negative number, got ${String(v.guidance)}`);
      if (prompts.some((p) => p.trim() === '')) throw new UsageError('--prompt must not be empty');
      const providers = ['auto', 'cpu', 'cuda', 'webgpu'];
      if (!providers.includes(String(v.provider))) throw new UsageError(`--provider must be one of ${providers.join(', ')}, got ${String(v.provider)}`);
      const { resolveSchedulerName } = await import('../native-models/diffusion/schedulers/index.ts');
      if (v.scheduler !== undefined) {
        try {
          resolveSchedulerName(String(v.scheduler));
        } catch (e) {
          throw new UsageError((e as Error).message);
        }
      }
      const { generateToFolder } = await import('../native-models/diffusion/generate-files.ts');
      const { DiffusionLayoutError, PromptTooLongError } = await import('../native-models/diffusion/index.ts');
      const tty = process.stderr.isTTY;
      let lastLine = 0;
      const ac = new AbortController();
      const onSigint = () => {
        process.stderr.write('\ncancelling (no image of this run is written)...\n');
        ac.abort();
      };
      process.once('SIGINT', onSigint);
      try {
        const r = await generateToFolder({
          model: String(v.model),
          out: String(v.out),
          prompts,
          negativePrompt: v.negative as string | undefined,
          seed,
          steps,
          guidance,
          scheduler: v.scheduler as string | undefined,
          n,
          width,
          height,
          truncate: Boolean(v.truncate),
          maxBatch,
          provider: v.provider as 'auto',
          signal: ac.signal,
          onProgress: (step, total, elapsed) => {
            const now = Date.now();
            if (!tty && now - lastLine < 2000 && step < total) return;
            lastLine = now;
            const eta = step > 0 ? (elapsed / step) * (total - step) : 0;
            const line = `generate: step ${step}/${total} (${((100 * step) / total).toFixed(0)}%), ${elapsed.toFixed(1)} s elapsed, ETA ${eta.toFixed(1)} s`;
            process.stderr.write(tty ? `\r\x1b[2K${line}${step === total ? '\n' : ''}` : `${line}\n`);
          },
        }).catch((e: unknown) => {
          if ((e as Error).name === 'AbortError') throw e;
          if (e instanceof DiffusionLayoutError || e instanceof PromptTooLongError || e instanceof RangeError) throw new CliError((e as Error).message, 2);
          throw e;
        });
        print(Boolean(v.json), r, () =>
          [
            `${r.images.length} image${r.images.length === 1 ? '' : 's'} (${r.width}x${r.height}) in ${r.outDir}: ${r.steps} steps of ${r.scheduler.name}${r.scheduler.fallback ? ` (${r.scheduler.fallback.reason})` : ''}, guidance ${r.guidance}, seed ${r.seed}, provider ${r.provider}, ${r.seconds.toFixed(1)} s`,
            ...r.images.map((i) => `  ${i.png}  seed ${i.seed}  ${JSON.stringify(i.prompt)}`),
          ].join('\n'),
        );
        return 0;
      } catch (e) {
        if ((e as Error).name === 'AbortError') throw new CliError('cancelled', 130);
        throw e;
      } finally {
        process.off('SIGINT', onSigint);
      }
    },
  },
  jobs: {
    summary: 'list recent jobs of a lab',
    usage: 'factorlab jobs [--lab DIR] [--json]',
    options: { ...labOption, ...jsonOption },
    async run(v) {
      const { lab, handlers } = openLab(v);
      try {
        const list = await call(handlers, 'jobs.list', { limit: 50 });
        print(Boolean(v.json), list, () => list.map((j) => `${j.id}\t${j.status}\t${j.title}\t${j.done}/${j.total}${j.error ? `\t${j.error}` : ''}`).join('\n') || 'no jobs');
        return 0;
      } finally {
        lab.close();
      }
    },
  },
  serve: {
    summary: 'serve the UI and the API on 127.0.0.1 for a browser (token-protected)',
    usage: 'factorlab serve [--lab DIR] [--port N] [--print-url-json]',
    options: { ...labOption, port: { type: 'string', default: '0' }, 'print-url-json': { type: 'boolean', default: false } },
    async run(v) {
      const { startServer } = await import('./serve.ts');
      const port = Number(v.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be 0..65535, got ${String(v.port)}`);
      const lab = Lab.open(String(v.lab));
      const server = await startServer({ lab, port });
      if (v['print-url-json']) process.stdout.write(`${JSON.stringify({ url: server.url, port: server.port, lab: lab.dir })}\n`);
      else process.stdout.write(`FactorLab lab ${lab.dir}\nopen ${server.url}\n(Ctrl-C stops)\n`);
      await new Promise<void>((done) => {
        const stop = () => done();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      await server.close();
      lab.close();
      return 0;
    },
  },
};

function helpText(): string {
  const names = Object.keys(commands);
  const width = Math.max(...names.map((n) => n.length));
  return [
    'factorlab: find out why an image classifier fails, offline',
    '',
    'usage: factorlab <command> [options]     factorlab <command> --help',
    '',
    'commands:',
    ...names.map((n) => `  ${n.padEnd(width)}  ${commands[n].summary}`),
    '',
    `Most commands work on a lab folder (--lab DIR, default ./${DEFAULT_LAB} or $FACTORLAB_LAB): lab.db + blobs/.`,
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    process.stdout.write(`${helpText()}\n`);
    return 0;
  }
  let name = argv[0];
  let rest = argv.slice(1);
  if (!commands[name] && argv.length > 1 && commands[`${argv[0]} ${argv[1]}`]) {
    name = `${argv[0]} ${argv[1]}`;
    rest = argv.slice(2);
  }
  const cmd = commands[name];
  if (!cmd) {
    process.stderr.write(`factorlab: unknown command "${argv[0]}"\n\n${helpText()}\n`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(`${cmd.summary}\n\nusage: ${cmd.usage}\n`);
    return 0;
  }
  try {
    const { values, positionals } = parseArgs({ args: rest, options: cmd.options, allowPositionals: false, strict: true });
    return await cmd.run(values as Record<string, string | boolean | string[] | undefined>, positionals);
  } catch (e) {
    if (e instanceof UsageError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`factorlab ${name}: ${(e as Error).message}\nusage: ${cmd.usage}\n`);
      return 2;
    }
    if (e instanceof CliError) {
      process.stderr.write(`factorlab ${name}: ${e.message}\n`);
      return e.exitCode;
    }
    const code = (e as { code?: unknown }).code;
    process.stderr.write(`factorlab ${name}: ${(e as Error).message}${typeof code === 'string' ? ` (${code})` : ''}\n`);
    return 1;
  }
}

// Run when started directly (`node electron/cli.ts ...`); bin/factorlab.mjs imports main() instead.
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}

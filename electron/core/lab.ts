import { EventEmitter } from 'node:events';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { ApiEvent, ProviderInfo } from '../contract.ts';
import { BlobStore } from './store/blob-store.ts';
import { openDatabase, type Db } from './store/database.ts';
import { JobQueue } from './jobs/job-queue.ts';
import { importDataset, type ImportParams } from './datasets/import-dataset.ts';
import { runClassifier, type RunParams } from './runs/run-classifier.ts';
import { linkAnnotationImages } from './imagenetx/annotations.ts';
import { runAttribution, type AttributionJobParams } from './debugging/attribution.ts';
import { runGeneration, type GenerationJobParams } from './debugging/generation-sets.ts';
import { runDebug, type DebugJobParams } from './debugging/patch-head.ts';
import { runDiscovery, type DiscoveryJobParams } from './discovery/discovery-job.ts';
import { exportDebugResult, saveDebugExport, type ExportJobParams } from './export/export-debug-result.ts';
import { CONVERT_FP16_JOB, runConvertFp16, type ConvertFp16JobParams } from './models/convert-fp16-job.ts';

export type ProviderSetting = ProviderInfo['requested'];

/** One lab = one folder: lab.db (SQLite, WAL) and blobs/. Owns the job queue and the event stream. */
export class Lab {
  readonly dir: string;
  readonly db: Db;
  readonly blobs: BlobStore;
  readonly jobs: JobQueue;
  readonly events = new EventEmitter<{ event: [ApiEvent] }>();
  provider: ProviderInfo;
  /** The lab's provider setting: what a job uses when it names none (a job's own request does not change it). */
  private readonly defaultProvider: ProviderSetting;

  private constructor(dir: string) {
    this.dir = dir;
    mkdirSync(dir, { recursive: true });
    this.db = openDatabase(join(dir, 'lab.db'));
    this.blobs = new BlobStore(join(dir, 'blobs'));
    this.jobs = new JobQueue(this.db);
    const requested = (this.setting('provider') ?? 'auto') as ProviderSetting;
    this.defaultProvider = requested;
    this.provider = { requested, active: null, fallbacks: [] };
    this.jobs.on('job', (job) => this.events.emit('event', { type: 'job', job }));
    this.registerJobs();
  }

  static open(dir: string): Lab {
    return new Lab(resolve(dir));
  }

  setting(key: string): string | null {
    const row = this.db.prepare(`SELECT value FROM settings WHERE key = ?`).get(key) as { value: string } | undefined;
    return row?.value ?? null;
  }

  setSetting(key: string, value: string): void {
    this.db.prepare(`INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`).run(key, value);
  }

  /** The callback a job calls when its models are open (and again if it moves to another provider):
   * lab.info's provider, shown in the status bar, is the last job's. */
  private recordProvider(requested: ProviderSetting): (active: string, fallbacks: ProviderInfo['fallbacks']) => void {
    return (active, fallbacks) => {
      this.provider = { requested, active: active as ProviderInfo['active'], fallbacks };
    };
  }

  private registerJobs(): void {
    this.jobs.register<ImportParams>('import', async (ctx) => {
      const r = await importDataset(this.db, ctx.params, ctx.progress, ctx.signal);
      linkAnnotationImages(this.db);
      this.events.emit('event', { type: 'lab', what: 'datasets' });
      return `dataset:${r.datasetId}`;
    });
    this.jobs.register<RunParams>('run', async (ctx) => {
      const provider = ctx.params.provider ?? this.defaultProvider;
      const r = await runClassifier(this.db, this.blobs, { ...ctx.params, provider }, ctx.progress, ctx.signal, this.recordProvider(provider));
      ctx.throwIfCancelled();
      this.events.emit('event', { type: 'lab', what: 'runs' });
      return `run:${r.runId}`;
    });
    this.jobs.register<AttributionJobParams>('attribution', async (ctx) => {
      const provider = ctx.params.provider ?? this.defaultProvider;
      const r = await runAttribution(this.db, { ...ctx.params, provider }, ctx.progress, ctx.signal, this.recordProvider(provider));
      ctx.throwIfCancelled();
      return `attribution:${r.id}`;
    });
    this.jobs.register<GenerationJobParams>('generation', async (ctx) => {
      const provider = ctx.params.provider ?? this.defaultProvider;
      const r = await runGeneration(this.db, this.blobs, { ...ctx.params, provider }, ctx.progress, ctx.signal, this.recordProvider(provider));
      ctx.throwIfCancelled();
      return `generation:${r.id}`;
    });
    this.jobs.register<DebugJobParams>('debug', async (ctx) => {
      // Debug settings name no provider (they key the stored results): the lab's setting applies.
      const provider = this.defaultProvider;
      const r = await runDebug(this.db, this.blobs, ctx.params, ctx.progress, ctx.signal, provider, this.recordProvider(provider));
      ctx.throwIfCancelled();
      this.events.emit('event', { type: 'lab', what: 'debug' });
      return `debug:${r.id}`;
    });
    // A cancel or a failure removes what the export wrote (and the folders it made).
    this.jobs.register<ExportJobParams>('export', async (ctx) => {
      const e = await exportDebugResult(this.db, this.blobs, ctx.params, () => {}, { progress: ctx.progress, signal: ctx.signal });
      saveDebugExport(this.db, ctx.jobId, ctx.params.id, e);
      return `debug-export:${ctx.jobId}`;
    });
    // The conversion cannot stop half-way: a cancel takes effect when it ends, removing what it wrote.
    this.jobs.register<ConvertFp16JobParams>(CONVERT_FP16_JOB, async (ctx) => {
      const model = await runConvertFp16(this.db, ctx.params, ctx.progress, ctx.signal);
      this.events.emit('event', { type: 'lab', what: 'models' });
      return `model:${model.id}`;
    });
    this.jobs.register<DiscoveryJobParams>('discovery', async (ctx) => {
      const provider = ctx.params.provider ?? this.defaultProvider;
      const r = await runDiscovery(this.db, this.blobs, { ...ctx.params, provider }, ctx.progress, ctx.signal, this.recordProvider(provider));
      ctx.throwIfCancelled();
      this.events.emit('event', { type: 'lab', what: 'discovery' });
      return `discovery:${r.id}`;
    });
  }

  close(): void {
    this.jobs.dispose();
    this.db.close();
  }
}

import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { schemaVersion } from '../store/database.ts';
import type { Method, Params, Results } from '../../contract.ts';
import type { Lab } from '../lab.ts';
import { datasetDetail, datasetImages, imageRecord, listDatasets } from '../datasets/dataset-queries.ts';
import { addClassifierFromOnnx, getModel, listModels, registerPackage } from '../models/model-registry.ts';
import { getOrCreateRun } from '../runs/run-classifier.ts';
import { CONVERT_FP16_JOB, checkConvertFp16, getConversion, type ConvertFp16JobParams } from '../models/convert-fp16-job.ts';
import { BadInputError, NotFoundError } from '../errors.ts';
import { listRuns, predictionFor, runDetail, runFailures } from '../runs/run-queries.ts';
import { exportAnnotations, getSource, importAnnotations, listSources, readMetaclassFile, storeMetaclasses } from '../imagenetx/annotations.ts';
import { runFactorReport } from '../analysis/imagenetx-report.ts';
import {
  backgroundClassList,
  editBackgrounds,
  encodeWithSessionClip,
  getAttribution,
  listAttributions,
  setBackgroundClassList,
  startAttribution,
  undoEdit,
} from '../debugging/attribution.ts';
import { bulkApply, imageLabels, listAnnotators, setLabel, undoLast } from '../labelling/labels.ts';
import { createQueue, queuePage, queueProgress } from '../labelling/queues.ts';
import { agreementReport, disagreements, factorChart } from '../labelling/review.ts';
import { generatedImages, getGenerationSet, listGenerationSets, startGeneration } from '../debugging/generation-sets.ts';
import { autoReview, reviewImages, undoReview } from '../debugging/review-generated.ts';
import { checkDebugSettings, findDebugResult, getDebugResult, listDebugResults } from '../debugging/patch-head.ts';
import { checkExport, getDebugExport } from '../export/export-debug-result.ts';
import { failureIou, sharedFailures } from '../analysis/failure-iou.ts';
import { deletePredictionSet, importPredictionSet, listPredictionSets } from '../imagenetx/prediction-sets.ts';
import { calibrationReport, cooccurrenceReport, factorDistributionReport, failingImages } from '../analysis/subject-analytics.ts';
import { listDiscoveries, startDiscovery } from '../discovery/discovery-sessions.ts';
import { compareDiscoveries, discoveryImages, getDiscovery } from '../discovery/discovery-report.ts';
import { exportAdversarialSet } from '../discovery/adversarial-export.ts';

export type Handlers = { [M in Method]: (params: Params<M>) => Promise<Results[M]> | Results[M] };

function count(lab: Lab, table: string): number {
  return (lab.db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
}

function attributionJob(lab: Lab, sessionId: number): number | null {
  return lab.jobs.findActive<{ sessionId: number }>('attribution', (q) => q.sessionId === sessionId)?.id ?? null;
}

function generationJob(lab: Lab, setId: number): number | null {
  return lab.jobs.findActive<{ setId: number }>('generation', (q) => q.setId === setId)?.id ?? null;
}

function discoveryJob(lab: Lab, sessionId: number): number | null {
  return lab.jobs.findActive<{ sessionId: number }>('discovery', (q) => q.sessionId === sessionId)?.id ?? null;
}

/** The API's implementation. Params arrive already validated by dispatch(). */
export function createHandlers(lab: Lab): Handlers {
  return {
    'lab.info': () => ({
      path: lab.dir,
      schemaVersion: schemaVersion(lab.db),
      provider: lab.provider,
      counts: { datasets: count(lab, 'datasets'), images: count(lab, 'images'), models: count(lab, 'models'), runs: count(lab, 'runs') },
    }),
    'datasets.list': () => listDatasets(lab.db),
    'datasets.get': (p) => datasetDetail(lab.db, p.datasetId),
    'datasets.import': (p) => {
      const root = resolve(p.root);
      if (!existsSync(root) || !statSync(root).isDirectory()) throw new BadInputError(`dataset folder not found: ${root}`);
      if (p.csv && !existsSync(resolve(p.csv))) throw new BadInputError(`label CSV not found: ${resolve(p.csv)}`);
      if (p.labels && !existsSync(resolve(p.labels))) throw new BadInputError(`labels file not found: ${resolve(p.labels)}`);
      const job = lab.jobs.submit('import', `Import ${p.name ?? root}`, { ...p, root });
      return { jobId: job.id };
    },
    'datasets.images': (p) => datasetImages(lab.db, p),
    'models.list': () => listModels(lab.db),
    'models.add': async (p) => {
      const path = resolve(p.onnx);
      if (!existsSync(path)) throw new BadInputError(`model file or package not found: ${path}`);
      const model = statSync(path).isDirectory() && existsSync(join(path, 'manifest.json'))
        ? await registerPackage(lab.db, path, p.name)
        : await addClassifierFromOnnx(lab.db, lab.dir, { ...p, onnx: path });
      lab.events.emit('event', { type: 'lab', what: 'models' });
      return model;
    },
    'models.convertFp16': async (p) => {
      const model = await checkConvertFp16(lab.db, p);
      const out = resolve(p.out);
      const active = lab.jobs.findActive<ConvertFp16JobParams>(CONVERT_FP16_JOB, (q) => q.modelId === p.id && resolve(q.out) === out);
      if (active) return { jobId: active.id };
      const params: ConvertFp16JobParams = { modelId: p.id, out, datasetId: p.datasetId ?? null, maxRelError: p.maxRelError };
      return { jobId: lab.jobs.submit(CONVERT_FP16_JOB, `Convert ${model.name} to fp16 into ${out}`, params).id };
    },
    'models.conversion': (p) => getConversion(lab.db, p.jobId),
    'runs.list': (p) => listRuns(lab.db, p.datasetId),
    'runs.start': (p) => {
      const model = getModel(lab.db, p.modelId);
      const { runId, reused } = getOrCreateRun(lab.db, p.modelId, p.datasetId);
      if (reused) return { runId, jobId: null, reused: true };
      const active = lab.jobs.findActive<{ runId: number }>('run', (q) => q.runId === runId);
      if (active) return { runId, jobId: active.id, reused: false };
      const job = lab.jobs.submit('run', `Run ${model.name} #${runId}`, { runId, provider: p.provider });
      return { runId, jobId: job.id, reused: false };
    },
    'runs.summary': (p) => runDetail(lab.db, p.runId),
    'runs.failures': (p) => runFailures(lab.db, p),
    'images.detail': (p) => {
      const img = imageRecord(lab.db, p.imageId);
      let prediction = null;
      if (p.runId !== undefined) {
        prediction = predictionFor(lab.db, p.runId, p.imageId);
        if (!prediction) throw new NotFoundError(`run ${p.runId} has no prediction for image ${p.imageId}`);
      }
      return {
        id: img.id,
        datasetId: img.dataset_id,
        relPath: img.rel_path,
        absPath: join(img.root, img.rel_path),
        classIdx: img.class_idx,
        className: img.class_name,
        width: img.width,
        height: img.height,
        bytes: img.bytes,
        prediction,
      };
    },
    'jobs.list': (p) => lab.jobs.list(p.limit),
    'jobs.cancel': (p) => lab.jobs.cancel(p.jobId),
    'jobs.resume': (p) => lab.jobs.resume(p.jobId),
    'annotations.import': (p) => importAnnotations(lab.db, p),
    'annotations.sources': () => listSources(lab.db),
    'annotations.metaclasses': (p) => {
      const rows = readMetaclassFile(p.file);
      storeMetaclasses(lab.db, rows);
      return { classes: rows.length };
    },
    'annotations.export': (p) => {
      getSource(lab.db, p.sourceId);
      return exportAnnotations(lab.db, p.sourceId, p.out);
    },
    'analysis.errorRatios': (p) => runFactorReport(lab.db, p),
    'attribution.start': async (p) => {
      const r = await startAttribution(lab.db, p);
      let jobId: number | null = null;
      if (r.needsJob) {
        const active = lab.jobs.findActive<{ sessionId: number }>('attribution', (q) => q.sessionId === r.id);
        jobId = active ? active.id : lab.jobs.submit('attribution', `Attribute backgrounds of run #${p.runId}`, { sessionId: r.id }).id;
      }
      return { id: r.id, jobId, reused: r.reused, nothingToAttribute: r.nothingToAttribute };
    },
    'attribution.get': (p) => getAttribution(lab.db, p.id, attributionJob(lab, p.id)),
    'attribution.list': (p) => listAttributions(lab.db, p.runId, (id) => attributionJob(lab, id)),
    'attribution.editBackgrounds': async (p) => {
      await editBackgrounds(lab.db, p, (prompt) => encodeWithSessionClip(lab.db, p.id, prompt));
      return getAttribution(lab.db, p.id, attributionJob(lab, p.id));
    },
    'attribution.undo': (p) => {
      undoEdit(lab.db, p.id);
      return getAttribution(lab.db, p.id, attributionJob(lab, p.id));
    },
    'backgrounds.classList': (p) => backgroundClassList(lab.db, p.runId, p.classIdx),
    'backgrounds.setClassList': (p) => setBackgroundClassList(lab.db, p),
    'analysis.failureIou': (p) => failureIou(lab.db, p.datasetId),
    'analysis.sharedFailures': (p) => sharedFailures(lab.db, p),
    'generation.start': async (p) => {
      const r = await startGeneration(lab.db, p);
      let jobId: number | null = null;
      if (r.needsJob) {
        const kind = p.discoveryId !== null ? `the failure modes discovery #${p.discoveryId} confirmed, for` : p.kind === 'individual' ? 'attributed backgrounds' : 'class names (random debugging)';
        jobId = generationJob(lab, r.id) ?? lab.jobs.submit('generation', `Generate images from ${kind} of attribution #${p.attributionId}`, { setId: r.id }).id;
      }
      return { id: r.id, jobId, reused: r.reused };
    },
    'generation.get': (p) => getGenerationSet(lab.db, p.id, generationJob(lab, p.id)),
    'generation.list': (p) => listGenerationSets(lab.db, p.attributionId, (id) => generationJob(lab, id)),
    'generation.images': (p) => generatedImages(lab.db, p),
    'generation.review': (p) => reviewImages(lab.db, p),
    'generation.autoReview': (p) => autoReview(lab.db, p),
    'generation.undo': (p) => undoReview(lab.db, p.setId),
    'debug.start': (p) => {
      checkDebugSettings(lab.db, p);
      const existing = findDebugResult(lab.db, p);
      if (existing !== null) return { id: existing, jobId: null, reused: true };
      const active = lab.jobs.findActive<typeof p>('debug', (q) => JSON.stringify(q) === JSON.stringify(p));
      const jobId = active ? active.id : lab.jobs.submit('debug', `Retrain the head (attribution #${p.attributionId}, λ ${p.lambda})`, p).id;
      return { id: null, jobId, reused: false };
    },
    'debug.get': (p) => getDebugResult(lab.db, p.id),
    'debug.list': (p) => listDebugResults(lab.db, p),
    'debug.export': (p) => {
      checkExport(lab.db, p);
      const active = lab.jobs.findActive<typeof p>('export', (q) => q.id === p.id && q.which === p.which && resolve(q.out) === resolve(p.out));
      return { jobId: active ? active.id : lab.jobs.submit('export', `Export debug result #${p.id} (${p.which} head) to ${resolve(p.out)}`, { ...p, out: resolve(p.out) }).id };
    },
    'debug.exported': (p) => getDebugExport(lab.db, p.jobId),
    'discovery.start': async (p) => {
      const r = await startDiscovery(lab.db, p);
      let jobId: number | null = null;
      if (r.needsJob) jobId = discoveryJob(lab, r.id) ?? lab.jobs.submit('discovery', `Discover failure modes of model #${p.modelId}`, { sessionId: r.id }).id;
      return { id: r.id, jobId, reused: r.reused };
    },
    'discovery.get': (p) => getDiscovery(lab.db, p.id, discoveryJob(lab, p.id), p.alpha),
    'discovery.list': (p) => listDiscoveries(lab.db, p.modelId, (id) => discoveryJob(lab, id)),
    'discovery.images': (p) => discoveryImages(lab.db, p),
    'discovery.compare': (p) => compareDiscoveries(lab.db, p.ids, (id) => discoveryJob(lab, id)),
    'discovery.export': (p) => exportAdversarialSet(lab.db, lab.blobs, p),
    'labels.annotators': () => listAnnotators(lab.db),
    'labels.queueCreate': (p) => createQueue(lab.db, p),
    'labels.queuePage': (p) => queuePage(lab.db, p),
    'labels.progress': (p) => queueProgress(lab.db, p),
    'labels.set': (p) => setLabel(lab.db, p),
    'labels.bulk': (p) => bulkApply(lab.db, p),
    'labels.undo': (p) => undoLast(lab.db, p),
    'labels.forImage': (p) => imageLabels(lab.db, p.imageId),
    'labels.agreement': (p) => agreementReport(lab.db, p),
    'labels.disagreements': (p) => disagreements(lab.db, p),
    'labels.errorRatios': (p) => factorChart(lab.db, p),
    'predictions.import': (p) => {
      const set = importPredictionSet(lab.db, p);
      lab.events.emit('event', { type: 'lab', what: 'runs' });
      return set;
    },
    'predictions.list': () => listPredictionSets(lab.db),
    'predictions.delete': (p) => {
      const r = deletePredictionSet(lab.db, p.id);
      lab.events.emit('event', { type: 'lab', what: 'runs' });
      return r;
    },
    'analysis.calibration': (p) => calibrationReport(lab.db, p),
    'analysis.factorDistribution': (p) => factorDistributionReport(lab.db, p),
    'analysis.factorCooccurrence': (p) => cooccurrenceReport(lab.db, p),
    'analysis.failingImages': (p) => failingImages(lab.db, p),
  };
}

// Discovery bench (a case of run-bench.ts, `npm run bench -- --case discovery`): images per second
// through generate -> classify -> describe, the discovery job's first two stages, on the ShapeWorld
// packages (4 classes x 16 images, 20 DDIM steps with guidance, CPU). Baseline measured in the same
// run: the text-to-image pipeline alone generating the same images with the same seeds. The job adds
// the classifier, CLIP (class filter + describer), PNG blobs and SQLite rows.
// Target (stated, not asserted): the job's time for these stages <= 1.15 x generation alone.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Lab } from '../../electron/core/lab.ts';
import { createHandlers } from '../../electron/core/api/handlers.ts';
import { dispatch } from '../../electron/core/api/dispatch.ts';
import { DiffusionPipeline } from '../../native-models/diffusion/index.ts';
import { shapeworldPackageDir } from '../../native-models/shapeworld/packages.ts';
import { runDiscovery } from '../../electron/core/discovery/discovery-job.ts';
import { startDiscovery } from '../../electron/core/discovery/discovery-sessions.ts';
import { paramsSchemas } from '../../electron/contract.ts';

export async function benchDiscovery(root: string, o: { classes: number[]; n: number; steps: number } = { classes: [0, 3, 6, 8], n: 16, steps: 20 }): Promise<void> {
  const work = join(root, '.labs', 'bench', 'discovery');
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const lab = Lab.open(join(work, 'lab'));
  const h = createHandlers(lab);
  const call = async (method: string, params: unknown): Promise<any> => {
    const r = await dispatch(h, method, params);
    if (!r.ok) throw new Error(r.error.message);
    return r.result;
  };
  try {
    const modelId = (await call('models.add', { onnx: shapeworldPackageDir('classifier') })).id;
    // The session is made without queueing its job: the stages run here, stopped after describing.
    const started = await startDiscovery(lab.db, paramsSchemas['discovery.start'].parse({ modelId, generator: 'shapeworld', clip: 'shapeworld', classes: o.classes, n: o.n, m: 4, steps: o.steps, guidance: 5, seed: 0 }));
    const aborter = new AbortController();
    let tDescribed = 0;
    const t0 = performance.now();
    await runDiscovery(lab.db, lab.blobs, { sessionId: started.id, provider: 'cpu' }, (_d, _t, message) => {
      if (message === 'clustering the descriptions' && !tDescribed) {
        tDescribed = performance.now();
        aborter.abort();
      }
    }, aborter.signal);
    const jobMs = (tDescribed || performance.now()) - t0;
    const rows = lab.db.prepare(`SELECT prompt, seed FROM discovery_images WHERE session_id = ? AND hypothesis_id = 0 ORDER BY class_idx, sample`).all(started.id) as { prompt: string; seed: number }[];
    const described = (lab.db.prepare(`SELECT COUNT(*) AS n FROM discovery_images WHERE session_id = ? AND description IS NOT NULL`).get(started.id) as { n: number }).n;
    const pipe = await DiffusionPipeline.load(shapeworldPackageDir('diffusion'), { provider: 'cpu' });
    const t1 = performance.now();
    try {
      for (let i = 0; i < rows.length; i += 8) {
        const chunk = rows.slice(i, i + 8);
        await pipe.generate({ prompts: [chunk[0]!.prompt], n: chunk.length, seed: chunk[0]!.seed, steps: o.steps, guidance: 5 });
      }
    } finally {
      await pipe.release();
    }
    const genMs = performance.now() - t1;
    const result = {
      case: 'discovery',
      images: rows.length,
      described,
      steps: o.steps,
      jobMs: Math.round(jobMs),
      generationMs: Math.round(genMs),
      imagesPerSecond: Number(((rows.length * 1000) / jobMs).toFixed(2)),
      ratio: Number((jobMs / genMs).toFixed(3)),
      target: '<= 1.15x generation alone',
      met: jobMs / genMs <= 1.15,
    };
    console.log(`discovery: generate -> classify -> describe ${rows.length} images (${described} failures described) in ${result.jobMs} ms = ${result.imagesPerSecond} images/s; generation alone ${result.generationMs} ms; ratio ${result.ratio}x (target <= 1.15x: ${result.met ? 'met' : 'NOT met'})`);
    writeFileSync(join(work, 'result.json'), JSON.stringify(result, null, 1));
  } finally {
    lab.close();
  }
}

// Head retraining bench (a case of run-bench.ts, `npm run bench -- --case head`): where the head
// trainer's arithmetic runs fastest. Synthetic features (seeded) of an ImageNet-like shape
// n x D x C (default 3 000 x 2 048 x 1 000; `--head-size n,D,C` to change it).
// Measured in the same run:
//  - baseline: the two bare matrix products of one full-batch pass (logits X·Wᵀ+b and gradient
//    Pᵀ·X) with onnxruntime (MLAS, all cores), nothing else: the floor for any implementation;
//  - one full objective + gradient pass with each backend ('ort' and the typed-array 'js' kernels);
//  - full-batch L-BFGS (10 iterations) and one paper-SGD epoch (batch 128) with the chosen backend.
// Target (stated, not asserted): an 'ort' pass <= 1.25 x the bare products; the choice of default
// backend is the faster of the two passes.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { headObjective, jsBackend, ortBackend, trainHead, checkHeadProblem, type HeadBackend, type HeadProblem } from '../../native-models/head/index.ts';
import { mulberry32 } from '../../native-models/mulberry32.ts';

function problem(n: number, D: number, C: number): HeadProblem {
  const rnd = mulberry32(6);
  const labels = Int32Array.from({ length: n }, (_, i) => i % C);
  const features = new Float32Array(n * D);
  // ReLU-like non-negative features with a class-dependent bump
  for (let i = 0; i < n; i++) {
    for (let d = 0; d < D; d++) features[i * D + d] = Math.max(0, rnd() - 0.6);
    for (let k = 0; k < 8; k++) features[i * D + ((labels[i] * 8 + k) % D)] += 1;
  }
  const weight = Float32Array.from({ length: C * D }, () => (rnd() - 0.5) * 0.02);
  return { numClasses: C, featureDim: D, train: { features, labels }, init: { weight, bias: new Float32Array(C), layout: 'out_in' } };
}

/** Best of `reps` timed calls after one warm-up, stopping early once 20 s have been spent. */
async function time(f: () => Promise<unknown>, reps: number): Promise<number> {
  const start = performance.now();
  await f(); // warm-up (JIT, sessions)
  let best = Infinity;
  for (let k = 0; k < reps && (k === 0 || performance.now() - start < 20_000); k++) {
    const t0 = performance.now();
    await f();
    best = Math.min(best, performance.now() - t0);
  }
  return best;
}

export async function benchHead(root: string, opts: { n?: number; D?: number; C?: number; reps?: number; skipJs?: boolean } = {}) {
  const n = opts.n ?? 3000;
  const D = opts.D ?? 2048;
  const C = opts.C ?? 1000;
  const reps = opts.reps ?? 5;
  const p = problem(n, D, C);
  const { train } = checkHeadProblem(p, 0);
  const W = Float32Array.from(p.init.weight);
  const b = new Float32Array(C);
  const gW = new Float32Array(C * D);
  const gb = new Float32Array(C);
  const flopsPerPass = 2 * 2 * n * D * C;

  // baseline: the bare products with onnxruntime, inputs prepared once
  const bare = await ortBackend();
  const P = new Float32Array(n * C).fill(1 / C);
  const bareMs = await time(async () => {
    await bare.logits(train.X, n, W, b, C, D);
    await bare.gradW(P, train.X, n, C, D);
  }, reps);

  const pass = async (backend: HeadBackend) => headObjective(backend, W, b, C, D, [{ set: train, weight: 1 }], 5e-4, { gW, gb, fitBias: true });
  const ortMs = await time(() => pass(bare), reps);
  const js = jsBackend();
  const jsMs = opts.skipJs ? NaN : await time(() => pass(js), reps);
  const chosen = !(jsMs < ortMs) ? 'ort' : 'js';

  const t0 = performance.now();
  const lb = await trainHead(p, { optimizer: 'lbfgs', backend: bare, maxIterations: 10, lambda: 0 });
  const lbfgsMs = performance.now() - t0;
  const t1 = performance.now();
  const sgd = await trainHead(p, { optimizer: 'sgd', backend: bare, epochs: 1, batchSize: 128, lambda: 0 });
  const sgdEpochMs = performance.now() - t1;
  await bare.dispose();

  const result = {
    case: 'head retraining',
    size: { n, D, C },
    threads: ort.env.numThreads ?? null,
    ms: { bareOrtProducts: +bareMs.toFixed(1), ortPass: +ortMs.toFixed(1), jsPass: +jsMs.toFixed(1), lbfgs10Iterations: +lbfgsMs.toFixed(0), sgdEpochBatch128: +sgdEpochMs.toFixed(0) },
    gflops: { bareOrt: +(flopsPerPass / bareMs / 1e6).toFixed(2), ortPass: +(flopsPerPass / ortMs / 1e6).toFixed(2), jsPass: +(flopsPerPass / jsMs / 1e6).toFixed(2) },
    ratio: { ortPassOverBare: +(ortMs / bareMs).toFixed(3), jsPassOverOrtPass: +(jsMs / ortMs).toFixed(2), target: 1.25 },
    lbfgs: { evaluations: lb.evaluations, lossBefore: +lb.lossBefore.toFixed(4), loss: +lb.loss.toFixed(4) },
    sgd: { lossBefore: +sgd.lossBefore.toFixed(4), loss: +sgd.loss.toFixed(4) },
    chosen,
    pass: ortMs / bareMs <= 1.25,
  };
  console.log(`\nhead retraining: ${n} x ${D} features, ${C} classes (one pass = logits + gradient = ${(flopsPerPass / 1e9).toFixed(1)} GFLOP), CPU`);
  console.log(`  baseline: bare onnxruntime products   ${bareMs.toFixed(1)} ms  (${result.gflops.bareOrt} GFLOP/s)`);
  console.log(`  objective + gradient pass, ort        ${ortMs.toFixed(1)} ms = ${result.ratio.ortPassOverBare} x baseline  (target <= 1.25: ${result.pass ? 'met' : 'NOT met'})`);
  console.log(`  objective + gradient pass, js kernels ${jsMs.toFixed(1)} ms = ${result.ratio.jsPassOverOrtPass} x the ort pass  (${result.gflops.jsPass} GFLOP/s)`);
  console.log(`  chosen default backend: ${chosen}`);
  console.log(`  L-BFGS 10 iterations (${lb.evaluations} passes) ${lbfgsMs.toFixed(0)} ms, loss ${result.lbfgs.lossBefore} -> ${result.lbfgs.loss}`);
  console.log(`  SGD 1 epoch, batch 128                ${sgdEpochMs.toFixed(0)} ms, loss ${result.sgd.lossBefore} -> ${result.sgd.loss}`);
  mkdirSync(join(root, 'test-results'), { recursive: true });
  writeFileSync(join(root, 'test-results', 'bench-head.json'), JSON.stringify(result, null, 2));
  return result;
}

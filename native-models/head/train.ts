// Retraining a classifier's linear head on frozen-backbone features (Chegini & Feizi, 2023):
//
//   L(W, b) = mean_i CE(x_i, y_i)  over the original training rows
//           + λ · mean_j CE(x_j, y_j)  over the extra rows (accepted generated images)
//           + (wd / 2) · (‖W‖² + ‖b‖²)
//
// W is [C x D] (torch nn.Linear layout), b is [C]; both start from the model's own head.
// Weight decay is applied to W and b, as torch.optim.SGD(fc.parameters(), weight_decay=wd) does.
//
// Optimisers:
//  - 'sgd': the paper's minibatch SGD with momentum (torch semantics: v = μv + g, θ -= lr·v),
//    lr 0.2, momentum 0.9, wd 5e-4, λ 0.5. Each step takes `batchSize` train rows (a seeded
//    shuffle per epoch) and a proportional number of extra rows (their own seeded shuffle, cycled),
//    so each step's loss is an unbiased estimate of L. With batchSize >= the train rows it is
//    full-batch gradient descent with momentum.
//  - 'lbfgs': full-batch L-BFGS (two-loop recursion, Armijo backtracking), which reaches L's
//    minimum in far fewer passes over the data.
// Deterministic for a seed (the 'js' backend bit for bit; 'ort' as far as onnxruntime is).
import { makeBackend, type HeadBackend, type HeadBackendName } from './backend.ts';
import { mulberry32 } from '../mulberry32.ts';

export class HeadTrainingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HeadTrainingError';
  }
}

/** n rows of D float32 features (row-major) with their class indices. */
export interface FeatureSet {
  features: Float32Array;
  labels: Int32Array | number[];
}

export interface HeadInit {
  weight: Float32Array;
  /** null: the model's head has no bias; it stays zero (nothing to write it into). */
  bias: Float32Array | null;
  layout: 'out_in' | 'in_out';
}

export interface HeadProblem {
  numClasses: number;
  featureDim: number;
  train: FeatureSet;
  extra?: FeatureSet | null;
  init: HeadInit;
  /** Class names, for error messages only. */
  classNames?: string[];
}

export interface CommonOptions {
  lambda?: number;
  weightDecay?: number;
  backend?: HeadBackendName | HeadBackend;
  /** Checked before every step; an aborted signal ends training with its reason. */
  signal?: AbortSignal;
  /** Called after each epoch (sgd) or iteration (lbfgs) with the objective's value. */
  onProgress?: (p: { step: number; of: number; loss: number }) => void;
}

export interface SgdOptions extends CommonOptions {
  optimizer: 'sgd';
  lr?: number;
  momentum?: number;
  epochs?: number;
  batchSize?: number;
  seed?: number;
  /** 'constant' (the paper) or 'cosine' (decays lr to 0 over the run, so minibatch SGD converges). */
  schedule?: 'constant' | 'cosine';
}

export interface LbfgsOptions extends CommonOptions {
  optimizer: 'lbfgs';
  maxIterations?: number;
  history?: number;
  /** Stop when ‖∇L‖∞ falls below this. */
  gradTolerance?: number;
  /** Stop when the relative decrease of L in an iteration falls below this. */
  lossTolerance?: number;
}

export type TrainHeadOptions = SgdOptions | LbfgsOptions;

export const SGD_DEFAULTS = { lr: 0.2, momentum: 0.9, weightDecay: 5e-4, lambda: 0.5, epochs: 20, batchSize: 128, seed: 0, schedule: 'constant' as const };
export const LBFGS_DEFAULTS = { maxIterations: 300, history: 10, gradTolerance: 1e-5, lossTolerance: 1e-9 };

export interface TrainedHead {
  /** [C x D], out_in layout. */
  weight: Float32Array;
  bias: Float32Array;
  /** Full objective L at the start and at the end, and its parts at the end. */
  lossBefore: number;
  loss: number;
  parts: { train: number; extra: number; decay: number };
  /** sgd: epochs run; lbfgs: iterations. */
  steps: number;
  /** Objective evaluations over the full data (lbfgs) or minibatch gradient steps (sgd). */
  evaluations: number;
  seconds: number;
  backend: HeadBackendName;
  optimizer: 'sgd' | 'lbfgs';
}

interface CheckedSet {
  X: Float32Array;
  y: Int32Array;
  n: number;
}

function checkSet(set: FeatureSet, what: string, C: number, D: number): CheckedSet {
  const n = set.labels.length;
  if (n === 0) throw new HeadTrainingError(`the ${what} set has no rows`);
  if (set.features.length !== n * D) throw new HeadTrainingError(`the ${what} set has ${set.features.length} feature values for ${n} labels; expected ${n} x ${D} = ${n * D}`);
  const X = set.features;
  for (let i = 0; i < X.length; i++) {
    if (!Number.isFinite(X[i])) throw new HeadTrainingError(`the ${what} set has a non-finite feature (${X[i]}) in row ${Math.floor(i / D)}, column ${i % D}`);
  }
  const y = set.labels instanceof Int32Array ? set.labels : Int32Array.from(set.labels);
  for (let i = 0; i < n; i++) {
    if (!Number.isInteger(set.labels[i]) || y[i] < 0 || y[i] >= C) throw new HeadTrainingError(`the ${what} set has label ${set.labels[i]} in row ${i}; classes are 0..${C - 1}`);
  }
  return { X, y, n };
}

/** Validates a problem; returns the checked sets. Throws HeadTrainingError with a readable message. */
export function checkHeadProblem(problem: HeadProblem, lambda: number): { train: CheckedSet; extra: CheckedSet | null } {
  const C = problem.numClasses;
  const D = problem.featureDim;
  if (!Number.isInteger(C) || C < 2) throw new HeadTrainingError(`a head needs at least 2 classes, got ${C}`);
  if (!Number.isInteger(D) || D < 1) throw new HeadTrainingError(`feature dimension must be a positive integer, got ${D}`);
  if (!Number.isFinite(lambda) || lambda < 0) throw new HeadTrainingError(`λ (lambda) must be a finite number >= 0, got ${lambda}`);
  if (problem.init.weight.length !== C * D) throw new HeadTrainingError(`the initial head weight has ${problem.init.weight.length} values, expected ${C} x ${D}`);
  if (problem.init.bias && problem.init.bias.length !== C) throw new HeadTrainingError(`the initial head bias has ${problem.init.bias.length} values, expected ${C}`);
  for (const v of problem.init.weight) if (!Number.isFinite(v)) throw new HeadTrainingError('the initial head weight has non-finite values');
  const train = checkSet(problem.train, 'train', C, D);
  const seen = new Uint8Array(C);
  for (let i = 0; i < train.n; i++) seen[train.y[i]] = 1;
  const missing: string[] = [];
  for (let c = 0; c < C; c++) if (!seen[c]) missing.push(problem.classNames?.[c] ? `${c} (${problem.classNames[c]})` : String(c));
  if (missing.length) {
    const shown = missing.slice(0, 10).join(', ') + (missing.length > 10 ? `, ... (${missing.length} in all)` : '');
    throw new HeadTrainingError(`the train split has no rows for ${missing.length} of ${C} classes: ${shown}; every class needs training rows`);
  }
  const extra = problem.extra ? checkSet(problem.extra, 'extra (generated)', C, D) : null;
  return { train, extra };
}

/** Row-wise softmax minus one-hot, times `scale`, in place over Z; returns the summed CE of the rows. */
function softmaxGrad(Z: Float32Array, y: Int32Array, n: number, C: number, scale: number): number {
  let ce = 0;
  for (let r = 0; r < n; r++) {
    const o = r * C;
    let max = -Infinity;
    for (let c = 0; c < C; c++) if (Z[o + c] > max) max = Z[o + c];
    let sum = 0;
    for (let c = 0; c < C; c++) {
      const e = Math.exp(Z[o + c] - max);
      Z[o + c] = e;
      sum += e;
    }
    const t = y[r];
    ce += Math.log(sum) - Math.log(Z[o + t]);
    const inv = scale / sum;
    for (let c = 0; c < C; c++) Z[o + c] *= inv;
    Z[o + t] -= scale;
  }
  return ce;
}

/** Rows per call of a fused backend. */
export const FUSED_MAX_ROWS = 4096;

export interface Objective {
  loss: number;
  parts: { train: number; extra: number; decay: number };
}

/**
 * L at (W, b) and, when gW/gb are given, its gradient written into them. `sets` pairs each row set
 * with its weight (1 for train, λ for extra); rows are averaged within a set.
 */
export async function headObjective(
  backend: HeadBackend,
  W: Float32Array,
  b: Float32Array,
  C: number,
  D: number,
  sets: { set: CheckedSet; weight: number }[],
  wd: number,
  grad: { gW: Float32Array; gb: Float32Array; fitBias: boolean } | null,
): Promise<Objective> {
  if (grad) {
    grad.gW.fill(0);
    grad.gb.fill(0);
  }
  const means: number[] = [];
  for (const { set, weight } of sets) {
    if (backend.fused) {
      // in row chunks, so the [rows x C] intermediates stay bounded (ImageNet: 30 000 x 1 000)
      let ce = 0;
      for (let r0 = 0; r0 < set.n; r0 += FUSED_MAX_ROWS) {
        const rows = Math.min(FUSED_MAX_ROWS, set.n - r0);
        const X = rows === set.n ? set.X : set.X.subarray(r0 * D, (r0 + rows) * D);
        const y = rows === set.n ? set.y : set.y.subarray(r0, r0 + rows);
        const r = await backend.fused(X, y, rows, W, b, C, D, weight / set.n, grad !== null && weight !== 0);
        ce += r.ce;
        if (grad && r.gW && r.gb) {
          const gW = grad.gW;
          for (let i = 0; i < gW.length; i++) gW[i] += r.gW[i];
          if (grad.fitBias) for (let c = 0; c < C; c++) grad.gb[c] += r.gb[c];
        }
      }
      means.push(ce / set.n);
      continue;
    }
    const Z = await backend.logits(set.X, set.n, W, b, C, D);
    const ce = softmaxGrad(Z, set.y, set.n, C, weight / set.n);
    means.push(ce / set.n);
    if (grad && weight !== 0) {
      const G = await backend.gradW(Z, set.X, set.n, C, D);
      const gW = grad.gW;
      for (let i = 0; i < gW.length; i++) gW[i] += G[i];
      if (grad.fitBias) {
        for (let r = 0; r < set.n; r++) for (let c = 0; c < C; c++) grad.gb[c] += Z[r * C + c];
      }
    }
  }
  let sq = 0;
  for (let i = 0; i < W.length; i++) sq += W[i] * W[i];
  for (let i = 0; i < b.length; i++) sq += b[i] * b[i];
  if (grad) {
    for (let i = 0; i < W.length; i++) grad.gW[i] += wd * W[i];
    if (grad.fitBias) for (let i = 0; i < b.length; i++) grad.gb[i] += wd * b[i];
  }
  const decay = 0.5 * wd * sq;
  const train = means[0] ?? 0;
  const extra = means[1] ?? 0;
  const loss = sets.reduce((s, p, i) => s + p.weight * means[i], 0) + decay;
  return { loss, parts: { train, extra, decay } };
}

function shuffle(p: Int32Array, rnd: () => number): void {
  for (let i = p.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    const t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
}

function gather(set: CheckedSet, idx: Int32Array, from: number, count: number, D: number, X: Float32Array, y: Int32Array): CheckedSet {
  for (let r = 0; r < count; r++) {
    const src = idx[from + r];
    X.set(set.X.subarray(src * D, src * D + D), r * D);
    y[r] = set.y[src];
  }
  return { X: X.subarray(0, count * D), y: y.subarray(0, count), n: count };
}

function initialParams(problem: HeadProblem): { W: Float32Array; b: Float32Array } {
  const C = problem.numClasses;
  const D = problem.featureDim;
  const W = new Float32Array(C * D);
  if (problem.init.layout === 'out_in') W.set(problem.init.weight);
  else for (let d = 0; d < D; d++) for (let c = 0; c < C; c++) W[c * D + d] = problem.init.weight[d * C + c];
  const b = problem.init.bias ? Float32Array.from(problem.init.bias) : new Float32Array(C);
  return { W, b };
}

/** Retrains the head. Throws HeadTrainingError on bad input before any work is done. */
export async function trainHead(problem: HeadProblem, options: TrainHeadOptions): Promise<TrainedHead> {
  const lambda = options.lambda ?? SGD_DEFAULTS.lambda;
  const wd = options.weightDecay ?? SGD_DEFAULTS.weightDecay;
  if (!Number.isFinite(wd) || wd < 0) throw new HeadTrainingError(`weight decay must be a finite number >= 0, got ${wd}`);
  const { train, extra } = checkHeadProblem(problem, lambda);
  const C = problem.numClasses;
  const D = problem.featureDim;
  const fitBias = problem.init.bias !== null;
  const { W, b } = initialParams(problem);
  const owned = typeof options.backend !== 'object';
  const backend = typeof options.backend === 'object' ? options.backend : await makeBackend(options.backend ?? 'ort');
  const full = [{ set: train, weight: 1 }, ...(extra ? [{ set: extra, weight: lambda }] : [])];
  const t0 = performance.now();
  try {
    const before = await headObjective(backend, W, b, C, D, full, wd, null);
    let steps = 0;
    let evaluations = 0;
    const gW = new Float32Array(C * D);
    const gb = new Float32Array(C);
    if (options.optimizer === 'sgd') {
      const lr0 = options.lr ?? SGD_DEFAULTS.lr;
      const mu = options.momentum ?? SGD_DEFAULTS.momentum;
      const epochs = options.epochs ?? SGD_DEFAULTS.epochs;
      const B = Math.min(train.n, options.batchSize ?? SGD_DEFAULTS.batchSize);
      const schedule = options.schedule ?? SGD_DEFAULTS.schedule;
      if (!(lr0 > 0) || !(mu >= 0 && mu < 1) || !Number.isInteger(epochs) || epochs < 0 || !Number.isInteger(B) || B < 1) {
        throw new HeadTrainingError(`invalid SGD settings: lr ${lr0} (> 0), momentum ${mu} (0 <= m < 1), epochs ${epochs} (integer >= 0), batch size ${B} (integer >= 1)`);
      }
      const rnd = mulberry32(options.seed ?? SGD_DEFAULTS.seed);
      const perm = Int32Array.from({ length: train.n }, (_, i) => i);
      const permE = extra ? Int32Array.from({ length: extra.n }, (_, i) => i) : null;
      if (permE) shuffle(permE, rnd);
      let posE = 0;
      const stepsPerEpoch = Math.ceil(train.n / B);
      const BE = extra ? Math.max(1, Math.min(extra.n, Math.round((B * extra.n) / train.n))) : 0;
      const bufX = new Float32Array(B * D);
      const bufY = new Int32Array(B);
      const bufXE = new Float32Array(BE * D);
      const bufYE = new Int32Array(BE);
      const vW = new Float32Array(C * D);
      const vb = new Float32Array(C);
      const total = epochs * stepsPerEpoch;
      for (let e = 0; e < epochs; e++) {
        if (B < train.n) shuffle(perm, rnd);
        for (let s = 0; s < stepsPerEpoch; s++) {
          options.signal?.throwIfAborted();
          const from = s * B;
          const count = Math.min(B, train.n - from);
          const batch = [{ set: B < train.n ? gather(train, perm, from, count, D, bufX, bufY) : train, weight: 1 }];
          if (extra && permE) {
            if (BE < extra.n) {
              if (posE + BE > extra.n) {
                shuffle(permE, rnd);
                posE = 0;
              }
              batch.push({ set: gather(extra, permE, posE, BE, D, bufXE, bufYE), weight: lambda });
              posE += BE;
            } else batch.push({ set: extra, weight: lambda });
          }
          await headObjective(backend, W, b, C, D, batch, wd, { gW, gb, fitBias });
          evaluations++;
          const t = e * stepsPerEpoch + s;
          const lr = schedule === 'cosine' ? 0.5 * lr0 * (1 + Math.cos((Math.PI * t) / total)) : lr0;
          for (let i = 0; i < W.length; i++) {
            vW[i] = mu * vW[i] + gW[i];
            W[i] -= lr * vW[i];
          }
          if (fitBias) {
            for (let i = 0; i < C; i++) {
              vb[i] = mu * vb[i] + gb[i];
              b[i] -= lr * vb[i];
            }
          }
        }
        steps++;
        if (options.onProgress) {
          const o = await headObjective(backend, W, b, C, D, full, wd, null);
          options.onProgress({ step: steps, of: epochs, loss: o.loss });
        }
      }
    } else {
      const maxIt = options.maxIterations ?? LBFGS_DEFAULTS.maxIterations;
      const m = options.history ?? LBFGS_DEFAULTS.history;
      const gtol = options.gradTolerance ?? LBFGS_DEFAULTS.gradTolerance;
      const ftol = options.lossTolerance ?? LBFGS_DEFAULTS.lossTolerance;
      const N = C * D + C;
      // θ = [W, b] in one vector; W and b are views into it
      const theta = new Float32Array(N);
      theta.set(W);
      theta.set(b, C * D);
      const tW = theta.subarray(0, C * D);
      const tb = theta.subarray(C * D);
      const g = new Float32Array(N);
      const gWv = g.subarray(0, C * D);
      const gbv = g.subarray(C * D);
      const evalAt = async () => {
        evaluations++;
        return headObjective(backend, tW, tb, C, D, full, wd, { gW: gWv, gb: gbv, fitBias });
      };
      let f = (await evalAt()).loss;
      const S: Float32Array[] = [];
      const Y: Float32Array[] = [];
      const rho: number[] = [];
      const dir = new Float64Array(N);
      const alpha = new Float64Array(m);
      const prevTheta = new Float32Array(N);
      const prevG = new Float32Array(N);
      for (let it = 0; it < maxIt; it++) {
        options.signal?.throwIfAborted();
        let gmax = 0;
        for (let i = 0; i < N; i++) gmax = Math.max(gmax, Math.abs(g[i]));
        if (gmax < gtol) break;
        // two-loop recursion: dir = -H g
        for (let i = 0; i < N; i++) dir[i] = -g[i];
        for (let j = S.length - 1; j >= 0; j--) {
          let a = 0;
          const s = S[j];
          for (let i = 0; i < N; i++) a += s[i] * dir[i];
          a *= rho[j];
          alpha[j] = a;
          const yv = Y[j];
          for (let i = 0; i < N; i++) dir[i] -= a * yv[i];
        }
        if (S.length) {
          const s = S[S.length - 1];
          const yv = Y[Y.length - 1];
          let sy = 0;
          let yy = 0;
          for (let i = 0; i < N; i++) {
            sy += s[i] * yv[i];
            yy += yv[i] * yv[i];
          }
          const gamma = sy / yy;
          for (let i = 0; i < N; i++) dir[i] *= gamma;
        }
        for (let j = 0; j < S.length; j++) {
          let bt = 0;
          const yv = Y[j];
          for (let i = 0; i < N; i++) bt += yv[i] * dir[i];
          bt *= rho[j];
          const s = S[j];
          const c = alpha[j] - bt;
          for (let i = 0; i < N; i++) dir[i] += c * s[i];
        }
        if (!fitBias) for (let i = C * D; i < N; i++) dir[i] = 0;
        let slope = 0;
        for (let i = 0; i < N; i++) slope += g[i] * dir[i];
        if (!(slope < 0)) {
          // not a descent direction (numerical trouble): restart from steepest descent
          S.length = 0;
          Y.length = 0;
          rho.length = 0;
          slope = 0;
          for (let i = 0; i < N; i++) {
            dir[i] = -g[i];
            slope -= g[i] * g[i];
          }
        }
        let step = S.length === 0 ? Math.min(1, 1 / Math.sqrt(-slope)) : 1;
        prevTheta.set(theta);
        prevG.set(g);
        const f0 = f;
        let accepted = false;
        for (let ls = 0; ls < 30; ls++) {
          for (let i = 0; i < N; i++) theta[i] = prevTheta[i] + step * dir[i];
          f = (await evalAt()).loss;
          if (f <= f0 + 1e-4 * step * slope) {
            accepted = true;
            break;
          }
          step *= 0.5;
        }
        steps++;
        if (!accepted) {
          theta.set(prevTheta);
          g.set(prevG);
          f = f0;
          break;
        }
        const s = new Float32Array(N);
        const yv = new Float32Array(N);
        let sy = 0;
        for (let i = 0; i < N; i++) {
          s[i] = theta[i] - prevTheta[i];
          yv[i] = g[i] - prevG[i];
          sy += s[i] * yv[i];
        }
        if (sy > 1e-12) {
          if (S.length === m) {
            S.shift();
            Y.shift();
            rho.shift();
          }
          S.push(s);
          Y.push(yv);
          rho.push(1 / sy);
        }
        options.onProgress?.({ step: steps, of: maxIt, loss: f });
        if (Math.abs(f0 - f) <= ftol * Math.max(1, Math.abs(f))) break;
      }
      W.set(tW);
      b.set(tb);
    }
    const after = await headObjective(backend, W, b, C, D, full, wd, null);
    return {
      weight: W,
      bias: b,
      lossBefore: before.loss,
      loss: after.loss,
      parts: after.parts,
      steps,
      evaluations,
      seconds: (performance.now() - t0) / 1000,
      backend: backend.name,
      optimizer: options.optimizer,
    };
  } finally {
    if (owned) await backend.dispose();
  }
}

/** Top-1 accuracy of a head ([C x D] out_in) on a feature set, with the 'js' kernels. */
export function headAccuracy(weight: Float32Array, bias: Float32Array | null, C: number, D: number, set: FeatureSet): number {
  const n = set.labels.length;
  if (n === 0) return NaN;
  let right = 0;
  const z = new Float64Array(C);
  for (let r = 0; r < n; r++) {
    let best = 0;
    for (let c = 0; c < C; c++) {
      let s = bias ? bias[c] : 0;
      for (let d = 0; d < D; d++) s += set.features[r * D + d] * weight[c * D + d];
      z[c] = s;
      if (s > z[best]) best = c;
    }
    if (best === set.labels[r]) right++;
  }
  return right / n;
}

/**
 * Predictions (argmax) and top-1 accuracy of a head ([C x D] out_in) on a feature set, with a
 * backend's matrix product (default 'ort'), in row chunks. Accuracy is NaN for an empty set.
 */
export async function evaluateHead(
  weight: Float32Array,
  bias: Float32Array | null,
  C: number,
  D: number,
  set: FeatureSet,
  backend: HeadBackendName | HeadBackend = 'ort',
): Promise<{ accuracy: number; predictions: Int32Array }> {
  const n = set.labels.length;
  if (set.features.length !== n * D) throw new HeadTrainingError(`the set has ${set.features.length} feature values for ${n} labels; expected ${n} x ${D}`);
  const owned = typeof backend !== 'object';
  const be = typeof backend === 'object' ? backend : await makeBackend(backend);
  const b = bias ?? new Float32Array(C);
  const predictions = new Int32Array(n);
  let right = 0;
  try {
    for (let r0 = 0; r0 < n; r0 += FUSED_MAX_ROWS) {
      const rows = Math.min(FUSED_MAX_ROWS, n - r0);
      const Z = await be.logits(set.features.subarray(r0 * D, (r0 + rows) * D), rows, weight, b, C, D);
      for (let r = 0; r < rows; r++) {
        let best = 0;
        for (let c = 1; c < C; c++) if (Z[r * C + c] > Z[r * C + best]) best = c;
        predictions[r0 + r] = best;
        if (best === set.labels[r0 + r]) right++;
      }
    }
  } finally {
    if (owned) await be.dispose();
  }
  return { accuracy: n ? right / n : NaN, predictions };
}

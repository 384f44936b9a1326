// The head trainer: loss and gradient against finite differences, the two backends against each
// other, SGD against L-BFGS, a planted failure that the extra set fixes, determinism, bad input.
import { describe, expect, it } from 'vitest';
import {
  checkHeadProblem,
  evaluateHead,
  FUSED_MAX_ROWS,
  gemmABt,
  headAccuracy,
  headObjective,
  HeadTrainingError,
  jsBackend,
  ortBackend,
  trainHead,
  transpose,
  type FeatureSet,
  type HeadProblem,
} from '../../../native-models/head/index.ts';
import { mulberry32 } from '../../../native-models/mulberry32.ts';

const rng = mulberry32;
const gauss = (r: () => number) => Math.sqrt(-2 * Math.log(r() + 1e-12)) * Math.cos(2 * Math.PI * r());

function randomSet(n: number, C: number, D: number, seed: number): FeatureSet {
  const r = rng(seed);
  const labels = Int32Array.from({ length: n }, (_, i) => i % C);
  const features = new Float32Array(n * D);
  for (let i = 0; i < n; i++) for (let d = 0; d < D; d++) features[i * D + d] = gauss(r) + (d % C === labels[i] ? 1.5 : 0);
  return { features, labels };
}

function randomHead(C: number, D: number, seed: number) {
  const r = rng(seed);
  return { weight: Float32Array.from({ length: C * D }, () => 0.3 * gauss(r)), bias: Float32Array.from({ length: C }, () => 0.1 * gauss(r)), layout: 'out_in' as const };
}

function naiveABt(A: Float32Array, m: number, B: Float32Array, n: number, k: number): Float64Array {
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
    let s = 0;
    for (let p = 0; p < k; p++) s += A[i * k + p] * B[j * k + p];
    out[i * n + j] = s;
  }
  return out;
}

describe('head kernels', () => {
  it('blocked gemmABt matches the naive product on odd sizes, and transpose is exact', () => {
    const r = rng(1);
    for (const [m, n, k] of [[1, 1, 1], [5, 7, 3], [13, 66, 300], [4, 4, 512], [9, 130, 257]]) {
      const A = Float32Array.from({ length: m * k }, () => gauss(r));
      const B = Float32Array.from({ length: n * k }, () => gauss(r));
      const bias = Float32Array.from({ length: n }, () => gauss(r));
      const got = gemmABt(A, m, B, n, k, new Float32Array(m * n), bias);
      const want = naiveABt(A, m, B, n, k);
      for (let i = 0; i < m * n; i++) expect(Math.abs(got[i] - (want[i] + bias[i % n]))).toBeLessThan(1e-4 * Math.sqrt(k));
      const T = transpose(A, m, k);
      for (let i = 0; i < m; i++) for (let p = 0; p < k; p++) expect(T[p * m + i]).toBe(A[i * k + p]);
    }
  });

  it('the onnxruntime backend computes the same logits and gradient as the JS kernels', async () => {
    const [n, C, D] = [37, 11, 70];
    const r = rng(2);
    const X = Float32Array.from({ length: n * D }, () => gauss(r));
    const W = Float32Array.from({ length: C * D }, () => gauss(r));
    const b = Float32Array.from({ length: C }, () => gauss(r));
    const P = Float32Array.from({ length: n * C }, () => gauss(r));
    const js = jsBackend();
    const ort = await ortBackend();
    try {
      const [z1, z2] = [await js.logits(X, n, W, b, C, D), await ort.logits(X, n, W, b, C, D)];
      const [g1, g2] = [await js.gradW(P, X, n, C, D), await ort.gradW(P, X, n, C, D)];
      for (let i = 0; i < z1.length; i++) expect(Math.abs(z1[i] - z2[i])).toBeLessThan(1e-4);
      for (let i = 0; i < g1.length; i++) expect(Math.abs(g1[i] - g2[i])).toBeLessThan(1e-4);
    } finally {
      await ort.dispose();
    }
  });
});

describe('head objective', () => {
  it('the fused onnxruntime objective gives the same loss and gradient as the JS path', async () => {
    const [C, D] = [7, 33];
    const train = randomSet(50, C, D, 21);
    const extra = randomSet(9, C, D, 22);
    const init = randomHead(C, D, 23);
    const { train: t, extra: e } = checkHeadProblem({ numClasses: C, featureDim: D, train, extra, init }, 0.5);
    const sets = [{ set: t, weight: 1 }, { set: e!, weight: 0.5 }];
    const ort = await ortBackend();
    try {
      const g1 = { gW: new Float32Array(C * D), gb: new Float32Array(C), fitBias: true };
      const g2 = { gW: new Float32Array(C * D), gb: new Float32Array(C), fitBias: true };
      const a = await headObjective(jsBackend(), init.weight, init.bias, C, D, sets, 1e-3, g1);
      const b = await headObjective(ort, init.weight, init.bias, C, D, sets, 1e-3, g2);
      expect(ort.fused).toBeTypeOf('function');
      expect(Math.abs(a.loss - b.loss)).toBeLessThan(1e-5);
      for (let i = 0; i < C * D; i++) expect(Math.abs(g1.gW[i] - g2.gW[i])).toBeLessThan(1e-5);
      for (let i = 0; i < C; i++) expect(Math.abs(g1.gb[i] - g2.gb[i])).toBeLessThan(1e-5);
      expect((await headObjective(ort, init.weight, init.bias, C, D, sets, 1e-3, null)).loss).toBeCloseTo(b.loss, 6);
    } finally {
      await ort.dispose();
    }
  });

  it('loss and gradient agree with central finite differences (train + λ·extra + weight decay)', async () => {
    const [C, D] = [3, 4];
    const train = randomSet(12, C, D, 3);
    const extra = randomSet(5, C, D, 4);
    const init = randomHead(C, D, 5);
    const lambda = 0.7;
    const wd = 0.05;
    const { train: t, extra: e } = checkHeadProblem({ numClasses: C, featureDim: D, train, extra, init }, lambda);
    const sets = [{ set: t, weight: 1 }, { set: e!, weight: lambda }];
    const backend = jsBackend();
    const W = Float32Array.from(init.weight);
    const b = Float32Array.from(init.bias);
    const gW = new Float32Array(C * D);
    const gb = new Float32Array(C);
    const at = await headObjective(backend, W, b, C, D, sets, wd, { gW, gb, fitBias: true });

    // the loss itself, computed independently in float64
    let ref = 0;
    for (const [set, w] of [[train, 1], [extra, lambda]] as const) {
      const n = set.labels.length;
      let ce = 0;
      for (let i = 0; i < n; i++) {
        const z = Array.from({ length: C }, (_, c) => {
          let s = b[c];
          for (let d = 0; d < D; d++) s += set.features[i * D + d] * W[c * D + d];
          return s;
        });
        const mx = Math.max(...z);
        const lse = mx + Math.log(z.reduce((s, v) => s + Math.exp(v - mx), 0));
        ce += lse - z[set.labels[i]];
      }
      ref += (w * ce) / n;
    }
    ref += 0.5 * wd * ([...W].reduce((s, v) => s + v * v, 0) + [...b].reduce((s, v) => s + v * v, 0));
    expect(Math.abs(at.loss - ref)).toBeLessThan(1e-5);

    const h = 1e-2;
    const check = async (arr: Float32Array, grad: Float32Array) => {
      for (let i = 0; i < arr.length; i++) {
        const keep = arr[i];
        arr[i] = keep + h;
        const up = (await headObjective(backend, W, b, C, D, sets, wd, null)).loss;
        arr[i] = keep - h;
        const down = (await headObjective(backend, W, b, C, D, sets, wd, null)).loss;
        arr[i] = keep;
        const fd = (up - down) / (2 * h);
        expect(Math.abs(fd - grad[i])).toBeLessThan(2e-4 + 1e-3 * Math.abs(fd));
      }
    };
    await check(W, gW);
    await check(b, gb);
  });
});

describe('head training', () => {
  const [C, D] = [4, 6];
  const problem: HeadProblem = { numClasses: C, featureDim: D, train: randomSet(80, C, D, 6), extra: randomSet(20, C, D, 7), init: randomHead(C, D, 8) };

  it('full-batch SGD with momentum and L-BFGS reach the same loss (1e-4 relative)', async () => {
    const lb = await trainHead(problem, { optimizer: 'lbfgs', backend: 'js', lambda: 0.5, weightDecay: 5e-3, gradTolerance: 1e-6 });
    const sgd = await trainHead(problem, { optimizer: 'sgd', backend: 'js', lambda: 0.5, weightDecay: 5e-3, batchSize: 80, epochs: 1500, lr: 0.2, momentum: 0.9 });
    expect(lb.loss).toBeLessThan(lb.lossBefore);
    expect(Math.abs(sgd.loss - lb.loss) / lb.loss).toBeLessThan(1e-4);
    expect(lb.evaluations).toBeLessThan(300);
  });

  it('minibatch SGD with a cosine schedule gets close to the L-BFGS optimum; onnxruntime L-BFGS agrees with JS', async () => {
    const lb = await trainHead(problem, { optimizer: 'lbfgs', backend: 'js', lambda: 0.5, weightDecay: 5e-3 });
    const sgd = await trainHead(problem, { optimizer: 'sgd', backend: 'js', lambda: 0.5, weightDecay: 5e-3, batchSize: 16, epochs: 300, schedule: 'cosine', lr: 0.1 });
    expect(Math.abs(sgd.loss - lb.loss) / lb.loss).toBeLessThan(2e-3);
    const lbOrt = await trainHead(problem, { optimizer: 'lbfgs', backend: 'ort', lambda: 0.5, weightDecay: 5e-3 });
    expect(Math.abs(lbOrt.loss - lb.loss) / lb.loss).toBeLessThan(1e-4);
  });

  it('objective over more rows than one fused call takes is the same as the JS one; abort stops training', async () => {
    const big = randomSet(FUSED_MAX_ROWS + 77, C, D, 31);
    const { train: t } = checkHeadProblem({ ...problem, train: big }, 0);
    const ort = await ortBackend();
    try {
      const g1 = { gW: new Float32Array(C * D), gb: new Float32Array(C), fitBias: true };
      const g2 = { gW: new Float32Array(C * D), gb: new Float32Array(C), fitBias: true };
      const a = await headObjective(jsBackend(), problem.init.weight, problem.init.bias!, C, D, [{ set: t, weight: 1 }], 0, g1);
      const b = await headObjective(ort, problem.init.weight, problem.init.bias!, C, D, [{ set: t, weight: 1 }], 0, g2);
      expect(Math.abs(a.loss - b.loss)).toBeLessThan(1e-5);
      for (let i = 0; i < C * D; i++) expect(Math.abs(g1.gW[i] - g2.gW[i])).toBeLessThan(1e-5);
    } finally {
      await ort.dispose();
    }
    const ctl = new AbortController();
    ctl.abort(new Error('cancelled by the user'));
    await expect(trainHead(problem, { optimizer: 'lbfgs', backend: 'js', signal: ctl.signal })).rejects.toThrow(/cancelled by the user/);
  });

  it('is deterministic for a seed', async () => {
    const opts = { optimizer: 'sgd' as const, backend: 'js' as const, batchSize: 8, epochs: 3 };
    const a = await trainHead(problem, { ...opts, seed: 42 });
    const b = await trainHead(problem, { ...opts, seed: 42 });
    const c = await trainHead(problem, { ...opts, seed: 43 });
    expect(Buffer.from(a.weight.buffer).equals(Buffer.from(b.weight.buffer))).toBe(true);
    expect(Buffer.from(a.bias.buffer).equals(Buffer.from(b.bias.buffer))).toBe(true);
    expect(Buffer.from(a.weight.buffer).equals(Buffer.from(c.weight.buffer))).toBe(false);
    const o1 = await trainHead(problem, { ...opts, backend: 'ort', seed: 42 });
    const o2 = await trainHead(problem, { ...opts, backend: 'ort', seed: 42 });
    expect(Buffer.from(o1.weight.buffer).equals(Buffer.from(o2.weight.buffer))).toBe(true);
  });

  it('a head with no bias keeps it at zero; an in_out initial head is read transposed', async () => {
    const init = randomHead(C, D, 9);
    const inOut = new Float32Array(C * D);
    for (let c = 0; c < C; c++) for (let d = 0; d < D; d++) inOut[d * C + c] = init.weight[c * D + d];
    const p0 = await trainHead({ ...problem, init: { weight: init.weight, bias: null, layout: 'out_in' } }, { optimizer: 'sgd', backend: 'js', epochs: 0 });
    const p1 = await trainHead({ ...problem, init: { weight: inOut, bias: null, layout: 'in_out' } }, { optimizer: 'sgd', backend: 'js', epochs: 0 });
    expect([...p1.weight]).toEqual([...init.weight]);
    expect(p0.lossBefore).toBe(p1.lossBefore);
    const t = await trainHead({ ...problem, init: { weight: init.weight, bias: null, layout: 'out_in' } }, { optimizer: 'lbfgs', backend: 'js' });
    expect([...t.bias].every((v) => v === 0)).toBe(true);
  });
});

describe('the extra set fixes a planted failure', () => {
  // Three classes, each with its own weak signal direction (e0, e1, e2). In the original training
  // data a strong "background" feature e3 occurs only with class 0, so the original head learns
  // "e3 => class 0". Class 2 shown on that background (the heldout failure) is then called class 0.
  // The extra (generated) rows are class 2 on that background; retraining with them fixes it.
  const C = 3;
  const D = 6;
  function make(n: number, seed: number, kind: 'train' | 'test' | 'failure' | 'extra'): FeatureSet {
    const r = rng(seed);
    const features = new Float32Array(n * D);
    const labels = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const y = kind === 'failure' || kind === 'extra' ? 2 : i % C;
      labels[i] = y;
      for (let d = 0; d < D; d++) features[i * D + d] = 0.4 * gauss(r);
      features[i * D + y] += 1.0;
      if ((kind !== 'failure' && kind !== 'extra' && y === 0) || kind === 'failure' || kind === 'extra') features[i * D + 3] += 4;
    }
    return { features, labels };
  }
  const train = make(150, 11, 'train');
  const test = make(300, 12, 'test');
  const failures = make(100, 13, 'failure');
  const extra = make(30, 14, 'extra');

  it('heldout failures are fixed and ordinary test accuracy stays', async () => {
    // "the model's own head": trained on the original data only
    const zero = { weight: new Float32Array(C * D), bias: new Float32Array(C), layout: 'out_in' as const };
    const original = await trainHead({ numClasses: C, featureDim: D, train, init: zero }, { optimizer: 'lbfgs', backend: 'js', weightDecay: 5e-4 });
    const accBefore = { test: headAccuracy(original.weight, original.bias, C, D, test), failures: headAccuracy(original.weight, original.bias, C, D, failures) };
    expect(accBefore.failures).toBeLessThan(0.3);
    const init = { weight: original.weight, bias: original.bias, layout: 'out_in' as const };
    for (const optimizer of ['sgd', 'lbfgs'] as const) {
      const patched = await trainHead({ numClasses: C, featureDim: D, train, extra, init }, { optimizer, backend: 'js', lambda: 0.5, epochs: 30, batchSize: 32, seed: 1 });
      const acc = { test: headAccuracy(patched.weight, patched.bias, C, D, test), failures: headAccuracy(patched.weight, patched.bias, C, D, failures) };
      expect(acc.failures).toBeGreaterThan(0.8);
      const viaOrt = await evaluateHead(patched.weight, patched.bias, C, D, failures);
      expect(viaOrt.accuracy).toBeCloseTo(acc.failures, 10);
      expect(viaOrt.predictions.length).toBe(100);
      expect(acc.test).toBeGreaterThan(accBefore.test - 0.05);
    }
    // λ = 0 does not fix it
    const none = await trainHead({ numClasses: C, featureDim: D, train, extra, init }, { optimizer: 'lbfgs', backend: 'js', lambda: 0 });
    expect(headAccuracy(none.weight, none.bias, C, D, failures)).toBeLessThan(0.3);
  });
});

describe('bad input', () => {
  const C = 3;
  const D = 2;
  const init = { weight: new Float32Array(C * D), bias: new Float32Array(C), layout: 'out_in' as const };
  const train = { features: new Float32Array([1, 0, 0, 1, 1, 1]), labels: [0, 1, 2] };
  const run = (p: Partial<HeadProblem>, lambda = 0.5) => trainHead({ numClasses: C, featureDim: D, train, init, ...p }, { optimizer: 'sgd', backend: 'js', lambda, epochs: 1 });
  it('refuses them with clear messages', async () => {
    await expect(run({}, -0.1)).rejects.toThrow(/λ \(lambda\) must be a finite number >= 0, got -0.1/);
    await expect(run({}, NaN)).rejects.toThrow(HeadTrainingError);
    await expect(run({ train: { features: new Float32Array(0), labels: [] } })).rejects.toThrow(/the train set has no rows/);
    await expect(run({ extra: { features: new Float32Array(0), labels: [] } })).rejects.toThrow(/the extra \(generated\) set has no rows/);
    await expect(run({ train: { features: new Float32Array([1, 0, 0, 1]), labels: [0, 2] }, classNames: ['cat', 'dog', 'fox'] })).rejects.toThrow(/the train split has no rows for 1 of 3 classes: 1 \(dog\)/);
    await expect(run({ train: { features: new Float32Array([1, 0, NaN, 1, 1, 1]), labels: [0, 1, 2] } })).rejects.toThrow(/non-finite feature \(NaN\) in row 1, column 0/);
    await expect(run({ extra: { features: new Float32Array([1, Infinity]), labels: [1] } })).rejects.toThrow(/extra \(generated\) set has a non-finite feature/);
    await expect(run({ train: { features: new Float32Array([1, 0, 0, 1, 1, 1]), labels: [0, 1, 3] } })).rejects.toThrow(/label 3 in row 2; classes are 0..2/);
    await expect(run({ train: { features: new Float32Array([1, 0, 0, 1, 1]), labels: [0, 1, 2] } })).rejects.toThrow(/5 feature values for 3 labels/);
    await expect(run({ init: { ...init, weight: new Float32Array(5) } })).rejects.toThrow(/initial head weight has 5 values, expected 3 x 2/);
  });
});

// Where the head trainer's two matrix products run. Both are behind one small interface so the
// trainer, the tests and the benchmark can swap them:
//   logits  Z[n x C] = X[n x D] · Wᵀ + b        (W stored [C x D], torch nn.Linear layout)
//   gradW   G[C x D] = Pᵀ · X  for P[n x C]      (P = softmax - one-hot, already scaled)
// 'js': the typed-array kernels of matmul.ts (single thread). 'ort': two one-node ONNX graphs
// (Gemm) run by onnxruntime-node, which uses its MLAS kernels on every core (or CUDA).
import * as ort from 'onnxruntime-node';
import { onnx } from '../onnx/index.ts';
import { gemmABt, transpose } from './matmul.ts';

export type HeadBackendName = 'js' | 'ort';

export interface FusedResult {
  /** Summed cross-entropy of the n rows. */
  ce: number;
  /** scale · Pᵀ·X and scale · Σ_rows P, where P = softmax(X·Wᵀ + b) - onehot(y). */
  gW: Float32Array | null;
  gb: Float32Array | null;
}

export interface HeadBackend {
  readonly name: HeadBackendName;
  /** Optional: the whole per-set step (logits, log-softmax, CE, P, both gradients) in one call. */
  fused?(X: Float32Array, y: Int32Array, n: number, W: Float32Array, b: Float32Array, C: number, D: number, scale: number, withGrad: boolean): Promise<FusedResult>;
  logits(X: Float32Array, n: number, W: Float32Array, b: Float32Array, C: number, D: number): Promise<Float32Array>;
  gradW(P: Float32Array, X: Float32Array, n: number, C: number, D: number): Promise<Float32Array>;
  dispose(): Promise<void>;
}

export function jsBackend(): HeadBackend {
  // X is usually the same matrix on every call (full-batch training): keep its transpose
  const xt = new WeakMap<Float32Array, Float32Array>();
  return {
    name: 'js',
    async logits(X, n, W, b, C, D) {
      return gemmABt(X, n, W, C, D, new Float32Array(n * C), b);
    },
    async gradW(P, X, n, C, D) {
      let Xt = xt.get(X);
      if (!Xt || Xt.length !== n * D) {
        Xt = transpose(X, n, D);
        xt.set(X, Xt);
      }
      const Pt = transpose(P, n, C);
      return gemmABt(Pt, C, Xt, D, n, new Float32Array(C * D));
    },
    async dispose() {},
  };
}

function gemmModel(name: string, a: [string, string], b: [string, string], out: [string, string], attrs: { transA?: number; transB?: number }, withBias: boolean): Uint8Array {
  const vi = (nm: string, dims: string[]) => ({ name: nm, type: { tensorType: { elemType: 1, shape: { dim: dims.map((d) => ({ dimParam: d })) } } } });
  const attribute = Object.entries(attrs).map(([k, v]) => ({ name: k, type: 2, i: v }));
  const inputs = [vi('A', a), vi('B', b)];
  if (withBias) inputs.push(vi('C', [out[1]]));
  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: 'factorlab-head',
    opsetImport: [{ domain: '', version: 17 }],
    graph: {
      name,
      node: [{ opType: 'Gemm', name, input: withBias ? ['A', 'B', 'C'] : ['A', 'B'], output: ['Y'], attribute }],
      input: inputs,
      output: [vi('Y', out)],
    },
  });
  return onnx.ModelProto.encode(model).finish();
}

/**
 * The fused objective graph: Z = Gemm(X, W, b, transB) ; L = LogSoftmax(Z) ; OH = OneHot(y, C) ;
 * ce = -ΣL·OH ; P = scale·(exp(L) - OH) ; gW = Pᵀ·X ; gb = Σ_rows P. Without gradients the graph
 * ends at ce.
 */
function fusedModel(withGrad: boolean): Uint8Array {
  const vi = (nm: string, elemType: number, dims: (string | number)[]) => ({ name: nm, type: { tensorType: { elemType, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } } });
  const i = (name: string, v: number) => ({ name, type: 2, i: v });
  const node = (opType: string, input: string[], output: string[], attribute: { name: string; type: number; i: number }[] = []) => ({ opType, name: output[0], input, output, attribute });
  const nodes = [
    node('Gemm', ['X', 'W', 'b'], ['Z'], [i('transB', 1)]),
    node('LogSoftmax', ['Z'], ['L'], [i('axis', 1)]),
    node('OneHot', ['y', 'depth', 'onoff'], ['OH'], [i('axis', -1)]),
    node('Mul', ['L', 'OH'], ['LY']),
    node('ReduceSum', ['LY'], ['ceNeg'], [i('keepdims', 0)]),
    node('Neg', ['ceNeg'], ['ce']),
  ];
  const outputs = [vi('ce', 1, [])];
  if (withGrad) {
    nodes.push(
      node('Exp', ['L'], ['S']),
      node('Sub', ['S', 'OH'], ['P0']),
      node('Mul', ['P0', 'scale'], ['P']),
      node('Gemm', ['P', 'X'], ['gW'], [i('transA', 1)]),
      node('ReduceSum', ['P', 'axis0'], ['gb'], [i('keepdims', 0)]),
    );
    outputs.push(vi('gW', 1, ['C', 'D']), vi('gb', 1, ['C']));
  }
  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: 'factorlab-head',
    opsetImport: [{ domain: '', version: 17 }],
    graph: {
      name: withGrad ? 'head_objective_grad' : 'head_objective',
      node: nodes,
      initializer: [
        { name: 'onoff', dataType: 1, dims: [2], floatData: [0, 1] },
        ...(withGrad ? [{ name: 'axis0', dataType: 7, dims: [1], int64Data: [0] }] : []),
      ],
      input: [vi('X', 1, ['n', 'D']), vi('W', 1, ['C', 'D']), vi('b', 1, ['C']), vi('y', 7, ['n']), vi('depth', 7, [1]), ...(withGrad ? [vi('scale', 1, [])] : [])],
      output: outputs,
    },
  });
  return onnx.ModelProto.encode(model).finish();
}

export interface OrtBackendOptions {
  /** 'cpu' (default) or 'cuda' (falls back to cpu when the CUDA provider cannot be loaded). */
  provider?: 'cpu' | 'cuda';
  intraOpThreads?: number;
}

export async function ortBackend(options: OrtBackendOptions = {}): Promise<HeadBackend & { provider: string }> {
  const make = async (bytes: Uint8Array, provider: string) =>
    ort.InferenceSession.create(bytes, {
      executionProviders: [provider],
      graphOptimizationLevel: 'all',
      ...(options.intraOpThreads ? { intraOpNumThreads: options.intraOpThreads } : {}),
    });
  const logitsBytes = gemmModel('head_logits', ['n', 'D'], ['C', 'D'], ['n', 'C'], { transB: 1 }, true);
  const gradBytes = gemmModel('head_grad', ['n', 'C'], ['n', 'D'], ['C', 'D'], { transA: 1 }, false);
  let provider = options.provider ?? 'cpu';
  const fusedBytes = fusedModel(true);
  const fusedLossBytes = fusedModel(false);
  let sLogits: ort.InferenceSession;
  let sGrad: ort.InferenceSession;
  let sFused: ort.InferenceSession;
  let sFusedLoss: ort.InferenceSession;
  try {
    sLogits = await make(logitsBytes, provider);
    sGrad = await make(gradBytes, provider);
    sFused = await make(fusedBytes, provider);
    sFusedLoss = await make(fusedLossBytes, provider);
  } catch (err) {
    if (provider === 'cpu') throw err;
    provider = 'cpu';
    sLogits = await make(logitsBytes, provider);
    sGrad = await make(gradBytes, provider);
    sFused = await make(fusedBytes, provider);
    sFusedLoss = await make(fusedLossBytes, provider);
  }
  // labels as int64, converted once per label array
  const labels64 = new WeakMap<Int32Array, BigInt64Array>();
  const run = async (s: ort.InferenceSession, feeds: Record<string, ort.Tensor>): Promise<Float32Array> => {
    const r = await s.run(feeds);
    const y = r.Y;
    const data = y.data as Float32Array;
    // copy out of ORT's buffer before releasing it
    const out = new Float32Array(data.length);
    out.set(data);
    y.dispose();
    return out;
  };
  return {
    name: 'ort',
    provider,
    async logits(X, n, W, b, C, D) {
      return run(sLogits, {
        A: new ort.Tensor('float32', X.subarray(0, n * D), [n, D]),
        B: new ort.Tensor('float32', W.subarray(0, C * D), [C, D]),
        C: new ort.Tensor('float32', b.subarray(0, C), [C]),
      });
    },
    async gradW(P, X, n, C, D) {
      return run(sGrad, {
        A: new ort.Tensor('float32', P.subarray(0, n * C), [n, C]),
        B: new ort.Tensor('float32', X.subarray(0, n * D), [n, D]),
      });
    },
    async fused(X, y, n, W, b, C, D, scale, withGrad) {
      let y64 = labels64.get(y);
      if (!y64 || y64.length !== n) {
        y64 = new BigInt64Array(n);
        for (let r = 0; r < n; r++) y64[r] = BigInt(y[r]);
        labels64.set(y, y64);
      }
      const feeds: Record<string, ort.Tensor> = {
        X: new ort.Tensor('float32', X.subarray(0, n * D), [n, D]),
        W: new ort.Tensor('float32', W.subarray(0, C * D), [C, D]),
        b: new ort.Tensor('float32', b.subarray(0, C), [C]),
        y: new ort.Tensor('int64', y64, [n]),
        depth: new ort.Tensor('int64', BigInt64Array.of(BigInt(C)), [1]),
      };
      if (withGrad) feeds.scale = new ort.Tensor('float32', Float32Array.of(scale), []);
      const r = await (withGrad ? sFused : sFusedLoss).run(feeds);
      const ce = (r.ce.data as Float32Array)[0];
      let gW: Float32Array | null = null;
      let gb: Float32Array | null = null;
      if (withGrad) {
        gW = Float32Array.from(r.gW.data as Float32Array);
        gb = Float32Array.from(r.gb.data as Float32Array);
      }
      for (const t of Object.values(r)) t.dispose();
      return { ce, gW, gb };
    },
    async dispose() {
      await sLogits.release();
      await sGrad.release();
      await sFused.release();
      await sFusedLoss.release();
    },
  };
}

export async function makeBackend(name: HeadBackendName, options: OrtBackendOptions = {}): Promise<HeadBackend> {
  return name === 'js' ? jsBackend() : ortBackend(options);
}

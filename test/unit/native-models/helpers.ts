// Shared helpers for the native-models tests (no mocks: real files, real ONNX graphs).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { onnx } from '../../../native-models/onnx/index.ts';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const FIXTURES = join(REPO, 'test', 'fixtures');
export const MODELS = join(FIXTURES, 'models');
export const IMAGES = join(FIXTURES, 'images');
export const PREPROCESS = join(FIXTURES, 'preprocess');
export const INPUTS = join(PREPROCESS, 'inputs');
export const MNIST_DIR = '/work/shared/data/models/mnist';

export async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'factorlab-nm-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The fixed input make_models.py uses: x.flat[i] = sin(0.37 i) as float32, [n, 3, 32, 32]. */
export function fixedInput(n: number, side = 32): Float32Array {
  const x = new Float32Array(n * 3 * side * side);
  for (let i = 0; i < x.length; i++) x[i] = Math.sin(0.37 * i);
  return x;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} != ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/**
 * A small real classifier built in-process with the ONNX protobuf classes:
 * input [N, 3, H, W] -> GlobalAveragePool -> Flatten -> Gemm(W [C, 3], b [C], transB = 1).
 * logits[c] = sum_k mean_k(x) * W[c, k] + b[c], so expected values are easy to compute.
 */
export function buildPoolGemmModel(C: number, opts: { H?: number | string; W?: number | string; batch?: number | string } = {}): {
  bytes: Uint8Array;
  weight: Float32Array;
  bias: Float32Array;
} {
  const weight = new Float32Array(C * 3);
  const bias = new Float32Array(C);
  for (let i = 0; i < weight.length; i++) weight[i] = Math.sin(i * 1.3) * 0.5;
  for (let i = 0; i < C; i++) bias[i] = Math.cos(i * 0.7) * 0.1;
  const dim = (d: number | string) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d });
  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: 'factorlab-test',
    opsetImport: [{ domain: '', version: 17 }],
    graph: {
      name: 'pool_gemm',
      node: [
        { opType: 'GlobalAveragePool', input: ['image'], output: ['pooled4d'], name: 'pool' },
        { opType: 'Flatten', input: ['pooled4d'], output: ['pooled'], name: 'flatten', attribute: [{ name: 'axis', type: 2, i: 1 }] },
        { opType: 'Gemm', input: ['pooled', 'W', 'b'], output: ['logits'], name: 'fc', attribute: [{ name: 'transB', type: 2, i: 1 }] },
      ],
      initializer: [
        { name: 'W', dataType: 1, dims: [C, 3], rawData: new Uint8Array(weight.buffer.slice(0)) },
        { name: 'b', dataType: 1, dims: [C], rawData: new Uint8Array(bias.buffer.slice(0)) },
      ],
      input: [{ name: 'image', type: { tensorType: { elemType: 1, shape: { dim: [dim(opts.batch ?? 'N'), dim(3), dim(opts.H ?? 8), dim(opts.W ?? 8)] } } } }],
      output: [{ name: 'logits', type: { tensorType: { elemType: 1, shape: { dim: [dim(opts.batch ?? 'N'), dim(C)] } } } }],
    },
  });
  return { bytes: onnx.ModelProto.encode(model).finish(), weight, bias };
}

/**
 * A baseline greyscale JPEG of width x height, every pixel 128, written by hand: one Huffman code
 * each for "DC difference 0" and "end of block", so the entropy-coded data is 2 bits per 8x8 block
 * (a 20000x20000 image is ~1.6 MB, made in milliseconds). With `noData` only the headers are written.
 */
export function flatGreyJpeg(width: number, height: number, noData = false): Buffer {
  const seg = (marker: number, body: number[]) => [0xff, marker, ((body.length + 2) >> 8) & 0xff, (body.length + 2) & 0xff, ...body];
  const dqt = seg(0xdb, [0x00, ...new Array(64).fill(1)]);
  const sof = seg(0xc0, [8, (height >> 8) & 0xff, height & 0xff, (width >> 8) & 0xff, width & 0xff, 1, 1, 0x11, 0]);
  const oneCode = (tc: number) => seg(0xc4, [tc << 4, 1, ...new Array(15).fill(0), 0x00]);
  const sos = seg(0xda, [1, 1, 0x00, 0, 63, 0]);
  const head = Buffer.from([0xff, 0xd8, ...dqt, ...sof, ...oneCode(0), ...oneCode(1), ...sos]);
  const blocks = Math.ceil(width / 8) * Math.ceil(height / 8);
  const data = noData ? Buffer.alloc(16) : Buffer.alloc(Math.ceil((blocks * 2) / 8));
  return Buffer.concat([head, data, Buffer.from([0xff, 0xd9])]);
}

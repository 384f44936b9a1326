// onnxruntime-node sessions. The execution provider choice lives here and only here.
//
// onnxruntime-node 1.29 (linux-x64) ships the cpu and webgpu providers; cuda needs provider
// libraries copied next to the binding (see /work/shared/FACTS.md). When the first provider in
// the list cannot be loaded, InferenceSession.create throws even if 'cpu' follows it, so each
// provider is tried on its own and the failures are reported as `fallbacks`.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { onnx, tensorToTypedArray, toNumber, type TensorProto } from '../onnx/index.ts';
import { webgpuHardwareUnavailable } from './vulkan-drivers.ts';

export type ProviderRequest = 'auto' | 'cpu' | 'cuda' | 'webgpu';
export type Provider = 'cpu' | 'cuda' | 'webgpu';

export interface ProviderFallback {
  provider: Provider;
  reason: string;
}

export interface SessionOptions {
  provider?: ProviderRequest;
  /** Threads for one operator on CPU; default: all cores (ORT's own default). */
  intraOpThreads?: number;
}

export interface CreatedSession {
  session: ort.InferenceSession;
  provider: Provider;
  fallbacks: ProviderFallback[];
}

/**
 * The providers to try, in order. 'auto' = CUDA, then WebGPU, then CPU; under 'auto' WebGPU is
 * skipped on Linux when the only Vulkan drivers are software ones (lavapipe, llvmpipe, SwiftShader:
 * slower than the CPU provider) or there is no Vulkan at all (see providerUnavailable). An explicit
 * 'webgpu' request tries WebGPU whatever the driver. Every order ends with CPU, so a run never fails
 * for want of a GPU; the caller sees why in `fallbacks`.
 */
export function providerOrder(request: ProviderRequest): Provider[] {
  switch (request) {
    case 'auto': return ['cuda', 'webgpu', 'cpu'];
    case 'cuda': return ['cuda', 'cpu'];
    case 'webgpu': return ['webgpu', 'cpu'];
    case 'cpu': return ['cpu'];
  }
}

/**
 * Why a provider cannot be tried at all, or null to try it. The CUDA provider is a separate shared
 * library next to onnxruntime-node's binding; when it is absent, trying would only make ORT print
 * an error to stderr before failing. WebGPU is ruled out only for 'auto' and only without a
 * hardware Vulkan driver (vulkan-drivers.ts; its answer is remembered per process and environment,
 * so the manifests are read once, not at every session); `request` defaults to the provider itself
 * (explicit).
 */
export function providerUnavailable(provider: Provider, request: ProviderRequest = provider): string | null {
  if (provider === 'webgpu') return request === 'auto' ? webgpuHardwareUnavailable() : null;
  if (provider !== 'cuda') return null;
  if (process.platform !== 'linux' && process.platform !== 'win32') return `CUDA is not supported on ${process.platform}`;
  try {
    const pkgDir = dirname(dirname(createRequire(import.meta.url).resolve('onnxruntime-node')));
    const dir = join(pkgDir, 'bin', 'napi-v6', process.platform, process.arch);
    const lib = process.platform === 'win32' ? 'onnxruntime_providers_cuda.dll' : 'libonnxruntime_providers_cuda.so';
    if (!existsSync(join(dir, lib))) return `the CUDA provider library ${lib} is not installed in ${dir}`;
  } catch {
    return null; // layout unknown: let onnxruntime try
  }
  return null;
}

export function firstLine(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.split('\n').find((l) => l.trim())?.trim().slice(0, 500) ?? 'unknown error';
}

export async function createSession(onnxPath: string, options: SessionOptions = {}): Promise<CreatedSession> {
  const request = options.provider ?? 'auto';
  const order = providerOrder(request);
  const fallbacks: ProviderFallback[] = [];
  for (const provider of order) {
    const unavailable = providerUnavailable(provider, request);
    if (unavailable) {
      fallbacks.push({ provider, reason: unavailable });
      continue;
    }
    const sessionOptions: ort.InferenceSession.SessionOptions = {
      executionProviders: [provider],
      graphOptimizationLevel: 'all',
      executionMode: 'sequential',
      interOpNumThreads: 1,
      logSeverityLevel: 3,
    };
    if (options.intraOpThreads !== undefined) sessionOptions.intraOpNumThreads = options.intraOpThreads;
    try {
      const session = await ort.InferenceSession.create(onnxPath, sessionOptions);
      return { session, provider, fallbacks };
    } catch (err) {
      const reason = firstLine(err);
      // A model that CPU cannot load is broken, not a provider problem: report it as such.
      if (provider === 'cpu') {
        const tried = fallbacks.map((f) => `${f.provider}: ${f.reason}`).join('; ');
        throw new Error(`${onnxPath}: onnxruntime cannot load the model: ${reason}${tried ? ` (also tried ${tried})` : ''}`, { cause: err });
      }
      fallbacks.push({ provider, reason });
    }
  }
  throw new Error(`${onnxPath}: no execution provider could load the model: ${fallbacks.map((f) => `${f.provider}: ${f.reason}`).join('; ')}`);
}

export interface TensorFile {
  name: string;
  dims: number[];
  dataType: number;
  data: Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array | Int8Array;
}

/** Reads an ONNX TensorProto file (.pb), as the ONNX model zoo's test_data_set_* use. */
export async function readTensorProtoFile(path: string): Promise<TensorFile> {
  const bytes = await readFile(path);
  let t: TensorProto;
  try {
    t = onnx.TensorProto.decode(bytes);
  } catch (err) {
    throw new Error(`${path}: not an ONNX TensorProto (${firstLine(err)})`, { cause: err });
  }
  if (t.dims.length === 0 && t.rawData.length === 0 && t.floatData.length === 0) throw new Error(`${path}: not an ONNX TensorProto (no dims, no data)`);
  return { name: t.name, dims: t.dims.map(toNumber), dataType: t.dataType, data: tensorToTypedArray(t) };
}

/** The TensorProto file as an ort.Tensor (float16/bfloat16 arrive as float32). */
export function toOrtTensor(t: TensorFile): ort.Tensor {
  const d = t.data;
  if (d instanceof Float32Array) return new ort.Tensor('float32', d, t.dims);
  if (d instanceof Float64Array) return new ort.Tensor('float64', d, t.dims);
  if (d instanceof Int32Array) return new ort.Tensor('int32', d, t.dims);
  if (d instanceof BigInt64Array) return new ort.Tensor('int64', d, t.dims);
  if (d instanceof Int8Array) return new ort.Tensor('int8', d, t.dims);
  return new ort.Tensor(t.dataType === 9 ? 'bool' : 'uint8', d, t.dims);
}

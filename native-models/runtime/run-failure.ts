// What to do when inference fails at run time on a GPU provider that loaded: a batch that ran out
// of memory (or past WebGPU's per-shader buffer limits, which large tensors hit) is retried in
// halves; anything else, or a batch of one, moves the job to the CPU provider.

const OUT_OF_MEMORY = /out of memory|OOM|Failed to allocate|cudaErrorMemoryAllocation|CUBLAS_STATUS_ALLOC_FAILED|CUDNN_STATUS_ALLOC|allocation/i;
// onnxruntime's WebGPU provider splits a tensor larger than maxStorageBufferBindingSize into several
// bindings; a big enough batch then needs more than maxStorageBuffersPerShaderStage of them.
const BUFFER_LIMIT = /Too many storage buffers|maxStorageBuffersPerShaderStage|maxStorageBufferBindingSize|maxBufferSize/i;

export type RunFailureAction = 'shrink' | 'cpu';

export function classifyRunFailure(message: string, batch: number): RunFailureAction {
  return batch > 1 && (OUT_OF_MEMORY.test(message) || BUFFER_LIMIT.test(message)) ? 'shrink' : 'cpu';
}

// The decision taken when a GPU provider that loaded fails during inference.
import { describe, expect, it } from 'vitest';
import { classifyRunFailure } from '../../../native-models/runtime/index.ts';

describe('classifyRunFailure', () => {
  it('halves the batch on out-of-memory messages from CUDA, cuBLAS, cuDNN, onnxruntime and WebGPU', () => {
    for (const msg of [
      'CUDA failure 2: out of memory ; GPU=0 ; hostname=x ; file=cuda_allocator.cc',
      "Non-zero status code returned while running Conv node. Name:'/conv1/Conv' Status Message: Failed to allocate memory for requested buffer of size 822083584",
      'CUBLAS failure 3: CUBLAS_STATUS_ALLOC_FAILED',
      'CUDNN failure 2: CUDNN_STATUS_ALLOC_FAILED',
      'cudaErrorMemoryAllocation',
      'OOM when allocating tensor',
      'Buffer allocation failed',
      // onnxruntime's WebGPU provider, a tensor split over more bindings than a shader may have:
      "Non-zero status code returned while running Tile node. Name:'' Status Message: shader_helper.cc:291 numbers_storage_buffers_ <= limits_.maxStorageBuffersPerShaderStage was false. Too many storage buffers in shader. Current: 18, Max is 16",
    ]) expect(classifyRunFailure(msg, 32), msg).toBe('shrink');
  });

  it('moves to cpu on any other failure, and on out of memory with one image', () => {
    expect(classifyRunFailure("Non-zero status code returned while running Einsum node. Name:'' Status Message: unsupported equation", 32)).toBe('cpu');
    expect(classifyRunFailure('Dawn device lost', 8)).toBe('cpu');
    expect(classifyRunFailure('CUDA failure 2: out of memory', 1)).toBe('cpu');
    expect(classifyRunFailure('Too many storage buffers in shader. Current: 17, Max is 16', 1)).toBe('cpu');
  });
});

import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createSession, providerOrder, providerUnavailable, readTensorProtoFile, toOrtTensor } from '../../../native-models/runtime/index.ts';
import { MNIST_DIR, MODELS, maxAbsDiff } from './helpers.ts';

describe('runtime', () => {
  it('reproduces the MNIST reference output (test_data_set_0) within 1e-4', async () => {
    const input = await readTensorProtoFile(join(MNIST_DIR, 'test_data_set_0_input_0.pb'));
    const expected = await readTensorProtoFile(join(MNIST_DIR, 'test_data_set_0_output_0.pb'));
    expect(input.dims).toEqual([1, 1, 28, 28]);
    expect(expected.dims).toEqual([1, 10]);
    const { session, provider } = await createSession(join(MNIST_DIR, 'mnist.onnx'), { provider: 'cpu', intraOpThreads: 1 });
    expect(provider).toBe('cpu');
    expect(session.inputNames).toEqual(['Input3']);
    const out = await session.run({ Input3: toOrtTensor(input) });
    const got = out.Plus214_Output_0.data as Float32Array;
    const err = maxAbsDiff(got, expected.data as Float32Array);
    expect(err).toBeLessThan(1e-4);
    console.log(`MNIST max abs error vs reference: ${err.toExponential(2)}`);
    // the output is not trivially small: the check can fail
    expect(Math.max(...Array.from(expected.data as Float32Array).map(Math.abs))).toBeGreaterThan(0.5);
    await session.release();
  });

  it('auto tries CUDA, then WebGPU (hardware Vulkan only), then CPU, with a reason for each skipped one', async () => {
    expect(providerOrder('auto')).toEqual(['cuda', 'webgpu', 'cpu']);
    const r = await createSession(join(MNIST_DIR, 'mnist.onnx'), { provider: 'auto' });
    if (r.provider === 'cpu') {
      expect(r.fallbacks.map((f) => f.provider)).toEqual(['cuda', 'webgpu']);
      for (const f of r.fallbacks) {
        expect(f.reason.length).toBeGreaterThan(10);
        const known = providerUnavailable(f.provider, 'auto');
        if (known) expect(f.reason).toBe(known);
      }
    } else {
      expect(r.fallbacks.map((f) => f.provider)).toEqual(r.provider === 'cuda' ? [] : ['cuda']);
    }
    await r.session.release();
  });

  it('retries with CPU when InferenceSession.create throws for the requested provider (webgpu)', async () => {
    const r = await createSession(join(MNIST_DIR, 'mnist.onnx'), { provider: 'webgpu' });
    if (r.provider === 'webgpu') {
      expect(r.fallbacks).toEqual([]);
    } else {
      // here ORT itself threw (no WebGPU adapter) and the CPU retry succeeded
      expect(r.provider).toBe('cpu');
      expect(r.fallbacks).toHaveLength(1);
      expect(r.fallbacks[0].provider).toBe('webgpu');
      expect(r.fallbacks[0].reason).toMatch(/\S/);
    }
    const input = await readTensorProtoFile(join(MNIST_DIR, 'test_data_set_0_input_0.pb'));
    const out = await r.session.run({ Input3: toOrtTensor(input) });
    expect(out.Plus214_Output_0.dims).toEqual([1, 10]);
    await r.session.release();
  });

  it('a model that even CPU cannot load is an error naming the file', async () => {
    const file = join(MODELS, 'not_onnx.onnx');
    await expect(createSession(file, { provider: 'cpu' })).rejects.toThrow(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: onnxruntime cannot load the model`));
  });

  it('readTensorProtoFile refuses other files', async () => {
    await expect(readTensorProtoFile(join(MODELS, 'not_onnx.onnx'))).rejects.toThrow(/not an ONNX TensorProto/);
  });
});

// Provider selection with providers that really fail to load (no mocks of onnxruntime): on this
// machine the CUDA provider library is absent, and WebGPU is made to fail by pointing the Vulkan
// loader at a driver file that does not exist (in a child process: Dawn reads the environment once).
// 'auto' skips WebGPU without a hardware Vulkan driver (this machine: Mesa lavapipe only).
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as ort from 'onnxruntime-node';
import { createSession, providerOrder, providerUnavailable, webgpuHardwareUnavailable } from '../../../native-models/runtime/index.ts';
import { tempDir } from '../../helpers/temp-dir.ts';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const CLASSIFIER = join(ROOT, 'native-models', 'shapeworld', 'models', 'classifier', 'model.onnx');
const cudaMissing = providerUnavailable('cuda');
const webgpuSkipped = webgpuHardwareUnavailable();

async function runsOnce(session: ort.InferenceSession): Promise<void> {
  const out = await session.run({ input: new ort.Tensor('float32', new Float32Array(3 * 64 * 64).fill(0.5), [1, 3, 64, 64]) });
  expect(out.logits!.dims).toEqual([1, 10]);
}

describe('providerOrder', () => {
  it('always ends with cpu; auto tries cuda, then webgpu', () => {
    expect(providerOrder('auto')).toEqual(['cuda', 'webgpu', 'cpu']);
    expect(providerOrder('cuda')).toEqual(['cuda', 'cpu']);
    expect(providerOrder('webgpu')).toEqual(['webgpu', 'cpu']);
    expect(providerOrder('cpu')).toEqual(['cpu']);
  });
});

describe('providerUnavailable', () => {
  it('never rules out cpu, nor webgpu when asked for by name (onnxruntime decides)', () => {
    expect(providerUnavailable('cpu')).toBeNull();
    expect(providerUnavailable('cpu', 'auto')).toBeNull();
    expect(providerUnavailable('webgpu')).toBeNull();
    expect(providerUnavailable('webgpu', 'webgpu')).toBeNull();
  });

  it("rules out webgpu for 'auto' exactly when there is no hardware Vulkan driver", () => {
    expect(providerUnavailable('webgpu', 'auto')).toBe(webgpuSkipped);
  });

  it.skipIf(cudaMissing === null)('names the missing CUDA provider library and where it should be', () => {
    expect(cudaMissing).toMatch(/libonnxruntime_providers_cuda\.so is not installed in .*bin[/\\]napi-v6[/\\]linux[/\\]x64/);
  });
});

describe('createSession fallbacks (real onnxruntime)', () => {
  it.skipIf(cudaMissing === null)("'cuda' without the CUDA provider falls back to cpu, reason recorded", async () => {
    const s = await createSession(CLASSIFIER, { provider: 'cuda' });
    try {
      expect(s.provider).toBe('cpu');
      expect(s.fallbacks).toEqual([{ provider: 'cuda', reason: cudaMissing }]);
      await runsOnce(s.session);
    } finally {
      await s.session.release();
    }
  });

  it.skipIf(cudaMissing === null || webgpuSkipped === null)("'auto' without CUDA or a hardware Vulkan driver (this machine) skips both and runs on cpu", async () => {
    // Here Mesa is installed: lavapipe, plus manifests for intel/radeon/... with no GPU device node.
    expect(webgpuSkipped).toMatch(/software Vulkan drivers .*libvulkan_lvp\.so.*slower than the CPU provider/);
    const s = await createSession(CLASSIFIER, { provider: 'auto' });
    try {
      expect(s.provider).toBe('cpu');
      expect(s.fallbacks).toEqual([{ provider: 'cuda', reason: cudaMissing }, { provider: 'webgpu', reason: webgpuSkipped }]);
      await runsOnce(s.session);
    } finally {
      await s.session.release();
    }
  });

  it.skipIf(cudaMissing === null || process.platform !== 'linux')("'auto' with only lavapipe's manifest (VK_DRIVER_FILES) skips webgpu with the software-driver reason", async () => {
    const tmp = tempDir();
    const saved = { VK_DRIVER_FILES: process.env.VK_DRIVER_FILES };
    try {
      const lvp = join(tmp.path, 'lvp_icd.json');
      writeFileSync(lvp, JSON.stringify({ file_format_version: '1.0.0', ICD: { library_path: 'libvulkan_lvp.so', api_version: '1.4.305' } }));
      process.env.VK_DRIVER_FILES = lvp; // read by the check only: webgpu is not tried, so Dawn never sees it
      const s = await createSession(CLASSIFIER, { provider: 'auto' });
      try {
        expect(s.provider).toBe('cpu');
        expect(s.fallbacks.map((f) => f.provider)).toEqual(['cuda', 'webgpu']);
        expect(s.fallbacks[1]!.reason).toMatch(/^(only software Vulkan drivers are installed \(libvulkan_lvp\.so\): WebGPU on them is slower than the CPU provider|no Vulkan loader)/);
      } finally {
        await s.session.release();
      }
    } finally {
      if (saved.VK_DRIVER_FILES === undefined) delete process.env.VK_DRIVER_FILES;
      else process.env.VK_DRIVER_FILES = saved.VK_DRIVER_FILES;
      tmp.remove();
    }
  });

  it('the default request is auto', async () => {
    const s = await createSession(CLASSIFIER);
    try {
      if (cudaMissing === null) expect(s.provider).toBe('cuda');
      else if (webgpuSkipped !== null) expect(s.provider).toBe('cpu');
      else expect(['webgpu', 'cpu']).toContain(s.provider);
    } finally {
      await s.session.release();
    }
  });

  it("'cpu' runs on cpu with no fallbacks", async () => {
    const s = await createSession(CLASSIFIER, { provider: 'cpu', intraOpThreads: 1 });
    try {
      expect(s).toMatchObject({ provider: 'cpu', fallbacks: [] });
      await runsOnce(s.session);
    } finally {
      await s.session.release();
    }
  });

  it("'webgpu' with no Vulkan driver falls back to cpu with onnxruntime's reason", () => {
    const tmp = tempDir();
    try {
      const script = join(tmp.path, 'probe.mjs');
      writeFileSync(script, [
        `import { createSession } from ${JSON.stringify(pathToFileURL(join(ROOT, 'native-models', 'runtime', 'session.ts')).href)};`,
        `const s = await createSession(${JSON.stringify(CLASSIFIER)}, { provider: 'webgpu' });`,
        `import { createRequire } from 'node:module';`,
        `const ort = createRequire(${JSON.stringify(join(ROOT, 'package.json'))})('onnxruntime-node');`,
        `const out = await s.session.run({ input: new ort.Tensor('float32', new Float32Array(3 * 64 * 64), [1, 3, 64, 64]) });`,
        `console.log('RESULT ' + JSON.stringify({ provider: s.provider, fallbacks: s.fallbacks, ran: out.logits.dims }));`,
      ].join('\n'));
      const r = spawnSync(process.execPath, [script], {
        cwd: ROOT,
        encoding: 'utf8',
        env: { ...process.env, VK_ICD_FILENAMES: join(tmp.path, 'no-such-driver.json'), VK_DRIVER_FILES: join(tmp.path, 'no-such-driver.json') },
        timeout: 60_000,
      });
      expect(r.status, r.stderr).toBe(0);
      const line = r.stdout.split('\n').find((l) => l.startsWith('RESULT '));
      const res = JSON.parse(line!.slice(7)) as { provider: string; fallbacks: { provider: string; reason: string }[]; ran: number[] };
      expect(res.provider).toBe('cpu');
      expect(res.fallbacks).toHaveLength(1);
      expect(res.fallbacks[0]!.provider).toBe('webgpu');
      expect(res.fallbacks[0]!.reason).toMatch(/adapter/i);
      expect(res.ran).toEqual([1, 10]);
    } finally {
      tmp.remove();
    }
  });

  it('a model that cpu cannot load is an error naming the model, with the providers tried before', async () => {
    const tmp = tempDir();
    try {
      const bad = join(tmp.path, 'broken.onnx');
      writeFileSync(bad, Buffer.from('this is not an onnx model'));
      await expect(createSession(bad, { provider: 'cpu' })).rejects.toThrow(/broken\.onnx: onnxruntime cannot load the model/);
      if (cudaMissing !== null) {
        await expect(createSession(bad, { provider: 'cuda' })).rejects.toThrow(/also tried cuda: the CUDA provider library/);
      }
    } finally {
      tmp.remove();
    }
  });
});

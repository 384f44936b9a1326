import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import {
  DiffusionLayoutError, DiffusionPipeline, inspectGraph, PromptTooLongError, readDiffusionLayout, resolveRoles,
} from '../../../native-models/diffusion/index.ts';
import { tempDir } from '../../helpers/temp-dir.ts';

const FIXTURE = new URL('../../fixtures/diffusion/tiny-sd', import.meta.url).pathname;
const FP16_UNET = new URL('../../fixtures/diffusion/unet_fp16io.onnx', import.meta.url).pathname;
const FIXED2_UNET = new URL('../../fixtures/diffusion/unet_fixed2.onnx', import.meta.url).pathname;
const ref = JSON.parse(readFileSync(new URL('../../fixtures/diffusion/tiny_sd_ref.json', import.meta.url), 'utf8')) as {
  input_ids: number[][];
  timestep: number;
  hidden_states: number[];
  out_sample: number[];
  vae_sample: number[];
};

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string, tol = 1e-4): void {
  expect(actual.length, what).toBe(expected.length);
  let worst = 0;
  for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(actual[i] - expected[i]) / (1 + Math.abs(expected[i])));
  expect(worst, what).toBeLessThan(tol);
}

const opts = { provider: 'cpu' as const, intraOpThreads: 1 };
let pipe: DiffusionPipeline;
let tmp: { path: string; remove(): void };

function copyFixture(name: string): string {
  const dir = join(tmp.path, name);
  cpSync(FIXTURE, dir, { recursive: true });
  return dir;
}

beforeAll(async () => {
  tmp = tempDir('factorlab-diffusion-');
  pipe = await DiffusionPipeline.load(FIXTURE, opts);
});
afterAll(async () => {
  await pipe?.release();
  tmp?.remove();
});

describe('tiny SD fixture: ONNX runs against torch', () => {
  it('tokenizes with model_max_length 77 and the pad token of special_tokens_map', () => {
    expect(pipe.maxLength).toBe(77);
    expect(pipe.padId).toBe(49407);
    expect(pipe.tokenize(['', 'a photo of a star'])).toEqual(ref.input_ids);
  });

  it('text encoder, one UNet call and one VAE decode match torch (1e-4)', async () => {
    const enc = await pipe.encodeText(ref.input_ids);
    expect(enc.hidden).toBe(32);
    expectClose(enc.data, ref.hidden_states, 'hidden states');
    const lat = Float32Array.from({ length: 256 }, (_, i) => Math.sin(0.37 * i + 0.2));
    const both = new Float32Array(512);
    both.set(lat, 0);
    both.set(lat, 256);
    const out = await pipe.runUnet(both, [2, 4, 8, 8], ref.timestep, enc.data, enc.hidden);
    expectClose(out, ref.out_sample, 'unet out_sample');
    const dec = await pipe.decode(Float32Array.from(lat, (x) => x / 0.18215), [1, 4, 8, 8]);
    expect(dec.dims).toEqual([1, 3, 32, 32]);
    expectClose(dec.data, ref.vae_sample, 'vae sample');
  });
});

describe('generate', () => {
  it('writes a PNG of the model size, identical for the same seed, different for another seed', async () => {
    const a = await pipe.generate({ prompts: ['a photo of a star'], seed: 11, steps: 4 });
    const b = await pipe.generate({ prompts: ['a photo of a star'], seed: 11, steps: 4 });
    const c = await pipe.generate({ prompts: ['a photo of a star'], seed: 12, steps: 4 });
    expect(a.images).toHaveLength(1);
    const meta = await sharp(a.images[0].png).metadata();
    expect([meta.format, meta.width, meta.height, meta.channels]).toEqual(['png', 32, 32, 3]);
    expect(a.images[0].png.equals(b.images[0].png)).toBe(true);
    expect(a.images[0].png.equals(c.images[0].png)).toBe(false);
    // the fixture's scheduler_config is SD 1.5's PNDM (PLMS)
    expect(a.scheduler.name).toBe('pndm');
    expect(a.scheduler.fallback).toBeNull();
    // a freshly loaded pipeline gives the same bytes
    const again = await DiffusionPipeline.load(FIXTURE, opts);
    try {
      const d = await again.generate({ prompts: ['a photo of a star'], seed: 11, steps: 4 });
      expect(d.images[0].png.equals(a.images[0].png)).toBe(true);
    } finally {
      await again.release();
    }
  });

  it('runs every scheduler, batches prompts x n with per-image seeds, reports progress', async () => {
    for (const scheduler of ['ddim', 'euler', 'euler_a', 'dpmpp_2m', 'lcm', 'pndm', 'DPMSolverMultistepScheduler']) {
      const progress: number[] = [];
      const r = await pipe.generate({ prompts: ['a star', 'a red heart'], n: 2, seed: 5, steps: 3, scheduler, negativePrompt: 'blurry', onProgress: (s, t) => progress.push(s / t) });
      expect(r.images.map((i) => [i.prompt, i.seed, i.negativePrompt])).toEqual([
        ['a star', 5, 'blurry'], ['a star', 6, 'blurry'], ['a red heart', 7, 'blurry'], ['a red heart', 8, 'blurry'],
      ]);
      expect(progress.at(-1), scheduler).toBe(1);
      expect(new Set(r.images.map((i) => i.png.toString('base64'))).size, scheduler).toBe(4);
    }
    // guidance <= 1: conditional branch only; explicit size
    const g1 = await pipe.generate({ prompts: ['a star'], guidance: 1, steps: 2, width: 48, height: 64 });
    const meta = await sharp(g1.images[0].png).metadata();
    expect([meta.width, meta.height]).toEqual([48, 64]);
    await expect(pipe.generate({ prompts: ['a star'], width: 30 })).rejects.toThrow(/multiple of 4/);
    await expect(pipe.generate({ prompts: ['a star'], scheduler: 'heun' })).rejects.toThrow(/unknown scheduler/);
  });

  it('cancels through an AbortSignal', async () => {
    const ac = new AbortController();
    const seen: number[] = [];
    const run = pipe.generate({ prompts: ['a star'], steps: 10, signal: ac.signal, onProgress: (s) => { seen.push(s); if (s === 2) ac.abort(); } });
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
    expect(seen).toEqual([1, 2]);
  });

  it('refuses a prompt longer than 77 tokens unless truncation is allowed', async () => {
    const long = Array.from({ length: 90 }, (_, i) => `word${i}`).join(' ');
    await expect(pipe.generate({ prompts: [long], steps: 1 })).rejects.toThrow(PromptTooLongError);
    await expect(pipe.generate({ prompts: [long], steps: 1 })).rejects.toThrow(/more than the model's 77/);
    const r = await pipe.generate({ prompts: [long], steps: 1, truncate: true });
    expect(r.images).toHaveLength(1);
    const row = pipe.tokenize([long], true)[0];
    expect(row).toHaveLength(77);
    expect(row[76]).toBe(49407);
  });

  it('names the step when the latents turn NaN or infinite', async () => {
    await expect(pipe.generate({ prompts: ['a star'], steps: 3, guidance: 1e39 })).rejects.toThrow(/NaN or infinity (in the latents after|at) step \d+ of \d+ \(timestep \d+/);
  });
});

describe('layout', () => {
  it('names the missing part and its path', async () => {
    for (const [rel, part] of [['unet/model.onnx', 'unet'], ['vae_decoder/model.onnx', 'vae decoder'], ['text_encoder/model.onnx', 'text encoder'], ['tokenizer/merges.txt', 'tokenizer merges'], ['scheduler/scheduler_config.json', 'scheduler config'], ['model_index.json', 'model_index.json']] as const) {
      const dir = copyFixture(`missing-${rel.replace(/\W/g, '_')}`);
      rmSync(join(dir, rel));
      let err: unknown;
      try {
        await DiffusionPipeline.load(dir, opts);
      } catch (e) {
        err = e;
      }
      expect(err, rel).toBeInstanceOf(DiffusionLayoutError);
      expect((err as DiffusionLayoutError).part).toBe(part);
      expect((err as Error).message).toContain(join(dir, rel));
      expect((err as Error).message).toMatch(/missing/);
    }
    expect(() => readDiffusionLayout(join(tmp.path, 'nope'))).toThrow(/not a folder/);
  });

  it('reads configs: vae scale factor from block_out_channels, scaling factor, unet config', () => {
    const l = readDiffusionLayout(FIXTURE);
    expect(l.vae).toEqual({ scalingFactor: 0.18215, scaleFactor: 4, latentChannels: 4 });
    expect(l.unet).toEqual({ sampleSize: 8, inChannels: 4, crossAttentionDim: 32 });
    expect(l.schedulerClass).toBe('PNDMScheduler');
    expect(l.files.vaeEncoder).not.toBeNull();
  });

  it('checks the parts against each other', async () => {
    const l = readDiffusionLayout(FIXTURE);
    const graphs = {
      textEncoder: await inspectGraph(l.files.textEncoder, null),
      unet: await inspectGraph(l.files.unet, null),
      vaeDecoder: await inspectGraph(l.files.vaeDecoder, null),
    };
    expect(graphs.textEncoder.embeddingRows).toBe(49408);
    expect(() => resolveRoles(l, graphs, 49408)).not.toThrow();
    expect(() => resolveRoles(l, graphs, 50000)).toThrow(/50000 tokens but the text encoder's embedding has 49408 rows/);
    const hiddenWrong = { ...graphs, unet: { ...graphs.unet, inputs: graphs.unet.inputs.map((i) => (i.name === 'encoder_hidden_states' ? { ...i, shape: ['b', 77, 768] } : i)) } };
    expect(() => resolveRoles(l, hiddenWrong, 49408)).toThrow(/encoder_hidden_states has last dimension 768 but the text encoder's last_hidden_state has 32/);
    const dir = copyFixture('wrong-channels');
    writeFileSync(join(dir, 'unet', 'config.json'), JSON.stringify({ sample_size: 8, in_channels: 9, cross_attention_dim: 32 }));
    await expect(DiffusionPipeline.load(dir, opts)).rejects.toThrow(/sample has 4 channels but unet\/config.json says in_channels 9/);
  });

  it('runs a model whose scheduler_config names an unimplemented class as DDIM, and says so', async () => {
    const dir = copyFixture('unipc');
    const cfgPath = join(dir, 'scheduler', 'scheduler_config.json');
    writeFileSync(cfgPath, readFileSync(cfgPath, 'utf8').replace('PNDMScheduler', 'UniPCMultistepScheduler'));
    const p = await DiffusionPipeline.load(dir, opts);
    try {
      const r = await p.generate({ prompts: ['a star'], steps: 3 });
      expect(r.scheduler.name).toBe('ddim');
      expect(r.scheduler.fallback?.reason).toMatch(/UniPCMultistepScheduler is not implemented; DDIMScheduler runs with the same betas/);
      await expect(p.generate({ prompts: ['a star'], steps: 3, scheduler: 'UniPCMultistepScheduler' })).rejects.toThrow(/unknown scheduler/);
    } finally {
      await p.release();
    }
  });

  it('measures the VAE scale factor when vae_decoder/config.json is absent', async () => {
    const dir = copyFixture('no-vae-config');
    rmSync(join(dir, 'vae_decoder', 'config.json'));
    expect(readDiffusionLayout(dir).vae.scaleFactor).toBeNull();
    const p = await DiffusionPipeline.load(dir, opts);
    try {
      expect(p.vaeScaleFactor).toBe(4);
      const r = await p.generate({ prompts: ['a star'], steps: 2 });
      expect([r.width, r.height]).toEqual([32, 32]);
    } finally {
      await p.release();
    }
  });

  it('splits UNet and VAE calls with maxBatch without changing the images', async () => {
    const p = await DiffusionPipeline.load(FIXTURE, { ...opts, maxBatch: 1 });
    try {
      const a = await p.generate({ prompts: ['a star', 'a red heart'], n: 2, seed: 9, steps: 3 });
      const b = await pipe.generate({ prompts: ['a star', 'a red heart'], n: 2, seed: 9, steps: 3 });
      for (let k = 0; k < 4; k++) {
        const x = await sharp(a.images[k].png).raw().toBuffer();
        const y = await sharp(b.images[k].png).raw().toBuffer();
        let diff = 0;
        for (let i = 0; i < x.length; i++) diff = Math.max(diff, Math.abs(x[i] - y[i]));
        expect(diff).toBeLessThanOrEqual(1);
      }
    } finally {
      await p.release();
    }
    await expect(DiffusionPipeline.load(FIXTURE, { ...opts, maxBatch: 0 })).rejects.toThrow(/maxBatch/);
  });

  it('pads with "!" (id 0) when the tokenizer says so (SD 2.x)', async () => {
    const dir = copyFixture('pad-bang');
    writeFileSync(join(dir, 'tokenizer', 'special_tokens_map.json'), JSON.stringify({ pad_token: '!' }));
    const p = await DiffusionPipeline.load(dir, opts);
    try {
      expect(p.padId).toBe(0);
      expect(p.tokenize(['a star'])[0].slice(0, 6)).toEqual([49406, 320, 1565, 49407, 0, 0]);
    } finally {
      await p.release();
    }
  });

  it('feeds fp16 inputs and a float32 [1] timestep, and reads fp16 outputs', async () => {
    const dir = copyFixture('fp16io');
    rmSync(join(dir, 'unet', 'weights.pb'));
    copyFileSync(FP16_UNET, join(dir, 'unet', 'model.onnx'));
    const p = await DiffusionPipeline.load(dir, opts);
    try {
      expect([p.roles.unetSample.dtype, p.roles.unetTimestep.dtype, p.roles.unetOut.dtype]).toEqual(['float16', 'float32', 'float16']);
      const enc = await p.encodeText(ref.input_ids);
      const lat = Float32Array.from({ length: 512 }, (_, i) => Math.sin(0.37 * (i % 256) + 0.2));
      const out = await p.runUnet(lat, [2, 4, 8, 8], ref.timestep, enc.data, enc.hidden);
      expectClose(out, ref.out_sample, 'fp16 unet out_sample', 5e-3);
      const r = await p.generate({ prompts: ['a photo of a star'], seed: 3, steps: 3 });
      const r32 = await pipe.generate({ prompts: ['a photo of a star'], seed: 3, steps: 3 });
      const a = await sharp(r.images[0].png).raw().toBuffer();
      const b = await sharp(r32.images[0].png).raw().toBuffer();
      let diff = 0;
      for (let i = 0; i < a.length; i++) diff = Math.max(diff, Math.abs(a[i] - b[i]));
      expect(diff).toBeLessThanOrEqual(3);
    } finally {
      await p.release();
    }
  });

  it('honours a fixed UNet batch (chunks, padding the last) and a scalar int32 timestep', async () => {
    const dir = copyFixture('fixed2');
    rmSync(join(dir, 'unet', 'weights.pb'));
    copyFileSync(FIXED2_UNET, join(dir, 'unet', 'model.onnx'));
    const p = await DiffusionPipeline.load(dir, opts);
    const maxDiff = async (x: Buffer, y: Buffer) => {
      const a = await sharp(x).raw().toBuffer();
      const b = await sharp(y).raw().toBuffer();
      let d = 0;
      for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
      return d;
    };
    try {
      expect(p.roles.unetTimestep).toMatchObject({ dtype: 'int32', shape: [] });
      expect(p.roles.unetSample.shape?.[0]).toBe(2);
      for (const o of [{ prompts: ['a star'], guidance: 1 }, { prompts: ['a star', 'a heart', 'a tree'], guidance: 7 }]) {
        const a = await p.generate({ ...o, seed: 4, steps: 3 });
        const b = await pipe.generate({ ...o, seed: 4, steps: 3 });
        expect(a.images).toHaveLength(o.prompts.length);
        for (let k = 0; k < a.images.length; k++) expect(await maxDiff(a.images[k].png, b.images[k].png)).toBeLessThanOrEqual(1);
      }
    } finally {
      await p.release();
    }
  });
});

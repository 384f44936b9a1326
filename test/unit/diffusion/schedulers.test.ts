import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { byName, parseLenientJson, resolveScheduler, SCHEDULER_NAMES, LCMScheduler, SchedulerConfigError } from '../../../native-models/diffusion/schedulers/index.ts';
import { createRng } from '../../../native-models/diffusion/random.ts';

interface Case {
  scheduler: string;
  configName: string;
  config: Record<string, unknown>;
  steps: number;
  timesteps: number[];
  sigmas?: number[];
  init_noise_sigma: number;
  scaled: number[][];
  outputs: number[][];
  denoised?: number[][];
}

const refs = JSON.parse(readFileSync(new URL('../../fixtures/diffusion/scheduler_refs.json', import.meta.url), 'utf8')) as { length: number; cases: Case[] };
const N = refs.length;

function modelOut(k: number): Float32Array {
  return Float32Array.from({ length: N }, (_, i) => 0.8 * Math.cos(0.3 * i - 0.9 * k) + 0.1 * Math.sin(1.7 * i + k));
}
function noise(k: number): Float32Array {
  return Float32Array.from({ length: N }, (_, i) => Math.sin(1.1 * i + 2.3 * k + 0.5) * 1.3);
}

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string, rel = 1e-5, abs = 1e-6): void {
  expect(actual.length, what).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const e = expected[i];
    if (!(Math.abs(a - e) <= abs + rel * Math.abs(e))) throw new Error(`${what}[${i}]: got ${a}, expected ${e}`);
  }
}

describe('schedulers against the numpy reference (diffusers formulas)', () => {
  for (const c of refs.cases) {
    it(`${c.scheduler} / ${c.configName} / ${c.steps} steps`, () => {
      const s = byName(c.scheduler, c.config);
      s.setTimesteps(c.steps);
      expectClose(s.timesteps, c.timesteps, 'timesteps', 0, 0);
      if (c.sigmas) expectClose((s as unknown as { sigmas: number[] }).sigmas, c.sigmas, 'sigmas', 1e-9, 1e-12);
      expect(s.initNoiseSigma).toBeCloseTo(c.init_noise_sigma, 6);
      let x: Float32Array = Float32Array.from({ length: N }, (_, i) => Math.sin(0.7 * i + 0.1) * s.initNoiseSigma);
      s.timesteps.forEach((t, k) => {
        expectClose(s.scaleModelInput(x, t), c.scaled[k], `scaled step ${k}`);
        x = s.step(modelOut(k), t, x, () => noise(k));
        expectClose(x, c.outputs[k], `step ${k}`);
        if (c.denoised) expectClose((s as LCMScheduler).denoised!, c.denoised[k], `denoised ${k}`);
      });
    });
  }
});

describe('scheduler factory and config', () => {
  it('knows short names and diffusers class names', () => {
    expect(SCHEDULER_NAMES).toEqual(['ddim', 'euler', 'euler_a', 'dpmpp_2m', 'lcm', 'pndm']);
    expect(byName('PNDMScheduler').name).toBe('pndm');
    expect(byName('EulerAncestralDiscreteScheduler').name).toBe('euler_a');
    expect(byName('DPMSolverMultistepScheduler').className).toBe('DPMSolverMultistepScheduler');
    expect(() => byName('heun')).toThrow(/unknown scheduler "heun"/);
  });

  it('runs PNDM (PLMS with skip_prk_steps, as SD 1.5 configures it) and falls back to DDIM only for a model config naming an unimplemented class', () => {
    const cfg = { _class_name: 'PNDMScheduler', beta_start: 0.00085, beta_end: 0.012, beta_schedule: 'scaled_linear', steps_offset: 1, set_alpha_to_one: false, skip_prk_steps: true, clip_sample: false };
    const r = resolveScheduler('PNDMScheduler', cfg);
    expect(r.scheduler.className).toBe('PNDMScheduler');
    expect(r.fallback).toBeNull();
    r.scheduler.setTimesteps(10);
    expect(r.scheduler.timesteps).toEqual([901, 801, 801, 701, 601, 501, 401, 301, 201, 101, 1]);
    const f = resolveScheduler('UniPCMultistepScheduler', cfg, { fallback: true });
    expect(f.scheduler.className).toBe('DDIMScheduler');
    expect(f.fallback).toMatchObject({ requested: 'UniPCMultistepScheduler', used: 'ddim' });
    f.scheduler.setTimesteps(10);
    expect(f.scheduler.timesteps).toEqual([901, 801, 701, 601, 501, 401, 301, 201, 101, 1]);
    expect(() => resolveScheduler('UniPCMultistepScheduler', cfg)).toThrow(/unknown scheduler/);
  });

  it('reads the -Infinity Python writes for lambda_min_clipped', () => {
    const cfg = parseLenientJson('{"_class_name": "DPMSolverMultistepScheduler", "lambda_min_clipped": -Infinity, "note": "-Infinity stays text", "x": NaN}') as Record<string, unknown>;
    expect(cfg.lambda_min_clipped).toBeNull();
    expect(cfg.note).toBe('-Infinity stays text');
    const s = byName('dpmpp_2m', cfg);
    s.setTimesteps(4);
    expect(s.timesteps).toEqual([999, 749, 500, 250]);
    expect(byName('dpmpp_2m', { lambda_min_clipped: -Infinity }).config.lambdaMinClipped).toBe(-Infinity);
  });

  it('ignores unknown keys and refuses invalid values with the key named', () => {
    expect(() => byName('ddim', { some_future_key: 3, _class_name: 'DDIMScheduler' })).not.toThrow();
    expect(() => byName('ddim', { beta_schedule: 'exotic' })).toThrow(SchedulerConfigError);
    expect(() => byName('euler', { prediction_type: 'x0' })).toThrow(/prediction_type/);
    expect(() => byName('euler', { timestep_spacing: 'random' })).toThrow(/timestep_spacing/);
    expect(() => byName('ddim', { num_train_timesteps: -5 })).toThrow(/num_train_timesteps/);
    expect(() => byName('dpmpp_2m', { algorithm_type: 'sde-dpmsolver++' })).toThrow(/algorithm_type/);
    expect(() => byName('euler', { use_karras_sigmas: true })).toThrow(/use_karras_sigmas/);
    expect(() => byName('euler', { interpolation_type: 'log_linear' })).toThrow(/interpolation_type/);
    expect(() => byName('pndm', { prediction_type: 'sample' })).toThrow(/sample/);
    expect(() => byName('ddim', 'nope')).toThrow(/JSON object/);
    const s = byName('ddim');
    expect(() => s.setTimesteps(0)).toThrow(/positive integer/);
    // leading spacing + steps_offset 1 with 1000 steps reaches t = 1000 (diffusers fails there too)
    expect(() => byName('ddim', { steps_offset: 1 }).setTimesteps(1000)).toThrow(/give timestep 1000, outside 0..999: use fewer steps/);
    expect(() => byName('pndm', { steps_offset: 1, skip_prk_steps: true }).setTimesteps(1000)).toThrow(/outside 0..999/);
    expect(() => byName('euler', { steps_offset: 1, timestep_spacing: 'leading' }).setTimesteps(1000)).not.toThrow();
  });

  it('ancestral steps draw from a seeded RNG deterministically', () => {
    const run = (seed: number) => {
      const s = byName('euler_a', { beta_schedule: 'scaled_linear', beta_start: 0.00085, beta_end: 0.012 });
      s.setTimesteps(4);
      const rng = createRng(seed);
      let x: Float32Array = rng.randn(N);
      for (const t of s.timesteps) x = s.step(modelOut(0), t, s.scaleModelInput(x, t), rng);
      return x;
    };
    expect(run(7)).toEqual(run(7));
    expect(run(7)).not.toEqual(run(8));
    const s = byName('euler_a');
    s.setTimesteps(2);
    expect(() => s.step(modelOut(0), s.timesteps[0], modelOut(1))).toThrow(/needs noise/);
  });
});

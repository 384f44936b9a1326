// LCM (diffusers LCMScheduler): consistency-model steps over a skipping schedule taken from
// original_inference_steps; each step but the last re-noises the denoised prediction.
import {
  alphasCumprodOf, checkLengths, checkSteps, drawNoise, parseSchedulerConfig, predictX0,
  type NoiseSource, type Scheduler, type SchedulerConfig,
} from './common.ts';

export class LCMScheduler implements Scheduler {
  readonly name = 'lcm';
  readonly className = 'LCMScheduler';
  readonly config: SchedulerConfig;
  timesteps: number[] = [];
  initNoiseSigma = 1;
  private readonly alphasCumprod: Float64Array;
  private readonly finalAlphaCumprod: number;
  private stepIndex: number | null = null;
  /** The denoised prediction of the last step (what the LCM pipeline decodes). */
  denoised: Float32Array | null = null;

  constructor(raw: unknown = {}) {
    this.config = parseSchedulerConfig(raw, { timestepSpacing: 'leading', setAlphaToOne: true, betaStart: 0.00085, betaEnd: 0.012, betaSchedule: 'scaled_linear' });
    this.alphasCumprod = alphasCumprodOf(this.config);
    this.finalAlphaCumprod = this.config.setAlphaToOne ? 1 : this.alphasCumprod[0];
  }

  setTimesteps(n: number): void {
    checkSteps(n, this.config);
    const orig = this.config.originalInferenceSteps;
    if (n > orig) throw new RangeError(`LCMScheduler: ${n} steps is more than original_inference_steps (${orig})`);
    const k = Math.floor(this.config.numTrainTimesteps / orig);
    const origin = Array.from({ length: orig }, (_, i) => (i + 1) * k - 1).reverse();
    this.timesteps = Array.from({ length: n }, (_, i) => origin[Math.floor((i * orig) / n)]);
    this.stepIndex = null;
    this.denoised = null;
  }

  scaleModelInput(sample: Float32Array): Float32Array {
    return sample;
  }

  step(modelOutput: Float32Array, t: number, sample: Float32Array, noise?: NoiseSource): Float32Array {
    checkLengths(modelOutput, sample);
    const cfg = this.config;
    if (this.timesteps.length === 0) throw new Error('LCMScheduler: call setTimesteps first');
    if (this.stepIndex === null) {
      const hits = this.timesteps.flatMap((x, i) => (x === t ? [i] : []));
      if (hits.length === 0) throw new RangeError(`LCMScheduler: timestep ${t} is not one of the scheduled timesteps`);
      this.stepIndex = hits.length > 1 ? hits[1] : hits[0];
    }
    const i = this.stepIndex;
    const prevT = i + 1 < this.timesteps.length ? this.timesteps[i + 1] : t;
    const a = this.alphasCumprod[t];
    const aPrev = prevT >= 0 ? this.alphasCumprod[prevT] : this.finalAlphaCumprod;
    const scaled = t * cfg.timestepScaling;
    const sd2 = 0.25; // sigma_data = 0.5
    const cSkip = sd2 / (scaled * scaled + sd2);
    const cOut = scaled / Math.sqrt(scaled * scaled + sd2);
    const last = i === this.timesteps.length - 1;
    const z = last ? null : drawNoise(noise, sample.length, this.className);
    const denoised = new Float32Array(sample.length);
    const out = new Float32Array(sample.length);
    const r = cfg.clipSampleRange;
    for (let k = 0; k < sample.length; k++) {
      let x0 = predictX0(cfg.predictionType, modelOutput[k], sample[k], a);
      if (cfg.clipSample) x0 = Math.min(r, Math.max(-r, x0));
      const d = cOut * x0 + cSkip * sample[k];
      denoised[k] = d;
      out[k] = z ? Math.sqrt(aPrev) * d + Math.sqrt(1 - aPrev) * z[k] : d;
    }
    this.denoised = denoised;
    this.stepIndex = i + 1;
    return out;
  }
}

// DDIM (diffusers DDIMScheduler), eta = 0 by default; eta > 0 adds seeded noise.
import {
  alphasCumprodOf, checkLengths, checkSteps, checkTimesteps, ddimTimesteps, drawNoise, parseSchedulerConfig, predictX0,
  type NoiseSource, type Scheduler, type SchedulerConfig,
} from './common.ts';

export class DDIMScheduler implements Scheduler {
  readonly name: string = 'ddim';
  readonly className: string = 'DDIMScheduler';
  readonly config: SchedulerConfig;
  timesteps: number[] = [];
  initNoiseSigma = 1;
  protected readonly alphasCumprod: Float64Array;
  protected readonly finalAlphaCumprod: number;
  protected numInferenceSteps = 0;

  constructor(raw: unknown = {}) {
    this.config = parseSchedulerConfig(raw, { timestepSpacing: 'leading', setAlphaToOne: true, clipSample: true });
    this.alphasCumprod = alphasCumprodOf(this.config);
    this.finalAlphaCumprod = this.config.setAlphaToOne ? 1 : this.alphasCumprod[0];
  }

  setTimesteps(n: number): void {
    checkSteps(n, this.config);
    this.numInferenceSteps = n;
    const ts = ddimTimesteps(this.config, n);
    checkTimesteps(ts, this.config, n);
    this.timesteps = ts;
  }

  scaleModelInput(sample: Float32Array): Float32Array {
    return sample;
  }

  step(modelOutput: Float32Array, t: number, sample: Float32Array, noise?: NoiseSource): Float32Array {
    checkLengths(modelOutput, sample);
    if (this.numInferenceSteps === 0) throw new Error('DDIMScheduler: call setTimesteps first');
    const cfg = this.config;
    const prevT = t - Math.floor(cfg.numTrainTimesteps / this.numInferenceSteps);
    const a = this.alphasCumprod[t];
    if (a === undefined) throw new RangeError(`DDIMScheduler: timestep ${t} is outside 0..${cfg.numTrainTimesteps - 1}`);
    const aPrev = prevT >= 0 ? this.alphasCumprod[prevT] : this.finalAlphaCumprod;
    const b = 1 - a;
    const variance = ((1 - aPrev) / b) * (1 - a / aPrev);
    const std = cfg.eta * Math.sqrt(variance);
    const z = std > 0 ? drawNoise(noise, sample.length, 'DDIMScheduler') : null;
    const out = new Float32Array(sample.length);
    const r = cfg.clipSampleRange;
    for (let i = 0; i < sample.length; i++) {
      const m = modelOutput[i];
      const x = sample[i];
      let x0 = predictX0(cfg.predictionType, m, x, a);
      let eps = cfg.predictionType === 'epsilon' ? m : cfg.predictionType === 'sample' ? (x - Math.sqrt(a) * m) / Math.sqrt(b) : Math.sqrt(a) * m + Math.sqrt(b) * x;
      if (cfg.clipSample) x0 = Math.min(r, Math.max(-r, x0));
      if (std > 0 && cfg.clipSample) eps = (x - Math.sqrt(a) * x0) / Math.sqrt(b); // use_clipped_model_output when eta > 0
      let prev = Math.sqrt(aPrev) * x0 + Math.sqrt(Math.max(0, 1 - aPrev - std * std)) * eps;
      if (z) prev += std * z[i];
      out[i] = prev;
    }
    return out;
  }
}

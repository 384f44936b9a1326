// Euler (diffusers EulerDiscreteScheduler, s_churn = 0) and Euler ancestral
// (EulerAncestralDiscreteScheduler). Both work in the sigma (variance-exploding) parametrisation:
// sigma_t = sqrt((1 - alphas_cumprod_t) / alphas_cumprod_t), timesteps interpolated into it.
import {
  alphasCumprodOf, checkLengths, checkSteps, drawNoise, eulerTimesteps, interpIndex, parseSchedulerConfig,
  type NoiseSource, type Scheduler, type SchedulerConfig,
} from './common.ts';

abstract class EulerBase implements Scheduler {
  abstract readonly name: string;
  abstract readonly className: string;
  readonly config: SchedulerConfig;
  timesteps: number[] = [];
  initNoiseSigma: number;
  sigmas: number[] = [];
  protected readonly trainSigmas: Float64Array;
  protected stepIndex: number | null = null;

  constructor(raw: unknown) {
    this.config = parseSchedulerConfig(raw, { timestepSpacing: 'linspace' });
    const acp = alphasCumprodOf(this.config);
    this.trainSigmas = Float64Array.from(acp, (a) => Math.sqrt((1 - a) / a));
    this.initNoiseSigma = this.initSigmaFrom(this.trainSigmas[this.trainSigmas.length - 1]);
  }

  private initSigmaFrom(maxSigma: number): number {
    return this.config.timestepSpacing === 'linspace' || this.config.timestepSpacing === 'trailing' ? maxSigma : Math.sqrt(maxSigma * maxSigma + 1);
  }

  setTimesteps(n: number): void {
    checkSteps(n, this.config);
    this.timesteps = eulerTimesteps(this.config, n);
    this.sigmas = [...this.timesteps.map((t) => interpIndex(t, this.trainSigmas)), 0];
    this.initNoiseSigma = this.initSigmaFrom(Math.max(...this.sigmas));
    this.stepIndex = null;
  }

  /** diffusers' index_for_timestep: the first match, or the second when t occurs twice. */
  protected indexFor(t: number): number {
    const hits: number[] = [];
    this.timesteps.forEach((x, i) => x === t && hits.push(i));
    if (hits.length === 0) throw new RangeError(`${this.className}: timestep ${t} is not one of the scheduled timesteps`);
    return hits.length > 1 ? hits[1] : hits[0];
  }

  protected currentIndex(t: number): number {
    if (this.timesteps.length === 0) throw new Error(`${this.className}: call setTimesteps first`);
    if (this.stepIndex === null) this.stepIndex = this.indexFor(t);
    return this.stepIndex;
  }

  scaleModelInput(sample: Float32Array, t: number): Float32Array {
    const sigma = this.sigmas[this.currentIndex(t)];
    const s = 1 / Math.sqrt(sigma * sigma + 1);
    return Float32Array.from(sample, (x) => x * s);
  }

  protected x0(m: number, x: number, sigma: number): number {
    const p = this.config.predictionType;
    if (p === 'epsilon') return x - sigma * m;
    if (p === 'v_prediction') return m * (-sigma / Math.sqrt(sigma * sigma + 1)) + x / (sigma * sigma + 1);
    return m;
  }

  abstract step(modelOutput: Float32Array, t: number, sample: Float32Array, noise?: NoiseSource): Float32Array;
}

export class EulerDiscreteScheduler extends EulerBase {
  readonly name = 'euler';
  readonly className = 'EulerDiscreteScheduler';

  constructor(raw: unknown = {}) {
    super(raw);
  }

  step(modelOutput: Float32Array, t: number, sample: Float32Array): Float32Array {
    checkLengths(modelOutput, sample);
    const i = this.currentIndex(t);
    const sigma = this.sigmas[i];
    const dt = this.sigmas[i + 1] - sigma;
    const out = new Float32Array(sample.length);
    for (let k = 0; k < sample.length; k++) {
      const x = sample[k];
      const d = (x - this.x0(modelOutput[k], x, sigma)) / sigma;
      out[k] = x + d * dt;
    }
    this.stepIndex = i + 1;
    return out;
  }
}

export class EulerAncestralDiscreteScheduler extends EulerBase {
  readonly name = 'euler_a';
  readonly className = 'EulerAncestralDiscreteScheduler';

  constructor(raw: unknown = {}) {
    super(raw);
    if (this.config.predictionType === 'sample') throw new Error('EulerAncestralDiscreteScheduler: prediction_type "sample" is not supported (as in diffusers)');
  }

  step(modelOutput: Float32Array, t: number, sample: Float32Array, noise?: NoiseSource): Float32Array {
    checkLengths(modelOutput, sample);
    const i = this.currentIndex(t);
    const from = this.sigmas[i];
    const to = this.sigmas[i + 1];
    const up = Math.sqrt((to * to * (from * from - to * to)) / (from * from));
    const down = Math.sqrt(to * to - up * up);
    const dt = down - from;
    const z = drawNoise(noise, sample.length, this.className);
    const out = new Float32Array(sample.length);
    for (let k = 0; k < sample.length; k++) {
      const x = sample[k];
      const d = (x - this.x0(modelOutput[k], x, from)) / from;
      out[k] = x + d * dt + z[k] * up;
    }
    this.stepIndex = i + 1;
    return out;
  }
}

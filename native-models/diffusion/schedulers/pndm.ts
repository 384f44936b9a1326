// PNDM (diffusers PNDMScheduler): Runge-Kutta warm-up steps (PRK) then linear multistep (PLMS);
// with skip_prk_steps (Stable Diffusion 1.x's config) only PLMS runs, its first step taken twice
// (so n steps make n + 1 model calls: `timesteps` has n + 1 entries).
import {
  alphasCumprodOf, checkLengths, checkSteps, checkTimesteps, parseSchedulerConfig, roundHalfEven,
  type Scheduler, type SchedulerConfig,
} from './common.ts';

const PNDM_ORDER = 4;

export class PNDMScheduler implements Scheduler {
  readonly name = 'pndm';
  readonly className = 'PNDMScheduler';
  readonly config: SchedulerConfig;
  timesteps: number[] = [];
  initNoiseSigma = 1;
  private readonly skipPrk: boolean;
  private readonly alphasCumprod: Float64Array;
  private readonly finalAlphaCumprod: number;
  private n = 0;
  private prkTimesteps: number[] = [];
  private ets: Float64Array[] = [];
  private counter = 0;
  private curModelOutput: Float64Array | null = null;
  private curSample: Float64Array | null = null;

  constructor(raw: unknown = {}) {
    this.config = parseSchedulerConfig(raw, { timestepSpacing: 'leading', setAlphaToOne: false });
    if (this.config.predictionType === 'sample') throw new Error('PNDMScheduler: prediction_type "sample" is not supported (as in diffusers)');
    const r = raw as Record<string, unknown>;
    if (r.skip_prk_steps !== undefined && r.skip_prk_steps !== null && typeof r.skip_prk_steps !== 'boolean') throw new Error(`scheduler config: skip_prk_steps must be true or false, got ${JSON.stringify(r.skip_prk_steps)}`);
    this.skipPrk = r.skip_prk_steps === true;
    this.alphasCumprod = alphasCumprodOf(this.config);
    this.finalAlphaCumprod = this.config.setAlphaToOne ? 1 : this.alphasCumprod[0];
  }

  setTimesteps(n: number): void {
    checkSteps(n, this.config);
    const cfg = this.config;
    const T = cfg.numTrainTimesteps;
    this.n = n;
    let base: number[]; // ascending
    if (cfg.timestepSpacing === 'linspace') {
      base = Array.from({ length: n }, (_, i) => roundHalfEven(n === 1 ? 0 : ((T - 1) * i) / (n - 1)));
    } else if (cfg.timestepSpacing === 'leading') {
      const ratio = Math.floor(T / n);
      base = Array.from({ length: n }, (_, i) => i * ratio + cfg.stepsOffset);
    } else {
      const ratio = T / n;
      base = [];
      for (let i = 0; T - i * ratio > 0; i++) base.push(roundHalfEven(T - i * ratio));
      base = base.reverse().map((t) => t - 1);
    }
    let plms: number[];
    if (this.skipPrk) {
      this.prkTimesteps = [];
      plms = [...base.slice(0, -1), ...base.slice(-2, -1), ...base.slice(-1)].reverse();
    } else {
      const half = Math.floor(Math.floor(T / n) / 2);
      const last = base.slice(-PNDM_ORDER);
      const prk: number[] = [];
      for (const t of last) prk.push(t, t + half); // repeat(2) + tile([0, half])
      const inner = prk.slice(0, -1).flatMap((t) => [t, t]).slice(1, -1);
      this.prkTimesteps = inner.reverse();
      plms = base.slice(0, Math.max(0, base.length - 3)).reverse();
    }
    checkTimesteps([...this.prkTimesteps, ...plms], cfg, n);
    this.timesteps = [...this.prkTimesteps, ...plms];
    this.ets = [];
    this.counter = 0;
    this.curModelOutput = null;
    this.curSample = null;
  }

  scaleModelInput(sample: Float32Array): Float32Array {
    return sample;
  }

  private prevSample(sample: ArrayLike<number>, t: number, prevT: number, modelOutput: ArrayLike<number>): Float32Array {
    const a = this.alphasCumprod[t];
    if (a === undefined) throw new RangeError(`PNDMScheduler: timestep ${t} is outside 0..${this.config.numTrainTimesteps - 1}`);
    const aPrev = prevT >= 0 ? this.alphasCumprod[prevT] : this.finalAlphaCumprod;
    const b = 1 - a;
    const bPrev = 1 - aPrev;
    const sampleCoeff = Math.sqrt(aPrev / a);
    const denom = a * Math.sqrt(bPrev) + Math.sqrt(a * b * aPrev);
    const v = this.config.predictionType === 'v_prediction';
    const out = new Float32Array(sample.length);
    for (let k = 0; k < sample.length; k++) {
      const m = v ? Math.sqrt(a) * modelOutput[k] + Math.sqrt(b) * sample[k] : modelOutput[k];
      out[k] = sampleCoeff * sample[k] - ((aPrev - a) * m) / denom;
    }
    return out;
  }

  step(modelOutput: Float32Array, t: number, sample: Float32Array): Float32Array {
    checkLengths(modelOutput, sample);
    if (this.n === 0) throw new Error('PNDMScheduler: call setTimesteps first');
    if (this.counter < this.prkTimesteps.length && !this.skipPrk) return this.stepPrk(modelOutput, t, sample);
    return this.stepPlms(modelOutput, t, sample);
  }

  private stepPrk(modelOutput: Float32Array, t: number, sample: Float32Array): Float32Array {
    const T = this.config.numTrainTimesteps;
    const diff = this.counter % 2 ? 0 : Math.floor(Math.floor(T / this.n) / 2);
    const prevT = t - diff;
    const tt = this.prkTimesteps[Math.floor(this.counter / 4) * 4];
    const m = Float64Array.from(modelOutput);
    let use: Float64Array = m;
    const phase = this.counter % 4;
    if (phase === 0) {
      this.curModelOutput = Float64Array.from(m, (x) => x / 6);
      this.ets.push(m);
      this.curSample = Float64Array.from(sample);
    } else if (phase === 1 || phase === 2) {
      const c = this.curModelOutput!;
      for (let k = 0; k < c.length; k++) c[k] += m[k] / 3;
    } else {
      const c = this.curModelOutput!;
      use = Float64Array.from(m, (x, k) => c[k] + x / 6);
      this.curModelOutput = null;
    }
    const cur = this.curSample ?? sample;
    const out = this.prevSample(cur, tt, prevT, use);
    this.counter++;
    return out;
  }

  private stepPlms(modelOutput: Float32Array, t: number, sample: Float32Array): Float32Array {
    const T = this.config.numTrainTimesteps;
    const ratio = Math.floor(T / this.n);
    if (!this.skipPrk && this.ets.length < 3) throw new Error('PNDMScheduler: PLMS needs 3 warm-up (PRK) steps first; use at least 4 steps or skip_prk_steps');
    let prevT = t - ratio;
    let tt = t;
    const m = Float64Array.from(modelOutput);
    if (this.counter !== 1) {
      this.ets = this.ets.slice(-3);
      this.ets.push(m);
    } else {
      prevT = t;
      tt = t + ratio;
    }
    const e = this.ets;
    const L = e.length;
    let use: ArrayLike<number>;
    let x: ArrayLike<number> = sample;
    if (L === 1 && this.counter === 0) {
      use = m;
      this.curSample = Float64Array.from(sample);
    } else if (L === 1 && this.counter === 1) {
      use = Float64Array.from(m, (v, k) => (v + e[L - 1][k]) / 2);
      x = this.curSample!;
      this.curSample = null;
    } else if (L === 2) {
      use = Float64Array.from(m, (_, k) => (3 * e[1][k] - e[0][k]) / 2);
    } else if (L === 3) {
      use = Float64Array.from(m, (_, k) => (23 * e[2][k] - 16 * e[1][k] + 5 * e[0][k]) / 12);
    } else {
      use = Float64Array.from(m, (_, k) => (55 * e[3][k] - 59 * e[2][k] + 37 * e[1][k] - 9 * e[0][k]) / 24);
    }
    const out = this.prevSample(x, tt, prevT, use);
    this.counter++;
    return out;
  }
}

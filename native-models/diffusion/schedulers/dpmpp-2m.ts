// DPM-Solver++ 2M: diffusers DPMSolverMultistepScheduler with algorithm_type "dpmsolver++",
// solver_type "midpoint", solver_order 2 (or 1), lower_order_final, final_sigmas_type zero|sigma_min.
// The model output is turned into a predicted x0 ("data prediction") and a linear multistep
// update is taken in lambda = log(alpha_t / sigma_t).
import {
  alphasCumprodOf, checkLengths, checkSteps, interpIndex, parseSchedulerConfig, roundHalfEven,
  type Scheduler, type SchedulerConfig,
} from './common.ts';

function alphaSigma(sigma: number): [number, number] {
  const alpha = 1 / Math.sqrt(sigma * sigma + 1);
  return [alpha, sigma * alpha];
}

function lambdaOf(sigma: number): number {
  const [a, s] = alphaSigma(sigma);
  return Math.log(a) - Math.log(s);
}

export class DPMSolverMultistepScheduler implements Scheduler {
  readonly name = 'dpmpp_2m';
  readonly className = 'DPMSolverMultistepScheduler';
  readonly config: SchedulerConfig;
  timesteps: number[] = [];
  initNoiseSigma = 1;
  sigmas: number[] = [];
  private readonly trainSigmas: Float64Array;
  private stepIndex: number | null = null;
  private modelOutputs: (Float64Array | null)[] = [];
  private lowerOrderNums = 0;

  constructor(raw: unknown = {}) {
    this.config = parseSchedulerConfig(raw, { timestepSpacing: 'linspace', setAlphaToOne: true });
    if (this.config.algorithmType !== 'dpmsolver++') throw new Error(`DPMSolverMultistepScheduler: algorithm_type "${this.config.algorithmType}" is not supported (only dpmsolver++)`);
    if (this.config.solverType !== 'midpoint') throw new Error(`DPMSolverMultistepScheduler: solver_type "${this.config.solverType}" is not supported (only midpoint)`);
    const acp = alphasCumprodOf(this.config);
    this.trainSigmas = Float64Array.from(acp, (a) => Math.sqrt((1 - a) / a));
  }

  setTimesteps(n: number): void {
    checkSteps(n, this.config);
    const cfg = this.config;
    const T = cfg.numTrainTimesteps;
    // lambda_min_clipped: the timesteps whose lambda is below it are left out at the top
    let clipped = 0;
    for (const sg of this.trainSigmas) if (lambdaOf(sg) < cfg.lambdaMinClipped) clipped++;
    const lastT = T - clipped;
    let ts: number[];
    if (cfg.timestepSpacing === 'linspace') {
      ts = [];
      for (let i = 0; i <= n; i++) ts.push(roundHalfEven(((lastT - 1) * i) / n));
      ts = ts.reverse().slice(0, n);
    } else if (cfg.timestepSpacing === 'leading') {
      const ratio = Math.floor(lastT / (n + 1));
      ts = Array.from({ length: n + 1 }, (_, i) => i * ratio).reverse().slice(0, n).map((t) => t + cfg.stepsOffset);
    } else {
      const ratio = T / n;
      ts = [];
      for (let j = 0; lastT - j * ratio > 0; j++) ts.push(roundHalfEven(lastT - j * ratio) - 1);
    }
    this.timesteps = ts;
    const last = cfg.finalSigmasType === 'zero' ? 0 : this.trainSigmas[0];
    this.sigmas = [...ts.map((t) => interpIndex(t, this.trainSigmas)), last];
    this.modelOutputs = new Array<Float64Array | null>(cfg.solverOrder).fill(null);
    this.lowerOrderNums = 0;
    this.stepIndex = null;
  }

  scaleModelInput(sample: Float32Array): Float32Array {
    return sample;
  }

  step(modelOutput: Float32Array, t: number, sample: Float32Array): Float32Array {
    checkLengths(modelOutput, sample);
    const cfg = this.config;
    if (this.timesteps.length === 0) throw new Error('DPMSolverMultistepScheduler: call setTimesteps first');
    if (this.stepIndex === null) {
      const hits = this.timesteps.flatMap((x, i) => (x === t ? [i] : []));
      if (hits.length === 0) throw new RangeError(`DPMSolverMultistepScheduler: timestep ${t} is not one of the scheduled timesteps`);
      this.stepIndex = hits.length > 1 ? hits[1] : hits[0];
    }
    const i = this.stepIndex;
    const n = this.timesteps.length;
    const lowerOrderFinal = i === n - 1 && (cfg.eulerAtFinal || (cfg.lowerOrderFinal && n < 15) || cfg.finalSigmasType === 'zero');
    const lowerOrderSecond = i === n - 2 && cfg.lowerOrderFinal && n < 15;
    void lowerOrderSecond; // only changes the choice for order 3

    // convert_model_output: data prediction x0
    const [alphaS0, sigmaS0] = alphaSigma(this.sigmas[i]);
    const x0 = new Float64Array(sample.length);
    for (let k = 0; k < sample.length; k++) {
      const m = modelOutput[k];
      const x = sample[k];
      x0[k] = cfg.predictionType === 'epsilon' ? (x - sigmaS0 * m) / alphaS0 : cfg.predictionType === 'sample' ? m : alphaS0 * x - sigmaS0 * m;
    }
    this.modelOutputs.shift();
    this.modelOutputs.push(x0);

    const sigmaT = this.sigmas[i + 1];
    const [alphaT] = alphaSigma(sigmaT);
    const [, sigT] = alphaSigma(sigmaT);
    const lambdaT = lambdaOf(sigmaT);
    const lambdaS0 = lambdaOf(this.sigmas[i]);
    const h = lambdaT - lambdaS0;
    const expm = Math.exp(-h) - 1;
    const ratio = sigT / sigmaS0;
    const out = new Float32Array(sample.length);
    if (cfg.solverOrder === 1 || this.lowerOrderNums < 1 || lowerOrderFinal) {
      for (let k = 0; k < sample.length; k++) out[k] = ratio * sample[k] - alphaT * expm * x0[k];
    } else {
      const m1 = this.modelOutputs[this.modelOutputs.length - 2]!;
      const lambdaS1 = lambdaOf(this.sigmas[i - 1]);
      const r0 = (lambdaS0 - lambdaS1) / h;
      for (let k = 0; k < sample.length; k++) {
        const d0 = x0[k];
        const d1 = (x0[k] - m1[k]) / r0;
        out[k] = ratio * sample[k] - alphaT * expm * d0 - 0.5 * alphaT * expm * d1;
      }
    }
    if (this.lowerOrderNums < cfg.solverOrder) this.lowerOrderNums++;
    this.stepIndex = i + 1;
    return out;
  }
}

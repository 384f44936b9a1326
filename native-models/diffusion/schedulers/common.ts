// What every scheduler shares: the config (a diffusers scheduler_config.json object), the beta
// schedule, timestep spacing, and the interface. All arithmetic is float64; samples come and go as
// float32 arrays (as the ONNX models use them).
import type { Rng } from '../random.ts';

/** Noise for ancestral / LCM steps: a seeded RNG, or a function giving `length` standard normals. */
export type NoiseSource = Rng | ((length: number) => Float32Array);

export interface Scheduler {
  /** Short name (ddim, euler, euler_a, dpmpp_2m, lcm). */
  readonly name: string;
  /** The diffusers class this follows. */
  readonly className: string;
  readonly config: SchedulerConfig;
  /** Set by setTimesteps: the model timesteps, in the order they are run. */
  timesteps: number[];
  /** Standard deviation of the initial noise (latents = randn * initNoiseSigma). */
  initNoiseSigma: number;
  setTimesteps(numInferenceSteps: number): void;
  scaleModelInput(sample: Float32Array, t: number): Float32Array;
  step(modelOutput: Float32Array, t: number, sample: Float32Array, noise?: NoiseSource): Float32Array;
}

export type BetaSchedule = 'linear' | 'scaled_linear' | 'squaredcos_cap_v2';
export type PredictionType = 'epsilon' | 'v_prediction' | 'sample';
export type TimestepSpacing = 'leading' | 'trailing' | 'linspace';

export interface SchedulerConfig {
  numTrainTimesteps: number;
  betaStart: number;
  betaEnd: number;
  betaSchedule: BetaSchedule;
  trainedBetas: number[] | null;
  predictionType: PredictionType;
  timestepSpacing: TimestepSpacing;
  stepsOffset: number;
  setAlphaToOne: boolean;
  clipSample: boolean;
  clipSampleRange: number;
  /** DDIM eta (0 = deterministic DDIM). */
  eta: number;
  // DPM-Solver
  solverOrder: number;
  lowerOrderFinal: boolean;
  eulerAtFinal: boolean;
  /** DPM-Solver algorithm_type / solver_type as given (only dpmsolver++ / midpoint are implemented). */
  algorithmType: string;
  solverType: string;
  finalSigmasType: 'zero' | 'sigma_min';
  /** DPM-Solver: clip lambda(t) from below (-Infinity: no clipping). */
  lambdaMinClipped: number;
  // LCM
  originalInferenceSteps: number;
  timestepScaling: number;
}

/** Per-scheduler defaults (diffusers' __init__ defaults differ by class). */
export type ConfigDefaults = Partial<SchedulerConfig>;

export class SchedulerConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SchedulerConfigError';
  }
}

const BASE: SchedulerConfig = {
  numTrainTimesteps: 1000,
  betaStart: 0.0001,
  betaEnd: 0.02,
  betaSchedule: 'linear',
  trainedBetas: null,
  predictionType: 'epsilon',
  timestepSpacing: 'leading',
  stepsOffset: 0,
  setAlphaToOne: true,
  clipSample: false,
  clipSampleRange: 1,
  eta: 0,
  solverOrder: 2,
  lowerOrderFinal: true,
  eulerAtFinal: false,
  algorithmType: 'dpmsolver++',
  solverType: 'midpoint',
  finalSigmasType: 'zero',
  lambdaMinClipped: -Infinity,
  originalInferenceSteps: 50,
  timestepScaling: 10,
};

function num(raw: Record<string, unknown>, key: string, fallback: number, check: (x: number) => boolean, what: string): number {
  const v = raw[key];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || !check(v)) throw new SchedulerConfigError(`scheduler config: ${key} must be ${what}, got ${JSON.stringify(v)}`);
  return v;
}

function bool(raw: Record<string, unknown>, key: string, fallback: boolean): boolean {
  const v = raw[key];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'boolean') throw new SchedulerConfigError(`scheduler config: ${key} must be true or false, got ${JSON.stringify(v)}`);
  return v;
}

function oneOf<T extends string>(raw: Record<string, unknown>, key: string, fallback: T, allowed: readonly T[]): T {
  const v = raw[key];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
    throw new SchedulerConfigError(`scheduler config: ${key} must be one of ${allowed.join(', ')}, got ${JSON.stringify(v)}`);
  }
  return v as T;
}

/**
 * Reads a diffusers scheduler_config.json object (snake_case keys). Unknown keys are ignored;
 * known keys with invalid values, and features this implementation does not have (thresholding,
 * Karras sigmas, zero-SNR rescaling), are refused with a message naming the key.
 */
export function parseSchedulerConfig(raw: unknown, defaults: ConfigDefaults = {}): SchedulerConfig {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new SchedulerConfigError('scheduler config must be a JSON object');
  const r = raw as Record<string, unknown>;
  const d: SchedulerConfig = { ...BASE, ...defaults };
  if (r.interpolation_type !== undefined && r.interpolation_type !== null && r.interpolation_type !== 'linear') {
    throw new SchedulerConfigError(`scheduler config: interpolation_type ${JSON.stringify(r.interpolation_type)} is not supported (only linear)`);
  }
  if (r.timestep_type !== undefined && r.timestep_type !== null && r.timestep_type !== 'discrete') {
    throw new SchedulerConfigError(`scheduler config: timestep_type ${JSON.stringify(r.timestep_type)} is not supported (only discrete)`);
  }
  for (const key of ['thresholding', 'use_karras_sigmas', 'use_exponential_sigmas', 'use_beta_sigmas', 'rescale_betas_zero_snr', 'use_lu_lambdas']) {
    if (r[key] === true) throw new SchedulerConfigError(`scheduler config: ${key}=true is not supported`);
  }
  let trainedBetas: number[] | null = null;
  if (Array.isArray(r.trained_betas)) {
    if (!r.trained_betas.every((b) => typeof b === 'number' && b > 0 && b < 1)) throw new SchedulerConfigError('scheduler config: trained_betas must be numbers in (0, 1)');
    trainedBetas = r.trained_betas as number[];
  } else if (r.trained_betas !== undefined && r.trained_betas !== null) {
    throw new SchedulerConfigError(`scheduler config: trained_betas must be a list or null, got ${JSON.stringify(r.trained_betas)}`);
  }
  const numTrainTimesteps = trainedBetas ? trainedBetas.length : num(r, 'num_train_timesteps', d.numTrainTimesteps, (x) => Number.isInteger(x) && x >= 2, 'an integer >= 2');
  const cfg: SchedulerConfig = {
    numTrainTimesteps,
    betaStart: num(r, 'beta_start', d.betaStart, (x) => x > 0 && x < 1, 'a number in (0, 1)'),
    betaEnd: num(r, 'beta_end', d.betaEnd, (x) => x > 0 && x < 1, 'a number in (0, 1)'),
    betaSchedule: oneOf(r, 'beta_schedule', d.betaSchedule, ['linear', 'scaled_linear', 'squaredcos_cap_v2'] as const),
    trainedBetas,
    predictionType: oneOf(r, 'prediction_type', d.predictionType, ['epsilon', 'v_prediction', 'sample'] as const),
    timestepSpacing: oneOf(r, 'timestep_spacing', d.timestepSpacing, ['leading', 'trailing', 'linspace'] as const),
    stepsOffset: num(r, 'steps_offset', d.stepsOffset, (x) => Number.isInteger(x) && x >= 0, 'a non-negative integer'),
    setAlphaToOne: bool(r, 'set_alpha_to_one', d.setAlphaToOne),
    clipSample: bool(r, 'clip_sample', d.clipSample),
    clipSampleRange: num(r, 'clip_sample_range', d.clipSampleRange, (x) => x > 0, 'a positive number'),
    eta: num(r, 'eta', d.eta, (x) => x >= 0, 'a non-negative number'),
    solverOrder: num(r, 'solver_order', d.solverOrder, (x) => x === 1 || x === 2, '1 or 2 (order 3 is not implemented)'),
    lowerOrderFinal: bool(r, 'lower_order_final', d.lowerOrderFinal),
    eulerAtFinal: bool(r, 'euler_at_final', d.eulerAtFinal),
    algorithmType: typeof r.algorithm_type === 'string' ? r.algorithm_type : d.algorithmType,
    solverType: typeof r.solver_type === 'string' ? r.solver_type : d.solverType,
    finalSigmasType: oneOf(r, 'final_sigmas_type', d.finalSigmasType, ['zero', 'sigma_min'] as const),
    // Python writes -inf as -Infinity, which parseLenientJson turns into null: the default
    lambdaMinClipped: r.lambda_min_clipped === -Infinity ? -Infinity : num(r, 'lambda_min_clipped', d.lambdaMinClipped, () => true, 'a number'),
    originalInferenceSteps: num(r, 'original_inference_steps', d.originalInferenceSteps, (x) => Number.isInteger(x) && x >= 1, 'a positive integer'),
    timestepScaling: num(r, 'timestep_scaling', d.timestepScaling, (x) => x > 0, 'a positive number'),
  };
  if (cfg.betaEnd < cfg.betaStart) throw new SchedulerConfigError(`scheduler config: beta_end (${cfg.betaEnd}) is below beta_start (${cfg.betaStart})`);
  return cfg;
}

/**
 * JSON.parse, also accepting the NaN / Infinity / -Infinity that Python's json module writes
 * (diffusers saves lambda_min_clipped: -Infinity): outside strings they become null.
 */
export function parseLenientJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    const fixed = text.replace(/"(?:[^"\\]|\\.)*"|-?\bInfinity\b|\bNaN\b/g, (m) => (m.startsWith('"') ? m : 'null'));
    if (fixed === text) throw e;
    return JSON.parse(fixed);
  }
}

function linspace(start: number, end: number, n: number): number[] {
  if (n === 1) return [start];
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(start + ((end - start) * i) / (n - 1));
  return out;
}

export function betasOf(cfg: SchedulerConfig): Float64Array {
  const n = cfg.numTrainTimesteps;
  if (cfg.trainedBetas) return Float64Array.from(cfg.trainedBetas);
  if (cfg.betaSchedule === 'linear') return Float64Array.from(linspace(cfg.betaStart, cfg.betaEnd, n));
  if (cfg.betaSchedule === 'scaled_linear') return Float64Array.from(linspace(Math.sqrt(cfg.betaStart), Math.sqrt(cfg.betaEnd), n), (x) => x * x);
  const alphaBar = (t: number) => Math.cos(((t + 0.008) / 1.008) * Math.PI / 2) ** 2;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.min(1 - alphaBar((i + 1) / n) / alphaBar(i / n), 0.999);
  return out;
}

export function alphasCumprodOf(cfg: SchedulerConfig): Float64Array {
  const betas = betasOf(cfg);
  const out = new Float64Array(betas.length);
  let p = 1;
  for (let i = 0; i < betas.length; i++) {
    p *= 1 - betas[i];
    out[i] = p;
  }
  return out;
}

/** numpy's round: half to even. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** DDIM-style integer timesteps (DDIM, PNDM, LCM-less schedulers), descending. */
export function ddimTimesteps(cfg: SchedulerConfig, n: number): number[] {
  const T = cfg.numTrainTimesteps;
  if (cfg.timestepSpacing === 'linspace') return linspace(0, T - 1, n).map(roundHalfEven).reverse();
  if (cfg.timestepSpacing === 'leading') {
    const ratio = Math.floor(T / n);
    return Array.from({ length: n }, (_, i) => i * ratio + cfg.stepsOffset).reverse();
  }
  const ratio = T / n;
  const out: number[] = [];
  for (let i = 0; T - i * ratio > 0; i++) out.push(roundHalfEven(T - i * ratio) - 1);
  return out;
}

/** Euler-family float timesteps, descending. */
export function eulerTimesteps(cfg: SchedulerConfig, n: number): number[] {
  const T = cfg.numTrainTimesteps;
  if (cfg.timestepSpacing === 'linspace') return linspace(0, T - 1, n).reverse();
  if (cfg.timestepSpacing === 'leading') {
    const ratio = Math.floor(T / n);
    return Array.from({ length: n }, (_, i) => i * ratio + cfg.stepsOffset).reverse();
  }
  const ratio = T / n;
  const out: number[] = [];
  for (let i = 0; T - i * ratio > 0; i++) out.push(roundHalfEven(T - i * ratio) - 1);
  return out;
}

/** np.interp(x, arange(len(ys)), ys). */
export function interpIndex(x: number, ys: Float64Array): number {
  if (x <= 0) return ys[0];
  if (x >= ys.length - 1) return ys[ys.length - 1];
  const i = Math.floor(x);
  const f = x - i;
  return ys[i] + (ys[i + 1] - ys[i]) * f;
}

export function checkSteps(n: number, cfg: SchedulerConfig): void {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`number of inference steps must be a positive integer, got ${n}`);
  if (n > cfg.numTrainTimesteps) throw new RangeError(`number of inference steps (${n}) cannot exceed num_train_timesteps (${cfg.numTrainTimesteps})`);
}

/** A schedule must stay inside the trained timesteps (leading spacing + steps_offset can leave it). */
export function checkTimesteps(ts: readonly number[], cfg: SchedulerConfig, n: number): void {
  const max = cfg.numTrainTimesteps - 1;
  const bad = ts.find((t) => t > max || t < 0);
  if (bad !== undefined) {
    throw new RangeError(`${n} steps with timestep_spacing ${cfg.timestepSpacing} and steps_offset ${cfg.stepsOffset} give timestep ${bad}, outside 0..${max}: use fewer steps`);
  }
}

export function checkLengths(modelOutput: Float32Array, sample: Float32Array): void {
  if (modelOutput.length !== sample.length) throw new RangeError(`model output has ${modelOutput.length} values, the sample ${sample.length}`);
}

export function drawNoise(noise: NoiseSource | undefined, length: number, who: string): Float32Array {
  if (!noise) throw new Error(`${who}.step needs noise (a seeded RNG or a noise function) for this step`);
  const out = typeof noise === 'function' ? noise(length) : noise.randn(length);
  if (out.length !== length) throw new RangeError(`${who}: the noise function gave ${out.length} values, expected ${length}`);
  return out;
}

/** Predicted x0 from a model output in the DDPM (alpha_cumprod) parametrisation. */
export function predictX0(predictionType: PredictionType, modelOutput: number, sample: number, alphaProd: number): number {
  const a = Math.sqrt(alphaProd);
  const b = Math.sqrt(1 - alphaProd);
  if (predictionType === 'epsilon') return (sample - b * modelOutput) / a;
  if (predictionType === 'sample') return modelOutput;
  return a * sample - b * modelOutput;
}

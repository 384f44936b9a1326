// Scheduler factory: by short name or diffusers class name.
import { DDIMScheduler } from './ddim.ts';
import { DPMSolverMultistepScheduler } from './dpmpp-2m.ts';
import { EulerAncestralDiscreteScheduler, EulerDiscreteScheduler } from './euler.ts';
import { LCMScheduler } from './lcm.ts';
import { PNDMScheduler } from './pndm.ts';
import type { Scheduler } from './common.ts';

export * from './common.ts';
export { DDIMScheduler, DPMSolverMultistepScheduler, EulerAncestralDiscreteScheduler, EulerDiscreteScheduler, LCMScheduler, PNDMScheduler };

const FACTORIES: Record<string, (config: unknown) => Scheduler> = {
  ddim: (c) => new DDIMScheduler(c),
  euler: (c) => new EulerDiscreteScheduler(c),
  euler_a: (c) => new EulerAncestralDiscreteScheduler(c),
  dpmpp_2m: (c) => new DPMSolverMultistepScheduler(c),
  lcm: (c) => new LCMScheduler(c),
  pndm: (c) => new PNDMScheduler(c),
};

const CLASS_NAMES: Record<string, string> = {
  DDIMScheduler: 'ddim',
  EulerDiscreteScheduler: 'euler',
  EulerAncestralDiscreteScheduler: 'euler_a',
  DPMSolverMultistepScheduler: 'dpmpp_2m',
  LCMScheduler: 'lcm',
  PNDMScheduler: 'pndm',
};

export const SCHEDULER_NAMES: readonly string[] = Object.keys(FACTORIES);

export interface ResolvedScheduler {
  scheduler: Scheduler;
  /** Set when the asked-for scheduler is not implemented and another one runs instead. */
  fallback: { requested: string; used: string; reason: string } | null;
}

/** The short name for a name or diffusers class name; throws on unknown names. */
export function resolveSchedulerName(name: string): string {
  if (FACTORIES[name]) return name;
  if (CLASS_NAMES[name]) return CLASS_NAMES[name];
  const known = [...Object.keys(FACTORIES), ...Object.keys(CLASS_NAMES)].join(', ');
  throw new Error(`unknown scheduler "${name}" (known: ${known})`);
}

export function byName(name: string, config: unknown = {}): Scheduler {
  return FACTORIES[resolveSchedulerName(name)](config);
}

/**
 * The scheduler for a name. With `fallback` (used for the class a model's scheduler_config.json
 * names, e.g. UniPCMultistepScheduler), a class this module does not implement runs as DDIM with
 * the same betas, and `fallback` says so; without it an unknown name throws.
 */
export function resolveScheduler(name: string, config: unknown = {}, options: { fallback?: boolean } = {}): ResolvedScheduler {
  let short: string;
  try {
    short = resolveSchedulerName(name);
  } catch (e) {
    if (!options.fallback) throw e;
    const scheduler = FACTORIES.ddim(config);
    return { scheduler, fallback: { requested: name, used: 'ddim', reason: `${name} is not implemented; ${scheduler.className} runs with the same betas` } };
  }
  return { scheduler: FACTORIES[short](config), fallback: null };
}

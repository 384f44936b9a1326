// Collective debugging (Chegini & Feizi): one generated set debugs every model of a group. Type 1
// pools the failures of all the group's models (their background votes are summed) to choose each
// class's backgrounds; type 2 takes one model's failures for all. Each model is also debugged on its
// own (individual debugging), and the report gives, per model, the share of its heldout failures
// fixed by the collective set relative to its own.
import type { DebugResult, GenerationSetDetail } from '../../contract.ts';
import type { Lab } from '../lab.ts';
import { apiCaller, runDebugLoop, type DebugLoopOptions } from './debug-loop.ts';
import { BadInputError } from '../errors.ts';

export interface GroupMember {
  debugRunId: number;
  trainRunId: number;
  testRunId: number;
}

export interface CollectiveOptions extends Omit<DebugLoopOptions, 'debugRunId' | 'trainRunId' | 'testRunId' | 'baseline'> {
  members: GroupMember[];
  type: 1 | 2;
  /** Type 2: the index in `members` whose failures debug everyone (default 0). */
  source?: number;
}

export interface CollectiveMemberResult {
  debugRunId: number;
  individual: DebugResult;
  collective: DebugResult;
  /** collective heldout gain / individual heldout gain (null when individual gained nothing). */
  shareFixed: number | null;
}

export interface CollectiveResult {
  type: 1 | 2;
  set: GenerationSetDetail;
  members: CollectiveMemberResult[];
}

export async function runCollective(lab: Lab, o: CollectiveOptions): Promise<CollectiveResult> {
  if (o.members.length < 2) throw new BadInputError(`a model group needs at least 2 runs, got ${o.members.length}`);
  const datasets = new Set(o.members.map((m) => (lab.db.prepare(`SELECT dataset_id FROM runs WHERE id = ?`).get(m.debugRunId) as { dataset_id: number } | undefined)?.dataset_id));
  if (datasets.size !== 1 || datasets.has(undefined)) throw new BadInputError('the runs of a model group must exist and be on one dataset (their failures are compared image by image)');
  const call = apiCaller(lab);
  const waitFor = async (jobId: number | null, what: string) => {
    if (jobId === null) return;
    await o.onJob?.(jobId);
    const job = await lab.jobs.wait(jobId);
    if (job.status !== 'done') throw new Error(`${what} ${job.status}: ${job.error ?? job.message ?? ''}`);
  };
  // Individual debugging of each member: its own attribution, set and retrained head.
  const own = [];
  for (const m of o.members) {
    o.log(`individual debugging of run ${m.debugRunId}`);
    own.push(await runDebugLoop(lab, { ...o, ...m, baseline: false }));
  }
  let set: GenerationSetDetail;
  if (o.type === 2) {
    set = own[o.source ?? 0]!.sets.individual;
  } else {
    const started = await call('generation.start', {
      attributionId: own[0]!.attribution.id,
      pooledWith: own.slice(1).map((r) => r.attribution.id),
      kind: 'individual',
      generator: o.generator,
      perPrompt: o.perPrompt,
      steps: o.steps,
      guidance: o.guidance,
      seed: o.seed,
    });
    await waitFor(started.jobId, 'generation (pooled failures)');
    set = await call('generation.get', { id: started.id });
    if (o.review === 'clip' && set.pending > 0) {
      await call('generation.autoReview', { setId: set.id, maxRank: o.filterRank });
      set = await call('generation.get', { id: started.id });
    }
  }
  const members: CollectiveMemberResult[] = [];
  for (const [i, m] of o.members.entries()) {
    const individual = own[i]!.result;
    const started = await call('debug.start', { ...individual.settings, individualSetId: set.id, randomSetId: null, k: null });
    let id = started.id;
    if (started.jobId !== null) {
      await o.onJob?.(started.jobId);
      const job = await lab.jobs.wait(started.jobId);
      if (job.status !== 'done') throw new Error(`collective retraining of run ${m.debugRunId} ${job.status}: ${job.error ?? job.message ?? ''}`);
      id = Number(job.resultRef!.split(':')[1]);
    }
    const collective = await call('debug.get', { id: id! });
    const g = individual.gain.individual.heldout;
    members.push({ debugRunId: m.debugRunId, individual, collective, shareFixed: g > 0 ? collective.gain.individual.heldout / g : null });
  }
  return { type: o.type, set, members };
}

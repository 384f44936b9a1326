// Which stored debug results belong to one sweep (the paper's Figure 5), shared by the core (reports,
// the CLI) and the renderer's sweep charts; zod-free like contract-names.ts, so both can import it.
import type { DebugSettings } from './contract.ts';

/** Same sets, runs, optimizer, epochs and seed: only λ and k may differ. */
export function sameSweep(a: DebugSettings, b: DebugSettings): boolean {
  return (
    a.attributionId === b.attributionId &&
    a.individualSetId === b.individualSetId &&
    a.randomSetId === b.randomSetId &&
    a.trainRunId === b.trainRunId &&
    a.testRunId === b.testRunId &&
    a.optimizer === b.optimizer &&
    a.epochs === b.epochs &&
    a.seed === b.seed
  );
}

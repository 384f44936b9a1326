// The Factors page's state lives in its URL (#/factors?source=..&runs=..&sets=..&tab=..): reading it,
// changing part of it, and the drill-down from a bar to the failing images that carry a factor.
import type { AnalysisSubject } from '../../../../electron/contract.ts';
import { format, navigate } from '../../lib/router.ts';
import { subjectKey } from '../../lib/subjects.ts';

export type FactorTab = 'ratios' | 'calibration' | 'failures' | 'cooccurrence';

/** Replaces some of the page's query parameters (null removes one). */
export function setFactorQuery(patch: Record<string, string | null>): void {
  const q = Object.fromEntries(new URLSearchParams(window.location.hash.split('?')[1] ?? '').entries()) as Record<string, string | null>;
  navigate(format(['factors'], { ...q, ...patch }), { replace: true });
}

/** A run's failures view filtered by the factor; for imported predictions (no run to open), the
 * list of failing files under the chart. */
export function drill(subject: AnalysisSubject, sourceId: number, factor: string): void {
  if (subject.kind === 'run') navigate(format(['runs', subject.id], { factor, source: sourceId }));
  else setFactorQuery({ open: subjectKey(subject), openFactor: factor });
}

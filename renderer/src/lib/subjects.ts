// What the ImageNet-X analytics evaluate: a run or an imported prediction set, written "r5" / "p3"
// in the URL. Pure: no DOM.
import type { AnalysisSubject } from '../../../electron/contract.ts';

export const subjectKey = (s: AnalysisSubject): string => `${s.kind === 'run' ? 'r' : 'p'}${s.id}`;

export function parseSubjectKey(key: string | null): AnalysisSubject | null {
  const m = /^([rp])(\d+)$/.exec(key ?? '');
  return m ? { kind: m[1] === 'r' ? 'run' : 'predictions', id: Number(m[2]) } : null;
}

/** Ids from a comma-separated URL value ("1,2,5"). */
export const idList = (v: string | null): number[] => (v ? v.split(',').map(Number).filter((n) => Number.isInteger(n) && n >= 0) : []);

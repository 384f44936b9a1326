// The Discovery view's numbers and orderings (Wiles et al. bug discovery): p / q values as the CLI
// prints them, the hypotheses table's sort, the compare table's filter, the α field. Pure: no DOM.
import type { DiscoveryComparison, DiscoveryHypothesis } from '../../../electron/contract.ts';

export type HypothesisStatus = DiscoveryHypothesis['status'];

/** Table order of the statuses: confirmed first, untested last. */
export const STATUS_ORDER: Record<HypothesisStatus, number> = { confirmed: 0, 'not-confirmed': 1, 'too-few-images': 2, pending: 3 };

export const STATUS_TEXT: Record<HypothesisStatus, string> = {
  confirmed: 'confirmed',
  'not-confirmed': 'not confirmed',
  'too-few-images': 'too few images',
  pending: 'pending',
};

/** A p- or q-value: 4 decimals, scientific below 1e-4, "–" when not tested. */
export function pvalue(x: number | null | undefined): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '–';
  if (x === 0) return '0';
  return x < 1e-4 ? x.toExponential(1) : x.toFixed(4);
}

/** A rate in [0, 1] as "41.7%" ("–" when there is no image to compute it on). */
export function ratePct(x: number | null | undefined): string {
  return x === null || x === undefined || !Number.isFinite(x) ? '–' : `${(100 * x).toFixed(1)}%`;
}

export type SortKey = 'status' | 'prompt' | 'class' | 'images' | 'rate' | 'lift' | 'p' | 'q';
export interface Sort {
  key: SortKey;
  dir: 'asc' | 'desc';
}

export const DEFAULT_SORT: Sort = { key: 'status', dir: 'asc' };

/** The direction a column starts in when first clicked: rates and lifts high first, p and q low first. */
export function firstDir(key: SortKey): Sort['dir'] {
  return key === 'rate' || key === 'lift' || key === 'images' ? 'desc' : 'asc';
}

/** The next sort after clicking a column header. */
export function nextSort(current: Sort, key: SortKey): Sort {
  if (current.key !== key) return { key, dir: firstDir(key) };
  return { key, dir: current.dir === 'asc' ? 'desc' : 'asc' };
}

/** Numbers that are null (untested, no image) sort last in both directions. */
function cmpNullable(a: number | null, b: number | null, dir: 1 | -1): number {
  if (a === null && b === null) return 0;
  if (a === null) return 1;
  if (b === null) return -1;
  return (a - b) * dir;
}

function lift(h: DiscoveryHypothesis): number | null {
  return h.failureRate === null || h.baseRate === null ? null : h.failureRate - h.baseRate;
}

/** Sorted copy; ties broken by status, then p, then prompt, then id (stable across reloads). */
export function sortHypotheses(list: readonly DiscoveryHypothesis[], sort: Sort): DiscoveryHypothesis[] {
  const d = sort.dir === 'asc' ? 1 : -1;
  const text = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  const primary = (a: DiscoveryHypothesis, b: DiscoveryHypothesis): number => {
    switch (sort.key) {
      case 'status':
        return (STATUS_ORDER[a.status] - STATUS_ORDER[b.status]) * d;
      case 'prompt':
        return text(a.prompt, b.prompt) * d;
      case 'class':
        return text(a.className, b.className) * d;
      case 'images':
        return (a.images - b.images) * d || (a.failures - b.failures) * d;
      case 'rate':
        return cmpNullable(a.failureRate, b.failureRate, d);
      case 'lift':
        return cmpNullable(lift(a), lift(b), d);
      case 'p':
        return cmpNullable(a.pValue, b.pValue, d);
      case 'q':
        return cmpNullable(a.qValue, b.qValue, d);
    }
  };
  return [...list].sort(
    (a, b) =>
      primary(a, b) ||
      STATUS_ORDER[a.status] - STATUS_ORDER[b.status] ||
      cmpNullable(a.pValue, b.pValue, 1) ||
      text(a.prompt, b.prompt) ||
      a.id - b.id,
  );
}

/** The α field: a number strictly between 0 and 1, else null (the report keeps the last valid one). */
export function parseAlpha(text: string): number | null {
  const t = text.trim();
  if (!/^(\d+\.?\d*|\.\d+)(e-?\d+)?$/i.test(t)) return null;
  const x = Number(t);
  return Number.isFinite(x) && x > 0 && x < 1 ? x : null;
}

/** Compare rows to show: all, or only the modes confirmed in at least two of the sessions. */
export function compareRows(c: DiscoveryComparison, sharedOnly: boolean): DiscoveryComparison['rows'] {
  return sharedOnly ? c.rows.filter((r) => r.confirmedIn >= 2) : c.rows;
}

/** Geometry of the rate-vs-base visual: x positions (px) in a track of `width`, rates in [0, 1]. */
export function rateGeometry(
  h: Pick<DiscoveryHypothesis, 'failureRate' | 'baseRate' | 'interval'>,
  width: number,
  pad = 4,
): { base: number | null; rate: number | null; lo: number | null; hi: number | null } {
  const x = (v: number | null | undefined) => (v === null || v === undefined || !Number.isFinite(v) ? null : pad + Math.max(0, Math.min(1, v)) * (width - 2 * pad));
  return { base: x(h.baseRate), rate: x(h.failureRate), lo: x(h.interval?.lo), hi: x(h.interval?.hi) };
}

// The paper's Figure 5 in the Patch view: the stored results that differ from a result only in λ
// (all backgrounds) or only in k (same λ), as in the core's sweepOf; the points still missing from
// the CLI's sweep (λ 0, 0.25, 0.5, 1, 2, 4; k 1..the attribution's k); the series drawn (heldout /
// test / seed accuracy of individual and random debugging) and the SVG / CSV exports. Pure: no DOM.
import type { DebugAccuracy, DebugSettings, DebugSummary } from '../../../electron/contract.ts';
import { accuracyText } from './patch-format.ts';
import { sameSweep } from '../../../electron/contract-sweeps.ts';

/** The CLI's `--sweep` λ values (debug-loop runSweeps). */
export const SWEEP_LAMBDAS = [0, 0.25, 0.5, 1, 2, 4] as const;

export type SweepParam = 'lambda' | 'k';

export interface SweepPoint {
  x: number;
  resultId: number;
  individual: DebugAccuracy;
  random: DebugAccuracy | null;
  images: number;
}

export interface Sweeps {
  lambda: SweepPoint[];
  k: SweepPoint[];
}

const point = (d: DebugSummary, x: number): SweepPoint => ({ x, resultId: d.id, individual: d.individual, random: d.random, images: d.generated.individual });

/** The λ sweep (k all, by λ) and the k sweep (λ of `base`, by k) among `results`; one point per value (the oldest result). */
export function sweepsOf(results: DebugSummary[], base: DebugSettings): Sweeps {
  const same = [...results].filter((d) => sameSweep(d.settings, base)).sort((a, b) => a.id - b.id);
  const uniq = (ps: SweepPoint[]) => ps.filter((p, i) => ps.findIndex((q) => q.x === p.x) === i).sort((a, b) => a.x - b.x);
  return {
    lambda: uniq(same.filter((d) => d.settings.k === null).map((d) => point(d, d.settings.lambda))),
    k: uniq(same.filter((d) => d.settings.lambda === base.lambda && d.settings.k !== null).map((d) => point(d, d.settings.k!))),
  };
}

/** The CLI's k values: 1..the attribution's k. */
export function sweepKs(attributionK: number): number[] {
  return Array.from({ length: Math.max(0, attributionK) }, (_, i) => i + 1);
}

/** The debug.start settings of the sweep points not stored yet: λ first, then k (the CLI's order). */
export function missingSweepPoints(sweeps: Sweeps, base: DebugSettings, attributionK: number): DebugSettings[] {
  const out: DebugSettings[] = [];
  for (const l of SWEEP_LAMBDAS) if (!sweeps.lambda.some((p) => p.x === l)) out.push({ ...base, lambda: l, k: null });
  for (const k of sweepKs(attributionK)) if (!sweeps.k.some((p) => p.x === k)) out.push({ ...base, k });
  return out;
}

export const SWEEP_SPLITS = ['heldout', 'test', 'seed'] as const satisfies readonly (keyof DebugAccuracy)[];
export const SWEEP_COLORS = { individual: '#3b6fd8', random: '#d8793b' } as const;
/** Line dash per split (heldout solid, test dashed, seed dotted); canvas and SVG. */
export const SWEEP_DASH: Record<(typeof SWEEP_SPLITS)[number], number[]> = { heldout: [], test: [6, 4], seed: [2, 3] };

export interface SweepSeries {
  label: string;
  row: 'individual' | 'random';
  split: (typeof SWEEP_SPLITS)[number];
  color: string;
  dash: number[];
  /** Accuracy per point, as a fraction. */
  values: number[];
}

/** Individual (and random, when every point has it) × heldout / test / seed. */
export function sweepSeries(points: SweepPoint[]): SweepSeries[] {
  const rows: ('individual' | 'random')[] = points.length && points.every((p) => p.random) ? ['individual', 'random'] : ['individual'];
  return rows.flatMap((row) =>
    SWEEP_SPLITS.map((split) => ({
      label: `${row} ${split}`,
      row,
      split,
      color: SWEEP_COLORS[row],
      dash: SWEEP_DASH[split],
      values: points.map((p) => (row === 'individual' ? p.individual[split] : p.random![split])),
    })),
  );
}

export function sweepTitle(param: SweepParam, lambda: number): string {
  return param === 'lambda' ? 'accuracy vs λ (all backgrounds)' : `accuracy vs k (top backgrounds per class, λ ${lambda})`;
}

export const paramName = (param: SweepParam): string => (param === 'lambda' ? 'λ' : 'k');

/** One row per point: the parameter, the result, each series' accuracy, the images trained on. */
export function sweepCsv(points: SweepPoint[], param: SweepParam): string {
  const series = sweepSeries(points);
  const lines = [[param, 'result', ...series.map((s) => s.label.replace(' ', '_')), 'images'].join(',')];
  points.forEach((p, i) => lines.push([p.x, p.resultId, ...series.map((s) => s.values[i]!.toFixed(6)), p.images].join(',')));
  return lines.join('\n') + '\n';
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** Accuracy (0–100 %) against the parameter, points evenly spaced (λ is not linear), legend on top. */
export function sweepSvg(points: SweepPoint[], param: SweepParam, title: string, width = 720, height = 360): string {
  const series = sweepSeries(points);
  const m = { left: 52, right: 16, top: 64, bottom: 40 };
  const w = width - m.left - m.right;
  const h = height - m.top - m.bottom;
  const px = (i: number) => m.left + (points.length > 1 ? i / (points.length - 1) : 0.5) * w;
  const py = (v: number) => m.top + h - Math.max(0, Math.min(1, v)) * h;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`);
  out.push(`<rect width="100%" height="100%" fill="#ffffff"/>`);
  out.push(`<text x="${m.left}" y="16" font-size="13">${esc(title)}</text>`);
  for (let t = 0; t <= 4; t++) {
    const v = t / 4;
    out.push(`<line x1="${m.left}" x2="${m.left + w}" y1="${py(v).toFixed(1)}" y2="${py(v).toFixed(1)}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${m.left - 6}" y="${(py(v) + 4).toFixed(1)}" text-anchor="end">${v * 100}%</text>`);
  }
  points.forEach((p, i) => out.push(`<text x="${px(i).toFixed(1)}" y="${height - 20}" text-anchor="middle">${p.x}</text>`));
  out.push(`<text x="${(m.left + w / 2).toFixed(1)}" y="${height - 4}" text-anchor="middle" font-size="12">${esc(paramName(param))}</text>`);
  for (const s of series) {
    const dash = s.dash.length ? ` stroke-dasharray="${s.dash.join(' ')}"` : '';
    out.push(`<polyline fill="none" stroke="${s.color}" stroke-width="2"${dash} points="${s.values.map((v, i) => `${px(i).toFixed(1)},${py(v).toFixed(1)}`).join(' ')}"/>`);
    s.values.forEach((v, i) =>
      out.push(`<circle cx="${px(i).toFixed(1)}" cy="${py(v).toFixed(1)}" r="3" fill="${s.color}"><title>${esc(`${s.label}, ${paramName(param)} ${points[i]!.x} (result #${points[i]!.resultId}): ${accuracyText(v)}`)}</title></circle>`),
    );
  }
  series.forEach((s, i) => {
    const x = m.left + (i % 3) * 170;
    const y = 26 + Math.floor(i / 3) * 16;
    const dash = s.dash.length ? ` stroke-dasharray="${s.dash.join(' ')}"` : '';
    out.push(`<line x1="${x}" x2="${x + 22}" y1="${y + 4}" y2="${y + 4}" stroke="${s.color}" stroke-width="2"${dash}/><text x="${x + 28}" y="${y + 8}">${esc(s.label)}</text>`);
  });
  out.push(`<line x1="${m.left}" x2="${m.left + w}" y1="${py(0)}" y2="${py(0)}" stroke="#333"/>`);
  out.push('</svg>');
  return out.join('\n');
}

// Exports of the error-ratio chart: the table as CSV, the chart as a standalone SVG (drawn from the
// same numbers and layout as the on-screen uPlot chart). Pure: no DOM, unit-tested under Node.
import type { FactorChartData } from '../../../electron/contract.ts';
import { csvCell, esc } from './export-text.ts';

const factorLabel = (f: string) => f.replace(/_/g, ' ');

export const SERIES_COLORS = ['#3b6fd8', '#d8793b', '#3ba86b', '#a83b9a', '#8a8a2e', '#2ea3a8', '#c0392b', '#555555'];


export function factorCsv(data: FactorChartData): string {
  const head = ['run', 'source', 'factor', 'images', 'correct', 'accuracy', 'error_ratio', 'error_ratio_lo', 'error_ratio_hi', 'average_accuracy'];
  const lines = [head.join(',')];
  for (const r of data.runs)
    for (const f of r.factors)
      lines.push(
        [r.runName, data.sourceName, f.factor, f.count, f.correct, f.accuracy, f.errorRatio, f.errorRatioCi?.[0] ?? null, f.errorRatioCi?.[1] ?? null, r.average].map(csvCell).join(','),
      );
  return `${lines.join('\n')}\n`;
}


/** The chart as SVG: one group of bars per factor (a bar per run), 95 % intervals as whiskers,
 * a dashed line at error ratio 1 (the run's average error), the legend on top. */
export function factorSvg(data: FactorChartData, width = 960, height = 420): string {
  const m = { left: 56, right: 16, top: 40, bottom: 110 };
  const w = width - m.left - m.right;
  const h = height - m.top - m.bottom;
  const factors = data.runs[0]?.factors.map((f) => f.factor) ?? [];
  const yMax = niceMax(data);
  const x = (i: number) => m.left + ((i + 0.5) / factors.length) * w;
  const y = (v: number) => m.top + h - (Math.min(v, yMax) / yMax) * h;
  const R = data.runs.length;
  const group = (0.8 / factors.length) * w;
  const bw = (group / R) * 0.9;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`);
  out.push(`<rect width="100%" height="100%" fill="#ffffff"/>`);
  for (let t = 0; t <= 5; t++) {
    const v = (yMax * t) / 5;
    out.push(`<line x1="${m.left}" x2="${m.left + w}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${m.left - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end">${v.toFixed(2)}</text>`);
  }
  out.push(`<text transform="translate(14 ${m.top + h / 2}) rotate(-90)" text-anchor="middle">error ratio</text>`);
  out.push(`<line x1="${m.left}" x2="${m.left + w}" y1="${y(1)}" y2="${y(1)}" stroke="#888" stroke-dasharray="4 3"/>`);
  data.runs.forEach((r, ri) => {
    const color = SERIES_COLORS[ri % SERIES_COLORS.length];
    r.factors.forEach((f, fi) => {
      if (f.errorRatio === null) return;
      const cx = x(fi) + (ri - (R - 1) / 2) * (group / R);
      out.push(`<rect x="${(cx - bw / 2).toFixed(1)}" y="${y(f.errorRatio).toFixed(1)}" width="${bw.toFixed(1)}" height="${(y(0) - y(f.errorRatio)).toFixed(1)}" fill="${color}"><title>${esc(`${r.runName} · ${factorLabel(f.factor)}: ${f.errorRatio.toFixed(3)} (n=${f.count})`)}</title></rect>`);
      if (f.errorRatioCi) {
        const [lo, hi] = f.errorRatioCi;
        out.push(`<path d="M${cx} ${y(lo).toFixed(1)}V${y(hi).toFixed(1)}M${cx - 3} ${y(lo).toFixed(1)}h6M${cx - 3} ${y(hi).toFixed(1)}h6" stroke="#222" fill="none"/>`);
      }
    });
    out.push(`<rect x="${m.left + ri * 220}" y="10" width="10" height="10" fill="${color}"/><text x="${m.left + ri * 220 + 14}" y="19">${esc(r.runName)}</text>`);
  });
  factors.forEach((f, i) => out.push(`<text transform="translate(${x(i).toFixed(1)} ${m.top + h + 10}) rotate(45)" text-anchor="start">${esc(factorLabel(f))}</text>`));
  out.push(`<line x1="${m.left}" x2="${m.left + w}" y1="${y(0)}" y2="${y(0)}" stroke="#333"/>`);
  out.push(`<text x="${width - m.right}" y="${height - 6}" text-anchor="end" fill="#666">${esc(`source: ${data.sourceName}`)}</text>`);
  out.push('</svg>');
  return out.join('\n');
}

export function niceMax(data: FactorChartData): number {
  let max = 1.2;
  for (const r of data.runs) for (const f of r.factors) max = Math.max(max, f.errorRatioCi?.[1] ?? 0, f.errorRatio ?? 0);
  return Math.ceil(Math.min(max, 50) * 1.1 * 4) / 4;
}

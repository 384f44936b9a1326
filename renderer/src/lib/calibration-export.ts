// Exports of the reliability diagram: every curve (overall and per factor) as CSV, one curve as a
// standalone SVG drawn like the on-screen chart: accuracy per confidence bin as bars, the diagonal of
// perfect calibration, each bin's image count above its bar, the ECE in the legend. Pure: no DOM.
import type { CalibrationCurve, CalibrationReport } from '../../../electron/contract.ts';
import { csvLine, esc } from './export-text.ts';

export const ACCURACY_COLOR = '#3b6fd8';
export const DIAGONAL_COLOR = '#888888';

/** The overall curve (factor null) or a factor's. */
export function curveOf(r: CalibrationReport, factor: string | null): CalibrationCurve {
  return factor === null ? r.overall : (r.factors.find((f) => f.factor === factor) ?? r.overall);
}

export const eceText = (c: CalibrationCurve): string => (c.ece === null ? 'ECE –' : `ECE ${c.ece.toFixed(4)}`);

export const curveTitle = (r: CalibrationReport, factor: string | null): string =>
  `Reliability: ${r.name} vs ${r.sourceName}, ${factor === null ? 'all evaluated images' : `images with ${factor.replace(/_/g, ' ')}`}`;

export function calibrationCsv(r: CalibrationReport): string {
  const lines = [csvLine(['subject', 'source', 'factor', 'bin', 'lo', 'hi', 'count', 'mean_confidence', 'accuracy', 'ece'])];
  const curves: [string, CalibrationCurve][] = [['overall', r.overall], ...r.factors.map((f): [string, CalibrationCurve] => [f.factor, f])];
  for (const [name, c] of curves) c.bins.forEach((b, i) => lines.push(csvLine([r.name, r.sourceName, name, i, b.lo, b.hi, b.count, b.confidence, b.accuracy, c.ece])));
  return `${lines.join('\n')}\n`;
}

export function reliabilitySvg(r: CalibrationReport, factor: string | null, width = 560, height = 520): string {
  const c = curveOf(r, factor);
  const m = { left: 56, right: 16, top: 64, bottom: 48 };
  const w = width - m.left - m.right;
  const h = height - m.top - m.bottom;
  const x = (v: number) => m.left + v * w;
  const y = (v: number) => m.top + h - v * h;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`);
  out.push(`<rect width="100%" height="100%" fill="#ffffff"/>`);
  out.push(`<text x="12" y="20" font-size="13">${esc(curveTitle(r, factor))}</text>`);
  out.push(`<rect x="${m.left}" y="32" width="10" height="10" fill="${ACCURACY_COLOR}"/><text x="${m.left + 14}" y="41">${esc(`accuracy per bin (${eceText(c)}, ${c.count} images)`)}</text>`);
  out.push(`<line x1="${m.left + 290}" x2="${m.left + 310}" y1="37" y2="37" stroke="${DIAGONAL_COLOR}" stroke-dasharray="4 3"/><text x="${m.left + 314}" y="41">perfect calibration</text>`);
  for (let t = 0; t <= 5; t++) {
    const v = t / 5;
    out.push(`<line x1="${m.left}" x2="${m.left + w}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${m.left - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end">${v.toFixed(1)}</text>`);
    out.push(`<text x="${x(v).toFixed(1)}" y="${m.top + h + 16}" text-anchor="middle">${v.toFixed(1)}</text>`);
  }
  for (const b of c.bins) {
    if (b.accuracy === null) continue;
    const x0 = x(b.lo) + 1;
    const bw = x(b.hi) - x(b.lo) - 2;
    const tip = `(${b.lo.toFixed(3)}, ${b.hi.toFixed(3)}]: ${b.count} images, mean confidence ${b.confidence!.toFixed(3)}, accuracy ${b.accuracy.toFixed(3)}`;
    out.push(`<rect x="${x0.toFixed(1)}" y="${y(b.accuracy).toFixed(1)}" width="${bw.toFixed(1)}" height="${(y(0) - y(b.accuracy)).toFixed(1)}" fill="${ACCURACY_COLOR}"><title>${esc(tip)}</title></rect>`);
    out.push(`<text x="${(x0 + bw / 2).toFixed(1)}" y="${(y(b.accuracy) - 4).toFixed(1)}" text-anchor="middle" fill="#444">${b.count}</text>`);
  }
  out.push(`<line x1="${x(0)}" y1="${y(0)}" x2="${x(1)}" y2="${y(1)}" stroke="${DIAGONAL_COLOR}" stroke-dasharray="4 3"/>`);
  out.push(`<line x1="${m.left}" x2="${m.left + w}" y1="${y(0)}" y2="${y(0)}" stroke="#333"/>`);
  out.push(`<text x="${m.left + w / 2}" y="${height - 12}" text-anchor="middle">confidence (predicted class probability)</text>`);
  out.push(`<text transform="translate(16 ${m.top + h / 2}) rotate(-90)" text-anchor="middle">accuracy</text>`);
  out.push('</svg>');
  return out.join('\n');
}

// Exports of the factor distribution of failures vs all images: the table as CSV, the grouped bar
// chart as a standalone SVG (for each factor, the share of the failures that carry it next to the
// share of all evaluated images that do). Pure: no DOM.
import type { FactorDistributionReport } from '../../../electron/contract.ts';
import { csvLine, esc } from './export-text.ts';

export const FAILURES_COLOR = '#d4423a';
export const ALL_COLOR = '#9aa3b5';

/** share of failures ÷ share of all images (= the factor's error ratio); null when undefined. */
export const overRepresentation = (f: FactorDistributionReport['factors'][number]): number | null =>
  f.shareOfFailures !== null && f.shareOfImages ? f.shareOfFailures / f.shareOfImages : null;

export function distributionCsv(r: FactorDistributionReport): string {
  const lines = [csvLine(['subject', 'source', 'factor', 'images', 'share_of_images', 'failures', 'share_of_failures', 'failures_share_over_images_share', 'total_images', 'total_failures'])];
  for (const f of r.factors) lines.push(csvLine([r.name, r.sourceName, f.factor, f.images, f.shareOfImages, f.failures, f.shareOfFailures, overRepresentation(f), r.images, r.failures]));
  return `${lines.join('\n')}\n`;
}

export function distributionYMax(r: FactorDistributionReport): number {
  let max = 0.05;
  for (const f of r.factors) max = Math.max(max, f.shareOfFailures ?? 0, f.shareOfImages ?? 0);
  return Math.min(1, Math.ceil(max * 1.15 * 20) / 20);
}

export function distributionSvg(r: FactorDistributionReport, width = 960, height = 420): string {
  const m = { left: 56, right: 16, top: 48, bottom: 110 };
  const w = width - m.left - m.right;
  const h = height - m.top - m.bottom;
  const yMax = distributionYMax(r);
  const n = r.factors.length;
  const x = (i: number) => m.left + ((i + 0.5) / n) * w;
  const y = (v: number) => m.top + h - (Math.min(v, yMax) / yMax) * h;
  const group = (0.8 / n) * w;
  const bw = (group / 2) * 0.9;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`);
  out.push(`<rect width="100%" height="100%" fill="#ffffff"/>`);
  out.push(`<text x="12" y="18" font-size="13">${esc(`Factors of the failures vs all images: ${r.name} vs ${r.sourceName} (${r.failures} failures of ${r.images} images)`)}</text>`);
  for (let t = 0; t <= 5; t++) {
    const v = (yMax * t) / 5;
    out.push(`<line x1="${m.left}" x2="${m.left + w}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${m.left - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end">${Math.round(100 * v)}%</text>`);
  }
  out.push(`<text transform="translate(14 ${m.top + h / 2}) rotate(-90)" text-anchor="middle">share of images with the factor</text>`);
  r.factors.forEach((f, i) => {
    const bars: [number | null, string, string][] = [
      [f.shareOfFailures, FAILURES_COLOR, `failures: ${f.failures} of ${r.failures}`],
      [f.shareOfImages, ALL_COLOR, `all images: ${f.images} of ${r.images}`],
    ];
    bars.forEach(([v, color, what], k) => {
      if (!v) return;
      const cx = x(i) + (k - 0.5) * (group / 2);
      out.push(`<rect x="${(cx - bw / 2).toFixed(1)}" y="${y(v).toFixed(1)}" width="${bw.toFixed(1)}" height="${(y(0) - y(v)).toFixed(1)}" fill="${color}"><title>${esc(`${f.factor.replace(/_/g, ' ')}, ${what} (${(100 * v).toFixed(1)}%)`)}</title></rect>`);
    });
    out.push(`<text transform="translate(${x(i).toFixed(1)} ${m.top + h + 10}) rotate(45)" text-anchor="start">${esc(f.factor.replace(/_/g, ' '))}</text>`);
  });
  out.push(`<rect x="${m.left}" y="28" width="10" height="10" fill="${FAILURES_COLOR}"/><text x="${m.left + 14}" y="37">share of the failures</text>`);
  out.push(`<rect x="${m.left + 180}" y="28" width="10" height="10" fill="${ALL_COLOR}"/><text x="${m.left + 194}" y="37">share of all evaluated images</text>`);
  out.push(`<line x1="${m.left}" x2="${m.left + w}" y1="${y(0)}" y2="${y(0)}" stroke="#333"/>`);
  out.push('</svg>');
  return out.join('\n');
}

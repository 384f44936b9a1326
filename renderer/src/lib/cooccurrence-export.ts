// Factor co-occurrence, shared by the heatmap and its exports: the normalisations (P(j | i), row i
// conditioned on factor i; Jaccard; raw counts), the cell text and colour value, the matrix as CSV
// and the heatmap as a standalone SVG (the PNG is that SVG rasterised). Pure: no DOM.
import type { FactorCooccurrenceReport } from '../../../electron/contract.ts';
import { csvLine, esc } from './export-text.ts';
import { heatColor, heatInk } from './heat-scale.ts';

export type Normalisation = 'conditional' | 'jaccard' | 'count';

export const NORMALISATIONS: { id: Normalisation; label: string }[] = [
  { id: 'conditional', label: 'P(column | row)' },
  { id: 'jaccard', label: 'Jaccard index' },
  { id: 'count', label: 'image count' },
];

/** The matrix under a normalisation, and each cell's position on the colour scale (counts: ÷ the largest). */
export function cooccurrenceCells(r: FactorCooccurrenceReport, norm: Normalisation): { value: (number | null)[][]; shade: (number | null)[][] } {
  if (norm === 'count') {
    const max = Math.max(1, ...r.counts.flat());
    return { value: r.counts, shade: r.counts.map((row) => row.map((c) => c / max)) };
  }
  const value = norm === 'conditional' ? r.conditional : r.jaccard;
  return { value, shade: value };
}

export const cellText = (v: number | null, norm: Normalisation): string => (v === null ? '–' : norm === 'count' ? String(v) : v.toFixed(2));

export function cooccurrenceTitle(r: FactorCooccurrenceReport, norm: Normalisation): string {
  const among = r.subject ? `the ${r.images} failures of ${r.name}` : `${r.images} annotated images`;
  return `Factor co-occurrence (${NORMALISATIONS.find((n) => n.id === norm)!.label}) among ${among}, labels: ${r.sourceName}`;
}

export function cooccurrenceCsv(r: FactorCooccurrenceReport): string {
  const lines = [csvLine(['source', 'among', 'factor_row', 'factor_column', 'count', 'p_column_given_row', 'jaccard', 'images'])];
  const among = r.subject ? `failures of ${r.name}` : 'annotated images';
  r.factors.forEach((a, i) => r.factors.forEach((b, j) => lines.push(csvLine([r.sourceName, among, a, b, r.counts[i][j], r.conditional[i][j], r.jaccard[i][j], r.images]))));
  return `${lines.join('\n')}\n`;
}

export function cooccurrenceSvg(r: FactorCooccurrenceReport, norm: Normalisation): string {
  const n = r.factors.length;
  const cell = 40;
  const labels = r.factors.map((f) => f.replace(/_/g, ' '));
  const m = { left: 130, top: 150, right: 24, bottom: 40 };
  const width = m.left + n * cell + m.right;
  const height = m.top + n * cell + m.bottom;
  const { value, shade } = cooccurrenceCells(r, norm);
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`);
  out.push(`<rect width="100%" height="100%" fill="#ffffff"/>`);
  out.push(`<text x="12" y="20" font-size="13">${esc(cooccurrenceTitle(r, norm))}</text>`);
  labels.forEach((l, i) => {
    out.push(`<text x="${m.left - 6}" y="${m.top + (i + 0.5) * cell + 4}" text-anchor="end">${esc(l)}</text>`);
    out.push(`<text transform="translate(${m.left + (i + 0.5) * cell + 4} ${m.top - 6}) rotate(-60)" text-anchor="start">${esc(l)}</text>`);
  });
  value.forEach((row, i) =>
    row.forEach((v, j) => {
      const s = shade[i][j];
      const x = m.left + j * cell;
      const y = m.top + i * cell;
      const tip = `${labels[i]} → ${labels[j]}: ${r.counts[i][j]} images with both; P(${labels[j]} | ${labels[i]}) ${cellText(r.conditional[i][j], 'conditional')}; Jaccard ${cellText(r.jaccard[i][j], 'jaccard')}`;
      out.push(`<rect x="${x}" y="${y}" width="${cell}" height="${cell}" fill="${s === null ? '#f3f3f5' : heatColor(s)}" stroke="#d0d0d8"><title>${esc(tip)}</title></rect>`);
      out.push(`<text x="${x + cell / 2}" y="${y + cell / 2 + 4}" text-anchor="middle" font-size="10" fill="${s === null ? '#6b6b76' : heatInk(s)}">${cellText(v, norm)}</text>`);
    }),
  );
  out.push(`<text x="${m.left}" y="${height - 14}" fill="#444">${esc(norm === 'conditional' ? 'row i, column j: of the images with factor i, the share that also has factor j' : norm === 'jaccard' ? 'images with both ÷ images with either' : 'images with both factors (diagonal: with the factor)')}</text>`);
  out.push('</svg>');
  return out.join('\n');
}

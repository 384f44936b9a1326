// The failure-IoU heatmap's numbers and pictures, shared by the view and its exports: the colour
// scale (white at 0 to dark blue at 1), the cell format, the matrix as CSV and the heatmap as a
// standalone SVG (the PNG is that SVG rasterised). Pure: no DOM.
import type { FailureIou, RunSummary } from '../../../electron/contract.ts';
import { csvCell, esc } from './export-text.ts';
import { heatColor as iouColor, heatInk as iouInk } from './heat-scale.ts';

export { iouColor, iouInk };

/** "0.42"; "–" where neither run failed on any image both scored. */
export const iouText = (v: number | null): string => (v === null ? '–' : v.toFixed(2));

export const runLabel = (r: RunSummary): string => `${r.modelName} #${r.id}`;

const accText = (a: number | null): string => (a === null ? '–' : `${(100 * a).toFixed(1)}%`);

export const runLabelWithAccuracy = (r: RunSummary): string => `${runLabel(r)} (acc ${accText(r.accuracy)})`;

/** One line per ordered pair of runs: the IoU with its intersection and union counts. */
export function iouCsv(data: FailureIou): string {
  const lines = [['run_a', 'model_a', 'accuracy_a', 'run_b', 'model_b', 'accuracy_b', 'iou', 'intersection', 'union'].join(',')];
  data.runs.forEach((a, i) =>
    data.runs.forEach((b, j) =>
      lines.push([a.id, a.modelName, a.accuracy, b.id, b.modelName, b.accuracy, data.iou[i]![j] ?? null, data.intersection[i]![j]!, data.union[i]![j]!].map(csvCell).join(',')),
    ),
  );
  return `${lines.join('\n')}\n`;
}


/** The heatmap as SVG: row labels on the left, column labels rotated on top, the legend below. */
export function iouSvg(data: FailureIou, title: string): string {
  const n = data.runs.length;
  const cell = 64;
  const labels = data.runs.map(runLabelWithAccuracy);
  const labelW = Math.max(120, 7 * Math.max(0, ...labels.map((l) => l.length)));
  const m = { left: labelW + 16, top: 40 + labelW * 0.75, right: Math.max(24, labelW * 0.72 - cell / 2), bottom: 70 };
  const width = Math.max(m.left + n * cell + m.right, 360);
  const height = m.top + n * cell + m.bottom;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="100%" height="100%" fill="#ffffff"/>`);
  out.push(`<text x="12" y="22" font-size="14" font-weight="bold">${esc(title)}</text>`);
  labels.forEach((l, i) => {
    const c = m.left + (i + 0.5) * cell;
    out.push(`<text x="${m.left - 8}" y="${m.top + (i + 0.5) * cell + 4}" text-anchor="end">${esc(l)}</text>`);
    out.push(`<text transform="translate(${c + 4} ${m.top - 8}) rotate(-45)" text-anchor="start">${esc(l)}</text>`);
  });
  data.iou.forEach((row, i) =>
    row.forEach((v, j) => {
      const x = m.left + j * cell;
      const y = m.top + i * cell;
      const tip = `${runLabel(data.runs[i]!)} vs ${runLabel(data.runs[j]!)}: ${iouText(v)} (${data.intersection[i]![j]} of ${data.union[i]![j]})`;
      out.push(`<rect x="${x}" y="${y}" width="${cell}" height="${cell}" fill="${v === null ? '#f3f3f5' : iouColor(v)}" stroke="#d0d0d8"><title>${esc(tip)}</title></rect>`);
      out.push(`<text x="${x + cell / 2}" y="${y + cell / 2 + 4}" text-anchor="middle" fill="${v === null ? '#6b6b76' : iouInk(v)}">${iouText(v)}</text>`);
    }),
  );
  const ly = m.top + n * cell + 24;
  const lw = Math.min(240, width - m.left - m.right);
  out.push(`<defs><linearGradient id="iou-scale"><stop offset="0" stop-color="${iouColor(0)}"/><stop offset="1" stop-color="${iouColor(1)}"/></linearGradient></defs>`);
  out.push(`<text x="${m.left}" y="${ly - 6}" fill="#444">failure IoU = |A ∩ B| / |A ∪ B|</text>`);
  out.push(`<rect x="${m.left}" y="${ly}" width="${lw}" height="12" fill="url(#iou-scale)" stroke="#d0d0d8"/>`);
  out.push(`<text x="${m.left}" y="${ly + 26}" text-anchor="start">0</text>`);
  out.push(`<text x="${m.left + lw}" y="${ly + 26}" text-anchor="end">1</text>`);
  out.push('</svg>');
  return out.join('\n');
}

/** failure-iou-<dataset>, safe as a file name anywhere. */
export const iouFileBase = (datasetName: string): string => `failure-iou-${datasetName}`.replace(/[^\w.-]+/g, '_');

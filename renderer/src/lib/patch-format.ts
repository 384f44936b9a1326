// The patch loop's numbers as the Patch view shows them: the paper's Table 2 (before / individual /
// random × test / seed / heldout, gains in points) and its bar chart as a standalone SVG. Pure: no DOM.
import type { DebugAccuracy, DebugResult } from '../../../electron/contract.ts';

export const SPLITS = ['test', 'seed', 'heldout'] as const satisfies readonly (keyof DebugAccuracy)[];
export type Split = (typeof SPLITS)[number];

export const ROW_COLORS = { before: '#9aa0a6', individual: '#3b6fd8', random: '#d8793b' } as const;

export interface Table2Row {
  label: 'before' | 'individual' | 'random';
  acc: DebugAccuracy;
  /** After minus before (fractions); null for the before row. */
  gain: DebugAccuracy | null;
  /** Accepted generated images trained on; null for the before row. */
  images: number | null;
}

/** An accuracy in [0, 1] as "85.3%". */
export function accuracyText(x: number): string {
  return Number.isFinite(x) ? `${(100 * x).toFixed(1)}%` : '–';
}

/** A difference of accuracies in points, always signed: "+2.0", "-0.7" ("+0.0", never "-0.0"). */
export function gainText(x: number): string {
  if (!Number.isFinite(x)) return '–';
  const s = (100 * x).toFixed(1);
  return Number(s) === 0 ? '+0.0' : Number(s) > 0 ? `+${s}` : s;
}

export function table2Rows(r: DebugResult): Table2Row[] {
  const rows: Table2Row[] = [
    { label: 'before', acc: r.before, gain: null, images: null },
    { label: 'individual', acc: r.individual, gain: r.gain.individual, images: r.generated.individual },
  ];
  if (r.random) rows.push({ label: 'random', acc: r.random, gain: r.gain.random, images: r.generated.random });
  return rows;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** Grouped bars (a group per split, a bar per row), accuracy 0–100 %, legend on top. */
export function table2Svg(rows: Table2Row[], title: string, width = 720, height = 360): string {
  const m = { left: 52, right: 16, top: 48, bottom: 36 };
  const w = width - m.left - m.right;
  const h = height - m.top - m.bottom;
  const y = (v: number) => m.top + h - Math.max(0, Math.min(1, v)) * h;
  const gw = w / SPLITS.length;
  const bw = Math.min(56, (gw * 0.8) / rows.length);
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`);
  out.push(`<rect width="100%" height="100%" fill="#ffffff"/>`);
  out.push(`<text x="${m.left}" y="16" font-size="13">${esc(title)}</text>`);
  for (let t = 0; t <= 4; t++) {
    const v = t / 4;
    out.push(`<line x1="${m.left}" x2="${m.left + w}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${m.left - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end">${v * 100}%</text>`);
  }
  SPLITS.forEach((s, si) => {
    const x0 = m.left + si * gw + (gw - bw * rows.length) / 2;
    rows.forEach((r, ri) => {
      const v = r.acc[s];
      const x = x0 + ri * bw;
      out.push(
        `<rect x="${x.toFixed(1)}" y="${y(v).toFixed(1)}" width="${(bw - 3).toFixed(1)}" height="${(y(0) - y(v)).toFixed(1)}" fill="${ROW_COLORS[r.label]}"><title>${esc(`${r.label} ${s}: ${accuracyText(v)}`)}</title></rect>`,
      );
    });
    out.push(`<text x="${(m.left + si * gw + gw / 2).toFixed(1)}" y="${height - 12}" text-anchor="middle" font-size="12">${s}</text>`);
  });
  rows.forEach((r, i) => {
    out.push(`<rect x="${m.left + i * 130}" y="26" width="10" height="10" fill="${ROW_COLORS[r.label]}"/><text x="${m.left + i * 130 + 14}" y="35">${r.label}</text>`);
  });
  out.push(`<line x1="${m.left}" x2="${m.left + w}" y1="${y(0)}" y2="${y(0)}" stroke="#333"/>`);
  out.push('</svg>');
  return out.join('\n');
}

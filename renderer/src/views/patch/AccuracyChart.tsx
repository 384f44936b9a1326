// Table 2 as grouped bars with uPlot: a group per split (test / seed / heldout), a bar per row
// (before / individual / random), accuracy in %. The parent's `plotRef` serves its PNG export
// (chartPng: the canvas under the title and the legend).
import { useRef } from 'react';
import uPlot from 'uplot';
import { accuracyText, ROW_COLORS, SPLITS, type Table2Row } from '../../lib/patch-format.ts';
import { canvasPng } from '../../lib/chart-png.ts';
import { useUplot } from '../../lib/use-uplot.ts';

const HEIGHT = 280;

export function AccuracyChart({ rows, plotRef }: { rows: Table2Row[]; plotRef: { current: uPlot | null } }) {
  const el = useRef<HTMLDivElement>(null);
  useUplot(
    el,
    (width) => {
      const R = rows.length;
      const step = 0.8 / R;
      // One x value per (split, row): the split + the row's offset inside the group.
      const xs: number[] = [];
      const at: { row: number; split: number }[] = [];
      SPLITS.forEach((_, si) =>
        rows.forEach((_, ri) => {
          xs.push(si + (ri - (R - 1) / 2) * step);
          at.push({ row: ri, split: si });
        }),
      );
      const ys = rows.map((r, ri) => at.map((a) => (a.row === ri ? 100 * r.acc[SPLITS[a.split]!] : null)));
      return {
        data: [xs, ...ys] as uPlot.AlignedData,
        opts: {
          width,
          height: HEIGHT,
          padding: [12, 16, 0, 0],
          scales: { x: { time: false, range: [-0.6, SPLITS.length - 0.4] }, y: { range: [0, 100] } },
          legend: { show: true, live: false },
          cursor: { drag: { x: false, y: false }, points: { show: false }, y: false },
          axes: [
            { splits: () => SPLITS.map((_, i) => i), values: (_u, splits) => splits.map((i) => SPLITS[i] ?? '') },
            { label: 'accuracy (%)', size: 52 },
          ],
          series: [
            {},
            ...rows.map((r) => ({
              label: r.label,
              fill: ROW_COLORS[r.label],
              stroke: ROW_COLORS[r.label],
              width: 0,
              paths: uPlot.paths.bars!({ size: [0.9, 64], align: 0 }),
              points: { show: false },
              value: (_u: uPlot, v: number | null) => (v === null ? '–' : accuracyText(v / 100)),
            })),
          ],
        },
      };
    },
    [rows],
    { minWidth: 360, plotRef },
  );
  return <div className="patch-chart" ref={el} data-testid="debug-chart" />;
}

/** The chart's PNG: its canvas under the title and the rows' legend. */
export function chartPng(plot: uPlot | null, name: string, title: string, rows: Table2Row[]): void {
  canvasPng(
    plot?.ctx.canvas,
    name,
    title,
    rows.map((r) => ({ label: r.label, color: ROW_COLORS[r.label] })),
  );
}

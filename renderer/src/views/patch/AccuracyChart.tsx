// Table 2 as grouped bars with uPlot: a group per split (test / seed / heldout), a bar per row
// (before / individual / random), accuracy in %. The PNG export copies the canvas under a title.
import { useEffect, useMemo, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { accuracyText, ROW_COLORS, SPLITS, type Table2Row } from '../../lib/patch-format.ts';
import { download } from '../../lib/download.ts';

const HEIGHT = 280;

let chartCanvas: () => HTMLCanvasElement | null = () => null;

export function AccuracyChart({ rows }: { rows: Table2Row[] }) {
  const el = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const R = rows.length;
  const step = 0.8 / R;
  // One x value per (split, row): the split + the row's offset inside the group.
  const layout = useMemo(() => {
    const xs: number[] = [];
    const at: { row: number; split: number }[] = [];
    SPLITS.forEach((_, si) =>
      rows.forEach((_, ri) => {
        xs.push(si + (ri - (R - 1) / 2) * step);
        at.push({ row: ri, split: si });
      }),
    );
    const ys = rows.map((r, ri) => at.map((a) => (a.row === ri ? 100 * r.acc[SPLITS[a.split]!] : null)));
    return { xs, ys };
  }, [rows, R, step]);

  useEffect(() => {
    const host = el.current;
    if (!host) return;
    const opts: uPlot.Options = {
      width: Math.max(360, host.clientWidth),
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
    };
    const u = new uPlot(opts, [layout.xs, ...layout.ys] as uPlot.AlignedData, host);
    plot.current = u;
    const ro = new ResizeObserver(() => u.setSize({ width: Math.max(360, host.clientWidth), height: HEIGHT }));
    ro.observe(host);
    return () => {
      ro.disconnect();
      u.destroy();
      plot.current = null;
    };
  }, [rows, layout]);

  useEffect(() => {
    chartCanvas = () => plot.current?.ctx.canvas ?? null;
  }, []);

  return <div className="patch-chart" ref={el} data-testid="debug-chart" />;
}

export function exportChartPng(name: string, title: string, rows: Table2Row[]): void {
  const src = chartCanvas();
  if (!src) return;
  const out = document.createElement('canvas');
  const d = devicePixelRatio;
  const pad = 52 * d;
  out.width = src.width;
  out.height = src.height + pad;
  const ctx = out.getContext('2d')!;
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, out.width, out.height);
  ctx.fillStyle = '#222';
  ctx.font = `${13 * d}px sans-serif`;
  ctx.fillText(title, 8 * d, 20 * d);
  // uPlot's legend is HTML, not on the canvas: draw it.
  rows.forEach((r, i) => {
    ctx.fillStyle = ROW_COLORS[r.label];
    ctx.fillRect((8 + i * 110) * d, 30 * d, 10 * d, 10 * d);
    ctx.fillStyle = '#222';
    ctx.fillText(r.label, (22 + i * 110) * d, 40 * d);
  });
  ctx.drawImage(src, 0, pad);
  out.toBlob((b) => b && download(name, b), 'image/png');
}

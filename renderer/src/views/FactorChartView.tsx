// Error ratio per ImageNet-X factor for one or more runs against one annotation source (the
// consensus, an annotator, a ground truth or an imported file): a uPlot bar chart with the 95 %
// intervals as whiskers, the table under it, PNG / SVG / CSV export. Clicking a bar (or a table
// row's count) opens that run's failures that carry the factor in that source.
import { useEffect, useMemo, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { FactorChartData } from '../../../electron/contract.ts';
import { useApi } from '../lib/lab.tsx';
import { format, navigate } from '../lib/router.ts';
import { num, pct } from '../lib/format.ts';
import { factorLabel } from '../lib/factors.ts';
import { factorCsv, factorSvg, niceMax, SERIES_COLORS } from '../lib/factor-export.ts';
import { download } from '../lib/download.ts';
import { Empty, ErrorBox, PageHeader } from '../components/common.tsx';

/** error-ratios-<source>[-run-<ids>], safe as a file name anywhere. */
function fileBase(data: FactorChartData): string {
  return `error-ratios-${data.sourceName}-run-${data.runs.map((r) => r.runId).join('-')}`.replace(/[^\w.-]+/g, '_');
}

function drill(runId: number, sourceId: number, factor: string): void {
  navigate(format(['runs', runId], { factor, source: sourceId }));
}

export function FactorChartView({ query }: { query: URLSearchParams }) {
  const sources = useApi('annotations.sources', {}, ['lab']);
  const runs = useApi('runs.list', {}, ['runs']);
  const set = (patch: Record<string, string | null>) => {
    const q = Object.fromEntries(new URLSearchParams(window.location.hash.split('?')[1] ?? '').entries()) as Record<string, string | null>;
    navigate(format(['factors'], { ...q, ...patch }), { replace: true });
  };
  const preferred = sources.data?.find((s) => s.kind === 'consensus') ?? sources.data?.[0];
  const sourceId = query.get('source') ? Number(query.get('source')) : (preferred?.id ?? null);
  const runIds = query.get('runs')
    ? query.get('runs')!.split(',').map(Number).filter(Number.isInteger)
    : runs.data?.filter((r) => r.status === 'done').slice(0, 1).map((r) => r.id) ?? [];
  const chart = useApi('labels.errorRatios', sourceId !== null && runIds.length ? { runIds, sourceId } : null, ['lab', 'runs']);
  const data = chart.data;

  return (
    <div className="page">
      <PageHeader title="Error ratio per factor" sub={<span>error ratio = error rate on images with the factor ÷ the run's error rate on labelled images; whiskers: 95 % interval</span>}>
        {data ? (
          <>
            <button type="button" className="btn small" data-testid="export-png" onClick={() => exportPng(data)}>
              PNG
            </button>
            <button type="button" className="btn small" data-testid="export-svg" onClick={() => download(`${fileBase(data)}.svg`, new Blob([factorSvg(data)], { type: 'image/svg+xml' }))}>
              SVG
            </button>
            <button type="button" className="btn small" data-testid="export-csv" onClick={() => download(`${fileBase(data)}.csv`, new Blob([factorCsv(data)], { type: 'text/csv' }))}>
              CSV
            </button>
          </>
        ) : null}
      </PageHeader>
      <div className="filterbar">
        <label className="field compact">
          <span className="field-label">Labels from</span>
          <select value={sourceId ?? ''} onChange={(e) => set({ source: e.target.value })} data-testid="chart-source">
            {(sources.data ?? []).map((s) => (
              <option key={s.id} value={s.id}>
                {s.name} ({s.kind}, {num(s.numAnnotations)})
              </option>
            ))}
          </select>
        </label>
        <span className="field compact">
          <span className="field-label">Runs</span>
          <span className="chips">
            {(runs.data ?? [])
              .filter((r) => r.status !== 'running')
              .map((r) => (
                <label key={r.id} className="chip">
                  <input
                    type="checkbox"
                    checked={runIds.includes(r.id)}
                    onChange={(e) => set({ runs: (e.target.checked ? [...runIds, r.id] : runIds.filter((x) => x !== r.id)).join(',') || null })}
                    data-testid={`chart-run-${r.id}`}
                  />{' '}
                  #{r.id} {r.modelName} on {r.datasetName}
                </label>
              ))}
          </span>
        </span>
      </div>
      <ErrorBox error={chart.error} onRetry={chart.reload} testId="chart-error" />
      {sources.data?.length === 0 ? <Empty title="No labels yet">Label some images, import an ImageNet-X file, or run the demo (it stores its ground truth).</Empty> : null}
      {data ? (
        <>
          <section className="card">
            <div className="card-title">
              {data.sourceName} <span className="dim">({data.sourceKind})</span>
              <span className="card-tools dim">click a bar to see the failing images with that factor</span>
            </div>
            <ErrorRatioChart data={data} />
          </section>
          <FactorTable data={data} />
        </>
      ) : null}
    </div>
  );
}

function ErrorRatioChart({ data }: { data: FactorChartData }) {
  const el = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const factors = data.runs[0]?.factors.map((f) => f.factor) ?? [];
  const R = data.runs.length;
  const step = 0.8 / R;
  // One x value per (factor, run): factor + the run's offset inside the factor's group.
  const layout = useMemo(() => {
    const xs: number[] = [];
    const at: { run: number; factor: number }[] = [];
    factors.forEach((_, fi) =>
      data.runs.forEach((_, ri) => {
        xs.push(fi + (ri - (R - 1) / 2) * step);
        at.push({ run: ri, factor: fi });
      }),
    );
    const ys = data.runs.map((r, ri) => at.map((a) => (a.run === ri ? r.factors[a.factor].errorRatio : null)));
    return { xs, at, ys };
  }, [data]);

  useEffect(() => {
    const host = el.current;
    if (!host) return;
    const width = Math.max(480, host.clientWidth);
    const yMax = niceMax(data);
    const opts: uPlot.Options = {
      width,
      height: 380,
      padding: [12, 48, 0, 0],
      scales: { x: { time: false, range: [-0.6, factors.length - 0.4] }, y: { range: [0, yMax] } },
      legend: { show: true, live: false },
      cursor: { drag: { x: false, y: false }, points: { show: false }, y: false },
      axes: [
        {
          splits: () => factors.map((_, i) => i),
          values: (_u, splits) => splits.map((i) => factorLabel(factors[i] ?? '')),
          rotate: -40,
          size: 96,
          gap: 4,
        },
        { label: 'error ratio', size: 56 },
      ],
      series: [
        {},
        ...data.runs.map((r, ri) => ({
          label: r.runName,
          fill: SERIES_COLORS[ri % SERIES_COLORS.length],
          stroke: SERIES_COLORS[ri % SERIES_COLORS.length],
          width: 0,
          paths: uPlot.paths.bars!({ size: [0.9, 80], align: 0 }),
          points: { show: false },
        })),
      ],
      hooks: {
        draw: [
          (u) => {
            const ctx = u.ctx;
            ctx.save();
            // average error: ratio 1
            const y1 = u.valToPos(1, 'y', true);
            ctx.strokeStyle = '#888';
            ctx.setLineDash([5, 4]);
            ctx.beginPath();
            ctx.moveTo(u.bbox.left, y1);
            ctx.lineTo(u.bbox.left + u.bbox.width, y1);
            ctx.stroke();
            ctx.setLineDash([]);
            ctx.strokeStyle = '#222';
            ctx.lineWidth = Math.max(1, devicePixelRatio);
            const bars: { run: number; runId: number; factor: string; x: number; y: number }[] = [];
            layout.at.forEach((a, i) => {
              const f = data.runs[a.run].factors[a.factor];
              const x = u.valToPos(layout.xs[i], 'x', true);
              if (f.errorRatio !== null) {
                bars.push({ run: a.run, runId: data.runs[a.run].runId, factor: f.factor, x: u.valToPos(layout.xs[i], 'x'), y: u.valToPos(Math.min(f.errorRatio, yMax) / 2, 'y') });
              }
              if (!f.errorRatioCi) return;
              const lo = u.valToPos(Math.min(f.errorRatioCi[0], yMax), 'y', true);
              const hi = u.valToPos(Math.min(f.errorRatioCi[1], yMax), 'y', true);
              const cap = 3 * devicePixelRatio;
              ctx.beginPath();
              ctx.moveTo(x, lo);
              ctx.lineTo(x, hi);
              ctx.moveTo(x - cap, lo);
              ctx.lineTo(x + cap, lo);
              ctx.moveTo(x - cap, hi);
              ctx.lineTo(x + cap, hi);
              ctx.stroke();
            });
            ctx.restore();
            // Where each bar is (CSS pixels inside the plot area), for tests and tools.
            host.dataset.bars = JSON.stringify(bars);
          },
        ],
      },
    };
    const u = new uPlot(opts, [layout.xs, ...layout.ys] as uPlot.AlignedData, host);
    plot.current = u;
    const onClick = (e: MouseEvent) => {
      const left = e.clientX - u.over.getBoundingClientRect().left;
      const xv = u.posToVal(left, 'x');
      // the nearest bar
      let best = -1;
      let bestD = Infinity;
      layout.xs.forEach((x, i) => {
        const d = Math.abs(x - xv);
        if (d < bestD) {
          bestD = d;
          best = i;
        }
      });
      if (best < 0 || bestD > step / 2 + 0.05) return;
      const a = layout.at[best];
      const f = data.runs[a.run].factors[a.factor];
      if (f.errorRatio === null) return;
      drill(data.runs[a.run].runId, data.sourceId, f.factor);
    };
    u.over.addEventListener('click', onClick);
    u.over.style.cursor = 'pointer';
    const ro = new ResizeObserver(() => u.setSize({ width: Math.max(480, host.clientWidth), height: 380 }));
    ro.observe(host);
    return () => {
      ro.disconnect();
      u.destroy();
      plot.current = null;
    };
  }, [data, layout]);

  useEffect(() => {
    chartCanvas = () => plot.current?.ctx.canvas ?? null;
  }, []);

  return <div className="factor-chart" ref={el} data-testid="factor-chart" />;
}

let chartCanvas: () => HTMLCanvasElement | null = () => null;

function exportPng(data: FactorChartData): void {
  const src = chartCanvas();
  if (!src) return;
  const out = document.createElement('canvas');
  const pad = 32 * devicePixelRatio;
  out.width = src.width;
  out.height = src.height + pad;
  const ctx = out.getContext('2d')!;
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, out.width, out.height);
  ctx.fillStyle = '#222';
  ctx.font = `${13 * devicePixelRatio}px sans-serif`;
  ctx.fillText(`Error ratio per factor: ${data.runs.map((r) => r.runName).join(', ')} (labels: ${data.sourceName})`, 8 * devicePixelRatio, 20 * devicePixelRatio);
  ctx.drawImage(src, 0, pad);
  out.toBlob((b) => b && download(`${fileBase(data)}.png`, b), 'image/png');
}

function FactorTable({ data }: { data: FactorChartData }) {
  const factors = data.runs[0]?.factors.map((f) => f.factor) ?? [];
  return (
    <section className="card">
      <div className="card-title">
        Per factor
        <span className="card-tools dim">
          {data.runs.map((r) => `${r.runName}: ${num(r.images)} labelled images, accuracy ${pct(r.average)}`).join(' · ')}
        </span>
      </div>
      <div className="table-scroll">
        <table className="table" data-testid="factor-table">
          <thead>
            <tr>
              <th>Factor</th>
              {data.runs.map((r) => (
                <th key={r.runId} colSpan={3}>
                  {r.runName}
                </th>
              ))}
            </tr>
            <tr>
              <th />
              {data.runs.map((r) => [<th key={`${r.runId}n`}>images</th>, <th key={`${r.runId}f`}>failing</th>, <th key={`${r.runId}e`}>error ratio [95 %]</th>])}
            </tr>
          </thead>
          <tbody>
            {factors.map((f, fi) => (
              <tr key={f} data-testid="factor-row" data-factor={f}>
                <td>{factorLabel(f)}</td>
                {data.runs.map((r) => {
                  const s = r.factors[fi];
                  return [
                    <td key={`${r.runId}n`} className="num" data-testid="factor-count">
                      {num(s.count)}
                    </td>,
                    <td key={`${r.runId}f`} className="num">
                      {s.count - s.correct > 0 ? (
                        <button type="button" className="link-btn" onClick={() => drill(r.runId, data.sourceId, f)} data-testid="factor-failing">
                          {num(s.count - s.correct)}
                        </button>
                      ) : (
                        '0'
                      )}
                    </td>,
                    <td key={`${r.runId}e`} className="num" data-testid="factor-ratio">
                      {s.errorRatio === null ? '–' : s.errorRatio.toFixed(2)}
                      {s.errorRatioCi ? <span className="dim"> [{s.errorRatioCi[0].toFixed(2)}, {s.errorRatioCi[1].toFixed(2)}]</span> : null}
                    </td>,
                  ];
                })}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

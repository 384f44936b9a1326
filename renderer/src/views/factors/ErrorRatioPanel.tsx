// Error ratio per ImageNet-X factor for runs and imported prediction sets against one annotation
// source: a uPlot bar chart with the 95 % intervals as whiskers, the table under it, PNG / SVG / CSV
// export. Clicking a bar (or a table row's count) opens the failures that carry the factor.
import { useMemo, useRef } from 'react';
import uPlot from 'uplot';
import type { FactorChartData } from '../../../../electron/contract.ts';
import { num, pct } from '../../lib/format.ts';
import { factorLabel } from '../../lib/factors.ts';
import { factorCsv, factorSvg, niceMax, SERIES_COLORS } from '../../lib/factor-export.ts';
import { download } from '../../lib/download.ts';
import { canvasPng } from '../../lib/chart-png.ts';
import { safeFileName } from '../../lib/export-text.ts';
import { subjectKey } from '../../lib/subjects.ts';
import { useUplot } from '../../lib/use-uplot.ts';
import { drill } from './factor-query.ts';

/** error-ratios-<source>-run-<ids>[-predictions-<ids>], safe as a file name anywhere. */
function fileBase(data: FactorChartData): string {
  const runs = data.runs.filter((r) => r.subject.kind === 'run').map((r) => r.subject.id);
  const sets = data.runs.filter((r) => r.subject.kind === 'predictions').map((r) => r.subject.id);
  return safeFileName(`error-ratios-${data.sourceName}${runs.length ? `-run-${runs.join('-')}` : ''}${sets.length ? `-predictions-${sets.join('-')}` : ''}`);
}

export function ErrorRatioPanel({ data }: { data: FactorChartData }) {
  const plot = useRef<uPlot | null>(null);
  const title = `Error ratio per factor: ${data.runs.map((r) => r.runName).join(', ')} (labels: ${data.sourceName})`;
  return (
    <>
      <section className="card">
        <div className="card-title">
          {data.sourceName} <span className="dim">({data.sourceKind})</span>
          <span className="card-tools">
            <span className="dim">click a bar to see the failing images with that factor</span>{' '}
            <button type="button" className="btn small" data-testid="export-png" onClick={() => canvasPng(plot.current?.ctx.canvas, `${fileBase(data)}.png`, title)}>
              PNG
            </button>{' '}
            <button type="button" className="btn small" data-testid="export-svg" onClick={() => download(`${fileBase(data)}.svg`, new Blob([factorSvg(data)], { type: 'image/svg+xml' }))}>
              SVG
            </button>{' '}
            <button type="button" className="btn small" data-testid="export-csv" onClick={() => download(`${fileBase(data)}.csv`, new Blob([factorCsv(data)], { type: 'text/csv' }))}>
              CSV
            </button>
          </span>
        </div>
        <ErrorRatioChart data={data} plotRef={plot} />
      </section>
      <FactorTable data={data} />
    </>
  );
}

function ErrorRatioChart({ data, plotRef }: { data: FactorChartData; plotRef: { current: uPlot | null } }) {
  const el = useRef<HTMLDivElement>(null);
  const factors = data.runs[0]?.factors.map((f) => f.factor) ?? [];
  const R = data.runs.length;
  const step = 0.8 / R;
  // One x value per (factor, series): factor + the series' offset inside the factor's group.
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

  useUplot(
    el,
    (width) => {
      const yMax = niceMax(data);
      const host = el.current!;
      return {
        data: [layout.xs, ...layout.ys] as uPlot.AlignedData,
        opts: {
          width,
          height: 380,
          padding: [12, 48, 0, 0],
          scales: { x: { time: false, range: [-0.6, factors.length - 0.4] }, y: { range: [0, yMax] } },
          legend: { show: true, live: false },
          cursor: { drag: { x: false, y: false }, points: { show: false }, y: false },
          axes: [
            { splits: () => factors.map((_, i) => i), values: (_u, splits) => splits.map((i) => factorLabel(factors[i] ?? '')), rotate: -40, size: 96, gap: 4 },
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
              (u: uPlot) => {
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
                const bars: { run: number; runId: number | null; subject: string; factor: string; x: number; y: number }[] = [];
                layout.at.forEach((a, i) => {
                  const s = data.runs[a.run];
                  const f = s.factors[a.factor];
                  const x = u.valToPos(layout.xs[i], 'x', true);
                  if (f.errorRatio !== null) {
                    bars.push({ run: a.run, runId: s.runId, subject: subjectKey(s.subject), factor: f.factor, x: u.valToPos(layout.xs[i], 'x'), y: u.valToPos(Math.min(f.errorRatio, yMax) / 2, 'y') });
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
        },
      };
    },
    [data, layout],
    {
      onClick: (left, _top, u) => {
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
        const s = data.runs[a.run];
        const f = s.factors[a.factor];
        if (f.errorRatio !== null) drill(s.subject, data.sourceId, f.factor);
      },
      plotRef,
    },
  );

  return <div className="factor-chart" ref={el} data-testid="factor-chart" />;
}

function FactorTable({ data }: { data: FactorChartData }) {
  const factors = data.runs[0]?.factors.map((f) => f.factor) ?? [];
  return (
    <section className="card">
      <div className="card-title">
        Per factor
        <span className="card-tools dim">{data.runs.map((r) => `${r.runName}: ${num(r.images)} labelled images, accuracy ${pct(r.average)}`).join(' · ')}</span>
      </div>
      <div className="table-scroll">
        <table className="table" data-testid="factor-table">
          <thead>
            <tr>
              <th>Factor</th>
              {data.runs.map((r) => (
                <th key={subjectKey(r.subject)} colSpan={3} data-testid="factor-series">
                  {r.runName}
                  {r.subject.kind === 'predictions' ? <span className="dim"> (imported predictions)</span> : null}
                </th>
              ))}
            </tr>
            <tr>
              <th />
              {data.runs.map((r) => {
                const k = subjectKey(r.subject);
                return [<th key={`${k}n`}>images</th>, <th key={`${k}f`}>failing</th>, <th key={`${k}e`}>error ratio [95 %]</th>];
              })}
            </tr>
          </thead>
          <tbody>
            {factors.map((f, fi) => (
              <tr key={f} data-testid="factor-row" data-factor={f}>
                <td>{factorLabel(f)}</td>
                {data.runs.map((r) => {
                  const s = r.factors[fi];
                  const k = subjectKey(r.subject);
                  return [
                    <td key={`${k}n`} className="num" data-testid="factor-count">
                      {num(s.count)}
                    </td>,
                    <td key={`${k}f`} className="num">
                      {s.count - s.correct > 0 ? (
                        <button type="button" className="link-btn" onClick={() => drill(r.subject, data.sourceId, f)} data-testid="factor-failing">
                          {num(s.count - s.correct)}
                        </button>
                      ) : (
                        '0'
                      )}
                    </td>,
                    <td key={`${k}e`} className="num" data-testid="factor-ratio">
                      {s.errorRatio === null ? '–' : s.errorRatio.toFixed(2)}
                      {s.errorRatioCi ? (
                        <span className="dim">
                          {' '}
                          [{s.errorRatioCi[0].toFixed(2)}, {s.errorRatioCi[1].toFixed(2)}]
                        </span>
                      ) : null}
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

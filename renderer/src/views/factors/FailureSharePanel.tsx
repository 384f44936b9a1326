// The factor distribution of a run's (or imported prediction set's) failures against all evaluated
// images: for each factor, the share of the failures that carry it next to the share of all images
// that do (grouped bars, uPlot), the table, PNG / SVG / CSV export. A factor's bars open its failing
// images. Share of failures ÷ share of all images is the factor's error ratio.
import { useMemo, useRef } from 'react';
import uPlot from 'uplot';
import type { AnalysisSubject, FactorDistributionReport } from '../../../../electron/contract.ts';
import { useApi } from '../../lib/lab.tsx';
import { num, pct } from '../../lib/format.ts';
import { factorLabel } from '../../lib/factors.ts';
import { download } from '../../lib/download.ts';
import { canvasPng } from '../../lib/chart-png.ts';
import { safeFileName } from '../../lib/export-text.ts';
import { ALL_COLOR, FAILURES_COLOR, distributionCsv, distributionSvg, distributionYMax, overRepresentation } from '../../lib/distribution-export.ts';
import { useUplot } from '../../lib/use-uplot.ts';
import { ErrorBox, Loading } from '../../components/common.tsx';
import { drill } from './factor-query.ts';

const fileBase = (r: FactorDistributionReport) => safeFileName(`failure-factors-${r.name}-${r.sourceName}`);
const LEGEND = [
  { label: 'share of the failures', color: FAILURES_COLOR },
  { label: 'share of all evaluated images', color: ALL_COLOR },
];

export function FailureSharePanel({ subject, sourceId }: { subject: AnalysisSubject; sourceId: number }) {
  const report = useApi('analysis.factorDistribution', { subject, sourceId }, ['lab', 'runs']);
  const plot = useRef<uPlot | null>(null);
  const r = report.data;
  if (!r) return report.error ? <ErrorBox error={report.error} onRetry={report.reload} testId="distribution-error" /> : <Loading what="the factor distribution" />;
  const title = `Factors of the failures vs all images: ${r.name} (labels: ${r.sourceName})`;
  return (
    <>
      <section className="card" data-testid="distribution-card">
        <div className="card-title">
          {r.name}: {num(r.failures)} failures of {num(r.images)} evaluated images
          <span className="card-tools">
            <span className="dim">click a factor's bars to see its failing images</span>{' '}
            <button type="button" className="btn small" data-testid="distribution-export-png" onClick={() => canvasPng(plot.current?.ctx.canvas, `${fileBase(r)}.png`, title, LEGEND)}>
              PNG
            </button>{' '}
            <button type="button" className="btn small" data-testid="distribution-export-svg" onClick={() => download(`${fileBase(r)}.svg`, new Blob([distributionSvg(r)], { type: 'image/svg+xml' }))}>
              SVG
            </button>{' '}
            <button type="button" className="btn small" data-testid="distribution-export-csv" onClick={() => download(`${fileBase(r)}.csv`, new Blob([distributionCsv(r)], { type: 'text/csv' }))}>
              CSV
            </button>
          </span>
        </div>
        <DistributionChart report={r} plotRef={plot} />
      </section>
      <DistributionTable report={r} />
    </>
  );
}

function DistributionChart({ report, plotRef }: { report: FactorDistributionReport; plotRef: { current: uPlot | null } }) {
  const el = useRef<HTMLDivElement>(null);
  const factors = report.factors;
  const step = 0.4;
  // Two x values per factor: failures left of the factor's tick, all images right of it.
  const layout = useMemo(() => {
    const xs: number[] = [];
    const fail: (number | null)[] = [];
    const all: (number | null)[] = [];
    factors.forEach((f, i) => {
      xs.push(i - step / 2, i + step / 2);
      fail.push(f.shareOfFailures === null ? null : 100 * f.shareOfFailures, null);
      all.push(null, f.shareOfImages === null ? null : 100 * f.shareOfImages);
    });
    return { xs, fail, all };
  }, [report]);

  useUplot(
    el,
    (width) => {
      const host = el.current!;
      const yMax = 100 * distributionYMax(report);
      return {
        data: [layout.xs, layout.fail, layout.all] as uPlot.AlignedData,
        opts: {
          width,
          height: 380,
          padding: [12, 24, 0, 0],
          scales: { x: { time: false, range: [-0.6, factors.length - 0.4] }, y: { range: [0, yMax] } },
          legend: { show: true, live: false },
          cursor: { drag: { x: false, y: false }, points: { show: false }, y: false },
          axes: [
            { splits: () => factors.map((_, i) => i), values: (_u, splits) => splits.map((i) => factorLabel(factors[i]?.factor ?? '')), rotate: -40, size: 96, gap: 4 },
            { label: 'share of images with the factor (%)', size: 56 },
          ],
          series: [
            {},
            ...LEGEND.map((l) => ({ label: l.label, fill: l.color, stroke: l.color, width: 0, paths: uPlot.paths.bars!({ size: [0.95, 60], align: 0 }), points: { show: false } })),
          ],
          hooks: {
            draw: [
              (u: uPlot) => {
                // Where each failures bar is (CSS pixels inside the plot area), for tests and tools.
                const bars = factors.flatMap((f, i) =>
                  f.shareOfFailures ? [{ factor: f.factor, failures: f.failures, x: u.valToPos(i - step / 2, 'x'), y: u.valToPos((100 * f.shareOfFailures) / 2, 'y') }] : [],
                );
                host.dataset.bars = JSON.stringify(bars);
              },
            ],
          },
        },
      };
    },
    [report, layout],
    {
      onClick: (left, _top, u) => {
        const i = Math.round(u.posToVal(left, 'x'));
        const f = factors[i];
        if (f && f.failures > 0) drill(report.subject, report.sourceId, f.factor);
      },
      plotRef,
    },
  );
  return <div className="factor-chart" ref={el} data-testid="distribution-chart" />;
}

function DistributionTable({ report }: { report: FactorDistributionReport }) {
  return (
    <section className="card">
      <div className="card-title">
        Per factor <span className="dim">failures share ÷ images share = the factor's error ratio</span>
      </div>
      <div className="table-scroll">
        <table className="table compact" data-testid="distribution-table">
          <thead>
            <tr>
              <th>Factor</th>
              <th className="num">failures with it</th>
              <th className="num">share of failures</th>
              <th className="num">images with it</th>
              <th className="num">share of images</th>
              <th className="num">ratio</th>
            </tr>
          </thead>
          <tbody>
            {report.factors.map((f) => {
              const ratio = overRepresentation(f);
              return (
                <tr key={f.factor} data-testid="distribution-row" data-factor={f.factor}>
                  <td>{factorLabel(f.factor)}</td>
                  <td className="num">
                    {f.failures > 0 ? (
                      <button type="button" className="link-btn" onClick={() => drill(report.subject, report.sourceId, f.factor)} data-testid="distribution-failing">
                        {num(f.failures)}
                      </button>
                    ) : (
                      '0'
                    )}
                  </td>
                  <td className="num">{pct(f.shareOfFailures)}</td>
                  <td className="num">{num(f.images)}</td>
                  <td className="num">{pct(f.shareOfImages)}</td>
                  <td className="num">{ratio === null ? '–' : ratio.toFixed(2)}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </section>
  );
}

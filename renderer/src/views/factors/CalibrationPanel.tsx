// Calibration of a run or imported prediction set against an annotation source: the reliability
// diagram (accuracy per 15-bin confidence bin as bars, each bin's image count above its bar, the
// diagonal of perfect calibration, the ECE in the legend) for all evaluated images or the images
// with one factor, the bins as a table, PNG / SVG / CSV export.
import { useRef } from 'react';
import uPlot from 'uplot';
import type { AnalysisSubject, CalibrationReport } from '../../../../electron/contract.ts';
import { useApi } from '../../lib/lab.tsx';
import { num } from '../../lib/format.ts';
import { factorLabel } from '../../lib/factors.ts';
import { download } from '../../lib/download.ts';
import { canvasPng } from '../../lib/chart-png.ts';
import { safeFileName } from '../../lib/export-text.ts';
import { ACCURACY_COLOR, DIAGONAL_COLOR, calibrationCsv, curveOf, curveTitle, eceText, reliabilitySvg } from '../../lib/calibration-export.ts';
import { useUplot } from '../../lib/use-uplot.ts';
import { ErrorBox, Loading } from '../../components/common.tsx';
import { setFactorQuery } from './factor-query.ts';

const fileBase = (r: CalibrationReport, factor: string | null) => safeFileName(`reliability-${r.name}-${r.sourceName}-${factor ?? 'overall'}`);

export function CalibrationPanel({ subject, sourceId, curve }: { subject: AnalysisSubject; sourceId: number; curve: string | null }) {
  const report = useApi('analysis.calibration', { subject, sourceId }, ['lab', 'runs']);
  const plot = useRef<uPlot | null>(null);
  const r = report.data;
  if (!r) return report.error ? <ErrorBox error={report.error} onRetry={report.reload} testId="calibration-error" /> : <Loading what="the calibration" />;
  const factor = curve !== null && r.factors.some((f) => f.factor === curve) ? curve : null;
  const c = curveOf(r, factor);
  const legend = [
    { label: `accuracy per bin (${eceText(c)}, ${c.count} images)`, color: ACCURACY_COLOR },
    { label: 'perfect calibration', color: DIAGONAL_COLOR },
  ];
  return (
    <>
      <section className="card" data-testid="calibration-card">
        <div className="card-title">
          <label className="field compact inline">
            <span className="field-label">Images</span>
            <select value={factor ?? ''} onChange={(e) => setFactorQuery({ curve: e.target.value || null })} data-testid="calibration-factor">
              <option value="">all evaluated ({num(r.overall.count)}, {eceText(r.overall)})</option>
              {r.factors.map((f) => (
                <option key={f.factor} value={f.factor} disabled={f.count === 0}>
                  with {factorLabel(f.factor)} ({num(f.count)}, {eceText(f)})
                </option>
              ))}
            </select>
          </label>
          <span className="card-tools">
            <span className="dim" data-testid="calibration-ece">
              {eceText(c)} · worst factor {r.worstFactorEce === null ? '–' : r.worstFactorEce.toFixed(4)}
            </span>{' '}
            <button type="button" className="btn small" data-testid="calibration-export-png" onClick={() => canvasPng(plot.current?.ctx.canvas, `${fileBase(r, factor)}.png`, curveTitle(r, factor), legend)}>
              PNG
            </button>{' '}
            <button
              type="button"
              className="btn small"
              data-testid="calibration-export-svg"
              onClick={() => download(`${fileBase(r, factor)}.svg`, new Blob([reliabilitySvg(r, factor)], { type: 'image/svg+xml' }))}
            >
              SVG
            </button>{' '}
            <button type="button" className="btn small" data-testid="calibration-export-csv" onClick={() => download(`${fileBase(r, null)}.csv`, new Blob([calibrationCsv(r)], { type: 'text/csv' }))}>
              CSV
            </button>
          </span>
        </div>
        <ReliabilityChart report={r} factor={factor} legend={legend.map((l) => l.label)} plotRef={plot} />
      </section>
      <BinTable report={r} factor={factor} />
    </>
  );
}

function ReliabilityChart({ report, factor, legend, plotRef }: { report: CalibrationReport; factor: string | null; legend: string[]; plotRef: { current: uPlot | null } }) {
  const el = useRef<HTMLDivElement>(null);
  const c = curveOf(report, factor);
  useUplot(
    el,
    (width) => {
      const host = el.current!;
      // bars on the bin centres (uPlot sizes bars by the spacing of x); the diagonal is drawn by the
      // hook from (0, 0) to (1, 1), its series only names it in the legend
      const centres = c.bins.map((b) => (b.lo + b.hi) / 2);
      const size = Math.min(width, 640);
      return {
        data: [centres, c.bins.map((b) => b.accuracy), centres] as uPlot.AlignedData,
        opts: {
          width: size,
          height: Math.round(size * 0.8),
          padding: [20, 16, 0, 0],
          scales: { x: { time: false, range: [0, 1] }, y: { range: [0, 1.05] } },
          legend: { show: true, live: false },
          cursor: { drag: { x: false, y: false }, points: { show: false }, y: false },
          axes: [{ label: 'confidence (predicted class probability)', splits: () => [0, 0.2, 0.4, 0.6, 0.8, 1] }, { label: 'accuracy', size: 52 }],
          series: [
            {},
            {
              label: legend[0],
              fill: ACCURACY_COLOR,
              stroke: ACCURACY_COLOR,
              width: 0,
              paths: uPlot.paths.bars!({ size: [0.92, 200], align: 0 }),
              points: { show: false },
            },
            { label: legend[1], stroke: DIAGONAL_COLOR, width: 1.5, dash: [6, 4], points: { show: false }, paths: () => null },
          ],
          hooks: {
            draw: [
              (u: uPlot) => {
                const ctx = u.ctx;
                ctx.save();
                ctx.strokeStyle = DIAGONAL_COLOR;
                ctx.lineWidth = 1.5 * devicePixelRatio;
                ctx.setLineDash([6 * devicePixelRatio, 4 * devicePixelRatio]);
                ctx.beginPath();
                ctx.moveTo(u.valToPos(0, 'x', true), u.valToPos(0, 'y', true));
                ctx.lineTo(u.valToPos(1, 'x', true), u.valToPos(1, 'y', true));
                ctx.stroke();
                ctx.setLineDash([]);
                // each bin's image count above its bar
                ctx.fillStyle = '#444';
                ctx.textAlign = 'center';
                ctx.font = `${11 * devicePixelRatio}px sans-serif`;
                const bins: { bin: number; count: number; accuracy: number | null; x: number; y: number }[] = [];
                c.bins.forEach((b, i) => {
                  if (b.accuracy === null) return;
                  const x = u.valToPos(centres[i], 'x', true);
                  const y = u.valToPos(b.accuracy, 'y', true);
                  ctx.fillText(String(b.count), x, y - 4 * devicePixelRatio);
                  bins.push({ bin: i, count: b.count, accuracy: b.accuracy, x: u.valToPos(centres[i], 'x'), y: u.valToPos(b.accuracy / 2, 'y') });
                });
                ctx.restore();
                host.dataset.bins = JSON.stringify(bins);
              },
            ],
          },
        },
      };
    },
    [report, factor],
    { minWidth: 360, plotRef },
  );
  return <div className="reliability-chart" ref={el} data-testid="reliability-chart" />;
}

function BinTable({ report, factor }: { report: CalibrationReport; factor: string | null }) {
  const c = curveOf(report, factor);
  return (
    <section className="card">
      <div className="card-title">
        Bins <span className="dim">(lo, hi]; the first also holds 0. ECE = Σ |accuracy − mean confidence| × count / {num(c.count)}</span>
      </div>
      <div className="table-scroll">
        <table className="table compact" data-testid="calibration-bins">
          <thead>
            <tr>
              <th>confidence</th>
              <th className="num">images</th>
              <th className="num">mean confidence</th>
              <th className="num">accuracy</th>
              <th className="num">|gap|</th>
            </tr>
          </thead>
          <tbody>
            {c.bins.map((b, i) => (
              <tr key={i} data-testid="calibration-bin">
                <td>
                  ({b.lo.toFixed(3)}, {b.hi.toFixed(3)}]
                </td>
                <td className="num">{num(b.count)}</td>
                <td className="num">{b.confidence === null ? '–' : b.confidence.toFixed(3)}</td>
                <td className="num">{b.accuracy === null ? '–' : b.accuracy.toFixed(3)}</td>
                <td className="num">{b.accuracy === null || b.confidence === null ? '–' : Math.abs(b.accuracy - b.confidence).toFixed(3)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

// The paper's Figure 5 for the shown result: heldout / test / seed accuracy of individual (and
// random) debugging against λ (all backgrounds) and against k (top backgrounds per class, the
// result's λ), drawn from the stored results that differ from it only there. Clicking a point opens
// its result; PNG / SVG / CSV export per chart; a button runs the CLI's missing sweep points
// (λ 0, 0.25, 0.5, 1, 2, 4; k 1..the attribution's k) as retraining jobs and follows them.
import { useMemo, useRef, useState } from 'react';
import uPlot from 'uplot';
import type { DebugResult, DebugSummary } from '../../../../electron/contract.ts';
import { useLab } from '../../lib/lab.tsx';
import { download } from '../../lib/download.ts';
import { canvasPng } from '../../lib/chart-png.ts';
import { accuracyText } from '../../lib/patch-format.ts';
import { missingSweepPoints, paramName, sweepCsv, sweepSeries, sweepsOf, sweepSvg, sweepTitle, type SweepParam, type SweepPoint } from '../../lib/patch-sweep.ts';
import { useUplot } from '../../lib/use-uplot.ts';
import { ErrorBox } from '../../components/common.tsx';
import { JobProgress } from '../../components/StatusBar.tsx';

const HEIGHT = 260;

interface Props {
  result: DebugResult;
  /** The stored results of the attribution (debug.list). */
  results: DebugSummary[];
  attributionK: number;
  onSelect: (resultId: number) => void;
}

export function SweepCharts({ result: r, results, attributionK, onSelect }: Props) {
  const sweeps = useMemo(() => sweepsOf(results, r.settings), [results, r.settings]);
  const missing = useMemo(() => missingSweepPoints(sweeps, r.settings, attributionK), [sweeps, r.settings, attributionK]);
  return (
    <section className="card" data-testid="sweep-card" data-result={r.id}>
      <div className="card-title">
        Sweeps (Figure 5) <span className="dim">the same sets, runs, optimizer, epochs and seed; heldout solid, test dashed, seed dotted</span>
      </div>
      <div className="patch-sweeps">
        <SweepChart param="lambda" points={sweeps.lambda} result={r} onSelect={onSelect} />
        <SweepChart param="k" points={sweeps.k} result={r} onSelect={onSelect} />
      </div>
      <SweepRunner result={r} missing={missing} />
    </section>
  );
}

function SweepChart({ param, points, result: r, onSelect }: { param: SweepParam; points: SweepPoint[]; result: DebugResult; onSelect: (id: number) => void }) {
  const plot = useRef<uPlot | null>(null);
  const title = `${r.model.name}, attribution #${r.attributionId}: ${sweepTitle(param, r.settings.lambda)}`;
  const file = `factorlab-debug-${r.id}-sweep-${param === 'lambda' ? 'lambda' : 'k'}`;
  const series = sweepSeries(points);
  return (
    <div className="patch-sweep" data-testid={`sweep-${param}`} data-points={points.length}>
      <div className="patch-sweep-title">
        {sweepTitle(param, r.settings.lambda)}
        {points.length >= 2 ? (
          <span className="card-tools">
            <button type="button" className="btn small" onClick={() => canvasPng(plot.current?.ctx.canvas, `${file}.png`, title, series.map((s) => ({ label: s.label, color: s.color })))} data-testid={`sweep-${param}-png`}>
              PNG
            </button>
            <button type="button" className="btn small" onClick={() => download(`${file}.svg`, new Blob([sweepSvg(points, param, title)], { type: 'image/svg+xml' }))} data-testid={`sweep-${param}-svg`}>
              SVG
            </button>
            <button type="button" className="btn small" onClick={() => download(`${file}.csv`, new Blob([sweepCsv(points, param)], { type: 'text/csv' }))} data-testid={`sweep-${param}-csv`}>
              CSV
            </button>
          </span>
        ) : null}
      </div>
      {points.length >= 2 ? (
        <SweepPlot param={param} points={points} current={r.id} onSelect={onSelect} plotRef={plot} />
      ) : (
        <p className="dim pad" data-testid={`sweep-${param}-empty`}>
          {points.length === 0 ? 'No stored result' : `Only result #${points[0]!.resultId}`} for this sweep yet.
        </p>
      )}
    </div>
  );
}

/** Points evenly spaced by index (λ is not linear), labelled with their value. */
function SweepPlot({ param, points, current, onSelect, plotRef }: { param: SweepParam; points: SweepPoint[]; current: number; onSelect: (id: number) => void; plotRef: { current: uPlot | null } }) {
  const el = useRef<HTMLDivElement>(null);
  useUplot(
    el,
    (width) => {
      const host = el.current!;
      const series = sweepSeries(points);
      const xs = points.map((_, i) => i);
      return {
        data: [xs, ...series.map((s) => s.values.map((v) => 100 * v))] as uPlot.AlignedData,
        opts: {
          width,
          height: HEIGHT,
          padding: [12, 16, 0, 0],
          scales: { x: { time: false, range: [-0.3, points.length - 0.7] }, y: { range: [0, 100] } },
          legend: { show: true, live: false },
          cursor: { drag: { x: false, y: false }, points: { show: false }, y: false },
          axes: [
            { label: paramName(param), splits: () => xs, values: (_u, splits) => splits.map((i) => (points[i] ? `${points[i]!.x}${points[i]!.resultId === current ? ' •' : ''}` : '')) },
            { label: 'accuracy (%)', size: 52 },
          ],
          series: [
            {},
            ...series.map((s) => ({
              label: s.label,
              stroke: s.color,
              width: 2,
              dash: s.dash,
              points: { show: true, size: 6, fill: s.color },
              value: (_u: uPlot, v: number | null) => (v === null ? '–' : accuracyText(v / 100)),
            })),
          ],
          hooks: {
            draw: [
              (u: uPlot) => {
                // where each point is (CSS pixels in the plot area), for tests and the click
                host.dataset.points = JSON.stringify(points.map((p, i) => ({ x: p.x, resultId: p.resultId, left: u.valToPos(i, 'x'), top: u.valToPos(100 * p.individual.heldout, 'y') })));
              },
            ],
          },
        },
      };
    },
    [points, current],
    {
      minWidth: 320,
      plotRef,
      onClick: (left, _top, u) => {
        const i = Math.round(u.posToVal(left, 'x'));
        const p = points[Math.max(0, Math.min(points.length - 1, i))];
        if (p && p.resultId !== current) onSelect(p.resultId);
      },
    },
  );
  return <div className="patch-chart" ref={el} data-testid={`sweep-${param}-chart`} />;
}

/** Starts the missing points (debug.start; queued jobs, or the active job of the same settings) and follows them. */
function SweepRunner({ result: r, missing }: { result: DebugResult; missing: ReturnType<typeof missingSweepPoints> }) {
  const { client, jobs, bump, notify } = useLab();
  const [jobIds, setJobIds] = useState<number[]>([]);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const followed = jobIds.map((id) => jobs.find((j) => j.id === id)).filter((j) => j !== undefined);
  const finished = followed.filter((j) => j.status === 'done').length;
  const failed = followed.filter((j) => j.status === 'failed' || j.status === 'cancelled');
  const running = followed.find((j) => j.status === 'running') ?? followed.find((j) => j.status === 'queued');
  const active = followed.some((j) => j.status === 'running' || j.status === 'queued');

  const start = async () => {
    setBusy(true);
    setError(null);
    const ids: number[] = [];
    try {
      for (const s of missing) {
        const started = await client.call('debug.start', s);
        if (started.jobId !== null) ids.push(started.jobId);
      }
      if (ids.length) notify('info', `Sweep: ${ids.length} retraining job${ids.length === 1 ? '' : 's'} queued`);
    } catch (err) {
      setError(err);
    } finally {
      setJobIds(ids);
      setBusy(false);
      bump('jobs');
      bump('debug');
    }
  };

  const lambdas = missing.filter((s) => s.k === null).map((s) => s.lambda);
  const ks = missing.filter((s) => s.k !== null).map((s) => s.k);
  return (
    <div className="pad" data-testid="sweep-runner">
      {missing.length === 0 && !active ? (
        <span className="dim" data-testid="sweep-complete">
          Every point of the CLI's sweep is stored.
        </span>
      ) : (
        <>
          <button type="button" className="btn" onClick={start} disabled={busy || active || missing.length === 0} data-testid="sweep-run">
            {busy ? 'Starting…' : `Run the ${missing.length} missing point${missing.length === 1 ? '' : 's'}`}
          </button>{' '}
          <span className="dim">
            {lambdas.length ? `λ ${lambdas.join(', ')} (all backgrounds)` : ''}
            {lambdas.length && ks.length ? '; ' : ''}
            {ks.length ? `k ${ks.join(', ')} (λ ${r.settings.lambda})` : ''}
          </span>
        </>
      )}
      <ErrorBox error={error} testId="sweep-error" />
      {jobIds.length ? (
        <div data-testid="sweep-progress" data-done={finished} data-total={jobIds.length}>
          Sweep: {finished} of {jobIds.length} points retrained
          {running ? (
            <>
              {' '}
              · job #{running.id} ({running.title}): <JobProgress job={running} compact />
            </>
          ) : null}
          {failed.length ? <span className="bad"> · {failed.map((j) => `job #${j.id} ${j.status}${j.error ? `: ${j.error}` : ''}`).join('; ')}</span> : null}
        </div>
      ) : null}
    </div>
  );
}

// One retraining result: the paper's Table 2 (accuracy before, after individual debugging and after
// random debugging, on the test set, the seed failures and the heldout failures; gains in points),
// its grouped bar chart, the settings, and the export of a patched head.
import { useMemo, useRef, useState, type FormEvent } from 'react';
import type uPlot from 'uplot';
import type { DebugResult } from '../../../../electron/contract.ts';
import { useLab } from '../../lib/lab.tsx';
import { num } from '../../lib/format.ts';
import { accuracyText, gainText, SPLITS, table2Rows, table2Svg } from '../../lib/patch-format.ts';
import { download } from '../../lib/download.ts';
import { ErrorBox, Field } from '../../components/common.tsx';
import { JobProgress, useCancelJob } from '../../components/StatusBar.tsx';
import { useJobResult } from '../../lib/use-job-result.ts';
import { AccuracyChart, chartPng } from './AccuracyChart.tsx';

export function ResultDetail({ result: r }: { result: DebugResult }) {
  const rows = useMemo(() => table2Rows(r), [r]);
  const plot = useRef<uPlot | null>(null);
  const title = `${r.model.name}, debug result #${r.id}: accuracy before and after retraining the head (λ ${r.settings.lambda})`;
  const ratio = r.gain.random && r.gain.random.heldout !== 0 ? r.gain.individual.heldout / r.gain.random.heldout : null;
  return (
    <section className="card" data-testid="debug-result" data-result={r.id}>
      <div className="card-title">
        Result #{r.id}: {r.model.name}
        <span className="card-tools">
          <button type="button" className="btn small" onClick={() => chartPng(plot.current, `factorlab-debug-${r.id}.png`, title, rows)} data-testid="chart-png">
            PNG
          </button>
          <button type="button" className="btn small" onClick={() => download(`factorlab-debug-${r.id}.svg`, new Blob([table2Svg(rows, title)], { type: 'image/svg+xml' }))} data-testid="chart-svg">
            SVG
          </button>
        </span>
      </div>
      <div className="patch-result">
        <div>
          <table className="table table2" data-testid="table2">
            <thead>
              <tr>
                <th />
                {SPLITS.map((s) => (
                  <th key={s} className="num">
                    {s} <span className="dim">({num(r.counts[s])})</span>
                  </th>
                ))}
                <th className="num" title="accepted generated images trained on">
                  images
                </th>
              </tr>
            </thead>
            <tbody>
              {rows.map((row) => (
                <tr key={row.label} data-testid="table2-row" data-row={row.label}>
                  <th>{row.label}</th>
                  {SPLITS.map((s) => (
                    <td key={s} className="num" data-testid={`table2-${s}`}>
                      <span data-testid="table2-acc">{accuracyText(row.acc[s])}</span>
                      {row.gain ? (
                        <span className={`gain ${row.gain[s] > 0 ? 'good' : row.gain[s] < 0 ? 'bad' : 'dim'}`} data-testid="table2-gain">
                          {' '}
                          ({gainText(row.gain[s])})
                        </span>
                      ) : null}
                    </td>
                  ))}
                  <td className="num" data-testid="table2-images">
                    {row.images === null ? '–' : num(row.images)}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <p className="dim pad">
            Heldout gain: individual {gainText(r.gain.individual.heldout)} points
            {r.gain.random ? `, random ${gainText(r.gain.random.heldout)} points` : ''}
            {ratio !== null ? ` (ratio ${ratio.toFixed(2)})` : ''}. Trained on {num(r.counts.train)} train images + the accepted generated images, λ {r.settings.lambda}, {(r.settings.k ?? null) === null ? 'every background' : `top ${r.settings.k} backgrounds per class`},{' '}
            {r.optimizer.name} ({r.optimizer.backend}), {r.settings.epochs} epochs, seed {r.settings.seed}; runs: debug #{r.runId}, train #{r.settings.trainRunId}, test #
            {r.settings.testRunId}; sets: individual #{r.settings.individualSetId}
            {r.settings.randomSetId !== null ? `, random #${r.settings.randomSetId}` : ''}; {r.seconds.toFixed(1)} s.
          </p>
        </div>
        <AccuracyChart rows={rows} plotRef={plot} />
      </div>
      <ExportForm result={r} />
    </section>
  );
}

function ExportForm({ result }: { result: DebugResult }) {
  const { client } = useLab();
  const cancel = useCancelJob();
  const [out, setOut] = useState('');
  const [which, setWhich] = useState<'individual' | 'random'>('individual');
  // The export is a job (kind 'export'): followed here, its result fetched once it is done.
  const { job, running, busy, error, done, start } = useJobResult((jobId) => client.call('debug.exported', { jobId }));

  const submit = (e: FormEvent) => {
    e.preventDefault();
    void start(() => client.call('debug.export', { id: result.id, out: out.trim(), which }));
  };

  const match = done ? Math.abs(done.check.accuracy - done.check.evaluated) < 1e-9 : false;
  return (
    <form className="form patch-export" onSubmit={submit} data-testid="export-form">
      <div className="form-row">
        <Field label="Export to folder" hint="the patched classifier package, the head (safetensors, JSON) and report.html">
          <input value={out} onChange={(e) => setOut(e.target.value)} placeholder="/path/to/patched-model" required data-testid="export-out" style={{ minWidth: 320 }} />
        </Field>
        <Field label="Head">
          <select value={which} onChange={(e) => setWhich(e.target.value as 'individual' | 'random')} data-testid="export-which">
            <option value="individual">individual</option>
            <option value="random" disabled={result.random === null}>
              random
            </option>
          </select>
        </Field>
        <div className="form-actions inline">
          <button type="submit" className="btn" disabled={busy || running || !out.trim()} data-testid="export-submit">
            {busy ? 'Starting…' : running ? 'Exporting… (runs the patched model on the test images)' : 'Export'}
          </button>
        </div>
      </div>
      {job && job.status !== 'done' ? (
        <div className="pad" data-testid="export-job" data-status={job.status}>
          Export job #{job.id}: {running ? <JobProgress job={job} /> : job.status}
          {job.status === 'cancelled' ? <span className="dim"> (what it had written was removed)</span> : job.message ? <span className="dim"> {job.message}</span> : null}
          {job.error ? <span className="bad"> {job.error}</span> : null}{' '}
          {running ? (
            <button type="button" className="btn small" onClick={() => cancel(job)} data-testid="export-cancel">
              Cancel
            </button>
          ) : null}
        </div>
      ) : null}
      <ErrorBox error={error} testId="export-error" />
      {done ? (
        <div className="pad" data-testid="export-done">
          <div className={match ? 'good' : 'bad'} data-testid="export-check">
            Check: the patched model on {num(done.check.images)} test images: {accuracyText(done.check.accuracy)} (evaluation from stored features: {accuracyText(done.check.evaluated)}
            ); logits within {done.check.logitsMaxAbsDiff.toExponential(2)}
          </div>
          <table className="table compact">
            <tbody>
              {(
                [
                  ['folder', done.dir],
                  ['ONNX', done.onnx],
                  ['manifest', done.manifest],
                  ['head (safetensors)', done.safetensors],
                  ['head (JSON)', done.json],
                  ['report', done.report],
                  ['ONNX sha256', done.onnxSha256],
                ] as const
              ).map(([k, v]) => (
                <tr key={k}>
                  <th>{k}</th>
                  <td className="mono">{v}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </form>
  );
}

// The attribution's generation sets with their review counts, the classifier's accuracy on them and
// the progress of a running generation job; a row opens the set's review grid.
import { useEffect } from 'react';
import type { GenerationSetSummary } from '../../../../electron/contract.ts';
import { useLab, type ApiState } from '../../lib/lab.tsx';
import { num, pct } from '../../lib/format.ts';
import { Empty, ErrorBox, Loading, StatusBadge } from '../../components/common.tsx';
import { JobProgress } from '../../components/StatusBar.tsx';

export function GenerationSets({ state, selected, onSelect }: { state: ApiState<GenerationSetSummary[]>; selected: number | null; onSelect: (setId: number) => void }) {
  const { jobs } = useLab();
  const active = (state.data ?? []).map((s) => (s.jobId !== null ? jobs.find((j) => j.id === s.jobId) : undefined));
  // Counts grow while a job generates: fetch them again every tenth of the way.
  const progressKey = active.map((j) => (j ? `${j.id}:${j.status}:${Math.floor(j.done / Math.max(1, j.total / 10))}` : '')).join(',');
  const { reload } = state;
  useEffect(() => {
    if (progressKey.replace(/,/g, '')) reload();
  }, [progressKey, reload]);

  return (
    <section className="card" data-testid="generation-sets">
      <div className="card-title">Generated images</div>
      <ErrorBox error={state.error} onRetry={state.reload} />
      {state.data === null && state.loading ? <Loading what="generation sets" /> : null}
      {state.data && state.data.length === 0 ? <Empty title="No generated images yet: start the individual and the random set below" testId="generation-sets-empty" /> : null}
      {state.data && state.data.length > 0 ? (
        <div className="table-scroll">
          <table className="table">
            <thead>
              <tr>
                <th className="num">#</th>
                <th>Set</th>
                <th>Status</th>
                <th className="num">Generated</th>
                <th className="num">Accepted</th>
                <th className="num">Rejected</th>
                <th className="num">Pending</th>
                <th className="num" title="The debugged classifier's accuracy on the generated images (all / accepted only)">
                  Classifier acc. (all / accepted)
                </th>
                <th>Settings</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {state.data.map((s, i) => {
                const job = active[i];
                const running = job && (job.status === 'running' || job.status === 'queued');
                return (
                  <tr key={s.id} data-testid="generation-set-row" data-kind={s.kind} data-set={s.id} className={s.id === selected ? 'selected' : undefined}>
                    <td className="num dim">{s.id}</td>
                    <td>
                      <strong>{s.kind}</strong>
                      <div className="dim">{s.kind === 'individual' ? 'a photo of a {class} {background}' : 'a photo of a {class}'}</div>
                    </td>
                    <td>
                      {running ? <JobProgress job={job} compact /> : <StatusBadge status={s.status} />}
                      {s.message && !running && s.status !== 'done' ? <div className="dim wrap">{s.message}</div> : null}
                    </td>
                    <td className="num" data-testid="set-generated">
                      {num(s.generated)}
                      {s.generated !== s.total ? <span className="dim"> / {num(s.total)}</span> : null}
                    </td>
                    <td className="num good" data-testid="set-accepted">
                      {num(s.accepted)}
                    </td>
                    <td className="num bad" data-testid="set-rejected">
                      {num(s.rejected)}
                    </td>
                    <td className="num" data-testid="set-pending">
                      {num(s.pending)}
                    </td>
                    <td className="num" data-testid="set-accuracy">
                      {pct(s.classifierAccuracy)} / {pct(s.classifierAccuracyAccepted)}
                    </td>
                    <td className="dim wrap" title={s.generator}>
                      {s.perPrompt} per prompt · {s.steps} steps · guidance {s.guidance} · seed {s.seed}
                    </td>
                    <td className="actions">
                      <button type="button" className={`btn small${s.id === selected ? ' primary' : ''}`} disabled={s.generated === 0} onClick={() => onSelect(s.id)} data-testid="set-review">
                        Review
                      </button>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      ) : null}
    </section>
  );
}

import { useLab } from '../lib/lab.tsx';
import { num, when } from '../lib/format.ts';
import { Empty, ErrorBox, PageHeader, StatusBadge } from '../components/common.tsx';
import { JobProgress, useCancelJob } from '../components/StatusBar.tsx';
import type { JobInfo } from '../../../electron/contract.ts';

export function JobsView() {
  const { jobs, jobsError, bump, client, notify, notifyError } = useLab();
  const cancel = useCancelJob();
  const resume = async (job: JobInfo) => {
    try {
      await client.call('jobs.resume', { jobId: job.id });
      notify('info', `Resuming job #${job.id}`);
      bump('jobs');
    } catch (err) {
      notifyError(err, `Resume job #${job.id}`);
    }
  };
  return (
    <div className="page">
      <PageHeader title="Jobs" sub="Imports and runs: persistent, resumable, with progress">
        <button type="button" className="btn" onClick={() => bump('jobs')}>
          Refresh
        </button>
      </PageHeader>
      <ErrorBox error={jobsError} onRetry={() => bump('jobs')} />
      {jobs.length === 0 && !jobsError ? <Empty title="No jobs yet" testId="jobs-empty">Importing a dataset or starting a run creates a job.</Empty> : null}
      {jobs.length > 0 ? (
        <table className="table" data-testid="jobs-table">
          <thead>
            <tr>
              <th className="num">#</th>
              <th>Job</th>
              <th>Status</th>
              <th>Progress</th>
              <th>Message</th>
              <th>Updated</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {jobs.map((j) => (
              <tr key={j.id} data-testid="job-row" data-status={j.status}>
                <td className="num dim">{j.id}</td>
                <td>
                  <span className="strong">{j.title}</span> <span className="tag">{j.kind}</span>
                </td>
                <td>
                  <StatusBadge status={j.status} />
                </td>
                <td className="progress-cell">
                  {j.status === 'running' || j.status === 'queued' ? (
                    <JobProgress job={j} />
                  ) : (
                    <span className="dim">
                      {num(j.done)}/{j.total > 0 ? num(j.total) : '?'}
                    </span>
                  )}
                </td>
                <td className={j.error ? 'bad wrap' : 'dim wrap'} data-testid="job-message">
                  {/* the last progress message is stale once a job is done */}
                  {j.error ?? (j.status === 'done' ? '' : (j.message ?? ''))}
                </td>
                <td className="dim">{when(j.updatedAt)}</td>
                <td className="actions">
                  {j.status === 'running' || j.status === 'queued' ? (
                    <button type="button" className="btn tiny danger" onClick={() => void cancel(j)}>
                      Cancel
                    </button>
                  ) : null}
                  {j.status === 'interrupted' || j.status === 'failed' || j.status === 'cancelled' ? (
                    <button type="button" className="btn tiny" onClick={() => void resume(j)}>
                      Resume
                    </button>
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </div>
  );
}

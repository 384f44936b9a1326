import type { JobInfo } from '../../../electron/contract.ts';
import { useLab } from '../lib/lab.tsx';
import { duration, num, rate } from '../lib/format.ts';
import { format } from '../lib/router.ts';

export function useCancelJob() {
  const { client, notify, notifyError, bump } = useLab();
  return async (job: JobInfo) => {
    try {
      await client.call('jobs.cancel', { jobId: job.id });
      notify('info', `Cancelling job #${job.id}: ${job.title}`);
      bump('jobs');
    } catch (err) {
      notifyError(err, `Cancel job #${job.id}`);
    }
  };
}

export function JobProgress({ job, compact = false }: { job: JobInfo; compact?: boolean }) {
  const frac = job.total > 0 ? job.done / job.total : 0;
  const indeterminate = job.total <= 0;
  return (
    <span className={`job-progress${compact ? ' compact' : ''}`} data-testid="job-progress">
      <span className={`progress${indeterminate ? ' indeterminate' : ''}`} role="progressbar" aria-valuemin={0} aria-valuemax={job.total || undefined} aria-valuenow={job.done}>
        <span className="progress-fill" style={{ width: indeterminate ? undefined : `${(frac * 100).toFixed(1)}%` }} />
      </span>
      <span className="job-numbers">
        {num(job.done)}/{job.total > 0 ? num(job.total) : '?'}
        {job.rate !== null ? <span className="dim"> · {rate(job.rate)}</span> : null}
        {job.etaSeconds !== null ? <span className="dim"> · ETA {duration(job.etaSeconds)}</span> : null}
      </span>
    </span>
  );
}

export function StatusBar() {
  const { info, infoError, connection, jobs, client } = useLab();
  const cancel = useCancelJob();
  const active = jobs.filter((j) => j.status === 'running' || j.status === 'queued');
  const shown = active.find((j) => j.status === 'running') ?? active[0];

  const provider = info?.provider;
  const providerText = provider ? (provider.active ?? `${provider.requested} (not used yet)`) : infoError ? 'unknown' : '…';
  const providerTitle = provider
    ? [`requested: ${provider.requested}`, `active: ${provider.active ?? 'no model session yet'}`, ...provider.fallbacks.map((f) => `skipped ${f.provider}: ${f.reason}`)].join('\n')
    : infoError
      ? infoError.message
      : '';

  const conn = connection.status;
  return (
    <footer className="statusbar" data-testid="statusbar">
      <span className={`sb-item conn conn-${conn}`} data-testid="connection" title={connection.detail ?? ''}>
        <span className="dot" />
        {client.transport === 'electron' ? 'desktop' : conn === 'open' ? 'connected' : conn === 'closed' ? 'closed' : conn === 'connecting' ? 'connecting…' : `reconnecting… (${connection.attempt})`}
        {conn !== 'open' && conn !== 'closed' && connection.attempt > 1 ? (
          <button type="button" className="link-btn" onClick={() => client.reconnectNow()}>
            retry now
          </button>
        ) : null}
      </span>
      <span className="sb-item" data-testid="provider" title={providerTitle}>
        Provider: <strong>{providerText}</strong>
        {provider && provider.fallbacks.length ? <span className="dim"> ({provider.fallbacks.length} skipped)</span> : null}
      </span>
      {info ? (
        <span className="sb-item dim sb-path" title={info.path}>
          {info.path}
        </span>
      ) : null}
      <span className="sb-spacer" />
      {shown ? (
        <span className="sb-item sb-job" data-testid="statusbar-job">
          <span className="sb-job-title" title={shown.message ?? shown.title}>
            {shown.title}
            {shown.status === 'queued' ? <span className="dim"> (queued)</span> : null}
          </span>
          <JobProgress job={shown} compact />
          <button type="button" className="btn tiny danger" data-testid="statusbar-cancel" onClick={() => void cancel(shown)}>
            Cancel
          </button>
          {active.length > 1 ? (
            <a className="dim" href={format(['jobs'])}>
              +{active.length - 1} more
            </a>
          ) : null}
        </span>
      ) : (
        <span className="sb-item dim">No jobs running</span>
      )}
    </footer>
  );
}

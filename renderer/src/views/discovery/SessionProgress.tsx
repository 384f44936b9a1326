// A discovery session's state where it is listed: the live job (stage message, progress, rate, ETA,
// cancel) while one runs, else its status badge, the stored stage and a Resume for an unfinished one.
import type { DiscoverySummary, JobInfo } from '../../../../electron/contract.ts';
import { useLab } from '../../lib/lab.tsx';
import { StatusBadge } from '../../components/common.tsx';
import { JobProgress, useCancelJob } from '../../components/StatusBar.tsx';

export const STAGES: DiscoverySummary['stage'][] = ['generate', 'describe', 'cluster', 'confirm', 'refine', 'done'];

export function activeJob(jobs: JobInfo[], s: DiscoverySummary): JobInfo | undefined {
  const j = s.jobId !== null ? jobs.find((x) => x.id === s.jobId) : undefined;
  return j && (j.status === 'running' || j.status === 'queued') ? j : undefined;
}

/** Reload a report or a list as a job moves on: at every tenth of its progress and when its message (the stage) changes. */
export function progressKey(jobs: JobInfo[], sessions: DiscoverySummary[]): string {
  return sessions
    .map((s) => {
      const j = s.jobId !== null ? jobs.find((x) => x.id === s.jobId) : undefined;
      return j ? `${j.id}:${j.status}:${j.message ?? ''}:${Math.floor(j.done / Math.max(1, j.total / 10))}` : '';
    })
    .join(',');
}

export function SessionProgress({ session, onResume, compact = false }: { session: DiscoverySummary; onResume?: () => void; compact?: boolean }) {
  const { jobs } = useLab();
  const cancel = useCancelJob();
  const job = activeJob(jobs, session);
  if (job) {
    return (
      <span className="disc-progress" data-testid="discovery-job">
        <StatusBadge status={job.status} />
        <span className="dim" data-testid="discovery-job-message">
          {job.message ?? session.stage}
        </span>
        <JobProgress job={job} compact={compact} />
        <button type="button" className="btn tiny danger" onClick={() => void cancel(job)} aria-label={`Cancel discovery session ${session.id}`} data-testid="discovery-cancel">
          Cancel
        </button>
      </span>
    );
  }
  const unfinished = session.status !== 'done' && session.jobId === null;
  return (
    <span className="disc-progress">
      <StatusBadge status={session.status} />
      {session.status !== 'done' ? <span className="dim">stage {session.stage}</span> : null}
      {unfinished && onResume ? (
        <button type="button" className="btn tiny" onClick={onResume} aria-label={`Resume discovery session ${session.id}`} data-testid="discovery-resume">
          Resume
        </button>
      ) : null}
      {session.message && session.status !== 'done' ? (
        <span className={session.status === 'failed' ? 'bad wrap' : 'dim wrap'} data-testid="discovery-message">
          {session.message}
        </span>
      ) : null}
    </span>
  );
}

/** discovery.start with a session's own settings: the same session, resumed where it stopped. */
export function useResume() {
  const { client, bump, notify, notifyError } = useLab();
  return async (s: DiscoverySummary) => {
    try {
      const r = await client.call('discovery.start', { modelId: s.modelId, ...s.settings });
      notify('info', r.jobId === null ? `Discovery session #${r.id} is finished` : `Resuming discovery session #${r.id} (job #${r.jobId})`);
      bump('jobs', 'discovery');
    } catch (err) {
      notifyError(err, `Resume discovery session #${s.id}`);
    }
  };
}

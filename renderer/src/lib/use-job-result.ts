// A form that starts a job and shows its result: the job is followed through the lab's job list and
// its result fetched once it is done (export of a patched head, fp16 conversion, ...).
import { useEffect, useState } from 'react';
import { useLab } from './lab.tsx';

export function useJobResult<R>(fetchResult: (jobId: number) => Promise<R>, onDone?: () => void) {
  const { jobs, bump } = useLab();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState<R | null>(null);
  const [jobId, setJobId] = useState<number | null>(null);
  const job = jobId !== null ? jobs.find((j) => j.id === jobId) : undefined;
  const running = job?.status === 'queued' || job?.status === 'running';

  useEffect(() => {
    if (jobId === null || job?.status !== 'done') return;
    let live = true;
    fetchResult(jobId).then(
      (r) => {
        if (!live) return;
        setDone(r);
        onDone?.();
      },
      (err: unknown) => live && setError(err),
    );
    return () => {
      live = false;
    };
    // fetchResult / onDone are per render; the fetch is keyed on the job reaching 'done'
  }, [jobId, job?.status]);

  /** Starts the job (`call` returns its id); a new start forgets the previous job and result. */
  const start = async (call: () => Promise<{ jobId: number }>): Promise<void> => {
    setBusy(true);
    setError(null);
    setDone(null);
    setJobId(null);
    try {
      setJobId((await call()).jobId);
      bump('jobs');
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return { job, running, busy, error, done, start };
}

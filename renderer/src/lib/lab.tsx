// App-wide state: the client, live jobs (from `job` events), change topics (from `lab` events),
// lab info (provider), the connection state and toasts. Views read it through the hooks below.
import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import type { JobInfo, LabInfo, Method, ParamsIn, Results } from '../../../electron/contract.ts';
import { ApiError, describeError, type ConnectionState, type LabClient } from '../api/index.ts';

export type Topic = 'datasets' | 'models' | 'runs' | 'debug' | 'discovery' | 'jobs' | 'lab';

export interface Toast {
  id: number;
  kind: 'error' | 'info' | 'success';
  text: string;
}

interface LabContextValue {
  client: LabClient;
  jobs: JobInfo[];
  jobsError: ApiError | null;
  info: LabInfo | null;
  infoError: ApiError | null;
  connection: ConnectionState;
  versions: Record<Topic, number>;
  bump: (...topics: Topic[]) => void;
  toasts: Toast[];
  notify: (kind: Toast['kind'], text: string) => void;
  notifyError: (err: unknown, what?: string) => void;
  dismiss: (id: number) => void;
}

const LabContext = createContext<LabContextValue | null>(null);

const TERMINAL = new Set<JobInfo['status']>(['done', 'failed', 'cancelled', 'interrupted']);

export function LabProvider({ client, children }: { client: LabClient; children: ReactNode }) {
  const [jobsById, setJobsById] = useState<Map<number, JobInfo>>(() => new Map());
  const [jobsError, setJobsError] = useState<ApiError | null>(null);
  const [info, setInfo] = useState<LabInfo | null>(null);
  const [infoError, setInfoError] = useState<ApiError | null>(null);
  const [connection, setConnection] = useState<ConnectionState>(() => client.connection());
  const [versions, setVersions] = useState<Record<Topic, number>>({ datasets: 0, models: 0, runs: 0, debug: 0, discovery: 0, jobs: 0, lab: 0 });
  const [toasts, setToasts] = useState<Toast[]>([]);
  const toastId = useRef(1);
  const statusById = useRef(new Map<number, JobInfo['status']>());

  const bump = useCallback((...topics: Topic[]) => {
    setVersions((v) => {
      const next = { ...v };
      for (const t of topics) next[t] += 1;
      return next;
    });
  }, []);

  const dismiss = useCallback((id: number) => setToasts((t) => t.filter((x) => x.id !== id)), []);
  const notify = useCallback(
    (kind: Toast['kind'], text: string) => {
      const id = toastId.current++;
      setToasts((t) => [...t.slice(-4), { id, kind, text }]);
      setTimeout(() => dismiss(id), kind === 'error' ? 15000 : 4000);
    },
    [dismiss],
  );
  const notifyError = useCallback(
    (err: unknown, what?: string) => {
      console.error(what ?? 'FactorLab error', err);
      notify('error', what ? `${what}: ${describeError(err)}` : describeError(err));
    },
    [notify],
  );

  // Live events: job progress updates the job table; lab events invalidate lists.
  useEffect(() => {
    return client.onEvent((event) => {
      if (event.type === 'job') {
        const job = event.job;
        const before = statusById.current.get(job.id);
        statusById.current.set(job.id, job.status);
        setJobsById((prev) => new Map(prev).set(job.id, job));
        if (TERMINAL.has(job.status) && before !== job.status) {
          // A finished job usually changed lists and the active provider: refresh them once.
          bump('datasets', 'models', 'runs', 'lab');
          if (job.status === 'failed') notify('error', `Job #${job.id} (${job.title}) failed: ${job.error ?? 'no reason given'}`);
        }
      } else if (event.type === 'lab') {
        bump(event.what, 'lab');
      }
    });
  }, [client, bump, notify]);

  useEffect(() => {
    const off = client.onConnection(setConnection);
    setConnection(client.connection()); // it may have changed before this subscription
    return off;
  }, [client]);

  // After (re)connecting, fetch the job list and the lab info again: events may have been missed.
  const connectedEpoch = connection.status === 'open' ? 1 : 0;
  useEffect(() => {
    if (!connectedEpoch) return;
    let live = true;
    client.call('jobs.list', { limit: 100 }).then(
      (list) => {
        if (!live) return;
        setJobsError(null);
        setJobsById((prev) => {
          const next = new Map<number, JobInfo>();
          for (const j of list) {
            next.set(j.id, j);
            statusById.current.set(j.id, j.status);
          }
          // keep jobs known from events that are newer than the list
          for (const [id, j] of prev) if (!next.has(id) && !TERMINAL.has(j.status)) next.set(id, j);
          return next;
        });
      },
      (err) => live && setJobsError(err as ApiError),
    );
    return () => {
      live = false;
    };
  }, [client, connectedEpoch, versions.jobs]);

  useEffect(() => {
    if (!connectedEpoch) return;
    let live = true;
    client.call('lab.info', {}).then(
      (i) => {
        if (!live) return;
        setInfo(i);
        setInfoError(null);
      },
      (err) => live && setInfoError(err as ApiError),
    );
    return () => {
      live = false;
    };
  }, [client, connectedEpoch, versions.lab]);

  const jobs = useMemo(() => [...jobsById.values()].sort((a, b) => b.id - a.id), [jobsById]);

  const value = useMemo<LabContextValue>(
    () => ({ client, jobs, jobsError, info, infoError, connection, versions, bump, toasts, notify, notifyError, dismiss }),
    [client, jobs, jobsError, info, infoError, connection, versions, bump, toasts, notify, notifyError, dismiss],
  );
  return <LabContext.Provider value={value}>{children}</LabContext.Provider>;
}

export function useLab(): LabContextValue {
  const v = useContext(LabContext);
  if (!v) throw new Error('useLab outside LabProvider');
  return v;
}

export interface ApiState<T> {
  data: T | null;
  error: ApiError | null;
  loading: boolean;
  reload: () => void;
}

/**
 * Calls `method` with `params` (null = don't call yet) and calls again when the params change or
 * one of `topics` is invalidated by an event. Keeps the last data while reloading.
 */
export function useApi<M extends Method>(method: M, params: ParamsIn<M> | null, topics: readonly Topic[] = []): ApiState<Results[M]> {
  const { client, versions } = useLab();
  const key = params === null ? null : JSON.stringify(params);
  const topicKey = topics.map((t) => versions[t]).join(',');
  const [nonce, setNonce] = useState(0);
  const [state, setState] = useState<{ key: string | null; data: Results[M] | null; error: ApiError | null; loading: boolean }>({
    key: null,
    data: null,
    error: null,
    loading: params !== null,
  });

  useEffect(() => {
    if (key === null) return;
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    client.call(method, JSON.parse(key) as ParamsIn<M>).then(
      (data) => live && setState({ key, data, error: null, loading: false }),
      (err) => live && setState((s) => ({ key, data: s.key === key ? s.data : null, error: err as ApiError, loading: false })),
    );
    return () => {
      live = false;
    };
  }, [client, method, key, topicKey, nonce]);

  const reload = useCallback(() => setNonce((n) => n + 1), []);
  // Data that belongs to other params is not shown as if it were this one's.
  const data = state.key === key ? state.data : null;
  return { data, error: state.key === key ? state.error : null, loading: state.loading || state.key !== key, reload };
}

// The labelling workspace: an annotator (remembered in this browser), a queue (a dataset plus an
// ordering: failures of a run, unlabelled by me, disagreements, seeded random, all), and two modes:
// one image large with the 16 factors on hotkeys, or a grid with click / shift / ctrl / rectangle
// selection and bulk apply. Every change is saved at once and can be undone with Ctrl+Z.
import { useCallback, useEffect, useMemo, useState } from 'react';
import type { LabelQueueInfo, LabelQueueItem, LabelQueueKindName, LabelRecord } from '../../../electron/contract.ts';
import { useApi, useLab } from '../lib/lab.tsx';
import { usePagedList, type PagedList } from '../lib/paged.ts';
import { format, navigate } from '../lib/router.ts';
import { num } from '../lib/format.ts';
import { ErrorBox, PageHeader } from '../components/common.tsx';
import { rememberAnnotator, rememberedAnnotator } from '../lib/factors.ts';
import { Labeller } from './labelling/Labeller.tsx';
import { LabelGrid } from './labelling/LabelGrid.tsx';

const KINDS: { value: LabelQueueKindName; label: string }[] = [
  { value: 'failures', label: 'Failures of a run' },
  { value: 'unlabelled', label: 'Unlabelled by me' },
  { value: 'disagreements', label: 'Disagreements' },
  { value: 'random', label: 'Random sample (seeded)' },
  { value: 'all', label: 'All images' },
];

export type Overrides = Map<number, LabelRecord | null>;

export interface QueueCtx {
  queue: LabelQueueInfo;
  list: PagedList<LabelQueueItem>;
  annotator: string;
  overrides: Overrides;
  setOverride: (imageId: number, label: LabelRecord | null) => void;
  setOverrides: (entries: [number, LabelRecord | null][]) => void;
  resetOverrides: () => void;
  progress: { labelled: number; total: number } | null;
  refreshProgress: () => void;
  labelOf: (item: LabelQueueItem) => LabelRecord | null;
}

export function AnnotatorField({ value, onChange, testId = 'annotator' }: { value: string; onChange: (name: string) => void; testId?: string }) {
  const [text, setText] = useState(value);
  useEffect(() => setText(value), [value]);
  const commit = () => {
    const t = text.trim();
    if (t && t !== value) {
      rememberAnnotator(t);
      onChange(t);
    }
  };
  return (
    <label className="field compact">
      <span className="field-label">Annotator</span>
      <input
        value={text}
        onChange={(e) => setText(e.target.value)}
        onBlur={commit}
        onKeyDown={(e) => {
          if (e.key === 'Enter') {
            commit();
            (e.target as HTMLInputElement).blur();
          }
        }}
        placeholder="your name"
        data-testid={testId}
        maxLength={64}
        aria-invalid={!text.trim() || undefined}
      />
    </label>
  );
}

export function LabelView({ query }: { query: URLSearchParams }) {
  const { client, notifyError } = useLab();
  const [annotator, setAnnotator] = useState(rememberedAnnotator);
  const datasets = useApi('datasets.list', {}, ['datasets']);
  const runs = useApi('runs.list', {}, ['runs']);
  const mode = query.get('mode') === 'grid' ? 'grid' : 'label';
  const kind = (KINDS.some((k) => k.value === query.get('queue')) ? query.get('queue') : 'failures') as LabelQueueKindName;
  const runParam = query.get('run');
  const datasetParam = query.get('dataset');
  const seed = Number(query.get('seed') ?? 0) || 0;
  const runId = runParam !== null ? Number(runParam) : (runs.data?.find((r) => r.status === 'done')?.id ?? null);
  const datasetId = kind === 'failures' ? null : datasetParam !== null ? Number(datasetParam) : (datasets.data?.[0]?.id ?? null);

  const set = useCallback((patch: Record<string, string | number | null>) => {
    const q = new URLSearchParams(window.location.hash.split('?')[1] ?? '');
    const next: Record<string, string | null> = Object.fromEntries(q.entries());
    for (const [k, v] of Object.entries(patch)) next[k] = v === null ? null : String(v);
    navigate(format(['label'], next), { replace: true });
  }, []);

  const [queue, setQueue] = useState<LabelQueueInfo | null>(null);
  const [queueError, setQueueError] = useState<unknown>(null);
  const [queueNonce, setQueueNonce] = useState(0);
  const needsAnnotator = kind === 'unlabelled';
  useEffect(() => {
    setQueueError(null);
    if (kind === 'failures' ? runId === null : datasetId === null) return setQueue(null);
    if (needsAnnotator && !annotator) return setQueue(null);
    let live = true;
    client
      .call('labels.queueCreate', {
        kind,
        runId: kind === 'failures' ? runId! : undefined,
        datasetId: kind === 'failures' ? undefined : datasetId!,
        annotator: needsAnnotator ? annotator : undefined,
        seed,
      })
      .then(
        (q) => live && setQueue(q),
        (err) => live && (setQueue(null), setQueueError(err)),
      );
    return () => {
      live = false;
    };
  }, [client, kind, runId, datasetId, seed, needsAnnotator ? annotator : '', queueNonce]);

  const fetchPage = useCallback(
    (offset: number, limit: number) =>
      queue ? client.call('labels.queuePage', { queueId: queue.id, annotator: annotator || undefined, offset, limit }) : Promise.resolve({ total: 0, offset, items: [] as LabelQueueItem[] }),
    [client, queue, annotator],
  );
  const list = usePagedList<LabelQueueItem>(fetchPage, `${queue?.id ?? 'none'}|${annotator}`, 200);

  const [overrides, setOverrides] = useState<Overrides>(() => new Map());
  useEffect(() => setOverrides(new Map()), [list.key]);
  const setOverride = useCallback((imageId: number, label: LabelRecord | null) => setOverrides((m) => new Map(m).set(imageId, label)), []);
  const setMany = useCallback((entries: [number, LabelRecord | null][]) => setOverrides((m) => new Map([...m, ...entries])), []);
  const resetOverrides = useCallback(() => setOverrides(new Map()), []);
  const labelOf = useCallback((item: LabelQueueItem) => (overrides.has(item.imageId) ? overrides.get(item.imageId)! : item.label), [overrides]);

  const [progress, setProgress] = useState<{ labelled: number; total: number } | null>(null);
  const refreshProgress = useCallback(() => {
    if (!queue || !annotator) return setProgress(null);
    client.call('labels.progress', { queueId: queue.id, annotator }).then(setProgress, (err) => notifyError(err, 'Progress'));
  }, [client, queue, annotator, notifyError]);
  useEffect(refreshProgress, [refreshProgress]);

  const ctx = useMemo<QueueCtx | null>(
    () => (queue && list.total !== null ? { queue, list, annotator, overrides, setOverride, setOverrides: setMany, resetOverrides, progress, refreshProgress, labelOf } : null),
    [queue, list, annotator, overrides, setOverride, setMany, resetOverrides, progress, refreshProgress, labelOf],
  );

  const doneRuns = (runs.data ?? []).filter((r) => r.status !== 'running');
  return (
    <div className="page page-fill">
      <PageHeader
        title="Label factors"
        sub={
          <span className="run-sub">
            <span data-testid="label-progress">
              {progress ? (
                <>
                  <strong>{num(progress.labelled)}</strong> labelled of {num(progress.total)} in the queue
                </>
              ) : queue ? (
                `${num(queue.size)} images in the queue`
              ) : (
                '–'
              )}
            </span>
            {annotator ? (
              <span>
                as <strong data-testid="current-annotator">{annotator}</strong>
              </span>
            ) : null}
          </span>
        }
      >
        <div className="seg" role="tablist" aria-label="Mode">
          <button type="button" role="tab" aria-selected={mode === 'label'} className={`btn small${mode === 'label' ? ' primary' : ''}`} onClick={() => set({ mode: null })} data-testid="mode-label">
            One image
          </button>
          <button type="button" role="tab" aria-selected={mode === 'grid'} className={`btn small${mode === 'grid' ? ' primary' : ''}`} onClick={() => set({ mode: 'grid' })} data-testid="mode-grid">
            Grid
          </button>
        </div>
      </PageHeader>
      <div className="filterbar" data-testid="queue-bar">
        <AnnotatorField value={annotator} onChange={setAnnotator} />
        <label className="field compact">
          <span className="field-label">Queue</span>
          <select value={kind} onChange={(e) => set({ queue: e.target.value })} data-testid="queue-kind">
            {KINDS.map((k) => (
              <option key={k.value} value={k.value}>
                {k.label}
              </option>
            ))}
          </select>
        </label>
        {kind === 'failures' ? (
          <label className="field compact">
            <span className="field-label">Run</span>
            <select value={runId ?? ''} onChange={(e) => set({ run: e.target.value })} data-testid="queue-run">
              {doneRuns.map((r) => (
                <option key={r.id} value={r.id}>
                  #{r.id} {r.modelName} on {r.datasetName}
                </option>
              ))}
            </select>
          </label>
        ) : (
          <label className="field compact">
            <span className="field-label">Dataset</span>
            <select value={datasetId ?? ''} onChange={(e) => set({ dataset: e.target.value })} data-testid="queue-dataset">
              {(datasets.data ?? []).map((d) => (
                <option key={d.id} value={d.id}>
                  {d.name} ({num(d.numImages)})
                </option>
              ))}
            </select>
          </label>
        )}
        {kind === 'random' ? (
          <label className="field compact">
            <span className="field-label">Seed</span>
            <input type="number" min={0} value={seed} onChange={(e) => set({ seed: e.target.value })} data-testid="queue-seed" style={{ width: 80 }} />
          </label>
        ) : null}
        {kind === 'unlabelled' || kind === 'disagreements' ? (
          <button type="button" className="btn small" onClick={() => setQueueNonce((n) => n + 1)} title="Take the queue again from the labels as they are now" data-testid="queue-refresh">
            Refresh queue
          </button>
        ) : null}
        <span className="filterbar-spacer" />
        <span className="result-count" data-testid="queue-size">
          {queue ? `${num(queue.size)} images` : '…'}
        </span>
      </div>
      <ErrorBox error={queueError ?? list.error} />
      {!annotator ? <div className="notice" data-testid="need-annotator">Type your name as annotator: labels are stored per annotator.</div> : null}
      {ctx && ctx.list.total === 0 ? <div className="empty" data-testid="queue-empty"><div className="empty-title">This queue is empty</div></div> : null}
      {ctx && ctx.list.total! > 0 && annotator ? (
        mode === 'grid' ? (
          <LabelGrid ctx={ctx} onOpen={(i) => set({ mode: null, at: i })} />
        ) : (
          <Labeller ctx={ctx} start={Number(query.get('at') ?? 0) || 0} />
        )
      ) : null}
      {!ctx && !queueError && (kind === 'failures' ? runId !== null : datasetId !== null) ? <div className="loading">Preparing the queue…</div> : null}
      {kind === 'failures' && runs.data && doneRuns.length === 0 ? <div className="notice">No run yet: pick another queue, or run a model first.</div> : null}
    </div>
  );
}

import { useCallback, useMemo, useRef, useState, type FormEvent } from 'react';
import type { DatasetDetail, ImageRow } from '../../../electron/contract.ts';
import { useApi, useLab } from '../lib/lab.tsx';
import { usePagedList } from '../lib/paged.ts';
import { format, navigate } from '../lib/router.ts';
import { num, when } from '../lib/format.ts';
import { Bar, Empty, ErrorBox, Field, Loading, PageHeader } from '../components/common.tsx';
import { JobProgress } from '../components/StatusBar.tsx';
import { VirtualGrid, type GridHandle } from '../components/VirtualGrid.tsx';
import { ImageDetailView } from '../components/ImageDetail.tsx';

export function DatasetsView({ datasetId, query }: { datasetId: number | null; query: URLSearchParams }) {
  if (datasetId !== null && Number.isInteger(datasetId)) return <DatasetPage datasetId={datasetId} query={query} />;
  return <DatasetList />;
}

function DatasetList() {
  const { data, error, loading, reload } = useApi('datasets.list', {}, ['datasets']);
  const [showForm, setShowForm] = useState(false);
  const empty = data !== null && data.length === 0;

  return (
    <div className="page">
      <PageHeader title="Datasets" sub="Image folders and label files imported into this lab">
        {empty ? null : (
          <button type="button" className="btn primary" data-testid="open-import" onClick={() => setShowForm((s) => !s)}>
            {showForm ? 'Close' : 'Import dataset'}
          </button>
        )}
      </PageHeader>
      {showForm || empty ? <ImportForm onDone={empty ? undefined : () => setShowForm(false)} /> : null}
      <ErrorBox error={error} onRetry={reload} />
      {data === null && loading ? <Loading what="datasets" /> : null}
      {empty ? (
        <Empty title="No datasets yet: import a folder" testId="datasets-empty">
          Give the path of an ImageNet-style folder (<code>&lt;wnid or class name&gt;/*.jpg</code>) or a flat folder with a CSV of{' '}
          <code>file,label</code>.
        </Empty>
      ) : null}
      {data && data.length > 0 ? (
        <table className="table" data-testid="datasets-table">
          <thead>
            <tr>
              <th>Name</th>
              <th className="num">Images</th>
              <th className="num">Classes</th>
              <th className="num">Skipped</th>
              <th>Source</th>
              <th>Root</th>
              <th>Imported</th>
            </tr>
          </thead>
          <tbody>
            {data.map((d) => (
              <tr key={d.id} className="clickable" data-testid="dataset-row" onClick={() => navigate(format(['datasets', d.id]))}>
                <td>
                  <a href={format(['datasets', d.id])} className="strong">
                    {d.name}
                  </a>
                  {d.split ? <span className="tag">{d.split}</span> : null}
                </td>
                <td className="num">{num(d.numImages)}</td>
                <td className="num">{num(d.numClasses)}</td>
                <td className={`num${d.numSkipped ? ' warn' : ''}`}>{num(d.numSkipped)}</td>
                <td>{d.source}</td>
                <td className="path" title={d.root}>
                  {d.root}
                </td>
                <td className="dim">{when(d.createdAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </div>
  );
}

function ImportForm({ onDone }: { onDone?: () => void }) {
  const { client, notify, jobs, bump } = useLab();
  const [root, setRoot] = useState('');
  const [name, setName] = useState('');
  const [csv, setCsv] = useState('');
  const [labels, setLabels] = useState('');
  const [split, setSplit] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [jobId, setJobId] = useState<number | null>(null);
  const job = jobId === null ? undefined : jobs.find((j) => j.id === jobId);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const opt = (s: string) => (s.trim() ? s.trim() : undefined);
      const r = await client.call('datasets.import', { root: root.trim(), name: opt(name), csv: opt(csv), labels: opt(labels), split: opt(split) });
      setJobId(r.jobId);
      notify('info', `Import started (job #${r.jobId})`);
      bump('jobs');
      setRoot('');
      setName('');
      setCsv('');
      setLabels('');
      setSplit('');
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="card form" onSubmit={submit} data-testid="import-form">
      <div className="card-title">Import a dataset</div>
      <div className="form-grid">
        <Field label="Root folder" hint="ImageNet-style <class>/*.jpg, or a flat folder with a CSV">
          <input required value={root} onChange={(e) => setRoot(e.target.value)} placeholder="/data/imagenet/val" data-testid="import-root" spellCheck={false} />
        </Field>
        <Field label="Name" hint="Defaults to the folder name">
          <input value={name} onChange={(e) => setName(e.target.value)} placeholder="imagenet-val" data-testid="import-name" />
        </Field>
        <Field label="CSV file (optional)" hint="file,label with label = index, wnid or name">
          <input value={csv} onChange={(e) => setCsv(e.target.value)} placeholder="/data/labels.csv" data-testid="import-csv" spellCheck={false} />
        </Field>
        <Field label="Labels file (optional)" hint="Class names, one per line">
          <input value={labels} onChange={(e) => setLabels(e.target.value)} placeholder="/data/classes.txt" data-testid="import-labels" spellCheck={false} />
        </Field>
        <Field label="Split (optional)">
          <input value={split} onChange={(e) => setSplit(e.target.value)} placeholder="val" data-testid="import-split" />
        </Field>
      </div>
      <ErrorBox error={error} testId="import-error" />
      <div className="form-actions">
        <button type="submit" className="btn primary" disabled={busy || !root.trim()} data-testid="import-submit">
          {busy ? 'Starting…' : 'Import'}
        </button>
        {onDone ? (
          <button type="button" className="btn" onClick={onDone}>
            Cancel
          </button>
        ) : null}
        {job ? (
          <span className="inline-job" data-testid="import-job">
            Job #{job.id}: <strong>{job.status}</strong>
            {job.status === 'running' || job.status === 'queued' ? <JobProgress job={job} compact /> : null}
            {job.error ? <span className="bad"> {job.error}</span> : null}
          </span>
        ) : null}
      </div>
    </form>
  );
}

function DatasetPage({ datasetId, query }: { datasetId: number; query: URLSearchParams }) {
  const { data, error, reload } = useApi('datasets.get', { datasetId }, ['datasets']);
  const classParam = query.get('class');
  const classIdx = classParam !== null && classParam !== '' && Number.isInteger(Number(classParam)) ? Number(classParam) : null;
  const setClass = (c: number | null) => navigate(format(['datasets', datasetId], { class: c }), { replace: true });

  return (
    <div className="page page-fill">
      <PageHeader
        title={
          <>
            <a href={format(['datasets'])} className="crumb">
              Datasets
            </a>
            <span className="crumb-sep">/</span>
            <span data-testid="dataset-title">{data?.name ?? `#${datasetId}`}</span>
          </>
        }
        sub={data ? <span className="path">{data.root}</span> : null}
      >
        {data ? (
          <a className="btn" href={format(['runs'], { dataset: datasetId })}>
            Run a model on it
          </a>
        ) : null}
      </PageHeader>
      <ErrorBox error={error} onRetry={reload} />
      {data ? (
        <>
          <div className="stats">
            <Stat label="Images" value={num(data.numImages)} testId="stat-images" />
            <Stat label="Classes" value={num(data.numClasses)} testId="stat-classes" />
            <Stat label="Skipped" value={num(data.numSkipped)} tone={data.numSkipped ? 'warn' : undefined} testId="stat-skipped" />
            <Stat label="Source" value={data.source} />
            {data.split ? <Stat label="Split" value={data.split} /> : null}
            <Stat label="Imported" value={when(data.createdAt)} />
          </div>
          <div className="split-2">
            <ClassCounts data={data} selected={classIdx} onSelect={setClass} />
            <SkippedReport data={data} />
          </div>
          <DatasetGrid datasetId={datasetId} classIdx={classIdx} className={data.classes.find((c) => c.idx === classIdx)?.name ?? null} onClear={() => setClass(null)} />
        </>
      ) : null}
    </div>
  );
}

function Stat({ label, value, tone, testId }: { label: string; value: string; tone?: 'warn'; testId?: string }) {
  return (
    <div className={`stat${tone ? ` ${tone}` : ''}`} data-testid={testId}>
      <div className="stat-value">{value}</div>
      <div className="stat-label">{label}</div>
    </div>
  );
}

function ClassCounts({ data, selected, onSelect }: { data: DatasetDetail; selected: number | null; onSelect: (c: number | null) => void }) {
  const [sort, setSort] = useState<'count' | 'name' | 'idx'>('count');
  const classes = useMemo(() => {
    const c = [...data.classes];
    if (sort === 'count') c.sort((a, b) => b.count - a.count || a.idx - b.idx);
    else if (sort === 'name') c.sort((a, b) => a.name.localeCompare(b.name));
    else c.sort((a, b) => a.idx - b.idx);
    return c;
  }, [data.classes, sort]);
  const max = Math.max(1, ...data.classes.map((c) => c.count));
  return (
    <section className="card panel" data-testid="class-counts">
      <div className="card-title">
        Images per class
        <span className="card-tools">
          <select value={sort} onChange={(e) => setSort(e.target.value as typeof sort)} aria-label="Sort classes">
            <option value="count">by count</option>
            <option value="name">by name</option>
            <option value="idx">by index</option>
          </select>
        </span>
      </div>
      {classes.length === 0 ? <Empty title="No classes" /> : null}
      <ul className="barlist">
        {classes.map((c) => (
          <li key={c.idx}>
            <button type="button" className={`barlist-row${selected === c.idx ? ' selected' : ''}`} onClick={() => onSelect(selected === c.idx ? null : c.idx)} data-testid="class-count-row" title={c.wnid ? `${c.wnid} · class ${c.idx}` : `class ${c.idx}`}>
              <span className="barlist-name">{c.name}</span>
              <Bar value={c.count / max} />
              <span className="barlist-value">{num(c.count)}</span>
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}

function SkippedReport({ data }: { data: DatasetDetail }) {
  const [showAll, setShowAll] = useState(false);
  const byReason = useMemo(() => {
    const m = new Map<string, number>();
    for (const s of data.skipped) {
      const key = s.reason.replace(/\s*\(.*\)$/, '').slice(0, 80);
      m.set(key, (m.get(key) ?? 0) + 1);
    }
    return [...m.entries()].sort((a, b) => b[1] - a[1]);
  }, [data.skipped]);
  const LIMIT = 300;
  const rows = showAll ? data.skipped : data.skipped.slice(0, LIMIT);
  return (
    <section className="card panel" data-testid="skipped-report">
      <div className="card-title">
        Skipped files <span className="count">{num(data.skipped.length)}</span>
      </div>
      {data.skipped.length === 0 ? (
        <p className="dim pad">Every file was imported.</p>
      ) : (
        <>
          <div className="reason-chips">
            {byReason.slice(0, 8).map(([r, n]) => (
              <span key={r} className="chip">
                {r} <strong>{n}</strong>
              </span>
            ))}
          </div>
          <div className="table-scroll">
            <table className="table compact">
              <thead>
                <tr>
                  <th>File</th>
                  <th>Reason</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((s, i) => (
                  <tr key={i} data-testid="skipped-row">
                    <td className="path" title={s.path}>
                      {s.path}
                    </td>
                    <td>{s.reason}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {!showAll && data.skipped.length > LIMIT ? (
            <button type="button" className="link-btn" onClick={() => setShowAll(true)}>
              Show all {num(data.skipped.length)}
            </button>
          ) : null}
        </>
      )}
    </section>
  );
}

function DatasetGrid({ datasetId, classIdx, className, onClear }: { datasetId: number; classIdx: number | null; className: string | null; onClear: () => void }) {
  const { client } = useLab();
  const key = `${datasetId}:${classIdx ?? ''}`;
  const fetchPage = useCallback(
    (offset: number, limit: number) => client.call('datasets.images', { datasetId, classIdx: classIdx ?? undefined, offset, limit }),
    [client, datasetId, classIdx],
  );
  const list = usePagedList<ImageRow>(fetchPage, key);
  const [open, setOpen] = useState<number | null>(null);
  const grid = useRef<GridHandle | null>(null);
  const step = useCallback((i: number) => {
    setOpen(i);
    grid.current?.scrollToIndex(i);
  }, []);
  const close = useCallback(() => setOpen(null), []);

  return (
    <section className="card grid-card">
      <div className="card-title">
        Images <span className="count">{list.total === null ? '…' : num(list.total)}</span>
        {classIdx !== null ? (
          <button type="button" className="chip chip-active" onClick={onClear} data-testid="dataset-class-filter">
            class: {className ?? classIdx} ×
          </button>
        ) : null}
      </div>
      <ErrorBox error={list.error} onRetry={list.reload} />
      <VirtualGrid
        list={list}
        cellWidth={132}
        cellHeight={152}
        label="Dataset images"
        testId="dataset-grid"
        handle={grid}
        empty={<Empty title="No images here" />}
        renderCell={(img, index) => (
          <button type="button" className="thumb" onClick={() => setOpen(index)} title={`${img.relPath}\n${img.className ?? 'unlabelled'}`} data-testid="thumb">
            <img src={client.imageUrl('thumb', img.id)} alt="" loading="lazy" decoding="async" draggable={false} />
            <span className="thumb-caption">{img.className ?? 'unlabelled'}</span>
          </button>
        )}
      />
      {open !== null ? <ImageDetailView list={list} index={open} idOf={(r) => r.id} onIndex={step} onClose={close} /> : null}
    </section>
  );
}

// Background attribution (Chegini & Feizi): pick a run and a CLIP package, start the job (progress
// bar), then per class the backgrounds CLIP chose for the seed failures with the thumbnails of the
// failures that voted for them; rename / merge / drop / add with undo (Ctrl+Z).
import { useEffect, useState, type FormEvent } from 'react';
import type { AttributionBackground, AttributionClass, AttributionDetail, ParamsIn } from '../../../electron/contract.ts';
import { useApi, useLab } from '../lib/lab.tsx';
import { format, navigate } from '../lib/router.ts';
import { num, when } from '../lib/format.ts';
import { Bar, Empty, ErrorBox, Field, Loading, PageHeader, StatusBadge } from '../components/common.tsx';

const MAX_THUMBS = 16;
const CLASSES_PER_PAGE = 30;

export function AttributionView({ id }: { id: number | null }) {
  return id === null ? <AttributionList /> : <AttributionPage id={id} />;
}

function AttributionList() {
  const list = useApi('attribution.list', {}, ['runs', 'jobs']);
  return (
    <div className="page">
      <PageHeader title="Attribution" sub="CLIP picks the most likely uncommon background of each seed failure; the top k per class become generation prompts" />
      <StartForm />
      <ErrorBox error={list.error} onRetry={list.reload} />
      {list.data === null && list.loading ? <Loading what="attributions" /> : null}
      {list.data && list.data.length === 0 ? <Empty title="No attribution yet: pick a run above and start one" testId="attribution-empty" /> : null}
      {list.data && list.data.length > 0 ? (
        <table className="table" data-testid="attribution-table">
          <thead>
            <tr>
              <th className="num">#</th>
              <th>Run</th>
              <th>Status</th>
              <th className="num">Failures</th>
              <th className="num">Seed / heldout</th>
              <th className="num">k</th>
              <th className="num">Seed</th>
              <th>Backgrounds</th>
              <th>Created</th>
            </tr>
          </thead>
          <tbody>
            {list.data.map((a) => (
              <tr key={a.id} className="clickable" data-testid="attribution-row" onClick={() => navigate(format(['attribution', a.id]))}>
                <td className="num dim">{a.id}</td>
                <td>#{a.runId}</td>
                <td>
                  <StatusBadge status={a.status} />
                </td>
                <td className="num">{num(a.numFailures)}</td>
                <td className="num">
                  {num(a.numSeed)} / {num(a.numHeldout)}
                </td>
                <td className="num">{a.k}</td>
                <td className="num">{a.seed}</td>
                <td>{a.vocabulary}</td>
                <td className="dim">{when(a.createdAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </div>
  );
}

function StartForm() {
  const { client, bump, notify } = useLab();
  const runs = useApi('runs.list', {}, ['runs']);
  const [runId, setRunId] = useState('');
  const [clip, setClip] = useState('shapeworld');
  const [k, setK] = useState('3');
  const [seed, setSeed] = useState('0');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const done = runs.data?.filter((r) => r.status === 'done') ?? [];

  useEffect(() => {
    if (!runId && done.length) setRunId(String(done[0]!.id));
  }, [done, runId]);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const params: ParamsIn<'attribution.start'> = { runId: Number(runId), clip: clip.trim(), k: Number(k), seed: Number(seed) };
      const r = await client.call('attribution.start', params);
      if (r.nothingToAttribute) notify('info', `Run #${runId} has no failures: nothing to attribute.`);
      else notify('info', r.reused ? `Attribution #${r.id} reused${r.jobId !== null ? ' and resumed' : ''}` : `Attribution #${r.id} started`);
      bump('jobs', 'runs');
      navigate(format(['attribution', r.id]));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="card form" onSubmit={submit} data-testid="attribution-form">
      <div className="card-title">Attribute a run's failures</div>
      {runs.data && done.length === 0 ? (
        <p className="dim pad">
          No finished run yet: <a href={format(['runs'])}>start a run</a>.
        </p>
      ) : null}
      <div className="form-row">
        <Field label="Run">
          <select value={runId} onChange={(e) => setRunId(e.target.value)} data-testid="attribution-run" required>
            {done.map((r) => (
              <option key={r.id} value={r.id}>
                #{r.id} {r.modelName} on {r.datasetName} ({num(r.numScored - r.numCorrect)} failures)
              </option>
            ))}
          </select>
        </Field>
        <Field label="CLIP package" hint='a folder with a manifest.json of kind "clip"; "shapeworld" = the embedded one'>
          <input value={clip} onChange={(e) => setClip(e.target.value)} data-testid="attribution-clip" required />
        </Field>
        <Field label="k">
          <input type="number" min={1} max={100} value={k} onChange={(e) => setK(e.target.value)} data-testid="attribution-k" style={{ width: 64 }} />
        </Field>
        <Field label="Seed">
          <input type="number" min={0} value={seed} onChange={(e) => setSeed(e.target.value)} data-testid="attribution-seed" style={{ width: 64 }} />
        </Field>
        <div className="form-actions inline">
          <button type="submit" className="btn primary" disabled={busy || !runId || !clip.trim()} data-testid="attribution-submit">
            {busy ? 'Starting…' : 'Attribute'}
          </button>
        </div>
      </div>
      <ErrorBox error={error} testId="attribution-error" />
    </form>
  );
}

function AttributionPage({ id }: { id: number }) {
  const { client, jobs, notifyError } = useLab();
  const [data, setData] = useState<AttributionDetail | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [nonce, setNonce] = useState(0);
  const [filter, setFilter] = useState('');
  const [limit, setLimit] = useState(CLASSES_PER_PAGE);
  const job = data?.jobId !== null && data?.jobId !== undefined ? jobs.find((j) => j.id === data.jobId) : undefined;
  const jobKey = job ? `${job.status}:${Math.floor(job.done / Math.max(1, job.total / 10))}` : '';

  useEffect(() => {
    let live = true;
    client.call('attribution.get', { id }).then(
      (d) => live && (setData(d), setError(null)),
      (e) => live && setError(e),
    );
    return () => {
      live = false;
    };
  }, [client, id, nonce, jobKey]);

  const edit = async (params: ParamsIn<'attribution.editBackgrounds'>) => {
    try {
      setData(await client.call('attribution.editBackgrounds', params));
    } catch (e) {
      notifyError(e, 'Edit');
    }
  };
  const undo = async () => {
    try {
      setData(await client.call('attribution.undo', { id }));
    } catch (e) {
      notifyError(e, 'Undo');
    }
  };

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const t = e.target as HTMLElement | null;
      if (t && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.tagName === 'SELECT')) return;
      if ((e.ctrlKey || e.metaKey) && !e.shiftKey && e.key.toLowerCase() === 'z' && data && data.edits.length) {
        e.preventDefault();
        void undo();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  });

  const running = job && (job.status === 'running' || job.status === 'queued');
  const needle = filter.trim().toLowerCase();
  // Classes with attributed seed failures first, most seed failures first; then the rest.
  const shown = (data?.classes ?? [])
    .filter((c) => !needle || c.name.toLowerCase().includes(needle))
    .sort((a, b) => Number(b.backgrounds.length > 0) - Number(a.backgrounds.length > 0) || b.numSeed - a.numSeed || a.classIdx - b.classIdx);
  return (
    <div className="page">
      <PageHeader
        title={
          <>
            <a href={format(['attribution'])} className="crumb">
              Attribution
            </a>{' '}
            / #{id}
          </>
        }
        sub={data ? `run #${data.runId} · ${data.vocabulary} backgrounds · k ${data.k} · seed ${data.seed} · CLIP ${data.clipDir}` : undefined}
      >
        {data ? (
          <span data-testid="attribution-status">
            <StatusBadge status={data.status} />
          </span>
        ) : null}
        <button type="button" className="btn small" disabled={!data || data.edits.length === 0} onClick={() => void undo()} data-testid="attribution-undo" title="Undo the last edit (Ctrl+Z)">
          Undo{data && data.edits.length ? ` (${data.edits.length})` : ''}
        </button>
        <button type="button" className="btn small" onClick={() => setNonce((n) => n + 1)}>
          Refresh
        </button>
      </PageHeader>
      <ErrorBox error={error} onRetry={() => setNonce((n) => n + 1)} />
      {data === null && !error ? <Loading what="attribution" /> : null}
      {running ? (
        <div className="card pad" data-testid="attribution-progress">
          <div>
            {job.message ?? 'working'} — {num(job.done)} / {num(job.total)} images
          </div>
          <Bar value={job.total ? job.done / job.total : 0} />
          <button type="button" className="btn small" onClick={() => void client.call('jobs.cancel', { jobId: job.id })}>
            Cancel
          </button>
        </div>
      ) : null}
      {data && (data.status === 'incomplete' || data.status === 'failed') && !running ? (
        <div className="notice slim">
          {data.message ?? `This attribution is ${data.status}.`}{' '}
          <button
            type="button"
            className="btn small"
            data-testid="attribution-resume"
            onClick={() =>
              void client.call('attribution.start', { runId: data.runId, clip: data.clipDir, k: data.k, seed: data.seed }).then(
                () => setNonce((n) => n + 1),
                (e) => notifyError(e, 'Resume'),
              )
            }
          >
            Resume
          </button>
        </div>
      ) : null}
      {data ? (
        <div className="card pad" data-testid="attribution-summary">
          {num(data.numFailures)} failures → seed <strong data-testid="attribution-seed-count">{num(data.numSeed)}</strong>, heldout {num(data.numHeldout)};{' '}
          {num(data.numAttributed)} seed failures attributed
        </div>
      ) : null}
      {data?.nothingToAttribute ? <Empty title="Nothing to attribute: the run has no failures" testId="attribution-nothing" /> : null}
      {data && data.classes.length > 1 ? (
        <div className="form-row">
          <input value={filter} onChange={(e) => setFilter(e.target.value)} placeholder="filter classes by name" data-testid="attribution-class-filter" />
          <span className="dim">
            {num(shown.length)} of {num(data.classes.length)} classes
          </span>
        </div>
      ) : null}
      {data
        ? shown.slice(0, limit).map((c) => <ClassCard key={c.classIdx} attribution={data} cls={c} onEdit={edit} />)
        : null}
      {shown.length > limit ? (
        <button type="button" className="btn" onClick={() => setLimit((l) => l + CLASSES_PER_PAGE)} data-testid="attribution-more">
          Show {Math.min(CLASSES_PER_PAGE, shown.length - limit)} more classes
        </button>
      ) : null}
    </div>
  );
}

function ClassCard({ attribution, cls, onEdit }: { attribution: AttributionDetail; cls: AttributionClass; onEdit: (p: ParamsIn<'attribution.editBackgrounds'>) => Promise<void> }) {
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [adding, setAdding] = useState('');
  const [mergeInto, setMergeInto] = useState('');
  const base = { id: attribution.id, classIdx: cls.classIdx };
  if (!cls.backgrounds.length)
    return (
      <section className="card pad" data-testid="attribution-class">
        <div className="card-title">
          {cls.name} <span className="dim">seed {cls.numSeed}, heldout {cls.numHeldout}</span>
        </div>
        <p className="dim">No seed failure in this class.</p>
      </section>
    );
  const maxVotes = Math.max(1, ...cls.backgrounds.map((b) => b.votes));
  const toggle = (p: string) =>
    setSelected((s) => {
      const n = new Set(s);
      if (n.has(p)) n.delete(p);
      else n.add(p);
      return n;
    });
  return (
    <section className="card pad" data-testid="attribution-class" data-class={cls.name}>
      <div className="card-title">
        {cls.name} <span className="dim">· seed {cls.numSeed}, heldout {cls.numHeldout}</span>
      </div>
      <table className="table">
        <tbody>
          {cls.backgrounds.map((b) => (
            <BackgroundRow
              key={b.id}
              b={b}
              maxVotes={maxVotes}
              selected={selected.has(b.phrase)}
              onToggle={() => toggle(b.phrase)}
              onRename={(to) => onEdit({ ...base, op: 'rename', background: b.phrase, to })}
              onDrop={() => onEdit({ ...base, op: 'drop', background: b.phrase })}
            />
          ))}
        </tbody>
      </table>
      <div style={{ display: 'flex', flexWrap: 'wrap', gap: 8, alignItems: 'center', margin: '8px 0' }}>
        <select value={mergeInto} onChange={(e) => setMergeInto(e.target.value)} data-testid="merge-into" aria-label="Merge into">
          <option value="">merge selected into…</option>
          {cls.backgrounds.map((b) => (
            <option key={b.id} value={b.phrase}>
              {b.phrase}
            </option>
          ))}
        </select>
        <button
          type="button"
          className="btn small"
          data-testid="merge-submit"
          disabled={!mergeInto || [...selected].filter((p) => p !== mergeInto).length === 0}
          onClick={() => {
            void onEdit({ ...base, op: 'merge', backgrounds: [...selected].filter((p) => p !== mergeInto), into: mergeInto });
            setSelected(new Set());
            setMergeInto('');
          }}
        >
          Merge
        </button>
        <form
          style={{ display: 'flex', gap: 4 }}
          onSubmit={(e) => {
            e.preventDefault();
            if (!adding.trim()) return;
            void onEdit({ ...base, op: 'add', phrase: adding.trim() });
            setAdding('');
          }}
        >
          <input value={adding} onChange={(e) => setAdding(e.target.value)} placeholder="add a background, e.g. on snow" data-testid="add-background" />
          <button type="submit" className="btn small" data-testid="add-submit">
            Add
          </button>
        </form>
      </div>
      {cls.domino.length ? (
        <div className="dim" data-testid="domino">
          Failures lean towards: {cls.domino.slice(0, 5).map((d) => `${d.phrase} (${d.score.toFixed(3)})`).join(', ')}
        </div>
      ) : null}
    </section>
  );
}

function BackgroundRow({
  b,
  maxVotes,
  selected,
  onToggle,
  onRename,
  onDrop,
}: {
  b: AttributionBackground;
  maxVotes: number;
  selected: boolean;
  onToggle: () => void;
  onRename: (to: string) => Promise<void>;
  onDrop: () => Promise<void>;
}) {
  const { client } = useLab();
  const [editing, setEditing] = useState<string | null>(null);
  return (
    <tr data-testid="background-row" data-phrase={b.phrase}>
      <td style={{ width: 24 }}>
        <input type="checkbox" checked={selected} onChange={onToggle} aria-label={`select ${b.phrase}`} />
      </td>
      <td style={{ width: 260 }}>
        {editing !== null ? (
          <form
            onSubmit={(e) => {
              e.preventDefault();
              if (editing.trim() && editing.trim() !== b.phrase) void onRename(editing.trim());
              setEditing(null);
            }}
          >
            <input autoFocus value={editing} onChange={(e) => setEditing(e.target.value)} onBlur={() => setEditing(null)} data-testid="rename-input" />
          </form>
        ) : (
          <>
            {b.top ? <span className="badge badge-done" title="among the top k: a generation prompt">top</span> : null} <strong data-testid="background-phrase">{b.phrase}</strong>
            {b.origin === 'added' ? <span className="dim"> (added)</span> : null}
            {b.mergedFrom.length ? <div className="dim">+ {b.mergedFrom.join(', ')}</div> : null}
          </>
        )}
      </td>
      <td style={{ width: 160 }}>
        <Bar value={b.votes / maxVotes} tone={b.top ? 'accent' : 'muted'} />{' '}
        <span data-testid="background-votes">{b.votes}</span> {b.votes === 1 ? 'vote' : 'votes'}
        {b.meanSimilarity !== null ? <span className="dim"> · sim {b.meanSimilarity.toFixed(3)}</span> : null}
      </td>
      <td>
        <div style={{ display: 'flex', flexWrap: 'wrap', gap: 4 }} data-testid="voter-thumbs">
          {b.imageIds.slice(0, MAX_THUMBS).map((imageId) => (
            <img key={imageId} src={client.imageUrl('thumb', imageId)} alt="" width={48} height={48} loading="lazy" decoding="async" style={{ objectFit: 'cover', borderRadius: 3 }} />
          ))}
          {b.imageIds.length > MAX_THUMBS ? <span className="dim">+{b.imageIds.length - MAX_THUMBS}</span> : null}
        </div>
      </td>
      <td style={{ width: 140, whiteSpace: 'nowrap' }}>
        <button type="button" className="btn small" onClick={() => setEditing(b.phrase)} data-testid="rename">
          Rename
        </button>{' '}
        <button type="button" className="btn small" onClick={() => void onDrop()} data-testid="drop">
          Drop
        </button>
      </td>
    </tr>
  );
}

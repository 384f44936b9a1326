// The failure browser of one run: misclassified images in a virtualised grid fetched page by page,
// filters (true class, predicted class, confidence range, sort) kept in the URL, the most frequent
// confusion pairs, per-class accuracy, and the detail view.
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { ClassAccuracy, ConfusionPair, FailureRow, ParamsIn, RunDetail } from '../../../electron/contract.ts';
import { useApi, useLab } from '../lib/lab.tsx';
import { usePagedList } from '../lib/paged.ts';
import { format, navigate } from '../lib/router.ts';
import { num, pct, when } from '../lib/format.ts';
import { accuracyTone, Bar, Empty, ErrorBox, PageHeader, StatusBadge } from '../components/common.tsx';
import { VirtualGrid, type GridHandle } from '../components/VirtualGrid.tsx';
import { ImageDetailView } from '../components/ImageDetail.tsx';
import { ClassPicker, type ClassOption } from '../components/ClassPicker.tsx';

type Sort = NonNullable<ParamsIn<'runs.failures'>['sort']>;
const SORTS: { value: Sort; label: string }[] = [
  { value: 'confidence_desc', label: 'Most confident first' },
  { value: 'confidence_asc', label: 'Least confident first' },
  { value: 'true_class', label: 'True class' },
];

interface Filters {
  trueClass: number | null;
  predClass: number | null;
  minConfidence: number | null;
  maxConfidence: number | null;
  sort: Sort;
  /** Drill-down from the error-ratio chart: failures whose label in `source` carries `factor`. */
  factor: string | null;
  source: number | null;
}

function intOrNull(s: string | null): number | null {
  if (s === null || s.trim() === '') return null;
  const n = Number(s);
  return Number.isInteger(n) ? n : null;
}

function probOrNull(s: string | null): number | null {
  if (s === null || s.trim() === '') return null;
  const n = Number(s);
  return Number.isFinite(n) && n >= 0 && n <= 1 ? n : null;
}

function readFilters(q: URLSearchParams): Filters {
  const sort = q.get('sort');
  return {
    trueClass: intOrNull(q.get('true')),
    predClass: intOrNull(q.get('pred')),
    minConfidence: probOrNull(q.get('min')),
    maxConfidence: probOrNull(q.get('max')),
    sort: SORTS.some((s) => s.value === sort) ? (sort as Sort) : 'confidence_desc',
    factor: q.get('factor') && intOrNull(q.get('source')) !== null ? q.get('factor') : null,
    source: q.get('factor') ? intOrNull(q.get('source')) : null,
  };
}

export function FailuresView({ runId, query }: { runId: number; query: URLSearchParams }) {
  const summary = useApi('runs.summary', { runId }, ['runs']);
  const filters = readFilters(query);
  const setFilters = useCallback(
    (patch: Partial<Filters>) => {
      const f = { ...readFilters(new URLSearchParams(window.location.hash.split('?')[1] ?? '')), ...patch };
      navigate(
        format(['runs', runId], {
          true: f.trueClass,
          pred: f.predClass,
          min: f.minConfidence,
          max: f.maxConfidence,
          sort: f.sort === 'confidence_desc' ? null : f.sort,
          factor: f.factor,
          source: f.source,
        }),
        { replace: true },
      );
    },
    [runId],
  );
  const run = summary.data;

  return (
    <div className="page page-fill">
      <PageHeader
        title={
          <>
            <a href={format(['runs'])} className="crumb">
              Runs
            </a>
            <span className="crumb-sep">/</span>
            <span data-testid="run-title">{run ? `#${run.id} ${run.modelName} on ${run.datasetName}` : `#${runId}`}</span>
          </>
        }
        sub={run ? <RunSub run={run} /> : null}
      />
      <ErrorBox error={summary.error} onRetry={summary.reload} testId="run-error" />
      {run && run.unmappedClasses.length ? (
        <div className="notice" data-testid="unmapped">
          {run.unmappedClasses.length} dataset {run.unmappedClasses.length === 1 ? 'class is' : 'classes are'} not in the model's label space, so their
          images are not scored: {run.unmappedClasses.slice(0, 12).join(', ')}
          {run.unmappedClasses.length > 12 ? ', …' : ''}
        </div>
      ) : null}
      {run ? (
        <div className="failures-layout">
          <aside className="failures-side">
            <Confusions pairs={run.confusions} filters={filters} onPick={(p) => setFilters(p)} failures={run.numScored - run.numCorrect} />
            <PerClass classes={run.perClass} selected={filters.trueClass} onPick={(c) => setFilters({ trueClass: c, predClass: null })} />
          </aside>
          <FailureGrid run={run} filters={filters} setFilters={setFilters} />
        </div>
      ) : null}
    </div>
  );
}

function RunSub({ run }: { run: RunDetail }) {
  return (
    <span className="run-sub">
      <StatusBadge status={run.status} />
      <span>
        Accuracy <strong data-testid="run-accuracy-value">{pct(run.accuracy)}</strong> ({num(run.numCorrect)} / {num(run.numScored)} scored)
      </span>
      <span>
        Failures <strong data-testid="run-failure-count">{num(run.numScored - run.numCorrect)}</strong>
      </span>
      {run.status !== 'done' ? (
        <span>
          {num(run.numDone)} / {num(run.numImages)} images done
        </span>
      ) : null}
      <span className="dim">provider {run.provider ?? '–'}</span>
      <span className="dim">{when(run.createdAt)}</span>
    </span>
  );
}

function Confusions({ pairs, filters, onPick, failures }: { pairs: ConfusionPair[]; filters: Filters; onPick: (f: Partial<Filters>) => void; failures: number }) {
  const max = Math.max(1, ...pairs.map((p) => p.count));
  return (
    <section className="card panel" data-testid="confusions">
      <div className="card-title">
        Most frequent confusions <span className="count">{pairs.length}</span>
      </div>
      {pairs.length === 0 ? <p className="dim pad">{failures === 0 ? 'No confusions: every scored image is right.' : 'No confusion pairs reported for this run.'}</p> : null}
      <ul className="barlist">
        {pairs.map((p) => {
          const selected = filters.trueClass === p.trueClass && filters.predClass === p.predClass;
          return (
            <li key={`${p.trueClass}-${p.predClass}`}>
              <button
                type="button"
                className={`barlist-row pair${selected ? ' selected' : ''}`}
                data-testid="confusion-pair"
                title={`${p.trueName} (class ${p.trueClass}) predicted as ${p.predName} (class ${p.predClass}): ${p.count}`}
                onClick={() => onPick(selected ? { trueClass: null, predClass: null } : { trueClass: p.trueClass, predClass: p.predClass })}
              >
                <span className="barlist-name">
                  {p.trueName} <span className="arrow">→</span> {p.predName}
                </span>
                <Bar value={p.count / max} tone="bad" />
                <span className="barlist-value">{num(p.count)}</span>
              </button>
            </li>
          );
        })}
      </ul>
    </section>
  );
}

type ClassSort = 'acc_asc' | 'acc_desc' | 'name' | 'total';

function PerClass({ classes, selected, onPick }: { classes: ClassAccuracy[]; selected: number | null; onPick: (c: number | null) => void }) {
  const [sort, setSort] = useState<ClassSort>('acc_asc');
  const sorted = useMemo(() => {
    const c = [...classes];
    const by: Record<ClassSort, (a: ClassAccuracy, b: ClassAccuracy) => number> = {
      acc_asc: (a, b) => a.accuracy - b.accuracy || b.total - a.total,
      acc_desc: (a, b) => b.accuracy - a.accuracy || b.total - a.total,
      name: (a, b) => a.name.localeCompare(b.name),
      total: (a, b) => b.total - a.total,
    };
    return c.sort(by[sort]);
  }, [classes, sort]);
  return (
    <section className="card panel" data-testid="per-class">
      <div className="card-title">
        Accuracy per class
        <span className="card-tools">
          <select value={sort} onChange={(e) => setSort(e.target.value as ClassSort)} aria-label="Sort classes" data-testid="per-class-sort">
            <option value="acc_asc">worst first</option>
            <option value="acc_desc">best first</option>
            <option value="name">by name</option>
            <option value="total">by images</option>
          </select>
        </span>
      </div>
      {classes.length === 0 ? <p className="dim pad">No scored classes.</p> : null}
      <ul className="barlist">
        {sorted.map((c) => (
          <li key={c.classIdx}>
            <button
              type="button"
              className={`barlist-row${selected === c.classIdx ? ' selected' : ''}`}
              data-testid="per-class-row"
              title={`${c.name} (class ${c.classIdx}): ${c.correct} of ${c.total} right`}
              onClick={() => onPick(selected === c.classIdx ? null : c.classIdx)}
            >
              <span className="barlist-name">{c.name}</span>
              <Bar value={c.accuracy} tone={accuracyTone(c.accuracy)} />
              <span className="barlist-value">{pct(c.accuracy, 0)}</span>
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}

function ConfidenceInput({ label, value, onChange, testId }: { label: string; value: number | null; onChange: (v: number | null) => void; testId: string }) {
  const shown = value === null ? '' : String(Math.round(value * 1000) / 10);
  const [text, setText] = useState(shown);
  useEffect(() => setText(shown), [shown]);
  useEffect(() => {
    if (text === shown) return;
    const t = setTimeout(() => {
      if (text.trim() === '') return onChange(null);
      const n = Number(text);
      if (Number.isFinite(n) && n >= 0 && n <= 100) onChange(n / 100);
    }, 350);
    return () => clearTimeout(t);
  }, [text]); // only the typed text triggers; `shown` and `onChange` follow from it
  const invalid = text.trim() !== '' && !(Number(text) >= 0 && Number(text) <= 100);
  return (
    <label className="field compact conf">
      <span className="field-label">{label}</span>
      <span className="input-suffix">
        <input type="number" min={0} max={100} step={5} value={text} onChange={(e) => setText(e.target.value)} placeholder={label.startsWith('Min') ? '0' : '100'} data-testid={testId} aria-invalid={invalid || undefined} />
        <span className="suffix">%</span>
      </span>
    </label>
  );
}

function FailureGrid({ run, filters, setFilters }: { run: RunDetail; filters: Filters; setFilters: (f: Partial<Filters>) => void }) {
  const { client } = useLab();
  const trueOptions = useMemo<ClassOption[]>(() => run.perClass.map((c) => ({ idx: c.classIdx, name: c.name })).sort((a, b) => a.name.localeCompare(b.name)), [run.perClass]);
  // Any of the model's classes can be a prediction, so the filter offers all of them.
  const predOptions = useMemo<ClassOption[]>(() => run.modelClasses.map((name, idx) => ({ idx, name })).sort((a, b) => a.name.localeCompare(b.name)), [run.modelClasses]);

  const params = {
    runId: run.id,
    trueClass: filters.trueClass ?? undefined,
    predClass: filters.predClass ?? undefined,
    minConfidence: filters.minConfidence ?? undefined,
    maxConfidence: filters.maxConfidence ?? undefined,
    sort: filters.sort,
    factor: (filters.factor ?? undefined) as ParamsIn<'runs.failures'>['factor'],
    sourceId: filters.source ?? undefined,
  };
  const paramsKey = JSON.stringify(params);
  // A run that is still going is listed again when it finishes.
  const key = `${paramsKey}|${run.status === 'running' ? 'running' : 'final'}`;
  const fetchPage = useCallback(
    (offset: number, limit: number) => client.call('runs.failures', { ...(JSON.parse(paramsKey) as typeof params), offset, limit }),
    [client, paramsKey],
  );
  const list = usePagedList<FailureRow>(fetchPage, key, 240);
  const [open, setOpen] = useState<number | null>(null);
  const grid = useRef<GridHandle | null>(null);
  const classInput = useRef<HTMLInputElement>(null);

  useEffect(() => setOpen(null), [key]);

  // `/` focuses the class filter (unless the user is typing somewhere).
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== '/' || e.ctrlKey || e.metaKey || e.altKey) return;
      const t = e.target as HTMLElement | null;
      if (t && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.tagName === 'SELECT' || t.isContentEditable)) return;
      e.preventDefault();
      setOpen(null);
      classInput.current?.focus();
      classInput.current?.select();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  const step = useCallback((i: number) => {
    setOpen(i);
    grid.current?.scrollToIndex(i);
  }, []);
  const close = useCallback(() => setOpen(null), []);

  const anyFilter = filters.trueClass !== null || filters.predClass !== null || filters.minConfidence !== null || filters.maxConfidence !== null || filters.factor !== null;
  const failures = run.numScored - run.numCorrect;

  return (
    <section className="card grid-card failures-main">
      <div className="filterbar" data-testid="filterbar">
        <ClassPicker label="True class" options={trueOptions} value={filters.trueClass} onChange={(c) => setFilters({ trueClass: c })} inputRef={classInput} testId="filter-true" placeholder="any  ( / )" />
        <ClassPicker label="Predicted" options={predOptions} value={filters.predClass} onChange={(c) => setFilters({ predClass: c })} testId="filter-pred" />
        <ConfidenceInput label="Min conf." value={filters.minConfidence} onChange={(v) => setFilters({ minConfidence: v })} testId="filter-min" />
        <ConfidenceInput label="Max conf." value={filters.maxConfidence} onChange={(v) => setFilters({ maxConfidence: v })} testId="filter-max" />
        <label className="field compact">
          <span className="field-label">Sort</span>
          <select value={filters.sort} onChange={(e) => setFilters({ sort: e.target.value as Sort })} data-testid="filter-sort">
            {SORTS.map((s) => (
              <option key={s.value} value={s.value}>
                {s.label}
              </option>
            ))}
          </select>
        </label>
        {filters.factor ? (
          <span className="chip chip-active" data-testid="filter-factor" title={`Failures whose label in annotation source #${filters.source} carries this factor`}>
            factor: {filters.factor.replace(/_/g, ' ')}
            <button type="button" className="icon-btn" aria-label="Clear the factor filter" onClick={() => setFilters({ factor: null, source: null })}>
              ×
            </button>
          </span>
        ) : null}
        <span className="filterbar-spacer" />
        <span className="result-count" data-testid="failure-total">
          {list.total === null ? '…' : `${num(list.total)} ${list.total === 1 ? 'failure' : 'failures'}`}
          {anyFilter && list.total !== null ? <span className="dim"> of {num(failures)}</span> : null}
        </span>
        {anyFilter ? (
          <button type="button" className="btn small" data-testid="filter-clear" onClick={() => setFilters({ trueClass: null, predClass: null, minConfidence: null, maxConfidence: null, factor: null, source: null })}>
            Clear filters
          </button>
        ) : null}
      </div>
      {run.status === 'running' ? <div className="notice slim">The run is still going: these are the failures so far. The list refreshes when it finishes.</div> : null}
      <ErrorBox error={list.error} onRetry={list.reload} testId="failures-error" />
      <VirtualGrid
        list={list}
        cellWidth={148}
        cellHeight={190}
        label="Failures"
        testId="failure-grid"
        handle={grid}
        empty={
          anyFilter ? (
            <Empty title="No failures match these filters">Widen the confidence range or clear a class filter.</Empty>
          ) : run.status === 'done' ? (
            <Empty title="No failures in this run">Every scored image was classified correctly.</Empty>
          ) : (
            <Empty title="No failures yet">The run has not scored any misclassified image so far.</Empty>
          )
        }
        renderCell={(f, index) => (
          <button
            type="button"
            className={`thumb failure${open === index ? ' selected' : ''}`}
            onClick={() => setOpen(index)}
            title={`${f.relPath}\ntrue: ${f.trueName}\npredicted: ${f.predName} (${pct(f.confidence)})\nP(true): ${pct(f.trueProb, 2)}`}
            data-testid="failure-cell"
          >
            <img src={client.imageUrl('thumb', f.imageId)} alt="" decoding="async" draggable={false} />
            <span className="conf-badge">{pct(f.confidence, 0)}</span>
            <span className="thumb-caption two">
              <span className="true-name">{f.trueName}</span>
              <span className="pred-name">→ {f.predName}</span>
            </span>
          </button>
        )}
      />
      {open !== null && list.total !== null && open < list.total ? (
        <ImageDetailView list={list} index={open} idOf={(f) => f.imageId} runId={run.id} onIndex={step} onClose={close} />
      ) : null}
      {list.total === null && !list.error ? <div className="loading">Loading failures…</div> : null}
      {list.total === 0 && !anyFilter && run.status === 'done' && failures > 0 ? <Empty title="The server reported failures but listed none" /> : null}
    </section>
  );
}

// Step 4 of the loop: each hypothesis (a cluster's description for one class) with the failure rate of
// its m confirmation images against the class's base rate, the Wilson interval, the one-sided Fisher
// p, the Benjamini-Hochberg q at the report's α and the status. Sortable; j / k move between rows,
// Enter (or the row's toggle) expands a row to its confirmation images, failures marked.
import { useEffect, useMemo, useRef, useState } from 'react';
import type { DiscoveryHypothesis, DiscoveryReport } from '../../../../electron/contract.ts';
import { useApi } from '../../lib/lab.tsx';
import { num } from '../../lib/format.ts';
import { DEFAULT_SORT, nextSort, pvalue, rateGeometry, ratePct, sortHypotheses, STATUS_TEXT, type Sort, type SortKey } from '../../lib/discovery-format.ts';
import { Empty, ErrorBox, Loading } from '../../components/common.tsx';
import { DiscThumb } from './DiscThumb.tsx';
import type { OpenImages } from './Clusters.tsx';

interface Props {
  report: DiscoveryReport;
  /** Changes while the job generates: expanded rows fetch their images again. */
  tick: string;
  /** True while the large image is open: the row keys stay quiet. */
  paused: boolean;
  onOpen: OpenImages;
}

const COLUMNS: { key: SortKey | null; label: string; num?: boolean; lower?: boolean; title?: string }[] = [
  { key: null, label: '' },
  { key: 'class', label: 'Class' },
  { key: 'prompt', label: 'Prompt' },
  { key: 'images', label: 'Failures / images', num: true, title: 'failures among the confirmation images CLIP ranks as the class' },
  { key: 'lift', label: 'Rate vs base rate', title: 'failure rate (dot) with its Wilson 95 % interval (bar) against the class base rate (grey tick); sorts by the difference' },
  { key: 'p', label: 'p', num: true, lower: true, title: 'one-sided Fisher exact test against the class base rate' },
  { key: 'q', label: 'q', num: true, lower: true, title: 'Benjamini-Hochberg adjusted p over the tested hypotheses' },
  { key: 'status', label: 'Status' },
];

function typing(t: EventTarget | null): boolean {
  const el = t as HTMLElement | null;
  return !!el && (el.tagName === 'INPUT' || el.tagName === 'SELECT' || el.tagName === 'TEXTAREA' || el.isContentEditable);
}

export function Hypotheses({ report, tick, paused, onOpen }: Props) {
  const [sort, setSort] = useState<Sort>(DEFAULT_SORT);
  const [selected, setSelected] = useState<number | null>(null);
  const [expanded, setExpanded] = useState<Set<number>>(() => new Set());
  const rows = useMemo(() => sortHypotheses(report.hypotheses, sort), [report.hypotheses, sort]);
  const rowRefs = useRef(new Map<number, HTMLTableRowElement>());
  const className = useMemo(() => new Map(report.classes.map((c) => [c.classIdx, c.name])), [report.classes]);

  const toggle = (id: number) =>
    setExpanded((prev) => {
      const next = new Set(prev);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });

  // Keys live in refs so that the listener is added once.
  const state = useRef({ rows, selected, paused });
  state.current = { rows, selected, paused };
  useEffect(() => {
    const move = (delta: number) => {
      const { rows: list, selected: sel } = state.current;
      if (!list.length) return;
      const at = list.findIndex((h) => h.id === sel);
      const next = list[at < 0 ? (delta > 0 ? 0 : list.length - 1) : Math.max(0, Math.min(list.length - 1, at + delta))]!;
      setSelected(next.id);
      const el = rowRefs.current.get(next.id);
      el?.focus({ preventScroll: true });
      el?.scrollIntoView({ block: 'nearest' });
    };
    const onKey = (e: KeyboardEvent) => {
      if (state.current.paused || e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey || typing(e.target)) return;
      if (e.key === 'j') {
        e.preventDefault();
        move(1);
      } else if (e.key === 'k') {
        e.preventDefault();
        move(-1);
      } else if (e.key === 'Enter') {
        const t = e.target as HTMLElement | null;
        // Enter on a button or a link does what that control does.
        if (t && t !== document.body && !t.matches('tr[data-testid="hypothesis-row"]')) return;
        const sel = state.current.selected;
        if (sel === null) return;
        e.preventDefault();
        toggle(sel);
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  const counts = useMemo(() => {
    const c: Record<DiscoveryHypothesis['status'], number> = { confirmed: 0, 'not-confirmed': 0, 'too-few-images': 0, pending: 0 };
    for (const h of report.hypotheses) c[h.status]++;
    return c;
  }, [report.hypotheses]);

  return (
    <section className="card" data-testid="discovery-hypotheses">
      <div className="card-title">
        Hypotheses
        <span className="count dim" data-testid="hypotheses-summary">
          {counts.confirmed} confirmed · {counts['not-confirmed']} not confirmed · {counts['too-few-images']} too few images{counts.pending ? ` · ${counts.pending} pending` : ''} (α {report.alpha})
        </span>
        <span className="card-tools dim">j / k move · Enter expands</span>
      </div>
      {rows.length === 0 ? (
        <Empty
          title={report.stage === 'done' ? 'No hypothesis was tested' : 'No hypothesis yet'}
          testId="hypotheses-empty"
        >
          {report.stage === 'done' ? 'No cluster had enough failures of one class to be worth confirming (see Min. members).' : 'Each cluster becomes one hypothesis per class once the descriptions are clustered.'}
        </Empty>
      ) : (
        <div className="table-scroll">
          <table className="table disc-hyp-table" data-testid="hypotheses-table">
            <thead>
              <tr>
                {COLUMNS.map((c, i) => (
                  <th key={i} className={[c.num ? 'num' : '', c.lower ? 'disc-greek' : ''].join(' ').trim() || undefined} title={c.title} aria-sort={c.key && sort.key === c.key ? (sort.dir === 'asc' ? 'ascending' : 'descending') : undefined}>
                    {c.key ? (
                      <button type="button" className="disc-sort" onClick={() => setSort((s) => nextSort(s, c.key!))} data-testid={`sort-${c.key}`}>
                        {c.label}
                        <span className="disc-sort-mark" aria-hidden="true">
                          {sort.key === c.key ? (sort.dir === 'asc' ? ' ▲' : ' ▼') : ''}
                        </span>
                      </button>
                    ) : (
                      <span className="dim" title="expand a row to its confirmation images" />
                    )}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {rows.map((h) => {
                const open = expanded.has(h.id);
                const isSel = h.id === selected;
                return (
                  <HypothesisRows
                    key={h.id}
                    h={h}
                    open={open}
                    selected={isSel}
                    report={report}
                    tick={tick}
                    rowRef={(el) => {
                      if (el) rowRefs.current.set(h.id, el);
                      else rowRefs.current.delete(h.id);
                    }}
                    onSelect={() => setSelected(h.id)}
                    onToggle={() => {
                      setSelected(h.id);
                      toggle(h.id);
                    }}
                    onOpen={onOpen}
                    className={(c) => className.get(c) ?? `class ${c}`}
                  />
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

interface RowProps {
  h: DiscoveryHypothesis;
  open: boolean;
  selected: boolean;
  report: DiscoveryReport;
  tick: string;
  rowRef: (el: HTMLTableRowElement | null) => void;
  onSelect: () => void;
  onToggle: () => void;
  onOpen: OpenImages;
  className: (classIdx: number) => string;
}

function HypothesisRows({ h, open, selected, report, tick, rowRef, onSelect, onToggle, onOpen, className }: RowProps) {
  return (
    <>
      <tr
        ref={rowRef}
        tabIndex={selected ? 0 : -1}
        className={`clickable${selected ? ' selected' : ''}`}
        onClick={onSelect}
        aria-selected={selected}
        aria-expanded={open}
        data-testid="hypothesis-row"
        data-id={h.id}
        data-status={h.status}
      >
        <td>
          <button
            type="button"
            className="icon-btn disc-expand"
            onClick={(e) => {
              e.stopPropagation();
              onToggle();
            }}
            aria-expanded={open}
            aria-label={`${open ? 'Hide' : 'Show'} the confirmation images of “${h.prompt}”`}
            data-testid="hypothesis-expand"
          >
            {open ? '▾' : '▸'}
          </button>
        </td>
        <td>{h.className}</td>
        <td className="wrap" data-testid="hypothesis-prompt">
          {h.parentId !== null ? (
            <span className="tag" title={`refinement: one phrase of the confirmed mode #${h.parentId} tested alone (corrected as its own family)`} data-testid="hypothesis-refinement">
              phrase of #{h.parentId}
            </span>
          ) : null}{' '}
          {h.prompt}
          {h.factors.length ? (
            <span className="disc-factors">
              {h.factors.map((f) => (
                <span key={f} className="tag" title="ImageNet-X factor the description stands for">
                  {f}
                </span>
              ))}
            </span>
          ) : null}
        </td>
        <td className="num" data-testid="hypothesis-counts">
          {num(h.failures)}/{num(h.images)}
          {h.offClass ? <span className="dim" title="off-class images: not counted"> (+{num(h.offClass)})</span> : null}
          {h.generated < report.settings.m ? <span className="dim" title="confirmation images generated so far"> · {num(h.generated)}/{num(report.settings.m)} made</span> : null}
        </td>
        <td>
          <span className="disc-rate">
            <RateVisual h={h} />
            <span className="disc-rate-text" data-testid="hypothesis-rate">
              {ratePct(h.failureRate)} <span className="dim">vs {ratePct(h.baseRate)}</span>
            </span>
          </span>
        </td>
        <td className="num" data-testid="hypothesis-p">
          {pvalue(h.pValue)}
        </td>
        <td className="num" data-testid="hypothesis-q">
          {pvalue(h.qValue)}
        </td>
        <td title={h.reason ?? undefined}>
          <span className={`badge disc-status-${h.status}`} data-testid="hypothesis-status">
            {STATUS_TEXT[h.status]}
          </span>
        </td>
      </tr>
      {open ? (
        <tr className="disc-expanded" data-testid="hypothesis-detail" data-id={h.id}>
          <td colSpan={COLUMNS.length}>
            <HypothesisImages h={h} report={report} tick={tick} onOpen={onOpen} className={className} />
          </td>
        </tr>
      ) : null}
    </>
  );
}

/** Failure rate (dot), its Wilson interval (bar) and the class base rate (tick) on one 0–100 % track. */
function RateVisual({ h }: { h: DiscoveryHypothesis }) {
  const W = 140;
  const g = rateGeometry(h, W);
  const text = `failure rate ${ratePct(h.failureRate)}${h.interval ? ` (95 % interval ${ratePct(h.interval.lo)}–${ratePct(h.interval.hi)})` : ''} vs base rate ${ratePct(h.baseRate)}`;
  return (
    <svg className={`disc-rate-svg disc-rate-${h.status}`} width={W} height={18} viewBox={`0 0 ${W} 18`} role="img" aria-label={text} data-testid="hypothesis-rate-visual">
      <title>{text}</title>
      <line x1={4} x2={W - 4} y1={9} y2={9} className="disc-rate-track" />
      <line x1={W / 2} x2={W / 2} y1={6} y2={12} className="disc-rate-mid" />
      {g.lo !== null && g.hi !== null ? <line x1={g.lo} x2={g.hi} y1={9} y2={9} className="disc-rate-interval" /> : null}
      {g.base !== null ? <line x1={g.base} x2={g.base} y1={1} y2={17} className="disc-rate-base" /> : null}
      {g.rate !== null ? <circle cx={g.rate} cy={9} r={4} className="disc-rate-dot" /> : null}
    </svg>
  );
}

function HypothesisImages({ h, report, tick, onOpen, className }: { h: DiscoveryHypothesis; report: DiscoveryReport; tick: string; onOpen: OpenImages; className: (c: number) => string }) {
  const [failuresOnly, setFailuresOnly] = useState(false);
  const images = useApi('discovery.images', { sessionId: report.id, hypothesisId: h.id, failuresOnly, limit: 5000 }, ['discovery']);
  const { reload } = images;
  useEffect(() => {
    if (tick) reload();
  }, [tick, reload]);
  const items = images.data?.items ?? [];
  return (
    <div className="disc-hyp-images">
      <div className="disc-hyp-summary">
        <span>
          {num(h.failures)} failures of {num(h.images)} counted images{h.offClass ? ` (${num(h.offClass)} off-class not counted)` : ''} · base rate of {className(h.classIdx)}: {num(h.baseFailures)}/{num(h.baseImages)}
          {h.interval ? ` · 95 % interval ${ratePct(h.interval.lo)}–${ratePct(h.interval.hi)}` : ''}
        </span>
        {h.reason ? <span className="warn" data-testid="hypothesis-reason">{h.reason}</span> : null}
        <span className="dim">cluster: {h.clusterName}</span>
        <label className="disc-toggle">
          <input type="checkbox" checked={failuresOnly} onChange={(e) => setFailuresOnly(e.target.checked)} data-testid="hypothesis-failures-only" /> failures only
        </label>
      </div>
      <ErrorBox error={images.error} onRetry={images.reload} testId="hypothesis-images-error" />
      {images.data === null && images.loading ? <Loading what="confirmation images" /> : null}
      {images.data && items.length === 0 ? <div className="dim pad">{failuresOnly ? 'No failure among these images.' : 'No confirmation image yet.'}</div> : null}
      <div className="disc-thumbs" data-testid="hypothesis-images">
        {items.map((img, i) => (
          <DiscThumb key={img.id} image={img} label={`Confirmation image ${i + 1} of “${h.prompt}”`} onOpen={() => onOpen(items, i, h.prompt)} />
        ))}
      </div>
    </div>
  );
}

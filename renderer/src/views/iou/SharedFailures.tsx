// The drill-down of one heatmap cell: the images both runs got wrong, a page of thumbnails at a
// time (true class, A's and B's prediction, named in each run's model label space); a thumbnail
// opens the image detail with run A's prediction.
import { useCallback, useEffect, useState } from 'react';
import type { RunSummary, SharedFailure } from '../../../../electron/contract.ts';
import { useApi, useLab } from '../../lib/lab.tsx';
import { usePagedList } from '../../lib/paged.ts';
import { num } from '../../lib/format.ts';
import { runLabel } from '../../lib/iou-export.ts';
import { Empty, ErrorBox } from '../../components/common.tsx';
import { ImageDetailView } from '../../components/ImageDetail.tsx';

const PAGE = 40;

interface Props {
  runA: RunSummary;
  runB: RunSummary;
  union: number;
  onClose: () => void;
}

export function SharedFailures({ runA, runB, union, onClose }: Props) {
  const { client } = useLab();
  const a = useApi('runs.summary', { runId: runA.id });
  const b = useApi('runs.summary', { runId: runB.id });
  const fetchPage = useCallback(
    (offset: number, limit: number) => client.call('analysis.sharedFailures', { runA: runA.id, runB: runB.id, offset, limit }),
    [client, runA.id, runB.id],
  );
  const list = usePagedList<SharedFailure>(fetchPage, `${runA.id}-${runB.id}`, PAGE);
  const [page, setPage] = useState(0);
  const [open, setOpen] = useState<number | null>(null);
  const total = list.total;
  const pages = total === null ? 1 : Math.max(1, Math.ceil(total / PAGE));

  useEffect(() => {
    if (total !== null) list.ensure(page * PAGE, Math.min(total, (page + 1) * PAGE));
  }, [list, page, total]);

  const nameIn = (classes: string[] | undefined, idx: number) => classes?.[idx] ?? `class ${idx}`;
  const step = useCallback((i: number) => {
    setOpen(i);
    setPage(Math.floor(i / PAGE));
  }, []);
  const close = useCallback(() => setOpen(null), []);
  const items = total === null ? [] : Array.from({ length: Math.max(0, Math.min(PAGE, total - page * PAGE)) }, (_, k) => page * PAGE + k);

  return (
    <section className="card iou-shared" data-testid="shared-failures" data-run-a={runA.id} data-run-b={runB.id}>
      <div className="card-title">
        <span>
          Shared failures of <span className="iou-a">A: {runLabel(runA)}</span> and <span className="iou-b">B: {runLabel(runB)}</span>
        </span>
        <span className="count" data-testid="shared-summary">
          |A ∩ B| <strong data-testid="shared-count">{total === null ? '…' : num(total)}</strong> of |A ∪ B| <span data-testid="shared-union">{num(union)}</span>
        </span>
        <span className="card-tools">
          <button type="button" className="btn small" onClick={onClose} data-testid="shared-close">
            Close
          </button>
        </span>
      </div>
      <ErrorBox error={a.error ?? b.error} onRetry={a.error ? a.reload : b.reload} testId="shared-classes-error" />
      <ErrorBox error={list.error} onRetry={list.reload} testId="shared-error" />
      {total === null && !list.error ? <div className="loading">Loading shared failures…</div> : null}
      {total === 0 ? (
        <Empty title="No shared failures" testId="shared-empty">
          The two runs never failed on the same image.
        </Empty>
      ) : null}
      {total ? (
        <>
          <div className="iou-thumbs" data-testid="shared-grid">
            {items.map((index) => {
              const f = list.get(index);
              if (!f) return <div key={index} className="thumb placeholder" />;
              const t = nameIn(a.data?.modelClasses, f.trueClass);
              const pa = nameIn(a.data?.modelClasses, f.predA);
              const pb = nameIn(b.data?.modelClasses, f.predB);
              return (
                <button
                  key={index}
                  type="button"
                  className={`thumb failure${open === index ? ' selected' : ''}`}
                  onClick={() => setOpen(index)}
                  title={`${f.relPath}\ntrue: ${t}\nA (${runLabel(runA)}): ${pa}\nB (${runLabel(runB)}): ${pb}`}
                  data-testid="shared-cell"
                  data-id={f.imageId}
                >
                  <img src={client.imageUrl('thumb', f.imageId)} alt="" decoding="async" draggable={false} />
                  <span className="thumb-caption two">
                    <span className="true-name">{t}</span>
                    <span className="pred-name">A → {pa}</span>
                    <span className="pred-name">B → {pb}</span>
                  </span>
                </button>
              );
            })}
          </div>
          <div className="iou-pager">
            <button type="button" className="btn small" disabled={page === 0} onClick={() => setPage(page - 1)} data-testid="shared-prev">
              ← Previous
            </button>
            <span className="dim" data-testid="shared-range">
              {num(page * PAGE + 1)}–{num(Math.min(total, (page + 1) * PAGE))} of {num(total)}
            </span>
            <button type="button" className="btn small" disabled={page + 1 >= pages} onClick={() => setPage(page + 1)} data-testid="shared-next">
              Next →
            </button>
          </div>
        </>
      ) : null}
      {open !== null && total !== null && open < total ? <ImageDetailView list={list} index={open} idOf={(f) => f.imageId} runId={runA.id} onIndex={step} onClose={close} /> : null}
    </section>
  );
}

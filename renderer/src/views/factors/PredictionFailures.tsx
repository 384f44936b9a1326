// The drill-down of a bar for imported predictions (which have no run to open): the files the
// prediction set gets wrong that carry the factor, most confident first, with the lab's image of the
// same file name where there is one, a page at a time.
import { useEffect, useRef, useState } from 'react';
import type { AnalysisSubject, ParamsIn } from '../../../../electron/contract.ts';
import { useApi, useLab } from '../../lib/lab.tsx';
import { num } from '../../lib/format.ts';
import { factorLabel } from '../../lib/factors.ts';
import { Empty, ErrorBox } from '../../components/common.tsx';

const PAGE = 60;

export function PredictionFailures({ subject, sourceId, factor, onClose }: { subject: AnalysisSubject; sourceId: number; factor: string; onClose: () => void }) {
  const { client } = useLab();
  const [page, setPage] = useState(0);
  const list = useApi('analysis.failingImages', { subject, sourceId, factor: factor as ParamsIn<'analysis.failingImages'>['factor'], offset: page * PAGE, limit: PAGE }, ['lab', 'runs']);
  const total = list.data?.total ?? null;
  const card = useRef<HTMLElement>(null);
  // opened from a bar above: bring it into view
  useEffect(() => {
    card.current?.scrollIntoView({ block: 'start' }); // (Chromium returns a promise here: not a cleanup)
  }, []);
  return (
    <section className="card iou-shared" ref={card} data-testid="prediction-failures">
      <div className="card-title">
        Failing images with {factorLabel(factor)}
        {total !== null ? <span className="count" data-testid="prediction-failures-total">{num(total)}</span> : null}
        <span className="card-tools">
          <button type="button" className="btn small" onClick={onClose} data-testid="prediction-failures-close">
            Close
          </button>
        </span>
      </div>
      <ErrorBox error={list.error} onRetry={list.reload} testId="prediction-failures-error" />
      {total === 0 ? <Empty title="No failing image carries this factor" /> : null}
      {list.data && total ? (
        <>
          <div className="iou-thumbs">
            {list.data.items.map((f) => (
              <div key={f.fileName} className="thumb failure" title={`${f.fileName}\ntrue class ${f.trueClass}, predicted ${f.predicted} (p = ${f.confidence.toFixed(3)})\n${f.factors.join(', ')}`} data-testid="prediction-failure" data-file={f.fileName}>
                {f.imageId !== null ? <img src={client.imageUrl('thumb', f.imageId)} alt="" decoding="async" draggable={false} /> : <span className="thumb-missing dim">not in the lab</span>}
                <span className="thumb-caption two">
                  <span className="true-name">{f.fileName}</span>
                  <span className="pred-name">
                    {f.trueClass} → {f.predicted} ({(100 * f.confidence).toFixed(0)} %)
                  </span>
                </span>
              </div>
            ))}
          </div>
          {total > PAGE ? (
            <div className="iou-pager">
              <button type="button" className="btn small" disabled={page === 0} onClick={() => setPage(page - 1)}>
                ← Previous
              </button>
              <span className="dim">
                {num(page * PAGE + 1)}–{num(Math.min(total, (page + 1) * PAGE))} of {num(total)}
              </span>
              <button type="button" className="btn small" disabled={(page + 1) * PAGE >= total} onClick={() => setPage(page + 1)}>
                Next →
              </button>
            </div>
          ) : null}
        </>
      ) : null}
    </section>
  );
}

// The detail view of one image of a paged list: full image, classes, top-5 with probability bars,
// file path. Arrow keys step through the list (fetching pages as needed), Esc closes.
import { useEffect, useRef, useState } from 'react';
import type { ImageDetail as Detail } from '../../../electron/contract.ts';
import type { ApiError } from '../api/index.ts';
import { useLab } from '../lib/lab.tsx';
import type { PagedList } from '../lib/paged.ts';
import { bytes, num, pct } from '../lib/format.ts';
import { Bar, ErrorBox } from './common.tsx';

interface Props<T> {
  list: PagedList<T>;
  index: number;
  idOf: (item: T) => number;
  /** With a run, the detail carries that run's prediction (top-5, true class in the model's numbering). */
  runId?: number;
  onIndex: (index: number) => void;
  onClose: () => void;
}

export function ImageDetailView<T>({ list, index, idOf, runId, onIndex, onClose }: Props<T>) {
  const { client } = useLab();
  const [detail, setDetail] = useState<{ index: number; data: Detail } | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [imgError, setImgError] = useState(false);
  const dialogRef = useRef<HTMLDivElement>(null);
  const total = list.total ?? 0;

  useEffect(() => {
    let live = true;
    setError(null);
    setImgError(false);
    (async () => {
      const item = list.get(index) ?? (await list.load(index));
      if (!live) return;
      if (item === undefined) throw new Error(`item ${index + 1} of the list is not available`);
      const data = await client.call('images.detail', { imageId: idOf(item), runId });
      if (!live) return;
      setDetail({ index, data });
      // Warm the cache for the neighbours so that stepping is instant.
      for (const n of [index + 1, index - 1]) {
        const other = list.get(n);
        if (other !== undefined) new Image().src = client.imageUrl('full', idOf(other));
      }
    })().catch((err) => live && setError(err as ApiError));
    return () => {
      live = false;
    };
    // list.get changes on every page arrival; the detail depends on the item, not on the page cache.
  }, [client, index, runId, list.key]);

  useEffect(() => {
    const previous = document.activeElement as HTMLElement | null;
    dialogRef.current?.focus();
    return () => previous?.focus?.();
  }, []);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const t = e.target as HTMLElement | null;
      if (t && (t.tagName === 'INPUT' || t.tagName === 'SELECT' || t.tagName === 'TEXTAREA')) {
        if (e.key === 'Escape') t.blur();
        return;
      }
      if (e.key === 'Escape') {
        e.preventDefault();
        onClose();
      } else if (e.key === 'ArrowRight' || e.key === 'ArrowDown') {
        e.preventDefault();
        if (index + 1 < total) onIndex(index + 1);
      } else if (e.key === 'ArrowLeft' || e.key === 'ArrowUp') {
        e.preventDefault();
        if (index > 0) onIndex(index - 1);
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [index, total, onIndex, onClose]);

  const d = detail?.data;
  const stale = detail !== null && detail.index !== index;
  const pred = d?.prediction;
  const top1 = pred?.top5[0];
  // prediction.trueClass is in the model's numbering, like the top-5 (d.classIdx is the dataset's).
  const trueClass = pred?.trueClass ?? null;
  const isTrue = (classIdx: number) => trueClass !== null && classIdx === trueClass;

  return (
    <div className="overlay" onMouseDown={(e) => e.target === e.currentTarget && onClose()}>
      <div className="detail" role="dialog" aria-modal="true" aria-label="Image detail" tabIndex={-1} ref={dialogRef} data-testid="image-detail">
        <header className="detail-header">
          <span className="detail-pos" data-testid="detail-position">
            {num(index + 1)} / {num(total)}
          </span>
          <span className="detail-title" title={d?.relPath}>
            {d?.relPath ?? '…'}
          </span>
          <span className="detail-nav">
            <button type="button" className="btn small" disabled={index <= 0} onClick={() => onIndex(index - 1)} aria-label="Previous (←)" data-testid="detail-prev">
              ←
            </button>
            <button type="button" className="btn small" disabled={index + 1 >= total} onClick={() => onIndex(index + 1)} aria-label="Next (→)" data-testid="detail-next">
              →
            </button>
            <button type="button" className="btn small" onClick={onClose} aria-label="Close (Esc)" data-testid="detail-close">
              Esc ×
            </button>
          </span>
        </header>
        <ErrorBox error={error} testId="detail-error" />
        <div className={`detail-body${stale ? ' stale' : ''}`}>
          <div className="detail-image">
            {d ? (
              imgError ? (
                <div className="img-missing">The image could not be loaded from {d.absPath}</div>
              ) : (
                <img key={d.id} src={client.imageUrl('full', d.id)} alt={d.relPath} onError={() => setImgError(true)} data-testid="detail-image" />
              )
            ) : null}
          </div>
          <aside className="detail-side">
            {d ? (
              <>
                <dl className="kv">
                  <dt>True class</dt>
                  <dd data-testid="detail-true">{d.className ?? <span className="dim">unlabelled</span>}</dd>
                  {top1 ? (
                    <>
                      <dt>Predicted</dt>
                      <dd className={pred?.correct === false ? 'bad' : pred?.correct ? 'good' : ''} data-testid="detail-pred">
                        {top1.name} <span className="dim">({pct(top1.prob)})</span>
                      </dd>
                    </>
                  ) : null}
                  {pred && pred.trueProb !== null ? (
                    <>
                      <dt>P(true class)</dt>
                      <dd>{pct(pred.trueProb, 2)}</dd>
                    </>
                  ) : null}
                  <dt>Size</dt>
                  <dd>
                    {d.width && d.height ? `${d.width} × ${d.height}` : '–'} · {bytes(d.bytes)}
                  </dd>
                  <dt>File</dt>
                  <dd className="path" data-testid="detail-path">
                    {d.absPath}
                  </dd>
                </dl>
                {pred ? (
                  <section>
                    <h3 className="section-title">Top-5 (run #{pred.runId})</h3>
                    <ol className="top5" data-testid="detail-top5">
                      {pred.top5.map((t) => (
                        <li key={t.classIdx} className={isTrue(t.classIdx) ? 'is-true' : ''}>
                          <span className="top5-name" title={`class ${t.classIdx}`}>
                            {t.name}
                            {isTrue(t.classIdx) ? <span className="tag">true</span> : null}
                          </span>
                          <Bar value={t.prob} tone={isTrue(t.classIdx) ? 'good' : 'accent'} />
                          <span className="top5-prob">{pct(t.prob)}</span>
                        </li>
                      ))}
                    </ol>
                  </section>
                ) : (
                  <p className="dim">No prediction for this image{runId !== undefined ? ' in this run' : ''}.</p>
                )}
                <p className="hint">← → step through the list · Esc closes</p>
              </>
            ) : !error ? (
              <div className="loading">Loading…</div>
            ) : null}
          </aside>
        </div>
      </div>
    </div>
  );
}

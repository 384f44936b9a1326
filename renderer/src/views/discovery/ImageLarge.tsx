// One discovery image large, with what the loop knows of it: the prompt it was generated from, its
// seed, the model's prediction (a failure or not), CLIP's rank of the prompted class (whether it
// counts), the CLIP describer's description and the captioner's caption. ← → step, Esc closes.
import { useEffect, useRef, useState } from 'react';
import type { DiscoveryImageRow } from '../../../../electron/contract.ts';
import { useLab } from '../../lib/lab.tsx';
import { num } from '../../lib/format.ts';

interface Props {
  items: DiscoveryImageRow[];
  index: number;
  title: string;
  className: (classIdx: number) => string;
  filterRank: number;
  onIndex: (index: number) => void;
  onClose: () => void;
}

export function ImageLarge({ items, index, title, className, filterRank, onIndex, onClose }: Props) {
  const { client } = useLab();
  const dialogRef = useRef<HTMLDivElement>(null);
  const [broken, setBroken] = useState<number | null>(null);
  const img = items[index];

  useEffect(() => {
    const previous = document.activeElement as HTMLElement | null;
    dialogRef.current?.focus();
    return () => previous?.focus?.();
  }, []);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') {
        e.preventDefault();
        e.stopPropagation();
        onClose();
      } else if (e.key === 'ArrowRight' || e.key === 'ArrowDown') {
        e.preventDefault();
        if (index + 1 < items.length) onIndex(index + 1);
      } else if (e.key === 'ArrowLeft' || e.key === 'ArrowUp') {
        e.preventDefault();
        if (index > 0) onIndex(index - 1);
      }
    };
    // Capture: the page's own keys (j / k / Enter) stay quiet while the image is open.
    window.addEventListener('keydown', onKey, true);
    return () => window.removeEventListener('keydown', onKey, true);
  }, [index, items.length, onIndex, onClose]);

  useEffect(() => {
    for (const n of [index + 1, index - 1]) {
      const other = items[n];
      if (other) new Image().src = client.imageUrl('disc', other.id);
    }
  }, [client, index, items]);

  if (!img) return null;
  const counted = img.onClass === null ? null : img.onClass;
  return (
    <div className="overlay" onMouseDown={(e) => e.target === e.currentTarget && onClose()}>
      <div className="detail disc-detail" role="dialog" aria-modal="true" aria-label="Discovery image" tabIndex={-1} ref={dialogRef} data-testid="discovery-image-large" data-id={img.id}>
        <header className="detail-header">
          <span className="detail-pos" data-testid="discovery-image-position">
            {num(index + 1)} / {num(items.length)}
          </span>
          <span className="detail-title disc-detail-title">{title}</span>
          <span className="detail-nav">
            <button type="button" className="btn small" disabled={index <= 0} onClick={() => onIndex(index - 1)} aria-label="Previous image (←)">
              ←
            </button>
            <button type="button" className="btn small" disabled={index + 1 >= items.length} onClick={() => onIndex(index + 1)} aria-label="Next image (→)">
              →
            </button>
            <button type="button" className="btn small" onClick={onClose} aria-label="Close image (Esc)" data-testid="discovery-image-close">
              Esc ×
            </button>
          </span>
        </header>
        <div className="detail-body">
          <div className="detail-image disc-pixelated">
            {broken === img.id ? (
              <div className="img-missing">The image could not be loaded.</div>
            ) : (
              <img key={img.id} src={client.imageUrl('disc', img.id)} alt={img.prompt} onError={() => setBroken(img.id)} data-testid="discovery-image-full" />
            )}
          </div>
          <aside className="detail-side">
            <dl className="kv">
              <dt>Prompt</dt>
              <dd data-testid="discovery-image-prompt">{img.prompt}</dd>
              <dt>Class</dt>
              <dd>{className(img.classIdx)}</dd>
              <dt>Prediction</dt>
              <dd className={img.failed ? 'bad' : img.failed === false ? 'good' : ''} data-testid="discovery-image-prediction">
                {img.predName ?? <span className="dim">not classified yet</span>}
                {img.failed ? ' ✗ failure' : img.failed === false ? ' ✓' : ''}
              </dd>
              <dt>CLIP rank</dt>
              <dd data-testid="discovery-image-clip">
                {img.clipRank === null ? '–' : `${img.clipRank + 1}`}
                {counted === false ? <span className="warn"> · off-class (top {filterRank}): not counted</span> : null}
                {counted && filterRank > 0 ? <span className="dim"> · in the top {filterRank}: counted</span> : null}
              </dd>
              <dt>Description</dt>
              <dd data-testid="discovery-image-description">{img.description ?? <span className="dim">none (only failures are described)</span>}</dd>
              <dt>Caption</dt>
              <dd data-testid="discovery-image-caption">{img.caption ?? <span className="dim">none (no captioner)</span>}</dd>
              <dt>Seed</dt>
              <dd className="mono">{img.seed}</dd>
              <dt>Image</dt>
              <dd className="mono dim">disc #{img.id}</dd>
            </dl>
            <p className="hint">← → step through these images · Esc closes</p>
          </aside>
        </div>
      </div>
    </div>
  );
}

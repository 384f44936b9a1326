// Grid mode: the queue's thumbnails with their labels; click selects one, Shift+click a range from
// the last click, Ctrl/Cmd+click toggles one, and dragging a rectangle selects what it touches
// (with Ctrl/Cmd: adds). A factor is then applied to or removed from every selected image in one
// transaction, one undo step (Ctrl+Z). Double-click opens the image in the one-image mode.
import { useCallback, useEffect, useRef, useState, type MouseEvent as ReactMouseEvent } from 'react';
import type { LabelQueueItem, LabelRecord } from '../../../../electron/contract.ts';
import { useLab } from '../../lib/lab.tsx';
import { FACTORS, factorLabel, typingIn } from '../../lib/factors.ts';
import { num } from '../../lib/format.ts';
import { VirtualGrid, type GridHandle } from '../../components/VirtualGrid.tsx';
import type { QueueCtx } from '../LabelView.tsx';

interface Rect {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

export function LabelGrid({ ctx, onOpen }: { ctx: QueueCtx; onOpen: (index: number) => void }) {
  const { client, notify, notifyError } = useLab();
  const { list, annotator } = ctx;
  const [selected, setSelected] = useState<Set<number>>(() => new Set());
  const anchor = useRef<number | null>(null);
  const [factor, setFactor] = useState<string>(FACTORS[0]);
  const [busy, setBusy] = useState(false);
  const wrap = useRef<HTMLDivElement>(null);
  const grid = useRef<GridHandle | null>(null);
  const [rect, setRect] = useState<Rect | null>(null);
  const drag = useRef<{ x: number; y: number; add: boolean; base: Set<number>; moved: boolean } | null>(null);
  const suppressClick = useRef(false);

  useEffect(() => {
    setSelected(new Set());
    anchor.current = null;
  }, [list.key]);

  const cellsIn = (r: Rect): number[] => {
    const el = wrap.current;
    if (!el) return [];
    const left = Math.min(r.x0, r.x1);
    const right = Math.max(r.x0, r.x1);
    const top = Math.min(r.y0, r.y1);
    const bottom = Math.max(r.y0, r.y1);
    const out: number[] = [];
    el.querySelectorAll<HTMLElement>('[data-index]').forEach((c) => {
      const b = c.getBoundingClientRect();
      if (b.right >= left && b.left <= right && b.bottom >= top && b.top <= bottom) out.push(Number(c.dataset.index));
    });
    return out;
  };

  const onMouseDown = (e: ReactMouseEvent) => {
    if (e.button !== 0) return;
    const scroller = wrap.current?.querySelector<HTMLElement>('.vgrid');
    if (scroller && e.target === scroller && e.nativeEvent.offsetX >= scroller.clientWidth) return; // the scrollbar
    if (e.shiftKey) return; // shift is a range click
    drag.current = { x: e.clientX, y: e.clientY, add: e.ctrlKey || e.metaKey, base: selected, moved: false };
    e.preventDefault();
  };

  useEffect(() => {
    const move = (e: MouseEvent) => {
      const d = drag.current;
      if (!d) return;
      if (!d.moved && Math.hypot(e.clientX - d.x, e.clientY - d.y) < 5) return;
      d.moved = true;
      const r = { x0: d.x, y0: d.y, x1: e.clientX, y1: e.clientY };
      setRect(r);
      const hit = cellsIn(r);
      setSelected(new Set(d.add ? [...d.base, ...hit] : hit));
    };
    const up = () => {
      const d = drag.current;
      drag.current = null;
      if (d?.moved) {
        suppressClick.current = true;
        setTimeout(() => (suppressClick.current = false), 0);
      }
      setRect(null);
    };
    window.addEventListener('mousemove', move);
    window.addEventListener('mouseup', up);
    return () => {
      window.removeEventListener('mousemove', move);
      window.removeEventListener('mouseup', up);
    };
  }, []);

  const onCellClick = (e: ReactMouseEvent, index: number) => {
    if (suppressClick.current) return;
    if (e.shiftKey && anchor.current !== null) {
      const [a, b] = [Math.min(anchor.current, index), Math.max(anchor.current, index)];
      const range = Array.from({ length: b - a + 1 }, (_, i) => a + i);
      setSelected((s) => new Set(e.ctrlKey || e.metaKey ? [...s, ...range] : range));
      return;
    }
    if (e.ctrlKey || e.metaKey) {
      setSelected((s) => {
        const n = new Set(s);
        if (n.has(index)) n.delete(index);
        else n.add(index);
        return n;
      });
    } else {
      setSelected(new Set([index]));
    }
    anchor.current = index;
  };

  const apply = async (value: boolean) => {
    if (!selected.size) return;
    setBusy(true);
    try {
      const items = (await Promise.all([...selected].sort((a, b) => a - b).map((i) => list.get(i) ?? list.load(i)))).filter((x): x is LabelQueueItem => !!x);
      const r = await client.call('labels.bulk', { imageIds: items.map((x) => x.imageId), annotator, factor: factor as never, value });
      notify('success', `${value ? 'Applied' : 'Removed'} “${factorLabel(factor)}” ${value ? 'to' : 'from'} ${num(r.selected)} selected (${num(r.changed)} changed)`);
      // What the server did, mirrored here (no reload: the grid keeps its place and selection).
      const updates: [number, LabelRecord | null][] = [];
      for (const it of items) {
        const old = ctx.labelOf(it);
        if (!old && !value) continue;
        const has = new Set(old?.factors ?? []);
        if (value) has.add(factor);
        else has.delete(factor);
        const base: LabelRecord = old ?? { imageId: it.imageId, fileName: it.relPath, sourceId: 0, annotator, factors: [], topFactor: null, justification: null, oneWord: null, seconds: null, updatedAt: null };
        updates.push([it.imageId, { ...base, factors: FACTORS.filter((f) => has.has(f)), topFactor: !value && base.topFactor === factor ? null : base.topFactor }]);
      }
      ctx.setOverrides(updates);
      ctx.refreshProgress();
    } catch (err) {
      notifyError(err, 'Bulk apply');
    } finally {
      setBusy(false);
    }
  };

  const undo = useCallback(async () => {
    try {
      const r = await client.call('labels.undo', { annotator });
      if (!r.undone) return notify('info', 'Nothing to undo');
      notify('info', `Undone: ${r.undone.op} (${r.undone.count} ${r.undone.count === 1 ? 'image' : 'images'})`);
      ctx.setOverrides(r.restored.filter((x) => x.imageId !== null).map((x) => [x.imageId!, x.label]));
      ctx.refreshProgress();
    } catch (err) {
      notifyError(err, 'Undo');
    }
  }, [client, annotator, ctx, list, notify, notifyError]);

  const undoRef = useRef(undo);
  undoRef.current = undo;
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (typingIn(e)) return;
      if ((e.ctrlKey || e.metaKey) && e.code === 'KeyZ') {
        e.preventDefault();
        void undoRef.current();
      } else if ((e.ctrlKey || e.metaKey) && e.code === 'KeyA') {
        e.preventDefault();
        setSelected(new Set(Array.from({ length: list.total ?? 0 }, (_, i) => i)));
      } else if (e.key === 'Escape') {
        setSelected(new Set());
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [list.total]);

  return (
    <section className="card grid-card label-grid-card">
      <div className="filterbar" data-testid="bulk-bar">
        <span className="result-count" data-testid="grid-selected-count">
          {num(selected.size)} selected
        </span>
        <label className="field compact">
          <span className="field-label">Factor</span>
          <select value={factor} onChange={(e) => setFactor(e.target.value)} data-testid="bulk-factor">
            {FACTORS.map((f) => (
              <option key={f} value={f}>
                {factorLabel(f)}
              </option>
            ))}
          </select>
        </label>
        <button type="button" className="btn small primary" disabled={!selected.size || busy} onClick={() => void apply(true)} data-testid="bulk-apply">
          Apply to selected
        </button>
        <button type="button" className="btn small" disabled={!selected.size || busy} onClick={() => void apply(false)} data-testid="bulk-remove">
          Remove from selected
        </button>
        <button type="button" className="btn small" disabled={!selected.size} onClick={() => setSelected(new Set())} data-testid="bulk-clear">
          Clear selection
        </button>
        <span className="filterbar-spacer" />
        <button type="button" className="btn small" onClick={() => void undo()} data-testid="grid-undo">
          Undo <kbd>Ctrl+Z</kbd>
        </button>
        <span className="dim hint">Click, Shift+click a range, Ctrl+click to toggle, drag a rectangle; double-click opens</span>
      </div>
      <div className="label-grid-wrap" ref={wrap} onMouseDown={onMouseDown}>
        <VirtualGrid
          list={list}
          cellWidth={132}
          cellHeight={158}
          label="Queue"
          testId="label-grid"
          handle={grid}
          renderCell={(item, index) => {
            const label = ctx.labelOf(item);
            const sel = selected.has(index);
            return (
              <button
                type="button"
                className={`thumb label-cell${sel ? ' selected' : ''}${label ? ' labelled' : ''}`}
                data-index={index}
                data-testid="label-cell"
                data-selected={sel || undefined}
                data-factors={label ? label.factors.join(',') : ''}
                aria-pressed={sel}
                onClick={(e) => onCellClick(e, index)}
                onDoubleClick={() => onOpen(index)}
                title={`${item.relPath}${label ? `\n${label.factors.map(factorLabel).join(', ') || 'no factor'}${label.topFactor ? `\ntop: ${factorLabel(label.topFactor)}` : ''}` : '\nnot labelled'}`}
              >
                <img src={client.imageUrl('thumb', item.imageId)} alt="" decoding="async" draggable={false} />
                {label ? <span className="conf-badge">{label.factors.length ? label.factors.length : '∅'}</span> : null}
                <span className="thumb-caption">{label ? label.factors.map(factorLabel).join(', ') || 'no factor' : <span className="dim">—</span>}</span>
              </button>
            );
          }}
        />
        {rect ? (
          <div
            className="select-rect"
            data-testid="select-rect"
            style={{ left: Math.min(rect.x0, rect.x1), top: Math.min(rect.y0, rect.y1), width: Math.abs(rect.x1 - rect.x0), height: Math.abs(rect.y1 - rect.y0) }}
          />
        ) : null}
      </div>
    </section>
  );
}

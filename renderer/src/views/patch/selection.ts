// Selection in a virtual grid of cells carrying `data-index`, as in the labelling grid: click selects
// one, Shift+click a range from the last click, Ctrl/Cmd+click toggles one, dragging a rectangle
// selects what it touches (with Ctrl/Cmd: adds). Plus a keyboard focus (the cell the arrows move).
import { useCallback, useEffect, useRef, useState, type MouseEvent as ReactMouseEvent } from 'react';

export interface Rect {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

export function useGridSelection(resetKey: string) {
  const [selected, setSelected] = useState<Set<number>>(() => new Set());
  const [focus, setFocus] = useState<number | null>(null);
  const anchor = useRef<number | null>(null);
  const wrap = useRef<HTMLDivElement>(null);
  const [rect, setRect] = useState<Rect | null>(null);
  const drag = useRef<{ x: number; y: number; add: boolean; base: Set<number>; moved: boolean } | null>(null);
  const suppressClick = useRef(false);

  useEffect(() => {
    setSelected(new Set());
    setFocus(null);
    anchor.current = null;
  }, [resetKey]);

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
    // preventDefault below keeps the focus where it was: leave a text field, or the hotkeys would type into it.
    const active = document.activeElement as HTMLElement | null;
    if (active && (active.tagName === 'INPUT' || active.tagName === 'SELECT' || active.tagName === 'TEXTAREA')) active.blur();
    const scroller = wrap.current?.querySelector<HTMLElement>('.vgrid');
    if (scroller && e.target === scroller && e.nativeEvent.offsetX >= scroller.clientWidth) return; // the scrollbar
    if (e.shiftKey) return; // a range click
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
    setFocus(index);
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

  const toggle = useCallback((index: number) => {
    anchor.current = index;
    setSelected((s) => {
      const n = new Set(s);
      if (n.has(index)) n.delete(index);
      else n.add(index);
      return n;
    });
  }, []);

  /** Cells per row of the grid as laid out now. */
  const columns = useCallback(() => wrap.current?.querySelector('.vgrid-row')?.childElementCount ?? 1, []);

  const clear = useCallback(() => setSelected(new Set()), []);

  return { selected, focus, setFocus, wrap, rect, onMouseDown, onCellClick, toggle, columns, clear };
}

// A virtualised grid of fixed-size cells over a PagedList: only the visible rows (plus overscan)
// exist in the DOM, and only their pages are fetched, after scrolling settles for a moment.
import { useEffect, useLayoutEffect, useRef, useState, type ReactNode } from 'react';
import { useVirtualizer } from '@tanstack/react-virtual';
import type { PagedList } from '../lib/paged.ts';

export interface GridHandle {
  scrollToIndex(index: number): void;
}

interface Props<T> {
  list: PagedList<T>;
  cellWidth: number;
  cellHeight: number;
  gap?: number;
  renderCell: (item: T, index: number) => ReactNode;
  handle?: { current: GridHandle | null };
  testId?: string;
  empty?: ReactNode;
  label: string;
}

export function VirtualGrid<T>({ list, cellWidth, cellHeight, gap = 8, renderCell, handle, testId, empty, label }: Props<T>) {
  const scrollRef = useRef<HTMLDivElement>(null);
  const [width, setWidth] = useState(0);

  useLayoutEffect(() => {
    const el = scrollRef.current;
    if (!el) return;
    setWidth(el.clientWidth);
    const ro = new ResizeObserver(() => setWidth(el.clientWidth));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  const pad = 12;
  const columns = Math.max(1, Math.floor((width - 2 * pad + gap) / (cellWidth + gap)));
  const total = list.total ?? 0;
  const rowCount = Math.ceil(total / columns);
  const rowHeight = cellHeight + gap;

  const virtualizer = useVirtualizer({
    count: rowCount,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => rowHeight,
    overscan: 3,
    paddingStart: pad,
    paddingEnd: pad,
  });

  useEffect(() => {
    virtualizer.measure();
  }, [virtualizer, rowHeight, columns]);

  // Back to the top when the list itself changes (new filters).
  useEffect(() => {
    scrollRef.current?.scrollTo({ top: 0 });
  }, [list.key]);

  const items = virtualizer.getVirtualItems();
  const firstRow = items.length ? items[0].index : 0;
  const lastRow = items.length ? items[items.length - 1].index : 0;

  // Fetch the pages under the visible rows once the range has been stable for a moment, so that a
  // fast drag of the scrollbar doesn't fetch every page it passes.
  useEffect(() => {
    if (!items.length) return;
    const start = firstRow * columns;
    const end = Math.min(total, (lastRow + 1) * columns);
    const t = setTimeout(() => list.ensure(start, end), virtualizer.isScrolling ? 90 : 0);
    return () => clearTimeout(t);
  }, [firstRow, lastRow, columns, total, list, items.length, virtualizer.isScrolling]);

  if (handle) {
    handle.current = {
      scrollToIndex(index: number) {
        virtualizer.scrollToIndex(Math.floor(index / columns), { align: 'auto' });
      },
    };
  }

  return (
    <div className="vgrid" ref={scrollRef} data-testid={testId} aria-label={label} role="grid" aria-rowcount={rowCount}>
      {list.total === 0 && empty ? <div className="vgrid-empty">{empty}</div> : null}
      <div style={{ height: virtualizer.getTotalSize(), position: 'relative', width: '100%' }}>
        {items.map((row) => {
          const cells: ReactNode[] = [];
          for (let c = 0; c < columns; c++) {
            const index = row.index * columns + c;
            if (index >= total) break;
            const item = list.get(index);
            cells.push(
              <div key={c} className="vgrid-cell" style={{ width: cellWidth, height: cellHeight }} role="gridcell">
                {item === undefined ? <div className="cell-placeholder" aria-busy="true" /> : renderCell(item, index)}
              </div>,
            );
          }
          return (
            <div
              key={row.key}
              className="vgrid-row"
              role="row"
              style={{ position: 'absolute', top: 0, left: pad, right: pad, transform: `translateY(${row.start}px)`, height: cellHeight, gap }}
            >
              {cells}
            </div>
          );
        })}
      </div>
    </div>
  );
}

// One uPlot chart in a host element: made when its inputs change, resized with the host, destroyed
// on unmount. `build` gets the host's width and returns the chart's options and data; `onClick`
// gets the click's position in the plot area (CSS pixels) and the chart; `plotRef` (a parent's ref,
// for its PNG export) is kept pointing at the chart.
import { useEffect, useRef, type DependencyList, type RefObject } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface UplotSpec {
  opts: uPlot.Options;
  data: uPlot.AlignedData;
}

export function useUplot(
  host: RefObject<HTMLDivElement | null>,
  build: (width: number) => UplotSpec,
  deps: DependencyList,
  opts: { minWidth?: number; onClick?: (left: number, top: number, u: uPlot) => void; plotRef?: { current: uPlot | null } } = {},
): { current: uPlot | null } {
  const own = useRef<uPlot | null>(null);
  const plot = opts.plotRef ?? own;
  useEffect(() => {
    const el = host.current;
    if (!el) return;
    const minWidth = opts.minWidth ?? 480;
    const spec = build(Math.max(minWidth, el.clientWidth));
    const u = new uPlot(spec.opts, spec.data, el);
    plot.current = u;
    const onClick = opts.onClick;
    const click = (e: MouseEvent) => {
      const r = u.over.getBoundingClientRect();
      onClick?.(e.clientX - r.left, e.clientY - r.top, u);
    };
    if (onClick) {
      u.over.addEventListener('click', click);
      u.over.style.cursor = 'pointer';
    }
    const height = spec.opts.height;
    const ro = new ResizeObserver(() => u.setSize({ width: Math.max(minWidth, el.clientWidth), height }));
    ro.observe(el);
    return () => {
      ro.disconnect();
      u.over.removeEventListener('click', click);
      u.destroy();
      plot.current = null;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, deps);
  return plot;
}

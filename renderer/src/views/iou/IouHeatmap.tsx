// The N×N failure-IoU matrix as a CSS grid: run labels (with accuracy) on both axes, the value in
// each cell, the colour scale's legend under it. The grid holds the focus; arrow keys move the
// cursor cell, Enter (or a click) opens a cell's shared failures.
import { useRef, type KeyboardEvent } from 'react';
import type { FailureIou, RunSummary } from '../../../../electron/contract.ts';
import { pct } from '../../lib/format.ts';
import { iouColor, iouInk, iouText, runLabel } from '../../lib/iou-export.ts';

export type Cell = readonly [row: number, col: number];

interface Props {
  data: FailureIou;
  cursor: Cell;
  open: Cell | null;
  onCursor: (c: Cell) => void;
  onOpen: (c: Cell) => void;
}

const STEP: Record<string, Cell> = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] };

export function IouHeatmap({ data, cursor, open, onCursor, onOpen }: Props) {
  const grid = useRef<HTMLDivElement>(null);
  const n = data.runs.length;
  const cellId = (i: number, j: number) => `iou-cell-${data.datasetId}-${i}-${j}`;

  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    const step = STEP[e.key];
    if (step) {
      e.preventDefault();
      const clamp = (v: number) => Math.max(0, Math.min(n - 1, v));
      onCursor([clamp(cursor[0] + step[0]), clamp(cursor[1] + step[1])]);
    } else if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      onOpen(cursor);
    }
  };

  return (
    <div className="iou-wrap">
      <div
        ref={grid}
        className="iou-grid"
        role="grid"
        tabIndex={0}
        aria-label="Failure intersection over union between runs (arrow keys move, Enter opens the shared failures)"
        aria-activedescendant={cellId(cursor[0], cursor[1])}
        onKeyDown={onKeyDown}
        style={{ gridTemplateColumns: `auto repeat(${n}, var(--iou-cell))` }}
        data-testid="iou-heatmap"
        data-runs={n}
      >
        <div role="row" className="iou-row">
          <div className="iou-corner" />
          {data.runs.map((r, j) => (
            <div key={r.id} role="columnheader" className={`iou-col-label${cursor[1] === j ? ' current' : ''}`} data-testid="iou-col-label">
              <RunName run={r} />
            </div>
          ))}
        </div>
        {data.runs.map((a, i) => (
          <div key={a.id} role="row" className="iou-row">
            <div role="rowheader" className={`iou-row-label${cursor[0] === i ? ' current' : ''}`} data-testid="iou-row-label">
              <RunName run={a} />
            </div>
            {data.runs.map((b, j) => {
              const v = data.iou[i]?.[j] ?? null;
              const isCursor = cursor[0] === i && cursor[1] === j;
              const isOpen = open !== null && open[0] === i && open[1] === j;
              return (
                <div
                  key={b.id}
                  id={cellId(i, j)}
                  role="gridcell"
                  aria-selected={isCursor}
                  className={`iou-cell${v === null ? ' empty' : ''}${isCursor ? ' cursor' : ''}${isOpen ? ' open' : ''}`}
                  style={v === null ? undefined : { background: iouColor(v), color: iouInk(v) }}
                  title={`${runLabel(a)} vs ${runLabel(b)}: IoU ${iouText(v)}, ${data.intersection[i]![j]} shared of ${data.union[i]![j]} failures`}
                  onClick={() => {
                    onCursor([i, j]);
                    onOpen([i, j]);
                    grid.current?.focus();
                  }}
                  data-testid="iou-cell"
                  data-row={i}
                  data-col={j}
                >
                  {iouText(v)}
                </div>
              );
            })}
          </div>
        ))}
      </div>
      <Legend />
    </div>
  );
}

function RunName({ run }: { run: RunSummary }) {
  return (
    <span className="iou-run" title={`${run.modelName}, run #${run.id}: ${run.numCorrect} of ${run.numScored} scored images right`}>
      <span className="iou-run-name">{runLabel(run)}</span>
      <span className="iou-run-acc dim" data-testid="iou-run-accuracy">
        acc {pct(run.accuracy)}
      </span>
    </span>
  );
}

function Legend() {
  return (
    <div className="iou-legend" data-testid="iou-legend">
      <span className="dim">IoU = |A ∩ B| / |A ∪ B|</span>
      <span className="iou-legend-scale">
        <span className="iou-legend-bar" style={{ background: `linear-gradient(to right, ${iouColor(0)}, ${iouColor(1)})` }} />
        <span className="iou-legend-ticks">
          <span>0</span>
          <span>0.5</span>
          <span>1</span>
        </span>
      </span>
      <span className="dim">– : neither run failed on an image both scored</span>
    </div>
  );
}

// The generated images of a set as a virtual grid: each tile shows its class, its prompt's
// background ("class name" for the random set), CLIP's rank of the prompted class and the verdict
// (the border colour). Arrow keys move the focus, Space toggles the focused tile in the selection.
import { useEffect, useRef } from 'react';
import type { GeneratedImageRow } from '../../../../electron/contract.ts';
import { useLab } from '../../lib/lab.tsx';
import type { PagedList } from '../../lib/paged.ts';
import { typingIn } from '../../lib/factors.ts';
import { VirtualGrid, type GridHandle } from '../../components/VirtualGrid.tsx';
import type { useGridSelection } from './selection.ts';
import type { Overrides } from './ReviewPanel.tsx';

export type Verdict = GeneratedImageRow['review'];

const MARK: Record<Verdict, string> = { accepted: '✓', rejected: '✗', pending: '·' };

interface Props {
  list: PagedList<GeneratedImageRow>;
  sel: ReturnType<typeof useGridSelection>;
  names: Map<number, string>;
  verdictOf: (item: GeneratedImageRow) => Verdict;
  overrides: Overrides;
}

export function ReviewGrid({ list, sel, names, verdictOf, overrides }: Props) {
  const { client } = useLab();
  const grid = useRef<GridHandle | null>(null);
  const state = useRef({ sel, total: list.total ?? 0 });
  state.current = { sel, total: list.total ?? 0 };

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (typingIn(e) || e.ctrlKey || e.metaKey || e.altKey) return;
      const { sel: s, total } = state.current;
      if (!total) return;
      const cols = s.columns();
      const step: Record<string, number> = { ArrowLeft: -1, ArrowRight: 1, ArrowUp: -cols, ArrowDown: cols };
      if (e.key in step) {
        e.preventDefault();
        const next = s.focus === null ? 0 : Math.max(0, Math.min(total - 1, s.focus + step[e.key]!));
        s.setFocus(next);
        grid.current?.scrollToIndex(next);
      } else if (e.key === ' ' && s.focus !== null) {
        e.preventDefault();
        s.toggle(s.focus);
      } else if (e.key === 'Escape') {
        s.clear();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  return (
    <div className="label-grid-wrap patch-grid-wrap" ref={sel.wrap} onMouseDown={sel.onMouseDown}>
      <VirtualGrid
        list={list}
        cellWidth={136}
        cellHeight={172}
        label="Generated images"
        testId="gen-grid"
        handle={grid}
        empty={<div className="dim">No generated image matches these filters.</div>}
        renderCell={(item, index) => {
          const v = verdictOf(item);
          const picked = sel.selected.has(index);
          const by = overrides.get(item.id)?.by ?? item.reviewedBy;
          const cls = names.get(item.classIdx) ?? `class ${item.classIdx}`;
          const rank = item.clipRank === null ? null : item.clipRank + 1;
          return (
            <button
              type="button"
              className={`thumb gen-cell verdict-${v}${picked ? ' selected' : ''}${sel.focus === index ? ' focused' : ''}`}
              data-index={index}
              data-id={item.id}
              data-testid="gen-cell"
              data-review={v}
              data-selected={picked || undefined}
              aria-pressed={picked}
              tabIndex={-1}
              onClick={(e) => sel.onCellClick(e, index)}
              title={[
                item.prompt,
                `CLIP: ${rank === null ? 'not scored' : `rank ${rank} of the prompted class`}${item.clipProb !== null ? ` (p ${item.clipProb.toFixed(2)})` : ''}${item.clipClass !== null ? `, top class ${names.get(item.clipClass) ?? item.clipClass}` : ''}`,
                `classifier: ${item.predClass === null ? '–' : (names.get(item.predClass) ?? `class ${item.predClass}`)}${item.predClass === item.classIdx ? ' (right)' : ''}`,
                `${v}${by ? ` by ${by}` : ''}`,
              ].join('\n')}
            >
              <img src={client.imageUrl('gen', item.id)} alt={item.prompt} decoding="async" draggable={false} />
              {rank !== null ? (
                <span className={`conf-badge${rank === 1 ? ' top' : ''}`} data-testid="gen-clip-rank">
                  #{rank}
                </span>
              ) : null}
              <span className="thumb-caption two">
                <span className="gen-class">
                  <span className={`verdict-mark ${v}`} data-testid="gen-verdict" aria-label={v}>
                    {MARK[v]}
                  </span>{' '}
                  {cls}
                </span>
                <span className="dim" data-testid="gen-background">
                  {item.background ?? 'class name'}
                </span>
              </span>
            </button>
          );
        }}
      />
      {sel.rect ? (
        <div
          className="select-rect"
          style={{ left: Math.min(sel.rect.x0, sel.rect.x1), top: Math.min(sel.rect.y0, sel.rect.y1), width: Math.abs(sel.rect.x1 - sel.rect.x0), height: Math.abs(sel.rect.y1 - sel.rect.y0) }}
        />
      ) : null}
    </div>
  );
}

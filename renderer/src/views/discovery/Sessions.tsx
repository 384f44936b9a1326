// The lab's discovery sessions with their status, stage, image counts and live job; a row opens the
// session's report, the checkboxes choose the sessions to compare.
import { useEffect } from 'react';
import type { DiscoverySummary } from '../../../../electron/contract.ts';
import { useLab, type ApiState } from '../../lib/lab.tsx';
import { num, when } from '../../lib/format.ts';
import { Empty, ErrorBox, Loading } from '../../components/common.tsx';
import { progressKey, SessionProgress, useResume } from './SessionProgress.tsx';

interface Props {
  state: ApiState<DiscoverySummary[]>;
  compare: number[];
  onCompare: (ids: number[]) => void;
  onOpen: (id: number) => void;
}

export function settingsText(s: DiscoverySummary): string {
  const t = s.settings;
  return `${num(t.classes.length)} classes · n ${t.n} · m ${t.m} · ${t.steps} steps · guidance ${t.guidance} · seed ${t.seed} · filter ${t.filterRank ? `top ${t.filterRank}` : 'off'} · ${t.describeWith === 'captioner' ? 'captioner words' : 'CLIP words'}`;
}

export function Sessions({ state, compare, onCompare, onOpen }: Props) {
  const { jobs } = useLab();
  const resume = useResume();
  const key = progressKey(jobs, state.data ?? []);
  const { reload } = state;
  useEffect(() => {
    if (key.replace(/,/g, '')) reload();
  }, [key, reload]);

  const toggle = (id: number, on: boolean) => onCompare(on ? [...new Set([...compare, id])] : compare.filter((x) => x !== id));
  return (
    <section className="card" data-testid="discovery-sessions">
      <div className="card-title">
        Sessions
        <span className="count dim" data-testid="discovery-compare-hint">
          {compare.length >= 2 ? `comparing ${compare.length} sessions below` : 'tick two or more sessions to compare their failure modes'}
        </span>
        {compare.length ? (
          <span className="card-tools">
            <button type="button" className="btn small" onClick={() => onCompare([])} data-testid="discovery-compare-clear">
              Clear comparison
            </button>
          </span>
        ) : null}
      </div>
      <ErrorBox error={state.error} onRetry={state.reload} />
      {state.data === null && state.loading ? <Loading what="discovery sessions" /> : null}
      {state.data && state.data.length === 0 ? <Empty title="No discovery session yet: start one below" testId="discovery-sessions-empty" /> : null}
      {state.data && state.data.length > 0 ? (
        <div className="table-scroll">
          <table className="table">
            <thead>
              <tr>
                <th title="compare">⇄</th>
                <th className="num">#</th>
                <th>Model</th>
                <th>Status</th>
                <th className="num">Base images</th>
                <th className="num">Confirmation images</th>
                <th>Settings</th>
                <th>Created</th>
              </tr>
            </thead>
            <tbody>
              {state.data.map((s) => (
                <tr key={s.id} className="clickable" onClick={() => onOpen(s.id)} data-testid="discovery-session-row" data-session={s.id} data-status={s.status} data-stage={s.stage}>
                  <td onClick={(e) => e.stopPropagation()}>
                    <input type="checkbox" checked={compare.includes(s.id)} onChange={(e) => toggle(s.id, e.target.checked)} aria-label={`Compare session ${s.id}`} data-testid="discovery-compare-check" />
                  </td>
                  <td className="num dim">{s.id}</td>
                  <td>
                    <a href={`#/discovery/${s.id}`} onClick={(e) => e.stopPropagation()} aria-label={`Open discovery session ${s.id} of ${s.modelName}`}>
                      {s.modelName}
                    </a>
                  </td>
                  <td className="wrap" onClick={(e) => e.stopPropagation()} data-testid="discovery-session-status">
                    <SessionProgress session={s} compact onResume={() => void resume(s)} />
                  </td>
                  <td className="num">
                    {num(s.baseImages.generated)}
                    {s.baseImages.generated !== s.baseImages.planned ? <span className="dim"> / {num(s.baseImages.planned)}</span> : null}
                  </td>
                  <td className="num">
                    {num(s.confirmImages.generated)}
                    {s.confirmImages.generated !== s.confirmImages.planned ? <span className="dim"> / {num(s.confirmImages.planned)}</span> : null}
                  </td>
                  <td className="dim wrap">{settingsText(s)}</td>
                  <td className="dim">{when(s.createdAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </section>
  );
}

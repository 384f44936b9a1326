// The retraining results of the attribution (debug.list of its run), the form that starts one, and
// the selected result's Table 2, chart and export, and its λ / k sweeps (Figure 5).
import { useMemo } from 'react';
import type { AttributionDetail, GenerationSetSummary } from '../../../../electron/contract.ts';
import { useApi } from '../../lib/lab.tsx';
import { when } from '../../lib/format.ts';
import { accuracyText, gainText } from '../../lib/patch-format.ts';
import { Empty, ErrorBox, Loading } from '../../components/common.tsx';
import { DebugStartForm } from './DebugStartForm.tsx';
import { ResultDetail } from './ResultDetail.tsx';
import { SweepCharts } from './SweepCharts.tsx';

interface Props {
  attribution: AttributionDetail;
  sets: GenerationSetSummary[];
  selected: number | null;
  onSelect: (resultId: number) => void;
}

export function Results({ attribution, sets, selected, onSelect }: Props) {
  const all = useApi('debug.list', { runId: attribution.runId }, ['debug']);
  const results = useMemo(() => (all.data ?? []).filter((r) => r.attributionId === attribution.id).sort((a, b) => b.id - a.id), [all.data, attribution.id]);
  const shown = selected ?? results[0]?.id ?? null;
  const detail = useApi('debug.get', shown === null ? null : { id: shown }, ['debug']);

  return (
    <>
      <section className="card" data-testid="debug-results">
        <div className="card-title">Retrained heads</div>
        <ErrorBox error={all.error} onRetry={all.reload} />
        {all.data === null && all.loading ? <Loading what="results" /> : null}
        {all.data && results.length === 0 ? <Empty title="No retraining yet: review the generated images, then retrain the head below" testId="debug-results-empty" /> : null}
        {results.length ? (
          <table className="table">
            <thead>
              <tr>
                <th className="num">#</th>
                <th className="num">λ</th>
                <th className="num" title="the individual set's images of each class's top k backgrounds only">
                  k
                </th>
                <th className="num">Heldout before</th>
                <th className="num">Individual</th>
                <th className="num">Random</th>
                <th className="num">Images (ind. / rand.)</th>
                <th>Computed</th>
              </tr>
            </thead>
            <tbody>
              {results.map((r) => (
                <tr key={r.id} className={`clickable${r.id === shown ? ' selected' : ''}`} onClick={() => onSelect(r.id)} data-testid="debug-result-row" data-result={r.id}>
                  <td className="num dim">{r.id}</td>
                  <td className="num">{r.lambda}</td>
                  <td className="num">{r.settings.k ?? 'all'}</td>
                  <td className="num">{accuracyText(r.before.heldout)}</td>
                  <td className="num">
                    {accuracyText(r.individual.heldout)} <span className="dim">({gainText(r.individual.heldout - r.before.heldout)})</span>
                  </td>
                  <td className="num">
                    {r.random ? (
                      <>
                        {accuracyText(r.random.heldout)} <span className="dim">({gainText(r.random.heldout - r.before.heldout)})</span>
                      </>
                    ) : (
                      '–'
                    )}
                  </td>
                  <td className="num">
                    {r.generated.individual} / {r.random ? r.generated.random : '–'}
                  </td>
                  <td className="dim">{when(r.createdAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : null}
      </section>
      <ErrorBox error={detail.error} onRetry={detail.reload} />
      {detail.data ? <ResultDetail result={detail.data} /> : null}
      {detail.data && all.data ? <SweepCharts result={detail.data} results={results} attributionK={attribution.k} onSelect={onSelect} /> : null}
      <DebugStartForm attribution={attribution} sets={sets} latest={detail.data?.settings ?? null} onResult={onSelect} />
    </>
  );
}

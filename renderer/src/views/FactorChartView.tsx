// ImageNet-X analytics of runs and imported prediction files against one annotation source (the
// consensus, an annotator, a ground truth or an imported file), on four tabs: the error ratio per
// factor of several runs side by side, calibration (reliability diagram), the factor distribution of
// failures vs all images, and factor co-occurrence. Prediction files (the toolkit's CSV) are imported
// here and listed with the runs. Route: #/factors?source=S&runs=1,2&sets=3&tab=...
import { useState } from 'react';
import type { AnalysisSubject, PredictionSetInfo, RunSummary } from '../../../electron/contract.ts';
import { useApi } from '../lib/lab.tsx';
import { num } from '../lib/format.ts';
import { idList, parseSubjectKey, subjectKey } from '../lib/subjects.ts';
import type { Normalisation } from '../lib/cooccurrence-export.ts';
import { Empty, ErrorBox, PageHeader } from '../components/common.tsx';
import { setFactorQuery, type FactorTab } from './factors/factor-query.ts';
import { ErrorRatioPanel } from './factors/ErrorRatioPanel.tsx';
import { CalibrationPanel } from './factors/CalibrationPanel.tsx';
import { FailureSharePanel } from './factors/FailureSharePanel.tsx';
import { CooccurrencePanel } from './factors/CooccurrencePanel.tsx';
import { PredictionImportForm } from './factors/PredictionImportForm.tsx';
import { PredictionFailures } from './factors/PredictionFailures.tsx';

const TABS: { id: FactorTab; label: string; sub: string }[] = [
  { id: 'ratios', label: 'Error ratios', sub: "error ratio = error rate on images with the factor ÷ the error rate on all labelled images; whiskers: 95 % interval" },
  { id: 'calibration', label: 'Calibration', sub: 'accuracy against confidence in 15 bins, as the ImageNet-X toolkit bins them; ECE = Σ |accuracy − confidence| weighted by bin size' },
  { id: 'failures', label: 'Failures by factor', sub: 'the share of the failures that carry each factor against the share of all evaluated images that do' },
  { id: 'cooccurrence', label: 'Co-occurrence', sub: 'how often two factors are labelled on the same image' },
];

const runName = (r: RunSummary) => `#${r.id} ${r.modelName} on ${r.datasetName}`;

export function FactorChartView({ query }: { query: URLSearchParams }) {
  const sources = useApi('annotations.sources', {}, ['lab']);
  const runs = useApi('runs.list', {}, ['runs']);
  const sets = useApi('predictions.list', {}, ['runs']);
  const [importing, setImporting] = useState(false);
  const tab = (TABS.find((t) => t.id === query.get('tab'))?.id ?? 'ratios') as FactorTab;

  const preferred = sources.data?.find((s) => s.kind === 'consensus') ?? sources.data?.[0];
  const sourceId = query.get('source') ? Number(query.get('source')) : (preferred?.id ?? null);
  const chosenByUrl = query.get('runs') !== null || query.get('sets') !== null;
  const firstRun = runs.data?.find((r) => r.status === 'done');
  const runIds = chosenByUrl ? idList(query.get('runs')) : firstRun ? [firstRun.id] : [];
  const setIds = chosenByUrl ? idList(query.get('sets')) : !firstRun && sets.data?.length ? [sets.data[0].id] : [];
  const chosen: AnalysisSubject[] = [...runIds.map((id) => ({ kind: 'run' as const, id })), ...setIds.map((id) => ({ kind: 'predictions' as const, id }))];
  const nameOf = (s: AnalysisSubject) => {
    if (s.kind === 'predictions') return sets.data?.find((x) => x.id === s.id)?.name ?? `predictions #${s.id}`;
    const run = runs.data?.find((r) => r.id === s.id);
    return run ? runName(run) : `run #${s.id}`;
  };
  const wanted = parseSubjectKey(query.get('subject'));
  const subject = wanted && chosen.some((c) => subjectKey(c) === subjectKey(wanted)) ? wanted : (chosen[0] ?? null);
  const open = parseSubjectKey(query.get('open'));
  const openFactor = query.get('openFactor');

  const chart = useApi('labels.errorRatios', tab === 'ratios' && sourceId !== null && chosen.length ? { runIds, predictionSetIds: setIds, sourceId } : null, ['lab', 'runs']);
  const toggle = (key: 'runs' | 'sets', ids: number[], id: number, on: boolean) =>
    setFactorQuery({ runs: runIds.join(','), sets: setIds.join(','), [key]: (on ? [...ids, id] : ids.filter((x) => x !== id)).join(',') || null });
  const imported = (set: PredictionSetInfo) => {
    setImporting(false);
    setFactorQuery({ runs: runIds.join(','), sets: [...setIds, set.id].join(',') });
  };

  return (
    <div className="page">
      <PageHeader title="ImageNet-X factors" sub={<span>{TABS.find((t) => t.id === tab)!.sub}</span>}>
        <button type="button" className="btn small" onClick={() => setImporting(!importing)} data-testid="predictions-import-open">
          Import predictions…
        </button>
      </PageHeader>
      {importing ? <PredictionImportForm onImported={imported} onCancel={() => setImporting(false)} /> : null}
      <div className="filterbar">
        <label className="field compact">
          <span className="field-label">Labels from</span>
          <select value={sourceId ?? ''} onChange={(e) => setFactorQuery({ source: e.target.value })} data-testid="chart-source">
            {(sources.data ?? []).map((s) => (
              <option key={s.id} value={s.id}>
                {s.name} ({s.kind}, {num(s.numAnnotations)})
              </option>
            ))}
          </select>
        </label>
        <span className="field compact">
          <span className="field-label">Runs and imported predictions</span>
          <span className="chips">
            {(runs.data ?? [])
              .filter((r) => r.status !== 'running')
              .map((r) => (
                <label key={`r${r.id}`} className="chip">
                  <input type="checkbox" checked={runIds.includes(r.id)} onChange={(e) => toggle('runs', runIds, r.id, e.target.checked)} data-testid={`chart-run-${r.id}`} /> {runName(r)}
                </label>
              ))}
            {(sets.data ?? []).map((s) => (
              <label key={`p${s.id}`} className="chip" title={`${s.file}: ${num(s.numPredictions)} predictions, no images needed`}>
                <input type="checkbox" checked={setIds.includes(s.id)} onChange={(e) => toggle('sets', setIds, s.id, e.target.checked)} data-testid={`chart-set-${s.id}`} /> {s.name}{' '}
                <span className="dim">(predictions)</span>
              </label>
            ))}
          </span>
        </span>
      </div>
      <div className="seg factor-tabs" role="tablist" aria-label="Analysis">
        {TABS.map((t) => (
          <button
            key={t.id}
            type="button"
            role="tab"
            aria-selected={tab === t.id}
            className={`btn small${tab === t.id ? ' primary' : ''}`}
            onClick={() => setFactorQuery({ tab: t.id === 'ratios' ? null : t.id, open: null, openFactor: null })}
            data-testid={`tab-${t.id}`}
          >
            {t.label}
          </button>
        ))}
        {tab === 'calibration' || tab === 'failures' || tab === 'cooccurrence' ? (
          <SubjectSelect tab={tab} chosen={chosen} subject={subject} among={query.get('among')} nameOf={nameOf} />
        ) : null}
      </div>
      <ErrorBox error={sources.error ?? runs.error ?? sets.error ?? chart.error} onRetry={chart.error ? chart.reload : sources.reload} testId="chart-error" />
      {sources.data?.length === 0 ? <Empty title="No labels yet">Label some images, import an ImageNet-X file, or run the demo (it stores its ground truth).</Empty> : null}
      {sourceId !== null && !chosen.length && tab !== 'cooccurrence' ? <Empty title="Choose a run or imported predictions">Tick one above, or import a prediction file.</Empty> : null}
      {tab === 'ratios' && chart.data ? <ErrorRatioPanel data={chart.data} /> : null}
      {tab === 'calibration' && sourceId !== null && subject ? <CalibrationPanel subject={subject} sourceId={sourceId} curve={query.get('curve')} /> : null}
      {tab === 'failures' && sourceId !== null && subject ? <FailureSharePanel subject={subject} sourceId={sourceId} /> : null}
      {tab === 'cooccurrence' && sourceId !== null ? (
        <CooccurrencePanel sourceId={sourceId} failuresOf={query.get('among') === 'failures' ? subject : null} norm={(['jaccard', 'count'].includes(query.get('norm') ?? '') ? query.get('norm') : 'conditional') as Normalisation} />
      ) : null}
      {open && openFactor && sourceId !== null ? (
        <PredictionFailures key={`${subjectKey(open)}-${openFactor}`} subject={open} sourceId={sourceId} factor={openFactor} onClose={() => setFactorQuery({ open: null, openFactor: null })} />
      ) : null}
    </div>
  );
}

/** Calibration and failures analyse one of the chosen runs / prediction sets; co-occurrence is among
 * all annotated images or among one's failures. */
function SubjectSelect({ tab, chosen, subject, among, nameOf }: { tab: FactorTab; chosen: AnalysisSubject[]; subject: AnalysisSubject | null; among: string | null; nameOf: (s: AnalysisSubject) => string }) {
  if (tab === 'cooccurrence') {
    const value = among === 'failures' && subject ? subjectKey(subject) : '';
    return (
      <label className="field compact inline">
        <span className="field-label">Among</span>
        <select value={value} onChange={(e) => setFactorQuery(e.target.value ? { among: 'failures', subject: e.target.value } : { among: null })} data-testid="cooccurrence-among">
          <option value="">all annotated images</option>
          {chosen.map((s) => (
            <option key={subjectKey(s)} value={subjectKey(s)}>
              failures of {nameOf(s)}
            </option>
          ))}
        </select>
      </label>
    );
  }
  return (
    <label className="field compact inline">
      <span className="field-label">Of</span>
      <select value={subject ? subjectKey(subject) : ''} onChange={(e) => setFactorQuery({ subject: e.target.value })} data-testid="analysis-subject">
        {chosen.map((s) => (
          <option key={subjectKey(s)} value={subjectKey(s)}>
            {nameOf(s)}
            {s.kind === 'predictions' ? ' (predictions)' : ''}
          </option>
        ))}
      </select>
    </label>
  );
}

// How often two ImageNet-X factors are labelled on the same image: a 16×16 heatmap among the
// source's annotated images, or among a run's (prediction set's) failures, normalised as P(column |
// row) by default (of the images with the row's factor, the share that also has the column's),
// or as the Jaccard index, or raw counts; CSV / SVG / PNG export.
import type { AnalysisSubject, FactorCooccurrenceReport } from '../../../../electron/contract.ts';
import { useApi, useLab } from '../../lib/lab.tsx';
import { factorLabel } from '../../lib/factors.ts';
import { download } from '../../lib/download.ts';
import { svgPng } from '../../lib/chart-png.ts';
import { safeFileName } from '../../lib/export-text.ts';
import { heatColor, heatInk } from '../../lib/heat-scale.ts';
import { NORMALISATIONS, cellText, cooccurrenceCells, cooccurrenceCsv, cooccurrenceSvg, cooccurrenceTitle, type Normalisation } from '../../lib/cooccurrence-export.ts';
import { ErrorBox, Loading } from '../../components/common.tsx';
import { setFactorQuery } from './factor-query.ts';

const fileBase = (r: FactorCooccurrenceReport, norm: Normalisation) => safeFileName(`factor-cooccurrence-${r.sourceName}${r.subject ? `-failures-${r.name}` : ''}-${norm}`);

export function CooccurrencePanel({ sourceId, failuresOf, norm }: { sourceId: number; failuresOf: AnalysisSubject | null; norm: Normalisation }) {
  const { notifyError } = useLab();
  const report = useApi('analysis.factorCooccurrence', { sourceId, ...(failuresOf ? { subject: failuresOf } : {}) }, ['lab', 'runs']);
  const r = report.data;
  if (!r) return report.error ? <ErrorBox error={report.error} onRetry={report.reload} testId="cooccurrence-error" /> : <Loading what="the co-occurrence" />;
  return (
    <section className="card" data-testid="cooccurrence-card">
      <div className="card-title">
        <label className="field compact inline">
          <span className="field-label">Normalised as</span>
          <select value={norm} onChange={(e) => setFactorQuery({ norm: e.target.value === 'conditional' ? null : e.target.value })} data-testid="cooccurrence-norm">
            {NORMALISATIONS.map((n) => (
              <option key={n.id} value={n.id}>
                {n.label}
              </option>
            ))}
          </select>
        </label>
        <span className="card-tools">
          <button type="button" className="btn small" data-testid="cooccurrence-export-svg" onClick={() => download(`${fileBase(r, norm)}.svg`, new Blob([cooccurrenceSvg(r, norm)], { type: 'image/svg+xml' }))}>
            SVG
          </button>{' '}
          <button
            type="button"
            className="btn small"
            data-testid="cooccurrence-export-png"
            onClick={() => svgPng(cooccurrenceSvg(r, norm), `${fileBase(r, norm)}.png`, () => notifyError(new Error('the browser could not draw the heatmap SVG'), 'PNG export'))}
          >
            PNG
          </button>{' '}
          <button type="button" className="btn small" data-testid="cooccurrence-export-csv" onClick={() => download(`${fileBase(r, 'count')}.csv`, new Blob([cooccurrenceCsv(r)], { type: 'text/csv' }))}>
            CSV
          </button>
        </span>
      </div>
      <div className="notice slim" data-testid="cooccurrence-title">
        {cooccurrenceTitle(r, norm)}.{' '}
        {norm === 'conditional' ? 'Row i, column j: of the images with factor i, the share that also has factor j (rows need not be symmetric).' : null}
        {norm === 'jaccard' ? 'Images with both factors ÷ images with either.' : null}
        {norm === 'count' ? 'Images with both factors; the diagonal counts the images with the factor.' : null}
      </div>
      <CooccurrenceGrid report={r} norm={norm} />
    </section>
  );
}

function CooccurrenceGrid({ report, norm }: { report: FactorCooccurrenceReport; norm: Normalisation }) {
  const { value, shade } = cooccurrenceCells(report, norm);
  const labels = report.factors.map(factorLabel);
  return (
    <div className="cooc-wrap">
      <div className="cooc-grid" role="table" aria-label="Factor co-occurrence" data-testid="cooccurrence-grid" style={{ gridTemplateColumns: `auto repeat(${labels.length}, var(--cooc-cell))` }}>
        <div role="row" className="cooc-row">
          <div className="cooc-corner" />
          {labels.map((l) => (
            <div key={l} role="columnheader" className="cooc-col-label">
              {l}
            </div>
          ))}
        </div>
        {value.map((row, i) => (
          <div key={labels[i]} role="row" className="cooc-row">
            <div role="rowheader" className="cooc-row-label">
              {labels[i]}
            </div>
            {row.map((v, j) => {
              const s = shade[i][j];
              return (
                <div
                  key={labels[j]}
                  role="cell"
                  className={`cooc-cell${s === null ? ' empty' : ''}`}
                  style={s === null ? undefined : { background: heatColor(s), color: heatInk(s) }}
                  title={`${labels[i]} → ${labels[j]}: ${report.counts[i][j]} images with both; P(${labels[j]} | ${labels[i]}) ${cellText(report.conditional[i][j], 'conditional')}; Jaccard ${cellText(report.jaccard[i][j], 'jaccard')}`}
                  data-testid="cooccurrence-cell"
                  data-row={report.factors[i]}
                  data-col={report.factors[j]}
                >
                  {cellText(v, norm)}
                </div>
              );
            })}
          </div>
        ))}
      </div>
    </div>
  );
}

// Failure overlap between the finished runs of one dataset (Chegini & Feizi, Figure 4): the
// heatmap of failure intersection-over-union, SVG / PNG / CSV export, and a cell's shared failures
// under it. Routes: #/overlap, #/overlap/<datasetId>?a=<runId>&b=<runId> (the open cell).
import { useEffect, useState } from 'react';
import type { FailureIou } from '../../../electron/contract.ts';
import { useApi, useLab } from '../lib/lab.tsx';
import { format, navigate } from '../lib/router.ts';
import { download } from '../lib/download.ts';
import { svgPng } from '../lib/chart-png.ts';
import { num } from '../lib/format.ts';
import { iouCsv, iouFileBase, iouSvg } from '../lib/iou-export.ts';
import { Empty, ErrorBox, Loading, PageHeader } from '../components/common.tsx';
import { IouHeatmap, type Cell } from './iou/IouHeatmap.tsx';
import { SharedFailures } from './iou/SharedFailures.tsx';

export function FailureIouView({ datasetId, query }: { datasetId: number | null; query: URLSearchParams }) {
  const datasets = useApi('datasets.list', {}, ['datasets']);
  const dataset = datasets.data?.find((d) => d.id === datasetId) ?? null;
  return (
    <div className="page">
      <PageHeader title="Failure overlap" sub="How often two models fail on the same images: |A ∩ B| / |A ∪ B| over the images both runs scored. Click a cell for the shared failures." />
      <ErrorBox error={datasets.error} onRetry={datasets.reload} testId="iou-datasets-error" />
      <div className="filterbar">
        <label className="field compact">
          <span className="field-label">Dataset</span>
          <select
            value={datasetId ?? ''}
            onChange={(e) => navigate(format(e.target.value ? ['overlap', e.target.value] : ['overlap']))}
            data-testid="iou-dataset"
            disabled={!datasets.data}
          >
            <option value="">pick a dataset…</option>
            {datasets.data?.map((d) => (
              <option key={d.id} value={d.id}>
                {d.name} ({num(d.numImages)} images)
              </option>
            ))}
          </select>
        </label>
      </div>
      {datasets.data && datasets.data.length === 0 ? (
        <Empty title="No dataset yet" testId="iou-no-datasets">
          <a href={format(['datasets'])}>Import a dataset</a> and run two models on it.
        </Empty>
      ) : null}
      {datasets.data && datasets.data.length > 0 && datasetId === null ? <Empty title="Pick a dataset to compare the failures of its runs" /> : null}
      {datasetId !== null ? <Overlap datasetId={datasetId} datasetName={dataset?.name ?? `dataset-${datasetId}`} query={query} /> : null}
    </div>
  );
}

function Overlap({ datasetId, datasetName, query }: { datasetId: number; datasetName: string; query: URLSearchParams }) {
  const { notifyError } = useLab();
  const iou = useApi('analysis.failureIou', { datasetId }, ['runs']);
  const data = iou.data;
  const runA = Number(query.get('a'));
  const runB = Number(query.get('b'));
  const openCell: Cell | null = data ? pairCell(data, runA, runB) : null;
  const n = data?.runs.length ?? 0;
  const [cursorState, setCursor] = useState<Cell>([0, 0]);
  // The matrix may shrink when it reloads: keep the cursor on a cell.
  const cursor: Cell = [Math.max(0, Math.min(n - 1, cursorState[0])), Math.max(0, Math.min(n - 1, cursorState[1]))];
  useEffect(() => {
    if (openCell) setCursor(openCell);
  }, [data, openCell?.[0], openCell?.[1]]);

  const openPair = (c: Cell | null) => {
    const [a, b] = c && data ? [data.runs[c[0]]?.id ?? null, data.runs[c[1]]?.id ?? null] : [null, null];
    navigate(format(['overlap', datasetId], { a, b }), { replace: true });
  };
  const title = `Failure IoU between runs on ${datasetName}`;
  const wanted = query.get('a') !== null && query.get('b') !== null;

  return (
    <>
      <ErrorBox error={iou.error} onRetry={iou.reload} testId="iou-error" />
      {!data && iou.loading ? <Loading what="the failure overlap" /> : null}
      {data && n === 0 ? (
        <Empty title="No finished run on this dataset" testId="iou-no-runs">
          <a href={format(['runs'])}>Run a model</a> on it (two or more to compare their failures).
        </Empty>
      ) : null}
      {data && n > 0 ? (
        <section className="card iou-card" data-testid="iou-card">
          <div className="card-title">
            {title}
            <span className="count">{n} runs</span>
            <span className="card-tools">
              <button type="button" className="btn small" data-testid="iou-export-svg" onClick={() => download(`${iouFileBase(datasetName)}.svg`, new Blob([iouSvg(data, title)], { type: 'image/svg+xml' }))}>
                SVG
              </button>{' '}
              <button type="button" className="btn small" data-testid="iou-export-png" onClick={() => svgPng(iouSvg(data, title), `${iouFileBase(datasetName)}.png`, () => notifyError(new Error('the browser could not draw the heatmap SVG'), 'PNG export'))}>
                PNG
              </button>{' '}
              <button type="button" className="btn small" data-testid="iou-export-csv" onClick={() => download(`${iouFileBase(datasetName)}.csv`, new Blob([iouCsv(data)], { type: 'text/csv' }))}>
                CSV
              </button>
            </span>
          </div>
          {n === 1 ? <div className="notice slim">Only one finished run on this dataset: run another model on it to compare their failures.</div> : null}
          <IouHeatmap data={data} cursor={cursor} open={openCell} onCursor={setCursor} onOpen={openPair} />
        </section>
      ) : null}
      {data && wanted && !openCell ? (
        <div className="notice slim" data-testid="iou-pair-missing">
          Runs #{query.get('a')} and #{query.get('b')} are not both finished runs of this dataset.
        </div>
      ) : null}
      {data && openCell ? (
        <SharedFailures
          key={`${runA}-${runB}`}
          runA={data.runs[openCell[0]]!}
          runB={data.runs[openCell[1]]!}
          union={data.union[openCell[0]]?.[openCell[1]] ?? 0}
          onClose={() => openPair(null)}
        />
      ) : null}
    </>
  );
}

function pairCell(data: FailureIou, a: number, b: number): Cell | null {
  const i = data.runs.findIndex((r) => r.id === a);
  const j = data.runs.findIndex((r) => r.id === b);
  return i >= 0 && j >= 0 ? [i, j] : null;
}

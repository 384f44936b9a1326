// The patch loop (Chegini & Feizi) for one attribution: generate the 'individual' set (its
// backgrounds) and the 'random' set (class names), review the generated images (grid, hotkeys, the
// CLIP filter, undo), retrain the head on the accepted ones and read the paper's Table 2; export the
// patched head. Routes: #/patch (pick an attribution), #/patch/<attributionId>?set=<id>&result=<id>.
import { useCallback } from 'react';
import { useApi } from '../lib/lab.tsx';
import { format, navigate } from '../lib/router.ts';
import { num, when } from '../lib/format.ts';
import { Empty, ErrorBox, Loading, PageHeader, StatusBadge } from '../components/common.tsx';
import { GenerationSets } from './patch/GenerationSets.tsx';
import { GenerateForm } from './patch/GenerateForm.tsx';
import { ReviewPanel } from './patch/ReviewPanel.tsx';
import { Results } from './patch/Results.tsx';

export function PatchView({ attributionId, query }: { attributionId: number | null; query: URLSearchParams }) {
  return attributionId === null ? <AttributionPicker /> : <PatchPage id={attributionId} query={query} />;
}

function AttributionPicker() {
  const list = useApi('attribution.list', {}, ['runs', 'jobs']);
  const done = list.data?.filter((a) => a.status === 'done') ?? [];
  return (
    <div className="page">
      <PageHeader title="Patch" sub="Generate images for the attributed backgrounds, review them, retrain the classifier's head and compare with random debugging" />
      <ErrorBox error={list.error} onRetry={list.reload} />
      {list.data === null && list.loading ? <Loading what="attributions" /> : null}
      {list.data && done.length === 0 ? (
        <Empty title="No finished attribution yet" testId="patch-empty">
          <a href={format(['attribution'])}>Attribute a run's failures</a> first: its backgrounds become the generation prompts.
        </Empty>
      ) : null}
      {done.length ? (
        <table className="table" data-testid="patch-attributions">
          <thead>
            <tr>
              <th className="num">#</th>
              <th>Run</th>
              <th className="num">Seed / heldout</th>
              <th className="num">k</th>
              <th>Backgrounds</th>
              <th>Finished</th>
            </tr>
          </thead>
          <tbody>
            {done.map((a) => (
              <tr key={a.id} className="clickable" data-testid="patch-attribution-row" onClick={() => navigate(format(['patch', a.id]))}>
                <td className="num dim">{a.id}</td>
                <td>#{a.runId}</td>
                <td className="num">
                  {num(a.numSeed)} / {num(a.numHeldout)}
                </td>
                <td className="num">{a.k}</td>
                <td>{a.vocabulary}</td>
                <td className="dim">{when(a.finishedAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </div>
  );
}

function PatchPage({ id, query }: { id: number; query: URLSearchParams }) {
  const attribution = useApi('attribution.get', { id }, ['runs']);
  const sets = useApi('generation.list', { attributionId: id }, ['lab', 'debug']);
  const setParam = query.get('set');
  const resultParam = query.get('result');
  const setId = setParam !== null && Number.isInteger(Number(setParam)) ? Number(setParam) : null;
  const resultId = resultParam !== null && Number.isInteger(Number(resultParam)) ? Number(resultParam) : null;

  const setQuery = useCallback(
    (patch: Record<string, number | null>) => {
      const next: Record<string, string | null> = Object.fromEntries(query.entries());
      for (const [k, v] of Object.entries(patch)) next[k] = v === null ? null : String(v);
      navigate(format(['patch', id], next), { replace: true });
    },
    [id, query],
  );

  const a = attribution.data;
  const reviewed = sets.data?.find((s) => s.id === setId) ?? null;
  return (
    <div className="page">
      <PageHeader
        title={
          <>
            <a href={format(['patch'])} className="crumb">
              Patch
            </a>{' '}
            / attribution #{id}
          </>
        }
        sub={a ? `run #${a.runId} · ${a.vocabulary} backgrounds · top ${a.k} per class · ${num(a.numSeed)} seed, ${num(a.numHeldout)} heldout failures` : undefined}
      >
        {a ? <StatusBadge status={a.status} /> : null}
        <a className="btn small" href={format(['attribution', id])}>
          Backgrounds
        </a>
      </PageHeader>
      <ErrorBox error={attribution.error} onRetry={attribution.reload} />
      {a && a.status !== 'done' ? (
        <div className="notice slim" data-testid="patch-not-done">
          Attribution #{id} is {a.status}: <a href={format(['attribution', id])}>finish it</a> before generating images.
        </div>
      ) : null}
      <GenerationSets state={sets} selected={setId} onSelect={(s) => setQuery({ set: s })} />
      {a ? <GenerateForm attributionId={id} onStarted={sets.reload} /> : null}
      {reviewed ? <ReviewPanel set={reviewed} onChanged={sets.reload} onClose={() => setQuery({ set: null })} /> : null}
      {setId !== null && sets.data && !reviewed ? <div className="notice slim">Generation set #{setId} is not one of this attribution's sets.</div> : null}
      {a ? <Results attribution={a} sets={sets.data ?? []} selected={resultId} onSelect={(r) => setQuery({ result: r })} /> : null}
    </div>
  );
}

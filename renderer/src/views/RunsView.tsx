import { useEffect, useState, type FormEvent } from 'react';
import type { ParamsIn } from '../../../electron/contract.ts';
import { useApi, useLab } from '../lib/lab.tsx';
import { format, navigate, useRoute } from '../lib/router.ts';
import { num, pct, when } from '../lib/format.ts';
import { accuracyTone, Bar, Empty, ErrorBox, Field, Loading, PageHeader, StatusBadge } from '../components/common.tsx';

type Provider = NonNullable<ParamsIn<'runs.start'>['provider']>;

export function RunsView() {
  const { data, error, loading, reload } = useApi('runs.list', {}, ['runs']);
  const { jobs } = useLab();
  // Reload the list while runs make progress (job events), at most every 2 s.
  const runningJobs = jobs.filter((j) => j.status === 'running' && j.kind.includes('run')).map((j) => `${j.id}:${Math.floor(j.done / Math.max(1, j.total / 20))}`);
  const progressKey = runningJobs.join(',');
  useEffect(() => {
    if (!progressKey) return;
    const t = setTimeout(reload, 2000);
    return () => clearTimeout(t);
  }, [progressKey, reload]);

  return (
    <div className="page">
      <PageHeader title="Runs" sub="A classifier run over a dataset: predictions, features and failures" />
      <StartRunForm />
      <ErrorBox error={error} onRetry={reload} />
      {data === null && loading ? <Loading what="runs" /> : null}
      {data && data.length === 0 ? <Empty title="No runs yet: pick a model and a dataset above and start a run" testId="runs-empty" /> : null}
      {data && data.length > 0 ? (
        <table className="table" data-testid="runs-table">
          <thead>
            <tr>
              <th className="num">#</th>
              <th>Model</th>
              <th>Dataset</th>
              <th>Status</th>
              <th className="num">Images</th>
              <th>Accuracy</th>
              <th className="num">Failures</th>
              <th>Provider</th>
              <th>Started</th>
            </tr>
          </thead>
          <tbody>
            {data.map((r) => (
              <tr key={r.id} className="clickable" data-testid="run-row" onClick={() => navigate(format(['runs', r.id]))}>
                <td className="num dim">{r.id}</td>
                <td className="strong">{r.modelName}</td>
                <td>{r.datasetName}</td>
                <td>
                  <StatusBadge status={r.status} />
                </td>
                <td className="num">
                  {r.status === 'done' ? num(r.numImages) : `${num(r.numDone)} / ${num(r.numImages)}`}
                </td>
                <td className="acc-cell">
                  <Bar value={r.accuracy ?? 0} tone={accuracyTone(r.accuracy)} />
                  <span className="acc-value" data-testid="run-accuracy">
                    {pct(r.accuracy)}
                  </span>
                </td>
                <td className="num">
                  <a href={format(['runs', r.id])} onClick={(e) => e.stopPropagation()} data-testid="run-failures-link">
                    {num(r.numScored - r.numCorrect)} →
                  </a>
                </td>
                <td>{r.provider ?? '–'}</td>
                <td className="dim">{when(r.createdAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </div>
  );
}

function StartRunForm() {
  const { client, notify, bump } = useLab();
  const route = useRoute();
  const models = useApi('models.list', {}, ['models']);
  const datasets = useApi('datasets.list', {}, ['datasets']);
  const [modelId, setModelId] = useState<string>('');
  const [datasetId, setDatasetId] = useState<string>(route.query.get('dataset') ?? '');
  const [provider, setProvider] = useState<Provider | ''>('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  // Preselect when there is exactly one choice, or the first.
  useEffect(() => {
    if (!modelId && models.data && models.data.length) setModelId(String(models.data[0].id));
  }, [models.data, modelId]);
  useEffect(() => {
    if (!datasetId && datasets.data && datasets.data.length) setDatasetId(String(datasets.data[0].id));
  }, [datasets.data, datasetId]);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const r = await client.call('runs.start', { modelId: Number(modelId), datasetId: Number(datasetId), provider: provider || undefined });
      if (r.reused) notify('info', `Reused the stored run #${r.runId}: same model file, dataset and preset.`);
      else notify('info', `Run #${r.runId} started${r.jobId !== null ? ` (job #${r.jobId})` : ''}`);
      bump('runs', 'jobs');
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  const noModels = models.data !== null && models.data.length === 0;
  const noDatasets = datasets.data !== null && datasets.data.length === 0;

  return (
    <form className="card form" onSubmit={submit} data-testid="start-run-form">
      <div className="card-title">Start a run</div>
      {noModels || noDatasets ? (
        <p className="dim pad">
          {noModels ? (
            <>
              No models yet: <a href={format(['models'])}>add a classifier</a>.{' '}
            </>
          ) : null}
          {noDatasets ? (
            <>
              No datasets yet: <a href={format(['datasets'])}>import a folder</a>.
            </>
          ) : null}
        </p>
      ) : null}
      <ErrorBox error={models.error ?? datasets.error} />
      <div className="form-row">
        <Field label="Model">
          <select value={modelId} onChange={(e) => setModelId(e.target.value)} data-testid="run-model" required>
            {models.data?.map((m) => (
              <option key={m.id} value={m.id}>
                {m.name} ({m.numClasses} classes)
              </option>
            ))}
          </select>
        </Field>
        <Field label="Dataset">
          <select value={datasetId} onChange={(e) => setDatasetId(e.target.value)} data-testid="run-dataset" required>
            {datasets.data?.map((d) => (
              <option key={d.id} value={d.id}>
                {d.name} ({num(d.numImages)} images)
              </option>
            ))}
          </select>
        </Field>
        <Field label="Provider">
          <select value={provider} onChange={(e) => setProvider(e.target.value as Provider | '')} data-testid="run-provider">
            <option value="">default</option>
            <option value="auto">auto</option>
            <option value="cpu">cpu</option>
            <option value="cuda">cuda</option>
            <option value="webgpu">webgpu</option>
          </select>
        </Field>
        <div className="form-actions inline">
          <button type="submit" className="btn primary" disabled={busy || !modelId || !datasetId} data-testid="run-submit">
            {busy ? 'Starting…' : 'Start run'}
          </button>
        </div>
      </div>
      <ErrorBox error={error} testId="run-error" />
    </form>
  );
}

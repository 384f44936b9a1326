// Starts a retraining of the head (debug.start): the accepted images of the individual set, and of
// the random set for the baseline, with a train run (the original-data term of the loss) and a test
// run of the same model. Prefilled from the shown result's settings; the same settings reuse it.
import { useEffect, useState, type FormEvent } from 'react';
import type { AttributionDetail, DebugSettings, GenerationSetSummary, RunSummary } from '../../../../electron/contract.ts';
import { useApi, useLab } from '../../lib/lab.tsx';
import { num } from '../../lib/format.ts';
import { ErrorBox, Field } from '../../components/common.tsx';
import { JobProgress } from '../../components/StatusBar.tsx';

interface Props {
  attribution: AttributionDetail;
  sets: GenerationSetSummary[];
  latest: DebugSettings | null;
  onResult: (resultId: number) => void;
}

/** A first guess when no result exists yet: runs on a dataset named like the split. */
function guessRun(runs: RunSummary[], pattern: RegExp, not: number): number | undefined {
  return (runs.find((r) => pattern.test(r.datasetName) && r.id !== not) ?? runs.find((r) => r.id !== not) ?? runs[0])?.id;
}

export function DebugStartForm({ attribution, sets, latest, onResult }: Props) {
  const { client, jobs, bump, notify } = useLab();
  const runs = useApi('runs.list', {}, ['runs']);
  const modelId = runs.data?.find((r) => r.id === attribution.runId)?.modelId;
  const sameModel = (runs.data ?? []).filter((r) => r.modelId === modelId && r.status === 'done');
  const individual = sets.filter((s) => s.kind === 'individual' && s.status === 'done');
  const random = sets.filter((s) => s.kind === 'random' && s.status === 'done');

  const [individualSetId, setIndividual] = useState('');
  const [randomSetId, setRandom] = useState('');
  const [trainRunId, setTrain] = useState('');
  const [testRunId, setTest] = useState('');
  const [lambda, setLambda] = useState('0.5');
  const [k, setK] = useState('');
  const [optimizer, setOptimizer] = useState<DebugSettings['optimizer']>('sgd');
  const [epochs, setEpochs] = useState('20');
  const [seed, setSeed] = useState('0');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [jobId, setJobId] = useState<number | null>(null);
  const job = jobId !== null ? jobs.find((j) => j.id === jobId) : undefined;

  // Fill the empty fields once their choices are known.
  useEffect(() => {
    if (latest) {
      setIndividual((v) => v || String(latest.individualSetId));
      setRandom((v) => v || (latest.randomSetId === null ? 'none' : String(latest.randomSetId)));
      setTrain((v) => v || String(latest.trainRunId));
      setTest((v) => v || String(latest.testRunId));
      return;
    }
    if (individual.length) setIndividual((v) => v || String(individual[individual.length - 1]!.id));
    if (random.length) setRandom((v) => v || String(random[random.length - 1]!.id));
    if (sameModel.length) {
      setTrain((v) => v || String(guessRun(sameModel, /train/i, attribution.runId) ?? ''));
      setTest((v) => v || String(guessRun(sameModel, /test|val/i, attribution.runId) ?? ''));
    }
  }, [latest, individual.length, random.length, sameModel.length]);

  // The job stores the result and answers `debug:<id>`: show it.
  useEffect(() => {
    if (job?.status !== 'done' || !job.resultRef?.startsWith('debug:')) return;
    onResult(Number(job.resultRef.slice('debug:'.length)));
    setJobId(null);
  }, [job?.status, job?.resultRef]);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const r = await client.call('debug.start', {
        attributionId: attribution.id,
        individualSetId: Number(individualSetId),
        randomSetId: randomSetId === '' || randomSetId === 'none' ? null : Number(randomSetId),
        trainRunId: Number(trainRunId),
        testRunId: Number(testRunId),
        lambda: Number(lambda),
        k: k.trim() === '' ? null : Number(k),
        optimizer,
        epochs: Number(epochs),
        seed: Number(seed),
      });
      if (r.id !== null) {
        notify('info', `These settings were computed already: result #${r.id}`);
        onResult(r.id);
      } else {
        setJobId(r.jobId);
        notify('info', `Retraining the head (job #${r.jobId})`);
        bump('jobs');
      }
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  const runLabel = (r: RunSummary) => `#${r.id} on ${r.datasetName} (${num(r.numImages)} images)`;
  return (
    <form className="card form" onSubmit={submit} data-testid="debug-form">
      <div className="card-title">Retrain the head</div>
      <div className="form-row">
        <Field label="Individual set">
          <select value={individualSetId} onChange={(e) => setIndividual(e.target.value)} required data-testid="debug-individual">
            <option value="" disabled>
              choose…
            </option>
            {individual.map((s) => (
              <option key={s.id} value={s.id}>
                #{s.id} ({num(s.accepted)} accepted)
              </option>
            ))}
          </select>
        </Field>
        <Field label="Random set (baseline)">
          <select value={randomSetId} onChange={(e) => setRandom(e.target.value)} data-testid="debug-random">
            <option value="none">none</option>
            {random.map((s) => (
              <option key={s.id} value={s.id}>
                #{s.id} ({num(s.accepted)} accepted)
              </option>
            ))}
          </select>
        </Field>
        <Field label="Train run" hint="the original-data term of the loss">
          <select value={trainRunId} onChange={(e) => setTrain(e.target.value)} required data-testid="debug-train">
            <option value="" disabled>
              choose…
            </option>
            {sameModel.map((r) => (
              <option key={r.id} value={r.id}>
                {runLabel(r)}
              </option>
            ))}
          </select>
        </Field>
        <Field label="Test run">
          <select value={testRunId} onChange={(e) => setTest(e.target.value)} required data-testid="debug-test">
            <option value="" disabled>
              choose…
            </option>
            {sameModel.map((r) => (
              <option key={r.id} value={r.id}>
                {runLabel(r)}
              </option>
            ))}
          </select>
        </Field>
      </div>
      <div className="form-row">
        <Field label="λ" hint="weight of the generated images' loss">
          <input type="number" min={0} step="any" value={lambda} onChange={(e) => setLambda(e.target.value)} style={{ width: 72 }} data-testid="debug-lambda" />
        </Field>
        <Field label="Top k backgrounds" hint="blank: every background of the set">
          <input type="number" min={1} max={100} value={k} onChange={(e) => setK(e.target.value)} placeholder="all" style={{ width: 72 }} data-testid="debug-k" />
        </Field>
        <Field label="Optimizer">
          <select value={optimizer} onChange={(e) => setOptimizer(e.target.value as DebugSettings['optimizer'])} data-testid="debug-optimizer">
            <option value="sgd">SGD</option>
            <option value="lbfgs">L-BFGS</option>
          </select>
        </Field>
        <Field label="Epochs">
          <input type="number" min={1} max={1000} value={epochs} onChange={(e) => setEpochs(e.target.value)} style={{ width: 64 }} data-testid="debug-epochs" />
        </Field>
        <Field label="Seed">
          <input type="number" min={0} value={seed} onChange={(e) => setSeed(e.target.value)} style={{ width: 64 }} data-testid="debug-seed" />
        </Field>
        <div className="form-actions inline">
          <button type="submit" className="btn primary" disabled={busy || !individualSetId || !trainRunId || !testRunId} data-testid="debug-submit">
            {busy ? 'Starting…' : 'Retrain'}
          </button>
        </div>
      </div>
      {runs.data && modelId === undefined ? <div className="notice slim">The attribution's run #{attribution.runId} is not in the lab's runs.</div> : null}
      {sets.length > 0 && individual.length === 0 ? <div className="notice slim">Generate the individual set first (and review it).</div> : null}
      <ErrorBox error={error ?? runs.error} testId="debug-error" />
      {job ? (
        <div className="pad" data-testid="debug-job">
          Job #{job.id}: {job.status === 'running' || job.status === 'queued' ? <JobProgress job={job} /> : job.status}
          {job.error ? <span className="bad"> {job.error}</span> : null}
        </div>
      ) : null}
    </form>
  );
}

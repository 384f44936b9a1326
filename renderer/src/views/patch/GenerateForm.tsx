// Starts the generation of the attribution's 'individual' set (one prompt per top background) or its
// 'random' set (class-name prompts, as many images per class): the same settings for both, so that
// the baseline is comparable. The same settings again reuse (and resume) the stored set.
import { useState, type FormEvent } from 'react';
import type { ParamsIn } from '../../../../electron/contract.ts';
import { useLab } from '../../lib/lab.tsx';
import { ErrorBox, Field } from '../../components/common.tsx';
import { JobProgress } from '../../components/StatusBar.tsx';

type Kind = ParamsIn<'generation.start'>['kind'];

export function GenerateForm({ attributionId, onStarted }: { attributionId: number; onStarted: () => void }) {
  const { client, jobs, bump, notify } = useLab();
  const [generator, setGenerator] = useState('shapeworld');
  const [perPrompt, setPerPrompt] = useState('8');
  const [steps, setSteps] = useState('20');
  const [guidance, setGuidance] = useState('5');
  const [seed, setSeed] = useState('0');
  const [busy, setBusy] = useState<Kind | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [started, setStarted] = useState<{ kind: Kind; setId: number; jobId: number | null; reused: boolean } | null>(null);
  const job = started && started.jobId !== null ? jobs.find((j) => j.id === started.jobId) : undefined;

  const start = async (kind: Kind) => {
    setBusy(kind);
    setError(null);
    try {
      const r = await client.call('generation.start', {
        attributionId,
        kind,
        generator: generator.trim(),
        perPrompt: Number(perPrompt),
        steps: Number(steps),
        guidance: Number(guidance),
        seed: Number(seed),
      });
      setStarted({ kind, setId: r.id, jobId: r.jobId, reused: r.reused });
      notify('info', r.jobId === null ? `The ${kind} set #${r.id} is generated already` : `Generating the ${kind} set #${r.id} (job #${r.jobId})`);
      bump('jobs');
      onStarted();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(null);
    }
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void start('individual');
  };

  return (
    <form className="card form" onSubmit={submit} data-testid="generate-form">
      <div className="card-title">Generate images</div>
      <div className="form-row">
        <Field label="Generator" hint='a text-to-image package folder (SD ONNX layout); "shapeworld" = the embedded one'>
          <input value={generator} onChange={(e) => setGenerator(e.target.value)} data-testid="generate-generator" required />
        </Field>
        <Field label="Images per background">
          <input type="number" min={1} max={1000} value={perPrompt} onChange={(e) => setPerPrompt(e.target.value)} data-testid="generate-per-prompt" style={{ width: 72 }} />
        </Field>
        <Field label="Steps">
          <input type="number" min={1} max={500} value={steps} onChange={(e) => setSteps(e.target.value)} data-testid="generate-steps" style={{ width: 64 }} />
        </Field>
        <Field label="Guidance">
          <input type="number" min={0} max={50} step="any" value={guidance} onChange={(e) => setGuidance(e.target.value)} data-testid="generate-guidance" style={{ width: 64 }} />
        </Field>
        <Field label="Seed">
          <input type="number" min={0} value={seed} onChange={(e) => setSeed(e.target.value)} data-testid="generate-seed" style={{ width: 64 }} />
        </Field>
        <div className="form-actions inline">
          <button type="submit" className="btn primary" disabled={busy !== null || !generator.trim()} data-testid="generate-individual">
            {busy === 'individual' ? 'Starting…' : 'Generate individual set'}
          </button>
          <button type="button" className="btn" disabled={busy !== null || !generator.trim()} onClick={() => void start('random')} data-testid="generate-random">
            {busy === 'random' ? 'Starting…' : 'Generate random set'}
          </button>
        </div>
      </div>
      <ErrorBox error={error} testId="generate-error" />
      {started ? (
        <div className="pad" data-testid="generate-started">
          {started.kind} set #{started.setId}
          {started.reused ? ' (same settings: the stored set)' : ''}
          {started.jobId === null ? ': generated already' : `: job #${started.jobId} `}
          {job && (job.status === 'running' || job.status === 'queued') ? <JobProgress job={job} /> : job ? <span className="dim">{job.status}</span> : null}
        </div>
      ) : null}
    </form>
  );
}

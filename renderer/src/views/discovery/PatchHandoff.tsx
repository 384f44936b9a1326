// The confirmed modes as prompts for the patch-head loop: an individual generation set of an
// attribution of the same model (its debug set and heldout split), made from the hypotheses the
// session confirmed (generation.start with discoveryId). The session's stored α decides which are
// confirmed, so a report read at another α is stored first (discovery.start reuses the session).
import { useMemo, useState, type FormEvent } from 'react';
import type { DiscoveryReport } from '../../../../electron/contract.ts';
import { useApi, useLab } from '../../lib/lab.tsx';
import { format, navigate } from '../../lib/router.ts';
import { ErrorBox, Field } from '../../components/common.tsx';

export function PatchHandoff({ report }: { report: DiscoveryReport }) {
  const { client, bump } = useLab();
  const attributions = useApi('attribution.list', {}, ['runs', 'jobs']);
  const runs = useApi('runs.list', {}, ['runs']);
  const [attributionId, setAttributionId] = useState('');
  const [perPrompt, setPerPrompt] = useState('8');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  const options = useMemo(() => {
    const runOf = new Map((runs.data ?? []).map((r) => [r.id, r]));
    return (attributions.data ?? []).filter((a) => a.status === 'done' && runOf.get(a.runId)?.modelId === report.modelId).map((a) => ({ id: a.id, label: `#${a.id}: run ${a.runId} on ${runOf.get(a.runId)!.datasetName}, ${a.numFailures} failures` }));
  }, [attributions.data, runs.data, report.modelId]);
  const chosen = attributionId || (options[0] ? String(options[0].id) : '');
  const n = Number(perPrompt);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const { settings } = report;
      if (settings.alpha !== report.alpha) {
        await client.call('discovery.start', { ...settings, modelId: report.modelId, alpha: report.alpha });
      }
      const r = await client.call('generation.start', {
        attributionId: Number(chosen),
        kind: 'individual',
        generator: settings.generator,
        perPrompt: n,
        steps: settings.steps,
        guidance: settings.guidance,
        seed: settings.seed,
        discoveryId: report.id,
      });
      bump('lab');
      navigate(format(['patch', Number(chosen)], { set: r.id }));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  if (report.stage !== 'done' || report.confirmed === 0) return null;
  return (
    <form className="card form" onSubmit={submit} data-testid="discovery-patch" aria-label="Patch the head with the confirmed modes">
      <div className="card-title">
        Patch the head with these modes
        <span className="count dim">
          {report.confirmed} confirmed prompt{report.confirmed === 1 ? '' : 's'} at α {report.alpha}
        </span>
      </div>
      {options.length ? (
        <div className="form-row">
          <Field label="Attribution" hint="of a run of this model: its failures are the debug set the patched head is measured on">
            <select value={chosen} onChange={(e) => setAttributionId(e.target.value)} data-testid="discovery-patch-attribution">
              {options.map((o) => (
                <option key={o.id} value={o.id}>
                  {o.label}
                </option>
              ))}
            </select>
          </Field>
          <Field label="Images per prompt">
            <input type="number" min={1} max={1000} value={perPrompt} onChange={(e) => setPerPrompt(e.target.value)} style={{ width: 80 }} data-testid="discovery-patch-n" />
          </Field>
          <div className="form-actions inline">
            <button type="submit" className="btn primary" disabled={busy || !chosen || !(n >= 1 && n <= 1000 && Number.isInteger(n))} data-testid="discovery-patch-submit">
              {busy ? 'Starting…' : 'Generate the set and open it in Patch'}
            </button>
          </div>
        </div>
      ) : (
        <div className="pad dim" data-testid="discovery-patch-none">
          No finished attribution of a run of {report.modelName}: run the model on a dataset and attribute its failures first (Attribution view); its debug set is what the patched head is measured on.
        </div>
      )}
      <ErrorBox error={error} testId="discovery-patch-error" />
    </form>
  );
}

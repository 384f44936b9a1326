// Step 5: the confirmed modes' images as an adversarial dataset (discovery.export at the report's α):
// a folder with images/, labels.csv (file,label), labels.txt and provenance.csv, importable as a dataset.
import { useState, type FormEvent } from 'react';
import type { DiscoveryReport, Results } from '../../../../electron/contract.ts';
import { useLab } from '../../lib/lab.tsx';
import { num } from '../../lib/format.ts';
import { ErrorBox, Field } from '../../components/common.tsx';

export function ExportForm({ report }: { report: DiscoveryReport }) {
  const { client } = useLab();
  const [out, setOut] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState<Results['discovery.export'] | null>(null);
  const finished = report.stage === 'done';

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setDone(null);
    try {
      setDone(await client.call('discovery.export', { id: report.id, out: out.trim(), alpha: report.alpha }));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="card form" onSubmit={submit} data-testid="discovery-export" aria-label="Export the adversarial dataset">
      <div className="card-title">
        Export the adversarial dataset
        <span className="count dim">
          {report.confirmed} confirmed mode{report.confirmed === 1 ? '' : 's'} at α {report.alpha}
        </span>
      </div>
      <div className="form-row">
        <Field label="Export folder" hint="an empty folder: images/, labels.csv (file,label), labels.txt, provenance.csv">
          <input value={out} onChange={(e) => setOut(e.target.value)} placeholder="/path/to/adversarial-set" required spellCheck={false} style={{ minWidth: 360 }} data-testid="discovery-export-out" />
        </Field>
        <div className="form-actions inline">
          <button type="submit" className="btn" disabled={busy || !out.trim() || !finished} data-testid="discovery-export-submit">
            {busy ? 'Exporting…' : 'Export'}
          </button>
        </div>
      </div>
      {!finished ? <div className="pad dim">The session is not finished: export once every hypothesis is tested.</div> : null}
      <ErrorBox error={error} testId="discovery-export-error" />
      {done ? (
        <div className="pad good" data-testid="discovery-export-done" role="status">
          Exported {num(done.images)} images of {num(done.hypotheses)} confirmed mode{done.hypotheses === 1 ? '' : 's'} to <span className="mono">{done.out}</span>
        </div>
      ) : null}
    </form>
  );
}

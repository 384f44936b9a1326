// Imports a prediction file in the ImageNet-X toolkit's CSV format (file_name,predicted_class,
// predicted_probability) into the lab by its path on this machine, like the dataset import form.
// A bad file is refused whole, with its bad lines (file:line) shown.
import { useState, type FormEvent } from 'react';
import type { PredictionSetInfo } from '../../../../electron/contract.ts';
import { useLab } from '../../lib/lab.tsx';
import { ErrorBox, Field } from '../../components/common.tsx';

export function PredictionImportForm({ onImported, onCancel }: { onImported: (set: PredictionSetInfo) => void; onCancel: () => void }) {
  const { client, notify, bump } = useLab();
  const [file, setFile] = useState('');
  const [name, setName] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const set = await client.call('predictions.import', { file: file.trim(), name: name.trim() || undefined });
      notify('success', `Imported ${set.numPredictions} predictions as "${set.name}"`);
      bump('runs');
      setFile('');
      setName('');
      onImported(set);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="card form" onSubmit={submit} data-testid="predictions-import-form">
      <div className="card-title">Import predictions (the ImageNet-X toolkit's CSV: file_name,predicted_class,predicted_probability)</div>
      <div className="form-grid">
        <Field label="Prediction file" hint="A path on this machine; rows are matched to the labels by file_name">
          <input required value={file} onChange={(e) => setFile(e.target.value)} placeholder="/data/imagenetx/model_predictions/resnet50.csv" data-testid="predictions-file" spellCheck={false} />
        </Field>
        <Field label="Name" hint="Defaults to the file name">
          <input value={name} onChange={(e) => setName(e.target.value)} placeholder="resnet50" data-testid="predictions-name" />
        </Field>
      </div>
      <ErrorBox error={error} testId="predictions-import-error" />
      <div className="form-actions">
        <button type="submit" className="btn primary" disabled={busy || !file.trim()} data-testid="predictions-import-submit">
          {busy ? 'Importing…' : 'Import'}
        </button>
        <button type="button" className="btn" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}

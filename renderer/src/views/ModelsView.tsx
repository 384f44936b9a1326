import { useState, type FormEvent } from 'react';
import type { ParamsIn } from '../../../electron/contract.ts';
import { useApi, useLab } from '../lib/lab.tsx';
import { num, shape, when } from '../lib/format.ts';
import { Empty, ErrorBox, Field, Loading, PageHeader } from '../components/common.tsx';

type Preset = NonNullable<ParamsIn<'models.add'>['preset']>;

export function ModelsView() {
  const { data, error, loading, reload } = useApi('models.list', {}, ['models']);
  const [showForm, setShowForm] = useState(false);
  const empty = data !== null && data.length === 0;
  return (
    <div className="page">
      <PageHeader title="Models" sub="Classifiers added to this lab as model packages">
        {empty ? null : (
          <button type="button" className="btn primary" data-testid="open-add-model" onClick={() => setShowForm((s) => !s)}>
            {showForm ? 'Close' : 'Add model'}
          </button>
        )}
      </PageHeader>
      {showForm || empty ? <AddModelForm onDone={empty ? undefined : () => setShowForm(false)} /> : null}
      <ErrorBox error={error} onRetry={reload} />
      {data === null && loading ? <Loading what="models" /> : null}
      {empty ? (
        <Empty title="No models yet: add a classifier" testId="models-empty">
          Give the path of an <code>.onnx</code> classifier. FactorLab reads its input, logits and final linear layer, and writes a
          model package into the lab.
        </Empty>
      ) : null}
      {data && data.length > 0 ? (
        <table className="table" data-testid="models-table">
          <thead>
            <tr>
              <th>Name</th>
              <th className="num">Classes</th>
              <th className="num">Feature dim</th>
              <th>Input shape</th>
              <th>Preset</th>
              <th>SHA-256</th>
              <th>Added</th>
            </tr>
          </thead>
          <tbody>
            {data.map((m) => (
              <tr key={m.id} data-testid="model-row">
                <td className="strong" title={m.dir}>
                  {m.name}
                </td>
                <td className="num">{num(m.numClasses)}</td>
                <td className="num">{num(m.featureDim)}</td>
                <td className="mono">{shape(m.inputShape)}</td>
                <td>
                  <span className="tag">{m.preset}</span>
                </td>
                <td className="mono dim" title={m.sha256}>
                  {m.sha256.slice(0, 12)}
                </td>
                <td className="dim">{when(m.createdAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </div>
  );
}

function AddModelForm({ onDone }: { onDone?: () => void }) {
  const { client, notify, bump } = useLab();
  const [onnx, setOnnx] = useState('');
  const [name, setName] = useState('');
  const [preset, setPreset] = useState<Preset>('imagenet');
  const [labels, setLabels] = useState('');
  const [preprocess, setPreprocess] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const m = await client.call('models.add', {
        onnx: onnx.trim(),
        name: name.trim() || undefined,
        preset,
        labels: labels.trim() || undefined,
        preprocess: preprocess.trim() || undefined,
      });
      notify('success', `Added model ${m.name} (${m.numClasses} classes, feature dim ${m.featureDim})`);
      bump('models', 'lab');
      setOnnx('');
      setName('');
      setLabels('');
      setPreprocess('');
      onDone?.();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="card form" onSubmit={submit} data-testid="add-model-form">
      <div className="card-title">Add a classifier</div>
      <div className="form-grid">
        <Field label="ONNX file" hint="A classifier with one image input and a logits output">
          <input required value={onnx} onChange={(e) => setOnnx(e.target.value)} placeholder="/models/resnet50.onnx" data-testid="model-onnx" spellCheck={false} />
        </Field>
        <Field label="Name" hint="Defaults to the file name">
          <input value={name} onChange={(e) => setName(e.target.value)} placeholder="resnet50" data-testid="model-name" />
        </Field>
        <Field label="Preprocessing preset">
          <select value={preset} onChange={(e) => setPreset(e.target.value as Preset)} data-testid="model-preset">
            <option value="imagenet">imagenet (resize 256, crop 224, ImageNet mean/std)</option>
            <option value="clip">clip (resize 224 bicubic, CLIP mean/std)</option>
            <option value="none">none (resize to the input size, 0..1)</option>
          </select>
        </Field>
        <Field label="Labels file (optional)" hint="Class names, one per line, in logit order">
          <input value={labels} onChange={(e) => setLabels(e.target.value)} placeholder="/models/labels.txt" data-testid="model-labels" spellCheck={false} />
        </Field>
        <Field label="Preprocessing file (optional)" hint="A timm pretrained config / config.json, or a FactorLab spec; overrides the preset">
          <input value={preprocess} onChange={(e) => setPreprocess(e.target.value)} placeholder="/models/config.json" data-testid="model-preprocess" spellCheck={false} />
        </Field>
      </div>
      <ErrorBox error={error} testId="add-model-error" />
      <div className="form-actions">
        <button type="submit" className="btn primary" disabled={busy || !onnx.trim()} data-testid="model-submit">
          {busy ? 'Reading the graph…' : 'Add model'}
        </button>
        {onDone ? (
          <button type="button" className="btn" onClick={onDone}>
            Cancel
          </button>
        ) : null}
      </div>
    </form>
  );
}

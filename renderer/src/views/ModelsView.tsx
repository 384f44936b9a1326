import { useState, type FormEvent } from 'react';
import type { ModelConversion, ModelSummary, ParamsIn } from '../../../electron/contract.ts';
import { useApi, useLab } from '../lib/lab.tsx';
import { bytes, num, shape, when } from '../lib/format.ts';
import { Empty, ErrorBox, Field, Loading, PageHeader } from '../components/common.tsx';
import { JobProgress, useCancelJob } from '../components/StatusBar.tsx';
import { useJobResult } from '../lib/use-job-result.ts';

type Preset = NonNullable<ParamsIn<'models.add'>['preset']>;

export function ModelsView() {
  const { data, error, loading, reload } = useApi('models.list', {}, ['models']);
  const [showForm, setShowForm] = useState(false);
  const [converting, setConverting] = useState<ModelSummary | null>(null);
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
              <th />
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
                <td>
                  {m.kind === 'classifier' ? (
                    <button type="button" className="btn small" data-testid="convert-fp16-open" onClick={() => setConverting((c) => (c?.id === m.id ? null : m))}>
                      Convert to fp16…
                    </button>
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {converting ? <ConvertFp16Form key={converting.id} model={converting} onClose={() => setConverting(null)} /> : null}
    </div>
  );
}

/** `factorlab convert-fp16` in the app: a 'convert-fp16' job, followed here; its report once done. */
function ConvertFp16Form({ model, onClose }: { model: ModelSummary; onClose: () => void }) {
  const { client, bump } = useLab();
  const cancel = useCancelJob();
  const datasets = useApi('datasets.list', {}, ['datasets']);
  const [out, setOut] = useState('');
  const [datasetId, setDatasetId] = useState('');
  const { job, running, busy, error, done, start } = useJobResult(
    (jobId) => client.call('models.conversion', { jobId }),
    () => bump('models', 'lab'),
  );

  const submit = (e: FormEvent) => {
    e.preventDefault();
    void start(() => client.call('models.convertFp16', { id: model.id, out: out.trim(), datasetId: datasetId ? Number(datasetId) : undefined }));
  };

  return (
    <form className="card form" style={{ marginTop: 14 }} onSubmit={submit} data-testid="convert-fp16-form">
      <div className="card-title">Convert {model.name} to fp16</div>
      <p className="dim pad">
        Writes a new package with the graph in float16 (inputs, outputs and the classifier head stay float32), checks it against the original and adds
        it to the lab as a new model. The conversion is refused when an output differs by more than 1 % or a top-1 class changes.
      </p>
      <div className="form-grid">
        <Field label="Output folder" hint="An absolute path to a new or empty folder">
          <input required value={out} onChange={(e) => setOut(e.target.value)} placeholder="/models/resnet50-fp16" data-testid="convert-fp16-out" spellCheck={false} />
        </Field>
        <Field label="Check images (optional)" hint="Up to 16 images spread over a dataset; without one, seeded noise (ranges are not calibrated on real data)">
          <select value={datasetId} onChange={(e) => setDatasetId(e.target.value)} data-testid="convert-fp16-dataset">
            <option value="">none (seeded noise)</option>
            {(datasets.data ?? []).map((d) => (
              <option key={d.id} value={String(d.id)}>
                {d.name} ({num(d.numImages)} images)
              </option>
            ))}
          </select>
        </Field>
      </div>
      <div className="form-actions">
        <button type="submit" className="btn primary" disabled={busy || running || !out.trim()} data-testid="convert-fp16-submit">
          {busy ? 'Starting…' : running ? 'Converting…' : 'Convert'}
        </button>
        <button type="button" className="btn" onClick={onClose}>
          Close
        </button>
      </div>
      {job && job.status !== 'done' ? (
        <div className="pad" data-testid="convert-fp16-job" data-status={job.status}>
          Conversion job #{job.id}: {running ? <JobProgress job={job} /> : job.status}
          {job.message && job.status !== 'failed' ? <span className="dim"> {job.message}</span> : null}
          {job.error ? (
            <span className="bad" data-testid="convert-fp16-job-error">
              {' '}
              {job.error}
            </span>
          ) : null}{' '}
          {running ? (
            <button type="button" className="btn small" onClick={() => cancel(job)} data-testid="convert-fp16-cancel">
              Cancel
            </button>
          ) : null}
        </div>
      ) : null}
      <ErrorBox error={error} testId="convert-fp16-error" />
      {done ? <ConversionReport conversion={done} /> : null}
    </form>
  );
}

function ConversionReport({ conversion }: { conversion: ModelConversion }) {
  const r = conversion.report;
  return (
    <div className="pad" data-testid="convert-fp16-report">
      <div className="good" data-testid="convert-fp16-done">
        Added model #{conversion.modelId} from <span className="mono">{conversion.out}</span>. Checked on {r.checkedOn}
        {r.top1Changes !== null ? (
          <>
            ; top-1 changes: <span data-testid="convert-fp16-top1">{r.top1Changes}</span> of {num(r.checkImages)}
          </>
        ) : null}
        .
      </div>
      <table className="table compact" data-testid="convert-fp16-files">
        <thead>
          <tr>
            <th>File</th>
            <th className="num">Size</th>
            <th className="num">Nodes fp16 / fp32</th>
            <th>Relative error per output (limit {(r.maxRelError * 100).toFixed(2)} %)</th>
          </tr>
        </thead>
        <tbody>
          {r.files.map((f) => (
            <tr key={f.file} data-testid="convert-fp16-file">
              <td className="mono" title={f.role}>
                {f.file}
              </td>
              <td className="num">
                {bytes(f.bytesBefore)} → {bytes(f.bytesAfter)}
              </td>
              <td className="num" title={Object.entries(f.graph.keptFp32).map(([why, n]) => `${n}: ${why}`).join('\n') || undefined}>
                {num(f.graph.fp16Nodes)} / {num(f.graph.fp32Nodes)}
              </td>
              <td className="mono">
                {f.outputs.map((o) => (
                  <div key={o.output}>
                    {o.output}: {(o.relError * 100).toFixed(3)} % (max abs {o.maxAbsError.toExponential(2)})
                  </div>
                ))}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
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

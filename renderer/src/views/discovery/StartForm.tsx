// Starts a discovery session (discovery.start): the model under test, the text-to-image package, the
// CLIP package of the describer and the class filter, an optional captioner, the classes to probe
// (all by default) and the loop's sizes. The same settings again reuse (and resume) the stored session.
import { useEffect, useMemo, useState, type FormEvent } from 'react';
import type { DiscoverySettings } from '../../../../electron/contract.ts';
import { useApi, useLab } from '../../lib/lab.tsx';
import { num } from '../../lib/format.ts';
import { format } from '../../lib/router.ts';
import { parseAlpha } from '../../lib/discovery-format.ts';
import { ErrorBox, Field } from '../../components/common.tsx';
import { ClassChooser } from './ClassChooser.tsx';

export function StartForm({ onStarted }: { onStarted: (sessionId: number) => void }) {
  const { client, bump, notify } = useLab();
  const models = useApi('models.list', {}, ['models']);
  const [modelId, setModelId] = useState('');
  const [generator, setGenerator] = useState('shapeworld');
  const [clip, setClip] = useState('shapeworld');
  const [captioner, setCaptioner] = useState('');
  const [describeWith, setDescribeWith] = useState<DiscoverySettings['describeWith']>('clip');
  const [classes, setClasses] = useState<number[] | null>(null);
  const [n, setN] = useState('32');
  const [m, setM] = useState('16');
  const [steps, setSteps] = useState('20');
  const [guidance, setGuidance] = useState('5');
  const [seed, setSeed] = useState('0');
  const [filterRank, setFilterRank] = useState('3');
  const [alpha, setAlpha] = useState('0.05');
  const [maxAttributes, setMaxAttributes] = useState('3');
  const [minMembers, setMinMembers] = useState('2');
  const [maxClusters, setMaxClusters] = useState('8');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  // The first model is the default; a new model list keeps the choice when it is still there.
  useEffect(() => {
    const list = models.data ?? [];
    if (list.length && !list.some((x) => String(x.id) === modelId)) setModelId(String(list[list.length - 1]!.id));
  }, [models.data]);
  const model = models.data?.find((x) => String(x.id) === modelId) ?? null;
  useEffect(() => setClasses(null), [modelId]);

  const classNames = useMemo(() => (model ? Array.from({ length: model.numClasses }, (_, i) => model.classNames[i] ?? `class ${i}`) : []), [model]);

  const alphaValue = parseAlpha(alpha);
  const planned = model ? (classes?.length ?? model.numClasses) * (Number(n) || 0) : 0;

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!model || alphaValue === null) return;
    setBusy(true);
    setError(null);
    try {
      const r = await client.call('discovery.start', {
        modelId: model.id,
        generator: generator.trim(),
        clip: clip.trim(),
        captioner: captioner.trim() || null,
        describeWith: captioner.trim() ? describeWith : 'clip',
        classes,
        n: Number(n),
        m: Number(m),
        steps: Number(steps),
        guidance: Number(guidance),
        seed: Number(seed),
        filterRank: Number(filterRank),
        alpha: alphaValue,
        maxAttributes: Number(maxAttributes),
        minMembers: Number(minMembers),
        maxClusters: Number(maxClusters),
      });
      notify('info', r.jobId === null ? `Discovery session #${r.id} is finished already (same settings)` : `Discovery session #${r.id}${r.reused ? ' resumed' : ''} (job #${r.jobId})`);
      bump('jobs', 'discovery');
      onStarted(r.id);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  const small = { width: 72 };
  return (
    <form className="card form" onSubmit={submit} data-testid="discovery-form" aria-label="Start a discovery session">
      <div className="card-title">Discover failure modes</div>
      <div className="form-row">
        <Field label="Model">
          <select value={modelId} onChange={(e) => setModelId(e.target.value)} required data-testid="discovery-model" disabled={!models.data?.length}>
            {!models.data?.length ? <option value="">no model yet</option> : null}
            {models.data?.map((x) => (
              <option key={x.id} value={x.id}>
                #{x.id} {x.name} ({num(x.numClasses)} classes)
              </option>
            ))}
          </select>
        </Field>
        <Field label="Generator" hint='text-to-image package folder (SD ONNX layout), or "shapeworld"'>
          <input value={generator} onChange={(e) => setGenerator(e.target.value)} required spellCheck={false} data-testid="discovery-generator" />
        </Field>
        <Field label="CLIP" hint='describer and class filter: a CLIP package folder, or "shapeworld"'>
          <input value={clip} onChange={(e) => setClip(e.target.value)} required spellCheck={false} data-testid="discovery-clip" />
        </Field>
        <Field label="Captioner (optional)" hint='image-to-text package (VisionEncoderDecoder ONNX), or "shapeworld"'>
          <input value={captioner} onChange={(e) => setCaptioner(e.target.value)} placeholder="none: CLIP describer only" spellCheck={false} data-testid="discovery-captioner" />
        </Field>
        <Field label="Describe with" hint="whose words are clustered and confirmed">
          <select value={captioner.trim() ? describeWith : 'clip'} onChange={(e) => setDescribeWith(e.target.value as DiscoverySettings['describeWith'])} disabled={!captioner.trim()} data-testid="discovery-describe-with">
            <option value="clip">CLIP describer</option>
            <option value="captioner">captioner</option>
          </select>
        </Field>
      </div>
      {model ? <ClassChooser names={classNames} value={classes} onChange={setClasses} /> : null}
      <div className="form-row">
        <Field label="n" hint="images per class">
          <input type="number" min={1} max={10000} value={n} onChange={(e) => setN(e.target.value)} style={small} required data-testid="discovery-n" />
        </Field>
        <Field label="m" hint="images per hypothesis">
          <input type="number" min={1} max={10000} value={m} onChange={(e) => setM(e.target.value)} style={small} required data-testid="discovery-m" />
        </Field>
        <Field label="Steps">
          <input type="number" min={1} max={500} value={steps} onChange={(e) => setSteps(e.target.value)} style={small} required data-testid="discovery-steps" />
        </Field>
        <Field label="Guidance">
          <input type="number" min={0} max={50} step="any" value={guidance} onChange={(e) => setGuidance(e.target.value)} style={small} required data-testid="discovery-guidance" />
        </Field>
        <Field label="Seed">
          <input type="number" min={0} value={seed} onChange={(e) => setSeed(e.target.value)} style={small} required data-testid="discovery-seed" />
        </Field>
        <Field label="Filter rank" hint="CLIP top-R check of the class; 0: off">
          <input type="number" min={0} max={1000} value={filterRank} onChange={(e) => setFilterRank(e.target.value)} style={small} required data-testid="discovery-filter-rank" />
        </Field>
        <Field label="α" hint="false discovery rate (BH)">
          <input value={alpha} onChange={(e) => setAlpha(e.target.value)} inputMode="decimal" style={small} aria-invalid={alphaValue === null ? true : undefined} data-testid="discovery-alpha" />
        </Field>
      </div>
      <details className="disc-advanced">
        <summary>Clustering</summary>
        <div className="form-row">
          <Field label="Attributes per description">
            <input type="number" min={1} max={10} value={maxAttributes} onChange={(e) => setMaxAttributes(e.target.value)} style={small} data-testid="discovery-max-attributes" />
          </Field>
          <Field label="Min. members" hint="failures of a class a cluster needs to be tested for it">
            <input type="number" min={1} max={1000} value={minMembers} onChange={(e) => setMinMembers(e.target.value)} style={small} data-testid="discovery-min-members" />
          </Field>
          <Field label="Max. clusters">
            <input type="number" min={1} max={50} value={maxClusters} onChange={(e) => setMaxClusters(e.target.value)} style={small} data-testid="discovery-max-clusters" />
          </Field>
        </div>
      </details>
      <div className="form-actions">
        <button type="submit" className="btn primary" disabled={busy || !model || alphaValue === null || !generator.trim() || !clip.trim() || classes?.length === 0} data-testid="discovery-submit">
          {busy ? 'Starting…' : 'Start discovery'}
        </button>
        {model ? (
          <span className="dim" data-testid="discovery-planned">
            {num(planned)} base images, then {m || '?'} per hypothesis
          </span>
        ) : null}
        {alphaValue === null ? <span className="field-error">α must be a number between 0 and 1</span> : null}
      </div>
      {models.data && models.data.length === 0 ? (
        <div className="notice slim" data-testid="discovery-no-model">
          No classifier yet: <a href={format(['models'])}>add one on the Models page</a> (the embedded ShapeWorld CNN works with the "shapeworld" generator and CLIP).
        </div>
      ) : null}
      <ErrorBox error={error ?? models.error} testId="discovery-form-error" />
    </form>
  );
}

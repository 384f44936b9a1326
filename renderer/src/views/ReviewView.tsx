// Agreement and review: per-factor agreement between the annotators (Cohen's kappa for two,
// Fleiss' kappa over the images all of them labelled, Krippendorff's alpha with missing labels),
// and the images they disagree on with each annotator's label side by side. The reviewer takes one
// annotator's label or merges factor by factor into the consensus (the 'consensus' source, which
// the error-ratio chart can use). Ctrl+Z undoes the reviewer's last consensus change.
import { useCallback, useEffect, useMemo, useState } from 'react';
import type { AgreementCell, DisagreementRow, LabelRecord } from '../../../electron/contract.ts';
import { useApi, useLab } from '../lib/lab.tsx';
import { FACTORS, factorLabel, rememberedAnnotator, typingIn } from '../lib/factors.ts';
import { num, pct } from '../lib/format.ts';
import { Empty, ErrorBox, PageHeader } from '../components/common.tsx';
import { AnnotatorField } from './LabelView.tsx';

const PAGE = 8;

function Kappa({ c, testId }: { c: AgreementCell | null; testId?: string }) {
  if (!c) return <td className="dim">–</td>;
  return (
    <td className="num" title={c.reason ?? `${c.items} images`} data-testid={testId}>
      {c.value === null ? <span className="dim">undef.</span> : c.value.toFixed(3)}
    </td>
  );
}

export function ReviewView() {
  const { client, notify, notifyError, bump } = useLab();
  const [reviewer, setReviewer] = useState(rememberedAnnotator);
  const datasets = useApi('datasets.list', {}, ['datasets']);
  const [datasetId, setDatasetId] = useState<number | null>(null);
  const annotators = useApi('labels.annotators', {}, ['lab']);
  const [picked, setPicked] = useState<string[] | null>(null);
  const chosen = picked ?? (annotators.data ?? []).map((a) => a.name);
  const agreement = useApi('labels.agreement', annotators.data ? { datasetId: datasetId ?? undefined, annotators: chosen } : null, ['lab']);
  const [offset, setOffset] = useState(0);
  const disagreements = useApi('labels.disagreements', { datasetId: datasetId ?? undefined, offset, limit: PAGE }, ['lab']);
  const reloadDisagreements = disagreements.reload;

  const saveConsensus = useCallback(
    async (row: DisagreementRow, label: { factors: string[]; topFactor: string | null; justification: string | null; oneWord: string | null }) => {
      if (!reviewer) return notify('error', 'Type your name as reviewer first');
      if (row.imageId === null) return notify('error', `${row.fileName} is not an image of this lab`);
      try {
        await client.call('labels.set', { imageId: row.imageId, annotator: reviewer, target: 'consensus', ...label, factors: label.factors as never, topFactor: label.topFactor as never });
        notify('success', `Consensus saved for ${row.fileName}`);
        reloadDisagreements();
        bump('lab');
      } catch (err) {
        notifyError(err, 'Saving the consensus');
      }
    },
    [client, reviewer, notify, notifyError, bump, reloadDisagreements],
  );

  useEffect(() => {
    const onKey = async (e: KeyboardEvent) => {
      if (typingIn(e) || !(e.ctrlKey || e.metaKey) || e.code !== 'KeyZ' || !reviewer) return;
      e.preventDefault();
      try {
        const r = await client.call('labels.undo', { annotator: reviewer, target: 'consensus' });
        notify('info', r.undone ? `Undone consensus change (${r.undone.count})` : 'Nothing to undo');
        reloadDisagreements();
      } catch (err) {
        notifyError(err, 'Undo');
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [client, reviewer, notify, notifyError, reloadDisagreements]);

  const a = agreement.data;
  return (
    <div className="page">
      <PageHeader title="Agreement & review" sub={<span>Consensus labels are written as reviewer <strong>{reviewer || '–'}</strong> into the lab's “consensus” source.</span>} />
      <div className="filterbar">
        <AnnotatorField value={reviewer} onChange={setReviewer} testId="reviewer" />
        <label className="field compact">
          <span className="field-label">Dataset</span>
          <select value={datasetId ?? ''} onChange={(e) => (setDatasetId(e.target.value ? Number(e.target.value) : null), setOffset(0))} data-testid="review-dataset">
            <option value="">all datasets</option>
            {(datasets.data ?? []).map((d) => (
              <option key={d.id} value={d.id}>
                {d.name}
              </option>
            ))}
          </select>
        </label>
        <span className="field compact">
          <span className="field-label">Annotators</span>
          <span className="chips">
            {(annotators.data ?? []).map((x) => (
              <label key={x.name} className="chip">
                <input
                  type="checkbox"
                  checked={chosen.includes(x.name)}
                  onChange={(e) => setPicked(e.target.checked ? [...chosen, x.name] : chosen.filter((n) => n !== x.name))}
                  data-testid={`agree-${x.name}`}
                />{' '}
                {x.name} <span className="dim">({num(x.labelled)})</span>
              </label>
            ))}
          </span>
        </span>
      </div>
      <section className="card" data-testid="agreement">
        <div className="card-title">
          Agreement per factor
          <span className="card-tools dim">
            {a ? `${num(a.sharedItems)} images labelled by two or more, ${num(a.allItems)} by all ${a.annotators.length}` : ''}
          </span>
        </div>
        <ErrorBox error={agreement.error} />
        {a && a.annotators.length < 2 ? <p className="pad dim">Agreement needs two annotators or more.</p> : null}
        {a && a.annotators.length >= 2 ? (
          <div className="table-scroll">
            <table className="table" data-testid="agreement-table">
              <thead>
                <tr>
                  <th>Factor</th>
                  <th title="Two annotators">Cohen's κ</th>
                  <th title="Images labelled by all of them">Fleiss' κ</th>
                  <th title="Nominal, missing labels allowed">Krippendorff's α</th>
                  <th>Raw agreement</th>
                </tr>
              </thead>
              <tbody>
                {a.rows.map((r) => (
                  <tr key={r.factor} data-testid="agreement-row" data-factor={r.factor}>
                    <td>{factorLabel(r.factor)}</td>
                    <Kappa c={r.cohen} testId="cohen" />
                    <Kappa c={r.fleiss} />
                    <Kappa c={r.krippendorff} />
                    <td className="num">{pct(r.percentAgreement)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : null}
      </section>
      <section className="card" data-testid="disagreements">
        <div className="card-title">
          Disagreements <span className="count">{disagreements.data ? num(disagreements.data.total) : '…'}</span>
          <span className="card-tools">
            <button type="button" className="btn tiny" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - PAGE))}>
              ← Prev
            </button>
            <span className="dim">
              {disagreements.data && disagreements.data.total ? `${offset + 1}–${Math.min(offset + PAGE, disagreements.data.total)}` : ''}
            </span>
            <button type="button" className="btn tiny" disabled={!disagreements.data || offset + PAGE >= disagreements.data.total} onClick={() => setOffset(offset + PAGE)}>
              Next →
            </button>
          </span>
        </div>
        <ErrorBox error={disagreements.error} />
        {disagreements.data?.total === 0 ? <Empty title="No disagreements" testId="no-disagreements">Images labelled by two annotators or more that differ show up here.</Empty> : null}
        {(disagreements.data?.items ?? []).map((row) => (
          <ReviewRow key={row.fileName} row={row} onSave={saveConsensus} />
        ))}
      </section>
    </div>
  );
}

function majority(labels: LabelRecord[], f: string): boolean {
  return labels.filter((l) => l.factors.includes(f)).length * 2 > labels.length;
}

function ReviewRow({ row, onSave }: { row: DisagreementRow; onSave: (row: DisagreementRow, l: { factors: string[]; topFactor: string | null; justification: string | null; oneWord: string | null }) => void }) {
  const { client } = useLab();
  const relevant = useMemo(() => FACTORS.filter((f) => row.labels.some((l) => l.factors.includes(f))), [row]);
  const initial = () => new Set(row.consensus ? row.consensus.factors : FACTORS.filter((f) => majority(row.labels, f)));
  const [merged, setMerged] = useState<Set<string>>(initial);
  const [top, setTop] = useState<string | null>(row.consensus?.topFactor ?? row.labels.find((l) => l.topFactor)?.topFactor ?? null);
  useEffect(() => {
    setMerged(initial());
    setTop(row.consensus?.topFactor ?? row.labels.find((l) => l.topFactor)?.topFactor ?? null);
  }, [row]);
  const first = row.labels.find((l) => l.justification || l.oneWord);
  return (
    <div className="review-row" data-testid="review-row" data-file={row.fileName}>
      <div className="review-image">
        {row.imageId !== null ? <img src={client.imageUrl('thumb', row.imageId)} alt="" /> : null}
        <div className="mono small">{row.relPath ?? row.fileName}</div>
        {row.className ? <span className="tag">{row.className}</span> : null}
      </div>
      <div className="review-labels">
        <table className="table compact">
          <thead>
            <tr>
              <th>Factor</th>
              {row.labels.map((l) => (
                <th key={l.annotator}>{l.annotator}</th>
              ))}
              <th>Consensus</th>
            </tr>
          </thead>
          <tbody>
            {relevant.map((f) => (
              <tr key={f} className={row.factors.includes(f) ? 'differs' : ''}>
                <td>{factorLabel(f)}</td>
                {row.labels.map((l) => (
                  <td key={l.annotator} className="center">
                    {l.factors.includes(f) ? '●' : '○'}
                    {l.topFactor === f ? ' ★' : ''}
                  </td>
                ))}
                <td className="center">
                  <input
                    type="checkbox"
                    checked={merged.has(f)}
                    onChange={(e) => {
                      const n = new Set(merged);
                      if (e.target.checked) n.add(f);
                      else n.delete(f);
                      setMerged(n);
                    }}
                    data-testid={`merge-${f}`}
                  />
                </td>
              </tr>
            ))}
            <tr>
              <td>top factor</td>
              {row.labels.map((l) => (
                <td key={l.annotator}>{l.topFactor ? factorLabel(l.topFactor) : '–'}</td>
              ))}
              <td>
                <select value={top ?? ''} onChange={(e) => setTop(e.target.value || null)} data-testid="merge-top">
                  <option value="">none</option>
                  {[...merged].map((f) => (
                    <option key={f} value={f}>
                      {factorLabel(f)}
                    </option>
                  ))}
                </select>
              </td>
            </tr>
          </tbody>
        </table>
        <div className="review-actions">
          {row.labels.map((l) => (
            <button
              key={l.annotator}
              type="button"
              className="btn small"
              onClick={() => onSave(row, { factors: l.factors, topFactor: l.topFactor, justification: l.justification, oneWord: l.oneWord })}
              data-testid={`take-${l.annotator}`}
            >
              Take {l.annotator}'s
            </button>
          ))}
          <button
            type="button"
            className="btn small primary"
            onClick={() => onSave(row, { factors: FACTORS.filter((f) => merged.has(f)), topFactor: top && merged.has(top) ? top : null, justification: first?.justification ?? null, oneWord: first?.oneWord ?? null })}
            data-testid="save-merged"
          >
            Save merged
          </button>
          <span className="dim" data-testid="consensus-state">
            {row.consensus ? `consensus: ${row.consensus.factors.map(factorLabel).join(', ') || 'no factor'} (by ${row.consensus.annotator})` : 'no consensus yet'}
          </span>
        </div>
      </div>
    </div>
  );
}

// Review of one generation set before anything trains on it: the generated images (filter by class
// and verdict), a person's verdicts on the selected images (buttons or A / R / U), the CLIP filter
// for the images still pending, and undo of the last change (Ctrl+Z), whoever made it.
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { GeneratedImageRow, GenerationSetSummary } from '../../../../electron/contract.ts';
import { useApi, useLab } from '../../lib/lab.tsx';
import { usePagedList } from '../../lib/paged.ts';
import { rememberedAnnotator, typingIn } from '../../lib/factors.ts';
import { num } from '../../lib/format.ts';
import { ApiError } from '../../api/index.ts';
import { ErrorBox } from '../../components/common.tsx';
import { AnnotatorField } from '../LabelView.tsx';
import { useGridSelection } from './selection.ts';
import { ReviewGrid, type Verdict } from './ReviewGrid.tsx';

export type Overrides = Map<number, { review: Verdict; by: string | null }>;

export function ReviewPanel({ set, onChanged, onClose }: { set: GenerationSetSummary; onChanged: () => void; onClose: () => void }) {
  const { client, notify } = useLab();
  const detail = useApi('generation.get', { id: set.id }, ['lab', 'debug']);
  const [annotator, setAnnotator] = useState(rememberedAnnotator);
  const [classIdx, setClassIdx] = useState<number | null>(null);
  const [verdict, setVerdict] = useState<Verdict | null>(null);
  const [maxRank, setMaxRank] = useState('1');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  useEffect(() => {
    setClassIdx(null);
    setVerdict(null);
    setError(null);
  }, [set.id]);

  const fetchPage = useCallback(
    (offset: number, limit: number) => client.call('generation.images', { setId: set.id, classIdx: classIdx ?? undefined, review: verdict ?? undefined, offset, limit }),
    [client, set.id, classIdx, verdict],
  );
  // The set's generated count in the key: a running job adds images, and the grid shows them.
  const list = usePagedList<GeneratedImageRow>(fetchPage, `${set.id}|${classIdx ?? ''}|${verdict ?? ''}|${set.generated}`, 240);
  const sel = useGridSelection(list.key);
  const [overrides, setOverrides] = useState<Overrides>(() => new Map());
  useEffect(() => setOverrides(new Map()), [list.key]);
  const verdictOf = useCallback((item: GeneratedImageRow) => overrides.get(item.id)?.review ?? item.review, [overrides]);

  const names = useMemo(() => new Map((detail.data?.classes ?? []).map((c) => [c.classIdx, c.name])), [detail.data]);
  const { reload: reloadDetail } = detail;
  const changed = useCallback(() => {
    onChanged();
    reloadDetail();
  }, [onChanged, reloadDetail]);

  /** Runs a change; the grid keeps its place. */
  const act = async (what: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await what();
      changed();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  const review = (v: Verdict) =>
    act(async () => {
      const indices = sel.selected.size ? [...sel.selected].sort((a, b) => a - b) : sel.focus !== null ? [sel.focus] : [];
      if (!indices.length) return notify('info', 'Select images first (click, Shift+click, Ctrl+click or drag)');
      if (!annotator) throw new ApiError('bad_input', 'type your name as annotator first: verdicts are stored with it');
      const items = (await Promise.all(indices.map((i) => list.get(i) ?? list.load(i)))).filter((x): x is GeneratedImageRow => x !== undefined);
      if (!items.length) return;
      await client.call('generation.review', { setId: set.id, imageIds: items.map((x) => x.id), verdict: v, by: annotator });
      setOverrides((m) => new Map([...m, ...items.map((x) => [x.id, { review: v, by: v === 'pending' ? null : annotator }] as const)]));
    });

  /** Changes the server made to images this page has not seen: fetch the loaded pages again. */
  const refetch = async () => {
    await list.refresh();
    setOverrides(new Map());
    if (verdict !== null) sel.clear(); // the filtered list moved under the selection
  };

  const autoReview = () =>
    act(async () => {
      const r = await client.call('generation.autoReview', { setId: set.id, maxRank: Number(maxRank) });
      notify('success', `CLIP filter (prompted class in CLIP's top ${maxRank}): ${num(r.accepted)} accepted, ${num(r.rejected)} rejected`);
      await refetch();
    });

  const undo = () =>
    act(async () => {
      const r = await client.call('generation.undo', { setId: set.id });
      notify('info', `Undone: ${num(r.restored)} ${r.restored === 1 ? 'verdict' : 'verdicts'} restored`);
      await refetch();
    });

  const actions = useRef({ review, undo });
  actions.current = { review, undo };
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (typingIn(e)) return;
      const mod = e.ctrlKey || e.metaKey;
      if (mod && !e.shiftKey && e.code === 'KeyZ') {
        e.preventDefault();
        void actions.current.undo();
      } else if (!mod && !e.altKey && (e.code === 'KeyA' || e.code === 'KeyR' || e.code === 'KeyU')) {
        e.preventDefault();
        void actions.current.review(e.code === 'KeyA' ? 'accepted' : e.code === 'KeyR' ? 'rejected' : 'pending');
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  const undoable = detail.data?.undoable ?? 0;
  return (
    <section className="card grid-card patch-review" data-testid="review-panel" data-set={set.id}>
      <div className="card-title">
        Review the {set.kind} set #{set.id}
        <span className="card-tools">
          <button type="button" className="btn small" onClick={onClose} data-testid="review-close">
            Close
          </button>
        </span>
      </div>
      <div className="filterbar" data-testid="review-bar">
        <AnnotatorField value={annotator} onChange={setAnnotator} testId="review-annotator" />
        <label className="field compact">
          <span className="field-label">Class</span>
          <select value={classIdx ?? ''} onChange={(e) => setClassIdx(e.target.value === '' ? null : Number(e.target.value))} data-testid="review-class">
            <option value="">all classes</option>
            {(detail.data?.classes ?? []).map((c) => (
              <option key={c.classIdx} value={c.classIdx}>
                {c.name} ({num(c.generated)})
              </option>
            ))}
          </select>
        </label>
        <label className="field compact">
          <span className="field-label">Verdict</span>
          <select value={verdict ?? ''} onChange={(e) => setVerdict(e.target.value === '' ? null : (e.target.value as Verdict))} data-testid="review-verdict">
            <option value="">all</option>
            <option value="pending">pending</option>
            <option value="accepted">accepted</option>
            <option value="rejected">rejected</option>
          </select>
        </label>
        <label className="field compact" title="Pending images are accepted when CLIP ranks the prompted class among its top r classes, else rejected">
          <span className="field-label">CLIP top r</span>
          <input type="number" min={1} max={1000} value={maxRank} onChange={(e) => setMaxRank(e.target.value)} style={{ width: 56 }} data-testid="review-max-rank" />
        </label>
        <button type="button" className="btn small" disabled={busy || set.status !== 'done' || !(Number(maxRank) >= 1)} onClick={() => void autoReview()} data-testid="review-clip-filter">
          CLIP filter
        </button>
        <span className="filterbar-spacer" />
        <span className="result-count" data-testid="review-count">
          {num(sel.selected.size)} selected · {list.total === null ? '…' : num(list.total)} images
        </span>
      </div>
      <div className="filterbar">
        <button type="button" className="btn small verdict-btn accepted" disabled={busy} onClick={() => void review('accepted')} data-testid="review-accept">
          Accept <kbd>A</kbd>
        </button>
        <button type="button" className="btn small verdict-btn rejected" disabled={busy} onClick={() => void review('rejected')} data-testid="review-reject">
          Reject <kbd>R</kbd>
        </button>
        <button type="button" className="btn small" disabled={busy} onClick={() => void review('pending')} data-testid="review-pending">
          Back to pending <kbd>U</kbd>
        </button>
        <button type="button" className="btn small" disabled={busy || undoable === 0} onClick={() => void undo()} data-testid="review-undo">
          Undo{undoable ? ` (${undoable})` : ''} <kbd>Ctrl+Z</kbd>
        </button>
        <span className="filterbar-spacer" />
        <span className="dim hint" data-testid="review-legend">
          Click, Shift+click a range, Ctrl+click to toggle, drag a rectangle · arrows move, Space selects · <kbd>A</kbd> accept <kbd>R</kbd> reject <kbd>U</kbd> pending (the
          selection, else the focused image) · border: <span className="legend-swatch accepted" /> accepted <span className="legend-swatch rejected" /> rejected{' '}
          <span className="legend-swatch pending" /> pending · #n: CLIP's rank of the prompted class
        </span>
      </div>
      {!annotator ? (
        <div className="notice slim" data-testid="review-need-annotator">
          Type your name as annotator: verdicts are stored with it.
        </div>
      ) : null}
      <ErrorBox error={error ?? list.error ?? detail.error} testId="review-error" />
      <ReviewGrid list={list} sel={sel} names={names} verdictOf={verdictOf} overrides={overrides} />
    </section>
  );
}

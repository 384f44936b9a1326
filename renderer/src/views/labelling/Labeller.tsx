// One image large, the 16 factors as toggles on hotkeys, a top factor (Shift + key), justification
// and one word. Labels save as they change (no Save button); Next (J / →) stores the label as it
// is, also "no factor"; Skip (S) moves on without storing; Previous (K / ←); Ctrl+Z undoes the
// last change. The next images are fetched ahead (queue pages and the full-size files) so that
// stepping shows the next image at once; each step's time to the image's load event and to the
// frame after it is recorded in window.__factorlabLabelLoad / __factorlabLabelNav (the e2e scale
// measurement reads them).
import { useCallback, useEffect, useRef, useState } from 'react';
import type { LabelQueueItem, LabelRecord } from '../../../../electron/contract.ts';
import { useLab } from '../../lib/lab.tsx';
import { FACTOR_KEYS, FACTORS, factorLabel, factorOfCode, typingIn } from '../../lib/factors.ts';
import { duration, num } from '../../lib/format.ts';
import type { QueueCtx } from '../LabelView.tsx';

interface Draft {
  factors: Set<string>;
  top: string | null;
  justification: string;
  oneWord: string;
}

const draftOf = (l: LabelRecord | null): Draft => ({ factors: new Set(l?.factors ?? []), top: l?.topFactor ?? null, justification: l?.justification ?? '', oneWord: l?.oneWord ?? '' });

declare global {
  interface Window {
    __factorlabLabelNav?: number[];
    __factorlabLabelLoad?: number[];
  }
}

const PREFETCH_IMAGES = 4;

export function Labeller({ ctx, start }: { ctx: QueueCtx; start: number }) {
  const { client, notify, notifyError } = useLab();
  const { list, annotator } = ctx;
  const total = list.total ?? 0;
  const [index, setIndex] = useState(() => Math.min(Math.max(0, start), Math.max(0, total - 1)));
  const [item, setItem] = useState<LabelQueueItem | null>(null);
  const [draft, setDraft] = useState<Draft>(() => draftOf(null));
  const [status, setStatus] = useState<'idle' | 'saving' | 'saved' | 'error'>('idle');
  const [help, setHelp] = useState(false);
  const [, tick] = useState(0);
  const shownAt = useRef(performance.now());
  /** Seconds stored for the image before this visit (time adds up over visits). */
  const baseSeconds = useRef(0);
  const navStart = useRef<number | null>(null);
  const chain = useRef<Promise<unknown>>(Promise.resolve());
  const textTimer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const draftRef = useRef(draft);
  draftRef.current = draft;
  const itemRef = useRef(item);
  itemRef.current = item;
  const ctxRef = useRef(ctx);
  ctxRef.current = ctx;
  const prefetched = useRef<HTMLImageElement[]>([]);
  /** The image on screen or on its way (set when stepping, before the render). */
  const currentId = useRef<number | null>(null);
  /** Images whose label is being sent. */
  const pending = useRef(new Set<number>());

  useEffect(() => {
    if (start >= 0 && start < total) setIndex(start);
  }, [start]); // a new ?at= from the grid

  /** Puts an item on screen: its label as the draft, the clock restarted. Stepping calls it in the
   * key's own event (one render shows the next image); the effect below covers the rest. */
  const present = (it: LabelQueueItem) => {
    setItem(it);
    itemRef.current = it;
    currentId.current = it.imageId;
    const label = ctxRef.current.labelOf(it);
    setDraft(draftOf(label));
    setStatus(pending.current.has(it.imageId) ? 'saving' : 'idle');
    shownAt.current = performance.now();
    baseSeconds.current = label?.seconds ?? 0;
  };

  // The item at `index` (from the page cache, else fetched), its label, and prefetching ahead.
  useEffect(() => {
    let live = true;
    const cached = list.get(index);
    const show = (it: LabelQueueItem | undefined) => {
      if (live && it && itemRef.current?.imageId !== it.imageId) present(it);
    };
    if (cached) show(cached);
    else void list.load(index).then(show);
    list.ensure(index, Math.min(total, index + 40));
    const imgs: HTMLImageElement[] = [];
    for (let k = 1; k <= PREFETCH_IMAGES; k++) {
      const next = list.get(index + k);
      if (!next) continue;
      const im = new Image();
      im.decoding = 'async';
      im.src = client.imageUrl('full', next.imageId);
      // decoded ahead too, so that painting it is only a copy
      im.decode().catch(() => undefined);
      imgs.push(im);
    }
    prefetched.current = imgs;
    return () => {
      live = false;
    };
  }, [index, list.key, list.version >= 0 && list.get(index) !== undefined]);

  useEffect(() => {
    const t = setInterval(() => tick((n) => n + 1), 1000);
    return () => clearInterval(t);
  }, []);

  const secondsOn = () => (itemRef.current ? baseSeconds.current + (performance.now() - shownAt.current) / 1000 : 0);

  const save = useCallback(
    (d: Draft, item?: LabelQueueItem, secondsSpent?: number) => {
      const it = item ?? itemRef.current;
      if (!it) return Promise.resolve();
      const mine = () => currentId.current === it.imageId;
      if (mine()) setStatus('saving');
      pending.current.add(it.imageId);
      const seconds = secondsSpent ?? secondsOn();
      const p = chain.current.then(() =>
        client
          .call('labels.set', {
            imageId: it.imageId,
            annotator,
            factors: FACTORS.filter((f) => d.factors.has(f)) as never,
            topFactor: d.top as never,
            justification: d.justification || null,
            oneWord: d.oneWord || null,
            seconds: Math.round(seconds * 10) / 10,
          })
          .then(
            (rec) => {
              ctxRef.current.setOverride(it.imageId, rec);
              if (mine()) setStatus('saved');
              ctxRef.current.refreshProgress();
            },
            (err) => {
              if (mine()) setStatus('error');
              notifyError(err, 'Saving the label');
            },
          ),
      );
      chain.current = p;
      void p.finally(() => pending.current.delete(it.imageId));
      return p;
    },
    [client, annotator, notifyError],
  );

  const flushText = () => {
    if (textTimer.current) {
      clearTimeout(textTimer.current);
      textTimer.current = null;
      void save(draftRef.current);
    }
  };

  const update = (d: Draft, text = false) => {
    setDraft(d);
    if (text) {
      setStatus('saving');
      if (textTimer.current) clearTimeout(textTimer.current);
      textTimer.current = setTimeout(() => {
        textTimer.current = null;
        void save(draftRef.current);
      }, 400);
    } else {
      if (textTimer.current) {
        clearTimeout(textTimer.current);
        textTimer.current = null;
      }
      void save(d);
    }
  };

  const toggle = (f: string) => {
    const d = draftRef.current;
    const factors = new Set(d.factors);
    if (factors.has(f)) factors.delete(f);
    else factors.add(f);
    update({ ...d, factors, top: d.top === f && !factors.has(f) ? null : d.top });
  };
  const setTop = (f: string) => {
    const d = draftRef.current;
    const factors = new Set(d.factors);
    const top = d.top === f ? null : f;
    if (top) factors.add(top);
    update({ ...d, factors, top });
  };

  const go = useCallback(
    (to: number) => {
      if (to < 0 || to >= total) return;
      navStart.current = performance.now();
      const it = list.get(to);
      currentId.current = it?.imageId ?? null;
      if (it) present(it);
      setIndex(to);
    },
    [total, list],
  );
  const next = () => {
    flushText();
    const it = itemRef.current;
    if (index + 1 >= total) notify('info', 'End of the queue');
    // Next confirms the label as it is: an image left without factors is labelled "none" (sent
    // once the next image is on its way, so that showing it goes first).
    if (it && !ctxRef.current.labelOf(it) && !pending.current.has(it.imageId)) {
      const d = draftRef.current;
      const seconds = secondsOn();
      pending.current.add(it.imageId);
      setTimeout(() => void save(d, it, seconds), 0);
    }
    go(index + 1);
  };
  const prev = () => {
    flushText();
    go(index - 1);
  };
  const skip = () => {
    flushText();
    go(index + 1);
  };
  const undo = async () => {
    flushText();
    await chain.current;
    try {
      const r = await client.call('labels.undo', { annotator });
      if (!r.undone) return notify('info', 'Nothing to undo');
      ctxRef.current.setOverrides(r.restored.filter((x) => x.imageId !== null).map((x) => [x.imageId!, x.label]));
      const mine = r.restored.find((x) => x.imageId === itemRef.current?.imageId);
      if (mine) setDraft(draftOf(mine.label));
      notify('info', `Undone: ${r.undone.op} (${r.undone.count} ${r.undone.count === 1 ? 'image' : 'images'})`);
      ctxRef.current.refreshProgress();
    } catch (err) {
      notifyError(err, 'Undo');
    }
  };

  const handlers = useRef({ next, prev, skip, undo, toggle, setTop });
  handlers.current = { next, prev, skip, undo, toggle, setTop };
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') {
        if (typingIn(e)) (e.target as HTMLElement).blur();
        setHelp(false);
        return;
      }
      if (typingIn(e)) return;
      const h = handlers.current;
      if ((e.ctrlKey || e.metaKey) && !e.altKey && e.code === 'KeyZ') {
        e.preventDefault();
        void h.undo();
        return;
      }
      if (e.ctrlKey || e.metaKey || e.altKey) return;
      if (e.key === '?') {
        e.preventDefault();
        setHelp((x) => !x);
        return;
      }
      const f = factorOfCode(e.code);
      if (f >= 0) {
        e.preventDefault();
        if (e.shiftKey) h.setTop(FACTORS[f]);
        else h.toggle(FACTORS[f]);
        return;
      }
      if (e.shiftKey) return;
      if (e.code === 'KeyJ' || e.key === 'ArrowRight') {
        e.preventDefault();
        h.next();
      } else if (e.code === 'KeyK' || e.key === 'ArrowLeft') {
        e.preventDefault();
        h.prev();
      } else if (e.code === 'KeyS') {
        e.preventDefault();
        h.skip();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  // Key press -> the image's load event, and -> the next animation frame after it (when it is on
  // screen); the scale test reads both.
  const onImageLoad = () => {
    const t0 = navStart.current;
    if (t0 === null) return;
    navStart.current = null;
    (window.__factorlabLabelLoad ??= []).push(performance.now() - t0);
    requestAnimationFrame(() => (window.__factorlabLabelNav ??= []).push(performance.now() - t0));
  };

  const stored = item ? ctx.labelOf(item) : null;
  return (
    <div className="label-layout" data-testid="labeller">
      <section className="label-stage card">
        {item ? (
          <img
            key={item.imageId}
            className="label-image"
            src={client.imageUrl('full', item.imageId)}
            alt={item.relPath}
            onLoad={onImageLoad}
            draggable={false}
            data-testid="label-image"
            data-image-id={item.imageId}
          />
        ) : (
          <div className="loading">Loading…</div>
        )}
        <div className="label-caption">
          <span data-testid="label-position">
            {num(index + 1)} / {num(total)}
          </span>
          <span className="mono" data-testid="label-path">
            {item?.relPath ?? ''}
          </span>
          {item?.className ? <span className="tag">{item.className}</span> : null}
        </div>
      </section>
      <aside className="label-panel card">
        <div className="label-status">
          <span className={`save-state save-${status}`} data-testid="save-state">
            {status === 'saving' ? 'Saving…' : status === 'saved' ? 'Saved ✓' : status === 'error' ? 'Not saved' : stored ? 'Stored' : 'Not labelled yet'}
          </span>
          <span className="dim" title="Time on this image (added up over visits)" data-testid="label-time">
            time {duration(secondsOn())}
          </span>
          <button type="button" className="btn tiny" onClick={() => setHelp(true)} aria-label="Keyboard shortcuts" data-testid="help-open">
            ?
          </button>
        </div>
        <div className="factor-toggles" role="group" aria-label="Factors">
          {FACTORS.map((f, i) => {
            const on = draft.factors.has(f);
            const top = draft.top === f;
            return (
              <div key={f} className={`factor-toggle${on ? ' on' : ''}${top ? ' top' : ''}`}>
                <button type="button" aria-pressed={on} onClick={() => toggle(f)} data-testid={`factor-${f}`} title={`${factorLabel(f)} (key ${FACTOR_KEYS[i].key})`}>
                  <kbd>{FACTOR_KEYS[i].key}</kbd>
                  <span>{factorLabel(f)}</span>
                </button>
                <button type="button" className="top-btn" aria-pressed={top} onClick={() => setTop(f)} title={`Top factor (Shift+${FACTOR_KEYS[i].key})`} data-testid={`top-${f}`}>
                  {top ? '★' : '☆'}
                </button>
              </div>
            );
          })}
        </div>
        <label className="field">
          <span className="field-label">Justification</span>
          <textarea rows={3} value={draft.justification} onChange={(e) => update({ ...draftRef.current, justification: e.target.value }, true)} onBlur={flushText} data-testid="label-justification" />
        </label>
        <label className="field">
          <span className="field-label">One word</span>
          <input value={draft.oneWord} onChange={(e) => update({ ...draftRef.current, oneWord: e.target.value }, true)} onBlur={flushText} data-testid="label-one-word" maxLength={200} />
        </label>
        <div className="label-nav">
          <button type="button" className="btn small" onClick={prev} disabled={index === 0} data-testid="label-prev">
            ← Prev <kbd>K</kbd>
          </button>
          <button type="button" className="btn small" onClick={skip} data-testid="label-skip">
            Skip <kbd>S</kbd>
          </button>
          <button type="button" className="btn small primary" onClick={next} data-testid="label-next">
            Next <kbd>J</kbd> →
          </button>
          <button type="button" className="btn small" onClick={() => void undo()} data-testid="label-undo">
            Undo <kbd>Ctrl+Z</kbd>
          </button>
        </div>
      </aside>
      {help ? <HelpOverlay onClose={() => setHelp(false)} /> : null}
    </div>
  );
}

export function HelpOverlay({ onClose }: { onClose: () => void }) {
  return (
    <div className="overlay" role="dialog" aria-modal="true" aria-label="Keyboard shortcuts" onClick={onClose} data-testid="help-overlay">
      <div className="card help-card" onClick={(e) => e.stopPropagation()}>
        <div className="card-title">
          Keyboard shortcuts
          <span className="card-tools">
            <button type="button" className="icon-btn" onClick={onClose} aria-label="Close">
              ×
            </button>
          </span>
        </div>
        <div className="help-body">
          <p className="dim">
            Plain keys, no modifier: browsers bind none of them. They are read by position (the US layout's key names), so they work on any keyboard layout. Shortcuts
            pause while you type in a text field (Esc leaves it).
          </p>
          <table className="table">
            <tbody>
              {FACTORS.map((f, i) => (
                <tr key={f}>
                  <td>
                    <kbd>{FACTOR_KEYS[i].key}</kbd>
                  </td>
                  <td>toggle “{factorLabel(f)}”</td>
                  <td>
                    <kbd>Shift</kbd>+<kbd>{FACTOR_KEYS[i].key}</kbd> top factor
                  </td>
                </tr>
              ))}
              <tr>
                <td>
                  <kbd>J</kbd> <kbd>→</kbd>
                </td>
                <td colSpan={2}>next image (stores the label as it is, “no factor” included)</td>
              </tr>
              <tr>
                <td>
                  <kbd>K</kbd> <kbd>←</kbd>
                </td>
                <td colSpan={2}>previous image</td>
              </tr>
              <tr>
                <td>
                  <kbd>S</kbd>
                </td>
                <td colSpan={2}>skip (next image, nothing stored)</td>
              </tr>
              <tr>
                <td>
                  <kbd>Ctrl</kbd>+<kbd>Z</kbd>
                </td>
                <td colSpan={2}>undo your last change (a bulk apply is one step)</td>
              </tr>
              <tr>
                <td>
                  <kbd>?</kbd>
                </td>
                <td colSpan={2}>this help; Esc closes it</td>
              </tr>
            </tbody>
          </table>
        </div>
      </div>
    </div>
  );
}

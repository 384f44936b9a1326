// Open-ended bug discovery (Wiles et al.): generate images from class names, classify them, describe
// the failures, cluster the descriptions, confirm each cluster by generating again and testing its
// failure rate against the class's base rate (Fisher, Benjamini-Hochberg).
// Routes: #/discovery?compare=1,2 (start form, sessions, comparison), #/discovery/<id>?alpha=0.1 (a report).
import { useCallback, useEffect, useRef, useState, type ReactNode } from 'react';
import type { DiscoveryImageRow, DiscoveryReport } from '../../../electron/contract.ts';
import { useApi, useLab } from '../lib/lab.tsx';
import { format, navigate } from '../lib/router.ts';
import { num, when } from '../lib/format.ts';
import { parseAlpha, ratePct } from '../lib/discovery-format.ts';
import { ErrorBox, Loading, PageHeader } from '../components/common.tsx';
import { StartForm } from './discovery/StartForm.tsx';
import { Sessions, settingsText } from './discovery/Sessions.tsx';
import { CompareTable } from './discovery/CompareTable.tsx';
import { progressKey, SessionProgress, STAGES, useResume } from './discovery/SessionProgress.tsx';
import { ClassRates } from './discovery/ClassRates.tsx';
import { Clusters } from './discovery/Clusters.tsx';
import { Hypotheses } from './discovery/Hypotheses.tsx';
import { ExportForm } from './discovery/ExportForm.tsx';
import { PatchHandoff } from './discovery/PatchHandoff.tsx';
import { ImageLarge } from './discovery/ImageLarge.tsx';
import './discovery/discovery.css';

export function DiscoveryView({ id, query }: { id: number | null; query: URLSearchParams }) {
  return id === null ? <SessionsPage query={query} /> : <SessionPage id={id} query={query} />;
}

function parseIds(s: string | null): number[] {
  return [...new Set((s ?? '').split(',').map(Number).filter((x) => Number.isInteger(x) && x > 0))];
}

function SessionsPage({ query }: { query: URLSearchParams }) {
  const sessions = useApi('discovery.list', {}, ['discovery', 'jobs']);
  const compare = parseIds(query.get('compare'));
  const setCompare = (ids: number[]) => navigate(format(['discovery'], { compare: ids.join(',') || null }), { replace: true });
  return (
    <div className="page disc-page">
      <PageHeader
        title="Discovery"
        sub="Generate images from class names, describe what the model gets wrong, cluster the descriptions and confirm each one by generating again: statistically confirmed, human-readable failure modes"
      />
      <Sessions state={sessions} compare={compare} onCompare={setCompare} onOpen={(sid) => navigate(format(['discovery', sid]))} />
      {compare.length >= 2 ? <CompareTable ids={compare} /> : null}
      <StartForm onStarted={(sid) => navigate(format(['discovery', sid]))} />
    </div>
  );
}

interface OpenState {
  items: DiscoveryImageRow[];
  index: number;
  title: string;
}

function SessionPage({ id, query }: { id: number; query: URLSearchParams }) {
  const { jobs } = useLab();
  const resume = useResume();
  const alphaParam = parseAlpha(query.get('alpha') ?? '');
  const report = useApi('discovery.get', alphaParam === null ? { id } : { id, alpha: alphaParam }, ['discovery']);

  // Keep showing the last report of this session while another α is fetched.
  const last = useRef<DiscoveryReport | null>(null);
  if (report.data) last.current = report.data;
  else if (last.current && last.current.id !== id) last.current = null;
  const r = report.data ?? last.current;

  // The job moves on: fetch the report again at each tenth of the way and at each new stage.
  const tick = r ? progressKey(jobs, [r]) : '';
  const { reload } = report;
  useEffect(() => {
    if (tick) reload();
  }, [tick, reload]);

  const [open, setOpen] = useState<OpenState | null>(null);
  const onOpen = useCallback((items: DiscoveryImageRow[], index: number, title: string) => setOpen({ items, index, title }), []);
  const close = useCallback(() => setOpen(null), []);
  const step = useCallback((index: number) => setOpen((o) => (o ? { ...o, index } : o)), []);

  return (
    <div className="page disc-page" data-testid="discovery-session" data-session={id}>
      <PageHeader
        title={
          <>
            <a href={format(['discovery'])} className="crumb">
              Discovery
            </a>{' '}
            / session #{id}
          </>
        }
        sub={r ? `${r.modelName} · ${settingsText(r)} · started ${when(r.createdAt)}${r.finishedAt ? `, finished ${when(r.finishedAt)}` : ''}` : undefined}
      >
        {r ? <SessionProgress session={r} onResume={() => void resume(r)} /> : null}
      </PageHeader>
      <ErrorBox error={report.error} onRetry={report.reload} testId="discovery-report-error" />
      {!r && report.loading ? <Loading what={`discovery session #${id}`} /> : null}
      {r ? <Report report={r} stale={report.data === null} tick={tick} alphaParam={alphaParam} query={query} onOpen={onOpen} paused={open !== null} /> : null}
      {open && r ? (
        <ImageLarge
          items={open.items}
          index={open.index}
          title={open.title}
          className={(c) => r.classes.find((x) => x.classIdx === c)?.name ?? `class ${c}`}
          filterRank={r.settings.filterRank}
          onIndex={step}
          onClose={close}
        />
      ) : null}
    </div>
  );
}

interface ReportProps {
  report: DiscoveryReport;
  stale: boolean;
  tick: string;
  alphaParam: number | null;
  query: URLSearchParams;
  onOpen: (items: DiscoveryImageRow[], index: number, title: string) => void;
  paused: boolean;
}

function Report({ report: r, stale, tick, alphaParam, query, onOpen, paused }: ReportProps) {
  const failures = r.classes.reduce((n, c) => n + c.failures, 0);
  const counted = r.classes.reduce((n, c) => n + c.images, 0);
  const stageAt = STAGES.indexOf(r.stage);
  return (
    <div className={stale ? 'disc-stale' : undefined} data-testid="discovery-report" data-stage={r.stage} data-alpha={r.alpha}>
      <ol className="disc-stages" aria-label="Stages">
        {STAGES.map((s, i) => (
          <li key={s} className={i < stageAt || r.stage === 'done' ? 'past' : i === stageAt ? 'current' : undefined} aria-current={i === stageAt && r.stage !== 'done' ? 'step' : undefined}>
            {s}
          </li>
        ))}
      </ol>
      {r.nothingToConfirm ? (
        <div className="notice" data-testid="discovery-nothing">
          Nothing to confirm: the model classified every counted base image correctly, so there is no failure to describe. Try more images per class (n), other classes or a lower filter rank.
        </div>
      ) : null}
      <div className="stats">
        <Stat label="base images" value={`${num(r.baseImages.generated)}${r.baseImages.generated !== r.baseImages.planned ? ` / ${num(r.baseImages.planned)}` : ''}`} />
        <Stat label="failures" value={`${num(failures)} (${ratePct(counted ? failures / counted : null)})`} testId="discovery-stat-failures" />
        <Stat label="clusters" value={num(r.clusters.length)} />
        <Stat label="hypotheses" value={num(r.hypotheses.length)} />
        <Stat label="confirmation images" value={`${num(r.confirmImages.generated)}${r.confirmImages.generated !== r.confirmImages.planned ? ` / ${num(r.confirmImages.planned)}` : ''}`} />
        <Stat label={<>confirmed at <span className="disc-greek">α</span> {r.alpha}</>} value={num(r.confirmed)} testId="discovery-stat-confirmed" tone={r.confirmed ? 'good' : undefined} />
        <AlphaField key={r.id} alpha={r.alpha} sessionAlpha={r.settings.alpha} alphaParam={alphaParam} id={r.id} query={query} />
      </div>
      <div className="disc-top">
        <ClassRates classes={r.classes} filterRank={r.settings.filterRank} n={r.settings.n} />
        {r.planted ? <Planted planted={r.planted} /> : null}
      </div>
      <Clusters sessionId={r.id} clusters={r.clusters} done={r.stage === 'done'} onOpen={onOpen} />
      <Hypotheses report={r} tick={tick} paused={paused} onOpen={onOpen} />
      <ExportForm report={r} />
      <PatchHandoff report={r} />
    </div>
  );
}

function Stat({ label, value, testId, tone }: { label: ReactNode; value: string; testId?: string; tone?: 'good' }) {
  return (
    <div className={`stat${tone ? ` ${tone}` : ''}`} data-testid={testId}>
      <div className="stat-value">{value}</div>
      <div className="stat-label">{label}</div>
    </div>
  );
}

/** α of the report: re-queries discovery.get (nothing is generated again); kept in the URL. */
function AlphaField({ alpha, sessionAlpha, alphaParam, id, query }: { alpha: number; sessionAlpha: number; alphaParam: number | null; id: number; query: URLSearchParams }) {
  const [text, setText] = useState(String(alphaParam ?? alpha));
  const value = parseAlpha(text);
  useEffect(() => {
    if (value === null || value === (alphaParam ?? sessionAlpha)) return;
    const t = setTimeout(() => {
      const next: Record<string, string | null> = Object.fromEntries(query.entries());
      next.alpha = value === sessionAlpha ? null : String(value);
      navigate(format(['discovery', id], next), { replace: true });
    }, 250);
    return () => clearTimeout(t);
  }, [value, alphaParam, sessionAlpha, id, query]);
  return (
    <label className="stat disc-alpha">
      <input
        className="stat-value"
        value={text}
        onChange={(e) => setText(e.target.value)}
        inputMode="decimal"
        aria-label="α (false discovery rate)"
        aria-invalid={value === null ? true : undefined}
        title="false discovery rate of the Benjamini-Hochberg correction: the report is recomputed, nothing is generated again"
        data-testid="discovery-report-alpha"
      />
      <span className="stat-label">
        {value === null ? (
          <span className="bad">
            0 &lt; <span className="disc-greek">α</span> &lt; 1
          </span>
        ) : (
          <>
            <span className="disc-greek">α</span> (session {sessionAlpha})
          </>
        )}
      </span>
    </label>
  );
}

function Planted({ planted }: { planted: NonNullable<DiscoveryReport['planted']> }) {
  return (
    <section className="card disc-planted" data-testid="discovery-planted">
      <div className="card-title">
        ShapeWorld's planted factors
        <span className="count dim">
          {planted.found.length} found · {planted.missed.length} missed
        </span>
      </div>
      <div className="pad">
        <div className="section-title">Found by a confirmed mode</div>
        {planted.found.length === 0 ? <div className="dim">none</div> : null}
        <ul className="disc-planted-list">
          {planted.found.map((f) => (
            <li key={f.factor} data-testid="planted-found">
              <span className="chip chip-active">{f.factor}</span>{' '}
              <span className="dim" title={f.alone ? 'a confirmed mode names this factor and no other' : 'confirmed only together with other factors: which one makes the model fail is not tested'}>
                {f.alone ? 'alone' : 'in a combination'}
              </span>{' '}
              <span className="dim wrap">{f.prompts.join(' · ')}</span>
            </li>
          ))}
        </ul>
        <div className="section-title">Missed</div>
        <div className="chips">
          {planted.missed.map((f) => (
            <span key={f} className="chip disc-missed" data-testid="planted-missed">
              {f}
            </span>
          ))}
        </div>
      </div>
    </section>
  );
}

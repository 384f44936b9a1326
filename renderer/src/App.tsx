import { useEffect, useMemo } from 'react';
import { useLab } from './lib/lab.tsx';
import { format, useRoute } from './lib/router.ts';
import { StatusBar } from './components/StatusBar.tsx';
import { Toasts } from './components/common.tsx';
import { DatasetsView } from './views/DatasetsView.tsx';
import { ModelsView } from './views/ModelsView.tsx';
import { RunsView } from './views/RunsView.tsx';
import { FailuresView } from './views/FailuresView.tsx';
import { JobsView } from './views/JobsView.tsx';
import { AttributionView } from './views/AttributionView.tsx';
import { LabelView } from './views/LabelView.tsx';
import { ReviewView } from './views/ReviewView.tsx';
import { FactorChartView } from './views/FactorChartView.tsx';
import { PatchView } from './views/PatchView.tsx';
import { FailureIouView } from './views/FailureIouView.tsx';
import { DiscoveryView } from './views/DiscoveryView.tsx';

const NAV = [
  { id: 'datasets', label: 'Datasets', icon: '▦' },
  { id: 'models', label: 'Models', icon: '◇' },
  { id: 'runs', label: 'Runs', icon: '▶' },
  { id: 'overlap', label: 'Overlap', icon: '◫' },
  { id: 'attribution', label: 'Attribution', icon: '◎' },
  { id: 'patch', label: 'Patch', icon: '✚' },
  { id: 'discovery', label: 'Discovery', icon: '✦' },
  { id: 'label', label: 'Label', icon: '✎' },
  { id: 'review', label: 'Review', icon: '⚖' },
  { id: 'factors', label: 'Factors', icon: '▥' },
  { id: 'jobs', label: 'Jobs', icon: '≡' },
] as const;

export function App() {
  const route = useRoute();
  const { jobs, info } = useLab();
  const section = route.path[0];
  const running = jobs.filter((j) => j.status === 'running' || j.status === 'queued').length;

  const view = useMemo(() => {
    const id = route.path[1] !== undefined ? Number(route.path[1]) : null;
    switch (section) {
      case 'datasets':
        return <DatasetsView datasetId={id} query={route.query} />;
      case 'models':
        return <ModelsView />;
      case 'runs':
        return id !== null && Number.isInteger(id) ? <FailuresView runId={id} query={route.query} /> : <RunsView />;
      case 'overlap':
        return <FailureIouView datasetId={id !== null && Number.isInteger(id) ? id : null} query={route.query} />;
      case 'jobs':
        return <JobsView />;
      case 'label':
        return <LabelView query={route.query} />;
      case 'review':
        return <ReviewView />;
      case 'factors':
        return <FactorChartView query={route.query} />;
      case 'attribution':
        return <AttributionView id={id !== null && Number.isInteger(id) ? id : null} />;
      case 'patch':
        return <PatchView attributionId={id !== null && Number.isInteger(id) ? id : null} query={route.query} />;
      case 'discovery':
        return <DiscoveryView id={id !== null && Number.isInteger(id) ? id : null} query={route.query} />;
      default:
        return (
          <div className="page">
            <p>
              Unknown page. <a href={format(['datasets'])}>Go to datasets</a>
            </p>
          </div>
        );
    }
  }, [section, route]);

  useEffect(() => {
    document.title = `FactorLab · ${NAV.find((n) => n.id === section)?.label ?? ''}`;
  }, [section]);

  return (
    <div className="app">
      <nav className="sidenav" aria-label="Main">
        <div className="brand">
          <span className="brand-mark">F</span>
          <span className="brand-name">FactorLab</span>
        </div>
        {NAV.map((n) => (
          <a key={n.id} href={format([n.id])} className={`nav-item${section === n.id ? ' active' : ''}`} data-testid={`nav-${n.id}`} aria-current={section === n.id ? 'page' : undefined}>
            <span className="nav-icon" aria-hidden="true">
              {n.icon}
            </span>
            <span className="nav-label">{n.label}</span>
            {n.id === 'jobs' && running ? <span className="nav-count">{running}</span> : null}
            {n.id === 'datasets' && info ? <span className="nav-count dim">{info.counts.datasets}</span> : null}
            {n.id === 'models' && info ? <span className="nav-count dim">{info.counts.models}</span> : null}
            {n.id === 'runs' && info ? <span className="nav-count dim">{info.counts.runs}</span> : null}
          </a>
        ))}
      </nav>
      <main className="main">{view}</main>
      <StatusBar />
      <Toasts />
    </div>
  );
}

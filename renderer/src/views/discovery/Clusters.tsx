// Step 3 of the loop: the failures' descriptions clustered (CLIP text space), each cluster named by its
// most central description, with its size, the classes its failures belong to and example images;
// "all" shows every member. A thumbnail opens the image large.
import { useState } from 'react';
import type { DiscoveryCluster, DiscoveryImageRow } from '../../../../electron/contract.ts';
import { useApi } from '../../lib/lab.tsx';
import { num } from '../../lib/format.ts';
import { Empty, ErrorBox } from '../../components/common.tsx';
import { DiscThumb } from './DiscThumb.tsx';

export type OpenImages = (items: DiscoveryImageRow[], index: number, title: string) => void;

export function Clusters({ sessionId, clusters, done, onOpen }: { sessionId: number; clusters: DiscoveryCluster[]; done: boolean; onOpen: OpenImages }) {
  return (
    <section className="card" data-testid="discovery-clusters">
      <div className="card-title">
        Clusters of the failures' descriptions
        <span className="count dim">{clusters.length}</span>
      </div>
      {clusters.length === 0 ? <Empty title={done ? 'No cluster: there was no failure to describe' : 'No cluster yet: the failures are clustered once they are described'} testId="discovery-clusters-empty" /> : null}
      <div className="disc-clusters">
        {clusters.map((c) => (
          <ClusterCard key={c.id} sessionId={sessionId} cluster={c} onOpen={onOpen} />
        ))}
      </div>
    </section>
  );
}

function ClusterCard({ sessionId, cluster: c, onOpen }: { sessionId: number; cluster: DiscoveryCluster; onOpen: OpenImages }) {
  const members = useApi('discovery.images', { sessionId, hypothesisId: 0, clusterId: c.id, limit: 5000 });
  const [all, setAll] = useState(false);
  const rows = members.data?.items ?? [];
  const byId = new Map(rows.map((r) => [r.id, r]));
  const examples = c.exampleImageIds.map((id) => byId.get(id) ?? null);
  const shown: (DiscoveryImageRow | { id: number })[] = all && rows.length ? rows : c.exampleImageIds.map((id, i) => examples[i] ?? { id });
  const open = (i: number) => {
    const list = all ? rows : examples.filter((x): x is DiscoveryImageRow => x !== null);
    const target = shown[i]!;
    const at = list.findIndex((r) => r.id === target.id);
    if (at >= 0) onOpen(list, at, `cluster #${c.idx}: ${c.name}`);
  };
  return (
    <article className="disc-cluster" data-testid="discovery-cluster" data-cluster={c.id} aria-label={`Cluster ${c.idx}: ${c.name}`}>
      <header className="disc-cluster-head">
        <span className="disc-cluster-name" data-testid="discovery-cluster-name">
          {c.name}
        </span>
        <span className="dim" data-testid="discovery-cluster-size">
          {num(c.members)} {c.members === 1 ? 'failure' : 'failures'}
        </span>
      </header>
      <div className="chips disc-chips">
        {c.classes.map((k) => (
          <span key={k.classIdx} className="chip" title={`${k.count} of the cluster's failures are ${k.name} images`}>
            {k.name} <span className="dim">{k.count}</span>
          </span>
        ))}
      </div>
      <ErrorBox error={members.error} onRetry={members.reload} testId="discovery-cluster-error" />
      <div className="disc-thumbs">
        {shown.map((img, i) => (
          <DiscThumb key={img.id} image={img} label={`Cluster ${c.idx} image ${i + 1}`} onOpen={() => open(i)} />
        ))}
      </div>
      {c.members > c.exampleImageIds.length ? (
        <button type="button" className="link-btn" onClick={() => setAll((v) => !v)} data-testid="discovery-cluster-all" aria-expanded={all}>
          {all ? 'examples only' : `all ${num(c.members)} failures`}
        </button>
      ) : null}
    </article>
  );
}

import { normaliseName } from '../datasets/label-space.ts';

export interface NamedClass {
  idx: number;
  name: string;
  wnid: string | null;
}

/** Maps a dataset's classes into a model's label space by WordNet id, else by name. */
export function mapClasses(datasetClasses: NamedClass[], modelLabels: { name: string; wnid?: string | null }[]) {
  const byWnid = new Map<string, number>();
  const byName = new Map<string, number>();
  modelLabels.forEach((l, i) => {
    if (l.wnid && !byWnid.has(l.wnid)) byWnid.set(l.wnid, i);
    const n = normaliseName(l.name);
    if (!byName.has(n)) byName.set(n, i);
  });
  const toModel = new Map<number, number>();
  const unmapped: string[] = [];
  for (const c of datasetClasses) {
    const m = (c.wnid ? byWnid.get(c.wnid) : undefined) ?? byName.get(normaliseName(c.name));
    if (m === undefined) unmapped.push(c.wnid ? `${c.name} (${c.wnid})` : c.name);
    else toModel.set(c.idx, m);
  }
  return { toModel, unmapped };
}

// What a discovery session found, computed from the stored images on every read (cheap, and alpha can
// change without regenerating anything). A hypothesis is tested with a one-sided Fisher exact test of
// its failure rate against its class's base rate (both over on-class images: the ones CLIP ranks as
// the prompted class within filterRank), and confirmed when its Benjamini-Hochberg adjusted p-value
// is <= alpha. A hypothesis whose images could not reach p <= alpha even if every one failed is
// reported as "too few images", without a p-value, and is left out of the correction.
import type { Db } from '../store/database.ts';
import type { DiscoveryCluster, DiscoveryComparison, DiscoveryHypothesis, DiscoveryImageRow, DiscoveryReport, Page, Params } from '../../contract.ts';
import { BadInputError } from '../errors.ts';
import { benjaminiHochberg, fisherGreater, hasPower, minAchievableP, wilson } from './statistics.ts';
import { composePrompt, parseDescription, phraseFactor } from './attribute-vocabulary.ts';
import { discoverySummary, getSessionRow, sessionContext, sessionSettings } from './discovery-sessions.ts';
import { onClassSql } from './on-class.ts';
import { shapeworldWorld } from '../debugging/vocabulary.ts';
import { IMAGENET_X_FACTORS } from '../../../native-models/imagenet-x-factors.ts';

interface Tally {
  generated: number;
  onClass: number;
  failures: number;
}

function tallies(db: Db, sessionId: number, filterRank: number, by: 'class_idx' | 'hypothesis_id', base: boolean): Map<number, Tally> {
  const on = onClassSql(filterRank);
  const rows = db
    .prepare(
      `SELECT ${by} AS k, COUNT(*) AS generated, COALESCE(SUM(${on}), 0) AS onClass, COALESCE(SUM(${on} AND pred_class != class_idx), 0) AS failures
       FROM discovery_images WHERE session_id = ? AND (hypothesis_id = 0) = ? AND png_blob IS NOT NULL GROUP BY ${by}`,
    )
    .all(sessionId, base ? 1 : 0) as { k: number; generated: number; onClass: number; failures: number }[];
  return new Map(rows.map((r) => [r.k, { generated: r.generated, onClass: r.onClass, failures: r.failures }]));
}

export function getDiscovery(db: Db, id: number, jobId: number | null, alphaOverride?: number): DiscoveryReport {
  const s = getSessionRow(db, id);
  const settings = sessionSettings(s);
  const alpha = alphaOverride ?? settings.alpha;
  const ctx = sessionContext(db, s);
  const summary = discoverySummary(db, s, jobId, ctx.modelName);
  const name = (c: number) => ctx.labels[c]?.name ?? `class ${c}`;
  const baseByClass = tallies(db, id, settings.filterRank, 'class_idx', true);
  const classes = settings.classes.map((c) => {
    const t = baseByClass.get(c) ?? { generated: 0, onClass: 0, failures: 0 };
    return { classIdx: c, name: name(c), generated: t.generated, offClass: t.generated - t.onClass, images: t.onClass, failures: t.failures, failureRate: t.onClass ? t.failures / t.onClass : null };
  });
  const clusterRows = db.prepare(`SELECT id, idx, name, members FROM discovery_clusters WHERE session_id = ? ORDER BY idx`).all(id) as { id: number; idx: number; name: string; members: string }[];
  const classOf = new Map((db.prepare(`SELECT id, class_idx FROM discovery_images WHERE session_id = ? AND hypothesis_id = 0`).all(id) as { id: number; class_idx: number }[]).map((r) => [r.id, r.class_idx]));
  const clusters: DiscoveryCluster[] = clusterRows.map((c) => {
    const members = JSON.parse(c.members) as number[];
    const count = new Map<number, number>();
    for (const m of members) count.set(classOf.get(m)!, (count.get(classOf.get(m)!) ?? 0) + 1);
    return {
      id: c.id,
      idx: c.idx,
      name: c.name,
      members: members.length,
      classes: [...count].sort((a, b) => b[1] - a[1] || a[0] - b[0]).map(([classIdx, n]) => ({ classIdx, name: name(classIdx), count: n })),
      exampleImageIds: members.slice(0, 8),
    };
  });
  const clusterName = new Map(clusterRows.map((c) => [c.id, c.name]));
  const hypRows = db.prepare(`SELECT id, cluster_id, class_idx, prompt, parent_id FROM discovery_hypotheses WHERE session_id = ? ORDER BY id`).all(id) as { id: number; cluster_id: number; class_idx: number; prompt: string; parent_id: number | null }[];
  const byHyp = tallies(db, id, settings.filterRank, 'hypothesis_id', false);
  const m = settings.m;
  const hypotheses: DiscoveryHypothesis[] = hypRows.map((h) => {
    const t = byHyp.get(h.id) ?? { generated: 0, onClass: 0, failures: 0 };
    const b = baseByClass.get(h.class_idx) ?? { generated: 0, onClass: 0, failures: 0 };
    // A refinement tests the one phrase its prompt adds to the class; a primary, its cluster's words.
    const words = h.parent_id === null ? clusterName.get(h.cluster_id)! : phraseOf(ctx.vocabulary, clusterName.get(h.cluster_id)!, h.prompt, ctx.nouns[h.class_idx]!);
    const parts = settings.describeWith === 'clip' ? parseDescription(ctx.vocabulary, words) : null;
    const factors = [...new Set((parts ?? []).flatMap((p) => departure(ctx.vocabulary, h.class_idx, p.category, p.phrase) ?? []))];
    const row: DiscoveryHypothesis = {
      id: h.id,
      parentId: h.parent_id,
      clusterId: h.cluster_id,
      clusterName: clusterName.get(h.cluster_id)!,
      classIdx: h.class_idx,
      className: name(h.class_idx),
      prompt: h.prompt,
      generated: t.generated,
      offClass: t.generated - t.onClass,
      images: t.onClass,
      failures: t.failures,
      failureRate: t.onClass ? t.failures / t.onClass : null,
      interval: t.onClass ? wilson(t.failures, t.onClass) : null,
      baseImages: b.onClass,
      baseFailures: b.failures,
      baseRate: b.onClass ? b.failures / b.onClass : null,
      pValue: null,
      qValue: null,
      status: 'pending',
      reason: null,
      factors,
    };
    if (t.generated < m) return row;
    if (!t.onClass || !b.onClass) {
      row.status = 'too-few-images';
      row.reason = !t.onClass ? `none of its ${t.generated} images shows the class (CLIP filter)` : `no base image of the class shows it (CLIP filter)`;
    } else if (!hasPower(t.onClass, b.failures, b.onClass, alpha)) {
      row.status = 'too-few-images';
      row.reason = `${t.onClass} on-class images against a base rate of ${b.failures}/${b.onClass}: even ${t.onClass} failures would give p = ${minAchievableP(t.onClass, b.failures, b.onClass).toPrecision(3)} > α ${alpha}`;
    } else {
      row.pValue = fisherGreater(t.failures, t.onClass, b.failures, b.onClass);
    }
    return row;
  });
  // Two families, each corrected on its own: the clusters' hypotheses, then the refinements (planned
  // only after the first family was decided, so they cannot change its verdicts).
  for (const family of [hypotheses.filter((h) => h.parentId === null), hypotheses.filter((h) => h.parentId !== null)]) {
    const tested = family.filter((h) => h.pValue !== null);
    const q = benjaminiHochberg(tested.map((h) => h.pValue!));
    tested.forEach((h, i) => {
      h.qValue = q[i]!;
      h.status = q[i]! <= alpha && h.failureRate! > h.baseRate! ? 'confirmed' : 'not-confirmed';
    });
  }
  const confirmed = hypotheses.filter((h) => h.status === 'confirmed');
  const done = s.stage === 'done';
  return {
    ...summary,
    alpha,
    classes,
    clusters,
    hypotheses,
    confirmed: confirmed.length,
    nothingToConfirm: done && classes.every((c) => c.failures === 0),
    planted: ctx.vocabulary.name === 'shapeworld' && settings.describeWith === 'clip' && done ? plantedModes(confirmed) : null,
  };
}

/** The phrase of a cluster's description that a refinement prompt keeps (the one whose one-phrase
 * prompt for the class is `prompt`); '' when none matches. */
function phraseOf(vocabulary: ReturnType<typeof sessionContext>['vocabulary'], description: string, prompt: string, noun: string): string {
  const part = (parseDescription(vocabulary, description) ?? []).find((p) => composePrompt(vocabulary, noun, [p]) === prompt);
  return part?.phrase ?? '';
}

/** The ImageNet-X factor a phrase stands for when it describes an image of `classIdx`, or null when,
 * in ShapeWorld, the phrase is how the class usually looks (its usual backgrounds, its usual colour):
 * ImageNet-X labels a factor only when the image departs from the class's usual look. */
function departure(vocabulary: ReturnType<typeof sessionContext>['vocabulary'], classIdx: number, category: number, phrase: string): string | null {
  const factor = phraseFactor(vocabulary, category, phrase);
  if (vocabulary.name !== 'shapeworld') return factor;
  const world = shapeworldWorld();
  const cls = world.classes[classIdx];
  if (factor === 'background') {
    const bg = world.backgrounds.find((b) => b.phrase === phrase);
    if (!bg || cls?.usualBackgrounds.includes(bg.name)) return null;
  }
  if (factor === 'color' && cls?.colorName === phrase) return null;
  return factor;
}

/** Which ShapeWorld factors the confirmed modes name (a usual background or colour names none). A
 * description is confirmed as a whole: each of its phrases' factors is credited, and `alone` says
 * whether a confirmed mode named that factor and no other. */
function plantedModes(confirmed: DiscoveryHypothesis[]): NonNullable<DiscoveryReport['planted']> {
  const found = new Map<string, Set<string>>();
  const alone = new Set<string>();
  for (const h of confirmed) {
    for (const factor of h.factors) found.set(factor, (found.get(factor) ?? new Set()).add(h.prompt));
    if (h.factors.length === 1) alone.add(h.factors[0]!);
  }
  return {
    found: IMAGENET_X_FACTORS.filter((f) => found.has(f)).map((factor) => ({ factor, prompts: [...found.get(factor)!], alone: alone.has(factor) })),
    missed: IMAGENET_X_FACTORS.filter((f) => !found.has(f)),
  };
}

export function discoveryImages(db: Db, p: Params<'discovery.images'>): Page<DiscoveryImageRow> {
  const s = getSessionRow(db, p.sessionId);
  const settings = sessionSettings(s);
  const ctx = sessionContext(db, s);
  const on = onClassSql(settings.filterRank);
  const where = [`session_id = ?`, `hypothesis_id = ?`, `png_blob IS NOT NULL`];
  const args: (number | string)[] = [p.sessionId, p.hypothesisId];
  if (p.failuresOnly) where.push(`${on} AND pred_class != class_idx`);
  if (p.clusterId !== undefined) {
    const c = db.prepare(`SELECT members FROM discovery_clusters WHERE id = ? AND session_id = ?`).get(p.clusterId, p.sessionId) as { members: string } | undefined;
    if (!c) throw new BadInputError(`cluster ${p.clusterId} is not of discovery session ${p.sessionId}`);
    where.push(`id IN (SELECT value FROM json_each(?))`);
    args.push(c.members);
  }
  const sqlWhere = where.join(' AND ');
  const total = (db.prepare(`SELECT COUNT(*) AS n FROM discovery_images WHERE ${sqlWhere}`).get(...args) as { n: number }).n;
  const rows = db
    .prepare(`SELECT id, hypothesis_id, class_idx, prompt, seed, pred_class, clip_rank, description, caption, ${on} AS on_class FROM discovery_images WHERE ${sqlWhere} ORDER BY class_idx, sample LIMIT ? OFFSET ?`)
    .all(...args, p.limit, p.offset) as { id: number; hypothesis_id: number; class_idx: number; prompt: string; seed: number; pred_class: number | null; clip_rank: number | null; description: string | null; caption: string | null; on_class: number }[];
  return {
    total,
    offset: p.offset,
    items: rows.map((r) => ({
      id: r.id,
      hypothesisId: r.hypothesis_id,
      classIdx: r.class_idx,
      prompt: r.prompt,
      seed: r.seed,
      predClass: r.pred_class,
      predName: r.pred_class === null ? null : (ctx.labels[r.pred_class]?.name ?? `class ${r.pred_class}`),
      failed: r.pred_class === null ? null : r.pred_class !== r.class_idx,
      onClass: r.clip_rank === null ? null : r.on_class === 1,
      clipRank: r.clip_rank,
      description: r.description,
      caption: r.caption,
    })),
  };
}

/** Failure modes of several sessions side by side, matched by (class, prompt). */
export function compareDiscoveries(db: Db, ids: readonly number[], jobOf: (id: number) => number | null): DiscoveryComparison {
  const reports = ids.map((id) => getDiscovery(db, id, jobOf(id)));
  const keys = new Map<string, { className: string; prompt: string }>();
  for (const r of reports) for (const h of r.hypotheses) keys.set(`${h.className}\u0000${h.prompt}`, { className: h.className, prompt: h.prompt });
  const rows = [...keys].map(([key, k]) => {
    const bySession = reports.map((r) => {
      const h = r.hypotheses.find((x) => `${x.className}\u0000${x.prompt}` === key);
      return h ? { status: h.status, failureRate: h.failureRate, qValue: h.qValue } : null;
    });
    return { ...k, bySession, confirmedIn: bySession.filter((b) => b?.status === 'confirmed').length };
  });
  rows.sort((a, b) => b.confirmedIn - a.confirmedIn || (a.className < b.className ? -1 : a.className > b.className ? 1 : a.prompt < b.prompt ? -1 : 1));
  return { sessions: reports.map((r) => ({ id: r.id, modelName: r.modelName })), rows };
}

// Review of the annotators' labels: per-factor agreement (Cohen's kappa for two annotators,
// Fleiss' kappa over the images all of them labelled, Krippendorff's alpha with missing labels),
// the images they disagree on, and per-factor error ratios of runs and imported prediction sets
// against any source (the chart).
import type { Db } from '../store/database.ts';
import type { AgreementCell, AgreementReport, AnalysisSubject, DisagreementRow, FactorChartData, Page } from '../../contract.ts';
import { IMAGENET_X_FACTORS } from '../../../native-models/imagenet-x-factors.ts';
import { cohenKappa, fleissKappa, krippendorffAlphaNominal, type Agreement } from '../analysis/agreement.ts';
import { evaluateSubject, summariseEvaluated } from '../analysis/imagenetx-report.ts';
import { getSource } from '../imagenetx/annotations.ts';
import { factorsOf, toRecord, type AnnotationRow } from './labels.ts';

const cell = (a: Agreement): AgreementCell => ({ value: a.value, items: a.items, ...(a.reason ? { reason: a.reason } : {}) });

/** Every annotator label, by file name then annotator (restricted to a dataset's images if given). */
function annotatorLabels(db: Db, datasetId: number | undefined, names?: string[]): { annotators: string[]; byFile: Map<string, Map<string, AnnotationRow>> } {
  const rows = db
    .prepare(
      `SELECT a.*, s.name AS source_name FROM annotations a JOIN annotation_sources s ON s.id = a.source_id AND s.kind = 'annotator'
       ${datasetId === undefined ? '' : 'WHERE a.file_name IN (SELECT file_name FROM images WHERE dataset_id = @datasetId)'}`,
    )
    .all(datasetId === undefined ? {} : { datasetId }) as (AnnotationRow & { source_name: string })[];
  const all = new Set<string>();
  const byFile = new Map<string, Map<string, AnnotationRow>>();
  const wanted = names ? new Set(names) : null;
  for (const r of rows) {
    const name = r.source_name.replace(/^annotator:/, '');
    if (wanted && !wanted.has(name)) continue;
    all.add(name);
    let m = byFile.get(r.file_name);
    if (!m) byFile.set(r.file_name, (m = new Map()));
    m.set(name, r);
  }
  const annotators = names ? [...new Set(names)] : [...all].sort();
  return { annotators, byFile };
}

export function agreementReport(db: Db, p: { datasetId?: number; annotators?: string[] }): AgreementReport {
  const { annotators, byFile } = annotatorLabels(db, p.datasetId, p.annotators);
  const shared = [...byFile.values()].filter((m) => m.size >= 2);
  const complete = shared.filter((m) => annotators.every((a) => m.has(a)));
  const k = annotators.length;
  const perFactor = (value: (r: AnnotationRow) => number | string) => {
    const units = shared.map((m) => annotators.map((a) => (m.has(a) ? value(m.get(a)!) : null)));
    const alpha = cell(krippendorffAlphaNominal(units));
    let cohen: AgreementCell | null = null;
    if (k === 2) cohen = cell(cohenKappa(units.map((u) => u[0]), units.map((u) => u[1])));
    let fleiss: AgreementCell | null = null;
    if (k >= 2) {
      const cats = new Map<number | string, number>();
      const rows = complete.map((m) => annotators.map((a) => value(m.get(a)!)));
      for (const r of rows) for (const v of r) if (!cats.has(v)) cats.set(v, cats.size);
      const counts = rows.map((r) => {
        const c = new Array<number>(Math.max(2, cats.size)).fill(0);
        for (const v of r) c[cats.get(v)!]++;
        return c;
      });
      fleiss = cell(fleissKappa(counts));
    }
    const agreeing = shared.filter((m) => new Set([...m.values()].map(value)).size === 1).length;
    return { cohen, fleiss, krippendorff: alpha, percentAgreement: shared.length ? agreeing / shared.length : null };
  };
  const rows: AgreementReport['rows'] = IMAGENET_X_FACTORS.map((f, i) => ({ factor: f, ...perFactor((r) => (r.factors >> i) & 1) }));
  rows.push({ factor: 'top factor', ...perFactor((r) => r.top_factor ?? '(none)') });
  return { annotators, sharedItems: shared.length, allItems: complete.length, rows };
}

/** Images on which annotators disagree (some factor or the top factor), with every label and the
 * consensus when there is one. */
export function disagreements(db: Db, p: { datasetId?: number; offset: number; limit: number }): Page<DisagreementRow> {
  const { byFile } = annotatorLabels(db, p.datasetId);
  const files: { file: string; labels: AnnotationRow[]; factors: string[]; top: boolean }[] = [];
  for (const [file, m] of byFile) {
    if (m.size < 2) continue;
    const labels = [...m.values()];
    let or = 0;
    let and = 0xffff;
    for (const l of labels) {
      or |= l.factors;
      and &= l.factors;
    }
    const diff = or & ~and;
    const top = new Set(labels.map((l) => l.top_factor ?? '')).size > 1;
    if (diff === 0 && !top) continue;
    files.push({ file, labels, factors: factorsOf(diff), top });
  }
  files.sort((a, b) => (a.labels[0].image_id ?? 0) - (b.labels[0].image_id ?? 0) || a.file.localeCompare(b.file));
  const slice = files.slice(p.offset, p.offset + p.limit);
  const img = db.prepare(
    `SELECT i.id, i.rel_path, c.name AS class_name FROM images i LEFT JOIN dataset_classes c ON c.dataset_id = i.dataset_id AND c.idx = i.class_idx
     WHERE i.file_name = ? ${p.datasetId === undefined ? '' : 'AND i.dataset_id = ?'} ORDER BY i.id DESC LIMIT 1`,
  );
  const cons = db.prepare(`SELECT a.* FROM annotations a JOIN annotation_sources s ON s.id = a.source_id AND s.kind = 'consensus' WHERE a.file_name = ? LIMIT 1`);
  return {
    total: files.length,
    offset: p.offset,
    items: slice.map((f) => {
      const i = (p.datasetId === undefined ? img.get(f.file) : img.get(f.file, p.datasetId)) as { id: number; rel_path: string; class_name: string | null } | undefined;
      const c = cons.get(f.file) as AnnotationRow | undefined;
      return {
        imageId: i?.id ?? null,
        fileName: f.file,
        relPath: i?.rel_path ?? null,
        className: i?.class_name ?? null,
        factors: f.factors,
        topFactorDiffers: f.top,
        labels: f.labels.map(toRecord).sort((a, b) => (a.annotator ?? '').localeCompare(b.annotator ?? '')),
        consensus: c ? toRecord(c) : null,
      };
    }),
  };
}

export function factorChart(db: Db, p: { runIds: number[]; predictionSetIds?: number[]; sourceId: number }): FactorChartData {
  const source = getSource(db, p.sourceId);
  const subjects: AnalysisSubject[] = [...p.runIds.map((id) => ({ kind: 'run' as const, id })), ...(p.predictionSetIds ?? []).map((id) => ({ kind: 'predictions' as const, id }))];
  const runs = subjects.map((subject) => {
    // labels made here: a run's correct is its own verdict (runLabelImages); otherwise the toolkit's way
    const e = evaluateSubject(db, { subject, sourceId: source.id });
    return { ...summariseEvaluated(e.evaluated), sourceId: source.id, sourceName: source.name, subject, runId: subject.kind === 'run' ? subject.id : null, runName: e.name };
  });
  return { sourceId: source.id, sourceName: source.name, sourceKind: source.kind, runs };
}

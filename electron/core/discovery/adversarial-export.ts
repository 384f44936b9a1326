// The confirmed failure modes as an adversarial dataset any tool can read: images/*.png, labels.csv
// (file,label: the prompted class name, FactorLab's flat-folder import format), labels.txt (the
// model's classes, one per line) and provenance.csv (prompt, seed, mode, model prediction, p / q).
// Only on-class images of confirmed hypotheses are written; files go to a temporary folder first.
import { existsSync, renameSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Db } from '../store/database.ts';
import type { BlobStore } from '../store/blob-store.ts';
import { BadInputError } from '../errors.ts';
import { makeOutputDir } from '../export/output-dir.ts';
import { getDiscovery } from './discovery-report.ts';
import { getSessionRow, sessionContext, sessionSettings } from './discovery-sessions.ts';
import { onClassSql } from './on-class.ts';

const csvField = (v: string | number) => {
  const t = String(v);
  return /[",\n\r]/.test(t) ? `"${t.replace(/"/g, '""')}"` : t;
};

export function exportAdversarialSet(db: Db, blobs: BlobStore, p: { id: number; out: string; alpha?: number }): { out: string; images: number; hypotheses: number } {
  const report = getDiscovery(db, p.id, null, p.alpha);
  if (report.stage !== 'done') throw new BadInputError(`discovery session ${p.id} is not done (stage ${report.stage}): finish it before exporting`);
  const confirmed = report.hypotheses.filter((h) => h.status === 'confirmed');
  if (!confirmed.length) throw new BadInputError(`discovery session ${p.id} confirmed no failure mode at α ${report.alpha}: nothing to export`);
  const s = getSessionRow(db, p.id);
  const ctx = sessionContext(db, s);
  const on = onClassSql(sessionSettings(s).filterRank);
  const out = resolve(p.out);
  if (existsSync(join(out, 'labels.csv'))) throw new BadInputError(`${out} already holds an exported set (labels.csv): choose an empty folder`);
  makeOutputDir(out);
  const tmp = join(out, `.partial-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(join(tmp, 'images'), { recursive: true });
  const labels = ['file,label'];
  const provenance = ['file,label,prompt,seed,mode,predicted,p_value,q_value,model'];
  const select = db.prepare(`SELECT id, class_idx, prompt, seed, pred_class, png_blob FROM discovery_images WHERE hypothesis_id = ? AND png_blob IS NOT NULL AND ${on} ORDER BY sample`);
  let images = 0;
  for (const h of confirmed) {
    for (const r of select.all(h.id) as { id: number; class_idx: number; prompt: string; seed: number; pred_class: number; png_blob: string }[]) {
      const file = `d${p.id}_h${h.id}_${r.id}.png`;
      writeFileSync(join(tmp, 'images', file), blobs.get(r.png_blob, '.png'));
      const label = ctx.labels[r.class_idx]!.name;
      labels.push([file, label].map(csvField).join(','));
      provenance.push([file, label, r.prompt, r.seed, h.clusterName, ctx.labels[r.pred_class]?.name ?? r.pred_class, h.pValue!, h.qValue!, ctx.modelName].map(csvField).join(','));
      images++;
    }
  }
  writeFileSync(join(tmp, 'labels.csv'), labels.join('\n') + '\n');
  writeFileSync(join(tmp, 'provenance.csv'), provenance.join('\n') + '\n');
  writeFileSync(join(tmp, 'labels.txt'), ctx.labels.map((l) => l.name).join('\n') + '\n');
  rmSync(join(out, 'images'), { recursive: true, force: true });
  renameSync(join(tmp, 'images'), join(out, 'images'));
  for (const f of ['provenance.csv', 'labels.txt', 'labels.csv']) renameSync(join(tmp, f), join(out, f));
  rmSync(tmp, { recursive: true, force: true });
  return { out, images, hypotheses: confirmed.length };
}

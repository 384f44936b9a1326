// The export's report.html: one self-contained page (no script, no network) with the paper's
// Table 2 for this result, a bar chart (inline SVG), the backgrounds and prompts per class, the
// counts and the provenance (model / generator / CLIP hashes, seeds, settings).
import type { AttributionDetail, DebugAccuracy, DebugResult, GenerationSetDetail } from '../../contract.ts';

const esc = (s: string | number): string => String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
const pct = (x: number): string => (Number.isFinite(x) ? `${(100 * x).toFixed(1)} %` : '–');
const signed = (x: number): string => (Number.isFinite(x) ? `${x >= 0 ? '+' : ''}${(100 * x).toFixed(1)}` : '–');

/** Grouped bars: test / seed / heldout accuracy for before, individual and random. */
export function accuracyChartSvg(rows: { label: string; acc: DebugAccuracy; color: string }[]): string {
  const groups: (keyof DebugAccuracy)[] = ['test', 'seed', 'heldout'];
  const W = 560;
  const H = 240;
  const left = 44;
  const bottom = 28;
  const top = 12;
  const plotH = H - bottom - top;
  const gw = (W - left - 10) / groups.length;
  const bw = Math.min(40, (gw - 20) / rows.length);
  const y = (v: number) => top + plotH * (1 - v);
  const parts: string[] = [];
  for (let t = 0; t <= 4; t++) {
    const v = t / 4;
    parts.push(`<line x1="${left}" x2="${W - 10}" y1="${y(v)}" y2="${y(v)}" stroke="#ddd"/><text x="${left - 6}" y="${y(v) + 4}" text-anchor="end" font-size="11">${v * 100}</text>`);
  }
  groups.forEach((g, gi) => {
    const x0 = left + gi * gw + (gw - bw * rows.length) / 2;
    rows.forEach((r, ri) => {
      const v = Math.max(0, Math.min(1, r.acc[g]));
      parts.push(`<rect x="${x0 + ri * bw}" y="${y(v)}" width="${bw - 4}" height="${top + plotH - y(v)}" fill="${r.color}"><title>${esc(r.label)} ${g}: ${pct(r.acc[g])}</title></rect>`);
    });
    parts.push(`<text x="${left + gi * gw + gw / 2}" y="${H - 8}" text-anchor="middle" font-size="12">${g}</text>`);
  });
  const legend = rows.map((r, i) => `<rect x="${left + 8 + i * 120}" y="${top}" width="10" height="10" fill="${r.color}"/><text x="${left + 22 + i * 120}" y="${top + 9}" font-size="11">${esc(r.label)}</text>`).join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="accuracy before and after debugging">${parts.join('')}${legend}</svg>`;
}

/** Accuracy (heldout solid, test dashed) of individual and random debugging against a parameter. */
export function sweepChartSvg(title: string, points: { x: number; individual: DebugAccuracy; random: DebugAccuracy | null }[]): string {
  const W = 420;
  const H = 220;
  const left = 44;
  const right = 12;
  const top = 24;
  const bottom = 32;
  const xs = points.map((p) => p.x);
  const x0 = Math.min(...xs);
  const x1 = Math.max(...xs);
  const px = (x: number) => left + (x1 === x0 ? 0.5 : (x - x0) / (x1 - x0)) * (W - left - right);
  const py = (v: number) => top + (H - top - bottom) * (1 - v);
  const line = (vals: number[], color: string, dash: boolean) =>
    `<polyline fill="none" stroke="${color}" stroke-width="2"${dash ? ' stroke-dasharray="5 3"' : ''} points="${vals.map((v, i) => `${px(points[i]!.x)},${py(v)}`).join(' ')}"/>` +
    vals.map((v, i) => `<circle cx="${px(points[i]!.x)}" cy="${py(v)}" r="3" fill="${color}"><title>${esc(title)} ${points[i]!.x}: ${pct(v)}</title></circle>`).join('');
  const parts: string[] = [`<text x="${left}" y="14" font-size="12" font-weight="600">${esc(title)}</text>`];
  for (let t = 0; t <= 4; t++) parts.push(`<line x1="${left}" x2="${W - right}" y1="${py(t / 4)}" y2="${py(t / 4)}" stroke="#eee"/><text x="${left - 6}" y="${py(t / 4) + 4}" text-anchor="end" font-size="10">${t * 25}</text>`);
  for (const p of points) parts.push(`<text x="${px(p.x)}" y="${H - 12}" text-anchor="middle" font-size="10">${p.x}</text>`);
  parts.push(line(points.map((p) => p.individual.heldout), '#1a73e8', false), line(points.map((p) => p.individual.test), '#1a73e8', true));
  if (points.every((p) => p.random)) parts.push(line(points.map((p) => p.random!.heldout), '#e8710a', false), line(points.map((p) => p.random!.test), '#e8710a', true));
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(title)}">${parts.join('')}</svg>`;
}

function sweepTable(param: string, rows: DebugResult[], x: (r: DebugResult) => number): string {
  const cells = (a: DebugAccuracy | null) => (a ? `<td>${pct(a.test)}</td><td>${pct(a.heldout)}</td>` : '<td>–</td><td>–</td>');
  return `<table><thead><tr><th>${param}</th><th>individual test</th><th>individual heldout</th><th>random test</th><th>random heldout</th><th>images</th></tr></thead><tbody>
${rows.map((r) => `<tr><td>${x(r)}</td>${cells(r.individual)}${cells(r.random)}<td>${r.generated.individual}</td></tr>`).join('\n')}
</tbody></table>`;
}

export function debugReportHtml(o: {
  sweep?: { lambda: DebugResult[]; k: DebugResult[] };
  result: DebugResult;
  attribution: AttributionDetail;
  sets: GenerationSetDetail[];
  exported: { which: 'individual' | 'random'; onnxSha256: string; check: { images: number; accuracy: number; evaluated: number; logitsMaxAbsDiff: number } };
}): string {
  const r = o.result;
  const rows: { label: string; acc: DebugAccuracy; color: string }[] = [
    { label: 'before', acc: r.before, color: '#9aa0a6' },
    { label: 'individual', acc: r.individual, color: '#1a73e8' },
    ...(r.random ? [{ label: 'random', acc: r.random, color: '#e8710a' }] : []),
  ];
  const table = `<table><thead><tr><th></th><th>test</th><th>seed</th><th>heldout</th><th>images</th></tr></thead><tbody>
${rows
  .map((row) => {
    const gain = row.label === 'before' ? null : { test: row.acc.test - r.before.test, seed: row.acc.seed - r.before.seed, heldout: row.acc.heldout - r.before.heldout };
    const n = row.label === 'individual' ? r.generated.individual : row.label === 'random' ? r.generated.random : 0;
    const cell = (k: keyof DebugAccuracy) => `<td>${pct(row.acc[k])}${gain ? ` <small>(${signed(gain[k])})</small>` : ''}</td>`;
    return `<tr><th>${row.label}</th>${cell('test')}${cell('seed')}${cell('heldout')}<td>${n}</td></tr>`;
  })
  .join('\n')}
</tbody></table>`;
  const ratio = r.random && r.gain.random && r.gain.random.heldout !== 0 ? r.gain.individual.heldout / r.gain.random.heldout : null;
  const classes = o.attribution.classes
    .filter((c) => c.backgrounds.some((b) => b.top))
    .map((c) => `<tr><td>${esc(c.name)}</td><td>${c.numSeed}</td><td>${c.numHeldout}</td><td>${c.backgrounds.filter((b) => b.top).map((b) => `${esc(b.phrase)} (${b.votes})`).join(', ')}</td></tr>`)
    .join('\n');
  const sets = o.sets
    .map((s) => `<tr><td>${s.kind}</td><td>#${s.id}</td><td>${s.generated}</td><td>${s.accepted}</td><td>${s.rejected}</td><td>${s.steps}</td><td>${s.guidance}</td><td>${s.seed}</td><td><code>${esc(s.generatorSha256.slice(0, 16))}</code></td></tr>`)
    .join('\n');
  const prompts = o.sets
    .flatMap((s) => s.prompts.map((p) => `<li>${s.kind}: “${esc(p.prompt)}” × ${p.images}</li>`))
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>FactorLab debug result #${r.id}</title>
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<style>body{font:14px system-ui,sans-serif;margin:24px;max-width:960px;color:#202124}table{border-collapse:collapse;margin:8px 0 16px}td,th{border:1px solid #dadce0;padding:4px 8px;text-align:left}small{color:#5f6368}code{font-size:12px}</style>
</head><body>
<h1>Patched head: ${esc(r.model.name)} (debug result #${r.id})</h1>
<p>Chegini &amp; Feizi's loop: the failures of run #${r.runId} (${r.counts.debugSet} images) split into seed (${r.counts.seed}) and heldout (${r.counts.heldout}); CLIP chose each class's top ${o.attribution.k} backgrounds from the seed failures; images generated for “a photo of a {class} {background}” (individual) and “a photo of a {class}” (random, the same number per class) were reviewed; only the linear head was retrained with L = L(train) + λ·L(generated), λ = ${r.settings.lambda}.</p>
<h2>Accuracy (Table 2)</h2>
${table}
<p>Heldout gain: individual ${signed(r.gain.individual.heldout)} points${r.gain.random ? `, random ${signed(r.gain.random.heldout)} points${ratio !== null ? ` (ratio ${ratio.toFixed(2)})` : ''}` : ''}.</p>
${accuracyChartSvg(rows)}
${
  o.sweep && (o.sweep.lambda.length > 1 || o.sweep.k.length > 1)
    ? `<h2>Sweeps (Figure 5)</h2>
<p>Heldout (solid) and test (dashed) accuracy; blue individual, orange random debugging. Each point retrains the head on the same generated sets.</p>
${o.sweep.lambda.length > 1 ? sweepChartSvg('λ (all backgrounds)', o.sweep.lambda.map((d) => ({ x: d.settings.lambda, individual: d.individual, random: d.random }))) + sweepTable('λ', o.sweep.lambda, (d) => d.settings.lambda) : ''}
${o.sweep.k.length > 1 ? sweepChartSvg(`k (top backgrounds per class, λ ${r.settings.lambda})`, o.sweep.k.map((d) => ({ x: d.settings.k!, individual: d.individual, random: d.random }))) + sweepTable('k', o.sweep.k, (d) => d.settings.k!) : ''}`
    : ''
}
<h2>Backgrounds per class</h2>
<table><thead><tr><th>class</th><th>seed</th><th>heldout</th><th>top backgrounds (votes)</th></tr></thead><tbody>
${classes}
</tbody></table>
<h2>Generated images</h2>
<table><thead><tr><th>set</th><th>id</th><th>generated</th><th>accepted</th><th>rejected</th><th>steps</th><th>guidance</th><th>seed</th><th>generator sha256</th></tr></thead><tbody>
${sets}
</tbody></table>
<details><summary>Prompts</summary><ul>
${prompts}
</ul></details>
<h2>Export</h2>
<p>Head: <b>${o.exported.which}</b>. Patched ONNX sha256 <code>${esc(o.exported.onnxSha256)}</code>; run on ${o.exported.check.images} test images: ${pct(o.exported.check.accuracy)} (evaluation from stored features: ${pct(o.exported.check.evaluated)}); logits = features · Wᵀ + b within ${o.exported.check.logitsMaxAbsDiff.toExponential(2)}.</p>
<h2>Provenance</h2>
<table><tbody>
<tr><th>model</th><td>${esc(r.model.dir)}<br><code>${esc(r.model.sha256)}</code></td></tr>
<tr><th>CLIP</th><td>${esc(o.attribution.clipDir)}<br><code>${esc(o.attribution.clipSha256)}</code></td></tr>
<tr><th>runs</th><td>debug #${r.runId}, train #${r.settings.trainRunId} (${r.counts.train} images), test #${r.settings.testRunId} (${r.counts.test} images)</td></tr>
<tr><th>attribution</th><td>#${r.attributionId}, k = ${o.attribution.k}, split seed ${o.attribution.seed}</td></tr>
<tr><th>training</th><td>${esc(r.optimizer.name)} (${esc(r.optimizer.backend)}), lr ${r.optimizer.lr}, momentum ${r.optimizer.momentum}, weight decay ${r.optimizer.weightDecay}, batch ${r.optimizer.batchSize}, epochs ${r.settings.epochs}, seed ${r.settings.seed}, λ ${r.settings.lambda}</td></tr>
<tr><th>computed</th><td>${esc(r.createdAt)}, ${r.seconds.toFixed(1)} s</td></tr>
</tbody></table>
</body></html>
`;
}

// `factorlab attribute`: the text report of a background attribution (electron/cli.ts registers the
// command; the work is in core/debugging/attribution.ts).
import type { AttributionDetail } from '../contract.ts';
import type { BackgroundAgreement } from '../core/debugging/attribution.ts';

export const attributeSummary = 'attribute the failures of a run to uncommon backgrounds with CLIP (seed/heldout split, top-k backgrounds per class, Domino-style descriptions)';

export const attributeUsage =
  'factorlab attribute --run ID --clip PACKAGE_DIR [--k 3] [--seed 0] [--lab DIR] [--json]\n' +
  '  The run\'s failures are split 50/50 per class into seed and heldout (seeded); CLIP picks each seed failure\'s most likely\n' +
  '  background from its class\'s list; per class the top k by votes are shown. Stored; the same command again reuses or resumes it.';

export function parseIntOption(value: unknown, name: string, lo: number, hi: number): number {
  const s = String(value);
  const n = Number(s);
  if (!/^\d+$/.test(s) || !Number.isSafeInteger(n) || n < lo || n > hi) throw new RangeError(`--${name} must be an integer from ${lo} to ${hi}, got ${s}`);
  return n;
}

export function attributionText(d: AttributionDetail, agreement: BackgroundAgreement | null): string {
  const lines = [
    `attribution ${d.id} of run ${d.runId} (${d.vocabulary} backgrounds, k ${d.k}, seed ${d.seed}): ${d.status}${d.message ? ` (${d.message})` : ''}`,
    `  debug set: ${d.numFailures} failures -> seed ${d.numSeed}, heldout ${d.numHeldout}; ${d.numAttributed} seed failures attributed`,
  ];
  if (d.nothingToAttribute) {
    lines.push('  nothing to attribute: the run has no failures');
    return lines.join('\n');
  }
  for (const c of d.classes) {
    const voted = c.backgrounds.filter((b) => b.votes > 0);
    lines.push(`  ${c.name} (class ${c.classIdx}): seed ${c.numSeed}, heldout ${c.numHeldout}`);
    for (const b of voted) lines.push(`    ${b.top ? '*' : ' '} ${b.phrase.padEnd(28)} ${String(b.votes).padStart(4)} votes  (mean similarity ${b.meanSimilarity?.toFixed(3) ?? 'n/a'})`);
    if (!voted.length) lines.push('      (no seed failure attributed)');
    if (c.domino.length) lines.push(`      Domino: ${c.domino.slice(0, 5).map((x) => `${x.phrase} (${x.score.toFixed(3)})`).join(', ')}`);
  }
  lines.push('  * = top k: the prompts "a photo of a {class} {background}" for generation');
  if (agreement) {
    const pct = (x: number | null) => (x === null ? 'n/a' : `${(100 * x).toFixed(1)}%`);
    lines.push(
      `  ground truth (ShapeWorld scenes.jsonl): chosen = true background for ${agreement.matched}/${agreement.seedFailures} seed failures (${pct(agreement.share)}); chance ${pct(agreement.chance)}`,
      `    among the ${agreement.inList} whose true background is in their class's list: ${agreement.matchedInList} (${pct(agreement.shareInList)})`,
    );
  }
  return lines.join('\n');
}

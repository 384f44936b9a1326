import { describe, expect, it } from 'vitest';
import type { FactorChartData } from '../../../electron/contract.ts';
import { IMAGENET_X_FACTORS } from '../../../native-models/imagenet-x-factors.ts';
import { errorRatiosFromCounts } from '../../../electron/core/analysis/error-ratios.ts';
import { factorCsv, factorSvg, niceMax } from '../../../renderer/src/lib/factor-export.ts';

function chart(runs: number): FactorChartData {
  const per = IMAGENET_X_FACTORS.map((_, i) => ({ count: i === 15 ? 0 : 10 + i, correct: i === 15 ? 0 : 5 }));
  const r = errorRatiosFromCounts(200, 150, per);
  return {
    sourceId: 3,
    sourceName: 'consensus',
    sourceKind: 'consensus',
    runs: Array.from({ length: runs }, (_, k) => ({
      runId: k + 1,
      subject: { kind: 'run' as const, id: k + 1 },
      sourceId: 3,
      sourceName: 'consensus',
      runName: `#${k + 1} model, "quoted"`,
      errorType: 'class' as const,
      predictions: 200,
      unannotated: 0,
      prototypesDropped: 0,
      ...r,
    })),
  };
}

describe('error-ratio exports', () => {
  it('CSV: a header and one line per run and factor, quoted where needed', () => {
    const csv = factorCsv(chart(2)).trimEnd().split('\n');
    expect(csv[0]).toBe('run,source,factor,images,correct,accuracy,error_ratio,error_ratio_lo,error_ratio_hi,average_accuracy');
    expect(csv).toHaveLength(1 + 2 * 16);
    expect(csv[1].startsWith('"#1 model, ""quoted""",consensus,pose,10,5,0.5,2,')).toBe(true);
    // a factor with no image: empty cells, not NaN
    expect(csv[16]).toMatch(/,multiple_objects,0,0,,,,,0\.75$/);
  });

  it('SVG: a bar and a whisker per defined ratio, a label per factor, the ratio-1 line', () => {
    const svg = factorSvg(chart(2));
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.match(/<rect [^>]*fill="#[0-9a-f]+"><title>/g)).toHaveLength(2 * 15);
    expect(svg.match(/<path d="M/g)).toHaveLength(2 * 15);
    for (const f of IMAGENET_X_FACTORS) expect(svg).toContain(`>${f.replace(/_/g, ' ')}</text>`);
    expect(svg).toContain('stroke-dasharray');
    expect(svg).toContain('&quot;quoted&quot;');
    expect(niceMax(chart(1))).toBeGreaterThanOrEqual(2);
  });
});

describe('the labelling UI factor list', () => {
  it('is the ImageNet-X list, in order, with 16 distinct hotkeys', async () => {
    // factors.ts touches the DOM only inside functions: importing it under Node is fine
    const { FACTORS, FACTOR_KEYS, factorOfCode } = await import('../../../renderer/src/lib/factors.ts');
    expect(FACTORS).toEqual(IMAGENET_X_FACTORS);
    expect(new Set(FACTOR_KEYS.map((k) => k.code)).size).toBe(16);
    expect(factorOfCode('Digit0')).toBe(9);
    expect(factorOfCode('KeyY')).toBe(15);
    // the navigation keys are not factor keys
    for (const code of ['KeyJ', 'KeyK', 'KeyS', 'KeyZ']) expect(factorOfCode(code)).toBe(-1);
  });
});

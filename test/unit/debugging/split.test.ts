import { describe, expect, it } from 'vitest';
import { splitDebugSet, type SplitItem } from '../../../electron/core/debugging/split.ts';

function items(perClass: number[]): SplitItem[] {
  const out: SplitItem[] = [];
  let id = 1;
  perClass.forEach((n, c) => {
    for (let i = 0; i < n; i++) out.push({ imageId: id++ * 7, classIdx: c });
  });
  return out;
}

describe('seed/heldout split of the debug set', () => {
  const data = items([10, 11, 1, 0, 37, 2, 5]);

  it('is 50/50 within ±1 in every class', () => {
    const split = splitDebugSet(data, 0);
    expect(split.size).toBe(data.length);
    for (let c = 0; c < 7; c++) {
      const ids = data.filter((d) => d.classIdx === c).map((d) => d.imageId);
      const seed = ids.filter((id) => split.get(id) === 'seed').length;
      expect(Math.abs(seed - (ids.length - seed))).toBeLessThanOrEqual(1);
      if (ids.length % 2 === 0) expect(seed).toBe(ids.length / 2);
    }
  });

  it('is deterministic: same items and seed give the same split, whatever the input order', () => {
    const a = splitDebugSet(data, 5);
    const b = splitDebugSet([...data].reverse(), 5);
    expect([...b].sort((x, y) => x[0] - y[0])).toEqual([...a].sort((x, y) => x[0] - y[0]));
  });

  it('changes with the seed', () => {
    const a = splitDebugSet(data, 0);
    const b = splitDebugSet(data, 1);
    expect(data.some((d) => a.get(d.imageId) !== b.get(d.imageId))).toBe(true);
  });

  it("a class's split does not depend on the other classes", () => {
    const only = data.filter((d) => d.classIdx === 4);
    const a = splitDebugSet(data, 3);
    const b = splitDebugSet(only, 3);
    for (const d of only) expect(b.get(d.imageId)).toBe(a.get(d.imageId));
  });

  it('an empty debug set gives an empty split', () => {
    expect(splitDebugSet([], 0).size).toBe(0);
  });
});

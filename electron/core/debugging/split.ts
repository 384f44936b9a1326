// The debug set (a run's failures) split into seed and heldout: 50/50 within each true class,
// seeded and deterministic (the same failures and seed give the same split on any machine).
import { mulberry32 } from '../../../native-models/mulberry32.ts';

export interface SplitItem {
  imageId: number;
  classIdx: number;
}

export type SplitPart = 'seed' | 'heldout';

function classSeed(seed: number, classIdx: number): number {
  // One stream per class, so that a class's split does not depend on the other classes.
  let h = (Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(classIdx + 1, 0x85ebca6b)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d) >>> 0;
  return (h ^ (h >>> 15)) >>> 0;
}

/** Per class: items in image-id order, shuffled (Fisher-Yates, seeded), the first half to seed. An
 * odd class gives its extra item to seed or heldout by a coin flip of its own stream. */
export function splitDebugSet(items: readonly SplitItem[], seed: number): Map<number, SplitPart> {
  const byClass = new Map<number, number[]>();
  for (const it of items) {
    const list = byClass.get(it.classIdx) ?? [];
    list.push(it.imageId);
    byClass.set(it.classIdx, list);
  }
  const out = new Map<number, SplitPart>();
  for (const [classIdx, ids] of [...byClass].sort((a, b) => a[0] - b[0])) {
    ids.sort((a, b) => a - b);
    const rnd = mulberry32(classSeed(seed, classIdx));
    for (let i = ids.length - 1; i > 0; i--) {
      const j = Math.floor(rnd() * (i + 1));
      [ids[i], ids[j]] = [ids[j]!, ids[i]!];
    }
    const nSeed = ids.length % 2 === 0 ? ids.length / 2 : (ids.length - 1) / 2 + (rnd() < 0.5 ? 1 : 0);
    ids.forEach((id, i) => out.set(id, i < nSeed ? 'seed' : 'heldout'));
  }
  return out;
}

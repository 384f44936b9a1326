// The toolkit's metaclass rule (imagenet_x/utils.py to_metaclass): metaclass(c) is the `name` of row c
// of imagenet_1k_classes_to_100_metaclasses.csv when it is one of the toolkit's 17 METACLASSES and
// "other" otherwise (the integer `metaclass` column is not what the toolkit compares).
import { BadInputError } from '../errors.ts';
import type { MetaclassRow } from '../imagenetx/format.ts';

/** The toolkit's METACLASSES (imagenet_x/utils.py); any other mapping name counts as "other". */
export const TOOLKIT_METACLASSES = [
  'device',
  'dog',
  'commodity',
  'bird',
  'structure',
  'covering',
  'wheeled_vehicle',
  'food',
  'equipment',
  'insect',
  'vehicle',
  'furniture',
  'primate',
  'vessel',
  'snake',
  'natural_object',
  'other',
] as const;

export function metaclassLookup(rows: MetaclassRow[]): (classIdx: number) => string {
  const known = new Set<string>(TOOLKIT_METACLASSES);
  const byIdx = new Map(rows.map((r) => [r.classIdx, known.has(r.name) ? r.name : 'other']));
  return (c) => {
    const m = byIdx.get(c);
    if (m === undefined) throw new BadInputError(`class ${c} is not in the metaclass mapping (${rows.length} classes)`);
    return m;
  };
}

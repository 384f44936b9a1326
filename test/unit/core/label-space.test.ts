import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LabelSpace } from '../../../electron/core/datasets/label-space.ts';
import { parseCsv } from '../../../electron/core/datasets/parse-csv.ts';
import { tempDir } from '../../helpers/temp-dir.ts';

describe('label space', () => {
  it('resolves ImageNet classes by index, WordNet id and name', () => {
    const s = LabelSpace.imagenet();
    expect(s.classes).toHaveLength(1000);
    expect(s.resolve('0')).toBe(0);
    expect(s.resolve('n01440764')).toBe(0);
    expect(s.resolve('tench')).toBe(0);
    expect(s.resolve('Goldfish')).toBe(1);
    expect(s.resolve('999')).toBe(999);
    expect(s.resolve('1000')).toBeNull();
    expect(s.resolve('no such class')).toBeNull();
  });

  it('maps wnid folders to ImageNet order and other folders to sorted order (ImageFolder)', () => {
    expect(LabelSpace.fromFolderNames(['n01443537', 'n01440764']).classes).toHaveLength(1000);
    const s = LabelSpace.fromFolderNames(['zebra', 'apple', 'mango']);
    expect(s.classes.map((c) => c.name)).toEqual(['apple', 'mango', 'zebra']);
    expect(s.resolveName('mango')).toBe(1);
    // A folder called "2" is a name, not an index.
    expect(LabelSpace.fromFolderNames(['10', '2']).resolveName('2')).toBe(1);
  });

  it('reads labels files as lines, `wnid name` lines and JSON arrays', () => {
    const d = tempDir();
    try {
      writeFileSync(join(d.path, 'a.txt'), 'cat\ndog\n\n');
      writeFileSync(join(d.path, 'gap.txt'), 'cat\n\ndog\n');
      writeFileSync(join(d.path, 'b.txt'), 'n01440764 tench, Tinca tinca\nn01443537 goldfish\n');
      writeFileSync(join(d.path, 'c.json'), '["x", "y", "z"]');
      writeFileSync(join(d.path, 'bad.json'), '[1, 2]');
      expect(LabelSpace.fromFile(join(d.path, 'a.txt')).classes.map((c) => c.name)).toEqual(['cat', 'dog']);
      const b = LabelSpace.fromFile(join(d.path, 'b.txt'));
      expect(b.classes[0]).toEqual({ idx: 0, name: 'tench, Tinca tinca', wnid: 'n01440764' });
      expect(b.resolve('n01443537')).toBe(1);
      expect(LabelSpace.fromFile(join(d.path, 'c.json')).resolve('z')).toBe(2);
      expect(() => LabelSpace.fromFile(join(d.path, 'bad.json'))).toThrow(/bad\.json: entry 0 is not a class name/);
      expect(() => LabelSpace.fromFile(join(d.path, 'missing.txt'))).toThrow(/missing\.txt: labels file not found/);
      // A blank line between classes would shift every index after it: refused, as model add does.
      expect(() => LabelSpace.fromFile(join(d.path, 'gap.txt'))).toThrow(/gap\.txt: line 2 is empty/);
    } finally {
      d.remove();
    }
  });
});

describe('CSV parser', () => {
  it('handles quotes, doubled quotes, CRLF and blank lines with line numbers', () => {
    const rows = parseCsv('file,label\r\n"a,b.jpg",cat\n\n"say ""hi"".png",7\nlast.jpg,dog');
    expect(rows).toEqual([
      { line: 1, cells: ['file', 'label'] },
      { line: 2, cells: ['a,b.jpg', 'cat'] },
      { line: 4, cells: ['say "hi".png', '7'] },
      { line: 5, cells: ['last.jpg', 'dog'] },
    ]);
  });
});

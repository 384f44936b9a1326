import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, symlinkSync, writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openDatabase, type Db } from '../../electron/core/store/database.ts';
import { importDataset, DatasetInputError } from '../../electron/core/datasets/import-dataset.ts';
import { datasetDetail, datasetImages } from '../../electron/core/datasets/dataset-queries.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { writeImage } from '../helpers/make-images.ts';

let tmp: { path: string; remove(): void };
let db: Db;
const noProgress = () => {};

beforeAll(async () => {
  tmp = tempDir();
  db = openDatabase(join(tmp.path, 'lab.db'));
  const root = join(tmp.path, 'folder');
  await writeImage(join(root, 'cat', 'a.jpg'));
  await writeImage(join(root, 'cat', 'b.JPEG'), { rgb: [10, 20, 30] });
  await writeImage(join(root, 'dog', 'c.png'), { format: 'png' });
  await writeImage(join(root, 'dog', 'nested', 'd.jpg'), { rgb: [90, 90, 90] });
  writeFileSync(join(root, 'dog', 'empty.jpg'), Buffer.alloc(0));
  writeFileSync(join(root, 'dog', 'notes.txt'), 'hello');
  writeFileSync(join(root, 'dog', 'fake.jpg'), 'this is not a jpeg');
  writeFileSync(join(root, 'dog', 'old.bmp'), Buffer.from('BM'));
  writeFileSync(join(root, 'stray.jpg'), readFileSync(join(root, 'cat', 'a.jpg')));
  symlinkSync(root, join(root, 'dog', 'loop'));
  // flat folder + CSV
  const flat = join(tmp.path, 'flat');
  await writeImage(join(flat, '1.jpg'));
  await writeImage(join(flat, '2.jpg'), { rgb: [1, 2, 3] });
  await writeImage(join(flat, '3.jpg'), { rgb: [4, 5, 6] });
  await writeImage(join(flat, '4.jpg'), { rgb: [7, 8, 9] });
  await writeImage(join(flat, 'unlisted.jpg'), { rgb: [7, 8, 19] });
  writeFileSync(join(tmp.path, 'labels.csv'), 'file,label\n1.jpg,0\n2.jpg,n01443537\n3.jpg,Goldfish\n4.jpg,unicorn\nmissing.jpg,tench\n');
});

afterAll(() => {
  db.close();
  tmp.remove();
});

describe('import an ImageNet-style folder', () => {
  it('imports images per class and reports every skipped file with its reason', async () => {
    const r = await importDataset(db, { root: join(tmp.path, 'folder') }, noProgress);
    expect(r.reused).toBe(false);
    expect(r.numImages).toBe(4);
    const d = datasetDetail(db, r.datasetId);
    expect(d.classes.map((c) => [c.name, c.count])).toEqual([
      ['cat', 2],
      ['dog', 2],
    ]);
    const reasons = Object.fromEntries(d.skipped.map((s) => [s.path, s.reason]));
    expect(reasons['dog/empty.jpg']).toMatch(/empty file/);
    expect(reasons['dog/notes.txt']).toMatch(/not an image \(extension \.txt\)/);
    expect(reasons['dog/fake.jpg']).toMatch(/not a readable image/);
    expect(reasons['dog/old.bmp']).toMatch(/not supported/);
    expect(reasons['stray.jpg']).toMatch(/not inside a class folder/);
    expect(reasons['dog/loop']).toMatch(/already visited/);
    const imgs = datasetImages(db, { datasetId: r.datasetId, offset: 0, limit: 10 });
    expect(imgs.total).toBe(4);
    expect(imgs.items.find((i) => i.relPath === join('dog', 'nested', 'd.jpg'))).toMatchObject({ className: 'dog', width: 48, height: 40 });
  });

  it('reuses the stored dataset when nothing changed', async () => {
    const a = await importDataset(db, { root: join(tmp.path, 'folder') }, noProgress);
    expect(a.reused).toBe(true);
  });

  it('refuses a folder without class folders and a missing folder, naming them', async () => {
    await expect(importDataset(db, { root: join(tmp.path, 'flat') }, noProgress)).rejects.toThrow(/no class folders found/);
    await expect(importDataset(db, { root: join(tmp.path, 'nope') }, noProgress)).rejects.toThrow(DatasetInputError);
    await expect(importDataset(db, { root: join(tmp.path, 'nope') }, noProgress)).rejects.toThrow(/nope/);
  });
});

describe('import a flat folder with a CSV file,label', () => {
  it('resolves index, wnid and name labels and skips unknown classes and missing files', async () => {
    const r = await importDataset(db, { root: join(tmp.path, 'flat'), csv: join(tmp.path, 'labels.csv') }, noProgress);
    const d = datasetDetail(db, r.datasetId);
    expect(d.source).toBe('csv');
    expect(d.numImages).toBe(3);
    expect(d.classes.map((c) => [c.name, c.wnid, c.count])).toEqual([
      ['tench', 'n01440764', 1],
      ['goldfish', 'n01443537', 2],
    ]);
    const reasons = Object.fromEntries(d.skipped.map((s) => [s.path, s.reason]));
    expect(reasons['4.jpg']).toMatch(/unknown class "unicorn" \(CSV line 5\)/);
    expect(reasons['missing.jpg']).toMatch(/listed in the CSV \(line 6\) but not found/);
    expect(reasons['unlisted.jpg']).toMatch(/not listed in the CSV/);
  });
});

it('reports progress while inspecting images', async () => {
  const d = tempDir();
  try {
    for (let i = 0; i < 5; i++) await writeImage(join(d.path, 'k', `${i}.jpg`), { rgb: [i * 10, 0, 0] });
    mkdirSync(join(d.path, 'empty-class'));
    const seen: [number, number][] = [];
    await importDataset(db, { root: d.path }, (done, total) => seen.push([done, total]));
    expect(seen.at(-1)).toEqual([5, 5]);
  } finally {
    d.remove();
  }
});

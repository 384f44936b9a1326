import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { tempDir } from '../helpers/temp-dir.ts';
import { makeTinyDataset, TINY_MODEL } from '../helpers/tiny-dataset.ts';
import { factorlab, factorlabAsync } from '../helpers/cli.ts';

let tmp: { path: string; remove(): void };
let data: { root: string; labels: string };

beforeAll(async () => {
  tmp = tempDir();
  data = await makeTinyDataset(tmp.path, 6);
});
afterAll(() => tmp.remove());

describe('factorlab CLI', () => {
  it('lists the commands and gives each one --help', () => {
    const r = factorlab(['--help']);
    expect(r.code).toBe(0);
    for (const cmd of ['import', 'model add', 'run', 'classify', 'serve']) expect(r.stdout).toContain(cmd);
    const sub = factorlab(['model', 'add', '--help']);
    expect(sub.code).toBe(0);
    expect(sub.stdout).toContain('--onnx FILE');
  });

  it('exits non-zero with a clear message on bad input', () => {
    const unknown = factorlab(['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown command "frobnicate"');
    const badFlag = factorlab(['run', '--modle', 'x']);
    expect(badFlag.code).toBe(2);
    expect(badFlag.stderr).toMatch(/--modle/);
    const lab = join(tmp.path, 'lab-bad');
    const missing = factorlab(['import', '--lab', lab, '--root', join(tmp.path, 'does-not-exist')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('does-not-exist');
    const notOnnx = factorlab(['model', 'add', '--lab', lab, '--onnx', new URL('../fixtures/models/not_onnx.onnx', import.meta.url).pathname]);
    expect(notOnnx.code).not.toBe(0);
    expect(notOnnx.stderr).toMatch(/not_onnx\.onnx/);
    const noModel = factorlab(['run', '--lab', lab, '--model', 'nope', '--dataset', '1']);
    expect(noModel.code).toBe(2);
    expect(noModel.stderr).toContain('no model "nope"');
  });

  it('imports, adds a model, runs it and reuses the stored run (JSON output)', () => {
    const lab = join(tmp.path, 'lab-json');
    const imp = factorlab(['import', '--lab', lab, '--root', data.root, '--json']);
    expect(imp.code, imp.stderr).toBe(0);
    expect(JSON.parse(imp.stdout)).toMatchObject({ numImages: 30, numClasses: 5, numSkipped: 0 });
    const add = factorlab(['model', 'add', '--lab', lab, '--kind', 'classifier', '--onnx', TINY_MODEL, '--preset', 'none', '--labels', data.labels, '--json']);
    expect(add.code, add.stderr).toBe(0);
    expect(JSON.parse(add.stdout)).toMatchObject({ numClasses: 5, preset: 'none' });
    const run = factorlab(['run', '--lab', lab, '--model', '1', '--dataset', 'tiny', '--json']);
    expect(run.code, run.stderr).toBe(0);
    const out = JSON.parse(run.stdout);
    expect(out).toMatchObject({ numDone: 30, numScored: 30, reused: false, provider: 'cpu' });
    expect(out.providerInfo.active).toBe('cpu');
    const again = JSON.parse(factorlab(['run', '--lab', lab, '--model', '1', '--dataset', '1', '--json']).stdout);
    expect(again.reused).toBe(true);
    expect(again.numCorrect).toBe(out.numCorrect);
  });

  it('classifies a folder with a bare ONNX file and prints top-5 as JSON', () => {
    const r = factorlab(['classify', '--model', TINY_MODEL, '--images', data.root, '--preset', 'none', '--labels', data.labels, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.provider).toBe('cpu');
    expect(out.images).toHaveLength(30);
    const first = out.images[0];
    expect(first.top5).toHaveLength(5);
    expect(first.top5.reduce((a: number, t: { prob: number }) => a + t.prob, 0)).toBeCloseTo(1, 5);
  });
});

describe('factorlab clip tokenize', () => {
  it("prints the reference tokenizer's ids for golden strings", () => {
    const golden = JSON.parse(readFileSync(new URL('../fixtures/clip/tokenizer_golden_sample.json', import.meta.url), 'utf8'));
    const cases = (golden.cases as { text: string; ids: number[] }[]).slice(0, 5);
    expect(cases.length).toBe(5);
    const r = factorlab(['clip', 'tokenize', ...cases.flatMap((c) => ['--text', c.text]), '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).ids).toEqual(cases.map((c) => c.ids));
  });
});

describe('a process killed mid-run', () => {
  it('resumes from the last stored batch, losing nothing already stored', async () => {
    const big = await makeTinyDataset(join(tmp.path, 'big'), 160, 320);
    const lab = join(tmp.path, 'lab-kill');
    expect(factorlab(['import', '--lab', lab, '--root', big.root]).code).toBe(0);
    expect(factorlab(['model', 'add', '--lab', lab, '--onnx', TINY_MODEL, '--preset', 'none', '--labels', big.labels]).code).toBe(0);
    const child = factorlabAsync(['run', '--lab', lab, '--model', '1', '--dataset', '1']);
    const exited = new Promise((r) => child.on('exit', r));
    const db = new Database(join(lab, 'lab.db'), { readonly: true, fileMustExist: true });
    let storedAtKill = 0;
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      try {
        storedAtKill = (db.prepare(`SELECT COUNT(*) AS n FROM run_batches`).get() as { n: number }).n;
      } catch {
        storedAtKill = 0;
      }
      if (storedAtKill >= 2) break;
      await new Promise((r) => setTimeout(r, 5));
    }
    child.kill('SIGKILL');
    await exited;
    storedAtKill = (db.prepare(`SELECT COUNT(*) AS n FROM run_batches`).get() as { n: number }).n;
    const before = db.prepare(`SELECT image_id, top5 FROM predictions ORDER BY image_id`).all() as { image_id: number; top5: string }[];
    expect(storedAtKill).toBeGreaterThanOrEqual(2);
    expect(storedAtKill).toBeLessThan(25); // 800 images / 32 per batch: it was killed before the end
    expect(before.length).toBe(storedAtKill * 32);

    const jobs = JSON.parse(factorlab(['jobs', '--lab', lab, '--json']).stdout);
    expect(jobs[0].status).toBe('interrupted');
    const resumed = factorlab(['run', '--lab', lab, '--model', '1', '--dataset', '1', '--json']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(JSON.parse(resumed.stdout)).toMatchObject({ numDone: 800, status: 'done' });
    const after = db.prepare(`SELECT image_id, top5 FROM predictions ORDER BY image_id`).all() as { image_id: number; top5: string }[];
    expect(after).toHaveLength(800);
    const afterById = new Map(after.map((r) => [r.image_id, r.top5]));
    for (const r of before) expect(afterById.get(r.image_id)).toBe(r.top5);
    db.close();
  });
});

// `factorlab attribute` on a small ShapeWorld demo lab: the CLI end to end, the ground-truth check
// (the chosen background is the image's true one far above chance), bad input, edits with undo, a
// cancelled job resumed, and a run with no failures.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { tempDir } from '../helpers/temp-dir.ts';
import { factorlab } from '../helpers/cli.ts';
import { Lab } from '../../electron/core/lab.ts';
import { createHandlers } from '../../electron/core/api/handlers.ts';
import { dispatch } from '../../electron/core/api/dispatch.ts';
import { splitDebugSet } from '../../electron/core/debugging/split.ts';
import { shapeworldPackageDir } from '../../native-models/shapeworld/packages.ts';
import type { AttributionDetail } from '../../electron/contract.ts';

const CLIP = shapeworldPackageDir('clip');
let tmp: ReturnType<typeof tempDir>;
let lab: string;
let runId: number;

beforeAll(() => {
  tmp = tempDir('factorlab-attr-');
  lab = join(tmp.path, 'lab');
  const r = factorlab(['demo', '--lab', lab, '--images', '600', '--generate', '0', '--json']);
  expect(r.code, r.stderr).toBe(0);
  runId = JSON.parse(r.stdout).run.id;
}, 120_000);

afterAll(() => tmp?.remove());

describe('factorlab attribute (ShapeWorld)', () => {
  it('attributes the seed failures; the chosen background is the true one far above chance', () => {
    const r = factorlab(['attribute', '--lab', lab, '--run', String(runId), '--clip', CLIP, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as AttributionDetail & { groundTruth: { seedFailures: number; share: number; chance: number }; reused: boolean };
    expect(out.status).toBe('done');
    expect(out.vocabulary).toBe('shapeworld');
    expect(out.numSeed + out.numHeldout).toBe(out.numFailures);
    expect(Math.abs(out.numSeed - out.numHeldout)).toBeLessThanOrEqual(out.classes.length);
    expect(out.numAttributed).toBe(out.numSeed);
    for (const c of out.classes) {
      expect(Math.abs(c.numSeed - c.numHeldout)).toBeLessThanOrEqual(1);
      const top = c.backgrounds.filter((b) => b.top);
      expect(top.length).toBeLessThanOrEqual(3);
      expect(c.backgrounds.reduce((s, b) => s + b.votes, 0)).toBe(c.numSeed);
      for (const b of top) expect(b.imageIds).toHaveLength(b.votes);
      if (c.numSeed) expect(c.domino.length).toBeGreaterThan(0);
    }
    // Measured 99 % (541/546 on the 2000-image demo; chance 15 %): the threshold is far below.
    expect(out.groundTruth.seedFailures).toBe(out.numSeed);
    expect(out.groundTruth.share).toBeGreaterThan(0.6);
    expect(out.groundTruth.chance).toBeLessThan(0.2);
    const text = factorlab(['attribute', '--lab', lab, '--run', String(runId), '--clip', CLIP]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/seed \d+, heldout \d+/);
    expect(text.stdout).toMatch(/votes/);
    expect(text.stdout).toContain('Domino:');
    expect(text.stdout).toContain('ground truth');
  });

  it('refuses k larger than a class list, naming the class', () => {
    const r = factorlab(['attribute', '--lab', lab, '--run', String(runId), '--clip', CLIP, '--k', '7']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/k = 7 is larger than the background list of class "(house|tree|cup|umbrella)" \(\d\): it has 6 backgrounds/);
  });

  it('refuses a path that is not a CLIP package', () => {
    const r = factorlab(['attribute', '--lab', lab, '--run', String(runId), '--clip', shapeworldPackageDir('classifier')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/is not a CLIP package: its manifest.json has kind "classifier"/);
    const none = factorlab(['attribute', '--lab', lab, '--run', String(runId), '--clip', join(tmp.path, 'nowhere')]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/does not exist/);
    const usage = factorlab(['attribute', '--lab', lab, '--run', String(runId), '--clip', CLIP, '--k', 'three']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('--k must be an integer');
  });
});

describe('attribution through the API', () => {
  async function call(l: Lab, method: string, params: unknown): Promise<any> {
    const r = await dispatch(createHandlers(l), method, params);
    if (!r.ok) throw new Error(`${r.error.code}: ${r.error.message}`);
    return r.result;
  }

  it('stores the seeded split; edits (rename, merge, drop, add) and undo them', async () => {
    const l = Lab.open(lab);
    try {
      const [s] = (await call(l, 'attribution.list', { runId })) as AttributionDetail[];
      const stored = l.db.prepare(`SELECT image_id, class_idx, part FROM attribution_split WHERE session_id = ?`).all(s!.id) as { image_id: number; class_idx: number; part: string }[];
      const again = splitDebugSet(stored.map((r) => ({ imageId: r.image_id, classIdx: r.class_idx })), 0);
      for (const r of stored) expect(again.get(r.image_id)).toBe(r.part);

      const before = (await call(l, 'attribution.get', { id: s!.id })) as AttributionDetail;
      const cls = before.classes.find((c) => c.backgrounds.filter((b) => b.votes > 0).length >= 3)!;
      const [a, b, c] = cls.backgrounds.filter((x) => x.votes > 0);
      const votes = (d: AttributionDetail, phrase: string) => d.classes.find((x) => x.classIdx === cls.classIdx)!.backgrounds.find((x) => x.phrase === phrase)?.votes;

      let d = (await call(l, 'attribution.editBackgrounds', { id: s!.id, classIdx: cls.classIdx, op: 'rename', background: a!.phrase, to: 'in the renamed place' })) as AttributionDetail;
      expect(votes(d, 'in the renamed place')).toBe(a!.votes);
      d = await call(l, 'attribution.editBackgrounds', { id: s!.id, classIdx: cls.classIdx, op: 'merge', backgrounds: [b!.phrase], into: 'in the renamed place' });
      expect(votes(d, 'in the renamed place')).toBe(a!.votes + b!.votes);
      expect(d.classes.find((x) => x.classIdx === cls.classIdx)!.backgrounds.find((x) => x.phrase === 'in the renamed place')!.mergedFrom).toEqual([b!.phrase]);
      d = await call(l, 'attribution.editBackgrounds', { id: s!.id, classIdx: cls.classIdx, op: 'drop', background: c!.phrase });
      const after = d.classes.find((x) => x.classIdx === cls.classIdx)!;
      expect(after.backgrounds.some((x) => x.phrase === c!.phrase)).toBe(false);
      // The dropped one's voters voted again among the rest: no seed failure is lost.
      expect(after.backgrounds.reduce((t, x) => t + x.votes, 0)).toBe(cls.numSeed);
      d = await call(l, 'attribution.editBackgrounds', { id: s!.id, classIdx: cls.classIdx, op: 'add', phrase: 'in outer space' });
      expect(d.classes.find((x) => x.classIdx === cls.classIdx)!.backgrounds.some((x) => x.phrase === 'in outer space' && x.origin === 'added')).toBe(true);
      expect(d.edits).toHaveLength(4);
      await expect(call(l, 'attribution.editBackgrounds', { id: s!.id, classIdx: cls.classIdx, op: 'add', phrase: 'In Space!' })).rejects.toThrow(/bad_input: .*lower-case/);
      await expect(call(l, 'attribution.editBackgrounds', { id: s!.id, classIdx: cls.classIdx, op: 'drop', background: 'on the moon' })).rejects.toThrow(/bad_input: class "\w+" has no background "on the moon"/);

      for (let i = 0; i < 4; i++) d = await call(l, 'attribution.undo', { id: s!.id });
      expect(d.edits).toHaveLength(0);
      const restored = d.classes.find((x) => x.classIdx === cls.classIdx)!;
      expect(restored.backgrounds.map((x) => [x.phrase, x.votes])).toEqual(cls.backgrounds.map((x) => [x.phrase, x.votes]));
      await expect(call(l, 'attribution.undo', { id: s!.id })).rejects.toThrow(/no edit to undo/);
    } finally {
      l.close();
    }
  });

  it('a cancelled attribution keeps what it stored and resumes from there', async () => {
    const l = Lab.open(lab);
    try {
      const started = await call(l, 'attribution.start', { runId, clip: CLIP, k: 2, seed: 1 });
      expect(started.jobId).not.toBeNull();
      const off = (job: { id: number; done: number; status: string }) => {
        if (job.id === started.jobId && job.status === 'running' && job.done > 0) l.jobs.cancel(job.id);
      };
      l.jobs.on('job', off);
      const job = await l.jobs.wait(started.jobId);
      l.jobs.off('job', off);
      expect(job.status).toBe('cancelled');
      const partial = (l.db.prepare(`SELECT COUNT(*) AS n FROM attribution_images WHERE session_id = ?`).get(started.id) as { n: number }).n;
      expect(partial).toBeGreaterThan(0);
      const again = await call(l, 'attribution.start', { runId, clip: CLIP, k: 2, seed: 1 });
      expect(again.id).toBe(started.id);
      expect(again.reused).toBe(true);
      const done = await l.jobs.wait(again.jobId);
      expect(done.status).toBe('done');
      expect(done.message ?? '').toBeDefined();
      const d = (await call(l, 'attribution.get', { id: started.id })) as AttributionDetail;
      expect(d.status).toBe('done');
      expect(d.numAttributed).toBe(d.numSeed);
    } finally {
      l.close();
    }
  });

  it("a lab's own list for a class overrides the shipped one (and is used by a new attribution)", async () => {
    const l = Lab.open(lab);
    try {
      const shipped = await call(l, 'backgrounds.classList', { runId, classIdx: 0 });
      expect(shipped).toMatchObject({ className: 'star', vocabulary: 'shapeworld', overridden: false });
      expect(shipped.phrases).not.toContain('under a night sky');
      await expect(call(l, 'backgrounds.setClassList', { runId, classIdx: 0, phrases: ['on grass', 'On Sand'] })).rejects.toThrow(/bad_input/);
      const own = await call(l, 'backgrounds.setClassList', { runId, classIdx: 0, phrases: ['on grass', 'on sand'] });
      expect(own).toMatchObject({ overridden: true, phrases: ['on grass', 'on sand'] });
      await expect(call(l, 'attribution.start', { runId, clip: CLIP, k: 3, seed: 9 })).rejects.toThrow(/class "star" \(0\): it has 2 backgrounds/);
      const reset = await call(l, 'backgrounds.setClassList', { runId, classIdx: 0, phrases: null });
      expect(reset).toEqual(shipped);
    } finally {
      l.close();
    }
  });

  it('a run with no failures: nothing to attribute, not an error', async () => {
    const l = Lab.open(lab);
    try {
      l.db.prepare(`UPDATE predictions SET correct = 1, pred_class = true_class WHERE run_id = ?`).run(runId);
      const r = await call(l, 'attribution.start', { runId, clip: CLIP, k: 1, seed: 0 });
      expect(r).toMatchObject({ jobId: null, nothingToAttribute: true });
      const d = (await call(l, 'attribution.get', { id: r.id })) as AttributionDetail;
      expect(d).toMatchObject({ status: 'done', numFailures: 0, nothingToAttribute: true, classes: [] });
      expect(d.message).toMatch(/nothing to attribute/);
    } finally {
      l.close();
    }
    const cli = factorlab(['attribute', '--lab', lab, '--run', String(runId), '--clip', CLIP, '--k', '1']);
    expect(cli.code, cli.stderr).toBe(0);
    expect(cli.stdout).toContain('nothing to attribute');
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { openDatabase } from '../../../electron/core/store/database.ts';
import { spawn } from 'node:child_process';
import { hostname } from 'node:os';
import { JobQueue, ownerIsGone } from '../../../electron/core/jobs/job-queue.ts';
import { ProgressRate } from '../../../electron/core/jobs/progress-rate.ts';
import { formatJobLine } from '../../../electron/core/jobs/format-progress.ts';
import { tempDir } from '../../helpers/temp-dir.ts';

const dirs: { remove(): void }[] = [];
afterEach(() => dirs.splice(0).forEach((d) => d.remove()));

function setup() {
  const d = tempDir();
  dirs.push(d);
  const file = join(d.path, 'lab.db');
  return { file, db: openDatabase(file) };
}

describe('job queue', () => {
  it('runs jobs in order, persists progress and the result', async () => {
    const { db } = setup();
    const q = new JobQueue(db);
    const order: number[] = [];
    q.register<{ n: number }>('count', async (ctx) => {
      for (let i = 1; i <= ctx.params.n; i++) {
        ctx.progress(i, ctx.params.n);
        await new Promise((r) => setTimeout(r, 1));
      }
      order.push(ctx.params.n);
      return `n:${ctx.params.n}`;
    });
    const a = q.submit('count', 'a', { n: 3 });
    const b = q.submit('count', 'b', { n: 2 });
    const [ra, rb] = await Promise.all([q.wait(a.id), q.wait(b.id)]);
    expect(order).toEqual([3, 2]);
    expect(ra).toMatchObject({ status: 'done', done: 3, total: 3, resultRef: 'n:3' });
    expect(rb.status).toBe('done');
    db.close();
  });

  it('cancels a running job and records a failure with its message', async () => {
    const { db } = setup();
    const q = new JobQueue(db);
    q.register('forever', async (ctx) => {
      for (let i = 0; ; i++) {
        ctx.progress(i, 1_000_000);
        await new Promise((r) => setTimeout(r, 2));
      }
    });
    q.register('boom', async () => {
      throw new Error('disk full while writing blobs/ab/cd.f32');
    });
    const job = q.submit('forever', 'forever', {});
    setTimeout(() => q.cancel(job.id), 30);
    expect((await q.wait(job.id)).status).toBe('cancelled');
    const bad = q.submit('boom', 'boom', {});
    const r = await q.wait(bad.id);
    expect(r.status).toBe('failed');
    expect(r.error).toContain('disk full');
    db.close();
  });

  it('marks jobs cut off by a crash as interrupted and resumes them', async () => {
    const { file, db } = setup();
    db.prepare(`INSERT INTO jobs (kind, title, params, status, done, total) VALUES ('count', 't', '{"n":2}', 'running', 1, 2)`).run();
    db.close();
    const db2 = openDatabase(file);
    const q = new JobQueue(db2);
    q.register<{ n: number }>('count', async (ctx) => {
      ctx.progress(ctx.params.n, ctx.params.n);
      return 'ok';
    });
    const [job] = q.list();
    expect(job.status).toBe('interrupted');
    q.resume(job.id);
    expect((await q.wait(job.id)).status).toBe('done');
    db2.close();
  });
});

describe('progress rate and ETA', () => {
  it('computes the rate over the window and the time left', () => {
    const r = new ProgressRate(10_000);
    expect(r.rate()).toBeNull();
    r.add(0, 0);
    r.add(50, 1000);
    r.add(100, 2000);
    expect(r.rate()).toBeCloseTo(50, 6);
    expect(r.eta(100, 400)).toBeCloseTo(6, 6);
    const line = formatJobLine({ id: 1, kind: 'run', title: 'Run x', status: 'running', done: 100, total: 400, rate: 50, etaSeconds: 6, message: null, error: null, resultRef: null, createdAt: '', updatedAt: '' });
    expect(line).toContain('100/400');
    expect(line).toContain('50.0/s');
    expect(line).toContain('ETA 6s');
  });

  it('leaves the jobs of another live process alone and marks those of a dead one', async () => {
    const { file, db } = setup();
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], { stdio: 'ignore' });
    try {
      const alive = `${hostname()}:${child.pid}:t1`;
      const dead = `${hostname()}:2147483646:t2`;
      const insert = db.prepare(`INSERT INTO jobs (kind, title, params, status, owner) VALUES ('count', ?, '{}', 'running', ?)`);
      insert.run('alive', alive);
      insert.run('dead', dead);
      insert.run('legacy', null);
      db.close();
      const db2 = openDatabase(file);
      const q = new JobQueue(db2);
      const status = Object.fromEntries(q.list().map((j) => [j.title, j.status]));
      expect(status).toEqual({ alive: 'running', dead: 'interrupted', legacy: 'interrupted' });
      db2.close();
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('a lab opened twice in one process keeps the first queue\'s running job; once that queue is disposed it counts as gone', async () => {
    const { file, db } = setup();
    const q1 = new JobQueue(db);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    q1.register('wait', async () => {
      await gate;
      return 'ok';
    });
    const job = q1.submit('wait', 'w', {});
    await new Promise((r) => setTimeout(r, 20));
    const q2 = new JobQueue(openDatabase(file));
    expect(q2.get(job.id).status).toBe('running');
    release();
    expect((await q1.wait(job.id)).status).toBe('done');
    q1.dispose();
    const row = db.prepare(`SELECT owner, updated_at FROM jobs WHERE id = ?`).get(job.id) as { owner: string; updated_at: string };
    expect(ownerIsGone(row.owner, row.updated_at)).toBe(true);
    expect(ownerIsGone(`some-other-host:1:x`, new Date().toISOString())).toBe(false);
    expect(ownerIsGone(`some-other-host:1:x`, new Date(Date.now() - 11 * 60 * 1000).toISOString())).toBe(true);
    db.close();
  });
});

import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Db } from '../store/database.ts';
import type { JobInfo, JobStatus } from '../../contract.ts';
import { ProgressRate } from './progress-rate.ts';

export class JobCancelledError extends Error {
  constructor() {
    super('cancelled');
  }
}

export interface JobContext<P> {
  readonly jobId: number;
  readonly params: P;
  readonly signal: AbortSignal;
  /** Reports progress; throws JobCancelledError once the job was cancelled. */
  progress(done: number, total: number, message?: string): void;
  throwIfCancelled(): void;
}

/** A job kind's work. Returns a reference to what it produced (e.g. `run:12`). Must be resumable:
 * run again with the same params after a crash, it continues from what is stored. */
export type JobHandler<P> = (ctx: JobContext<P>) => Promise<string | null>;

interface JobRow {
  id: number;
  kind: string;
  title: string;
  params: string;
  status: JobStatus;
  done: number;
  total: number;
  message: string | null;
  error: string | null;
  result_ref: string | null;
  owner: string | null;
  created_at: string;
  updated_at: string;
}

interface Live {
  controller: AbortController;
  rate: ProgressRate;
  lastPersist: number;
}

const PERSIST_EVERY_MS = 500;
/** A job owned by a process on another machine (a lab on a shared drive) counts as alive while it
 * was updated this recently. */
const FOREIGN_STALE_MS = 10 * 60 * 1000;

/** Queues alive in this process, by owner token: a lab opened twice in one process must not mark
 * the other instance's jobs as interrupted. */
const liveOwners = new Set<string>();

/** True when the process that queued or ran a job is gone: no owner (older rows), a dead pid on
 * this host, a closed queue of this process, or no update for a while from another host. */
export function ownerIsGone(owner: string | null, updatedAt: string, now = Date.now()): boolean {
  if (!owner) return true;
  const parts = owner.split(':');
  if (parts.length < 3) return true;
  const token = parts.pop()!;
  const pid = Number(parts.pop());
  const host = parts.join(':');
  if (host !== hostname()) return now - Date.parse(updatedAt.endsWith('Z') ? updatedAt : `${updatedAt}Z`) > FOREIGN_STALE_MS;
  if (!Number.isInteger(pid) || pid <= 0) return true;
  if (pid === process.pid) return !liveOwners.has(`${pid}:${token}`);
  try {
    process.kill(pid, 0);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code !== 'EPERM';
  }
}

/** Persistent, serial job queue: one job runs at a time (they compete for the same cores or GPU).
 * Each job records the process that owns it. Jobs found `queued` or `running` when a lab opens
 * whose owner is gone were cut off by a crash: they are marked `interrupted`. Jobs of another live
 * process (a CLI command next to `factorlab serve`) are left to it. */
export class JobQueue extends EventEmitter<{ job: [JobInfo] }> {
  private readonly owner = `${hostname()}:${process.pid}:${randomUUID()}`;
  private readonly db: Db;
  private readonly handlers = new Map<string, JobHandler<any>>();
  private readonly live = new Map<number, Live>();
  private chain: Promise<void> = Promise.resolve();
  private readonly waiters = new Map<number, { resolve: (j: JobInfo) => void }[]>();

  constructor(db: Db) {
    super();
    this.db = db;
    liveOwners.add(this.owner.split(':').slice(-2).join(':'));
    const active = db.prepare(`SELECT id, owner, updated_at FROM jobs WHERE status IN ('running', 'queued')`).all() as { id: number; owner: string | null; updated_at: string }[];
    const mark = db.prepare(`UPDATE jobs SET status = 'interrupted', message = 'the process stopped while this job ran; resume to continue from what was stored', updated_at = strftime('%Y-%m-%dT%H:%M:%fZ','now') WHERE id = ? AND status IN ('running', 'queued')`);
    for (const j of active) if (ownerIsGone(j.owner, j.updated_at)) mark.run(j.id);
  }

  /** This queue's jobs no longer count as alive (the lab is closing). */
  dispose(): void {
    liveOwners.delete(this.owner.split(':').slice(-2).join(':'));
  }

  register<P>(kind: string, handler: JobHandler<P>): void {
    this.handlers.set(kind, handler);
  }

  submit<P>(kind: string, title: string, params: P): JobInfo {
    if (!this.handlers.has(kind)) throw new Error(`unknown job kind: ${kind}`);
    const info = this.db
      .prepare(`INSERT INTO jobs (kind, title, params, status, owner) VALUES (?, ?, ?, 'queued', ?) RETURNING id`)
      .get(kind, title, JSON.stringify(params), this.owner) as { id: number };
    this.schedule(info.id);
    return this.get(info.id);
  }

  resume(jobId: number): JobInfo {
    const job = this.get(jobId);
    if (!['interrupted', 'failed', 'cancelled'].includes(job.status)) return job;
    this.update(jobId, { status: 'queued', error: null, message: null, owner: this.owner });
    this.schedule(jobId);
    return this.get(jobId);
  }

  cancel(jobId: number): JobInfo {
    const job = this.get(jobId);
    const live = this.live.get(jobId);
    if (live) live.controller.abort();
    else if (job.status === 'queued') this.update(jobId, { status: 'cancelled', message: 'cancelled before it started' });
    return this.get(jobId);
  }

  get(jobId: number): JobInfo {
    const row = this.db.prepare(`SELECT * FROM jobs WHERE id = ?`).get(jobId) as JobRow | undefined;
    if (!row) throw new JobNotFoundError(jobId);
    return this.toInfo(row);
  }

  /** A queued or running job of this kind whose params match, if any. */
  findActive<P>(kind: string, match: (params: P) => boolean): JobInfo | null {
    const rows = this.db.prepare(`SELECT * FROM jobs WHERE kind = ? AND status IN ('queued', 'running') ORDER BY id`).all(kind) as JobRow[];
    const row = rows.find((r) => match(JSON.parse(r.params) as P));
    return row ? this.toInfo(row) : null;
  }

  list(limit = 50): JobInfo[] {
    const rows = this.db.prepare(`SELECT * FROM jobs ORDER BY id DESC LIMIT ?`).all(limit) as JobRow[];
    return rows.map((r) => this.toInfo(r));
  }

  /** Resolves when the job reaches done, failed or cancelled. */
  wait(jobId: number): Promise<JobInfo> {
    const job = this.get(jobId);
    if (['done', 'failed', 'cancelled', 'interrupted'].includes(job.status) && !this.isPending(jobId)) return Promise.resolve(job);
    return new Promise((resolve) => {
      const list = this.waiters.get(jobId) ?? [];
      list.push({ resolve });
      this.waiters.set(jobId, list);
    });
  }

  /** Waits for every scheduled job to finish. */
  async drain(): Promise<void> {
    let current: Promise<void>;
    do {
      current = this.chain;
      await current;
    } while (current !== this.chain);
  }

  private pending = new Set<number>();

  private isPending(jobId: number): boolean {
    return this.pending.has(jobId);
  }

  private schedule(jobId: number): void {
    this.pending.add(jobId);
    this.chain = this.chain.then(() => this.execute(jobId)).catch(() => undefined);
    this.emit('job', this.get(jobId));
  }

  private async execute(jobId: number): Promise<void> {
    const row = this.db.prepare(`SELECT * FROM jobs WHERE id = ?`).get(jobId) as JobRow;
    try {
      if (row.status !== 'queued') return;
      const handler = this.handlers.get(row.kind)!;
      const live: Live = { controller: new AbortController(), rate: new ProgressRate(), lastPersist: 0 };
      this.live.set(jobId, live);
      this.update(jobId, { status: 'running', owner: this.owner });
      const ctx: JobContext<unknown> = {
        jobId,
        params: JSON.parse(row.params),
        signal: live.controller.signal,
        throwIfCancelled: () => {
          if (live.controller.signal.aborted) throw new JobCancelledError();
        },
        progress: (done, total, message) => {
          if (live.controller.signal.aborted) throw new JobCancelledError();
          live.rate.add(done);
          const now = Date.now();
          // Counts are throttled; a new message (a phase change) is stored at once.
          if (now - live.lastPersist >= PERSIST_EVERY_MS || done === total || message !== undefined) {
            live.lastPersist = now;
            this.update(jobId, { done, total, ...(message !== undefined ? { message } : {}) });
          }
        },
      };
      try {
        const ref = await handler(ctx);
        this.update(jobId, { status: 'done', result_ref: ref, error: null });
      } catch (err) {
        if (err instanceof JobCancelledError || live.controller.signal.aborted) {
          this.update(jobId, { status: 'cancelled', message: 'cancelled; what was stored is kept, resume to continue' });
        } else {
          this.update(jobId, { status: 'failed', error: err instanceof Error ? err.message : String(err) });
        }
      }
    } finally {
      this.live.delete(jobId);
      this.pending.delete(jobId);
      const info = this.get(jobId);
      this.emit('job', info);
      for (const w of this.waiters.get(jobId) ?? []) w.resolve(info);
      this.waiters.delete(jobId);
    }
  }

  private update(jobId: number, fields: Partial<Pick<JobRow, 'status' | 'done' | 'total' | 'message' | 'error' | 'result_ref' | 'owner'>>): void {
    const keys = Object.keys(fields) as (keyof typeof fields)[];
    const sets = keys.map((k) => `${k} = @${k}`).join(', ');
    this.db.prepare(`UPDATE jobs SET ${sets}, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ','now') WHERE id = @id`).run({ ...fields, id: jobId });
    this.emit('job', this.get(jobId));
  }

  private toInfo(row: JobRow): JobInfo {
    const live = this.live.get(row.id);
    return {
      id: row.id,
      kind: row.kind,
      title: row.title,
      status: row.status,
      done: row.done,
      total: row.total,
      rate: live ? live.rate.rate() : null,
      etaSeconds: live ? live.rate.eta(row.done, row.total) : null,
      message: row.message,
      error: row.error,
      resultRef: row.result_ref,
      createdAt: row.created_at,
      updatedAt: row.updated_at,
    };
  }
}

export class JobNotFoundError extends Error {
  constructor(jobId: number) {
    super(`no job with id ${jobId}`);
  }
}

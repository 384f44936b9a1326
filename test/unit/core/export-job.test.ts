// debug.export is a job (kind 'export'): bad input is refused before anything is queued, and what a
// job wrote is read back by its id with debug.exported (unknown jobs: not found).
import { afterEach, expect, it } from 'vitest';
import { join } from 'node:path';
import { Lab } from '../../../electron/core/lab.ts';
import { createHandlers } from '../../../electron/core/api/handlers.ts';
import { dispatch } from '../../../electron/core/api/dispatch.ts';
import { tempDir } from '../../helpers/temp-dir.ts';

let tmp: ReturnType<typeof tempDir> | undefined;
let lab: Lab | undefined;
afterEach(() => {
  lab?.close();
  tmp?.remove();
});

it('refuses an unknown result without queueing a job, and an unknown export job', async () => {
  tmp = tempDir('factorlab-export-job-');
  lab = Lab.open(join(tmp.path, 'lab'));
  const handlers = createHandlers(lab);
  const r = await dispatch(handlers, 'debug.export', { id: 42, out: join(tmp.path, 'out') });
  expect(r).toMatchObject({ ok: false, error: { code: 'not_found' } });
  expect(lab.jobs.list()).toEqual([]);
  const e = await dispatch(handlers, 'debug.exported', { jobId: 7 });
  expect(e).toMatchObject({ ok: false, error: { code: 'not_found' } });
});

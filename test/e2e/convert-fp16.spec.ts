// The Models view's "Convert to fp16…": on its own lab (the ShapeWorld classifier and a small
// ShapeWorld dataset added over the API), the form starts a 'convert-fp16' job checked on the
// dataset's images, shows the report (file, sizes, nodes, relative error per output, top-1 changes)
// and the converted model appears in the list; a non-empty output folder shows the job's error.
import { expect, test } from '@playwright/test';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/temp-dir.ts';
import { generateSplit } from '../../native-models/shapeworld/index.ts';
import { shapeworldPackageDir } from '../../native-models/shapeworld/packages.ts';
import { callApi, startServer, stopServer } from './serve.ts';

let url = '';
let server: ChildProcess | undefined;
let tmp: ReturnType<typeof tempDir> | undefined;
let datasetId = 0;

const api = <T>(method: string, params: unknown): Promise<T> => callApi<T>(url, method, params);

async function waitJob(jobId: number): Promise<{ status: string; resultRef: string | null }> {
  for (;;) {
    const job = (await api<{ id: number; status: string; resultRef: string | null }[]>('jobs.list', { limit: 100 })).find((j) => j.id === jobId)!;
    if (!['queued', 'running'].includes(job.status)) return job;
    await new Promise((r) => setTimeout(r, 200));
  }
}

test.beforeAll(async () => {
  test.setTimeout(120_000);
  tmp = tempDir('factorlab-e2e-fp16-');
  const images = join(tmp.path, 'sw-test');
  await generateSplit({ outDir: images, split: 'test', count: 24, seed: 3 });
  const started = await startServer(join(tmp.path, 'lab'), join(process.cwd(), 'test-results', 'e2e-fp16-server.log'));
  server = started.child;
  url = started.url;
  const imp = await api<{ jobId: number }>('datasets.import', { root: images, name: 'sw-check', split: 'test' });
  datasetId = Number((await waitJob(imp.jobId)).resultRef!.split(':')[1]);
  await api('models.add', { onnx: shapeworldPackageDir('classifier') });
});

test.afterAll(async () => {
  if (server) await stopServer(server);
  if (tmp && !process.env.FACTORLAB_E2E_KEEP) tmp.remove();
});

test('converts a classifier to fp16 from the Models view: progress, report, the new model in the list', async ({ page }) => {
  const out = join(tmp!.path, 'converted', 'classifier-fp16');
  await page.goto(`${url}#/models`);
  await expect(page.getByTestId('model-row')).toHaveCount(1);
  await page.getByTestId('convert-fp16-open').first().click();
  const form = page.getByTestId('convert-fp16-form');
  await form.getByTestId('convert-fp16-out').fill(out);
  await form.getByTestId('convert-fp16-dataset').selectOption(String(datasetId));
  await form.getByTestId('convert-fp16-submit').click();

  const report = form.getByTestId('convert-fp16-report');
  await expect(report).toBeVisible({ timeout: 60_000 });
  await expect(form.getByTestId('convert-fp16-done')).toContainText(out);
  await expect(form.getByTestId('convert-fp16-done')).toContainText('16 images from');
  await expect(form.getByTestId('convert-fp16-top1')).toHaveText('0');
  const row = form.getByTestId('convert-fp16-file');
  await expect(row).toHaveCount(1);
  await expect(row).toContainText('model.onnx');
  await expect(row).toContainText('→');
  await expect(row).toContainText('%');
  await expect(page.getByTestId('model-row')).toHaveCount(2);
  await expect(page.getByTestId('model-row').nth(1)).toContainText('(fp16)');
  expect(existsSync(join(out, 'fp16-conversion.json'))).toBe(true);
  await page.screenshot({ path: 'test-results/screenshots/models-convert-fp16.png', fullPage: true });
});

test('a non-empty output folder: the job fails and the form shows why', async ({ page }) => {
  const out = join(tmp!.path, 'occupied');
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'keep.txt'), 'mine');
  await page.goto(`${url}#/models`);
  await page.getByTestId('convert-fp16-open').first().click();
  const form = page.getByTestId('convert-fp16-form');
  await form.getByTestId('convert-fp16-out').fill(out);
  await form.getByTestId('convert-fp16-submit').click();
  await expect(form.getByTestId('convert-fp16-job')).toHaveAttribute('data-status', 'failed', { timeout: 60_000 });
  await expect(form.getByTestId('convert-fp16-job-error')).toContainText(`${out}: the output folder is not empty`);
  await expect(form.getByTestId('convert-fp16-report')).toHaveCount(0);
});

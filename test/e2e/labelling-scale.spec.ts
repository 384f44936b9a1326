// Labelling at scale, against a real `factorlab serve` of its own on the 50,000-failure lab of
// scale-lab.ts: the failures queue of the seeded run (50,000 images, ordering stored once, pages
// read by (queue, position) range), stepped through with J at a brisk human pace at the start and
// in the middle of the queue. The page records the time from the key press to the next image's load
// event and to the first animation frame after it (on screen); the latter's median must be < 50 ms.
import { expect, test } from '@playwright/test';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { tempDir } from '../helpers/temp-dir.ts';
import { makeScaleLab, type ScaleLab } from './scale-lab.ts';
import { startServer, stopServer } from './serve.ts';

const TOTAL = 50_000;
const STEPS = 40;

let lab: ScaleLab;
let url = '';
let server: ChildProcess | undefined;
let tmp: ReturnType<typeof tempDir> | undefined;

test.beforeAll(async () => {
  tmp = tempDir('factorlab-e2e-label-scale-');
  lab = await makeScaleLab(tmp.path, TOTAL);
  const started = await startServer(lab.labDir, join(process.cwd(), 'test-results', 'e2e-label-scale-server.log'));
  server = started.child;
  url = started.url;
});

test.afterAll(async () => {
  if (server) await stopServer(server);
  if (tmp && !process.env.FACTORLAB_E2E_KEEP) tmp.remove();
});

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};

test('steps through a 50,000-image queue with the next image in < 50 ms', async ({ page }) => {
  test.setTimeout(240_000);
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.addInitScript(() => (globalThis as unknown as { localStorage: { setItem(k: string, v: string): void } }).localStorage.setItem('factorlab.annotator', 'bench'));
  const t0 = performance.now();
  await page.goto(`${url}#/label?queue=failures&run=${lab.runId}`);
  await expect(page.getByTestId('queue-size')).toHaveText('50,000 images', { timeout: 60_000 });
  await expect(page.getByTestId('label-position')).toHaveText('1 / 50,000');
  await expect(page.getByTestId('label-path')).toHaveText(lab.relPath(0));
  const firstImage = performance.now() - t0;

  type W = { __factorlabLabelNav?: number[]; __factorlabLabelLoad?: number[] };
  const times: number[] = [];
  const loads: number[] = [];
  const step = async (from: number) => {
    await page.evaluate(() => {
      (globalThis as unknown as W).__factorlabLabelNav = [];
      (globalThis as unknown as W).__factorlabLabelLoad = [];
    });
    for (let i = 0; i < STEPS; i++) {
      await page.waitForTimeout(120); // a fast annotator: a few keys per second
      await page.keyboard.press('j');
      await expect(page.getByTestId('label-position')).toHaveText(`${(from + i + 2).toLocaleString('en-US')} / 50,000`);
      await expect(page.getByTestId('label-path')).toHaveText(lab.relPath(from + i + 1));
      await expect
        .poll(() => page.evaluate(() => (globalThis as unknown as W).__factorlabLabelNav?.length ?? 0))
        .toBe(i + 1);
    }
    times.push(...(await page.evaluate(() => (globalThis as unknown as W).__factorlabLabelNav ?? [])));
    loads.push(...(await page.evaluate(() => (globalThis as unknown as W).__factorlabLabelLoad ?? [])));
  };
  await step(0);
  // the middle of the queue: pages there are fetched on arrival, then ahead
  await page.evaluate((run) => ((globalThis as unknown as { location: { hash: string } }).location.hash = `#/label?queue=failures&run=${run}&at=25000`), lab.runId);
  await expect(page.getByTestId('label-position')).toHaveText('25,001 / 50,000');
  await expect(page.getByTestId('label-path')).toHaveText(lab.relPath(25_000));
  await page.waitForTimeout(300);
  await step(25_000);
  await expect(page.getByTestId('label-progress')).toContainText(`${2 * STEPS} labelled of 50,000`);
  await page.screenshot({ path: 'test-results/screenshots/25-labelling-50k.png' });

  const median = quantile(times, 0.5);
  const p95 = quantile(times, 0.95);
  const note =
    `next image on screen (key press -> first frame after the image's load event), ${times.length} steps: median ${median.toFixed(1)} ms, p95 ${p95.toFixed(1)} ms, ` +
    `max ${Math.max(...times).toFixed(1)} ms; to the load event: median ${quantile(loads, 0.5).toFixed(1)} ms, p95 ${quantile(loads, 0.95).toFixed(1)} ms; ` +
    `first image ${firstImage.toFixed(0)} ms after page load`;
  test.info().annotations.push({ type: 'latency', description: note });
  console.log(`labelling 50k: ${note}`);
  expect(times).toHaveLength(2 * STEPS);
  expect(median).toBeLessThan(50);
  expect(pageErrors).toEqual([]);
});

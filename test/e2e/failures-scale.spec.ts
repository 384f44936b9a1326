// The failure grid at scale, against a real `factorlab serve` of its own: a lab made with the real
// CLI and then seeded through SQL to a done run of 50,000 failures (scale-lab.ts). Scrolling to the
// middle and to the end keeps the DOM small and fetches only the pages that were looked at, counted
// from the frames the page sends on its WebSocket; the detail view steps back from the last one.
import { expect, test } from '@playwright/test';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { tempDir } from '../helpers/temp-dir.ts';
import { makeScaleLab, type ScaleLab } from './scale-lab.ts';
import { startServer, stopServer } from './serve.ts';

const TOTAL = 50_000;

let lab: ScaleLab;
let url = '';
let server: ChildProcess | undefined;
let tmp: ReturnType<typeof tempDir> | undefined;

test.beforeAll(async () => {
  const t0 = performance.now();
  tmp = tempDir('factorlab-e2e-scale-');
  lab = await makeScaleLab(tmp.path, TOTAL);
  const started = await startServer(lab.labDir, join(process.cwd(), 'test-results', 'e2e-scale-server.log'));
  server = started.child;
  url = started.url;
  const seconds = (performance.now() - t0) / 1000;
  const note = `${seconds.toFixed(1)} s (CLI import + model add + run ${lab.seconds.cli.toFixed(1)} s, SQL seed + links ${lab.seconds.seed.toFixed(1)} s, server start)`;
  test.info().annotations.push({ type: 'setup', description: note });
  console.log(`scale lab setup: ${note}`);
});

test.afterAll(async () => {
  if (server) await stopServer(server);
  if (tmp && !process.env.FACTORLAB_E2E_KEEP) tmp.remove();
  else if (tmp) console.log(`scale lab kept at ${tmp.path}`);
});

test('scrolls through 50,000 failures fetching only the pages it shows', async ({ page }) => {
  const RUN = lab.runId;
  const requested: { offset: number; limit: number }[] = [];
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('websocket', (ws) => {
    if (!ws.url().includes('/api?token=')) return;
    ws.on('framesent', ({ payload }) => {
      const msg = JSON.parse(String(payload)) as { method?: string; params?: { runId?: number; offset?: number; limit?: number } };
      if (msg.method === 'runs.failures' && msg.params?.runId === RUN) requested.push({ offset: msg.params.offset ?? 0, limit: msg.params.limit ?? 200 });
    });
  });

  await page.goto(`${url}#/runs/${RUN}`);
  await expect(page.getByTestId('failure-total')).toHaveText('50,000 failures');
  await expect(page.getByTestId('run-failure-count')).toHaveText('50,000');
  await expect(page.getByTestId('failure-cell').first()).toBeVisible();
  await expect(page.getByTestId('failure-cell').first()).toHaveAttribute('title', new RegExp(`^${lab.relPath(0)}\\n`));
  const grid = page.getByTestId('failure-grid');

  // Wheel through the first screens, then jump to the middle and to the end.
  await grid.hover();
  for (let i = 0; i < 15; i++) await page.mouse.wheel(0, 1200);
  await grid.evaluate((el) => (el.scrollTop = el.scrollHeight / 2));
  const anyClass = new RegExp(`^(${lab.classes.join('|')})$`);
  await expect(page.locator('[data-testid=failure-cell] .true-name').first()).toHaveText(anyClass);
  await grid.evaluate((el) => (el.scrollTop = el.scrollHeight));
  await expect(page.locator('[data-testid=failure-cell]').last()).toHaveAttribute('title', new RegExp(`img_${TOTAL - 1}\\.jpg`));

  const cells = await page.getByTestId('failure-cell').count();
  expect(cells, 'only the visible rows are in the DOM').toBeLessThan(120);
  const fetched = requested.reduce((n, r) => n + r.limit, 0);
  test.info().annotations.push({ type: 'fetched', description: `${requested.length} pages, ${fetched} rows of ${TOTAL}; ${cells} cells in the DOM` });
  expect(requested.length, 'pages were fetched over the socket').toBeGreaterThan(0);
  expect(fetched, `fetched ${requested.length} pages`).toBeLessThan(TOTAL / 10);
  expect(new Set(requested.map((r) => r.offset)).size, 'no page fetched twice').toBe(requested.length);

  // The detail view steps backwards from the last failure; the true class is marked in the top-5
  // by the model's numbering (the dataset numbers its classes differently).
  await page.locator('[data-testid=failure-cell]').last().click();
  await expect(page.getByTestId('detail-position')).toHaveText('50,000 / 50,000');
  await expect(page.getByTestId('detail-path')).toHaveText(join(lab.datasetRoot, lab.relPath(TOTAL - 1)));
  await expect(page.getByTestId('detail-top5').locator('li.is-true .top5-name')).toHaveText(new RegExp(`^${lab.classes[(TOTAL - 1) % lab.classes.length]}`));
  await page.keyboard.press('ArrowLeft');
  await expect(page.getByTestId('detail-position')).toHaveText('49,999 / 50,000');
  await expect(page.getByTestId('detail-path')).toContainText(`img_${TOTAL - 2}.jpg`);
  await expect(page.getByTestId('detail-top5').locator('li.is-true .top5-name')).toHaveText(new RegExp(`^${lab.classes[(TOTAL - 2) % lab.classes.length]}`));
  await expect(page.getByTestId('detail-true')).toHaveText(lab.classes[(TOTAL - 2) % lab.classes.length]);
  await page.keyboard.press('Escape');
  await page.screenshot({ path: 'test-results/screenshots/11-failures-50k-end.png' });

  expect(pageErrors, 'no uncaught errors in the page').toEqual([]);
});

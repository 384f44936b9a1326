// The Patch view against a real `factorlab serve` of its own, on a small ShapeWorld demo lab made
// with the real CLI (the whole loop: attribution, the individual and the random set, CLIP-reviewed,
// one retraining, its sweeps): the two sets with their counts; the sweep charts, a point opening its result;
// the export form following its job; in the individual set's grid two images
// rejected with R (UI and API), restored with Ctrl+Z; the result's Table 2 shows the CLI's numbers.
// Then the Overlap view: the exported patched package run on the demo's second test split beside
// the original classifier, the failure-IoU heatmap of the two runs and a cell's shared failures.
import { expect, test } from '@playwright/test';
import { spawnSync, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { tempDir } from '../helpers/temp-dir.ts';
import { CLI } from '../helpers/cli.ts';
import { callApi, startServer, stopServer } from './serve.ts';

interface Acc {
  test: number;
  seed: number;
  heldout: number;
}
interface Demo {
  attribution: { id: number };
  generation: { individual: { setId: number; images: number; accepted: number }; random: { setId: number; images: number; accepted: number } };
  accuracy_before: Acc;
  individual: Acc;
  random: Acc;
  generated: { individual: number; random: number };
  debug: {
    result: { id: number; gain: { individual: Acc; random: Acc } };
    export: { dir: string };
    datasets: { train: number; test: number };
    sweep: { lambda: { lambda: number; resultId: number }[]; k: { k: number; resultId: number }[] };
  };
}
interface FailureIou {
  runs: { id: number; modelName: string }[];
  iou: (number | null)[][];
  intersection: number[][];
  union: number[][];
}
interface ImageRow {
  id: number;
  review: string;
  reviewedBy: string | null;
}

let url = '';
let server: ChildProcess | undefined;
let tmp: ReturnType<typeof tempDir> | undefined;
let demo: Demo;

const api = <T>(method: string, params: unknown): Promise<T> => callApi<T>(url, method, params);

// The view's formats, written out here on their own: "48.7%" and signed points "+18.2".
const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const iouText = (x: number | null) => (x === null ? '–' : x.toFixed(2));
const count = (n: number) => n.toLocaleString('en-US');
const points = (x: number) => {
  const s = (100 * x).toFixed(1);
  return Number(s) === 0 ? '+0.0' : Number(s) > 0 ? `+${s}` : s;
};

test.beforeAll(async () => {
  test.setTimeout(300_000); // the demo runs the whole loop on CPU
  tmp = tempDir('factorlab-e2e-patch-');
  const lab = join(tmp.path, 'lab');
  const r = spawnSync(process.execPath, [CLI, 'demo', '--lab', lab, '--images', '300', '--generate', '2', '--train', '200', '--json'], { encoding: 'utf8', timeout: 280_000 });
  expect(r.status, r.stderr).toBe(0);
  demo = JSON.parse(r.stdout) as Demo;
  const started = await startServer(lab, join(process.cwd(), 'test-results', 'e2e-patch-server.log'));
  server = started.child;
  url = started.url;
});

test.afterAll(async () => {
  if (server) await stopServer(server);
  if (tmp && !process.env.FACTORLAB_E2E_KEEP) tmp.remove();
});

test('lists the sets, rejects two images with R and undoes it, shows the Table 2 of the CLI', async ({ page }) => {
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto(url);
  await expect(page.getByTestId('connection')).toHaveText(/connected/);
  await page.getByTestId('nav-patch').click();
  await expect(page.getByTestId('patch-attribution-row')).toHaveCount(1);
  await page.getByTestId('patch-attribution-row').click();
  await expect(page).toHaveURL(new RegExp(`#/patch/${demo.attribution.id}`));

  // The two sets, CLIP-reviewed by the demo: nothing pending.
  const rows = page.getByTestId('generation-set-row');
  await expect(rows).toHaveCount(2);
  for (const kind of ['individual', 'random'] as const) {
    const g = demo.generation[kind];
    const row = page.locator(`[data-testid="generation-set-row"][data-kind="${kind}"]`);
    await expect(row).toHaveAttribute('data-set', String(g.setId));
    await expect(row.getByTestId('set-generated')).toHaveText(String(g.images));
    await expect(row.getByTestId('set-accepted')).toHaveText(String(g.accepted));
    await expect(row.getByTestId('set-rejected')).toHaveText(String(g.images - g.accepted));
    await expect(row.getByTestId('set-pending')).toHaveText('0');
  }

  // Table 2 of the demo's result (it also stored its λ and k sweeps) against the CLI's JSON.
  const table = page.getByTestId('table2');
  await page.locator(`[data-testid="debug-result-row"][data-result="${demo.debug.result.id}"]`).click();
  await expect(page.getByTestId('debug-result')).toHaveAttribute('data-result', String(demo.debug.result.id));
  const expected = { before: demo.accuracy_before, individual: demo.individual, random: demo.random };
  for (const [label, acc] of Object.entries(expected)) {
    const row = table.locator(`[data-testid="table2-row"][data-row="${label}"]`);
    for (const split of ['test', 'seed', 'heldout'] as const) {
      await expect(row.getByTestId(`table2-${split}`).getByTestId('table2-acc')).toHaveText(pct(acc[split]));
      if (label !== 'before') {
        const gain = demo.debug.result.gain[label as 'individual' | 'random'][split];
        await expect(row.getByTestId(`table2-${split}`).getByTestId('table2-gain')).toHaveText(`(${points(gain)})`);
      }
    }
  }
  await expect(table.locator('[data-row="individual"] [data-testid="table2-images"]')).toHaveText(String(demo.generated.individual));
  await expect(table.locator('[data-row="random"] [data-testid="table2-images"]')).toHaveText(String(demo.generated.random));
  await expect(page.getByTestId('debug-chart').locator('canvas')).toHaveCount(1);

  // The demo's sweeps (Figure 5), every CLI point stored: a chart per sweep, a point per result;
  // clicking the k sweep's first point opens that result, whose sweeps are the same.
  const sweepPoints = async (param: 'lambda' | 'k') => {
    const chart = page.getByTestId(`sweep-${param}-chart`);
    await expect(chart).toHaveAttribute('data-points', /resultId/);
    return JSON.parse((await chart.getAttribute('data-points'))!) as { x: number; resultId: number; left: number; top: number }[];
  };
  await expect(page.getByTestId('sweep-card')).toHaveAttribute('data-result', String(demo.debug.result.id));
  expect((await sweepPoints('lambda')).map((p) => [p.x, p.resultId])).toEqual(demo.debug.sweep.lambda.map((r) => [r.lambda, r.resultId]));
  const kPoints = await sweepPoints('k');
  expect(kPoints.map((p) => [p.x, p.resultId])).toEqual(demo.debug.sweep.k.map((r) => [r.k, r.resultId]));
  await expect(page.getByTestId('sweep-complete')).toBeVisible();
  await page.getByTestId('sweep-card').screenshot({ path: join(process.cwd(), 'test-results', 'screenshots', 'patch-sweeps.png') });
  const csv = page.waitForEvent('download');
  await page.getByTestId('sweep-k-csv').click();
  expect((await csv).suggestedFilename()).toBe(`factorlab-debug-${demo.debug.result.id}-sweep-k.csv`);
  await page.getByTestId('sweep-k-chart').locator('.u-over').click({ position: { x: kPoints[0]!.left, y: kPoints[0]!.top } });
  await expect(page.getByTestId('debug-result')).toHaveAttribute('data-result', String(kPoints[0]!.resultId));
  await expect(page.getByTestId('sweep-card')).toHaveAttribute('data-result', String(kPoints[0]!.resultId));
  expect((await sweepPoints('k')).map((p) => p.resultId)).toEqual(kPoints.map((p) => p.resultId));

  // The export form follows the export job (kind 'export') to the check of the patched package.
  await page.locator(`[data-testid="debug-result-row"][data-result="${demo.debug.result.id}"]`).click();
  await expect(page.getByTestId('debug-result')).toHaveAttribute('data-result', String(demo.debug.result.id));
  const exportDir = join(tmp!.path, 'ui-export', 'patched');
  await page.getByTestId('export-out').fill(exportDir);
  await page.getByTestId('export-submit').click();
  await expect(page.getByTestId('export-check')).toHaveClass(/good/, { timeout: 90_000 });
  await expect(page.getByTestId('export-done')).toContainText(join(exportDir, 'model.onnx'));
  const exportJob = (await api<{ kind: string; status: string; resultRef: string | null; id: number }[]>('jobs.list', { limit: 5 })).find((j) => j.kind === 'export');
  expect(exportJob).toMatchObject({ status: 'done', resultRef: `debug-export:${exportJob?.id}` });

  // The individual set's grid: verdicts by a named reviewer.
  const setId = demo.generation.individual.setId;
  await page.locator('[data-testid="generation-set-row"][data-kind="individual"]').getByTestId('set-review').click();
  const panel = page.getByTestId('review-panel');
  await expect(panel).toHaveAttribute('data-set', String(setId));
  await panel.getByTestId('review-annotator').fill('e2e-reviewer');
  await panel.getByTestId('review-annotator').press('Enter');
  const accepted = panel.locator('[data-testid="gen-cell"][data-review="accepted"]');
  await expect(accepted.nth(1)).toBeVisible();
  const ids = [await accepted.nth(0).getAttribute('data-id'), await accepted.nth(1).getAttribute('data-id')].map(Number);
  const cell = (id: number) => panel.locator(`[data-testid="gen-cell"][data-id="${id}"]`);
  const before = await api<{ items: ImageRow[] }>('generation.images', { setId, review: 'accepted', limit: 5000 });
  const byBefore = ids.map((id) => before.items.find((x) => x.id === id)?.reviewedBy);
  expect(byBefore[0]).toMatch(/^clip-filter:top\d+$/);
  await expect
    .poll(() => cell(ids[0]!).locator('img').evaluate((i) => (i as unknown as { naturalWidth: number }).naturalWidth))
    .toBeGreaterThan(0);

  await cell(ids[0]!).click();
  await cell(ids[1]!).click({ modifiers: ['Control'] });
  await expect(panel.getByTestId('review-count')).toContainText('2 selected');
  await page.keyboard.press('r');
  for (const id of ids) await expect(cell(id)).toHaveAttribute('data-review', 'rejected');
  const individualRow = page.locator('[data-testid="generation-set-row"][data-kind="individual"]');
  await expect(individualRow.getByTestId('set-accepted')).toHaveText(String(demo.generation.individual.accepted - 2));
  const rejected = await api<{ items: ImageRow[] }>('generation.images', { setId, review: 'rejected', limit: 5000 });
  for (const id of ids) expect(rejected.items.find((x) => x.id === id)).toMatchObject({ review: 'rejected', reviewedBy: 'e2e-reviewer' });
  await page.screenshot({ path: join(process.cwd(), 'test-results', 'screenshots', 'patch.png'), fullPage: true });

  await page.keyboard.press('Control+z');
  for (const id of ids) await expect(cell(id)).toHaveAttribute('data-review', 'accepted');
  await expect(individualRow.getByTestId('set-accepted')).toHaveText(String(demo.generation.individual.accepted));
  const back = await api<{ items: ImageRow[] }>('generation.images', { setId, review: 'accepted', limit: 5000 });
  ids.forEach((id, i) => expect(back.items.find((x) => x.id === id)).toMatchObject({ review: 'accepted', reviewedBy: byBefore[i] }));
  expect(pageErrors).toEqual([]);
});

test('overlap: the failure-IoU heatmap of the original and the patched model, a cell opens their shared failures', async ({ page }) => {
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  // The patched package as a second model, run on the test split the original already ran on.
  const datasetId = demo.debug.datasets.test;
  const model = await api<{ id: number }>('models.add', { onnx: demo.debug.export.dir });
  const started = await api<{ runId: number }>('runs.start', { modelId: model.id, datasetId });
  await expect.poll(async () => (await api<{ status: string }>('runs.summary', { runId: started.runId })).status, { timeout: 60_000 }).toBe('done');
  const iou = await api<FailureIou>('analysis.failureIou', { datasetId });
  expect(iou.runs).toHaveLength(2);
  expect(iou.runs.map((r) => r.id)).toContain(started.runId);
  expect(iou.intersection[0]![1]).toBeGreaterThan(0);

  await page.goto(`${url}#/overlap/${datasetId}`);
  await expect(page.getByTestId('connection')).toHaveText(/connected/);
  await expect(page.getByTestId('nav-overlap')).toHaveAttribute('aria-current', 'page');
  const heatmap = page.getByTestId('iou-heatmap');
  await expect(heatmap).toHaveAttribute('data-runs', '2');
  await expect(heatmap.getByTestId('iou-cell')).toHaveCount(4);
  const cell = (i: number, j: number) => heatmap.locator(`[data-testid="iou-cell"][data-row="${i}"][data-col="${j}"]`);
  for (const [i, r] of iou.runs.entries()) {
    await expect(heatmap.getByTestId('iou-row-label').nth(i)).toContainText(`${r.modelName} #${r.id}`);
    await expect(heatmap.getByTestId('iou-col-label').nth(i)).toContainText(`${r.modelName} #${r.id}`);
    await expect(cell(i, i)).toHaveText('1.00');
  }
  await expect(cell(0, 1)).toHaveText(iouText(iou.iou[0]![1] ?? null));
  await expect(cell(1, 0)).toHaveText(iouText(iou.iou[1]![0] ?? null));
  await expect(page.getByTestId('iou-legend')).toBeVisible();

  // The off-diagonal cell: |A ∩ B| of |A ∪ B| as the API counts them, and the thumbnails.
  await cell(0, 1).click();
  const shared = page.getByTestId('shared-failures');
  await expect(shared).toHaveAttribute('data-run-a', String(iou.runs[0]!.id));
  await expect(shared).toHaveAttribute('data-run-b', String(iou.runs[1]!.id));
  await expect(shared.getByTestId('shared-count')).toHaveText(count(iou.intersection[0]![1]!));
  await expect(shared.getByTestId('shared-union')).toHaveText(count(iou.union[0]![1]!));
  await expect(shared.getByTestId('shared-cell')).toHaveCount(Math.min(40, iou.intersection[0]![1]!));
  await expect.poll(() => shared.getByTestId('shared-cell').first().locator('img').evaluate((i) => (i as unknown as { naturalWidth: number }).naturalWidth)).toBeGreaterThan(0);
  await expect(page).toHaveURL(new RegExp(`#/overlap/${datasetId}\\?a=${iou.runs[0]!.id}&b=${iou.runs[1]!.id}$`));
  await page.screenshot({ path: join(process.cwd(), 'test-results', 'screenshots', 'overlap.png'), fullPage: true });

  await shared.getByTestId('shared-cell').first().click();
  await expect(page.getByTestId('image-detail')).toBeVisible();
  await expect(page.getByTestId('detail-position')).toHaveText(`1 / ${count(iou.intersection[0]![1]!)}`);
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('image-detail')).toHaveCount(0);

  // Keyboard: from the open cell one to the left is run A's diagonal; Enter opens all of A's failures.
  await heatmap.focus();
  await page.keyboard.press('ArrowLeft');
  await page.keyboard.press('Enter');
  await expect(shared).toHaveAttribute('data-run-b', String(iou.runs[0]!.id));
  await expect(shared.getByTestId('shared-count')).toHaveText(count(iou.intersection[0]![0]!));
  expect(pageErrors).toEqual([]);
});

test("the sweep card runs a result's missing points as jobs and charts them", async ({ page }) => {
  // A result with another seed has none of its sweep stored: every point but its own is missing.
  const base = await api<{ settings: Record<string, unknown> }>('debug.get', { id: demo.debug.result.id });
  const started = await api<{ id: number | null; jobId: number | null }>('debug.start', { ...base.settings, k: null, seed: 5 });
  const ofSeed = async () => (await api<{ id: number; settings: { seed: number; lambda: number; k: number | null } }[]>('debug.list', {})).filter((r) => r.settings.seed === 5);
  await expect.poll(async () => (await ofSeed()).length, { timeout: 60_000 }).toBe(1);
  const own = (await ofSeed())[0]!;
  expect(started.jobId === null || own.id > 0).toBe(true);

  await page.goto(url);
  await expect(page.getByTestId('connection')).toHaveText(/connected/);
  await page.getByTestId('nav-patch').click();
  await page.getByTestId('patch-attribution-row').click();
  await page.locator(`[data-testid="debug-result-row"][data-result="${own.id}"]`).click();
  await expect(page.getByTestId('sweep-card')).toHaveAttribute('data-result', String(own.id));
  const run = page.getByTestId('sweep-run');
  await expect(run).toBeEnabled();
  const missing = Number(/Run the (\d+) missing point/.exec((await run.textContent()) ?? '')?.[1]);
  expect(missing).toBeGreaterThan(1);
  await run.click();
  const progress = page.getByTestId('sweep-progress');
  await expect(progress).toHaveAttribute('data-total', String(missing));
  await expect(progress).toHaveAttribute('data-done', String(missing), { timeout: 120_000 });
  await expect(page.getByTestId('sweep-complete')).toBeVisible();

  // Every point is a stored result of seed 5, and the λ chart draws one point per λ result.
  const stored = await ofSeed();
  expect(stored).toHaveLength(missing + 1);
  const lambdaIds = stored.filter((r) => r.settings.k === null).sort((a, b) => a.settings.lambda - b.settings.lambda).map((r) => r.id);
  const chart = page.getByTestId('sweep-lambda-chart');
  await expect.poll(async () => (JSON.parse((await chart.getAttribute('data-points')) ?? '[]') as { resultId: number }[]).map((p) => p.resultId)).toEqual(lambdaIds);
});

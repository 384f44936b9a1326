// ImageNet-X analytics against a real `factorlab serve` of its own on a small ShapeWorld demo lab
// (the real CLI; its ground truth is the annotation source): import a prediction file in the
// toolkit's CSV format from the Factors page and see it in the error-ratio chart next to the run,
// open its reliability diagram (ECE as calibration.ts computes it), click a bar of the failure
// distribution and land on the failing images with that factor (the run's failures view; the
// failing files for imported predictions), and the co-occurrence heatmap.
import { expect, test, type Page } from '@playwright/test';
import { spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { tempDir } from '../helpers/temp-dir.ts';
import { CLI } from '../helpers/cli.ts';
import { startServer, stopServer } from './serve.ts';
import { calibration } from '../../electron/core/analysis/calibration.ts';

test.describe.configure({ mode: 'serial' });

const FACTORS = ['pose', 'background', 'pattern', 'color', 'smaller', 'shape', 'partial_view', 'subcategory', 'texture', 'larger', 'darker', 'object_blocking', 'person_blocking', 'style', 'brighter', 'multiple_objects'];
const bit = (f: string) => 1 << FACTORS.indexOf(f);

let url = '';
let labDir = '';
let runId = 0;
let sourceId = 0;
let predictionFile = '';
/** The prediction file's rows joined to the ground truth: what the analytics evaluate. */
let evaluated: { file: string; correct: boolean; p: number; factors: number }[] = [];
let server: ChildProcess | undefined;
let tmp: ReturnType<typeof tempDir> | undefined;
let page: Page;
const pageErrors: string[] = [];
const shots = join(process.cwd(), 'test-results', 'screenshots');

function query<T>(sql: string, ...args: unknown[]): T[] {
  const db = new Database(join(labDir, 'lab.db'), { readonly: true, fileMustExist: true });
  try {
    return db.prepare(sql).all(...args) as T[];
  } finally {
    db.close();
  }
}

test.beforeAll(async ({ browser }) => {
  tmp = tempDir('factorlab-e2e-analytics-');
  labDir = join(tmp.path, 'lab');
  const r = spawnSync(process.execPath, [CLI, 'demo', '--lab', labDir, '--images', '200', '--generate', '0', '--json'], { encoding: 'utf8', timeout: 180_000 });
  expect(r.status, r.stderr).toBe(0);
  runId = query<{ id: number }>(`SELECT id FROM runs ORDER BY id LIMIT 1`)[0].id;
  sourceId = query<{ id: number }>(`SELECT id FROM annotation_sources WHERE kind = 'ground-truth'`)[0].id;
  // A published model's predictions on the same images: right on two images in three, seeded.
  const truth = query<{ file_name: string; class_idx: number; factors: number }>(`SELECT file_name, class_idx, factors FROM annotations WHERE source_id = ? ORDER BY line`, sourceId);
  const rows = truth.map((a, i) => {
    const correct = i % 3 !== 2;
    const p = Number((0.35 + ((i * 37) % 61) / 100).toFixed(4));
    return { file: a.file_name, predicted: correct ? a.class_idx : (a.class_idx + 1) % 10, p, correct, factors: a.factors };
  });
  evaluated = rows.map(({ file, correct, p, factors }) => ({ file, correct, p, factors }));
  predictionFile = join(tmp.path, 'published_model.csv');
  writeFileSync(predictionFile, `file_name,predicted_class,predicted_probability\n${rows.map((x) => `${x.file},${x.predicted},${x.p}`).join('\n')}\n`);
  const started = await startServer(labDir, join(process.cwd(), 'test-results', 'e2e-analytics-server.log'));
  server = started.child;
  url = started.url;
  page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto(url);
  await expect(page.getByTestId('connection')).toHaveText(/connected/);
});

test.afterAll(async () => {
  await page?.close();
  if (server) await stopServer(server);
  if (tmp && !process.env.FACTORLAB_E2E_KEEP) tmp.remove();
});

/** Moves inside the app (a page reload would drop the in-memory token). */
async function go(hash: string): Promise<void> {
  await page.evaluate((h) => ((globalThis as unknown as { location: { hash: string } }).location.hash = h), hash);
}

async function bars(testId: string): Promise<{ factor: string; subject?: string; x: number; y: number }[]> {
  return JSON.parse((await page.getByTestId(testId).getAttribute('data-bars')) ?? '[]');
}

let setId = 0;

test('imports a prediction file (a bad one is refused with file:line) and charts it next to the run', async () => {
  await go(`#/factors?source=${sourceId}&runs=${runId}`);
  await expect(page.getByTestId('factor-chart').locator('canvas')).toBeVisible();
  await page.getByTestId('predictions-import-open').click();
  // a file with a bad line first: refused whole, nothing stored
  const bad = join(tmp!.path, 'bad.csv');
  writeFileSync(bad, `file_name,predicted_class,predicted_probability\n${evaluated[0].file},1,0.5\n${evaluated[1].file},one,0.5\n`);
  await page.getByTestId('predictions-file').fill(bad);
  await page.getByTestId('predictions-import-submit').click();
  await expect(page.getByTestId('predictions-import-error')).toContainText(`${bad}:3: predicted_class "one" is not an integer`);
  expect(query(`SELECT * FROM prediction_sets`)).toHaveLength(0);

  await page.getByTestId('predictions-file').fill(predictionFile);
  await page.getByTestId('predictions-import-submit').click();
  await expect(page.getByTestId('toast-success').last()).toContainText(`Imported ${evaluated.length} predictions as "published_model"`);
  setId = query<{ id: number }>(`SELECT id FROM prediction_sets WHERE name = 'published_model'`)[0].id;
  await expect(page.getByTestId(`chart-set-${setId}`)).toBeChecked();
  await expect(page.getByTestId(`chart-run-${runId}`)).toBeChecked();
  await expect(page.getByTestId('factor-series')).toHaveCount(2);
  await expect(page.getByTestId('factor-series').nth(1)).toContainText('published_model');

  // the set's bars are in the chart beside the run's, its numbers in the table
  await expect.poll(async () => (await bars('factor-chart')).filter((b) => b.subject === `p${setId}`).length).toBeGreaterThan(0);
  expect((await bars('factor-chart')).some((b) => b.subject === `r${runId}`)).toBe(true);
  const avgErr = evaluated.filter((x) => !x.correct).length / evaluated.length;
  const withBg = evaluated.filter((x) => x.factors & bit('background'));
  const ratio = withBg.filter((x) => !x.correct).length / withBg.length / avgErr;
  const bgRow = page.locator('[data-testid=factor-row][data-factor=background]');
  await expect(bgRow.getByTestId('factor-count').nth(1)).toHaveText(String(withBg.length));
  await expect(bgRow.getByTestId('factor-ratio').nth(1)).toContainText(ratio.toFixed(2));
  await page.screenshot({ path: join(shots, '40-factors-with-predictions.png') });

  // the export names both series
  const [csv] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-csv').click()]);
  expect(csv.suggestedFilename()).toMatch(new RegExp(`-run-${runId}-predictions-${setId}\\.csv$`));
  expect(readFileSync((await csv.path())!, 'utf8')).toContain('published_model,');
});

test('the reliability diagram of the imported predictions: ECE as calibration.ts computes it, per factor', async () => {
  await page.getByTestId('tab-calibration').click();
  await page.getByTestId('analysis-subject').selectOption(`p${setId}`);
  await expect(page.getByTestId('reliability-chart').locator('canvas')).toBeVisible();
  const all = calibration(
    evaluated.map((x) => x.correct),
    evaluated.map((x) => x.p),
  );
  await expect(page.getByTestId('calibration-ece')).toContainText(`ECE ${all.ece!.toFixed(4)}`);
  // the legend carries the ECE; every non-empty bin is drawn with its count
  await expect(page.getByTestId('reliability-chart').locator('.u-legend')).toContainText(`ECE ${all.ece!.toFixed(4)}, ${evaluated.length} images`);
  const drawn = JSON.parse((await page.getByTestId('reliability-chart').getAttribute('data-bins')) ?? '[]') as { bin: number; count: number }[];
  expect(drawn.map((b) => [b.bin, b.count])).toEqual(all.bins.flatMap((b, i) => (b.count ? [[i, b.count]] : [])));
  await page.screenshot({ path: join(shots, '41-reliability.png') });

  const bg = evaluated.filter((x) => x.factors & bit('background'));
  const bgCal = calibration(
    bg.map((x) => x.correct),
    bg.map((x) => x.p),
  );
  await page.getByTestId('calibration-factor').selectOption('background');
  await expect(page.getByTestId('calibration-ece')).toContainText(`ECE ${bgCal.ece!.toFixed(4)}`);
  await expect(page.getByTestId('calibration-bin')).toHaveCount(15);

  const [csv] = await Promise.all([page.waitForEvent('download'), page.getByTestId('calibration-export-csv').click()]);
  const lines = readFileSync((await csv.path())!, 'utf8').trimEnd().split('\n');
  expect(lines[0]).toBe('subject,source,factor,bin,lo,hi,count,mean_confidence,accuracy,ece');
  expect(lines).toHaveLength(1 + 17 * 15);
  const [svg] = await Promise.all([page.waitForEvent('download'), page.getByTestId('calibration-export-svg').click()]);
  expect(readFileSync((await svg.path())!, 'utf8')).toContain(`ECE ${bgCal.ece!.toFixed(4)}`);
  const [png] = await Promise.all([page.waitForEvent('download'), page.getByTestId('calibration-export-png').click()]);
  expect(readFileSync((await png.path())!).subarray(1, 4).toString()).toBe('PNG');
});

test("a bar of the failure distribution opens the failing images with that factor (the run's, the imported predictions')", async () => {
  await page.getByTestId('tab-failures').click();
  await page.getByTestId('analysis-subject').selectOption(`r${runId}`);
  await expect(page.getByTestId('distribution-chart').locator('canvas')).toBeVisible();
  const failing = (factor: string) =>
    query<{ rel_path: string }>(
      `SELECT i.rel_path FROM predictions p JOIN images i ON i.id = p.image_id JOIN annotations a ON a.source_id = ? AND a.file_name = i.file_name
       WHERE p.run_id = ? AND p.correct = 0 AND (a.factors & ?) != 0`,
      sourceId,
      runId,
      bit(factor),
    ).map((r) => r.rel_path);
  const drawn = await bars('distribution-chart');
  const target = drawn.find((b) => failing(b.factor).length > 0 && failing(b.factor).length <= 40)!;
  expect(target, 'a factor with a few failures').toBeTruthy();
  await expect(page.locator(`[data-testid=distribution-row][data-factor=${target.factor}] [data-testid=distribution-failing]`)).toHaveText(String(failing(target.factor).length));
  await page.screenshot({ path: join(shots, '42-failure-distribution.png') });
  await page.getByTestId('distribution-chart').locator('.u-over').click({ position: { x: target.x, y: target.y } });
  await expect(page).toHaveURL(new RegExp(`#/runs/${runId}\\?.*factor=${target.factor}`));
  await expect(page.getByTestId('filter-factor')).toContainText(target.factor.replace(/_/g, ' '));
  await expect(page.getByTestId('failure-total')).toContainText(`${failing(target.factor).length} failure`);
  const titles = await page.getByTestId('failure-cell').evaluateAll((els) => els.map((e) => (e.getAttribute('title') ?? '').split('\n')[0]));
  expect(titles.sort()).toEqual(failing(target.factor).sort());

  // the imported predictions have no run: their failing files open under the chart
  await go(`#/factors?source=${sourceId}&runs=${runId}&sets=${setId}&tab=failures&subject=p${setId}`);
  await expect(page.getByTestId('distribution-card')).toContainText(`published_model: ${evaluated.filter((x) => !x.correct).length} failures`);
  await expect.poll(async () => (await bars('distribution-chart')).length).toBeGreaterThan(0);
  const setBars = await bars('distribution-chart');
  const pick = setBars.find((b) => b.factor === 'background') ?? setBars[0];
  await page.getByTestId('distribution-chart').locator('.u-over').click({ position: { x: pick.x, y: pick.y } });
  const expected = evaluated.filter((x) => !x.correct && x.factors & bit(pick.factor)).map((x) => x.file);
  await expect(page.getByTestId('prediction-failures-total')).toHaveText(String(expected.length));
  const files = await page.getByTestId('prediction-failure').evaluateAll((els) => els.map((e) => e.getAttribute('data-file')));
  expect(files.sort()).toEqual(expected.slice(0, 60).sort());
  // the demo's images carry those file names: thumbnails, not placeholders
  await expect(page.getByTestId('prediction-failure').first().locator('img')).toBeVisible();
  await page.screenshot({ path: join(shots, '43-prediction-failures.png') });
});

test('factor co-occurrence: P(column | row) among the annotated images and among failures', async () => {
  await page.getByTestId('tab-cooccurrence').click();
  await expect(page.getByTestId('cooccurrence-cell')).toHaveCount(256);
  const masks = query<{ factors: number }>(`SELECT factors FROM annotations WHERE source_id = ?`, sourceId).map((r) => r.factors);
  const [a, b] = ['background', 'color'];
  const withA = masks.filter((m) => m & bit(a)).length;
  const both = masks.filter((m) => m & bit(a) && m & bit(b)).length;
  const cell = page.locator(`[data-testid=cooccurrence-cell][data-row=${a}][data-col=${b}]`);
  await expect(cell).toHaveText(withA ? (both / withA).toFixed(2) : '–');
  await page.getByTestId('cooccurrence-norm').selectOption('count');
  await expect(cell).toHaveText(String(both));
  await page.getByTestId('cooccurrence-among').selectOption(`p${setId}`);
  const fails = evaluated.filter((x) => !x.correct);
  await expect(page.getByTestId('cooccurrence-title')).toContainText(`the ${fails.length} failures of published_model`);
  await expect(cell).toHaveText(String(fails.filter((x) => x.factors & bit(a) && x.factors & bit(b)).length));
  await page.screenshot({ path: join(shots, '44-cooccurrence.png') });
  const [svg] = await Promise.all([page.waitForEvent('download'), page.getByTestId('cooccurrence-export-svg').click()]);
  expect(readFileSync((await svg.path())!, 'utf8')).toMatch(/^<svg [\s\S]*<\/svg>$/);
  const [png] = await Promise.all([page.waitForEvent('download'), page.getByTestId('cooccurrence-export-png').click()]);
  expect(readFileSync((await png.path())!).subarray(1, 4).toString()).toBe('PNG');
  expect(pageErrors, 'no uncaught errors in the page').toEqual([]);
});

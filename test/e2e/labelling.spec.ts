// The labelling workspace against a real `factorlab serve` of its own on a small ShapeWorld demo
// lab (the real CLI): label three images with hotkeys and find them stored, undo with Ctrl+Z,
// bulk-apply factors in grid mode to a Shift+click range and to a dragged rectangle, see the
// error-ratio chart change when labels change, click a bar and land on the failing images that
// carry the factor, and review a disagreement into the consensus.
import { expect, test, type Page } from '@playwright/test';
import { spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { tempDir } from '../helpers/temp-dir.ts';
import { CLI } from '../helpers/cli.ts';
import { startServer, stopServer } from './serve.ts';

test.describe.configure({ mode: 'serial' });

let url = '';
let labDir = '';
let runId = 0;
let server: ChildProcess | undefined;
let tmp: ReturnType<typeof tempDir> | undefined;
let page: Page;
const pageErrors: string[] = [];
const shots = join(process.cwd(), 'test-results', 'screenshots');

const FACTORS = ['pose', 'background', 'pattern', 'color', 'smaller', 'shape', 'partial_view', 'subcategory', 'texture', 'larger', 'darker', 'object_blocking', 'person_blocking', 'style', 'brighter', 'multiple_objects'];
const bit = (f: string) => 1 << FACTORS.indexOf(f);

/** Reads the lab database (read-only, beside the server: WAL allows it). */
function query<T>(sql: string, ...args: unknown[]): T[] {
  const db = new Database(join(labDir, 'lab.db'), { readonly: true, fileMustExist: true });
  try {
    return db.prepare(sql).all(...args) as T[];
  } finally {
    db.close();
  }
}
const labelsOf = (annotator: string) =>
  query<{ file_name: string; image_id: number; factors: number; top_factor: string | null; justification: string | null; seconds: number | null }>(
    `SELECT a.file_name, a.image_id, a.factors, a.top_factor, a.justification, a.seconds FROM annotations a JOIN annotation_sources s ON s.id = a.source_id WHERE s.name = ? ORDER BY a.image_id`,
    `annotator:${annotator}`,
  );

test.beforeAll(async ({ browser }) => {
  tmp = tempDir('factorlab-e2e-label-');
  labDir = join(tmp.path, 'lab');
  const r = spawnSync(process.execPath, [CLI, 'demo', '--lab', labDir, '--images', '200', '--generate', '0', '--json'], { encoding: 'utf8', timeout: 180_000 });
  expect(r.status, r.stderr).toBe(0);
  runId = query<{ id: number }>(`SELECT id FROM runs ORDER BY id LIMIT 1`)[0].id;
  const started = await startServer(labDir, join(process.cwd(), 'test-results', 'e2e-labelling-server.log'));
  server = started.child;
  url = started.url;
  page = await browser.newPage({ viewport: { width: 1400, height: 860 } });
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto(url);
  await expect(page.getByTestId('connection')).toHaveText(/connected/);
});

test.afterAll(async () => {
  await page?.close();
  if (server) await stopServer(server);
  if (tmp && !process.env.FACTORLAB_E2E_KEEP) tmp.remove();
});

async function setAnnotator(name: string): Promise<void> {
  await page.getByTestId('annotator').fill(name);
  await page.getByTestId('annotator').press('Enter');
  await expect(page.getByTestId('current-annotator')).toHaveText(name);
}

async function waitSaved(): Promise<void> {
  await expect(page.getByTestId('save-state')).toHaveText('Saved ✓');
}

test('labels three images with hotkeys; they are stored; Ctrl+Z undoes', async () => {
  await page.getByTestId('nav-label').click();
  await page.getByTestId('queue-kind').selectOption('all');
  await setAnnotator('alice');
  await expect(page.getByTestId('label-progress')).toContainText('0 labelled of 200');
  const image = page.getByTestId('label-image');
  await expect(image).toBeVisible();
  const first = Number(await image.getAttribute('data-image-id'));

  // 1: pose (key 1) and background as the top factor (Shift+2)
  await page.keyboard.press('1');
  await page.keyboard.press('Shift+Digit2');
  await waitSaved();
  await expect(page.getByTestId('factor-pose')).toHaveAttribute('aria-pressed', 'true');
  await expect(page.getByTestId('top-background')).toHaveAttribute('aria-pressed', 'true');
  await page.keyboard.press('j');
  await expect(page.getByTestId('label-position')).toHaveText('2 / 200');
  // 2: darker (Q) and brighter (T), a justification and one word typed in
  await page.keyboard.press('q');
  await page.keyboard.press('t');
  await page.getByTestId('label-justification').fill('dim on the left, lit on the right');
  await page.getByTestId('label-one-word').fill('light');
  await page.getByTestId('label-one-word').press('Escape');
  await waitSaved();
  await page.keyboard.press('ArrowRight');
  await expect(page.getByTestId('label-position')).toHaveText('3 / 200');
  // 3: texture (9), then toggled twice: color (4) on and off
  await page.keyboard.press('9');
  await page.keyboard.press('4');
  await page.keyboard.press('4');
  await waitSaved();
  await page.keyboard.press('j');
  await expect(page.getByTestId('label-progress')).toContainText('3 labelled of 200');
  await page.screenshot({ path: join(shots, '20-labelling.png') });

  const stored = labelsOf('alice');
  expect(stored.map((l) => l.image_id)).toEqual([first, first + 1, first + 2]);
  expect(stored.map((l) => l.factors)).toEqual([bit('pose') | bit('background'), bit('darker') | bit('brighter'), bit('texture')]);
  expect(stored[0].top_factor).toBe('background');
  expect(stored[1].justification).toBe('dim on the left, lit on the right');
  // the time spent on each image is stored with its label
  for (const l of stored) expect(l.seconds).toBeGreaterThan(0);

  // a fourth label, undone with Ctrl+Z; skip (S) stores nothing
  await page.keyboard.press('5');
  await waitSaved();
  await expect(page.getByTestId('label-progress')).toContainText('4 labelled of 200');
  await page.keyboard.press('Control+z');
  await expect(page.getByTestId('factor-smaller')).toHaveAttribute('aria-pressed', 'false');
  await expect(page.getByTestId('label-progress')).toContainText('3 labelled of 200');
  await page.keyboard.press('s');
  await expect(page.getByTestId('label-position')).toHaveText('5 / 200');
  expect(labelsOf('alice')).toHaveLength(3);

  // the "?" overlay documents the keys
  await page.keyboard.press('?');
  await expect(page.getByTestId('help-overlay')).toContainText('Shift');
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('help-overlay')).toHaveCount(0);
  // back with K: the first label is shown as stored
  for (let i = 0; i < 4; i++) await page.keyboard.press('k');
  await expect(page.getByTestId('label-position')).toHaveText('1 / 200');
  await expect(page.getByTestId('factor-background')).toHaveAttribute('aria-pressed', 'true');
});

/** Grid cell by its position in the queue (the DOM holds only the visible rows). */
const cell = (i: number) => page.locator(`[data-testid=label-cell][data-index="${i}"]`);

/** The bar's centre in the chart's plot area, from the positions the chart publishes. */
async function barCentre(factor: string): Promise<{ x: number; y: number }> {
  const bars = JSON.parse((await page.getByTestId('factor-chart').getAttribute('data-bars')) ?? '[]') as { factor: string; x: number; y: number }[];
  const b = bars.find((x) => x.factor === factor);
  expect(b, `a bar for ${factor}`).toBeTruthy();
  return { x: b!.x, y: b!.y };
}

test('grid mode: Shift+click range and a dragged rectangle, bulk apply with a count', async () => {
  // failures of the run first: four of them get "darker"
  await page.getByTestId('queue-kind').selectOption('failures');
  await page.getByTestId('mode-grid').click();
  await expect(cell(0)).toBeVisible();
  const darkerBefore = labelsOf('alice').filter((l) => l.factors & bit('darker')).length;
  await cell(0).click();
  await cell(3).click({ modifiers: ['Shift'] });
  await expect(page.getByTestId('grid-selected-count')).toHaveText('4 selected');
  await page.getByTestId('bulk-factor').selectOption('darker');
  await page.getByTestId('bulk-apply').click();
  await expect(page.getByTestId('toast-success')).toContainText('to 4 selected');
  for (let i = 0; i < 4; i++) await expect(cell(i)).toHaveAttribute('data-factors', /darker/);

  // the whole dataset: a rectangle over the first row's first six cells gets "style"
  await page.getByTestId('queue-kind').selectOption('all');
  await expect(page.getByTestId('queue-size')).toHaveText('200 images');
  await expect(cell(5)).toBeVisible();
  const a = (await cell(0).boundingBox())!;
  const b = (await cell(5).boundingBox())!;
  await page.mouse.move(a.x + 20, a.y + 20);
  await page.mouse.down();
  await page.mouse.move((a.x + b.x) / 2, a.y + 40, { steps: 4 });
  await page.mouse.move(b.x + 20, b.y + 30, { steps: 4 });
  await expect(page.getByTestId('select-rect')).toBeVisible();
  await page.mouse.up();
  await expect(page.getByTestId('grid-selected-count')).toHaveText('6 selected');
  await page.getByTestId('bulk-factor').selectOption('style');
  await page.getByTestId('bulk-apply').click();
  await expect(page.getByTestId('toast-success').last()).toContainText('to 6 selected');
  await page.screenshot({ path: join(shots, '21-label-grid.png') });
  const alice = labelsOf('alice');
  expect(alice.filter((l) => l.factors & bit('style'))).toHaveLength(6);
  expect(alice.filter((l) => l.factors & bit('darker')).length).toBeGreaterThan(darkerBefore);
  // the first image keeps its own factors and gains "style"
  const mine = bit('pose') | bit('background') | bit('style');
  expect(alice[0].factors & mine).toBe(mine);

  // one undo step takes the whole bulk apply back
  await page.getByTestId('grid-undo').click();
  await expect(page.getByTestId('toast-info').last()).toContainText('bulk-apply (6 images)');
  expect(labelsOf('alice').filter((l) => l.factors & bit('style'))).toHaveLength(0);
  await page.keyboard.press('Control+z');
  await expect(page.getByTestId('toast-info').last()).toContainText('Undone: bulk-apply (');
  expect(labelsOf('alice').filter((l) => l.factors & bit('darker'))).toHaveLength(darkerBefore);
  // and again, for the next test
  await page.getByTestId('queue-kind').selectOption('failures');
  await expect(page.getByTestId('queue-size')).not.toHaveText('200 images');
  await cell(0).click();
  await cell(3).click({ modifiers: ['Shift'] });
  await page.getByTestId('bulk-factor').selectOption('darker');
  await page.getByTestId('bulk-apply').click();
  await expect(page.getByTestId('toast-success').last()).toContainText('to 4 selected');
});

/** Moves inside the app (a page reload would drop the in-memory token). */
async function go(hash: string): Promise<void> {
  await page.evaluate((h) => ((globalThis as unknown as { location: { hash: string } }).location.hash = h), hash);
}

const failingWith = (annotator: string, factor: string) =>
  query<{ rel_path: string }>(
    `SELECT i.rel_path FROM annotations a JOIN annotation_sources s ON s.id = a.source_id JOIN images i ON i.id = a.image_id
     JOIN predictions p ON p.image_id = i.id AND p.run_id = ? WHERE s.name = ? AND (a.factors & ?) != 0 AND p.correct = 0`,
    runId,
    `annotator:${annotator}`,
    bit(factor),
  ).map((r) => r.rel_path);

test('the error-ratio chart follows the labels; a bar opens its failing images', async () => {
  const source = query<{ id: number }>(`SELECT id FROM annotation_sources WHERE name = 'annotator:alice'`)[0].id;
  await go(`#/factors?source=${source}&runs=${runId}`);
  const darkerRow = page.locator('[data-testid=factor-row][data-factor=darker]');
  const darkerCount = () => labelsOf('alice').filter((l) => l.factors & bit('darker')).length;
  await expect(darkerRow.getByTestId('factor-count')).toHaveText(String(darkerCount()));
  await expect(page.getByTestId('factor-chart').locator('canvas')).toBeVisible();
  const before = await darkerRow.getByTestId('factor-ratio').textContent();
  await page.screenshot({ path: join(shots, '22-factor-chart.png') });

  // more "darker" labels, on images of the whole dataset (mostly right): the ratio drops
  await go('#/label?queue=all&mode=grid');
  await expect(cell(10)).toBeVisible();
  await cell(10).click();
  await cell(30).click({ modifiers: ['Shift'] });
  await expect(page.getByTestId('grid-selected-count')).toHaveText('21 selected');
  await page.getByTestId('bulk-factor').selectOption('darker');
  await page.getByTestId('bulk-apply').click();
  await expect(page.getByTestId('toast-success').last()).toContainText('to 21 selected');
  await go(`#/factors?source=${source}&runs=${runId}`);
  await expect(darkerRow.getByTestId('factor-count')).toHaveText(String(darkerCount()));
  await expect(darkerRow.getByTestId('factor-ratio')).not.toHaveText(before ?? '');

  // exports: the table as CSV, the chart as SVG and PNG
  const [csv] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-csv').click()]);
  const csvText = readFileSync((await csv.path())!, 'utf8').split('\n');
  expect(csvText[0]).toBe('run,source,factor,images,correct,accuracy,error_ratio,error_ratio_lo,error_ratio_hi,average_accuracy');
  expect(csvText.find((l) => l.includes(',darker,'))).toContain(`,annotator:alice,darker,${darkerCount()},`);
  const [svg] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-svg').click()]);
  expect(svg.suggestedFilename()).toBe(`error-ratios-annotator_alice-run-${runId}.svg`);
  expect(readFileSync((await svg.path())!, 'utf8')).toMatch(/^<svg [^>]*>[\s\S]*>darker<\/text>[\s\S]*<\/svg>$/);
  const [png] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-png').click()]);
  expect(readFileSync((await png.path())!).subarray(1, 4).toString()).toBe('PNG');

  // a click on the "darker" bar: that run's failures whose alice label has "darker"
  const expected = failingWith('alice', 'darker');
  expect(expected.length).toBeGreaterThan(0);
  const at = await barCentre('darker');
  await page.getByTestId('factor-chart').locator('.u-over').click({ position: at });
  await expect(page).toHaveURL(new RegExp(`#/runs/${runId}\\?.*factor=darker`));
  await expect(page.getByTestId('filter-factor')).toContainText('darker');
  await expect(page.getByTestId('failure-total')).toContainText(`${expected.length} failure`);
  const titles = await page.getByTestId('failure-cell').evaluateAll((els) => els.map((e) => (e.getAttribute('title') ?? '').split('\n')[0]));
  expect(titles.sort()).toEqual([...expected].sort());
  await page.screenshot({ path: join(shots, '23-factor-drilldown.png') });
});

test('review: a second annotator disagrees; agreement table; the consensus takes one side', async () => {
  await go('#/label?queue=all');
  await setAnnotator('bob');
  await expect(page.getByTestId('label-position')).toHaveText(/^1 \//);
  await page.keyboard.press('1');
  await waitSaved();
  await page.keyboard.press('j');
  await page.keyboard.press('q');
  await page.keyboard.press('t');
  await waitSaved();
  await go('#/review');
  await expect(page.getByTestId('agreement-table')).toBeVisible();
  await expect(page.getByTestId('agreement-row')).toHaveCount(17);
  await expect(page.locator('[data-testid=agreement-row][data-factor=pose] [data-testid=cohen]')).toBeVisible();
  const row = page.getByTestId('review-row').first();
  await expect(row).toBeVisible();
  await expect(row.getByTestId('consensus-state')).toHaveText('no consensus yet');
  await page.getByTestId('reviewer').fill('carol');
  await page.getByTestId('reviewer').press('Enter');
  await row.getByTestId('take-alice').click();
  await expect(page.getByTestId('toast-success').last()).toContainText('Consensus saved');
  await expect(page.getByTestId('review-row').first().getByTestId('consensus-state')).toContainText('by carol');
  const consensus = query<{ factors: number; annotator: string }>(`SELECT a.factors, a.annotator FROM annotations a JOIN annotation_sources s ON s.id = a.source_id WHERE s.kind = 'consensus'`);
  expect(consensus).toEqual([{ factors: labelsOf('alice')[0].factors, annotator: 'carol' }]);
  await page.screenshot({ path: join(shots, '24-review.png') });
  expect(pageErrors, 'no uncaught errors in the page').toEqual([]);
});

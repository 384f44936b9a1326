// The main flows of the foundation against a real `factorlab serve`: import a dataset folder, see
// class counts and the skipped report, add a model, run it, browse its failures, open a failure,
// filter by class, and see plain errors for bad calls. One page, steps in order.
import { expect, test, type Page } from '@playwright/test';
import { join } from 'node:path';
import type { E2eData } from './e2e-data.ts';

test.describe.configure({ mode: 'serial' });

const url = process.env.FACTORLAB_E2E_URL ?? '';
const data = JSON.parse(process.env.FACTORLAB_E2E_DATA ?? '{}') as E2eData;
const shots = join(process.cwd(), 'test-results', 'screenshots');

let page: Page;
const pageErrors: string[] = [];

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: join(shots, `${name}.png`) });
}

/** Every <img> inside `selector` has loaded with real pixels (no broken thumbnails). */
async function expectImagesLoaded(selector: string): Promise<void> {
  await expect
    .poll(
      () =>
        page.locator(`${selector} img`).evaluateAll((imgs) =>
          imgs.length > 0 && imgs.every((i) => {
            const img = i as unknown as { complete: boolean; naturalWidth: number };
            return img.complete && img.naturalWidth > 0;
          }),
        ),
      { message: `images in ${selector} load` },
    )
    .toBe(true);
}

test.beforeAll(async ({ browser }) => {
  expect(url, 'the global setup starts the server').toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=/);
  page = await browser.newPage({ viewport: { width: 1400, height: 860 }, colorScheme: 'light' });
  page.on('pageerror', (e) => pageErrors.push(e.message));
});

test.afterAll(async () => {
  await page?.close();
});

test('opens the lab: empty state, provider, token removed from the URL', async () => {
  await page.goto(url);
  await expect(page.getByTestId('connection')).toHaveText(/connected/);
  expect(page.url()).not.toContain('token=');
  await expect(page.getByTestId('datasets-empty')).toContainText('No datasets yet');
  await expect(page.getByTestId('provider')).toContainText('Provider:');
  await expect(page.getByTestId('import-form')).toBeVisible();
});

test('an import of a folder that does not exist shows the error', async () => {
  await page.getByTestId('import-root').fill('/no/such/folder/anywhere');
  await page.getByTestId('import-submit').click();
  await expect(page.getByTestId('import-error')).toContainText(/Bad input: .*\/no\/such\/folder\/anywhere/);
  await shot('01-datasets-empty-error');
});

test('imports a dataset folder and shows class counts, the skipped report and thumbnails', async () => {
  await page.getByTestId('import-root').fill(data.datasetRoot);
  await page.getByTestId('import-name').fill('tiny-e2e');
  await page.getByTestId('import-submit').click();
  await expect(page.getByTestId('import-error')).toHaveCount(0);
  const row = page.getByTestId('dataset-row').filter({ hasText: 'tiny-e2e' });
  await expect(row).toBeVisible({ timeout: 60_000 });
  await expect(row).toContainText(String(data.numImages));
  await shot('02-datasets');

  await row.click();
  await expect(page.getByTestId('dataset-title')).toHaveText('tiny-e2e');
  await expect(page.getByTestId('stat-images')).toContainText(String(data.numImages));
  await expect(page.getByTestId('stat-classes')).toContainText(String(data.classes.length));
  await expect(page.getByTestId('class-count-row')).toHaveCount(data.classes.length);
  for (const c of data.classes) await expect(page.getByTestId('class-counts')).toContainText(c);

  const skipped = page.getByTestId('skipped-row');
  for (const f of data.skipped) await expect(skipped.filter({ hasText: f.split('/').pop()! })).toHaveCount(1);
  expect(await skipped.count()).toBeGreaterThanOrEqual(data.skipped.length);
  for (const text of await skipped.allInnerTexts()) expect(text.split('\t').pop()!.trim().length, `reason given in "${text}"`).toBeGreaterThan(0);

  await expect(page.getByTestId('thumb').first()).toBeVisible();
  expect(await page.getByTestId('thumb').count()).toBe(data.numImages);
  await expectImagesLoaded('[data-testid=dataset-grid]');
  await shot('03-dataset-detail');

  // Filtering the grid by a class from the counts list.
  await page.getByTestId('class-count-row').filter({ hasText: data.classes[1] }).click();
  await expect(page.getByTestId('dataset-class-filter')).toContainText(data.classes[1]);
  for (const caption of await page.locator('[data-testid=thumb] .thumb-caption').allInnerTexts()) expect(caption).toBe(data.classes[1]);
});

test('refuses a file that is not ONNX and adds the tiny classifier', async () => {
  await page.getByTestId('nav-models').click();
  await expect(page.getByTestId('models-empty')).toBeVisible();
  await page.getByTestId('model-onnx').fill(data.notOnnx);
  await page.getByTestId('model-submit').click();
  await expect(page.getByTestId('add-model-error')).toContainText('not_onnx.onnx');

  await page.getByTestId('model-onnx').fill(data.modelOnnx);
  await page.getByTestId('model-name').fill('tiny-gemm');
  await page.getByTestId('model-preset').selectOption('none');
  await page.getByTestId('model-labels').fill(data.modelLabels);
  await page.getByTestId('model-submit').click();
  const row = page.getByTestId('model-row').filter({ hasText: 'tiny-gemm' });
  await expect(row).toBeVisible({ timeout: 30_000 });
  await expect(row).toContainText('5'); // classes
  await expect(row).toContainText('8'); // feature dim
  await shot('04-models');
});

test('runs the model over the dataset as a job', async () => {
  await page.getByTestId('nav-runs').click();
  await page.getByTestId('run-model').selectOption({ label: 'tiny-gemm (5 classes)' });
  await page.getByTestId('run-dataset').selectOption({ label: `tiny-e2e (${data.numImages} images)` });
  await page.getByTestId('run-submit').click();
  await expect(page.getByTestId('run-error')).toHaveCount(0);
  const row = page.getByTestId('run-row').first();
  await expect(row).toContainText('tiny-gemm');
  await expect(row.locator('.badge')).toHaveText('done', { timeout: 60_000 });
  await expect(row.getByTestId('run-accuracy')).toHaveText(/\d+\.\d%/);
  await shot('05-runs');

  await page.getByTestId('nav-jobs').click();
  await expect(page.locator('[data-testid=job-row][data-status=done]')).toHaveCount(2);
  await shot('06-jobs');
});

test('browses the failures, opens one and steps with the keyboard', async () => {
  await page.getByTestId('nav-runs').click();
  await page.getByTestId('run-row').first().click();
  await expect(page.getByTestId('run-title')).toContainText('tiny-gemm on tiny-e2e');
  const failures = Number((await page.getByTestId('run-failure-count').innerText()).replace(/,/g, ''));
  expect(failures, 'the tiny model gets most of the e2e images wrong').toBeGreaterThan(1);
  await expect(page.getByTestId('failure-total')).toHaveText(new RegExp(`^${failures} failures`));
  await expect(page.getByTestId('failure-cell')).toHaveCount(failures);
  await expectImagesLoaded('[data-testid=failure-grid]');
  await expect(page.getByTestId('per-class-row')).toHaveCount(Math.min(5, data.classes.length)); // the model knows 5 classes
  expect(await page.getByTestId('confusion-pair').count()).toBeGreaterThan(0);
  await shot('07-failures');

  await page.getByTestId('failure-cell').first().click();
  const detail = page.getByTestId('image-detail');
  await expect(detail).toBeVisible();
  await expect(page.getByTestId('detail-position')).toHaveText(`1 / ${failures}`);
  await expect(page.getByTestId('detail-top5').locator('li')).toHaveCount(5);
  await expect(page.getByTestId('detail-path')).toContainText(data.datasetRoot);
  // With a 5-class model the true class is always in the top-5, and it is the one marked true.
  const trueName = await page.getByTestId('detail-true').innerText();
  await expect(page.getByTestId('detail-top5').locator('li.is-true .top5-name')).toHaveText(new RegExp(`^${trueName}`));
  await expect(page.getByTestId('detail-pred')).not.toContainText(trueName);
  await expectImagesLoaded('[data-testid=image-detail] .detail-image');
  await shot('08-failure-detail');
  const firstPath = await page.getByTestId('detail-path').innerText();
  await page.keyboard.press('ArrowRight');
  await expect(page.getByTestId('detail-position')).toHaveText(`2 / ${failures}`);
  await expect(page.getByTestId('detail-path')).not.toHaveText(firstPath);
  await page.keyboard.press('ArrowLeft');
  await expect(page.getByTestId('detail-path')).toHaveText(firstPath);
  await page.keyboard.press('Escape');
  await expect(detail).toHaveCount(0);
});

test('filters failures by true class, by confusion pair and by confidence', async () => {
  const failures = Number((await page.getByTestId('run-failure-count').innerText()).replace(/,/g, ''));
  expect(failures).toBeGreaterThan(1);

  // The predicted-class filter offers every class of the model (5), predicted in this run or not.
  const predList = await page.getByTestId('filter-pred').getAttribute('list');
  await expect(page.locator(`datalist[id="${predList}"] option`)).toHaveCount(5);

  // `/` focuses the true-class filter; type a class that has failures.
  const pair = page.getByTestId('confusion-pair').first();
  const [trueName] = (await pair.locator('.barlist-name').innerText()).split('→').map((s) => s.trim());
  await page.locator('body').click({ position: { x: 5, y: 5 } });
  await page.keyboard.press('/');
  await expect(page.getByTestId('filter-true')).toBeFocused();
  await page.keyboard.type(trueName);
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(/[?&]true=\d+/);
  await expect(page.getByTestId('failure-total')).toHaveText(new RegExp(`of ${failures}$`));
  const trueNames = await page.locator('[data-testid=failure-cell] .true-name').allInnerTexts();
  expect(trueNames.length).toBeGreaterThan(0);
  for (const n of trueNames) expect(n).toBe(trueName);
  await shot('09-failures-filtered');

  // A confusion pair filters to exactly its count.
  const count = Number((await pair.locator('.barlist-value').innerText()).replace(/,/g, ''));
  await pair.click();
  await expect(page).toHaveURL(/[?&]pred=\d+/);
  await expect(page.getByTestId('failure-cell')).toHaveCount(count);

  // Per-class accuracy row filters by that true class.
  await page.getByTestId('filter-clear').click();
  await expect(page.getByTestId('failure-cell')).toHaveCount(failures);
  await page.getByTestId('per-class-row').first().click();
  await expect(page).toHaveURL(/[?&]true=\d+/);

  // A confidence range no prediction can fall in empties the grid with a plain message.
  await page.getByTestId('filter-clear').click();
  await page.getByTestId('filter-min').fill('100');
  await expect(page.getByTestId('failure-total')).toHaveText(/^0 failures/);
  await expect(page.getByTestId('failure-grid')).toContainText('No failures match these filters');
  await page.getByTestId('filter-clear').click();
});

test('a call for a run that does not exist shows a not-found error', async () => {
  // The token left the address bar when the page read it, so a reload has none: the page says how
  // to get in again.
  await page.goto(`${new URL(url).origin}/#/runs/987654`);
  await page.reload();
  await expect(page.getByTestId('no-token')).toContainText('access token');
  await page.goto(`${url}#/runs/987654`);
  await expect(page.getByTestId('run-error')).toContainText(/Not found: .*987654/);
  await shot('10-error');
  expect(pageErrors, 'no uncaught errors in the page').toEqual([]);
});
